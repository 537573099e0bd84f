//! Helpers shared by the integration tests: the credentials and time of the AWS examples, and
//! short ways to sign, verify and feed a body through a verifier.

#![allow(dead_code)]

use bytes::Bytes;
use ironbucket_sigv4::signer::{self, SigningParams};
use ironbucket_sigv4::{
    PayloadError, PayloadSummary, PayloadVerifier, SigV4Error, SignedRequest, SigningKeyCache,
    VerifiedSignature, VerifyContext,
};
use time::OffsetDateTime;
use time::macros::datetime;

/// Access key id of the AWS examples.
pub const ACCESS_KEY_ID: &str = "AKIAIOSFODNN7EXAMPLE";
/// Secret key of the AWS examples.
pub const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
/// Request time of the AWS examples.
pub const EXAMPLE_TIME: OffsetDateTime = datetime!(2013-05-24 00:00:00 UTC);
/// Region of the AWS examples.
pub const REGION: &str = "us-east-1";

/// Returns signing parameters for the example credentials at the example time.
pub fn params() -> SigningParams<'static> {
    SigningParams {
        access_key_id: ACCESS_KEY_ID,
        secret_access_key: SECRET,
        session_token: None,
        region: REGION,
        service: "s3",
        time: EXAMPLE_TIME,
    }
}

/// Borrows owned headers the way `SignedRequest` takes them.
pub fn borrow(headers: &[(String, String)]) -> Vec<(&str, &str)> {
    headers
        .iter()
        .map(|(name, value)| (name.as_str(), value.as_str()))
        .collect()
}

/// Turns string pairs into owned headers.
pub fn owned(headers: &[(&str, &str)]) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
        .collect()
}

/// Parses and verifies a request with `secret`, at `now`, for the example region.
pub fn verify_at(
    method: &str,
    target: &str,
    headers: &[(String, String)],
    secret: &str,
    now: OffsetDateTime,
) -> Result<VerifiedSignature, SigV4Error> {
    let borrowed = borrow(headers);
    let request = SignedRequest::from_target(method, target, &borrowed);
    let parsed = ironbucket_sigv4::parse(&request)?.expect("the request carries a signature");
    let mut cache = SigningKeyCache::default();
    ironbucket_sigv4::verify(
        &parsed,
        &request,
        secret,
        &VerifyContext::s3(now, REGION),
        &mut cache,
    )
}

/// Verifies a request with the example secret at the example time.
pub fn verify(
    method: &str,
    target: &str,
    headers: &[(String, String)],
) -> Result<VerifiedSignature, SigV4Error> {
    verify_at(method, target, headers, SECRET, EXAMPLE_TIME)
}

/// Signs a request with the example credentials, adding the SigV4 headers to `headers`.
pub fn sign(
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
    payload_hash: &str,
) -> Vec<(String, String)> {
    let mut headers = owned(headers);
    signer::sign_headers(&params(), method, target, &mut headers, payload_hash);
    headers
}

/// Feeds `pieces` through a verifier and returns the decoded bytes and the summary.
pub fn run_verifier(
    mut verifier: PayloadVerifier,
    pieces: &[&[u8]],
) -> Result<(Vec<u8>, PayloadSummary), PayloadError> {
    let mut decoded = Vec::new();
    let mut output = Vec::new();
    for piece in pieces {
        verifier.push(Bytes::copy_from_slice(piece), &mut output)?;
        for data in output.drain(..) {
            decoded.extend_from_slice(&data);
        }
    }
    let summary = verifier.finish()?;
    Ok((decoded, summary))
}

/// Verifies a signed request and then its body, fed as `pieces`.
pub fn verify_body(
    method: &str,
    target: &str,
    headers: &[(String, String)],
    pieces: &[&[u8]],
) -> Result<(Vec<u8>, PayloadSummary), PayloadError> {
    let verified = verify(method, target, headers).expect("the signature verifies");
    let borrowed = borrow(headers);
    let request = SignedRequest::from_target(method, target, &borrowed);
    let verifier = PayloadVerifier::new(&verified, &request)?;
    run_verifier(verifier, pieces)
}

/// Verifies an anonymous request's body, fed as `pieces`.
pub fn verify_anonymous_body(
    headers: &[(String, String)],
    pieces: &[&[u8]],
) -> Result<(Vec<u8>, PayloadSummary), PayloadError> {
    let borrowed = borrow(headers);
    let request = SignedRequest::from_target("PUT", "/bucket/key", &borrowed);
    let verifier = PayloadVerifier::anonymous(&request)?;
    run_verifier(verifier, pieces)
}
