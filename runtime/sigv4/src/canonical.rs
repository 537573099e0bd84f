//! The canonical request and string to sign of SigV4, built the way S3 builds them.
//!
//! S3 differs from other AWS services in one place: the canonical URI is the path exactly as
//! the client sent it, with no normalization of `.` or `//` segments and no second round of
//! encoding. Clients sign the path they send, so the server only percent-encodes bytes that
//! arrived unencoded and are outside the RFC 3986 unreserved set.

use std::fmt::Write as _;

use aws_lc_rs::digest;
use percent_encoding::percent_decode;

use crate::request::SignedRequest;

/// Name of the SigV4 algorithm, the first line of the string to sign.
pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";

/// Returns whether `byte` is in the RFC 3986 unreserved set `A-Za-z0-9-._~`.
fn is_unreserved(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~')
}

fn push_escaped(out: &mut String, byte: u8) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    out.push('%');
    out.push(char::from(HEX[usize::from(byte >> 4)]));
    out.push(char::from(HEX[usize::from(byte & 0x0f)]));
}

/// Percent-encodes every byte outside the unreserved set, with upper-case hex digits.
pub fn uri_encode_into(out: &mut String, bytes: &[u8]) {
    for &byte in bytes {
        if is_unreserved(byte) {
            out.push(char::from(byte));
        } else {
            push_escaped(out, byte);
        }
    }
}

/// Builds the canonical URI from the raw path: bytes in the unreserved set, `/` and valid
/// `%XX` escapes stay as sent, and every other byte is percent-encoded. An empty path is `/`.
pub fn canonical_uri(raw_path: &str) -> String {
    let bytes = raw_path.as_bytes();
    if bytes.is_empty() {
        return "/".to_owned();
    }
    let mut out = String::with_capacity(bytes.len() + bytes.len() / 4);
    let mut index = 0;
    while index < bytes.len() {
        let byte = bytes[index];
        let is_escape = byte == b'%'
            && bytes.get(index + 1).is_some_and(u8::is_ascii_hexdigit)
            && bytes.get(index + 2).is_some_and(u8::is_ascii_hexdigit);
        if is_escape {
            out.push_str(&raw_path[index..index + 3]);
            index += 3;
            continue;
        }
        if is_unreserved(byte) || byte == b'/' {
            out.push(char::from(byte));
        } else {
            push_escaped(&mut out, byte);
        }
        index += 1;
    }
    out
}

/// Builds the canonical query: each name and value percent-decoded and then encoded with
/// [`uri_encode_into`], sorted by encoded name and then by encoded value, and joined by `&`.
///
/// A parameter without `=` gets an empty value (`acl` becomes `acl=`). A `+` is a literal plus
/// sign, as in RFC 3986, not a space. When `exclude_signature` is set, `X-Amz-Signature` is
/// left out, as a presigned URL's signature cannot sign itself.
pub fn canonical_query(raw_query: &str, exclude_signature: bool) -> String {
    let mut pairs: Vec<(String, String)> = Vec::new();
    for parameter in raw_query
        .split('&')
        .filter(|parameter| !parameter.is_empty())
    {
        let (name, value) = parameter.split_once('=').unwrap_or((parameter, ""));
        let name_bytes: Vec<u8> = percent_decode(name.as_bytes()).collect();
        if exclude_signature && name_bytes == b"X-Amz-Signature" {
            continue;
        }
        let value_bytes: Vec<u8> = percent_decode(value.as_bytes()).collect();
        let mut encoded_name = String::with_capacity(name.len());
        uri_encode_into(&mut encoded_name, &name_bytes);
        let mut encoded_value = String::with_capacity(value.len());
        uri_encode_into(&mut encoded_value, &value_bytes);
        pairs.push((encoded_name, encoded_value));
    }
    pairs.sort_unstable();

    let mut out = String::with_capacity(raw_query.len() + pairs.len());
    for (index, (name, value)) in pairs.iter().enumerate() {
        if index > 0 {
            out.push('&');
        }
        out.push_str(name);
        out.push('=');
        out.push_str(value);
    }
    out
}

/// Appends a header value with leading and trailing whitespace removed and every inner run of
/// spaces collapsed to one space, as SigV4's canonical headers require.
fn push_trimmed_value(out: &mut String, value: &str) {
    let mut previous_space = false;
    for character in value.trim_matches([' ', '\t']).chars() {
        if character == ' ' {
            if !previous_space {
                out.push(' ');
            }
            previous_space = true;
        } else {
            out.push(character);
            previous_space = false;
        }
    }
}

/// Builds the canonical request. `signed_headers` are lower-cased names in the order of the
/// signed-header list, and `payload_hash` is the last line.
///
/// A name that repeats in the request gets its values joined by `,` in the order received.
/// A signed name that is absent gets an empty value, so its signature can never match a
/// signature made over a present header.
pub fn canonical_request(
    request: &SignedRequest<'_>,
    signed_headers: &[String],
    exclude_signature: bool,
    payload_hash: &str,
) -> String {
    let mut out = String::with_capacity(256 + request.raw_path.len() + request.raw_query.len());
    out.push_str(request.method);
    out.push('\n');
    out.push_str(&canonical_uri(request.raw_path));
    out.push('\n');
    out.push_str(&canonical_query(request.raw_query, exclude_signature));
    out.push('\n');
    for name in signed_headers {
        out.push_str(name);
        out.push(':');
        for (index, value) in request.header_values(name).enumerate() {
            if index > 0 {
                out.push(',');
            }
            push_trimmed_value(&mut out, value);
        }
        out.push('\n');
    }
    out.push('\n');
    for (index, name) in signed_headers.iter().enumerate() {
        if index > 0 {
            out.push(';');
        }
        out.push_str(name);
    }
    out.push('\n');
    out.push_str(payload_hash);
    out
}

/// Builds the string to sign from the request time, the credential scope and the canonical
/// request.
pub fn string_to_sign(amz_date: &str, scope: &str, canonical_request: &str) -> String {
    let hash = digest::digest(&digest::SHA256, canonical_request.as_bytes());
    let mut out = String::with_capacity(ALGORITHM.len() + amz_date.len() + scope.len() + 68);
    // Writing to a String cannot fail.
    let _ = write!(
        out,
        "{ALGORITHM}\n{amz_date}\n{scope}\n{}",
        hex::encode(hash.as_ref())
    );
    out
}

/// Formats a credential scope `date/region/service/aws4_request`.
pub fn credential_scope(date: &str, region: &str, service: &str) -> String {
    format!("{date}/{region}/{service}/aws4_request")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uri_keeps_path_as_sent() {
        assert_eq!(canonical_uri("/a//b/./c/../d"), "/a//b/./c/../d");
        assert_eq!(canonical_uri("/key%2Fwith%2fslash"), "/key%2Fwith%2fslash");
        assert_eq!(canonical_uri("/%41"), "/%41");
    }

    #[test]
    fn uri_encodes_unencoded_bytes() {
        assert_eq!(canonical_uri("/test$file.text"), "/test%24file.text");
        assert_eq!(canonical_uri("/a b+c"), "/a%20b%2Bc");
        assert_eq!(canonical_uri("/caf\u{e9}"), "/caf%C3%A9");
        assert_eq!(canonical_uri("/100%"), "/100%25");
        assert_eq!(canonical_uri("/%zz"), "/%25zz");
        assert_eq!(canonical_uri(""), "/");
    }

    #[test]
    fn query_sorts_and_encodes() {
        assert_eq!(
            canonical_query("prefix=J&max-keys=2", false),
            "max-keys=2&prefix=J"
        );
        assert_eq!(canonical_query("lifecycle", false), "lifecycle=");
        assert_eq!(canonical_query("a=1&a=0&b", false), "a=0&a=1&b=");
        assert_eq!(canonical_query("", false), "");
        assert_eq!(canonical_query("&&x=1&", false), "x=1");
    }

    #[test]
    fn query_decodes_then_reencodes() {
        assert_eq!(canonical_query("k=a%2fb", false), "k=a%2Fb");
        assert_eq!(canonical_query("k=%7e%41", false), "k=~A");
        assert_eq!(canonical_query("k=a b", false), "k=a%20b");
        assert_eq!(canonical_query("k=a+b", false), "k=a%2Bb");
        assert_eq!(canonical_query("k=%zz", false), "k=%25zz");
    }

    #[test]
    fn query_excludes_presigned_signature() {
        let query = "X-Amz-Signature=abc&X-Amz-Date=1";
        assert_eq!(canonical_query(query, true), "X-Amz-Date=1");
        assert_eq!(
            canonical_query(query, false),
            "X-Amz-Date=1&X-Amz-Signature=abc"
        );
    }

    #[test]
    fn header_values_trimmed_collapsed_joined() {
        let headers = [
            ("Host", "example"),
            ("X-Multi", "  a   b  "),
            ("x-multi", "c"),
        ];
        let request = SignedRequest::from_target("GET", "/", &headers);
        let names = vec!["host".to_owned(), "x-multi".to_owned()];
        let canonical = canonical_request(&request, &names, false, "UNSIGNED-PAYLOAD");
        assert_eq!(
            canonical,
            "GET\n/\n\nhost:example\nx-multi:a b,c\n\nhost;x-multi\nUNSIGNED-PAYLOAD"
        );
    }
}
