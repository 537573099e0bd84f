//! The parsed request head handed to the service: method, raw target, version
//! and header fields, with lookup helpers.

use bytes::Bytes;

/// A request method.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Method {
    /// `GET`
    Get,
    /// `HEAD`
    Head,
    /// `PUT`
    Put,
    /// `POST`
    Post,
    /// `DELETE`
    Delete,
    /// `OPTIONS`
    Options,
    /// `PATCH`
    Patch,
    /// `CONNECT`
    Connect,
    /// `TRACE`
    Trace,
    /// Any other method token, as sent (methods are case-sensitive).
    Other(String),
}

impl Method {
    /// Parses a method token; unknown tokens become [`Method::Other`].
    pub fn from_token(token: &str) -> Method {
        match token {
            "GET" => Method::Get,
            "HEAD" => Method::Head,
            "PUT" => Method::Put,
            "POST" => Method::Post,
            "DELETE" => Method::Delete,
            "OPTIONS" => Method::Options,
            "PATCH" => Method::Patch,
            "CONNECT" => Method::Connect,
            "TRACE" => Method::Trace,
            other => Method::Other(other.to_owned()),
        }
    }

    /// Returns the method token.
    pub fn as_str(&self) -> &str {
        match self {
            Method::Get => "GET",
            Method::Head => "HEAD",
            Method::Put => "PUT",
            Method::Post => "POST",
            Method::Delete => "DELETE",
            Method::Options => "OPTIONS",
            Method::Patch => "PATCH",
            Method::Connect => "CONNECT",
            Method::Trace => "TRACE",
            Method::Other(token) => token,
        }
    }
}

impl std::fmt::Display for Method {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One header field (or trailer field) of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// Field name in lower case.
    pub name: String,
    /// Field value as sent, without surrounding whitespace. It is usually ASCII
    /// but may hold other bytes (obs-text), so it is kept as bytes.
    pub value: Bytes,
}

impl Header {
    /// Returns the value as text, or `None` when it is not valid UTF-8.
    pub fn value_str(&self) -> Option<&str> {
        std::str::from_utf8(&self.value).ok()
    }
}

/// The request line and header fields of one request.
#[derive(Debug, Clone)]
pub struct RequestHead {
    /// Request method.
    pub method: Method,
    /// Request target exactly as sent (origin form `/path?query` for S3 clients).
    pub target: String,
    /// Minor HTTP version: 0 for HTTP/1.0, 1 for HTTP/1.1.
    pub version: u8,
    /// Header fields in the order received, names in lower case.
    pub headers: Vec<Header>,
    /// Whether the client sent `Expect: 100-continue` (HTTP/1.1 only).
    pub expect_continue: bool,
}

impl RequestHead {
    /// Returns the first value of header `name` (any case) as text, or `None` when the
    /// header is absent or its value is not valid UTF-8.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.find(name).and_then(Header::value_str)
    }

    /// Returns the first value of header `name` (any case) as bytes.
    pub fn header_bytes(&self, name: &str) -> Option<&[u8]> {
        self.find(name).map(|header| &header.value[..])
    }

    /// Returns every field named `name` (any case), in the order received.
    pub fn headers_all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Header> + 'a {
        self.headers
            .iter()
            .filter(move |header| header.name.eq_ignore_ascii_case(name))
    }

    /// Returns the path part of the target, before any `?`.
    pub fn path(&self) -> &str {
        match self.target.split_once('?') {
            Some((path, _)) => path,
            None => &self.target,
        }
    }

    /// Returns the query part of the target, after the first `?`, if any.
    pub fn query(&self) -> Option<&str> {
        self.target.split_once('?').map(|(_, query)| query)
    }

    fn find(&self, name: &str) -> Option<&Header> {
        self.headers
            .iter()
            .find(|header| header.name.eq_ignore_ascii_case(name))
    }
}
