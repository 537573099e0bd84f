//! The authenticate phase: a SigV4 signature (header or presigned URL) checked against the
//! configured access keys, or the anonymous identity for an unsigned request. Its output also
//! carries the verifier that the request body must pass through.

use std::sync::Arc;

use ironbucket_s3::{ErrorCode, S3Error, S3Request};
use ironbucket_sigv4::{PayloadError, PayloadVerifier, SigV4Error, SignedRequest, VerifyContext};

use super::{Exchange, Gateway, RequestError};
use crate::identity::Identity;

/// The caller's identity and the verifier its body must pass.
pub(crate) struct Authenticated {
    pub identity: Arc<Identity>,
    pub payload: PayloadVerifier,
}

pub(super) fn authenticate(
    gateway: &Gateway,
    exchange: &Exchange<'_>,
    request: &S3Request,
) -> Result<Authenticated, RequestError> {
    let head = exchange.head;
    // The router's view of the target: for an absolute-form target (`http://host/path`) that is
    // the path alone, which is what the client signed.
    let signed = SignedRequest {
        method: head.method.as_str(),
        raw_path: &request.raw_path,
        raw_query: request.query.raw(),
        headers: &exchange.headers,
    };
    let resource = request.resource();

    let Some(parsed) =
        ironbucket_sigv4::parse(&signed).map_err(|e| signature_error(e, &resource))?
    else {
        if head.header("authorization").is_some() {
            // An Authorization header that is not SigV4 (SigV2, Bearer) is not accepted yet;
            // treating it as anonymous would hide the client's mistake.
            return Err(RequestError::client(
                S3Error::with_message(
                    ErrorCode::InvalidRequest,
                    "The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.",
                )
                .resource(resource),
            ));
        }
        if is_sigv2_presigned(request) {
            // A SigV2 presigned URL would otherwise pass as anonymous and fail later with a
            // misleading AccessDenied; say what is wrong instead.
            return Err(RequestError::client(
                S3Error::with_message(
                    ErrorCode::InvalidRequest,
                    "Signature Version 2 is not supported. Please use AWS4-HMAC-SHA256.",
                )
                .resource(resource),
            ));
        }
        let payload = PayloadVerifier::anonymous(&signed).map_err(payload_error)?;
        return Ok(Authenticated {
            identity: Arc::new(Identity::anonymous()),
            payload,
        });
    };

    if parsed.security_token().is_some() {
        // NOTE: session tokens come with STS, which this gateway does not issue yet, so no
        // token can be valid; rejecting them keeps the check fail-closed.
        return Err(RequestError::message(
            ErrorCode::InvalidToken,
            "The provided token is malformed or otherwise invalid.",
        ));
    }

    let Some(key) = gateway.shared.credentials.get(parsed.access_key_id()) else {
        return Err(RequestError::client(
            S3Error::new(ErrorCode::InvalidAccessKeyId)
                .extra("AWSAccessKeyId", parsed.access_key_id().to_owned()),
        ));
    };

    let now = time::OffsetDateTime::from(exchange.received_at);
    let context = VerifyContext::s3(now, &gateway.config().server.region);
    let verified = {
        let mut cache = gateway.signing_keys.borrow_mut();
        ironbucket_sigv4::verify(&parsed, &signed, key.secret.expose(), &context, &mut cache)
            .map_err(|e| signature_error(e, &resource))?
    };
    let payload = PayloadVerifier::new(&verified, &signed).map_err(payload_error)?;
    Ok(Authenticated {
        identity: key.identity.clone(),
        payload,
    })
}

/// A query signed with Signature Version 2 carries `AWSAccessKeyId` and `Signature`.
fn is_sigv2_presigned(request: &S3Request) -> bool {
    request.query.contains("AWSAccessKeyId") && request.query.contains("Signature")
}

fn signature_error(error: SigV4Error, resource: &str) -> RequestError {
    let mut s3 = S3Error::with_message(error_code(error.s3_code()), error.to_string());
    if let Some(region) = error.expected_region() {
        s3 = s3.extra("Region", region.to_owned());
    }
    if let Some(mismatch) = error.signature_mismatch() {
        // S3 echoes what it signed so a client can find its mistake; neither holds a secret.
        s3 = s3
            .extra("StringToSign", mismatch.string_to_sign.clone())
            .extra("CanonicalRequest", mismatch.canonical_request.clone());
    }
    RequestError::client(s3.resource(resource.to_owned()))
}

/// Maps a body verification failure to its S3 error.
pub(crate) fn payload_error(error: PayloadError) -> RequestError {
    RequestError::message(error_code(error.s3_code()), error.to_string())
}

/// The S3 error code the SigV4 crate names by string; an unknown name fails as InvalidRequest.
fn error_code(code: &str) -> ErrorCode {
    ErrorCode::from_code(code).unwrap_or(ErrorCode::InvalidRequest)
}
