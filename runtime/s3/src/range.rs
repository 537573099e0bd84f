//! The `Range` header of `GetObject` and `HeadObject`, and the
//! `x-amz-copy-source-range` header of `UploadPartCopy`.
//!
//! S3 serves one byte range per request. Following RFC 9110, section 14.2, a
//! `Range` header that does not parse, that uses another unit, or that
//! requests several ranges is ignored, and the whole object is served with 200.
//! S3 documents that it does not support multiple ranges in one GET, and a
//! 2023 capture in the awslabs/aws-c-s3 repository shows it returning the
//! whole object with 200 for `bytes=0-499,500-502`. A range that parses but
//! selects no byte of the object is 416 `InvalidRange`.

use crate::error::{ErrorCode, S3Error};

/// Parses a `Range` header against an object of `object_size` bytes.
///
/// Returns `Ok(Some((start, end)))` with an inclusive end clamped to
/// `object_size - 1`, or `Ok(None)` when the header is to be ignored. The
/// response to `Some` is 206 with `Content-Range` even when the range covers
/// the whole object, as S3 does for `bytes=0-`. An
/// unsatisfiable range is `InvalidRange`: a start at or past the end, a
/// suffix of zero bytes, or any range of an empty object.
pub fn parse_range(header: &str, object_size: u64) -> Result<Option<(u64, u64)>, S3Error> {
    let Some(spec) = parse_single_range(header) else {
        return Ok(None);
    };
    let satisfiable = match spec {
        RangeSpec::FromTo(start, end) => {
            (start < object_size).then(|| (start, end.min(object_size - 1)))
        }
        RangeSpec::From(start) => (start < object_size).then(|| (start, object_size - 1)),
        RangeSpec::Suffix(length) => (length > 0 && object_size > 0)
            .then(|| (object_size - length.min(object_size), object_size - 1)),
    };
    satisfiable
        .map(Some)
        .ok_or_else(|| unsatisfiable(header, object_size))
}

/// Parses `x-amz-copy-source-range` (`bytes=first-last`) against a source of
/// `object_size` bytes.
///
/// Unlike `Range`, S3 requires both ends and rejects a malformed value with
/// `InvalidArgument`; a range past the end of the source is `InvalidRange`.
pub fn parse_copy_source_range(header: &str, object_size: u64) -> Result<(u64, u64), S3Error> {
    let invalid = || {
        S3Error::invalid_argument(
            "The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy",
            "x-amz-copy-source-range",
            header,
        )
    };
    match parse_single_range(header) {
        Some(RangeSpec::FromTo(start, end)) => {
            if end >= object_size {
                Err(unsatisfiable(header, object_size))
            } else {
                Ok((start, end))
            }
        }
        _ => Err(invalid()),
    }
}

enum RangeSpec {
    /// `bytes=a-b`, with `a <= b`.
    FromTo(u64, u64),
    /// `bytes=a-`.
    From(u64),
    /// `bytes=-n`.
    Suffix(u64),
}

/// Parses a header holding exactly one byte range, or returns `None`.
fn parse_single_range(header: &str) -> Option<RangeSpec> {
    let header = header.trim();
    let (unit, set) = header.split_once('=')?;
    // Range units are case-insensitive (RFC 9110, section 14.1).
    if !unit.trim().eq_ignore_ascii_case("bytes") {
        return None;
    }
    let set = set.trim();
    if set.contains(',') {
        return None;
    }
    let (first, last) = set.split_once('-')?;
    let (first, last) = (first.trim(), last.trim());
    match (first.is_empty(), last.is_empty()) {
        (false, false) => {
            let (start, end) = (parse_offset(first)?, parse_offset(last)?);
            (start <= end).then_some(RangeSpec::FromTo(start, end))
        }
        (false, true) => Some(RangeSpec::From(parse_offset(first)?)),
        (true, false) => Some(RangeSpec::Suffix(parse_offset(last)?)),
        (true, true) => None,
    }
}

fn parse_offset(digits: &str) -> Option<u64> {
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

fn unsatisfiable(header: &str, object_size: u64) -> S3Error {
    S3Error::new(ErrorCode::InvalidRange)
        .extra("RangeRequested", header.trim())
        .extra("ActualObjectSize", object_size.to_string())
}
