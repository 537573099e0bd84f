//! Response and request header helpers: ETag and date formats, user metadata
//! (`x-amz-meta-*`), the standard headers S3 stores with an object, and the
//! `response-*` overrides of `GetObject`.

use std::time::SystemTime;

use time::OffsetDateTime;

use crate::error::{ErrorCode, S3Error};
use crate::route::Query;

/// The largest total size of user metadata, in bytes: S3's 2 KiB limit.
pub const MAX_USER_METADATA_BYTES: usize = 2048;

const USER_METADATA_PREFIX: &str = "x-amz-meta-";

/// Returns an ETag in its quoted header form, `"hex"`. An ETag that is
/// already quoted is returned unchanged.
pub fn format_etag(etag: &str) -> String {
    if etag.len() >= 2 && etag.starts_with('"') && etag.ends_with('"') {
        etag.to_owned()
    } else {
        format!("\"{etag}\"")
    }
}

/// Formats a time as an HTTP date (IMF-fixdate, RFC 9110, section 5.6.7),
/// as in `Last-Modified: Tue, 02 Jan 2024 03:04:05 GMT`.
pub fn format_http_date(time: SystemTime) -> String {
    httpdate::fmt_http_date(time)
}

/// Formats a time as ISO 8601 in UTC with milliseconds, as S3 writes
/// timestamps in XML: `2024-01-02T03:04:05.000Z`.
///
/// Years outside 0000 to 9999 are clamped, because the format has four year digits.
pub fn format_iso8601_millis(time: SystemTime) -> String {
    let mut text = String::with_capacity(24);
    write_iso8601_millis(&mut text, time);
    text
}

/// Appends the [`format_iso8601_millis`] form of `time` to `out` without
/// allocating, for listings of many keys.
pub fn write_iso8601_millis(out: &mut String, time: SystemTime) {
    let datetime = OffsetDateTime::from(time);
    let year = datetime.year().clamp(0, 9999) as u32;
    let mut text = *b"0000-00-00T00:00:00.000Z";
    write_digits(&mut text[0..4], year);
    write_digits(&mut text[5..7], u32::from(u8::from(datetime.month())));
    write_digits(&mut text[8..10], u32::from(datetime.day()));
    write_digits(&mut text[11..13], u32::from(datetime.hour()));
    write_digits(&mut text[14..16], u32::from(datetime.minute()));
    write_digits(&mut text[17..19], u32::from(datetime.second()));
    write_digits(&mut text[20..23], u32::from(datetime.millisecond()));
    // Every byte is an ASCII digit or one of `-T:.Z`.
    out.push_str(std::str::from_utf8(&text).unwrap_or_default());
}

/// Writes `value` as zero-padded decimal digits filling `slot`.
fn write_digits(slot: &mut [u8], mut value: u32) {
    for digit in slot.iter_mut().rev() {
        *digit = b'0' + (value % 10) as u8;
        value /= 10;
    }
}

/// Collects user metadata from request headers.
///
/// Each `x-amz-meta-NAME` header yields `(name, value)` with the prefix
/// removed and the name lower-cased, sorted by name. Repeated headers with
/// the same name are joined with `,`, as HTTP combines field lines (RFC 9110,
/// section 5.3). Errors: a header with an empty name is `InvalidArgument`;
/// names plus values over 2 KiB in total are `MetadataTooLarge`.
// NOTE: S3 documents the 2 KiB limit as the sum of the UTF-8 bytes of "each
// key and value". This counts names without the `x-amz-meta-` prefix, the
// more lenient reading, and whether S3 counts the prefix is unverified.
pub fn collect_user_metadata<'a>(
    headers: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Result<Vec<(String, String)>, S3Error> {
    let mut metadata: Vec<(String, String)> = Vec::new();
    let mut total = 0usize;
    for (name, value) in headers {
        if name.len() < USER_METADATA_PREFIX.len()
            || !name[..USER_METADATA_PREFIX.len()].eq_ignore_ascii_case(USER_METADATA_PREFIX)
        {
            continue;
        }
        let suffix = &name[USER_METADATA_PREFIX.len()..];
        if suffix.is_empty() {
            return Err(S3Error::invalid_argument(
                "A user metadata header must have a name after x-amz-meta-.",
                name,
                value,
            ));
        }
        let value = value.trim();
        // The size is checked before the entry is stored, so a flood of
        // headers cannot grow the vector past the limit.
        total += suffix.len() + value.len();
        if total > MAX_USER_METADATA_BYTES {
            return Err(S3Error::with_message(
                ErrorCode::MetadataTooLarge,
                format!(
                    "Your metadata headers exceed the maximum allowed metadata size of {MAX_USER_METADATA_BYTES} bytes."
                ),
            )
            .extra("MaxSizeAllowed", MAX_USER_METADATA_BYTES.to_string()));
        }
        let suffix = suffix.to_ascii_lowercase();
        match metadata
            .iter_mut()
            .find(|(existing, _)| *existing == suffix)
        {
            Some((_, existing_value)) => {
                existing_value.push(',');
                existing_value.push_str(value);
            }
            None => metadata.push((suffix, value.to_owned())),
        }
    }
    metadata.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(metadata)
}

/// The standard representation headers S3 stores with an object and returns
/// on GET and HEAD.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoredHeaders {
    pub content_type: Option<String>,
    pub content_encoding: Option<String>,
    pub content_disposition: Option<String>,
    pub content_language: Option<String>,
    pub cache_control: Option<String>,
    pub expires: Option<String>,
}

impl StoredHeaders {
    /// Collects the stored headers from request headers, comparing names
    /// without case.
    ///
    /// `aws-chunked` is removed from `Content-Encoding`, because it only
    /// describes how the SDK framed the upload body; S3 does the same, and a
    /// header left empty by the removal is dropped.
    pub fn from_headers<'a>(headers: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        let mut stored = Self::default();
        for (name, value) in headers {
            let slot = if name.eq_ignore_ascii_case("content-type") {
                &mut stored.content_type
            } else if name.eq_ignore_ascii_case("content-encoding") {
                &mut stored.content_encoding
            } else if name.eq_ignore_ascii_case("content-disposition") {
                &mut stored.content_disposition
            } else if name.eq_ignore_ascii_case("content-language") {
                &mut stored.content_language
            } else if name.eq_ignore_ascii_case("cache-control") {
                &mut stored.cache_control
            } else if name.eq_ignore_ascii_case("expires") {
                &mut stored.expires
            } else {
                continue;
            };
            if slot.is_none() {
                *slot = Some(value.trim().to_owned());
            }
        }
        if let Some(encoding) = stored.content_encoding.take() {
            let remaining: Vec<&str> = encoding
                .split(',')
                .map(str::trim)
                .filter(|coding| !coding.is_empty() && !coding.eq_ignore_ascii_case("aws-chunked"))
                .collect();
            if !remaining.is_empty() {
                stored.content_encoding = Some(remaining.join(","));
            }
        }
        stored
    }

    /// Replaces stored values with the `response-*` overrides of a GetObject request.
    pub fn apply_overrides(&mut self, overrides: &ResponseOverrides) {
        let pairs = [
            (&mut self.content_type, &overrides.content_type),
            (&mut self.content_encoding, &overrides.content_encoding),
            (
                &mut self.content_disposition,
                &overrides.content_disposition,
            ),
            (&mut self.content_language, &overrides.content_language),
            (&mut self.cache_control, &overrides.cache_control),
            (&mut self.expires, &overrides.expires),
        ];
        for (stored, replacement) in pairs {
            if let Some(replacement) = replacement {
                *stored = Some(replacement.clone());
            }
        }
    }

    /// Returns the headers that are set, with their canonical names, in a
    /// fixed order.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, &str)> {
        [
            ("Content-Type", &self.content_type),
            ("Content-Encoding", &self.content_encoding),
            ("Content-Disposition", &self.content_disposition),
            ("Content-Language", &self.content_language),
            ("Cache-Control", &self.cache_control),
            ("Expires", &self.expires),
        ]
        .into_iter()
        .filter_map(|(name, value)| value.as_deref().map(|value| (name, value)))
    }
}

/// The `response-*` query parameters of GetObject, which replace stored
/// headers in that one response.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResponseOverrides {
    pub content_type: Option<String>,
    pub content_encoding: Option<String>,
    pub content_disposition: Option<String>,
    pub content_language: Option<String>,
    pub cache_control: Option<String>,
    pub expires: Option<String>,
}

impl ResponseOverrides {
    /// Reads `response-content-type`, `response-content-language`,
    /// `response-expires`, `response-cache-control`,
    /// `response-content-disposition` and `response-content-encoding`.
    ///
    /// A value with a line break is `InvalidArgument`, because it would split
    /// the response header. S3 accepts these parameters only on
    /// authenticated requests; that check is the caller's.
    pub fn from_query(query: &Query) -> Result<Self, S3Error> {
        let read = |name: &str| -> Result<Option<String>, S3Error> {
            match query.get(name) {
                None => Ok(None),
                Some(value) if value.bytes().any(|b| b == b'\r' || b == b'\n' || b == 0) => {
                    Err(S3Error::invalid_argument(
                        "A response header override must not contain control characters.",
                        name,
                        value,
                    ))
                }
                Some(value) => Ok(Some(value.to_owned())),
            }
        };
        Ok(Self {
            content_type: read("response-content-type")?,
            content_encoding: read("response-content-encoding")?,
            content_disposition: read("response-content-disposition")?,
            content_language: read("response-content-language")?,
            cache_control: read("response-cache-control")?,
            expires: read("response-expires")?,
        })
    }

    /// Returns whether no override is present.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}
