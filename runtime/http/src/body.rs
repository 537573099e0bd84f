//! The request body handed to the service: decodes Content-Length and chunked
//! bodies straight from the connection's read buffer, and sends `100 Continue`
//! the first time the service requests body bytes.
//!
//! Rule when the service responds without reading the whole body:
//! - `Expect: 100-continue` and 100 never sent: the client may or may not send
//!   the body, so the response carries `Connection: close` and the connection is
//!   closed (after briefly discarding whatever the client still sends). Keeping it
//!   would risk reading body bytes as the next request.
//! - Otherwise up to `Limits::max_drain_bytes` of remaining body are read and
//!   discarded before the response is written, and the connection stays open;
//!   a larger or failing remainder closes it.

use bytes::Bytes;

use crate::chunked::{ChunkedDecoder, Step};
use crate::config::Limits;
use crate::conn::Transport;
use crate::error::BodyError;
use crate::parse::Framing;
use crate::request::Header;
use crate::rt::{self, ReadError};

const CONTINUE: &[u8] = b"HTTP/1.1 100 Continue\r\n\r\n";

enum Kind {
    Empty,
    Length { declared: u64, remaining: u64 },
    Chunked(Box<ChunkedDecoder>),
}

/// How far the service got with the body, which decides the connection's fate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    Complete,
    Failed,
    /// Not read to the end; `continue_pending` if 100 Continue was owed and never sent.
    Unfinished {
        continue_pending: bool,
    },
}

/// A request body, read chunk by chunk with [`Body::next_chunk`].
pub struct Body<'a> {
    transport: &'a mut Transport,
    kind: Kind,
    received: u64,
    failed: bool,
    continue_pending: bool,
}

impl<'a> Body<'a> {
    pub(crate) fn new(
        transport: &'a mut Transport,
        framing: Framing,
        expect_continue: bool,
        limits: &Limits,
    ) -> Body<'a> {
        let kind = match framing {
            Framing::None => Kind::Empty,
            Framing::Length(length) => Kind::Length {
                declared: length,
                remaining: length,
            },
            Framing::Chunked => Kind::Chunked(Box::new(ChunkedDecoder::new(limits))),
        };
        let mut body = Body {
            transport,
            kind,
            received: 0,
            failed: false,
            continue_pending: false,
        };
        body.continue_pending = expect_continue && !body.is_complete();
        body
    }

    /// Returns the next piece of the decoded body, or `None` at its end.
    ///
    /// The first call responds to `Expect: 100-continue` with `100 Continue`. Each piece
    /// is at most `Limits::body_chunk_bytes` long and is as long as that whenever
    /// the rest of the body (or of the current HTTP chunk) allows. After an error
    /// every later call returns [`BodyError::AlreadyFailed`].
    pub async fn next_chunk(&mut self) -> Result<Option<Bytes>, BodyError> {
        if self.failed {
            return Err(BodyError::AlreadyFailed);
        }
        if self.continue_pending {
            self.continue_pending = false;
            let timeout = self.transport.settings.timeouts.write;
            let sent = self
                .transport
                .io
                .write_all(Bytes::from_static(CONTINUE), timeout)
                .await;
            if let Err(error) = sent {
                self.failed = true;
                return Err(match error {
                    rt::WriteError::TimedOut => BodyError::TimedOut,
                    rt::WriteError::Io(error) => BodyError::Io(error),
                    rt::WriteError::Unusable => BodyError::AlreadyFailed,
                });
            }
        }
        let result = self.read_piece().await;
        match &result {
            Ok(Some(piece)) => self.received += piece.len() as u64,
            Ok(None) => {}
            Err(_) => self.failed = true,
        }
        result
    }

    async fn read_piece(&mut self) -> Result<Option<Bytes>, BodyError> {
        let max_piece = self.transport.settings.limits.body_chunk_bytes;
        loop {
            let needed = match &mut self.kind {
                Kind::Empty => return Ok(None),
                Kind::Length { remaining, .. } => {
                    if *remaining == 0 {
                        return Ok(None);
                    }
                    let want = usize::try_from(*remaining)
                        .unwrap_or(usize::MAX)
                        .min(max_piece);
                    if self.transport.buf.len() >= want {
                        *remaining -= want as u64;
                        return Ok(Some(self.transport.buf.split_to(want).freeze()));
                    }
                    want
                }
                Kind::Chunked(decoder) => {
                    match decoder.decode(&mut self.transport.buf, max_piece)? {
                        Step::Data(data) => return Ok(Some(data)),
                        Step::Done => return Ok(None),
                        Step::NeedMore(needed) => needed,
                    }
                }
            };
            let timeout = self.transport.settings.timeouts.body_read;
            let read = self
                .transport
                .fill(
                    needed,
                    rt::deadline_after(timeout),
                    std::future::pending::<()>(),
                )
                .await;
            match read {
                Ok(0) => {
                    return Err(BodyError::IncompleteBody {
                        received: self.received,
                        expected: self.declared_length(),
                    });
                }
                Ok(_) => {}
                Err(ReadError::TimedOut) => return Err(BodyError::TimedOut),
                Err(ReadError::Io(error)) => return Err(BodyError::Io(error)),
                Err(ReadError::Cancelled | ReadError::Unusable) => {
                    return Err(BodyError::AlreadyFailed);
                }
            }
        }
    }

    /// Returns the `Content-Length` the client declared, or `None` when it sent
    /// none (a chunked or absent body).
    pub fn declared_length(&self) -> Option<u64> {
        match &self.kind {
            Kind::Length { declared, .. } => Some(*declared),
            Kind::Empty | Kind::Chunked(_) => None,
        }
    }

    /// Returns whether the body uses the chunked transfer coding.
    pub fn is_chunked(&self) -> bool {
        matches!(self.kind, Kind::Chunked(_))
    }

    /// Returns how many decoded bytes are still to come, when that is known: for a
    /// `Content-Length` body, or a chunked body that has ended.
    pub fn remaining_hint(&self) -> Option<u64> {
        match &self.kind {
            Kind::Empty => Some(0),
            Kind::Length { remaining, .. } => Some(*remaining),
            Kind::Chunked(decoder) if decoder.is_done() => Some(0),
            Kind::Chunked(_) => None,
        }
    }

    /// Returns the decoded bytes handed out so far.
    pub fn received(&self) -> u64 {
        self.received
    }

    /// Returns whether the whole body has been read.
    pub fn is_complete(&self) -> bool {
        self.remaining_hint() == Some(0)
    }

    /// Returns the trailer fields of a chunked body; empty until the body ended.
    pub fn trailers(&self) -> &[Header] {
        match &self.kind {
            Kind::Chunked(decoder) => decoder.trailers(),
            _ => &[],
        }
    }

    pub(crate) fn outcome(&self) -> Outcome {
        if self.failed {
            Outcome::Failed
        } else if self.is_complete() {
            Outcome::Complete
        } else {
            Outcome::Unfinished {
                continue_pending: self.continue_pending,
            }
        }
    }

    /// Reads and discards the rest of the body if it is at most `limit` bytes, and
    /// returns whether the body then ended cleanly.
    pub(crate) async fn drain(&mut self, limit: u64) -> bool {
        if self
            .remaining_hint()
            .is_some_and(|remaining| remaining > limit)
        {
            return false;
        }
        let mut discarded = 0u64;
        loop {
            match self.next_chunk().await {
                Ok(None) => return true,
                Ok(Some(piece)) => {
                    discarded += piece.len() as u64;
                    if discarded > limit {
                        return false;
                    }
                }
                Err(_) => return false,
            }
        }
    }
}

impl std::fmt::Debug for Body<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Body")
            .field("declared_length", &self.declared_length())
            .field("chunked", &self.is_chunked())
            .field("received", &self.received)
            .field("failed", &self.failed)
            .finish()
    }
}
