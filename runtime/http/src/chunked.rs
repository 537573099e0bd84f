//! Decoder for the chunked transfer coding (RFC 9112 section 7.1): chunk-size
//! lines with extensions, chunk data, and the trailer section, all bounded.
//!
//! The decoder works on the connection's read buffer in place and splits chunk
//! data off it without copying. Line endings must be CRLF; a bare LF is rejected
//! because front-end proxies disagree on it, which is a known smuggling vector.

use bytes::{Buf, Bytes, BytesMut};

use crate::config::Limits;
use crate::error::BodyError;
use crate::request::Header;

/// Maximum significant hex digits of a chunk size, so it fits a `u64`.
const MAX_SIZE_DIGITS: usize = 16;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Expecting a chunk-size line.
    Size,
    /// Inside chunk data, with this many bytes of the chunk left.
    Data(u64),
    /// Expecting the CRLF after chunk data.
    DataEnd,
    /// Expecting trailer fields or the final empty line.
    Trailers,
    /// The body is complete.
    Done,
}

/// One step of decoding.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Step {
    /// More input is needed; at least this many bytes must be buffered in total.
    NeedMore(usize),
    /// Decoded body bytes.
    Data(Bytes),
    /// The last chunk and the trailer section were read.
    Done,
}

/// Incremental chunked decoder.
#[derive(Debug)]
pub(crate) struct ChunkedDecoder {
    state: State,
    max_line: usize,
    max_trailer_bytes: usize,
    max_trailers: usize,
    trailers: Vec<Header>,
}

fn malformed(reason: &'static str) -> BodyError {
    BodyError::MalformedChunked { reason }
}

impl ChunkedDecoder {
    pub(crate) fn new(limits: &Limits) -> ChunkedDecoder {
        ChunkedDecoder {
            state: State::Size,
            max_line: limits.max_chunk_line_bytes,
            max_trailer_bytes: limits.max_trailer_bytes,
            max_trailers: limits.max_headers,
            trailers: Vec::new(),
        }
    }

    /// Returns whether the final chunk and trailers were decoded.
    pub(crate) fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// Returns the trailer fields, complete once [`ChunkedDecoder::is_done`].
    pub(crate) fn trailers(&self) -> &[Header] {
        &self.trailers
    }

    /// Decodes from the front of `buf`, consuming framing and returning at most
    /// `max_data` body bytes. Data is returned only once `min(max_data, rest of
    /// the chunk)` bytes are buffered, so chunks reach the service at full size.
    pub(crate) fn decode(
        &mut self,
        buf: &mut BytesMut,
        max_data: usize,
    ) -> Result<Step, BodyError> {
        loop {
            match self.state {
                State::Size => {
                    let Some(line) = take_line(buf, self.max_line)? else {
                        return Ok(Step::NeedMore(self.max_line.min(buf.len() + 1)));
                    };
                    let size = parse_size_line(&line)?;
                    self.state = if size == 0 {
                        State::Trailers
                    } else {
                        State::Data(size)
                    };
                }
                State::Data(remaining) => {
                    let want = usize::try_from(remaining)
                        .unwrap_or(usize::MAX)
                        .min(max_data);
                    if buf.len() < want {
                        return Ok(Step::NeedMore(want));
                    }
                    let data = buf.split_to(want).freeze();
                    let left = remaining - want as u64;
                    self.state = if left == 0 {
                        State::DataEnd
                    } else {
                        State::Data(left)
                    };
                    return Ok(Step::Data(data));
                }
                State::DataEnd => {
                    if buf.len() < 2 {
                        return Ok(Step::NeedMore(2));
                    }
                    if &buf[..2] != b"\r\n" {
                        return Err(malformed("chunk data not followed by CRLF"));
                    }
                    buf.advance(2);
                    self.state = State::Size;
                }
                State::Trailers => return self.decode_trailers(buf),
                State::Done => return Ok(Step::Done),
            }
        }
    }

    fn decode_trailers(&mut self, buf: &mut BytesMut) -> Result<Step, BodyError> {
        if buf.starts_with(b"\r\n") {
            buf.advance(2);
            self.state = State::Done;
            return Ok(Step::Done);
        }
        if buf.len() < 2 {
            return Ok(Step::NeedMore(2));
        }
        let window = buf.len().min(self.max_trailer_bytes);
        let Some(end) = buf[..window]
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .map(|i| i + 4)
        else {
            if buf.len() >= self.max_trailer_bytes {
                return Err(malformed("trailer section too large"));
            }
            return Ok(Step::NeedMore(self.max_trailer_bytes.min(buf.len() + 1)));
        };
        let raw = buf.split_to(end).freeze();
        let mut slots = vec![httparse::EMPTY_HEADER; self.max_trailers];
        match httparse::parse_headers(&raw, &mut slots) {
            Ok(httparse::Status::Complete((_, fields))) => {
                self.trailers = fields
                    .iter()
                    .map(|field| Header {
                        name: field.name.to_ascii_lowercase(),
                        value: raw.slice_ref(field.value),
                    })
                    .collect();
            }
            Ok(httparse::Status::Partial) => return Err(malformed("incomplete trailer section")),
            Err(httparse::Error::TooManyHeaders) => {
                return Err(malformed("too many trailer fields"));
            }
            Err(_) => return Err(malformed("invalid trailer field")),
        }
        self.state = State::Done;
        Ok(Step::Done)
    }
}

/// Removes one CRLF-terminated line from the front of `buf` and returns it
/// without the CRLF, or `None` if the line is not complete yet.
fn take_line(buf: &mut BytesMut, max_line: usize) -> Result<Option<Bytes>, BodyError> {
    let window = buf.len().min(max_line);
    match buf[..window].iter().position(|&b| b == b'\n') {
        Some(lf) => {
            if lf == 0 || buf[lf - 1] != b'\r' {
                return Err(malformed("chunk-size line not terminated by CRLF"));
            }
            let line = buf.split_to(lf + 1).freeze();
            Ok(Some(line.slice(..lf - 1)))
        }
        None if buf.len() >= max_line => Err(malformed("chunk-size line too long")),
        None => Ok(None),
    }
}

/// Parses `chunk-size [ chunk-ext ]` where
/// `chunk-ext = *( BWS ";" BWS name [ BWS "=" BWS ( token / quoted-string ) ] )`.
fn parse_size_line(line: &[u8]) -> Result<u64, BodyError> {
    let digits = line.iter().take_while(|b| b.is_ascii_hexdigit()).count();
    if digits == 0 {
        return Err(malformed("missing chunk size"));
    }
    let significant = line[..digits].iter().skip_while(|&&b| b == b'0').count();
    if significant > MAX_SIZE_DIGITS {
        return Err(malformed("chunk size too large"));
    }
    let mut size = 0u64;
    for &b in &line[..digits] {
        let digit = (b as char).to_digit(16).unwrap_or(0);
        size = (size << 4) | u64::from(digit);
    }
    parse_extensions(&line[digits..])?;
    Ok(size)
}

fn parse_extensions(mut rest: &[u8]) -> Result<(), BodyError> {
    loop {
        rest = skip_whitespace(rest);
        let Some((&first, after)) = rest.split_first() else {
            return Ok(());
        };
        if first != b';' {
            return Err(malformed("invalid character after chunk size"));
        }
        rest = skip_whitespace(after);
        let name_len = rest.iter().take_while(|&&b| is_tchar(b)).count();
        if name_len == 0 {
            return Err(malformed("empty chunk extension name"));
        }
        rest = skip_whitespace(&rest[name_len..]);
        if let Some(after_equals) = rest.strip_prefix(b"=") {
            rest = skip_whitespace(after_equals);
            rest = skip_extension_value(rest)?;
        }
    }
}

fn skip_extension_value(value: &[u8]) -> Result<&[u8], BodyError> {
    if let Some(mut rest) = value.strip_prefix(b"\"") {
        loop {
            match rest.split_first() {
                None => return Err(malformed("unterminated quoted chunk extension")),
                Some((b'"', after)) => return Ok(after),
                Some((b'\\', after)) => match after.split_first() {
                    Some((&escaped, after))
                        if is_qdtext(escaped) || escaped == b'"' || escaped == b'\\' =>
                    {
                        rest = after;
                    }
                    _ => return Err(malformed("invalid escape in chunk extension")),
                },
                Some((&b, after)) if is_qdtext(b) => rest = after,
                Some(_) => return Err(malformed("invalid character in chunk extension")),
            }
        }
    }
    let token_len = value.iter().take_while(|&&b| is_tchar(b)).count();
    if token_len == 0 {
        return Err(malformed("empty chunk extension value"));
    }
    Ok(&value[token_len..])
}

fn skip_whitespace(value: &[u8]) -> &[u8] {
    let spaces = value
        .iter()
        .take_while(|&&b| b == b' ' || b == b'\t')
        .count();
    &value[spaces..]
}

/// `tchar` from RFC 9110 section 5.6.2.
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// `qdtext` from RFC 9110 section 5.6.4, plus the characters allowed after a backslash.
fn is_qdtext(b: u8) -> bool {
    b == b'\t'
        || b == b' '
        || b == 0x21
        || (0x23..=0x5b).contains(&b)
        || (0x5d..=0x7e).contains(&b)
        || b >= 0x80
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `input` in pieces of `step` bytes and returns the decoded body.
    fn decode_in_steps(input: &[u8], step: usize) -> Result<(Vec<u8>, ChunkedDecoder), BodyError> {
        let mut decoder = ChunkedDecoder::new(&Limits::default());
        let mut buf = BytesMut::new();
        let mut body = Vec::new();
        let mut fed = 0;
        loop {
            match decoder.decode(&mut buf, 1024)? {
                Step::Data(data) => body.extend_from_slice(&data),
                Step::Done => return Ok((body, decoder)),
                Step::NeedMore(_) => {
                    if fed >= input.len() {
                        return Err(malformed("test input ended"));
                    }
                    let end = (fed + step).min(input.len());
                    buf.extend_from_slice(&input[fed..end]);
                    fed = end;
                }
            }
        }
    }

    const SAMPLE: &[u8] = b"5;name=value;q=\"a \\\" b\"\r\nhello\r\n7\r\n, world\r\n0\r\nX-Checksum: abc\r\nX-Other: 1\r\n\r\n";

    #[test]
    fn whole_input_decodes_body() {
        let (body, _) = decode_in_steps(SAMPLE, SAMPLE.len()).unwrap();
        assert_eq!(body, b"hello, world");
    }

    #[test]
    fn every_split_decodes_body() {
        for step in 1..SAMPLE.len() {
            let (body, _) = decode_in_steps(SAMPLE, step).unwrap();
            assert_eq!(body, b"hello, world", "step {step}");
        }
    }

    #[test]
    fn trailers_parsed_in_order() {
        let (_, decoder) = decode_in_steps(SAMPLE, 3).unwrap();
        let names: Vec<&str> = decoder.trailers().iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["x-checksum", "x-other"]);
    }

    #[test]
    fn no_trailers_ends_body() {
        let (body, decoder) = decode_in_steps(b"3\r\nabc\r\n0\r\n\r\n", 1).unwrap();
        assert_eq!((body.as_slice(), decoder.is_done()), (&b"abc"[..], true));
    }

    #[test]
    fn upper_case_hex_size_accepted() {
        let mut input = b"A\r\n".to_vec();
        input.extend_from_slice(b"0123456789\r\n0\r\n\r\n");
        let (body, _) = decode_in_steps(&input, 4).unwrap();
        assert_eq!(body.len(), 10);
    }

    #[test]
    fn bare_lf_size_line_rejected() {
        let error = decode_in_steps(b"3\nabc\r\n0\r\n\r\n", 64).unwrap_err();
        assert!(matches!(error, BodyError::MalformedChunked { .. }));
    }

    #[test]
    fn missing_data_crlf_rejected() {
        let error = decode_in_steps(b"3\r\nabcX0\r\n\r\n", 64).unwrap_err();
        assert!(matches!(error, BodyError::MalformedChunked { .. }));
    }

    #[test]
    fn oversized_chunk_size_rejected() {
        let error = decode_in_steps(b"10000000000000000\r\n", 64).unwrap_err();
        assert!(matches!(error, BodyError::MalformedChunked { .. }));
    }

    #[test]
    fn leading_zeros_in_size_accepted() {
        let (body, _) = decode_in_steps(b"00000000000000000003\r\nabc\r\n0\r\n\r\n", 64).unwrap();
        assert_eq!(body, b"abc");
    }

    #[test]
    fn negative_size_rejected() {
        let error = decode_in_steps(b"-3\r\nabc\r\n0\r\n\r\n", 64).unwrap_err();
        assert!(matches!(error, BodyError::MalformedChunked { .. }));
    }

    #[test]
    fn long_size_line_rejected() {
        let mut input = b"3;".to_vec();
        input.extend(std::iter::repeat_n(b'a', 5000));
        let error = decode_in_steps(&input, 512).unwrap_err();
        assert!(matches!(error, BodyError::MalformedChunked { .. }));
    }

    #[test]
    fn oversized_trailers_rejected() {
        let mut input = b"0\r\nX-A: ".to_vec();
        input.extend(std::iter::repeat_n(b'a', 17 * 1024));
        let error = decode_in_steps(&input, 4096).unwrap_err();
        assert!(matches!(error, BodyError::MalformedChunked { .. }));
    }

    #[test]
    fn control_in_extension_rejected() {
        let error = decode_in_steps(b"3;a=\x01\r\nabc\r\n0\r\n\r\n", 64).unwrap_err();
        assert!(matches!(error, BodyError::MalformedChunked { .. }));
    }

    #[test]
    fn large_chunk_split_at_max() {
        let mut decoder = ChunkedDecoder::new(&Limits::default());
        let mut buf = BytesMut::from(&b"800\r\n"[..]);
        buf.extend(std::iter::repeat_n(b'x', 0x800));
        let step = decoder.decode(&mut buf, 1024).unwrap();
        assert_eq!(step, Step::Data(Bytes::from(vec![b'x'; 1024])));
    }
}
