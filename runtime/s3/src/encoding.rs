//! Percent-decoding of request paths and query strings, and the URL encoding
//! S3 applies to listing values under `encoding-type=url`.
//!
//! The two decoders differ on purpose. In a path, `+` is a literal plus sign,
//! as S3 reads it. In a query string, `+` is a space, as in HTML form
//! encoding. The AWS SDKs always percent-encode both, so only hand-written
//! URLs see the difference.

use std::borrow::Cow;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use crate::error::{ErrorCode, S3Error};

/// Characters that `encoding-type=url` leaves as they are: the RFC 3986
/// unreserved set plus `/`. Every other byte of the UTF-8 encoding becomes
/// `%XX`, including space (`%20`) and `+` (`%2B`), which every URL decoder
/// the SDKs use (form-style or not) reads back to the original key.
const LISTING_VALUE_ENCODE_SET: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b'/');

/// URL-encodes a key, prefix, delimiter or marker for a listing response
/// requested with `encoding-type=url`.
pub fn url_encode_listing_value(value: &str) -> Cow<'_, str> {
    utf8_percent_encode(value, LISTING_VALUE_ENCODE_SET).into()
}

/// Percent-decodes one path segment sequence (a bucket name or an object key).
///
/// `+` stays `+`. A `%` that is not followed by two hexadecimal digits, or a
/// result that is not UTF-8, is an `InvalidURI` error.
pub fn decode_path(raw: &str) -> Result<Cow<'_, str>, S3Error> {
    decode(raw, false)
}

/// Percent-decodes one query-string name or value, reading `+` as a space.
///
/// A malformed escape or a result that is not UTF-8 is an `InvalidURI` error.
pub fn decode_query_component(raw: &str) -> Result<Cow<'_, str>, S3Error> {
    decode(raw, true)
}

fn decode(raw: &str, plus_is_space: bool) -> Result<Cow<'_, str>, S3Error> {
    let needs_decoding = |byte: &u8| *byte == b'%' || (plus_is_space && *byte == b'+');
    if !raw.as_bytes().iter().any(needs_decoding) {
        return Ok(Cow::Borrowed(raw));
    }
    // Decoding never makes the text longer, so the raw length bounds the allocation.
    let mut decoded = Vec::with_capacity(raw.len());
    let bytes = raw.as_bytes();
    let mut index = 0;
    while index < bytes.len() {
        match bytes[index] {
            b'%' => {
                let high = bytes.get(index + 1).and_then(|byte| hex_value(*byte));
                let low = bytes.get(index + 2).and_then(|byte| hex_value(*byte));
                let (Some(high), Some(low)) = (high, low) else {
                    return Err(invalid_uri("the URI contains a malformed percent-encoding"));
                };
                decoded.push(high << 4 | low);
                index += 3;
            }
            b'+' if plus_is_space => {
                decoded.push(b' ');
                index += 1;
            }
            byte => {
                decoded.push(byte);
                index += 1;
            }
        }
    }
    String::from_utf8(decoded)
        .map(Cow::Owned)
        .map_err(|_| invalid_uri("the URI does not decode to valid UTF-8"))
}

fn hex_value(byte: u8) -> Option<u8> {
    match byte {
        b'0'..=b'9' => Some(byte - b'0'),
        b'a'..=b'f' => Some(byte - b'a' + 10),
        b'A'..=b'F' => Some(byte - b'A' + 10),
        _ => None,
    }
}

fn invalid_uri(detail: &str) -> S3Error {
    S3Error::with_message(
        ErrorCode::InvalidURI,
        format!("Couldn't parse the specified URI: {detail}."),
    )
}
