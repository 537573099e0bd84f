//! Tables for `Range` parsing and for conditional request evaluation,
//! including RFC 9110 precedence and copy-source conditions.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ironbucket_s3::{
    ConditionalHeaders, ErrorCode, Method, evaluate_conditions, evaluate_copy_source_conditions,
    parse_copy_source_range, parse_range,
};

#[test]
fn range_table() {
    let size = 1000;
    let cases: &[(&str, Option<(u64, u64)>)] = &[
        ("bytes=0-0", Some((0, 0))),
        ("bytes=0-499", Some((0, 499))),
        ("bytes=500-999", Some((500, 999))),
        ("bytes=500-5000", Some((500, 999))),
        ("bytes=900-", Some((900, 999))),
        ("bytes=0-", Some((0, 999))),
        ("bytes=-1", Some((999, 999))),
        ("bytes=-100", Some((900, 999))),
        ("bytes=-5000", Some((0, 999))),
        ("Bytes=1-2", Some((1, 2))),
        (" bytes = 1 - 2 ", Some((1, 2))),
        // Ignored headers: the whole object is served.
        ("bytes=0-1,5-6", None),
        ("bytes=5-1", None),
        ("bytes=abc", None),
        ("bytes=-", None),
        ("bytes=", None),
        ("items=0-1", None),
        ("0-1", None),
        ("bytes=+1-2", None),
        ("bytes=1-2-3", None),
        ("bytes=99999999999999999999999-", None),
    ];
    for (header, expected) in cases {
        let parsed = parse_range(header, size).unwrap_or_else(|error| panic!("{header}: {error}"));
        assert_eq!(parsed, *expected, "{header}");
    }
}

#[test]
fn unsatisfiable_ranges_are_416() {
    let cases: &[(&str, u64)] = &[
        ("bytes=1000-", 1000),
        ("bytes=1000-2000", 1000),
        ("bytes=-0", 1000),
        ("bytes=0-", 0),
        ("bytes=0-0", 0),
        ("bytes=-5", 0),
    ];
    for (header, size) in cases {
        let error = parse_range(header, *size).expect_err("unsatisfiable");
        assert_eq!(
            error.code,
            ErrorCode::InvalidRange,
            "{header} on {size} bytes"
        );
        assert_eq!(error.http_status(), 416, "{header} on {size} bytes");
    }
}

#[test]
fn copy_source_range_requires_both_ends() {
    assert_eq!(
        parse_copy_source_range("bytes=0-9", 10).expect("valid"),
        (0, 9)
    );
    for header in ["bytes=0-", "bytes=-5", "bytes=5-1", "junk"] {
        let error = parse_copy_source_range(header, 10).expect_err("invalid");
        assert_eq!(error.code, ErrorCode::InvalidArgument, "{header}");
    }
}

#[test]
fn copy_source_range_past_end() {
    let error = parse_copy_source_range("bytes=0-10", 10).expect_err("past the end");
    assert_eq!(error.code, ErrorCode::InvalidRange);
}

const ETAG: &str = "\"abc123\"";

/// Tue, 02 Jan 2024 03:04:05 GMT plus 678 ms.
fn modified() -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(1_704_164_645_678)
}

const BEFORE: &str = "Tue, 02 Jan 2024 03:04:04 GMT";
const SAME: &str = "Tue, 02 Jan 2024 03:04:05 GMT";
const AFTER: &str = "Tue, 02 Jan 2024 03:04:06 GMT";

fn outcome(headers: ConditionalHeaders<'_>, method: Method) -> Option<ErrorCode> {
    evaluate_conditions(&headers, ETAG, modified(), method)
        .err()
        .map(|error| error.code)
}

fn if_match(value: &str) -> ConditionalHeaders<'_> {
    ConditionalHeaders {
        if_match: Some(value),
        ..Default::default()
    }
}

fn if_none_match(value: &str) -> ConditionalHeaders<'_> {
    ConditionalHeaders {
        if_none_match: Some(value),
        ..Default::default()
    }
}

#[test]
fn no_conditions_pass() {
    assert_eq!(outcome(ConditionalHeaders::default(), Method::Get), None);
}

#[test]
fn if_match_table() {
    let cases: &[(&str, Option<ErrorCode>)] = &[
        ("\"abc123\"", None),
        ("abc123", None),
        ("*", None),
        ("\"other\", \"abc123\"", None),
        ("\"x,y\", \"abc123\"", None),
        ("\"other\"", Some(ErrorCode::PreconditionFailed)),
        ("W/\"abc123\"", Some(ErrorCode::PreconditionFailed)),
        ("\"abc\"", Some(ErrorCode::PreconditionFailed)),
        ("", Some(ErrorCode::PreconditionFailed)),
    ];
    for (value, expected) in cases {
        assert_eq!(
            outcome(if_match(value), Method::Get),
            *expected,
            "If-Match: {value}"
        );
    }
}

#[test]
fn if_none_match_table() {
    let cases: &[(&str, Method, Option<ErrorCode>)] = &[
        ("\"abc123\"", Method::Get, Some(ErrorCode::NotModified)),
        ("\"abc123\"", Method::Head, Some(ErrorCode::NotModified)),
        ("W/\"abc123\"", Method::Get, Some(ErrorCode::NotModified)),
        ("*", Method::Get, Some(ErrorCode::NotModified)),
        (
            "\"a\", \"abc123\"",
            Method::Get,
            Some(ErrorCode::NotModified),
        ),
        ("\"other\"", Method::Get, None),
        ("*", Method::Put, Some(ErrorCode::PreconditionFailed)),
        (
            "\"abc123\"",
            Method::Delete,
            Some(ErrorCode::PreconditionFailed),
        ),
        ("\"other\"", Method::Put, None),
    ];
    for (value, method, expected) in cases {
        assert_eq!(
            outcome(if_none_match(value), *method),
            *expected,
            "If-None-Match: {value} {method:?}"
        );
    }
}

#[test]
fn modified_since_table() {
    let cases: &[(&str, Method, Option<ErrorCode>)] = &[
        (BEFORE, Method::Get, None),
        (SAME, Method::Get, Some(ErrorCode::NotModified)),
        (AFTER, Method::Head, Some(ErrorCode::NotModified)),
        (SAME, Method::Put, None),
        ("not a date", Method::Get, None),
        (
            "Tuesday, 02-Jan-24 03:04:05 GMT",
            Method::Get,
            Some(ErrorCode::NotModified),
        ),
        (
            "Tue Jan  2 03:04:05 2024",
            Method::Get,
            Some(ErrorCode::NotModified),
        ),
    ];
    for (date, method, expected) in cases {
        let headers = ConditionalHeaders {
            if_modified_since: Some(date),
            ..Default::default()
        };
        assert_eq!(
            outcome(headers, *method),
            *expected,
            "If-Modified-Since: {date} {method:?}"
        );
    }
}

#[test]
fn unmodified_since_table() {
    let cases: &[(&str, Option<ErrorCode>)] = &[
        (BEFORE, Some(ErrorCode::PreconditionFailed)),
        (SAME, None),
        (AFTER, None),
        ("garbage", None),
    ];
    for (date, expected) in cases {
        let headers = ConditionalHeaders {
            if_unmodified_since: Some(date),
            ..Default::default()
        };
        assert_eq!(
            outcome(headers, Method::Get),
            *expected,
            "If-Unmodified-Since: {date}"
        );
    }
}

#[test]
fn if_match_beats_unmodified_since() {
    let headers = ConditionalHeaders {
        if_match: Some(ETAG),
        if_unmodified_since: Some(BEFORE),
        ..Default::default()
    };
    assert_eq!(outcome(headers, Method::Get), None);
}

#[test]
fn if_none_match_beats_modified_since() {
    // The ETag differs, so If-None-Match passes, and If-Modified-Since, which
    // would return 304, is not evaluated.
    let headers = ConditionalHeaders {
        if_none_match: Some("\"other\""),
        if_modified_since: Some(AFTER),
        ..Default::default()
    };
    assert_eq!(outcome(headers, Method::Get), None);
}

#[test]
fn failed_if_match_precedes_not_modified() {
    let headers = ConditionalHeaders {
        if_match: Some("\"other\""),
        if_none_match: Some(ETAG),
        ..Default::default()
    };
    assert_eq!(
        outcome(headers, Method::Get),
        Some(ErrorCode::PreconditionFailed)
    );
}

#[test]
fn precondition_names_the_condition() {
    let error =
        evaluate_conditions(&if_match("\"x\""), ETAG, modified(), Method::Get).expect_err("fails");
    assert_eq!(error.extra, vec![("Condition", "If-Match".to_owned())]);
}

#[test]
fn headers_collected_without_case() {
    let headers = [
        ("IF-MATCH", "\"a\""),
        ("if-none-match", "\"b\""),
        ("If-Modified-Since", SAME),
        ("if-unmodified-since", AFTER),
        ("x-amz-copy-source-if-match", "\"c\""),
    ];
    let collected = ConditionalHeaders::from_headers(headers);
    assert_eq!(collected.if_match, Some("\"a\""));
    assert_eq!(collected.if_none_match, Some("\"b\""));
    assert_eq!(collected.if_modified_since, Some(SAME));
    assert_eq!(collected.if_unmodified_since, Some(AFTER));
}

#[test]
fn copy_source_headers_collected() {
    let headers = [
        ("If-Match", "\"a\""),
        ("X-Amz-Copy-Source-If-Match", "\"c\""),
        ("x-amz-copy-source-if-modified-since", SAME),
    ];
    let collected = ConditionalHeaders::copy_source_from_headers(headers);
    assert_eq!(collected.if_match, Some("\"c\""));
    assert_eq!(collected.if_modified_since, Some(SAME));
    assert_eq!(collected.if_none_match, None);
}

#[test]
fn copy_source_failures_are_412() {
    let cases = [
        ConditionalHeaders {
            if_match: Some("\"other\""),
            ..Default::default()
        },
        ConditionalHeaders {
            if_none_match: Some(ETAG),
            ..Default::default()
        },
        ConditionalHeaders {
            if_modified_since: Some(AFTER),
            ..Default::default()
        },
        ConditionalHeaders {
            if_unmodified_since: Some(BEFORE),
            ..Default::default()
        },
    ];
    for headers in cases {
        let error = evaluate_copy_source_conditions(&headers, ETAG, modified()).expect_err("fails");
        assert_eq!(error.code, ErrorCode::PreconditionFailed, "{headers:?}");
    }
}

#[test]
fn copy_source_condition_is_named() {
    let headers = ConditionalHeaders {
        if_match: Some("\"other\""),
        ..Default::default()
    };
    let error = evaluate_copy_source_conditions(&headers, ETAG, modified()).expect_err("fails");
    assert_eq!(
        error.extra,
        vec![("Condition", "x-amz-copy-source-If-Match".to_owned())]
    );
}

#[test]
fn copy_source_passing_conditions() {
    let headers = ConditionalHeaders {
        if_match: Some(ETAG),
        if_unmodified_since: Some(BEFORE),
        ..Default::default()
    };
    assert!(evaluate_copy_source_conditions(&headers, ETAG, modified()).is_ok());
}
