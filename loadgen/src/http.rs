//! A minimal blocking HTTP/1.1 keep-alive client, one connection per load-generator thread.
//!
//! Why hand-written: a load generator must add as little latency and CPU as it can, and must
//! timestamp the first response byte. A blocking socket per connection thread costs one
//! `write` and one or two `read` system calls per small request, with no connection pool, no
//! executor wake-ups and no header maps in between. Response heads are parsed with
//! `httparse`, and HTTPS goes through a blocking `rustls::StreamOwned`.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustls::pki_types::ServerName;

use crate::content::{ContentCheck, fill_content};

/// Maximum response head accepted; S3 heads are well under 8 KiB.
pub const MAX_RESPONSE_HEAD: usize = 64 * 1024;
/// Size of the read buffer and of each generated body chunk that is written.
const IO_CHUNK: usize = 64 * 1024;
/// Maximum headers parsed in one response head.
const MAX_HEADERS: usize = 64;

/// Why an exchange failed.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    /// No complete response before the deadline.
    #[error("timed out")]
    Timeout,
    /// The connection could not be opened.
    #[error("connect failed: {0}")]
    Connect(io::Error),
    /// The server closed the connection before the response was complete.
    #[error("connection closed by the server")]
    Closed,
    /// A read or write failed.
    #[error("I/O failed: {0}")]
    Io(io::Error),
    /// The TLS handshake or record layer failed, for example on an untrusted certificate.
    #[error("TLS failed: {0}")]
    Tls(String),
    /// The response was not valid HTTP/1.1.
    #[error("invalid response: {0}")]
    Protocol(String),
}

impl HttpError {
    /// Returns the short name this error is counted under in reports.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Timeout => "timeout",
            Self::Connect(_) => "connect",
            Self::Closed => "closed",
            Self::Io(_) => "io",
            Self::Tls(_) => "tls",
            Self::Protocol(_) => "protocol",
        }
    }

    fn from_io(error: io::Error) -> Self {
        // rustls reports its own failures through the stream as I/O errors that wrap them.
        if let Some(tls) = error
            .get_ref()
            .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        {
            return Self::Tls(tls.to_string());
        }
        match error.kind() {
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => Self::Timeout,
            io::ErrorKind::UnexpectedEof
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::BrokenPipe => Self::Closed,
            _ => Self::Io(error),
        }
    }
}

/// Where and how to open connections to one target.
#[derive(Clone)]
pub struct Connector {
    addresses: Vec<SocketAddr>,
    tls: Option<(Arc<rustls::ClientConfig>, ServerName<'static>)>,
    timeout: Duration,
}

impl Connector {
    /// Creates a connector; `tls` is the client configuration and server name of an HTTPS
    /// target. `timeout` bounds connecting and each read and write.
    pub fn new(
        addresses: Vec<SocketAddr>,
        tls: Option<(Arc<rustls::ClientConfig>, ServerName<'static>)>,
        timeout: Duration,
    ) -> Self {
        Self {
            addresses,
            tls,
            timeout,
        }
    }

    /// Opens a connection to the first address that accepts it.
    pub fn connect(&self) -> Result<Connection, HttpError> {
        let mut last_error = io::Error::new(io::ErrorKind::NotFound, "no address");
        for address in &self.addresses {
            match TcpStream::connect_timeout(address, self.timeout) {
                Ok(socket) => return self.wrap(socket),
                Err(error) => last_error = error,
            }
        }
        Err(HttpError::Connect(last_error))
    }

    fn wrap(&self, socket: TcpStream) -> Result<Connection, HttpError> {
        socket.set_nodelay(true).map_err(HttpError::Connect)?;
        // Each read and write blocks at most this long, and the exchange also checks its own
        // deadline after every read, so a response is abandoned within about two timeouts.
        socket
            .set_read_timeout(Some(self.timeout))
            .map_err(HttpError::Connect)?;
        socket
            .set_write_timeout(Some(self.timeout))
            .map_err(HttpError::Connect)?;
        let stream = match &self.tls {
            None => Stream::Plain(socket),
            Some((config, name)) => {
                let session = rustls::ClientConnection::new(config.clone(), name.clone())
                    .map_err(|error| HttpError::Protocol(format!("TLS setup: {error}")))?;
                Stream::Tls(Box::new(rustls::StreamOwned::new(session, socket)))
            }
        };
        Ok(Connection {
            stream,
            buffer: vec![0; IO_CHUNK],
            start: 0,
            end: 0,
        })
    }
}

enum Stream {
    Plain(TcpStream),
    Tls(Box<rustls::StreamOwned<rustls::ClientConnection, TcpStream>>),
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Self::Plain(stream) => stream.read(buf),
            Self::Tls(stream) => stream.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Self::Plain(stream) => stream.write(buf),
            Self::Tls(stream) => stream.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Self::Plain(stream) => stream.flush(),
            Self::Tls(stream) => stream.flush(),
        }
    }
}

/// A request body.
#[derive(Debug, Clone, Copy)]
pub enum Body<'a> {
    /// No body.
    Empty,
    /// Bytes already in memory.
    Bytes(&'a [u8]),
    /// Content derived from a key seed (see [`crate::content`]), generated while writing.
    Generated {
        /// Content seed of the key.
        seed: u64,
        /// Offset of the first byte, for multipart parts.
        offset: u64,
        /// Number of bytes.
        length: u64,
    },
}

/// What to do with a response body.
pub enum BodySink<'a> {
    /// Count the bytes and drop them.
    Discard,
    /// Keep up to `limit` bytes, for XML documents; a longer body is a protocol error.
    Collect {
        /// Where the body goes.
        out: &'a mut Vec<u8>,
        /// Maximum body length kept.
        limit: usize,
    },
    /// Compare the body with the expected object content.
    Check(&'a mut ContentCheck),
}

impl BodySink<'_> {
    fn accept(&mut self, data: &[u8]) -> Result<(), HttpError> {
        match self {
            Self::Discard => Ok(()),
            Self::Collect { out, limit } => {
                if out.len() + data.len() > *limit {
                    return Err(HttpError::Protocol(format!(
                        "response body longer than {limit} bytes"
                    )));
                }
                out.extend_from_slice(data);
                Ok(())
            }
            Self::Check(check) => {
                check.update(data);
                Ok(())
            }
        }
    }
}

/// The parts of a response head that the checks read.
#[derive(Debug, Clone, Default)]
pub struct ResponseHead {
    /// Status code.
    pub status: u16,
    /// `Content-Length`, if sent.
    pub content_length: Option<u64>,
    /// Whether the body is `Transfer-Encoding: chunked`.
    pub chunked: bool,
    /// Whether the server asked to close the connection.
    pub close: bool,
    /// `ETag`, if sent.
    pub etag: Option<String>,
}

/// A completed exchange.
#[derive(Debug, Clone)]
pub struct Exchange {
    /// Response head.
    pub head: ResponseHead,
    /// Body bytes received (after chunked decoding).
    pub body_length: u64,
    /// When the first response byte arrived.
    pub first_byte: Instant,
    /// When the last response byte arrived.
    pub done: Instant,
}

/// One open connection with its read buffer.
pub struct Connection {
    stream: Stream,
    buffer: Vec<u8>,
    start: usize,
    end: usize,
}

impl Connection {
    /// Returns whether unread response bytes are buffered, which means the server sent more
    /// than one response and the connection must not be reused.
    pub fn has_leftover(&self) -> bool {
        self.start < self.end
    }

    /// Sends a request (`head` is the complete request head, ending in an empty line) and
    /// reads its response into `sink`. `is_head` tells that the request was a HEAD, whose
    /// response has no body whatever its `Content-Length`.
    pub fn exchange(
        &mut self,
        head: &[u8],
        body: Body<'_>,
        is_head: bool,
        sink: &mut BodySink<'_>,
        deadline: Instant,
    ) -> Result<Exchange, HttpError> {
        self.write_request(head, body)?;
        let (response, first_byte) = self.read_head(deadline)?;
        let no_body = is_head || response.status == 204 || response.status == 304;
        let body_length = if no_body {
            0
        } else if response.chunked {
            self.read_chunked(sink, deadline)?
        } else if let Some(length) = response.content_length {
            self.read_exact_body(length, sink, deadline)?
        } else {
            self.read_to_close(sink, deadline)?
        };
        Ok(Exchange {
            head: response,
            body_length,
            first_byte,
            done: Instant::now(),
        })
    }

    fn write_request(&mut self, head: &[u8], body: Body<'_>) -> Result<(), HttpError> {
        match body {
            Body::Empty => self.stream.write_all(head),
            Body::Bytes(bytes) if head.len() + bytes.len() <= IO_CHUNK => {
                let mut joined = Vec::with_capacity(head.len() + bytes.len());
                joined.extend_from_slice(head);
                joined.extend_from_slice(bytes);
                self.stream.write_all(&joined)
            }
            Body::Bytes(bytes) => self
                .stream
                .write_all(head)
                .and_then(|()| self.stream.write_all(bytes)),
            Body::Generated {
                seed,
                offset,
                length,
            } => self.write_generated(head, seed, offset, length),
        }
        .and_then(|()| self.stream.flush())
        .map_err(HttpError::from_io)
    }

    /// Writes the head and a generated body, joining them in one write when they fit in one
    /// chunk so that a small PUT costs one system call.
    fn write_generated(
        &mut self,
        head: &[u8],
        seed: u64,
        offset: u64,
        length: u64,
    ) -> io::Result<()> {
        let mut chunk = Vec::with_capacity(IO_CHUNK);
        chunk.extend_from_slice(head);
        let mut position = 0_u64;
        loop {
            let room = (IO_CHUNK - chunk.len()) as u64;
            let take = room.min(length - position) as usize;
            let filled = chunk.len();
            chunk.resize(filled + take, 0);
            fill_content(seed, offset + position, &mut chunk[filled..]);
            position += take as u64;
            self.stream.write_all(&chunk)?;
            chunk.clear();
            if position == length {
                return Ok(());
            }
        }
    }

    /// Reads more bytes into the buffer after `end`, compacting it first. Returns the number
    /// of bytes read, failing on end of stream.
    fn fill(&mut self, deadline: Instant) -> Result<usize, HttpError> {
        if Instant::now() > deadline {
            return Err(HttpError::Timeout);
        }
        if self.start > 0 {
            self.buffer.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        if self.end == self.buffer.len() {
            if self.buffer.len() >= MAX_RESPONSE_HEAD * 2 {
                return Err(HttpError::Protocol("read buffer full".to_owned()));
            }
            self.buffer.resize(self.buffer.len() * 2, 0);
        }
        loop {
            match self.stream.read(&mut self.buffer[self.end..]) {
                Ok(0) => return Err(HttpError::Closed),
                Ok(read) => {
                    self.end += read;
                    return Ok(read);
                }
                Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
                Err(error) => return Err(HttpError::from_io(error)),
            }
        }
    }

    fn read_head(&mut self, deadline: Instant) -> Result<(ResponseHead, Instant), HttpError> {
        let mut first_byte = None;
        loop {
            if self.start == self.end {
                self.fill(deadline)?;
                first_byte.get_or_insert_with(Instant::now);
            }
            let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
            let mut response = httparse::Response::new(&mut headers);
            match response.parse(&self.buffer[self.start..self.end]) {
                Ok(httparse::Status::Complete(length)) => {
                    let head = interpret_head(&response)?;
                    self.start += length;
                    let first_byte = first_byte.unwrap_or_else(Instant::now);
                    // A 100 Continue is followed by the real response.
                    if head.status == 100 {
                        continue;
                    }
                    return Ok((head, first_byte));
                }
                Ok(httparse::Status::Partial) => {
                    if self.end - self.start >= MAX_RESPONSE_HEAD {
                        return Err(HttpError::Protocol(format!(
                            "response head longer than {MAX_RESPONSE_HEAD} bytes"
                        )));
                    }
                    self.fill(deadline)?;
                    first_byte.get_or_insert_with(Instant::now);
                }
                Err(error) => return Err(HttpError::Protocol(error.to_string())),
            }
        }
    }

    fn read_exact_body(
        &mut self,
        length: u64,
        sink: &mut BodySink<'_>,
        deadline: Instant,
    ) -> Result<u64, HttpError> {
        let mut remaining = length;
        while remaining > 0 {
            if self.start == self.end {
                self.fill(deadline)?;
            }
            let take =
                (self.end - self.start).min(usize::try_from(remaining).unwrap_or(usize::MAX));
            sink.accept(&self.buffer[self.start..self.start + take])?;
            self.start += take;
            remaining -= take as u64;
        }
        Ok(length)
    }

    fn read_to_close(
        &mut self,
        sink: &mut BodySink<'_>,
        deadline: Instant,
    ) -> Result<u64, HttpError> {
        let mut total = 0;
        loop {
            if self.start < self.end {
                sink.accept(&self.buffer[self.start..self.end])?;
                total += (self.end - self.start) as u64;
                self.start = self.end;
            }
            match self.fill(deadline) {
                Ok(_) => {}
                Err(HttpError::Closed) => return Ok(total),
                Err(error) => return Err(error),
            }
        }
    }

    fn read_chunked(
        &mut self,
        sink: &mut BodySink<'_>,
        deadline: Instant,
    ) -> Result<u64, HttpError> {
        let mut total = 0_u64;
        loop {
            let size = loop {
                match httparse::parse_chunk_size(&self.buffer[self.start..self.end]) {
                    Ok(httparse::Status::Complete((consumed, size))) => {
                        self.start += consumed;
                        break size;
                    }
                    Ok(httparse::Status::Partial) => {
                        if self.end - self.start > 1024 {
                            return Err(HttpError::Protocol("chunk size line too long".to_owned()));
                        }
                        self.fill(deadline)?;
                    }
                    Err(_) => return Err(HttpError::Protocol("invalid chunk size".to_owned())),
                }
            };
            if size == 0 {
                self.skip_trailers(deadline)?;
                return Ok(total);
            }
            total += self.read_exact_body(size, sink, deadline)?;
            self.expect_crlf(deadline)?;
        }
    }

    fn expect_crlf(&mut self, deadline: Instant) -> Result<(), HttpError> {
        while self.end - self.start < 2 {
            self.fill(deadline)?;
        }
        if &self.buffer[self.start..self.start + 2] != b"\r\n" {
            return Err(HttpError::Protocol("chunk not followed by CRLF".to_owned()));
        }
        self.start += 2;
        Ok(())
    }

    /// Skips trailer lines up to and including the empty line that ends a chunked body.
    fn skip_trailers(&mut self, deadline: Instant) -> Result<(), HttpError> {
        loop {
            let pending = &self.buffer[self.start..self.end];
            if let Some(line_end) = pending.windows(2).position(|pair| pair == b"\r\n") {
                self.start += line_end + 2;
                if line_end == 0 {
                    return Ok(());
                }
                continue;
            }
            if pending.len() > MAX_RESPONSE_HEAD {
                return Err(HttpError::Protocol("trailers too long".to_owned()));
            }
            self.fill(deadline)?;
        }
    }
}

fn interpret_head(response: &httparse::Response<'_, '_>) -> Result<ResponseHead, HttpError> {
    let status = response
        .code
        .ok_or_else(|| HttpError::Protocol("missing status".to_owned()))?;
    let mut head = ResponseHead {
        status,
        close: response.version == Some(0),
        ..ResponseHead::default()
    };
    for header in response.headers.iter() {
        let value = std::str::from_utf8(header.value)
            .map_err(|_| HttpError::Protocol(format!("header {} is not UTF-8", header.name)))?
            .trim();
        if header.name.eq_ignore_ascii_case("content-length") {
            let length = value
                .parse()
                .map_err(|_| HttpError::Protocol(format!("invalid Content-Length {value:?}")))?;
            if head
                .content_length
                .is_some_and(|previous| previous != length)
            {
                return Err(HttpError::Protocol("conflicting Content-Length".to_owned()));
            }
            head.content_length = Some(length);
        } else if header.name.eq_ignore_ascii_case("transfer-encoding") {
            head.chunked = value
                .rsplit(',')
                .next()
                .is_some_and(|last| last.trim().eq_ignore_ascii_case("chunked"));
        } else if header.name.eq_ignore_ascii_case("connection") {
            if value
                .split(',')
                .any(|token| token.trim().eq_ignore_ascii_case("close"))
            {
                head.close = true;
            }
        } else if header.name.eq_ignore_ascii_case("etag") {
            head.etag = Some(value.to_owned());
        }
    }
    Ok(head)
}
