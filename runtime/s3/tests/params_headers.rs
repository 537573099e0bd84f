//! Tests for shared request parameters (listing, part numbers, copy source,
//! metadata directive, ACLs, version ids) and for header helpers.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ironbucket_s3::headers::{
    MAX_USER_METADATA_BYTES, ResponseOverrides, StoredHeaders, collect_user_metadata, format_etag,
    format_http_date, format_iso8601_millis,
};
use ironbucket_s3::params::{
    EncodingType, MetadataDirective, check_acl_headers, check_version_id, parse_copy_source,
    parse_list_buckets_params, parse_list_params, parse_list_parts_params,
    parse_metadata_directive, parse_part_number,
};
use ironbucket_s3::{ErrorCode, Query};

fn query(raw: &str) -> Query {
    Query::parse(raw).expect("the query parses")
}

#[test]
fn list_params_defaults() {
    let params = parse_list_params(&query("list-type=2")).expect("parses");
    assert_eq!(params.max_keys, 1000);
    assert_eq!(params.prefix, "");
    assert_eq!(params.delimiter, None);
    assert_eq!(params.encoding_type, None);
    assert!(!params.fetch_owner);
}

#[test]
fn list_params_all_fields() {
    let raw = "prefix=a%2Fb&delimiter=%2F&max-keys=7&continuation-token=t&start-after=s&marker=m\
&key-marker=k&version-id-marker=v&upload-id-marker=u&encoding-type=url&fetch-owner=true";
    let params = parse_list_params(&query(raw)).expect("parses");
    assert_eq!(params.prefix, "a/b");
    assert_eq!(params.delimiter.as_deref(), Some("/"));
    assert_eq!(params.max_keys, 7);
    assert_eq!(params.continuation_token.as_deref(), Some("t"));
    assert_eq!(params.start_after.as_deref(), Some("s"));
    assert_eq!(params.marker.as_deref(), Some("m"));
    assert_eq!(params.key_marker.as_deref(), Some("k"));
    assert_eq!(params.version_id_marker.as_deref(), Some("v"));
    assert_eq!(params.upload_id_marker.as_deref(), Some("u"));
    assert_eq!(params.encoding_type, Some(EncodingType::Url));
    assert!(params.fetch_owner);
    assert!(params.url_encode());
}

#[test]
fn max_keys_table() {
    let cases: &[(&str, Result<u32, ErrorCode>)] = &[
        ("max-keys=0", Ok(0)),
        ("max-keys=1000", Ok(1000)),
        ("max-keys=1001", Ok(1000)),
        ("max-keys=99999999999999", Ok(1000)),
        ("max-uploads=5", Ok(5)),
        ("max-keys=-1", Err(ErrorCode::InvalidArgument)),
        ("max-keys=abc", Err(ErrorCode::InvalidArgument)),
        ("max-keys=", Err(ErrorCode::InvalidArgument)),
        ("max-keys=1.5", Err(ErrorCode::InvalidArgument)),
        ("max-keys=%2B5", Err(ErrorCode::InvalidArgument)),
    ];
    for (raw, expected) in cases {
        let parsed = parse_list_params(&query(raw))
            .map(|params| params.max_keys)
            .map_err(|error| error.code);
        assert_eq!(parsed, *expected, "{raw}");
    }
}

#[test]
fn invalid_list_arguments_rejected() {
    for raw in [
        "encoding-type=base64",
        "fetch-owner=maybe",
        "continuation-token=",
    ] {
        let error = parse_list_params(&query(raw)).expect_err("rejected");
        assert_eq!(error.code, ErrorCode::InvalidArgument, "{raw}");
    }
}

#[test]
fn list_parts_params_parse() {
    let params =
        parse_list_parts_params(&query("max-parts=2&part-number-marker=3")).expect("parses");
    assert_eq!(params.max_parts, 2);
    assert_eq!(params.part_number_marker, 3);
    let error = parse_list_parts_params(&query("part-number-marker=x")).expect_err("rejected");
    assert_eq!(error.code, ErrorCode::InvalidArgument);
}

#[test]
fn list_buckets_params_parse() {
    let params =
        parse_list_buckets_params(&query("prefix=logs-&continuation-token=t&max-buckets=10"))
            .expect("parses");
    assert_eq!(params.prefix.as_deref(), Some("logs-"));
    assert_eq!(params.continuation_token.as_deref(), Some("t"));
    assert_eq!(params.max_buckets, Some(10));
}

#[test]
fn list_buckets_params_default() {
    let params = parse_list_buckets_params(&query("x-id=ListBuckets")).expect("parses");
    assert_eq!(params, Default::default());
}

#[test]
fn max_buckets_out_of_range() {
    for raw in [
        "max-buckets=0",
        "max-buckets=10001",
        "max-buckets=ten",
        "continuation-token=",
    ] {
        let error = parse_list_buckets_params(&query(raw)).expect_err("rejected");
        assert_eq!(error.code, ErrorCode::InvalidArgument, "{raw}");
    }
}

#[test]
fn part_number_table() {
    let cases: &[(&str, Option<u16>)] = &[
        ("1", Some(1)),
        ("10000", Some(10000)),
        ("0", None),
        ("10001", None),
        ("-1", None),
        ("+1", None),
        ("", None),
        ("one", None),
        ("99999999999", None),
    ];
    for (value, expected) in cases {
        assert_eq!(parse_part_number(value).ok(), *expected, "{value:?}");
    }
}

#[test]
fn copy_source_forms() {
    let cases: &[(&str, &str, &str)] = &[
        ("src-bucket/key", "src-bucket", "key"),
        ("/src-bucket/key", "src-bucket", "key"),
        ("src-bucket/dir/a%20b%2Bc", "src-bucket", "dir/a b+c"),
        ("src-bucket/a%3Fb", "src-bucket", "a?b"),
        ("src-bucket/key?versionId=null", "src-bucket", "key"),
        ("src-bucket/caf%C3%A9", "src-bucket", "café"),
    ];
    for (header, bucket, key) in cases {
        let source = parse_copy_source(header).unwrap_or_else(|error| panic!("{header}: {error}"));
        assert_eq!(source.bucket, *bucket, "{header}");
        assert_eq!(source.key, *key, "{header}");
    }
}

#[test]
fn copy_source_errors() {
    let cases: &[(&str, ErrorCode)] = &[
        ("", ErrorCode::InvalidArgument),
        ("bucket", ErrorCode::InvalidArgument),
        ("bucket/", ErrorCode::InvalidArgument),
        ("/key-only", ErrorCode::InvalidArgument),
        ("bucket/key?other=1", ErrorCode::InvalidArgument),
        (
            "bucket/key?versionId=3HL4kqtJlcpXrof3",
            ErrorCode::NoSuchVersion,
        ),
        ("Bad_Bucket/key", ErrorCode::NoSuchBucket),
        ("bucket/%ZZ", ErrorCode::InvalidURI),
    ];
    for (header, code) in cases {
        let error = parse_copy_source(header).expect_err("rejected");
        assert_eq!(error.code, *code, "{header:?}");
    }
}

#[test]
fn copy_source_key_too_long() {
    let header = format!("bucket/{}", "k".repeat(1025));
    let error = parse_copy_source(&header).expect_err("rejected");
    assert_eq!(error.code, ErrorCode::KeyTooLongError);
}

#[test]
fn metadata_directive_values() {
    assert_eq!(
        parse_metadata_directive(None).expect("valid"),
        MetadataDirective::Copy
    );
    assert_eq!(
        parse_metadata_directive(Some("COPY")).expect("valid"),
        MetadataDirective::Copy
    );
    assert_eq!(
        parse_metadata_directive(Some("REPLACE")).expect("valid"),
        MetadataDirective::Replace
    );
    let error = parse_metadata_directive(Some("replace")).expect_err("rejected");
    assert_eq!(error.code, ErrorCode::InvalidArgument);
}

#[test]
fn acl_headers_accepted() {
    assert!(check_acl_headers([("x-amz-acl", "private")]).is_ok());
    assert!(check_acl_headers([("X-Amz-Acl", "bucket-owner-full-control")]).is_ok());
    assert!(check_acl_headers([("content-type", "text/plain")]).is_ok());
}

#[test]
fn acl_headers_rejected() {
    let cases: &[(&str, &str)] = &[
        ("x-amz-acl", "public-read"),
        ("x-amz-acl", "authenticated-read"),
        ("x-amz-grant-read", "id=abc"),
        ("X-Amz-Grant-Full-Control", "id=abc"),
    ];
    for (name, value) in cases {
        let error = check_acl_headers([(*name, *value)]).expect_err("rejected");
        assert_eq!(
            error.code,
            ErrorCode::AccessControlListNotSupported,
            "{name}: {value}"
        );
    }
}

#[test]
fn version_id_values() {
    assert!(check_version_id(None).is_ok());
    assert!(check_version_id(Some("null")).is_ok());
    assert_eq!(
        check_version_id(Some("")).expect_err("rejected").code,
        ErrorCode::InvalidArgument
    );
    assert_eq!(
        check_version_id(Some("v1")).expect_err("rejected").code,
        ErrorCode::NoSuchVersion
    );
}

#[test]
fn etag_quoting() {
    assert_eq!(format_etag("abc"), "\"abc\"");
    assert_eq!(format_etag("\"abc\""), "\"abc\"");
    assert_eq!(format_etag("abc-3"), "\"abc-3\"");
}

#[test]
fn http_date_format() {
    let time = UNIX_EPOCH + Duration::from_millis(1_704_164_645_678);
    assert_eq!(format_http_date(time), "Tue, 02 Jan 2024 03:04:05 GMT");
}

#[test]
fn iso8601_format_has_millis() {
    let cases: &[(SystemTime, &str)] = &[
        (UNIX_EPOCH, "1970-01-01T00:00:00.000Z"),
        (
            UNIX_EPOCH + Duration::from_millis(1_704_164_645_678),
            "2024-01-02T03:04:05.678Z",
        ),
        (
            UNIX_EPOCH + Duration::from_micros(1_704_164_645_000_999),
            "2024-01-02T03:04:05.000Z",
        ),
        (
            UNIX_EPOCH + Duration::from_secs(253_402_300_799),
            "9999-12-31T23:59:59.000Z",
        ),
    ];
    for (time, expected) in cases {
        assert_eq!(format_iso8601_millis(*time), *expected);
    }
}

#[test]
fn user_metadata_collected() {
    let headers = [
        ("X-Amz-Meta-Color", "blue"),
        ("content-type", "text/plain"),
        ("x-amz-meta-alpha", " one "),
        ("x-amz-meta-COLOR", "green"),
        ("x-amz-metadata-directive", "COPY"),
    ];
    let metadata = collect_user_metadata(headers).expect("collects");
    let expected = vec![
        ("alpha".to_owned(), "one".to_owned()),
        ("color".to_owned(), "blue,green".to_owned()),
    ];
    assert_eq!(metadata, expected);
}

#[test]
fn user_metadata_size_limit() {
    let name = "x-amz-meta-k";
    let at_limit = "v".repeat(MAX_USER_METADATA_BYTES - 1);
    assert!(collect_user_metadata([(name, at_limit.as_str())]).is_ok());
    let over_limit = "v".repeat(MAX_USER_METADATA_BYTES);
    let error = collect_user_metadata([(name, over_limit.as_str())]).expect_err("too large");
    assert_eq!(error.code, ErrorCode::MetadataTooLarge);
}

#[test]
fn user_metadata_limit_sums_headers() {
    let value = "v".repeat(600);
    let names = [
        "x-amz-meta-a",
        "x-amz-meta-b",
        "x-amz-meta-c",
        "x-amz-meta-d",
    ];
    let headers = names.iter().map(|name| (*name, value.as_str()));
    let error = collect_user_metadata(headers).expect_err("too large");
    assert_eq!(error.code, ErrorCode::MetadataTooLarge);
}

#[test]
fn user_metadata_empty_name_rejected() {
    let error = collect_user_metadata([("x-amz-meta-", "v")]).expect_err("rejected");
    assert_eq!(error.code, ErrorCode::InvalidArgument);
}

#[test]
fn stored_headers_collected() {
    let headers = [
        ("Content-Type", "image/png"),
        ("content-encoding", "aws-chunked,gzip"),
        ("Content-Disposition", "attachment"),
        ("Content-Language", "en"),
        ("Cache-Control", "no-cache"),
        ("Expires", "Tue, 02 Jan 2024 03:04:05 GMT"),
        ("x-amz-meta-a", "b"),
    ];
    let stored = StoredHeaders::from_headers(headers);
    assert_eq!(stored.content_type.as_deref(), Some("image/png"));
    assert_eq!(stored.content_encoding.as_deref(), Some("gzip"));
    assert_eq!(stored.content_disposition.as_deref(), Some("attachment"));
    assert_eq!(stored.content_language.as_deref(), Some("en"));
    assert_eq!(stored.cache_control.as_deref(), Some("no-cache"));
    assert_eq!(
        stored.expires.as_deref(),
        Some("Tue, 02 Jan 2024 03:04:05 GMT")
    );
}

#[test]
fn aws_chunked_encoding_dropped() {
    let stored = StoredHeaders::from_headers([("Content-Encoding", "aws-chunked")]);
    assert_eq!(stored.content_encoding, None);
}

#[test]
fn response_overrides_replace_stored() {
    let overrides = ResponseOverrides::from_query(&query(
        "response-content-type=text%2Fcsv&response-content-disposition=attachment%3B%20filename%3D%22a.csv%22\
&response-cache-control=max-age%3D60&response-expires=never&response-content-language=fr\
&response-content-encoding=identity",
    ))
    .expect("parses");
    let mut stored =
        StoredHeaders::from_headers([("Content-Type", "image/png"), ("Content-Language", "en")]);
    stored.apply_overrides(&overrides);
    let headers: Vec<(&str, &str)> = stored.iter().collect();
    let expected = vec![
        ("Content-Type", "text/csv"),
        ("Content-Encoding", "identity"),
        ("Content-Disposition", "attachment; filename=\"a.csv\""),
        ("Content-Language", "fr"),
        ("Cache-Control", "max-age=60"),
        ("Expires", "never"),
    ];
    assert_eq!(headers, expected);
}

#[test]
fn response_override_line_break_rejected() {
    let error = ResponseOverrides::from_query(&query("response-content-type=a%0D%0AX-Evil%3A%201"))
        .expect_err("rejected");
    assert_eq!(error.code, ErrorCode::InvalidArgument);
}

#[test]
fn response_overrides_absent_empty() {
    let overrides = ResponseOverrides::from_query(&query("versionId=null")).expect("parses");
    assert!(overrides.is_empty());
}
