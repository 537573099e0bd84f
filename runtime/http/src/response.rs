//! The response a service returns, and its encoding into an HTTP/1.1 head with
//! the framing headers (`Content-Length`, `Connection`) the layer owns.

use std::borrow::Cow;
use std::fmt::Write as _;

use bytes::{BufMut, Bytes, BytesMut};
use futures_util::stream::LocalBoxStream;

/// A response header name, such as `"content-type"` or an owned `String`.
pub type HeaderName = Cow<'static, str>;
/// A response header value.
pub type HeaderValue = Cow<'static, str>;

/// A response body.
pub enum ResponseBody {
    /// No body (`Content-Length: 0`).
    Empty,
    /// A body held in memory.
    Full(Bytes),
    /// A body produced chunk by chunk, of exactly `length` bytes. If the stream
    /// fails or ends early after the head was sent, the connection is closed so the
    /// client sees a truncated body rather than a wrong one.
    Stream {
        /// Total body length, sent as `Content-Length`.
        length: u64,
        /// The body's chunks.
        chunks: LocalBoxStream<'static, Result<Bytes, std::io::Error>>,
    },
}

impl ResponseBody {
    fn length(&self) -> u64 {
        match self {
            ResponseBody::Empty => 0,
            ResponseBody::Full(bytes) => bytes.len() as u64,
            ResponseBody::Stream { length, .. } => *length,
        }
    }
}

impl std::fmt::Debug for ResponseBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ResponseBody::Empty => f.write_str("Empty"),
            ResponseBody::Full(bytes) => write!(f, "Full({} bytes)", bytes.len()),
            ResponseBody::Stream { length, .. } => write!(f, "Stream({length} bytes)"),
        }
    }
}

/// A response from a [`crate::Service`].
///
/// The layer writes `Content-Length` from the body (for HEAD and 304 responses it
/// keeps a `Content-Length` the service set) and `Connection`; the service's own
/// `Transfer-Encoding`, and for other responses `Content-Length`, are dropped. A
/// `Connection: close` from the service closes the connection after the response.
/// The service sets `Date` and everything else.
#[derive(Debug)]
pub struct Response {
    /// Status code, 200 to 599 (informational responses are the layer's business).
    pub status: u16,
    /// Header fields, written in order.
    pub headers: Vec<(HeaderName, HeaderValue)>,
    /// The body.
    pub body: ResponseBody,
}

impl Response {
    /// Creates a response with no headers and an empty body.
    pub fn new(status: u16) -> Response {
        Response {
            status,
            headers: Vec::new(),
            body: ResponseBody::Empty,
        }
    }

    /// Creates a response with an in-memory body.
    pub fn full(status: u16, body: impl Into<Bytes>) -> Response {
        Response {
            status,
            headers: Vec::new(),
            body: ResponseBody::Full(body.into()),
        }
    }

    /// Appends a header field.
    pub fn with_header(
        mut self,
        name: impl Into<HeaderName>,
        value: impl Into<HeaderValue>,
    ) -> Response {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Replaces the body.
    pub fn with_body(mut self, body: ResponseBody) -> Response {
        self.body = body;
        self
    }
}

/// Connection persistence after a response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Persistence {
    /// HTTP/1.1 keep-alive: nothing to announce.
    KeepAlive,
    /// HTTP/1.0 keep-alive: announce `Connection: keep-alive`.
    KeepAliveHttp10,
    /// Close after this response: announce `Connection: close`.
    Close,
}

/// The encoded head and what to send after it.
pub(crate) struct EncodedHead {
    pub(crate) head: BytesMut,
    /// Whether body bytes follow the head at all.
    pub(crate) send_body: bool,
    /// Whether the service asked to close the connection.
    pub(crate) service_close: bool,
}

/// Defect that stops a service's response from being sent as it is.
#[derive(Debug, thiserror::Error)]
pub(crate) enum InvalidResponse {
    #[error("status {0} is outside 200 to 599")]
    Status(u16),
    #[error("header name {0:?} is not a valid token")]
    HeaderName(String),
    #[error("value of header {0:?} contains a control character")]
    HeaderValue(String),
}

/// Encodes the status line and headers of `response` into a new buffer with
/// `reserve` spare bytes for a body to be appended.
pub(crate) fn encode_head(
    response: &Response,
    head_request: bool,
    persistence: Persistence,
    reserve: usize,
) -> Result<EncodedHead, InvalidResponse> {
    let status = response.status;
    if !(200..=599).contains(&status) {
        return Err(InvalidResponse::Status(status));
    }
    // RFC 9110 section 6.4.1: 204 and 304 never carry content, nor does a HEAD response.
    let bodiless_status = status == 204 || status == 304;
    let mut out = BytesMut::with_capacity(256 + 64 * response.headers.len() + reserve);
    let _ = write!(
        Writer(&mut out),
        "HTTP/1.1 {status} {}\r\n",
        reason_phrase(status)
    );

    let keep_service_length = head_request || status == 304;
    let mut service_length = false;
    let mut service_close = false;
    for (name, value) in &response.headers {
        if name.is_empty() || !name.bytes().all(is_tchar) {
            return Err(InvalidResponse::HeaderName(name.to_string()));
        }
        if value.bytes().any(|b| (b < 0x20 && b != b'\t') || b == 0x7f) {
            return Err(InvalidResponse::HeaderValue(name.to_string()));
        }
        if name.eq_ignore_ascii_case("connection") {
            service_close |= value
                .split(',')
                .any(|token| token.trim().eq_ignore_ascii_case("close"));
            continue;
        }
        if name.eq_ignore_ascii_case("transfer-encoding") {
            continue;
        }
        if name.eq_ignore_ascii_case("content-length") {
            if !keep_service_length || status == 204 || service_length {
                continue;
            }
            service_length = true;
        }
        out.put_slice(name.as_bytes());
        out.put_slice(b": ");
        out.put_slice(value.as_bytes());
        out.put_slice(b"\r\n");
    }

    if status != 204
        && !service_length
        && !(status == 304 && matches!(response.body, ResponseBody::Empty))
    {
        let _ = write!(
            Writer(&mut out),
            "content-length: {}\r\n",
            response.body.length()
        );
    }

    let persistence = if service_close {
        Persistence::Close
    } else {
        persistence
    };
    match persistence {
        Persistence::KeepAlive => {}
        Persistence::KeepAliveHttp10 => out.put_slice(b"connection: keep-alive\r\n"),
        Persistence::Close => out.put_slice(b"connection: close\r\n"),
    }
    out.put_slice(b"\r\n");
    Ok(EncodedHead {
        head: out,
        send_body: !head_request && !bodiless_status,
        service_close,
    })
}

/// Adapts a `BytesMut` to `fmt::Write`, which `BufMut::writer` does not offer.
struct Writer<'a>(&'a mut BytesMut);

impl std::fmt::Write for Writer<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.0.put_slice(s.as_bytes());
        Ok(())
    }
}

fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// Returns the reason phrase registered for `status`, or an empty one (which
/// RFC 9112 section 4 allows).
pub(crate) fn reason_phrase(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        204 => "No Content",
        206 => "Partial Content",
        301 => "Moved Permanently",
        302 => "Found",
        304 => "Not Modified",
        307 => "Temporary Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        409 => "Conflict",
        411 => "Length Required",
        412 => "Precondition Failed",
        413 => "Content Too Large",
        414 => "URI Too Long",
        416 => "Range Not Satisfiable",
        417 => "Expectation Failed",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        503 => "Service Unavailable",
        505 => "HTTP Version Not Supported",
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode(response: &Response, head_request: bool) -> String {
        let encoded = encode_head(response, head_request, Persistence::KeepAlive, 0).unwrap();
        String::from_utf8(encoded.head.to_vec()).unwrap()
    }

    #[test]
    fn full_body_gets_length() {
        let text = encode(&Response::full(200, "hello"), false);
        assert_eq!(text, "HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\n");
    }

    #[test]
    fn service_length_dropped_for_get() {
        let response = Response::full(200, "hello").with_header("Content-Length", "99");
        assert!(!encode(&response, false).contains("99"));
    }

    #[test]
    fn service_length_kept_for_head() {
        let response = Response::new(200).with_header("Content-Length", "99");
        assert_eq!(
            encode(&response, true),
            "HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n"
        );
    }

    #[test]
    fn no_content_has_no_length() {
        let response = Response::new(204).with_header("content-length", "0");
        assert_eq!(encode(&response, false), "HTTP/1.1 204 No Content\r\n\r\n");
    }

    #[test]
    fn head_response_sends_no_body() {
        let encoded =
            encode_head(&Response::full(200, "x"), true, Persistence::KeepAlive, 0).unwrap();
        assert!(!encoded.send_body);
    }

    #[test]
    fn header_injection_rejected() {
        let response = Response::new(200).with_header("x-a", "a\r\nx-b: c");
        let result = encode_head(&response, false, Persistence::KeepAlive, 0);
        assert!(matches!(result, Err(InvalidResponse::HeaderValue(_))));
    }

    #[test]
    fn invalid_header_name_rejected() {
        let response = Response::new(200).with_header("x a", "b");
        let result = encode_head(&response, false, Persistence::KeepAlive, 0);
        assert!(matches!(result, Err(InvalidResponse::HeaderName(_))));
    }

    #[test]
    fn informational_status_rejected() {
        let result = encode_head(&Response::new(101), false, Persistence::KeepAlive, 0);
        assert!(matches!(result, Err(InvalidResponse::Status(101))));
    }

    #[test]
    fn service_close_announced() {
        let response = Response::new(200).with_header("Connection", "close");
        let encoded = encode_head(&response, false, Persistence::KeepAlive, 0).unwrap();
        assert!(encoded.service_close);
    }

    #[test]
    fn close_persistence_announced() {
        let encoded = encode_head(&Response::new(200), false, Persistence::Close, 0).unwrap();
        assert!(encoded.head.ends_with(b"connection: close\r\n\r\n"));
    }
}
