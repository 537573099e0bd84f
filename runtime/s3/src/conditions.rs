//! Conditional requests: `If-Match`, `If-None-Match`, `If-Modified-Since`,
//! `If-Unmodified-Since`, and their `x-amz-copy-source-if-*` counterparts on
//! copies.
//!
//! Evaluation follows RFC 9110, section 13.2.2. `If-Match` is checked first,
//! and when it is present `If-Unmodified-Since` is ignored. `If-None-Match`
//! is checked next, and when it is present `If-Modified-Since` is ignored.
//! This is the precedence S3 documents for `GetObject` and `CopyObject`. A
//! date that does not parse is ignored, as the RFC requires.

use std::time::{SystemTime, UNIX_EPOCH};

use crate::error::{ErrorCode, S3Error};
use crate::route::Method;

/// The four conditional header values of a request; `None` when absent.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ConditionalHeaders<'a> {
    pub if_match: Option<&'a str>,
    pub if_none_match: Option<&'a str>,
    pub if_modified_since: Option<&'a str>,
    pub if_unmodified_since: Option<&'a str>,
}

impl<'a> ConditionalHeaders<'a> {
    /// Picks `If-Match`, `If-None-Match`, `If-Modified-Since` and
    /// `If-Unmodified-Since` out of the request headers, comparing names
    /// without case. The first occurrence of each wins.
    pub fn from_headers(headers: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        Self::collect(headers, "")
    }

    /// Picks `x-amz-copy-source-if-match` and its three siblings, which apply
    /// to the source object of a copy.
    pub fn copy_source_from_headers(headers: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        Self::collect(headers, "x-amz-copy-source-")
    }

    fn collect(headers: impl IntoIterator<Item = (&'a str, &'a str)>, prefix: &str) -> Self {
        let mut conditions = Self::default();
        for (name, value) in headers {
            if name.len() <= prefix.len() || !name[..prefix.len()].eq_ignore_ascii_case(prefix) {
                continue;
            }
            let slot = match &name[prefix.len()..] {
                suffix if suffix.eq_ignore_ascii_case("if-match") => &mut conditions.if_match,
                suffix if suffix.eq_ignore_ascii_case("if-none-match") => {
                    &mut conditions.if_none_match
                }
                suffix if suffix.eq_ignore_ascii_case("if-modified-since") => {
                    &mut conditions.if_modified_since
                }
                suffix if suffix.eq_ignore_ascii_case("if-unmodified-since") => {
                    &mut conditions.if_unmodified_since
                }
                _ => continue,
            };
            slot.get_or_insert(value);
        }
        conditions
    }

    /// Returns whether any condition is present.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

/// Evaluates the conditional headers of a request on an existing object.
///
/// `etag` may be given with or without its quotes. A failed `If-Match` or
/// `If-Unmodified-Since` is 412 `PreconditionFailed`. A matching
/// `If-None-Match` is 304 `NotModified` for GET and HEAD, and 412 for other
/// methods (such as a PUT with `If-None-Match: *`). A failed
/// `If-Modified-Since` on GET or HEAD is 304. The `Condition` element of a
/// 412 names the header that failed.
pub fn evaluate_conditions(
    headers: &ConditionalHeaders<'_>,
    etag: &str,
    last_modified: SystemTime,
    method: Method,
) -> Result<(), S3Error> {
    let mode = if matches!(method, Method::Get | Method::Head) {
        Mode::Read
    } else {
        Mode::Write
    };
    evaluate(headers, etag, last_modified, mode)
}

/// Evaluates the `x-amz-copy-source-if-*` headers of a copy on its source
/// object. Every failure is 412 `PreconditionFailed`, because S3 never
/// returns 304 for a copy.
pub fn evaluate_copy_source_conditions(
    headers: &ConditionalHeaders<'_>,
    etag: &str,
    last_modified: SystemTime,
) -> Result<(), S3Error> {
    evaluate(headers, etag, last_modified, Mode::CopySource)
}

/// Header names used in the `Condition` element of a 412 response.
struct ConditionNames {
    if_match: &'static str,
    if_none_match: &'static str,
    if_modified_since: &'static str,
    if_unmodified_since: &'static str,
}

const HEADER_NAMES: ConditionNames = ConditionNames {
    if_match: "If-Match",
    if_none_match: "If-None-Match",
    if_modified_since: "If-Modified-Since",
    if_unmodified_since: "If-Unmodified-Since",
};

const COPY_SOURCE_HEADER_NAMES: ConditionNames = ConditionNames {
    if_match: "x-amz-copy-source-If-Match",
    if_none_match: "x-amz-copy-source-If-None-Match",
    if_modified_since: "x-amz-copy-source-If-Modified-Since",
    if_unmodified_since: "x-amz-copy-source-If-Unmodified-Since",
};

/// The use a request makes of the object its conditions are evaluated on.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// GET or HEAD: a matching `If-None-Match` or an unmodified object is 304.
    Read,
    /// Any other method: a matching `If-None-Match` is 412 and
    /// `If-Modified-Since` does not apply (RFC 9110, section 13.1.3).
    Write,
    /// The source of a copy: every failure is 412.
    CopySource,
}

fn evaluate(
    headers: &ConditionalHeaders<'_>,
    etag: &str,
    last_modified: SystemTime,
    mode: Mode,
) -> Result<(), S3Error> {
    let names = if mode == Mode::CopySource {
        &COPY_SOURCE_HEADER_NAMES
    } else {
        &HEADER_NAMES
    };
    let etag = strip_quotes(etag.trim());
    let modified_seconds = unix_seconds(last_modified);

    if let Some(if_match) = headers.if_match {
        if !etag_list_matches(if_match, etag, Comparison::Strong) {
            return Err(precondition_failed(names.if_match));
        }
    } else if let Some(since) = headers.if_unmodified_since.and_then(parse_date)
        && modified_seconds > since
    {
        return Err(precondition_failed(names.if_unmodified_since));
    }

    if let Some(if_none_match) = headers.if_none_match {
        if etag_list_matches(if_none_match, etag, Comparison::Weak) {
            return Err(match mode {
                Mode::Read => S3Error::new(ErrorCode::NotModified),
                Mode::Write | Mode::CopySource => precondition_failed(names.if_none_match),
            });
        }
    } else if let Some(since) = headers.if_modified_since.and_then(parse_date)
        && modified_seconds <= since
    {
        match mode {
            Mode::Read => return Err(S3Error::new(ErrorCode::NotModified)),
            Mode::CopySource => return Err(precondition_failed(names.if_modified_since)),
            Mode::Write => {}
        }
    }
    Ok(())
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Comparison {
    Strong,
    Weak,
}

/// Returns whether an `If-Match` or `If-None-Match` value matches `etag`
/// (given without quotes).
///
/// The value is `*` or a comma-separated list of entity tags. Unquoted tags,
/// which some clients send, are compared as if they were quoted. With the
/// strong comparison a weak tag (`W/"..."`) never matches; the weak one
/// ignores the `W/` prefix. The object's own ETag is always strong.
fn etag_list_matches(value: &str, etag: &str, comparison: Comparison) -> bool {
    if value.trim() == "*" {
        return true;
    }
    let mut rest = value;
    loop {
        rest = rest.trim_start_matches(|c: char| c == ',' || c.is_ascii_whitespace());
        if rest.is_empty() {
            return false;
        }
        let weak = rest.starts_with("W/");
        if weak {
            rest = &rest[2..];
        }
        let candidate;
        if let Some(quoted) = rest.strip_prefix('"') {
            // Commas are legal inside a quoted entity tag, so the tag ends at
            // the closing quote, not at the next comma.
            let end = quoted.find('"').unwrap_or(quoted.len());
            candidate = &quoted[..end];
            rest = quoted.get(end + 1..).unwrap_or("");
        } else {
            let end = rest.find(',').unwrap_or(rest.len());
            candidate = rest[..end].trim();
            rest = &rest[end..];
        }
        let usable = comparison == Comparison::Weak || !weak;
        if usable && (candidate == etag || candidate == "*") {
            return true;
        }
    }
}

fn strip_quotes(etag: &str) -> &str {
    let etag = etag.strip_prefix("W/").unwrap_or(etag);
    etag.strip_prefix('"')
        .and_then(|inner| inner.strip_suffix('"'))
        .unwrap_or(etag)
}

/// Parses an HTTP date (IMF-fixdate, RFC 850 or asctime) into Unix seconds.
fn parse_date(value: &str) -> Option<u64> {
    httpdate::parse_http_date(value.trim())
        .ok()
        .map(unix_seconds)
}

/// HTTP dates have one-second resolution, so comparisons drop sub-second parts.
fn unix_seconds(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs())
}

fn precondition_failed(condition: &'static str) -> S3Error {
    S3Error::new(ErrorCode::PreconditionFailed).extra("Condition", condition)
}
