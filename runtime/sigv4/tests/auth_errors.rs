//! Every authentication error: each test signs a valid request with the signer, breaks one
//! thing, and checks the error variant and the S3 code it maps to.

mod common;

use common::*;
use ironbucket_sigv4::signer;
use ironbucket_sigv4::{
    AuthKind, EMPTY_SHA256, SigV4Error, SignedRequest, SigningKeyCache, VerifyContext,
};
use time::Duration;

const HOST: &str = "examplebucket.s3.amazonaws.com";

fn signed_get() -> Vec<(String, String)> {
    sign("GET", "/key", &[("host", HOST)], EMPTY_SHA256)
}

fn presigned_target(expires: u32) -> String {
    signer::presign_url(&params(), "GET", "/key", HOST, expires)
}

fn host_only() -> Vec<(String, String)> {
    owned(&[("host", HOST)])
}

fn replace_header(headers: &mut [(String, String)], name: &str, value: &str) {
    let header = headers
        .iter_mut()
        .find(|(existing, _)| existing.eq_ignore_ascii_case(name))
        .expect("the header exists");
    header.1 = value.to_owned();
}

#[test]
fn signed_request_verifies() {
    let verified = verify("GET", "/key", &signed_get()).unwrap();
    assert_eq!(verified.kind(), AuthKind::Header);
    assert_eq!(verified.region(), REGION);
}

#[test]
fn wrong_secret_does_not_match() {
    let error = verify_at("GET", "/key", &signed_get(), "other-secret", EXAMPLE_TIME).unwrap_err();
    assert!(matches!(error, SigV4Error::SignatureDoesNotMatch(_)));
    assert_eq!(error.s3_code(), "SignatureDoesNotMatch");
    assert_eq!(error.http_status(), 403);
}

#[test]
fn tampered_path_does_not_match() {
    let error = verify("GET", "/other-key", &signed_get()).unwrap_err();
    assert_eq!(error.s3_code(), "SignatureDoesNotMatch");
}

#[test]
fn tampered_query_does_not_match() {
    let headers = sign("GET", "/?prefix=a", &[("host", HOST)], EMPTY_SHA256);
    let error = verify("GET", "/?prefix=b", &headers).unwrap_err();
    assert_eq!(error.s3_code(), "SignatureDoesNotMatch");
}

#[test]
fn tampered_method_does_not_match() {
    let error = verify("DELETE", "/key", &signed_get()).unwrap_err();
    assert_eq!(error.s3_code(), "SignatureDoesNotMatch");
}

#[test]
fn tampered_signed_header_does_not_match() {
    let mut headers = sign(
        "GET",
        "/key",
        &[("host", HOST), ("range", "bytes=0-9")],
        EMPTY_SHA256,
    );
    replace_header(&mut headers, "range", "bytes=0-99");
    let error = verify("GET", "/key", &headers).unwrap_err();
    assert_eq!(error.s3_code(), "SignatureDoesNotMatch");
}

#[test]
fn header_whitespace_is_canonicalized() {
    let mut headers = sign(
        "GET",
        "/key",
        &[("host", HOST), ("x-amz-meta-note", "a b")],
        EMPTY_SHA256,
    );
    replace_header(&mut headers, "x-amz-meta-note", "  a    b ");
    assert!(verify("GET", "/key", &headers).is_ok());
}

#[test]
fn mismatch_message_hides_secrets() {
    let headers = signed_get();
    let provided = headers
        .iter()
        .find(|(name, _)| name == "authorization")
        .and_then(|(_, value)| value.rsplit('=').next())
        .unwrap()
        .to_owned();
    let error = verify_at("GET", "/key", &headers, "other-secret", EXAMPLE_TIME).unwrap_err();
    let mismatch = error.signature_mismatch().unwrap();
    let rendered = format!("{error} {error:?}");
    assert!(!rendered.contains(SECRET));
    assert!(!rendered.contains("other-secret"));
    assert!(!rendered.contains(&provided));
    assert!(mismatch.canonical_request.starts_with("GET\n/key\n"));
    assert!(mismatch.string_to_sign.starts_with("AWS4-HMAC-SHA256\n"));
}

#[test]
fn region_mismatch_names_expected() {
    let headers = signed_get();
    let borrowed = borrow(&headers);
    let request = SignedRequest::from_target("GET", "/key", &borrowed);
    let parsed = ironbucket_sigv4::parse(&request).unwrap().unwrap();
    let context = VerifyContext::s3(EXAMPLE_TIME, "eu-west-1");
    let error = ironbucket_sigv4::verify(
        &parsed,
        &request,
        SECRET,
        &context,
        &mut SigningKeyCache::default(),
    )
    .unwrap_err();
    assert_eq!(error.expected_region(), Some("eu-west-1"));
    assert_eq!(error.s3_code(), "AuthorizationHeaderMalformed");
    assert!(error.to_string().contains("'eu-west-1'"));
}

#[test]
fn presigned_region_mismatch_query_error() {
    let target = presigned_target(60);
    let headers = host_only();
    let borrowed = borrow(&headers);
    let request = SignedRequest::from_target("GET", &target, &borrowed);
    let parsed = ironbucket_sigv4::parse(&request).unwrap().unwrap();
    let context = VerifyContext::s3(EXAMPLE_TIME, "eu-west-1");
    let error = ironbucket_sigv4::verify(
        &parsed,
        &request,
        SECRET,
        &context,
        &mut SigningKeyCache::default(),
    )
    .unwrap_err();
    assert!(matches!(error, SigV4Error::RegionMismatch { .. }));
    assert_eq!(error.s3_code(), "AuthorizationQueryParametersError");
}

#[test]
fn service_mismatch_rejected() {
    let mut signing = params();
    signing.service = "ec2";
    let mut headers = owned(&[("host", HOST)]);
    signer::sign_headers(&signing, "GET", "/key", &mut headers, EMPTY_SHA256);
    let error = verify("GET", "/key", &headers).unwrap_err();
    assert!(matches!(error, SigV4Error::ServiceMismatch { .. }));
    assert_eq!(error.s3_code(), "AuthorizationHeaderMalformed");
}

#[test]
fn scope_date_mismatch_rejected() {
    let mut headers = signed_get();
    let authorization = headers
        .iter()
        .find(|(name, _)| name == "authorization")
        .unwrap()
        .1
        .replace("/20130524/", "/20130523/");
    replace_header(&mut headers, "authorization", &authorization);
    let error = verify("GET", "/key", &headers).unwrap_err();
    assert!(matches!(error, SigV4Error::ScopeDateMismatch { .. }));
    assert_eq!(error.s3_code(), "AuthorizationHeaderMalformed");
}

#[test]
fn host_must_be_signed() {
    let mut headers = sign("GET", "/key", &[("range", "bytes=0-1")], EMPTY_SHA256);
    headers.push(("host".to_owned(), HOST.to_owned()));
    let error = verify("GET", "/key", &headers).unwrap_err();
    assert_eq!(
        error,
        SigV4Error::HostNotSigned {
            kind: AuthKind::Header
        }
    );
}

#[test]
fn unsigned_amz_header_rejected() {
    let mut headers = signed_get();
    headers.push(("X-Amz-Meta-Added".to_owned(), "1".to_owned()));
    let error = verify("GET", "/key", &headers).unwrap_err();
    assert_eq!(
        error,
        SigV4Error::HeadersNotSigned {
            names: vec!["x-amz-meta-added".to_owned()]
        }
    );
    assert_eq!(error.s3_code(), "AccessDenied");
}

#[test]
fn presigned_unsigned_amz_header_rejected() {
    let target = presigned_target(60);
    let mut headers = host_only();
    headers.push(("x-amz-acl".to_owned(), "public-read".to_owned()));
    let error = verify("GET", &target, &headers).unwrap_err();
    assert!(matches!(error, SigV4Error::HeadersNotSigned { .. }));
}

#[test]
fn unsigned_plain_header_allowed() {
    let mut headers = signed_get();
    headers.push(("user-agent".to_owned(), "test".to_owned()));
    assert!(verify("GET", "/key", &headers).is_ok());
}

#[test]
fn missing_content_sha256_rejected() {
    let mut headers = owned(&[("host", HOST), ("x-amz-date", "20130524T000000Z")]);
    let borrowed = borrow(&headers);
    let request = SignedRequest::from_target("GET", "/key", &borrowed);
    let signature = signer::sign_request(&params(), &request);
    headers.push(("authorization".to_owned(), signature.authorization));
    let error = verify("GET", "/key", &headers).unwrap_err();
    assert_eq!(error, SigV4Error::MissingContentSha256);
    assert_eq!(error.s3_code(), "InvalidRequest");
}

#[test]
fn content_sha256_must_be_signed() {
    let mut headers = owned(&[("host", HOST), ("x-amz-date", "20130524T000000Z")]);
    let borrowed = borrow(&headers);
    let request = SignedRequest::from_target("GET", "/key", &borrowed);
    let signature = signer::sign_request(&params(), &request);
    headers.push(("x-amz-content-sha256".to_owned(), EMPTY_SHA256.to_owned()));
    headers.push(("authorization".to_owned(), signature.authorization));
    let error = verify("GET", "/key", &headers).unwrap_err();
    assert_eq!(error, SigV4Error::ContentSha256NotSigned);
}

#[test]
fn invalid_content_sha256_rejected() {
    for value in [
        "abc",
        "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD",
        "unsigned-payload",
        &"g".repeat(64),
    ] {
        let headers = sign("PUT", "/key", &[("host", HOST)], value);
        let error = verify("PUT", "/key", &headers).unwrap_err();
        assert!(
            matches!(error, SigV4Error::InvalidContentSha256 { .. }),
            "{value}: {error:?}"
        );
        assert_eq!(error.s3_code(), "InvalidArgument");
    }
}

#[test]
fn date_header_used_without_amz_date() {
    let mut headers = owned(&[
        ("host", HOST),
        ("date", "Fri, 24 May 2013 00:00:00 GMT"),
        ("x-amz-content-sha256", EMPTY_SHA256),
    ]);
    let borrowed = borrow(&headers);
    let request = SignedRequest::from_target("GET", "/key", &borrowed);
    let signature = signer::sign_request(&params(), &request);
    headers.push(("authorization".to_owned(), signature.authorization));
    assert!(verify("GET", "/key", &headers).is_ok());
}

#[test]
fn missing_date_rejected() {
    let mut headers = signed_get();
    headers.retain(|(name, _)| name != "x-amz-date");
    let error = verify("GET", "/key", &headers).unwrap_err();
    assert_eq!(error, SigV4Error::MissingDate);
    assert_eq!(error.s3_code(), "AccessDenied");
}

#[test]
fn invalid_amz_date_rejected() {
    let mut headers = signed_get();
    replace_header(&mut headers, "x-amz-date", "2013-05-24T00:00:00Z");
    let error = verify("GET", "/key", &headers).unwrap_err();
    assert!(matches!(error, SigV4Error::InvalidDate { .. }));
}

#[test]
fn invalid_date_header_rejected() {
    let mut headers = signed_get();
    headers.retain(|(name, _)| name != "x-amz-date");
    headers.push(("date".to_owned(), "yesterday".to_owned()));
    let error = verify("GET", "/key", &headers).unwrap_err();
    assert!(matches!(error, SigV4Error::InvalidDate { .. }));
}

#[test]
fn duplicate_amz_date_rejected() {
    let mut headers = signed_get();
    headers.push(("X-Amz-Date".to_owned(), "20130524T000000Z".to_owned()));
    let error = verify("GET", "/key", &headers).unwrap_err();
    assert_eq!(error, SigV4Error::DuplicateHeader { name: "x-amz-date" });
}

#[test]
fn skew_of_fifteen_minutes_allowed() {
    let headers = signed_get();
    for offset in [Duration::minutes(15), Duration::minutes(-15)] {
        let now = EXAMPLE_TIME + offset;
        assert!(
            verify_at("GET", "/key", &headers, SECRET, now).is_ok(),
            "{offset}"
        );
    }
}

#[test]
fn skew_beyond_fifteen_minutes_rejected() {
    let headers = signed_get();
    let offsets = [
        Duration::minutes(15) + Duration::seconds(1),
        Duration::minutes(-15) - Duration::seconds(1),
    ];
    for offset in offsets {
        let now = EXAMPLE_TIME + offset;
        let error = verify_at("GET", "/key", &headers, SECRET, now).unwrap_err();
        assert!(matches!(error, SigV4Error::RequestTimeTooSkewed { .. }));
        assert_eq!(error.s3_code(), "RequestTimeTooSkewed");
        assert_eq!(error.http_status(), 403);
    }
}

#[test]
fn presigned_valid_until_expiry() {
    let target = presigned_target(3_600);
    let now = EXAMPLE_TIME + Duration::seconds(3_600);
    assert!(verify_at("GET", &target, &host_only(), SECRET, now).is_ok());
}

#[test]
fn presigned_expired_rejected() {
    let target = presigned_target(3_600);
    let now = EXAMPLE_TIME + Duration::seconds(3_601);
    let error = verify_at("GET", &target, &host_only(), SECRET, now).unwrap_err();
    assert!(matches!(error, SigV4Error::Expired { .. }));
    assert_eq!(error.s3_code(), "AccessDenied");
    assert!(error.to_string().starts_with("Request has expired"));
}

#[test]
fn presigned_ignores_header_clock_skew() {
    // A presigned URL is valid for its whole lifetime, long after 15 minutes.
    let target = presigned_target(86_400);
    let now = EXAMPLE_TIME + Duration::hours(23);
    assert!(verify_at("GET", &target, &host_only(), SECRET, now).is_ok());
}

#[test]
fn presigned_future_date_rejected() {
    let target = presigned_target(3_600);
    let now = EXAMPLE_TIME - Duration::minutes(16);
    let error = verify_at("GET", &target, &host_only(), SECRET, now).unwrap_err();
    assert!(matches!(error, SigV4Error::NotYetValid { .. }));
    assert_eq!(error.s3_code(), "AccessDenied");
}

#[test]
fn presigned_slightly_future_allowed() {
    let target = presigned_target(3_600);
    let now = EXAMPLE_TIME - Duration::minutes(14);
    assert!(verify_at("GET", &target, &host_only(), SECRET, now).is_ok());
}

#[test]
fn presigned_tampered_expires_rejected() {
    let target = presigned_target(60).replace("X-Amz-Expires=60", "X-Amz-Expires=604800");
    let error = verify("GET", &target, &host_only()).unwrap_err();
    assert_eq!(error.s3_code(), "SignatureDoesNotMatch");
}

#[test]
fn presigned_extra_query_is_signed() {
    let target = signer::presign_url(&params(), "GET", "/key?versionId=1", HOST, 60);
    assert!(verify("GET", &target, &host_only()).is_ok());
    let tampered = target.replace("versionId=1", "versionId=2");
    let error = verify("GET", &tampered, &host_only()).unwrap_err();
    assert_eq!(error.s3_code(), "SignatureDoesNotMatch");
}

#[test]
fn presigned_security_token_exposed() {
    let mut signing = params();
    signing.session_token = Some("session/token+value");
    let target = signer::presign_url(&signing, "GET", "/key", HOST, 60);
    let verified = verify("GET", &target, &host_only()).unwrap();
    assert_eq!(verified.security_token(), Some("session/token+value"));
}

#[test]
fn header_security_token_exposed() {
    let mut signing = params();
    signing.session_token = Some("token");
    let mut headers = owned(&[("host", HOST)]);
    signer::sign_headers(&signing, "GET", "/key", &mut headers, EMPTY_SHA256);
    let verified = verify("GET", "/key", &headers).unwrap();
    assert_eq!(verified.security_token(), Some("token"));
}

#[test]
fn malformed_presigned_query_rejected() {
    let target = presigned_target(60).replace("X-Amz-SignedHeaders=host&", "");
    let headers = host_only();
    let borrowed = borrow(&headers);
    let request = SignedRequest::from_target("GET", &target, &borrowed);
    let error = ironbucket_sigv4::parse(&request).unwrap_err();
    assert!(matches!(error, SigV4Error::MalformedQuery { .. }));
    assert_eq!(error.http_status(), 400);
}

#[test]
fn malformed_header_rejected() {
    let headers = owned(&[("authorization", "AWS4-HMAC-SHA256 Credential=x")]);
    let borrowed = borrow(&headers);
    let request = SignedRequest::from_target("GET", "/", &borrowed);
    let error = ironbucket_sigv4::parse(&request).unwrap_err();
    assert!(matches!(error, SigV4Error::MalformedAuthorization { .. }));
}

#[test]
fn cache_reused_across_requests() {
    let headers = signed_get();
    let borrowed = borrow(&headers);
    let request = SignedRequest::from_target("GET", "/key", &borrowed);
    let parsed = ironbucket_sigv4::parse(&request).unwrap().unwrap();
    let context = VerifyContext::s3(EXAMPLE_TIME, REGION);
    let mut cache = SigningKeyCache::new(8);
    for _ in 0..3 {
        ironbucket_sigv4::verify(&parsed, &request, SECRET, &context, &mut cache).unwrap();
    }
    assert_eq!(cache.misses(), 1);
    assert_eq!(cache.hits(), 2);
}

#[test]
fn cache_misses_after_secret_rotation() {
    let headers = signed_get();
    let borrowed = borrow(&headers);
    let request = SignedRequest::from_target("GET", "/key", &borrowed);
    let parsed = ironbucket_sigv4::parse(&request).unwrap().unwrap();
    let context = VerifyContext::s3(EXAMPLE_TIME, REGION);
    let mut cache = SigningKeyCache::new(8);
    ironbucket_sigv4::verify(&parsed, &request, SECRET, &context, &mut cache).unwrap();
    let rotated = ironbucket_sigv4::verify(&parsed, &request, "rotated", &context, &mut cache);
    assert_eq!(rotated.unwrap_err().s3_code(), "SignatureDoesNotMatch");
}

#[test]
fn sigv4a_authorization_unsupported() {
    let headers = owned(&[(
        "authorization",
        "AWS4-ECDSA-P256-SHA256 Credential=AK/20130524/s3/aws4_request, SignedHeaders=host, Signature=3045",
    )]);
    let borrowed = borrow(&headers);
    let request = SignedRequest::from_target("GET", "/", &borrowed);
    let error = ironbucket_sigv4::parse(&request).unwrap_err();
    assert_eq!(error, SigV4Error::UnsupportedAlgorithm);
    assert_eq!(error.s3_code(), "InvalidRequest");
}

#[test]
fn duplicate_authorization_rejected() {
    let mut headers = signed_get();
    let authorization = headers
        .iter()
        .find(|(name, _)| name == "authorization")
        .unwrap()
        .clone();
    headers.push(authorization);
    let borrowed = borrow(&headers);
    let request = SignedRequest::from_target("GET", "/key", &borrowed);
    let error = ironbucket_sigv4::parse(&request).unwrap_err();
    assert_eq!(
        error,
        SigV4Error::DuplicateHeader {
            name: "authorization"
        }
    );
}

#[test]
fn every_error_message_hides_secret() {
    let headers = signed_get();
    let offsets = [Duration::ZERO, Duration::hours(1)];
    for offset in offsets {
        for secret in [SECRET, "wrong"] {
            let result = verify_at("GET", "/nope", &headers, secret, EXAMPLE_TIME + offset);
            let rendered = format!("{result:?}");
            assert!(!rendered.contains(SECRET), "{rendered}");
        }
    }
}
