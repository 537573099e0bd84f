//! Routing tests: a table of method, target and host cases, key decoding,
//! virtual-hosted style, bucket name handling and routing errors.

use ironbucket_s3::{
    Addressing, ErrorCode, Method, Operation, ResourceKind, RouteInput, S3Error, S3Request, route,
};

fn domains() -> Vec<String> {
    vec!["s3.local".to_owned(), "localhost".to_owned()]
}

fn route_with(
    method: &str,
    target: &str,
    host: &str,
    copy_source: Option<&str>,
) -> Result<S3Request, S3Error> {
    let domains = domains();
    route(&RouteInput {
        method,
        target,
        host: Some(host),
        virtual_host_domains: &domains,
        copy_source,
    })
}

fn routed(method: &str, target: &str) -> S3Request {
    route_with(method, target, "127.0.0.1:9000", None).expect("the request routes")
}

fn route_error(method: &str, target: &str) -> S3Error {
    route_with(method, target, "127.0.0.1:9000", None).expect_err("the request is rejected")
}

/// Method, target, `x-amz-copy-source`, then the expected operation, bucket and key.
type PathCase = (
    &'static str,
    &'static str,
    Option<&'static str>,
    Operation,
    Option<&'static str>,
    Option<&'static str>,
);

/// Method, target, `Host`, then the expected operation, bucket and key.
type HostCase = (
    &'static str,
    &'static str,
    &'static str,
    Operation,
    Option<&'static str>,
    Option<&'static str>,
);

fn not_implemented(name: &'static str) -> Operation {
    Operation::NotImplemented { name }
}

#[test]
fn routing_table_path_style() {
    use Operation::*;
    let copy = Some("src-bucket/src-key");
    let cases: &[PathCase] = &[
        ("GET", "/", None, ListBuckets, None, None),
        ("PUT", "/bucket", None, CreateBucket, Some("bucket"), None),
        ("PUT", "/bucket/", None, CreateBucket, Some("bucket"), None),
        ("HEAD", "/bucket", None, HeadBucket, Some("bucket"), None),
        (
            "DELETE",
            "/bucket",
            None,
            DeleteBucket,
            Some("bucket"),
            None,
        ),
        (
            "GET",
            "/bucket?location",
            None,
            GetBucketLocation,
            Some("bucket"),
            None,
        ),
        (
            "GET",
            "/bucket?acl",
            None,
            GetBucketAcl,
            Some("bucket"),
            None,
        ),
        (
            "PUT",
            "/bucket?acl",
            None,
            PutBucketAcl,
            Some("bucket"),
            None,
        ),
        (
            "GET",
            "/bucket?versioning",
            None,
            GetBucketVersioning,
            Some("bucket"),
            None,
        ),
        ("GET", "/bucket", None, ListObjects, Some("bucket"), None),
        (
            "GET",
            "/bucket?list-type=2&prefix=a",
            None,
            ListObjectsV2,
            Some("bucket"),
            None,
        ),
        (
            "GET",
            "/bucket?versions",
            None,
            ListObjectVersions,
            Some("bucket"),
            None,
        ),
        (
            "GET",
            "/bucket?uploads",
            None,
            ListMultipartUploads,
            Some("bucket"),
            None,
        ),
        (
            "POST",
            "/bucket?delete",
            None,
            DeleteObjects,
            Some("bucket"),
            None,
        ),
        (
            "PUT",
            "/bucket/key",
            None,
            PutObject,
            Some("bucket"),
            Some("key"),
        ),
        (
            "PUT",
            "/bucket/key",
            copy,
            CopyObject,
            Some("bucket"),
            Some("key"),
        ),
        (
            "PUT",
            "/bucket/key?partNumber=1&uploadId=u",
            None,
            UploadPart,
            Some("bucket"),
            Some("key"),
        ),
        (
            "PUT",
            "/bucket/key?partNumber=1&uploadId=u",
            copy,
            UploadPartCopy,
            Some("bucket"),
            Some("key"),
        ),
        (
            "GET",
            "/bucket/key",
            None,
            GetObject,
            Some("bucket"),
            Some("key"),
        ),
        (
            "GET",
            "/bucket/key?partNumber=2",
            None,
            GetObject,
            Some("bucket"),
            Some("key"),
        ),
        (
            "GET",
            "/bucket/key?versionId=null",
            None,
            GetObject,
            Some("bucket"),
            Some("key"),
        ),
        (
            "GET",
            "/bucket/key?x-id=GetObject",
            None,
            GetObject,
            Some("bucket"),
            Some("key"),
        ),
        (
            "HEAD",
            "/bucket/key",
            None,
            HeadObject,
            Some("bucket"),
            Some("key"),
        ),
        (
            "DELETE",
            "/bucket/key",
            None,
            DeleteObject,
            Some("bucket"),
            Some("key"),
        ),
        (
            "GET",
            "/bucket/key?acl",
            None,
            GetObjectAcl,
            Some("bucket"),
            Some("key"),
        ),
        (
            "PUT",
            "/bucket/key?acl",
            None,
            PutObjectAcl,
            Some("bucket"),
            Some("key"),
        ),
        (
            "POST",
            "/bucket/key?uploads",
            None,
            CreateMultipartUpload,
            Some("bucket"),
            Some("key"),
        ),
        (
            "POST",
            "/bucket/key?uploadId=u",
            None,
            CompleteMultipartUpload,
            Some("bucket"),
            Some("key"),
        ),
        (
            "DELETE",
            "/bucket/key?uploadId=u",
            None,
            AbortMultipartUpload,
            Some("bucket"),
            Some("key"),
        ),
        (
            "GET",
            "/bucket/key?uploadId=u",
            None,
            ListParts,
            Some("bucket"),
            Some("key"),
        ),
        (
            "GET",
            "/bucket/dir/sub/file.txt",
            None,
            GetObject,
            Some("bucket"),
            Some("dir/sub/file.txt"),
        ),
    ];
    for (method, target, copy_source, operation, bucket, key) in cases {
        let request = route_with(method, target, "127.0.0.1:9000", *copy_source)
            .unwrap_or_else(|error| panic!("{method} {target} failed: {error}"));
        assert_eq!(
            request.operation, *operation,
            "operation of {method} {target}"
        );
        assert_eq!(
            request.bucket.as_deref(),
            *bucket,
            "bucket of {method} {target}"
        );
        assert_eq!(request.key.as_deref(), *key, "key of {method} {target}");
        assert_eq!(
            request.addressing,
            Addressing::PathStyle,
            "addressing of {method} {target}"
        );
    }
}

#[test]
fn unimplemented_subresources_never_fall_through() {
    let cases: &[(&str, &str, &str)] = &[
        ("PUT", "/bucket/key?tagging", "PutObjectTagging"),
        ("GET", "/bucket/key?tagging", "GetObjectTagging"),
        ("DELETE", "/bucket/key?tagging", "DeleteObjectTagging"),
        ("GET", "/bucket?tagging", "GetBucketTagging"),
        ("PUT", "/bucket?policy", "PutBucketPolicy"),
        ("DELETE", "/bucket?cors", "DeleteBucketCors"),
        (
            "PUT",
            "/bucket?lifecycle",
            "PutBucketLifecycleConfiguration",
        ),
        ("GET", "/bucket?website", "GetBucketWebsite"),
        ("PUT", "/bucket?encryption", "PutBucketEncryption"),
        ("GET", "/bucket?replication", "GetBucketReplication"),
        (
            "PUT",
            "/bucket?notification",
            "PutBucketNotificationConfiguration",
        ),
        ("GET", "/bucket?logging", "GetBucketLogging"),
        ("PUT", "/bucket?object-lock", "PutObjectLockConfiguration"),
        ("PUT", "/bucket/key?retention", "PutObjectRetention"),
        ("PUT", "/bucket/key?legal-hold", "PutObjectLegalHold"),
        ("POST", "/bucket/key?restore", "RestoreObject"),
        (
            "POST",
            "/bucket/key?select&select-type=2",
            "SelectObjectContent",
        ),
        ("GET", "/bucket/key?torrent", "GetObjectTorrent"),
        (
            "GET",
            "/bucket?accelerate",
            "GetBucketAccelerateConfiguration",
        ),
        (
            "GET",
            "/bucket?analytics&id=a",
            "GetBucketAnalyticsConfiguration",
        ),
        (
            "PUT",
            "/bucket?inventory&id=i",
            "PutBucketInventoryConfiguration",
        ),
        (
            "DELETE",
            "/bucket?metrics&id=m",
            "DeleteBucketMetricsConfiguration",
        ),
        (
            "GET",
            "/bucket?intelligent-tiering",
            "GetBucketIntelligentTieringConfiguration",
        ),
        (
            "PUT",
            "/bucket?ownershipControls",
            "PutBucketOwnershipControls",
        ),
        ("GET", "/bucket?publicAccessBlock", "GetPublicAccessBlock"),
        ("PUT", "/bucket?requestPayment", "PutBucketRequestPayment"),
        ("GET", "/bucket/key?attributes", "GetObjectAttributes"),
        ("PUT", "/bucket?versioning", "PutBucketVersioning"),
        ("GET", "/bucket?session", "CreateSession"),
        ("POST", "/bucket", "PostObject"),
        ("OPTIONS", "/bucket/key", "OptionsObject"),
    ];
    for (method, target, name) in cases {
        let request = routed(method, target);
        assert_eq!(
            request.operation,
            not_implemented(name),
            "{method} {target}"
        );
    }
}

#[test]
fn subresource_with_wrong_method_rejected() {
    let error = route_error("POST", "/bucket?tagging");
    assert_eq!(error.code, ErrorCode::NotImplemented);
}

#[test]
fn bucket_subresource_on_object_rejected() {
    let error = route_error("PUT", "/bucket/key?cors");
    assert_eq!(error.code, ErrorCode::NotImplemented);
}

#[test]
fn key_decoding_cases() {
    let cases: &[(&str, &str)] = &[
        ("/bucket/a%20b", "a b"),
        ("/bucket/a+b", "a+b"),
        ("/bucket/a%2Bb", "a+b"),
        ("/bucket/a%2Fb", "a/b"),
        ("/bucket/a%2fb", "a/b"),
        ("/bucket/a~b", "a~b"),
        ("/bucket/a%7Eb", "a~b"),
        ("/bucket/caf%C3%A9/%E2%9C%93", "café/✓"),
        ("/bucket/café", "café"),
        ("/bucket/a//b", "a//b"),
        ("/bucket//leading", "/leading"),
        ("/bucket/./x", "./x"),
        ("/bucket/../y", "../y"),
        ("/bucket/dir/./x/../y", "dir/./x/../y"),
        ("/bucket/trailing/", "trailing/"),
        ("/bucket/%25", "%"),
        ("/bucket/q%3Fmark", "q?mark"),
        ("/bucket/a%26b=c", "a&b=c"),
    ];
    for (target, key) in cases {
        let request = routed("GET", target);
        assert_eq!(request.key.as_deref(), Some(*key), "key of {target}");
    }
}

#[test]
fn raw_path_kept_undecoded() {
    let request = routed("GET", "/bucket/a%20b?acl");
    assert_eq!(request.raw_path, "/bucket/a%20b");
}

#[test]
fn invalid_utf8_key_is_invalid_uri() {
    let error = route_error("GET", "/bucket/%C3%28");
    assert_eq!(error.code, ErrorCode::InvalidURI);
}

#[test]
fn malformed_percent_is_invalid_uri() {
    for target in ["/bucket/a%2", "/bucket/a%zz", "/bucket/%"] {
        let error = route_error("GET", target);
        assert_eq!(error.code, ErrorCode::InvalidURI, "{target}");
    }
}

#[test]
fn key_length_limit_enforced() {
    let at_limit = format!("/bucket/{}", "k".repeat(1024));
    assert_eq!(
        routed("PUT", &at_limit).key.map(|key| key.len()),
        Some(1024)
    );
    let over_limit = format!("/bucket/{}", "k".repeat(1025));
    let error = route_error("PUT", &over_limit);
    assert_eq!(error.code, ErrorCode::KeyTooLongError);
}

#[test]
fn key_limit_counts_decoded_bytes() {
    // 512 two-byte characters are 1024 bytes decoded but 3072 bytes encoded.
    let encoded = "%C3%A9".repeat(512);
    let request = routed("PUT", &format!("/bucket/{encoded}"));
    assert_eq!(request.key.map(|key| key.len()), Some(1024));
}

#[test]
fn query_decoding_plus_is_space() {
    let request = routed("GET", "/bucket?list-type=2&prefix=a+b%2Bc&delimiter=%2F");
    assert_eq!(request.query.get("prefix"), Some("a b+c"));
    assert_eq!(request.query.get("delimiter"), Some("/"));
    assert_eq!(
        request.query.raw(),
        "list-type=2&prefix=a+b%2Bc&delimiter=%2F"
    );
}

#[test]
fn query_flag_has_empty_value() {
    let request = routed("POST", "/bucket/key?uploads");
    assert!(request.query.contains("uploads"));
    assert_eq!(request.query.get("uploads"), Some(""));
}

#[test]
fn query_invalid_utf8_rejected() {
    let error = route_error("GET", "/bucket?prefix=%FF");
    assert_eq!(error.code, ErrorCode::InvalidURI);
}

#[test]
fn virtual_hosted_style_routes() {
    let cases: &[HostCase] = &[
        (
            "GET",
            "/",
            "bucket.s3.local",
            Operation::ListObjects,
            Some("bucket"),
            None,
        ),
        (
            "GET",
            "/",
            "bucket.s3.local:9000",
            Operation::ListObjects,
            Some("bucket"),
            None,
        ),
        (
            "GET",
            "/",
            "BUCKET.S3.LOCAL",
            Operation::ListObjects,
            Some("bucket"),
            None,
        ),
        (
            "GET",
            "/",
            "bucket.S3.Local:80",
            Operation::ListObjects,
            Some("bucket"),
            None,
        ),
        (
            "GET",
            "/key",
            "bucket.s3.local",
            Operation::GetObject,
            Some("bucket"),
            Some("key"),
        ),
        (
            "GET",
            "/a/b%20c",
            "bucket.localhost:9000",
            Operation::GetObject,
            Some("bucket"),
            Some("a/b c"),
        ),
        (
            "GET",
            "//double",
            "bucket.s3.local",
            Operation::GetObject,
            Some("bucket"),
            Some("/double"),
        ),
        (
            "GET",
            "/",
            "my.dotted.bucket.s3.local",
            Operation::ListObjects,
            Some("my.dotted.bucket"),
            None,
        ),
        (
            "PUT",
            "/",
            "bucket.s3.local",
            Operation::CreateBucket,
            Some("bucket"),
            None,
        ),
        (
            "GET",
            "/",
            "bucket.s3.local.",
            Operation::ListObjects,
            Some("bucket"),
            None,
        ),
    ];
    for (method, target, host, operation, bucket, key) in cases {
        let request = route_with(method, target, host, None)
            .unwrap_or_else(|error| panic!("{method} {target} on {host} failed: {error}"));
        assert_eq!(request.operation, *operation, "operation on {host}{target}");
        assert_eq!(
            request.bucket.as_deref(),
            *bucket,
            "bucket on {host}{target}"
        );
        assert_eq!(request.key.as_deref(), *key, "key on {host}{target}");
        assert_eq!(
            request.addressing,
            Addressing::VirtualHosted,
            "addressing on {host}"
        );
    }
}

#[test]
fn bare_domain_is_path_style() {
    let request = route_with("GET", "/bucket/key", "s3.local:9000", None).expect("routes");
    assert_eq!(request.addressing, Addressing::PathStyle);
    assert_eq!(request.bucket.as_deref(), Some("bucket"));
    assert_eq!(request.key.as_deref(), Some("key"));
}

#[test]
fn unknown_host_is_path_style() {
    for host in [
        "bucket.example.com",
        "nots3.local",
        "[::1]:9000",
        "127.0.0.1",
    ] {
        let request = route_with("GET", "/bucket/key", host, None).expect("routes");
        assert_eq!(request.addressing, Addressing::PathStyle, "{host}");
        assert_eq!(request.bucket.as_deref(), Some("bucket"), "{host}");
    }
}

#[test]
fn service_root_lists_buckets() {
    let request = route_with("GET", "/", "s3.local", None).expect("routes");
    assert_eq!(request.operation, Operation::ListBuckets);
    assert_eq!(request.bucket, None);
}

#[test]
fn absolute_form_target_uses_authority() {
    let request = route_with(
        "GET",
        "http://bucket.s3.local:9000/key?acl",
        "ignored",
        None,
    )
    .expect("routes");
    assert_eq!(request.addressing, Addressing::VirtualHosted);
    assert_eq!(request.bucket.as_deref(), Some("bucket"));
    assert_eq!(request.operation, Operation::GetObjectAcl);
}

#[test]
fn asterisk_target_is_invalid_uri() {
    let error = route_error("OPTIONS", "*");
    assert_eq!(error.code, ErrorCode::InvalidURI);
}

#[test]
fn unknown_method_not_allowed() {
    let error = route_error("PATCH", "/bucket/key");
    assert_eq!(error.code, ErrorCode::MethodNotAllowed);
    assert_eq!(error.http_status(), 405);
}

#[test]
fn service_put_not_allowed() {
    let error = route_error("PUT", "/");
    assert_eq!(error.code, ErrorCode::MethodNotAllowed);
}

#[test]
fn object_post_without_subresource_rejected() {
    let error = route_error("POST", "/bucket/key");
    assert_eq!(error.code, ErrorCode::MethodNotAllowed);
}

#[test]
fn part_upload_needs_both_parameters() {
    let missing_upload = route_error("PUT", "/bucket/key?partNumber=1");
    assert_eq!(missing_upload.code, ErrorCode::InvalidArgument);
    let missing_part = route_error("PUT", "/bucket/key?uploadId=u");
    assert_eq!(missing_part.code, ErrorCode::InvalidArgument);
}

#[test]
fn unknown_list_type_rejected() {
    let error = route_error("GET", "/bucket?list-type=3");
    assert_eq!(error.code, ErrorCode::InvalidArgument);
}

#[test]
fn invalid_bucket_name_on_create() {
    for target in [
        "/Bucket",
        "/ab",
        "/bad_name",
        "/192.168.1.1",
        "/-bucket",
        "/bucket-",
        "/a..b",
    ] {
        let error = route_error("PUT", target);
        assert_eq!(error.code, ErrorCode::InvalidBucketName, "{target}");
    }
}

#[test]
fn invalid_bucket_name_elsewhere_no_such_bucket() {
    for (method, target) in [
        ("GET", "/Bucket"),
        ("GET", "/ab/key"),
        ("HEAD", "/bad_name"),
        ("DELETE", "/x/k"),
    ] {
        let error = route_error(method, target);
        assert_eq!(error.code, ErrorCode::NoSuchBucket, "{method} {target}");
    }
}

#[test]
fn empty_bucket_segment_rejected() {
    let error = route_error("GET", "//key");
    assert_eq!(error.code, ErrorCode::NoSuchBucket);
}

#[test]
fn encoded_slash_in_bucket_rejected() {
    let error = route_error("GET", "/buck%2Fet/key");
    assert_eq!(error.code, ErrorCode::NoSuchBucket);
}

#[test]
fn error_names_the_resource() {
    let error = route_error("PUT", "/bucket/key?cors");
    assert_eq!(error.resource.as_deref(), Some("/bucket/key"));
}

#[test]
fn iam_action_names_match_aws() {
    use Operation::*;
    let cases: &[(Operation, &str)] = &[
        (ListBuckets, "s3:ListAllMyBuckets"),
        (CreateBucket, "s3:CreateBucket"),
        (HeadBucket, "s3:ListBucket"),
        (DeleteBucket, "s3:DeleteBucket"),
        (GetBucketLocation, "s3:GetBucketLocation"),
        (GetBucketAcl, "s3:GetBucketAcl"),
        (PutBucketAcl, "s3:PutBucketAcl"),
        (GetBucketVersioning, "s3:GetBucketVersioning"),
        (ListObjects, "s3:ListBucket"),
        (ListObjectsV2, "s3:ListBucket"),
        (ListObjectVersions, "s3:ListBucketVersions"),
        (ListMultipartUploads, "s3:ListBucketMultipartUploads"),
        (DeleteObjects, "s3:DeleteObject"),
        (PutObject, "s3:PutObject"),
        (CopyObject, "s3:PutObject"),
        (GetObject, "s3:GetObject"),
        (HeadObject, "s3:GetObject"),
        (DeleteObject, "s3:DeleteObject"),
        (GetObjectAcl, "s3:GetObjectAcl"),
        (PutObjectAcl, "s3:PutObjectAcl"),
        (CreateMultipartUpload, "s3:PutObject"),
        (UploadPart, "s3:PutObject"),
        (UploadPartCopy, "s3:PutObject"),
        (CompleteMultipartUpload, "s3:PutObject"),
        (AbortMultipartUpload, "s3:AbortMultipartUpload"),
        (ListParts, "s3:ListMultipartUploadParts"),
        (not_implemented("PutObjectTagging"), "s3:PutObjectTagging"),
        (
            not_implemented("GetBucketEncryption"),
            "s3:GetEncryptionConfiguration",
        ),
    ];
    for (operation, action) in cases {
        assert_eq!(operation.iam_action_name(), *action, "{operation:?}");
    }
}

#[test]
fn resource_kind_per_operation() {
    assert_eq!(
        Operation::ListBuckets.resource_kind(),
        ResourceKind::Service
    );
    assert_eq!(
        Operation::DeleteObjects.resource_kind(),
        ResourceKind::Bucket
    );
    assert_eq!(Operation::ListParts.resource_kind(), ResourceKind::Object);
    assert_eq!(
        not_implemented("GetObjectTagging").resource_kind(),
        ResourceKind::Object
    );
    assert_eq!(
        not_implemented("GetBucketTagging").resource_kind(),
        ResourceKind::Bucket
    );
}

#[test]
fn arn_per_resource_kind() {
    assert_eq!(
        routed("GET", "/bucket/a/b").arn(),
        "arn:aws:s3:::bucket/a/b"
    );
    assert_eq!(
        routed("GET", "/bucket?list-type=2").arn(),
        "arn:aws:s3:::bucket"
    );
    assert_eq!(routed("GET", "/").arn(), "*");
}

#[test]
fn method_tokens_are_case_sensitive() {
    assert_eq!(Method::parse("GET"), Some(Method::Get));
    assert_eq!(Method::parse("get"), None);
}

#[test]
fn too_many_query_parameters_rejected() {
    let query: Vec<String> = (0..1001).map(|index| format!("p{index}=v")).collect();
    let error = route_error("GET", &format!("/bucket?{}", query.join("&")));
    assert_eq!(error.code, ErrorCode::InvalidArgument);
}
