//! Request head parsing: finding the end of the head in the read buffer, parsing
//! it with `httparse`, and deriving the body framing and connection persistence
//! with the checks that defend against request smuggling.

use bytes::{Buf, Bytes, BytesMut};

use crate::config::Limits;
use crate::error::ProtocolError;
use crate::request::{Header, Method, RequestHead};

/// The connection preface every HTTP/2 client sends first.
const HTTP2_PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n";

/// Room for the method, spaces and version around the target on the request line.
const REQUEST_LINE_OVERHEAD: usize = 64;

/// Delimitation of the request body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Framing {
    /// Neither `Content-Length` nor `Transfer-Encoding`: the body is empty.
    None,
    /// `Content-Length: n`.
    Length(u64),
    /// `Transfer-Encoding: chunked`.
    Chunked,
}

/// A parsed head with what the connection needs to frame and keep the exchange.
#[derive(Debug)]
pub(crate) struct ParsedHead {
    pub(crate) head: RequestHead,
    pub(crate) framing: Framing,
    pub(crate) keep_alive: bool,
}

/// Scanner result for the current buffer.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Scan {
    /// The head is not complete yet and the buffer is within the limits.
    Incomplete,
    /// The head ends after this many bytes of the buffer.
    Complete(usize),
    /// The buffer starts with the HTTP/2 connection preface.
    Http2Preface,
}

/// Finds the end of a request head incrementally, so a head that arrives one byte
/// at a time costs linear time, not one full parse per read.
#[derive(Debug, Default)]
pub(crate) struct HeadScanner {
    /// Buffer offset up to which no head end exists.
    scanned: usize,
    /// Whether the request line's end has been seen (and its length checked).
    request_line_done: bool,
}

impl HeadScanner {
    /// Resets the scanner for the next request.
    pub(crate) fn reset(&mut self) {
        *self = HeadScanner::default();
    }

    /// Examines the buffer, which starts at the head's first byte, after more bytes
    /// arrived. Leading empty lines are removed, as RFC 9112 section 2.2 allows.
    pub(crate) fn scan(
        &mut self,
        buf: &mut BytesMut,
        limits: &Limits,
    ) -> Result<Scan, ProtocolError> {
        if self.scanned == 0 {
            let blank = buf
                .iter()
                .take_while(|&&b| b == b'\r' || b == b'\n')
                .count();
            buf.advance(blank);
        }
        if buf.is_empty() {
            return Ok(Scan::Incomplete);
        }
        let preface_len = HTTP2_PREFACE.len().min(buf.len());
        if buf[..preface_len] == HTTP2_PREFACE[..preface_len] {
            return Ok(if preface_len == HTTP2_PREFACE.len() {
                Scan::Http2Preface
            } else {
                Scan::Incomplete
            });
        }
        if !self.request_line_done {
            match buf.iter().position(|&b| b == b'\n') {
                Some(line_end) => {
                    self.request_line_done = true;
                    check_target_length(&buf[..line_end], limits)?;
                }
                None if buf.len() > limits.max_uri_bytes + REQUEST_LINE_OVERHEAD => {
                    return Err(ProtocolError::UriTooLong {
                        limit: limits.max_uri_bytes,
                    });
                }
                None => {}
            }
        }
        let window = buf.len().min(limits.max_head_bytes);
        if let Some(end) = find_head_end(&buf[..window], self.scanned) {
            return Ok(Scan::Complete(end));
        }
        // An end that straddles the limit still counts as too large.
        self.scanned = window.saturating_sub(2);
        if buf.len() >= limits.max_head_bytes {
            return Err(ProtocolError::HeadTooLarge {
                limit: limits.max_head_bytes,
            });
        }
        Ok(Scan::Incomplete)
    }
}

/// Returns the length of the head if `buf` contains an empty line (LF LF or LF CR LF)
/// at or after `from`.
fn find_head_end(buf: &[u8], from: usize) -> Option<usize> {
    let mut index = from;
    while let Some(offset) = buf.get(index..)?.iter().position(|&b| b == b'\n') {
        let lf = index + offset;
        match buf.get(lf + 1) {
            Some(b'\n') => return Some(lf + 2),
            Some(b'\r') if buf.get(lf + 2) == Some(&b'\n') => return Some(lf + 3),
            _ => index = lf + 1,
        }
    }
    None
}

/// Rejects a request line whose target is longer than the limit.
fn check_target_length(line: &[u8], limits: &Limits) -> Result<(), ProtocolError> {
    let mut parts = line.split(|&b| b == b' ');
    let _method = parts.next();
    let target_len = parts.next().map_or(0, <[u8]>::len);
    if target_len > limits.max_uri_bytes {
        return Err(ProtocolError::UriTooLong {
            limit: limits.max_uri_bytes,
        });
    }
    Ok(())
}

/// Parses a complete head (as found by [`HeadScanner`]) and derives its framing.
pub(crate) fn parse_head(raw: Bytes, limits: &Limits) -> Result<ParsedHead, ProtocolError> {
    let mut slots = vec![httparse::EMPTY_HEADER; limits.max_headers];
    let mut request = httparse::Request::new(&mut slots);
    match request.parse(&raw) {
        Ok(httparse::Status::Complete(_)) => {}
        Ok(httparse::Status::Partial) => {
            return Err(ProtocolError::MalformedHead {
                reason: "head ends in the middle of a line",
            });
        }
        Err(httparse::Error::TooManyHeaders) => {
            return Err(ProtocolError::TooManyHeaders {
                limit: limits.max_headers,
            });
        }
        Err(httparse::Error::Version) => return Err(ProtocolError::UnsupportedVersion),
        Err(error) => {
            return Err(ProtocolError::MalformedHead {
                reason: describe_httparse_error(error),
            });
        }
    }
    let (Some(method), Some(target), Some(version)) =
        (request.method, request.path, request.version)
    else {
        return Err(ProtocolError::MalformedHead {
            reason: "incomplete request line",
        });
    };
    if target.len() > limits.max_uri_bytes {
        return Err(ProtocolError::UriTooLong {
            limit: limits.max_uri_bytes,
        });
    }
    let headers = request
        .headers
        .iter()
        .map(|field| Header {
            name: field.name.to_ascii_lowercase(),
            value: raw.slice_ref(field.value),
        })
        .collect();
    let head = RequestHead {
        method: Method::from_token(method),
        target: target.to_owned(),
        version,
        headers,
        expect_continue: false,
    };
    analyse(head)
}

fn describe_httparse_error(error: httparse::Error) -> &'static str {
    match error {
        httparse::Error::HeaderName => "invalid header name",
        httparse::Error::HeaderValue => "invalid header value",
        httparse::Error::NewLine => "invalid line ending",
        httparse::Error::Status => "invalid status",
        httparse::Error::Token => "invalid method or target",
        httparse::Error::TooManyHeaders => "too many headers",
        httparse::Error::Version => "invalid HTTP version",
    }
}

/// Derives framing, persistence and the expectation, rejecting ambiguous framing.
fn analyse(mut head: RequestHead) -> Result<ParsedHead, ProtocolError> {
    let content_length = content_length(&head)?;
    let chunked = transfer_encoding(&head)?;
    let framing = match (content_length, chunked) {
        (Some(_), true) => {
            // RFC 9112 section 6.1 allows preferring Transfer-Encoding, but a proxy
            // in front may have chosen the other header, which is how smuggling works.
            return Err(ProtocolError::InvalidFraming {
                reason: "both Content-Length and Transfer-Encoding",
            });
        }
        (None, true) => Framing::Chunked,
        (Some(length), false) => Framing::Length(length),
        (None, false) => Framing::None,
    };
    if framing == Framing::Chunked && head.version == 0 {
        // RFC 9112 section 6.1: Transfer-Encoding in an HTTP/1.0 request means
        // the framing is faulty.
        return Err(ProtocolError::InvalidFraming {
            reason: "Transfer-Encoding in an HTTP/1.0 request",
        });
    }

    let hosts = head.headers_all("host").count();
    if hosts > 1 || (hosts == 0 && head.version == 1) {
        return Err(ProtocolError::InvalidHost);
    }

    let mut close = false;
    let mut keep_alive_token = false;
    for field in head.headers_all("connection") {
        for token in list_elements(&field.value) {
            if token.eq_ignore_ascii_case(b"close") {
                close = true;
            } else if token.eq_ignore_ascii_case(b"keep-alive") {
                keep_alive_token = true;
            }
        }
    }
    let keep_alive = !close && (head.version == 1 || keep_alive_token);

    if head.version == 1 {
        let mut expect_continue = false;
        for field in head.headers_all("expect") {
            if trim(&field.value).eq_ignore_ascii_case(b"100-continue") {
                expect_continue = true;
            } else {
                return Err(ProtocolError::ExpectationFailed);
            }
        }
        head.expect_continue = expect_continue;
    }
    Ok(ParsedHead {
        head,
        framing,
        keep_alive,
    })
}

/// Returns the declared length, accepting repeated identical values (RFC 9110
/// section 8.6) and rejecting anything else.
fn content_length(head: &RequestHead) -> Result<Option<u64>, ProtocolError> {
    let mut length = None;
    for field in head.headers_all("content-length") {
        let mut elements = 0;
        for element in list_elements(&field.value) {
            elements += 1;
            let value = parse_decimal(element).ok_or(ProtocolError::InvalidFraming {
                reason: "invalid Content-Length",
            })?;
            if length.is_some_and(|seen| seen != value) {
                return Err(ProtocolError::InvalidFraming {
                    reason: "conflicting Content-Length values",
                });
            }
            length = Some(value);
        }
        if elements == 0 {
            return Err(ProtocolError::InvalidFraming {
                reason: "empty Content-Length",
            });
        }
    }
    Ok(length)
}

/// Returns whether the body is chunked; any other coding is unsupported.
fn transfer_encoding(head: &RequestHead) -> Result<bool, ProtocolError> {
    let mut present = false;
    let mut chunked = 0;
    for field in head.headers_all("transfer-encoding") {
        present = true;
        for coding in list_elements(&field.value) {
            if coding.eq_ignore_ascii_case(b"chunked") {
                chunked += 1;
            } else {
                return Err(ProtocolError::UnsupportedTransferEncoding {
                    coding: String::from_utf8_lossy(coding).into_owned(),
                });
            }
        }
    }
    match (present, chunked) {
        (false, _) => Ok(false),
        (true, 1) => Ok(true),
        (true, 0) => Err(ProtocolError::InvalidFraming {
            reason: "empty Transfer-Encoding",
        }),
        (true, _) => Err(ProtocolError::InvalidFraming {
            reason: "chunked applied more than once",
        }),
    }
}

/// Splits a comma-separated field value, dropping empty elements (RFC 9110 section 5.6.1).
fn list_elements(value: &[u8]) -> impl Iterator<Item = &[u8]> {
    value
        .split(|&b| b == b',')
        .map(trim)
        .filter(|element| !element.is_empty())
}

fn trim(value: &[u8]) -> &[u8] {
    let is_space = |b: &u8| *b == b' ' || *b == b'\t';
    let start = value
        .iter()
        .position(|b| !is_space(b))
        .unwrap_or(value.len());
    let end = value
        .iter()
        .rposition(|b| !is_space(b))
        .map_or(start, |i| i + 1);
    &value[start..end]
}

/// Parses `1*DIGIT` into a `u64`, rejecting signs, spaces and overflow.
pub(crate) fn parse_decimal(digits: &[u8]) -> Option<u64> {
    if digits.is_empty() {
        return None;
    }
    digits.iter().try_fold(0u64, |value, &b| {
        if !b.is_ascii_digit() {
            return None;
        }
        value.checked_mul(10)?.checked_add(u64::from(b - b'0'))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(raw: &str) -> Result<ParsedHead, ProtocolError> {
        parse_head(Bytes::copy_from_slice(raw.as_bytes()), &Limits::default())
    }

    fn scan_all(raw: &[u8]) -> Result<Scan, ProtocolError> {
        let mut buf = BytesMut::from(raw);
        HeadScanner::default().scan(&mut buf, &Limits::default())
    }

    #[test]
    fn head_end_found_with_crlf() {
        assert_eq!(
            find_head_end(b"GET / HTTP/1.1\r\nA: b\r\n\r\nrest", 0),
            Some(24)
        );
    }

    #[test]
    fn head_end_found_with_bare_lf() {
        assert_eq!(find_head_end(b"GET / HTTP/1.1\nA: b\n\n", 0), Some(21));
    }

    #[test]
    fn scanner_byte_by_byte_finds_end() {
        let raw = b"GET / HTTP/1.1\r\nHost: a\r\n\r\n";
        let mut scanner = HeadScanner::default();
        let mut buf = BytesMut::new();
        let mut found = None;
        for &byte in raw {
            buf.extend_from_slice(&[byte]);
            if let Scan::Complete(end) = scanner.scan(&mut buf, &Limits::default()).unwrap() {
                found = Some(end);
            }
        }
        assert_eq!(found, Some(raw.len()));
    }

    #[test]
    fn scanner_skips_leading_empty_lines() {
        let mut buf = BytesMut::from(&b"\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n"[..]);
        let scan = HeadScanner::default().scan(&mut buf, &Limits::default());
        assert_eq!(scan, Ok(Scan::Complete(27)));
    }

    #[test]
    fn scanner_detects_http2_preface() {
        assert_eq!(
            scan_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"),
            Ok(Scan::Http2Preface)
        );
    }

    #[test]
    fn scanner_rejects_oversized_head() {
        let mut raw = b"GET / HTTP/1.1\r\n".to_vec();
        raw.extend(std::iter::repeat_n(b'a', 17 * 1024));
        assert_eq!(
            scan_all(&raw),
            Err(ProtocolError::HeadTooLarge { limit: 16 * 1024 })
        );
    }

    #[test]
    fn scanner_rejects_long_target_early() {
        let mut raw = b"GET /".to_vec();
        raw.extend(std::iter::repeat_n(b'a', 9 * 1024));
        assert_eq!(
            scan_all(&raw),
            Err(ProtocolError::UriTooLong { limit: 8 * 1024 })
        );
    }

    #[test]
    fn content_length_duplicates_equal_accepted() {
        let parsed =
            parse("PUT / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 5, 5\r\n\r\n");
        assert_eq!(parsed.unwrap().framing, Framing::Length(5));
    }

    #[test]
    fn content_length_conflict_rejected() {
        let parsed =
            parse("PUT / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n");
        assert_eq!(parsed.unwrap_err().status(), 400);
    }

    #[test]
    fn content_length_sign_rejected() {
        let parsed = parse("PUT / HTTP/1.1\r\nHost: a\r\nContent-Length: +5\r\n\r\n");
        assert_eq!(parsed.unwrap_err().status(), 400);
    }

    #[test]
    fn content_length_overflow_rejected() {
        let parsed =
            parse("PUT / HTTP/1.1\r\nHost: a\r\nContent-Length: 18446744073709551616\r\n\r\n");
        assert_eq!(parsed.unwrap_err().status(), 400);
    }

    #[test]
    fn both_framings_rejected() {
        let parsed = parse(
            "PUT / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
        );
        assert_eq!(parsed.unwrap_err().status(), 400);
    }

    #[test]
    fn gzip_transfer_coding_unsupported() {
        let parsed = parse("PUT / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n");
        assert_eq!(parsed.unwrap_err().status(), 501);
    }

    #[test]
    fn double_chunked_rejected() {
        let parsed =
            parse("PUT / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, chunked\r\n\r\n");
        assert_eq!(parsed.unwrap_err().status(), 400);
    }

    #[test]
    fn chunked_in_http10_rejected() {
        let parsed = parse("PUT / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n");
        assert_eq!(parsed.unwrap_err().status(), 400);
    }

    #[test]
    fn missing_host_rejected() {
        let parsed = parse("GET / HTTP/1.1\r\n\r\n");
        assert_eq!(parsed.unwrap_err(), ProtocolError::InvalidHost);
    }

    #[test]
    fn http10_default_closes() {
        let parsed = parse("GET / HTTP/1.0\r\n\r\n").unwrap();
        assert!(!parsed.keep_alive);
    }

    #[test]
    fn http10_keep_alive_honoured() {
        let parsed = parse("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n").unwrap();
        assert!(parsed.keep_alive);
    }

    #[test]
    fn connection_close_honoured() {
        let parsed = parse("GET / HTTP/1.1\r\nHost: a\r\nConnection: foo, close\r\n\r\n").unwrap();
        assert!(!parsed.keep_alive);
    }

    #[test]
    fn expect_continue_detected() {
        let parsed = parse("PUT / HTTP/1.1\r\nHost: a\r\nExpect: 100-Continue\r\n\r\n").unwrap();
        assert!(parsed.head.expect_continue);
    }

    #[test]
    fn unknown_expectation_rejected() {
        let parsed = parse("PUT / HTTP/1.1\r\nHost: a\r\nExpect: teapot\r\n\r\n");
        assert_eq!(parsed.unwrap_err().status(), 417);
    }

    #[test]
    fn space_before_colon_rejected() {
        let parsed = parse("GET / HTTP/1.1\r\nHost : a\r\n\r\n");
        assert_eq!(parsed.unwrap_err().status(), 400);
    }

    #[test]
    fn obsolete_line_folding_rejected() {
        let parsed = parse("GET / HTTP/1.1\r\nHost: a\r\nX-A: b\r\n  c\r\n\r\n");
        assert_eq!(parsed.unwrap_err().status(), 400);
    }

    #[test]
    fn header_names_lower_cased() {
        let parsed = parse("GET /a?b=c HTTP/1.1\r\nHost: h\r\nX-Amz-Date: d\r\n\r\n").unwrap();
        assert_eq!(parsed.head.headers[1].name, "x-amz-date");
    }

    #[test]
    fn path_and_query_split() {
        let parsed = parse("GET /a?b=c HTTP/1.1\r\nHost: h\r\n\r\n").unwrap();
        assert_eq!(
            (parsed.head.path(), parsed.head.query()),
            ("/a", Some("b=c"))
        );
    }

    #[test]
    fn http2_version_unsupported() {
        let parsed = parse("GET / HTTP/2.0\r\nHost: h\r\n\r\n");
        assert_eq!(parsed.unwrap_err().status(), 505);
    }

    #[test]
    fn decimal_parser_rejects_empty() {
        assert_eq!(parse_decimal(b""), None);
    }
}
