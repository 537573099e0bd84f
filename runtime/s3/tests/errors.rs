//! Tests for error codes, their HTTP status codes and the `Error` document.

use ironbucket_s3::{ErrorCode, S3Error};

#[test]
fn status_codes_match_s3() {
    use ErrorCode::*;
    let cases: &[(ErrorCode, u16)] = &[
        (AccessDenied, 403),
        (AccountProblem, 403),
        (BadDigest, 400),
        (BucketAlreadyExists, 409),
        (BucketAlreadyOwnedByYou, 409),
        (BucketNotEmpty, 409),
        (EntityTooSmall, 400),
        (EntityTooLarge, 400),
        (IncompleteBody, 400),
        (InternalError, 500),
        (InvalidAccessKeyId, 403),
        (InvalidArgument, 400),
        (InvalidBucketName, 400),
        (InvalidDigest, 400),
        (InvalidPart, 400),
        (InvalidPartOrder, 400),
        (InvalidRange, 416),
        (InvalidRequest, 400),
        (InvalidURI, 400),
        (KeyTooLongError, 400),
        (MalformedXML, 400),
        (MethodNotAllowed, 405),
        (MissingContentLength, 411),
        (NoSuchBucket, 404),
        (NoSuchKey, 404),
        (NoSuchUpload, 404),
        (NoSuchVersion, 404),
        (NotImplemented, 501),
        (PreconditionFailed, 412),
        (NotModified, 304),
        (RequestTimeTooSkewed, 403),
        (RequestTimeout, 400),
        (SignatureDoesNotMatch, 403),
        (ServiceUnavailable, 503),
        (SlowDown, 503),
        (XAmzContentSHA256Mismatch, 400),
        (AccessControlListNotSupported, 400),
        (AuthorizationHeaderMalformed, 400),
        (AuthorizationQueryParametersError, 400),
        (MetadataTooLarge, 400),
        (InvalidLocationConstraint, 400),
        (IllegalLocationConstraintException, 400),
        (MaxMessageLengthExceeded, 400),
        (RequestHeaderSectionTooLarge, 400),
        (ExpiredToken, 400),
        (InvalidToken, 400),
    ];
    for (code, status) in cases {
        assert_eq!(code.http_status(), *status, "{code}");
    }
}

#[test]
fn code_strings_match_variants() {
    assert_eq!(
        ErrorCode::XAmzContentSHA256Mismatch.as_str(),
        "XAmzContentSHA256Mismatch"
    );
    assert_eq!(ErrorCode::InvalidURI.as_str(), "InvalidURI");
    assert_eq!(ErrorCode::NoSuchKey.to_string(), "NoSuchKey");
}

#[test]
fn error_document_golden() {
    let error = S3Error::new(ErrorCode::NoSuchKey)
        .resource("/bucket/a&b")
        .extra("Key", "a&b");
    let expected = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>NoSuchKey</Code>\
<Message>The specified key does not exist.</Message><Resource>/bucket/a&amp;b</Resource>\
<Key>a&amp;b</Key><RequestId>req-1</RequestId></Error>";
    assert_eq!(
        String::from_utf8(error.to_xml("req-1")).expect("UTF-8"),
        expected
    );
}

#[test]
fn error_document_escapes_message() {
    let error = S3Error::with_message(ErrorCode::InvalidArgument, "bad <value> \"x\" 'y'\u{7}");
    let rendered = String::from_utf8(error.to_xml("r")).expect("UTF-8");
    assert!(
        rendered.contains("<Message>bad &lt;value&gt; &quot;x&quot; &apos;y&apos;&#x7;</Message>"),
        "{rendered}"
    );
}

#[test]
fn invalid_argument_names_argument() {
    let error = S3Error::invalid_argument("nope", "max-keys", "-1");
    let rendered = String::from_utf8(error.to_xml("r")).expect("UTF-8");
    assert!(
        rendered.contains("<ArgumentName>max-keys</ArgumentName><ArgumentValue>-1</ArgumentValue>"),
        "{rendered}"
    );
}

#[test]
fn not_modified_has_no_body() {
    assert!(S3Error::new(ErrorCode::NotModified).to_xml("r").is_empty());
}

#[test]
fn display_shows_code_and_message() {
    let error = S3Error::with_message(ErrorCode::AccessDenied, "Access Denied");
    assert_eq!(error.to_string(), "AccessDenied: Access Denied");
}
