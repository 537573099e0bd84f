//! Server configuration: listeners, cores, per-core connection limit, protocol
//! limits and timeouts, with defaults and their reasons.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use crate::error::ServerError;

/// One listening address, plain or TLS.
#[derive(Clone)]
pub struct ListenerConfig {
    /// Address to bind; port 0 lets the kernel pick a port, which every core then shares.
    pub addr: SocketAddr,
    /// TLS configuration; `None` serves plain HTTP on this address.
    pub tls: Option<Arc<rustls::ServerConfig>>,
}

impl ListenerConfig {
    /// Creates a plain HTTP listener.
    pub fn plain(addr: SocketAddr) -> ListenerConfig {
        ListenerConfig { addr, tls: None }
    }

    /// Creates an HTTPS listener.
    pub fn tls(addr: SocketAddr, tls: Arc<rustls::ServerConfig>) -> ListenerConfig {
        ListenerConfig {
            addr,
            tls: Some(tls),
        }
    }
}

impl std::fmt::Debug for ListenerConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ListenerConfig")
            .field("addr", &self.addr)
            .field("tls", &self.tls.is_some())
            .finish()
    }
}

/// Size and count limits applied to every request.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Maximum request head (request line plus headers) in bytes; larger heads get 431.
    /// Default 16 KiB: S3 documents an 8 KiB limit for its own request headers, and
    /// the rest leaves room for a long presigned request target.
    pub max_head_bytes: usize,
    /// Maximum number of header fields; more get 431. Default 100, several times
    /// what S3 clients send (about 10 to 30).
    pub max_headers: usize,
    /// Maximum request-target length in bytes; longer ones get 414. Default 8 KiB:
    /// presigned URLs carrying an STS session token reach about 4 KiB.
    pub max_uri_bytes: usize,
    /// Maximum size of one body chunk handed to the service, and so the read
    /// buffer size while a body streams. Default 64 KiB, the chunk size the storage
    /// channel is built around.
    pub body_chunk_bytes: usize,
    /// Maximum length of one chunk-size line of a chunked body, extensions included.
    /// Default 4 KiB: aws-chunked signatures make extensions about 100 bytes.
    pub max_chunk_line_bytes: usize,
    /// Maximum total size of the trailer section of a chunked body. Default 16 KiB.
    pub max_trailer_bytes: usize,
    /// Maximum body bytes the server reads and discards when the service responds
    /// without reading the whole body, to keep the connection open. Larger
    /// remainders close the connection instead. Default 256 KiB.
    pub max_drain_bytes: u64,
    /// Maximum bytes read and discarded while closing a connection that may still
    /// have unread input, so the client receives the response instead of a reset.
    /// Default 1 MiB.
    pub max_linger_bytes: u64,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_head_bytes: 16 * 1024,
            max_headers: 100,
            max_uri_bytes: 8 * 1024,
            body_chunk_bytes: 64 * 1024,
            max_chunk_line_bytes: 4 * 1024,
            max_trailer_bytes: 16 * 1024,
            max_drain_bytes: 256 * 1024,
            max_linger_bytes: 1024 * 1024,
        }
    }
}

/// Timeouts applied to every connection. On expiry the connection is closed.
#[derive(Debug, Clone)]
pub struct Timeouts {
    /// Time allowed for a whole request head, from its first byte; also the time a
    /// new connection may stay silent before its first request. Expiry after some
    /// bytes sends 408. Default 10 s: a client sends its head in one write, so
    /// this only bounds slow-header attacks.
    pub head: Duration,
    /// Time a keep-alive connection may stay idle between requests. Default 75 s,
    /// longer than the 60 s idle timeout common in load balancers so the balancer,
    /// not the server, closes idle connections and never reuses one being closed.
    pub idle: Duration,
    /// Time one body read may wait for bytes. Default 30 s.
    pub body_read: Duration,
    /// Time one write may wait for the client to accept bytes. Default 30 s.
    pub write: Duration,
    /// Time a streamed response body may take to produce its next chunk. Default 60 s.
    pub response_chunk: Duration,
    /// Time allowed for a TLS handshake. Default 10 s.
    pub tls_handshake: Duration,
    /// Time spent reading and discarding input while closing a connection.
    /// Default 2 s.
    pub linger: Duration,
}

impl Default for Timeouts {
    fn default() -> Timeouts {
        Timeouts {
            head: Duration::from_secs(10),
            idle: Duration::from_secs(75),
            body_read: Duration::from_secs(30),
            write: Duration::from_secs(30),
            response_chunk: Duration::from_secs(60),
            tls_handshake: Duration::from_secs(10),
            linger: Duration::from_secs(2),
        }
    }
}

/// Configuration of a [`crate::Server`].
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Addresses to listen on; every core binds each one with `SO_REUSEPORT`.
    pub listeners: Vec<ListenerConfig>,
    /// Number of cores (threads with their own runtime). Default: the available parallelism.
    pub cores: usize,
    /// Build the epoll driver even where io_uring is available.
    pub force_epoll: bool,
    /// Pin core `i` to the `i`-th CPU this process may run on. Default off, because
    /// pinning only helps when the host reserves those CPUs for the server.
    pub pin_cores: bool,
    /// Listen backlog of each core's socket. Default 1024.
    pub backlog: u32,
    /// Maximum open connections per core. A connection accepted beyond it gets the
    /// service's 503 response (plain listeners) or is closed at once (TLS
    /// listeners), so clients learn the server is busy instead of waiting in the
    /// backlog. Default 10 000.
    pub max_connections_per_core: usize,
    /// Event-loop turns longer than this are logged as stalls. Default 10 ms.
    pub stall_threshold: Duration,
    /// Request size limits.
    pub limits: Limits,
    /// Connection timeouts.
    pub timeouts: Timeouts,
}

impl ServerConfig {
    /// Creates a configuration with the given listeners and defaults for the rest.
    pub fn new(listeners: Vec<ListenerConfig>) -> ServerConfig {
        ServerConfig {
            listeners,
            cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
            force_epoll: false,
            pin_cores: false,
            backlog: 1024,
            max_connections_per_core: 10_000,
            stall_threshold: Duration::from_millis(10),
            limits: Limits::default(),
            timeouts: Timeouts::default(),
        }
    }

    /// Checks every value for range and consistency.
    pub(crate) fn validate(&self) -> Result<(), ServerError> {
        let invalid = |message: String| Err(ServerError::InvalidConfig(message));
        let limits = &self.limits;
        if self.listeners.is_empty() {
            return invalid("at least one listener is required".into());
        }
        if self.cores == 0 || self.cores > 1024 {
            return invalid(format!("cores must be 1 to 1024, got {}", self.cores));
        }
        if self.max_connections_per_core == 0 {
            return invalid("max_connections_per_core must be at least 1".into());
        }
        if self.backlog == 0 || self.backlog > i32::MAX as u32 {
            return invalid(format!("backlog must be positive, got {}", self.backlog));
        }

        if !(1024..=1024 * 1024).contains(&limits.max_head_bytes) {
            return invalid(format!(
                "max_head_bytes must be 1 KiB to 1 MiB, got {}",
                limits.max_head_bytes
            ));
        }
        if !(1..=10_000).contains(&limits.max_headers) {
            return invalid(format!(
                "max_headers must be 1 to 10000, got {}",
                limits.max_headers
            ));
        }
        if limits.max_uri_bytes == 0 || limits.max_uri_bytes > limits.max_head_bytes {
            return invalid(format!(
                "max_uri_bytes must be 1 to max_head_bytes ({}), got {}",
                limits.max_head_bytes, limits.max_uri_bytes
            ));
        }
        if !(1024..=16 * 1024 * 1024).contains(&limits.body_chunk_bytes) {
            return invalid(format!(
                "body_chunk_bytes must be 1 KiB to 16 MiB, got {}",
                limits.body_chunk_bytes
            ));
        }
        if !(64..=1024 * 1024).contains(&limits.max_chunk_line_bytes) {
            return invalid(format!(
                "max_chunk_line_bytes must be 64 bytes to 1 MiB, got {}",
                limits.max_chunk_line_bytes
            ));
        }
        if !(64..=1024 * 1024).contains(&limits.max_trailer_bytes) {
            return invalid(format!(
                "max_trailer_bytes must be 64 bytes to 1 MiB, got {}",
                limits.max_trailer_bytes
            ));
        }

        let timeouts = [
            ("head", self.timeouts.head),
            ("idle", self.timeouts.idle),
            ("body_read", self.timeouts.body_read),
            ("write", self.timeouts.write),
            ("response_chunk", self.timeouts.response_chunk),
            ("tls_handshake", self.timeouts.tls_handshake),
        ];
        for (name, value) in timeouts {
            if value.is_zero() {
                return invalid(format!("timeout {name} must be greater than zero"));
            }
        }
        Ok(())
    }
}
