//! Error types: failures to start the server, HTTP protocol violations that end a
//! connection, and failures while reading a request body.

use std::io;
use std::net::SocketAddr;

/// A failure to start the server.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// A configuration value is out of range or inconsistent.
    #[error("invalid server configuration: {0}")]
    InvalidConfig(String),
    /// Another socket (another process, or another server in this process) is
    /// already listening on the address.
    #[error(
        "address {addr} is already in use; stop the server listening there or choose another address"
    )]
    AddressInUse {
        /// The address that could not be bound.
        addr: SocketAddr,
    },
    /// Creating, binding or listening on a socket failed for another reason.
    #[error("failed to listen on {addr}: {source}")]
    Listen {
        /// The address that could not be bound.
        addr: SocketAddr,
        /// The operating system's error.
        source: io::Error,
    },
    /// A core's thread or runtime could not be started.
    #[error("failed to start core {core}: {source}")]
    CoreStart {
        /// Index of the core that failed.
        core: usize,
        /// The operating system's error.
        source: io::Error,
    },
}

/// A request that violates HTTP/1.1 framing or a configured limit.
///
/// The connection responds with [`crate::Service::protocol_error`] and then closes,
/// because the position of the next request in the byte stream is no longer known.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProtocolError {
    /// The request head (request line and headers) is longer than the limit.
    #[error("request head is larger than {limit} bytes")]
    HeadTooLarge {
        /// The configured maximum head size in bytes.
        limit: usize,
    },
    /// The request has more header fields than the limit.
    #[error("request has more than {limit} header fields")]
    TooManyHeaders {
        /// The configured maximum number of header fields.
        limit: usize,
    },
    /// The request target is longer than the limit.
    #[error("request target is longer than {limit} bytes")]
    UriTooLong {
        /// The configured maximum request-target length in bytes.
        limit: usize,
    },
    /// The request line or a header field is not valid HTTP/1.1 syntax.
    #[error("malformed request head: {reason}")]
    MalformedHead {
        /// Description of the defect.
        reason: &'static str,
    },
    /// The request line names an HTTP version other than 1.0 or 1.1.
    #[error("unsupported HTTP version")]
    UnsupportedVersion,
    /// `Transfer-Encoding` names a coding other than `chunked`.
    #[error("unsupported transfer coding {coding:?}")]
    UnsupportedTransferEncoding {
        /// The first coding that is not `chunked`, as sent.
        coding: String,
    },
    /// The body framing is ambiguous or invalid: a bad or conflicting
    /// `Content-Length`, both `Content-Length` and `Transfer-Encoding`, or a
    /// `Transfer-Encoding` that does not end in a single `chunked`.
    #[error("invalid message framing: {reason}")]
    InvalidFraming {
        /// Description of the defect.
        reason: &'static str,
    },
    /// An HTTP/1.1 request without exactly one `Host` header.
    #[error("request must carry exactly one Host header")]
    InvalidHost,
    /// An `Expect` header with a value other than `100-continue`.
    #[error("unsupported expectation in Expect header")]
    ExpectationFailed,
    /// The client did not send a complete request head within the head timeout.
    #[error("request head not received within the timeout")]
    HeadTimeout,
    /// This core already serves its maximum number of connections.
    #[error("too many open connections")]
    TooManyConnections,
}

impl ProtocolError {
    /// Returns the HTTP status code sent in response to this error.
    pub fn status(&self) -> u16 {
        match self {
            ProtocolError::HeadTooLarge { .. } | ProtocolError::TooManyHeaders { .. } => 431,
            ProtocolError::UriTooLong { .. } => 414,
            ProtocolError::MalformedHead { .. }
            | ProtocolError::InvalidFraming { .. }
            | ProtocolError::InvalidHost => 400,
            ProtocolError::UnsupportedVersion => 505,
            ProtocolError::UnsupportedTransferEncoding { .. } => 501,
            ProtocolError::ExpectationFailed => 417,
            ProtocolError::HeadTimeout => 408,
            ProtocolError::TooManyConnections => 503,
        }
    }
}

/// A failure while reading a request body.
///
/// After any of these the connection is closed once the service's response is
/// written (where the connection still allows writing).
#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    /// No body bytes arrived within the body read timeout.
    #[error("request body read timed out")]
    TimedOut,
    /// The client closed the connection before the whole body arrived.
    #[error("connection closed after {received} body bytes, before the body ended")]
    IncompleteBody {
        /// Decoded body bytes received before the connection closed.
        received: u64,
        /// The declared length, or `None` for a chunked body.
        expected: Option<u64>,
    },
    /// The chunked transfer coding is malformed or exceeds a limit.
    #[error("malformed chunked body: {reason}")]
    MalformedChunked {
        /// Description of the defect.
        reason: &'static str,
    },
    /// Reading from the socket, or sending `100 Continue`, failed.
    #[error("request body I/O failed: {0}")]
    Io(#[source] io::Error),
    /// An earlier call already failed, so the body cannot be read further.
    #[error("request body already failed")]
    AlreadyFailed,
}
