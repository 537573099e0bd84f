//! Shared pieces of the integration tests: a test service whose behaviour is
//! chosen by the request path, server start-up on 127.0.0.1 port 0 with either
//! driver, and a raw HTTP/1.1 client over `std::net::TcpStream`.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use bytes::Bytes;
use ironbucket_http::{
    Body, BodyError, ConnectionInfo, ListenerConfig, ProtocolError, RequestHead, Response,
    ResponseBody, RunningServer, Server, ServerConfig, Service,
};

/// The test service. Paths:
/// - `/echo`: reads the whole body and returns it, with `x-body-len`,
///   `x-chunked`, `x-trailers` and `x-pieces` (the piece count).
/// - `/reject`: responds 403 without reading the body.
/// - `/read-one`: reads one piece of the body, then responds 200.
/// - `/object`: responds `hello world` (also to HEAD, so the layer must drop the body).
/// - `/stream?N`: streams N bytes (`N` in bytes) in 256 KiB pieces.
/// - `/short-stream`: declares 100 bytes and streams 50.
/// - `/slow?MS`: sleeps MS milliseconds on the core timer, then responds 200.
/// - `/block?MS`: blocks the core thread MS milliseconds (to trigger the stall detector).
///
/// Body errors get status 400 and `x-body-error`.
pub struct TestService;

fn body_error_kind(error: &BodyError) -> &'static str {
    match error {
        BodyError::TimedOut => "timeout",
        BodyError::IncompleteBody { .. } => "incomplete",
        BodyError::MalformedChunked { .. } => "malformed",
        BodyError::Io(_) => "io",
        BodyError::AlreadyFailed => "failed",
    }
}

impl Service for TestService {
    async fn call(
        &self,
        request: &RequestHead,
        body: &mut Body<'_>,
        _: &ConnectionInfo,
    ) -> Response {
        let query = request.query().unwrap_or("").to_owned();
        match request.path() {
            "/echo" => {
                let mut data = Vec::new();
                let mut pieces = 0;
                loop {
                    match body.next_chunk().await {
                        Ok(Some(piece)) => {
                            pieces += 1;
                            data.extend_from_slice(&piece);
                        }
                        Ok(None) => break,
                        Err(error) => {
                            return Response::new(400)
                                .with_header("x-body-error", body_error_kind(&error));
                        }
                    }
                }
                let trailers: Vec<String> = body
                    .trailers()
                    .iter()
                    .map(|t| format!("{}={}", t.name, t.value_str().unwrap_or("?")))
                    .collect();
                Response::full(200, data.clone())
                    .with_header("x-body-len", data.len().to_string())
                    .with_header("x-chunked", body.is_chunked().to_string())
                    .with_header("x-trailers", trailers.join(";"))
                    .with_header("x-pieces", pieces.to_string())
            }
            "/reject" => Response::full(403, "denied"),
            "/read-one" => {
                let _ = body.next_chunk().await;
                Response::full(200, "read one")
            }
            "/object" => Response::full(200, "hello world"),
            "/stream" => {
                let size: u64 = query.parse().unwrap_or(0);
                Response::new(200).with_body(ResponseBody::Stream {
                    length: size,
                    chunks: generated_stream(size),
                })
            }
            "/short-stream" => Response::new(200).with_body(ResponseBody::Stream {
                length: 100,
                chunks: Box::pin(futures_util::stream::iter([Ok(Bytes::from(vec![
                    b'x';
                    50
                ]))])),
            }),
            "/slow" => {
                let ms: u64 = query.parse().unwrap_or(0);
                monoio::time::sleep(Duration::from_millis(ms)).await;
                Response::full(200, "slow done")
            }
            "/block" => {
                let ms: u64 = query.parse().unwrap_or(0);
                std::thread::sleep(Duration::from_millis(ms));
                Response::full(200, "blocked")
            }
            _ => Response::full(404, "not found"),
        }
    }

    fn protocol_error(&self, error: &ProtocolError, _: &ConnectionInfo) -> Response {
        Response::full(error.status(), format!("protocol error: {error}"))
            .with_header("x-protocol-error", "1")
    }
}

/// A stream of `size` bytes made lazily in 256 KiB pieces, so the test measures
/// the server's buffering and not the service's.
fn generated_stream(
    size: u64,
) -> futures_util::stream::LocalBoxStream<'static, Result<Bytes, std::io::Error>> {
    const PIECE: u64 = 256 * 1024;
    let piece = Bytes::from(vec![b'z'; PIECE as usize]);
    Box::pin(futures_util::stream::unfold(0u64, move |sent| {
        let piece = piece.clone();
        async move {
            if sent >= size {
                return None;
            }
            let len = PIECE.min(size - sent);
            Some((Ok(piece.slice(..len as usize)), sent + len))
        }
    }))
}

/// Which driver a test runs on.
#[derive(Debug, Clone, Copy)]
pub enum Mode {
    DefaultDriver,
    ForcedEpoll,
}

/// Returns a configuration for one plain listener on 127.0.0.1 port 0 with short
/// timeouts, so timeout tests stay fast.
pub fn test_config(mode: Mode) -> ServerConfig {
    let mut config = ServerConfig::new(vec![ListenerConfig::plain("127.0.0.1:0".parse().unwrap())]);
    config.cores = 2;
    config.force_epoll = matches!(mode, Mode::ForcedEpoll);
    config.timeouts.head = Duration::from_millis(300);
    config.timeouts.idle = Duration::from_millis(400);
    config.timeouts.body_read = Duration::from_millis(300);
    config.timeouts.write = Duration::from_millis(300);
    config.timeouts.linger = Duration::from_millis(300);
    config
}

pub fn start(config: ServerConfig) -> RunningServer {
    Server::start(config, |_| TestService).expect("server starts")
}

pub fn connect(addr: SocketAddr) -> TcpStream {
    let stream = TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    stream.set_nodelay(true).unwrap();
    stream
}

/// One response as read by [`Client`].
#[derive(Debug)]
pub struct RawResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl RawResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn closes(&self) -> bool {
        self.header("connection")
            .is_some_and(|v| v.eq_ignore_ascii_case("close"))
    }
}

/// A raw HTTP/1.1 client that keeps bytes read past one response for the next.
pub struct Client {
    pub stream: TcpStream,
    buf: Vec<u8>,
}

impl Client {
    pub fn new(addr: SocketAddr) -> Client {
        Client {
            stream: connect(addr),
            buf: Vec::new(),
        }
    }

    pub fn send(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).expect("write request");
    }

    fn fill(&mut self) -> usize {
        let mut chunk = [0u8; 64 * 1024];
        let read = self.stream.read(&mut chunk).expect("read response");
        self.buf.extend_from_slice(&chunk[..read]);
        read
    }

    /// Reads one response (an interim 100 counts as one). `head_request` means
    /// the response has no body whatever its headers state.
    pub fn response(&mut self, head_request: bool) -> RawResponse {
        loop {
            let mut slots = [httparse::EMPTY_HEADER; 64];
            let mut parsed = httparse::Response::new(&mut slots);
            if let httparse::Status::Complete(head_len) =
                parsed.parse(&self.buf).expect("valid response head")
            {
                let status = parsed.code.unwrap();
                let headers: Vec<(String, String)> = parsed
                    .headers
                    .iter()
                    .map(|h| {
                        (
                            h.name.to_ascii_lowercase(),
                            String::from_utf8_lossy(h.value).into_owned(),
                        )
                    })
                    .collect();
                let length: usize =
                    if head_request || status == 100 || status == 204 || status == 304 {
                        0
                    } else {
                        headers
                            .iter()
                            .find(|(n, _)| n == "content-length")
                            .map(|(_, v)| v.parse().unwrap())
                            .unwrap_or(0)
                    };
                while self.buf.len() < head_len + length {
                    assert!(self.fill() > 0, "connection closed inside a response body");
                }
                let body = self.buf[head_len..head_len + length].to_vec();
                self.buf.drain(..head_len + length);
                return RawResponse {
                    status,
                    headers,
                    body,
                };
            }
            assert!(self.fill() > 0, "connection closed before a response");
        }
    }

    /// Returns whether the server closed the connection (end of stream or reset)
    /// with no further response bytes.
    pub fn is_closed(&mut self) -> bool {
        if !self.buf.is_empty() {
            return false;
        }
        let mut byte = [0u8; 1];
        match self.stream.read(&mut byte) {
            Ok(0) => true,
            Ok(_) => false,
            Err(error) => error.kind() == std::io::ErrorKind::ConnectionReset,
        }
    }
}

/// Builds a request with a Content-Length body.
pub fn request_with_body(method: &str, path: &str, body: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "{method} {path} HTTP/1.1\r\nHost: test\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(body);
    out
}

/// Builds a GET request.
pub fn get(path: &str) -> Vec<u8> {
    format!("GET {path} HTTP/1.1\r\nHost: test\r\n\r\n").into_bytes()
}

/// Defines each test twice: once on the default driver and once with `force_epoll`.
#[macro_export]
macro_rules! driver_tests {
    ($(fn $name:ident($mode:ident: Mode) $body:block)*) => {
        $(fn $name($mode: $crate::common::Mode) $body)*

        mod default_driver {
            $(#[test] fn $name() { super::$name($crate::common::Mode::DefaultDriver) })*
        }

        mod forced_epoll {
            $(#[test] fn $name() { super::$name($crate::common::Mode::ForcedEpoll) })*
        }
    };
}
