//! The connection loop: read a head, hand the request to the service, decide
//! whether the connection survives, write the response, repeat. One task per
//! connection runs this; pipelined requests are served in order because bytes
//! after one request stay in the read buffer for the next.

use std::rc::Rc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use futures_util::StreamExt;
use tokio::sync::watch;
use tracing::{debug, warn};

use crate::body::{Body, Outcome};
use crate::config::{Limits, Timeouts};
use crate::error::ProtocolError;
use crate::parse::{self, HeadScanner, ParsedHead, Scan};
use crate::request::Method;
use crate::response::{self, Persistence, Response, ResponseBody};
use crate::rt::{self, Instant, Io, ReadError};
use crate::server::Phase;
use crate::service::{ConnectionInfo, Service};

/// Initial read buffer capacity; large enough for a typical S3 request head.
const INITIAL_BUFFER: usize = 8 * 1024;
/// Smallest spare capacity a read is given, so slow heads do not cost a read per byte.
const MIN_READ: usize = 4 * 1024;
/// Bodies and body pieces up to this size are copied next to the head and sent in
/// one write; larger ones are written from their own buffer.
const COALESCE_LIMIT: usize = 16 * 1024;
/// Idle buffers that grew beyond this (while streaming a body) are replaced by a
/// small one, so idle keep-alive connections hold little memory.
const IDLE_BUFFER_LIMIT: usize = 4 * INITIAL_BUFFER;

/// Limits and timeouts shared by a core's connections.
#[derive(Debug)]
pub(crate) struct Settings {
    pub(crate) limits: Limits,
    pub(crate) timeouts: Timeouts,
}

/// A connection's stream and read buffer.
pub(crate) struct Transport {
    pub(crate) io: Io,
    pub(crate) buf: BytesMut,
    pub(crate) settings: Rc<Settings>,
}

impl Transport {
    pub(crate) fn new(io: Io, settings: Rc<Settings>) -> Transport {
        Transport {
            io,
            buf: BytesMut::with_capacity(INITIAL_BUFFER),
            settings,
        }
    }

    /// Reads once, first growing the buffer so it can hold `total` bytes and has at
    /// least [`MIN_READ`] bytes of spare room. Returns the bytes read (0 at end of stream).
    pub(crate) async fn fill(
        &mut self,
        total: usize,
        deadline: Instant,
        cancel: impl Future,
    ) -> Result<usize, ReadError> {
        let spare = total.saturating_sub(self.buf.len()).max(MIN_READ);
        if self.buf.capacity() - self.buf.len() < spare {
            self.buf.reserve(spare);
        }
        self.io
            .read_into(&mut self.buf, usize::MAX, deadline, cancel)
            .await
    }
}

/// Result of reading one request head.
enum HeadOutcome {
    Parsed(Box<ParsedHead>),
    Rejected(ProtocolError),
    Closed(&'static str),
}

/// Serves requests on one connection until it closes.
pub(crate) async fn serve<S: Service>(
    service: Rc<S>,
    mut transport: Transport,
    info: ConnectionInfo,
    mut phase: watch::Receiver<Phase>,
) {
    let mut scanner = HeadScanner::default();
    let mut first = true;
    loop {
        let parsed = match read_head(&mut transport, &mut scanner, first, &mut phase).await {
            HeadOutcome::Parsed(parsed) => parsed,
            HeadOutcome::Rejected(error) => {
                debug!(core = info.core, client.addr = %info.peer, error = %error, "rejecting request");
                let response = service.protocol_error(&error, &info);
                if let WriteOutcome::Sent { .. } =
                    write_response(&mut transport, response, false, Persistence::Close, &info).await
                {
                    close_lingering(&mut transport).await;
                }
                return;
            }
            HeadOutcome::Closed(reason) => {
                debug!(core = info.core, client.addr = %info.peer, connection = info.connection_id, reason, "connection closed");
                return;
            }
        };
        first = false;
        scanner.reset();
        if !serve_request(&service, &mut transport, *parsed, &info, &phase).await {
            return;
        }
        if transport.buf.is_empty() && transport.buf.capacity() > IDLE_BUFFER_LIMIT {
            transport.buf = BytesMut::with_capacity(INITIAL_BUFFER);
        }
    }
}

/// Responds to a connection accepted beyond the per-core limit with the service's 503.
pub(crate) async fn reject_busy<S: Service>(
    service: Rc<S>,
    mut transport: Transport,
    info: ConnectionInfo,
) {
    let response = service.protocol_error(&ProtocolError::TooManyConnections, &info);
    if let WriteOutcome::Sent { .. } =
        write_response(&mut transport, response, false, Persistence::Close, &info).await
    {
        close_lingering(&mut transport).await;
    }
}

async fn read_head(
    transport: &mut Transport,
    scanner: &mut HeadScanner,
    first: bool,
    phase: &mut watch::Receiver<Phase>,
) -> HeadOutcome {
    let timeouts = &transport.settings.timeouts;
    let mut started = !transport.buf.is_empty();
    // A new connection gets the head timeout to send its first byte, a kept-alive
    // one the idle timeout.
    let mut deadline = rt::deadline_after(if started || first {
        timeouts.head
    } else {
        timeouts.idle
    });
    loop {
        if !transport.buf.is_empty() {
            if !started {
                started = true;
                deadline = rt::deadline_after(transport.settings.timeouts.head);
            }
            match scanner.scan(&mut transport.buf, &transport.settings.limits) {
                Err(error) => return HeadOutcome::Rejected(error),
                Ok(Scan::Http2Preface) => return HeadOutcome::Closed("HTTP/2 preface received"),
                Ok(Scan::Complete(end)) => {
                    let raw = transport.buf.split_to(end).freeze();
                    return match parse::parse_head(raw, &transport.settings.limits) {
                        Ok(parsed) => HeadOutcome::Parsed(Box::new(parsed)),
                        Err(error) => HeadOutcome::Rejected(error),
                    };
                }
                Ok(Scan::Incomplete) => {}
            }
        }
        // Only a connection between requests is closed by a graceful shutdown; a
        // request that has started may finish.
        let idle = !started;
        let drain = async {
            if idle {
                let _ = phase.wait_for(|phase| *phase != Phase::Running).await;
            } else {
                std::future::pending::<()>().await;
            }
        };
        match transport.fill(0, deadline, drain).await {
            Ok(0) if started => return HeadOutcome::Closed("client closed during request head"),
            Ok(0) => return HeadOutcome::Closed("client closed the connection"),
            Ok(_) => {}
            Err(ReadError::TimedOut) if started => {
                return HeadOutcome::Rejected(ProtocolError::HeadTimeout);
            }
            Err(ReadError::TimedOut) => return HeadOutcome::Closed("idle timeout"),
            Err(ReadError::Cancelled) => return HeadOutcome::Closed("server shutting down"),
            Err(ReadError::Io(_)) => return HeadOutcome::Closed("read failed"),
            Err(ReadError::Unusable) => return HeadOutcome::Closed("stream unusable"),
        }
    }
}

/// Serves one request and returns whether the connection stays open.
async fn serve_request<S: Service>(
    service: &Rc<S>,
    transport: &mut Transport,
    parsed: ParsedHead,
    info: &ConnectionInfo,
    phase: &watch::Receiver<Phase>,
) -> bool {
    let ParsedHead {
        head,
        framing,
        keep_alive,
    } = parsed;
    let started = std::time::Instant::now();
    let limits = transport.settings.limits.clone();
    let mut body = Body::new(transport, framing, head.expect_continue, &limits);
    let response = service.call(&head, &mut body, info).await;

    let outcome = body.outcome();
    let mut keep = keep_alive && *phase.borrow() == Phase::Running;
    match outcome {
        Outcome::Complete => {}
        Outcome::Failed
        | Outcome::Unfinished {
            continue_pending: true,
        } => keep = false,
        Outcome::Unfinished {
            continue_pending: false,
        } => {
            if keep && !body.drain(limits.max_drain_bytes).await {
                keep = false;
            }
        }
    }
    drop(body);

    let persistence = match (keep, head.version) {
        (false, _) => Persistence::Close,
        (true, 0) => Persistence::KeepAliveHttp10,
        (true, _) => Persistence::KeepAlive,
    };
    let status = response.status;
    let is_head = head.method == Method::Head;
    let written = write_response(transport, response, is_head, persistence, info).await;
    debug!(
        core = info.core,
        connection = info.connection_id,
        method = %head.method,
        path = head.path(),
        status,
        elapsed_us = started.elapsed().as_micros() as u64,
        "request served"
    );

    match written {
        WriteOutcome::Broken => false,
        WriteOutcome::Sent { close } if close || !keep => {
            if outcome == Outcome::Complete && transport.buf.is_empty() {
                let _ = transport
                    .io
                    .shutdown_write(transport.settings.timeouts.write)
                    .await;
            } else {
                close_lingering(transport).await;
            }
            false
        }
        WriteOutcome::Sent { .. } => true,
    }
}

enum WriteOutcome {
    /// The response went out; `close` if the connection must close after it anyway.
    Sent { close: bool },
    /// Writing failed or the body could not be sent whole: close at once.
    Broken,
}

/// Writes a response, coalescing the head with a small body.
async fn write_response(
    transport: &mut Transport,
    response: Response,
    head_request: bool,
    persistence: Persistence,
    info: &ConnectionInfo,
) -> WriteOutcome {
    let write_timeout = transport.settings.timeouts.write;
    let reserve = match &response.body {
        ResponseBody::Full(bytes) if bytes.len() <= COALESCE_LIMIT => bytes.len(),
        _ => 0,
    };
    let encoded = match response::encode_head(&response, head_request, persistence, reserve) {
        Ok(encoded) => encoded,
        Err(error) => {
            warn!(core = info.core, connection = info.connection_id, error = %error, "service returned an invalid response, sending 500");
            let fallback = Bytes::from_static(
                b"HTTP/1.1 500 Internal Server Error\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
            );
            return match transport.io.write_all(fallback, write_timeout).await {
                Ok(()) => WriteOutcome::Sent { close: true },
                Err(_) => WriteOutcome::Broken,
            };
        }
    };
    let close = encoded.service_close || persistence == Persistence::Close;
    let mut pending = encoded.head;
    if !encoded.send_body {
        return finish(transport, pending.freeze(), close).await;
    }
    match response.body {
        ResponseBody::Empty => finish(transport, pending.freeze(), close).await,
        ResponseBody::Full(bytes) if bytes.len() <= COALESCE_LIMIT => {
            pending.extend_from_slice(&bytes);
            finish(transport, pending.freeze(), close).await
        }
        ResponseBody::Full(bytes) => {
            if transport
                .io
                .write_all(pending.freeze(), write_timeout)
                .await
                .is_err()
            {
                return WriteOutcome::Broken;
            }
            finish(transport, bytes, close).await
        }
        ResponseBody::Stream { length, chunks } => {
            match write_stream(transport, pending, length, chunks, info).await {
                Ok(()) => WriteOutcome::Sent { close },
                Err(()) => WriteOutcome::Broken,
            }
        }
    }
}

async fn finish(transport: &mut Transport, bytes: Bytes, close: bool) -> WriteOutcome {
    match transport
        .io
        .write_all(bytes, transport.settings.timeouts.write)
        .await
    {
        Ok(()) => WriteOutcome::Sent { close },
        Err(_) => WriteOutcome::Broken,
    }
}

/// Writes a streamed body of exactly `length` bytes after the head in `pending`.
/// Returns `Err` when the stream failed, stalled, or did not match `length`.
async fn write_stream(
    transport: &mut Transport,
    mut pending: BytesMut,
    length: u64,
    mut chunks: futures_util::stream::LocalBoxStream<'static, Result<Bytes, std::io::Error>>,
    info: &ConnectionInfo,
) -> Result<(), ()> {
    let write_timeout = transport.settings.timeouts.write;
    let chunk_timeout = transport.settings.timeouts.response_chunk;
    let mut sent = 0u64;
    while sent < length {
        let deadline = rt::deadline_after(chunk_timeout);
        let next = rt::race(chunks.next(), deadline, std::future::pending::<()>()).await;
        let failure = match next {
            rt::Race::Done(Some(Ok(chunk))) => Ok(chunk),
            rt::Race::Done(Some(Err(error))) => Err(error.to_string()),
            rt::Race::Done(None) => Err("stream ended early".to_owned()),
            rt::Race::TimedOut | rt::Race::Cancelled => Err("stream stalled".to_owned()),
        };
        let mut chunk = match failure {
            Ok(chunk) => chunk,
            Err(error) => {
                warn!(
                    core = info.core,
                    connection = info.connection_id,
                    error,
                    sent,
                    length,
                    "response body incomplete, closing connection"
                );
                flush_truncated(transport, pending).await;
                return Err(());
            }
        };
        let left = length - sent;
        let overlong = chunk.len() as u64 > left;
        if overlong {
            chunk.truncate(left as usize);
        }
        sent += chunk.len() as u64;
        if pending.len() + chunk.len() <= COALESCE_LIMIT {
            pending.extend_from_slice(&chunk);
        } else {
            if !pending.is_empty() {
                let head = pending.split().freeze();
                transport
                    .io
                    .write_all(head, write_timeout)
                    .await
                    .map_err(|_| ())?;
            }
            transport
                .io
                .write_all(chunk, write_timeout)
                .await
                .map_err(|_| ())?;
        }
        if overlong {
            // The declared length goes out whole; the extra bytes are dropped and
            // the connection closed, because the service's view of the body is wrong.
            warn!(
                core = info.core,
                connection = info.connection_id,
                length,
                "response body stream longer than its length, closing connection"
            );
            flush_truncated(transport, pending).await;
            return Err(());
        }
    }
    if !pending.is_empty() {
        transport
            .io
            .write_all(pending.freeze(), write_timeout)
            .await
            .map_err(|_| ())?;
    }
    Ok(())
}

/// Sends what was buffered of a response that will not be completed, so the
/// client sees the head and a truncated body (which its length check reports)
/// instead of a connection closed without any response.
async fn flush_truncated(transport: &mut Transport, pending: BytesMut) {
    if !pending.is_empty() {
        let timeout = transport.settings.timeouts.write;
        let _ = transport.io.write_all(pending.freeze(), timeout).await;
    }
}

/// Closes a connection that may still have unread input: shuts down the write
/// side, then reads and discards for a bounded time and size, so the kernel does
/// not respond to the unread bytes with a reset that could destroy the response
/// before the client read it.
async fn close_lingering(transport: &mut Transport) {
    let settings = Rc::clone(&transport.settings);
    if transport
        .io
        .shutdown_write(settings.timeouts.write)
        .await
        .is_err()
    {
        return;
    }
    let deadline = rt::deadline_after(settings.timeouts.linger.min(Duration::from_secs(60)));
    let mut discarded = transport.buf.len() as u64;
    while discarded <= settings.limits.max_linger_bytes && transport.io.can_read() {
        transport.buf.clear();
        match transport
            .fill(0, deadline, std::future::pending::<()>())
            .await
        {
            Ok(0) | Err(_) => return,
            Ok(read) => discarded += read as u64,
        }
    }
}
