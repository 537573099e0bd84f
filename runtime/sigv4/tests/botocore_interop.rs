//! Requests recorded from botocore (the AWS SDK for Python), replayed through the verifier.
//!
//! `fixtures/botocore_requests.py` records them, with keys and queries that need encoding,
//! plain and aws-chunked bodies, flexible checksums and a presigned URL, over HTTP and HTTPS
//! endpoints (botocore picks a different payload mode for each). This checks the verifier
//! against an independent signer, not only against this crate's own.

use base64::Engine as _;
use bytes::Bytes;
use ironbucket_sigv4::{
    PayloadMode, PayloadVerifier, SignedRequest, SigningKeyCache, VerifyContext,
};
use serde_json::Value;

const FIXTURE: &str = include_str!("fixtures/botocore_requests.json");

struct Recorded {
    method: String,
    target: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

fn recorded_requests() -> (String, Vec<Recorded>) {
    let fixture: Value = serde_json::from_str(FIXTURE).unwrap();
    let secret = fixture["secret"].as_str().unwrap().to_owned();
    let requests = fixture["requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|request| Recorded {
            method: request["method"].as_str().unwrap().to_owned(),
            target: request["target"].as_str().unwrap().to_owned(),
            headers: request["headers"]
                .as_array()
                .unwrap()
                .iter()
                .map(|pair| {
                    (
                        pair[0].as_str().unwrap().to_owned(),
                        pair[1].as_str().unwrap().to_owned(),
                    )
                })
                .collect(),
            body: base64::engine::general_purpose::STANDARD
                .decode(request["body_base64"].as_str().unwrap())
                .unwrap(),
        })
        .collect();
    (secret, requests)
}

/// Returns the request time botocore signed with, from `X-Amz-Date` or the query.
fn request_time(recorded: &Recorded) -> time::OffsetDateTime {
    let from_header = recorded
        .headers
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case("x-amz-date"))
        .map(|(_, value)| value.clone());
    let from_query = recorded
        .target
        .split(['?', '&'])
        .find_map(|parameter| parameter.strip_prefix("X-Amz-Date="))
        .map(str::to_owned);
    let value = from_header.or(from_query).expect("a request time");
    ironbucket_sigv4::timestamp::parse_amz_date(&value).unwrap()
}

#[test]
fn fixture_covers_every_mode() {
    let (_, requests) = recorded_requests();
    let modes: Vec<String> = requests
        .iter()
        .filter_map(|recorded| {
            recorded
                .headers
                .iter()
                .find(|(name, _)| name.eq_ignore_ascii_case("x-amz-content-sha256"))
                .map(|(_, value)| value.clone())
        })
        .collect();
    assert!(
        modes
            .iter()
            .any(|mode| mode == "STREAMING-UNSIGNED-PAYLOAD-TRAILER")
    );
    assert!(modes.iter().any(|mode| mode.len() == 64));
    assert!(
        requests
            .iter()
            .any(|recorded| recorded.target.contains("X-Amz-Signature="))
    );
}

#[test]
fn botocore_requests_verify() {
    let (secret, requests) = recorded_requests();
    let mut cache = SigningKeyCache::default();
    for recorded in &requests {
        let label = format!("{} {}", recorded.method, recorded.target);
        let headers: Vec<(&str, &str)> = recorded
            .headers
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_str()))
            .collect();
        let request = SignedRequest::from_target(&recorded.method, &recorded.target, &headers);
        let parsed = ironbucket_sigv4::parse(&request).unwrap().expect(&label);
        let context = VerifyContext::s3(request_time(recorded), "us-east-1");
        let verified = ironbucket_sigv4::verify(&parsed, &request, &secret, &context, &mut cache)
            .unwrap_or_else(|error| panic!("{label}: {error:?}"));

        let mut verifier = PayloadVerifier::new(&verified, &request)
            .unwrap_or_else(|error| panic!("{label}: {error}"));
        let mut decoded = Vec::new();
        let mut output = Vec::new();
        for piece in recorded.body.chunks(100) {
            verifier
                .push(Bytes::copy_from_slice(piece), &mut output)
                .unwrap_or_else(|error| panic!("{label}: {error}"));
            for data in output.drain(..) {
                decoded.extend_from_slice(&data);
            }
        }
        let summary = verifier
            .finish()
            .unwrap_or_else(|error| panic!("{label}: {error}"));
        assert_eq!(summary.decoded_length, decoded.len() as u64, "{label}");
        if verified.payload_mode().is_aws_chunked() {
            assert!(summary.checksum.is_some(), "{label}");
        } else {
            assert_eq!(decoded, recorded.body, "{label}");
        }
        if let PayloadMode::Sha256(_) = verified.payload_mode() {
            assert!(summary.content_sha256.is_some(), "{label}");
        }
    }
}

#[test]
fn tampered_botocore_request_rejected() {
    let (secret, requests) = recorded_requests();
    let recorded = &requests[0];
    let target = recorded
        .target
        .replace("hello", "hellp")
        .replacen("sp%20ace", "sp%20acf", 1);
    let headers: Vec<(&str, &str)> = recorded
        .headers
        .iter()
        .map(|(name, value)| (name.as_str(), value.as_str()))
        .collect();
    let request = SignedRequest::from_target(&recorded.method, &target, &headers);
    let parsed = ironbucket_sigv4::parse(&request).unwrap().unwrap();
    let context = VerifyContext::s3(request_time(recorded), "us-east-1");
    let error = ironbucket_sigv4::verify(
        &parsed,
        &request,
        &secret,
        &context,
        &mut SigningKeyCache::default(),
    )
    .unwrap_err();
    assert_eq!(error.s3_code(), "SignatureDoesNotMatch");
}
