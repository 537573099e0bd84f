//! Verification of a [`ParsedSignature`] against the request and the secret key: scope, time,
//! signed headers, payload mode, and finally the signature itself.

use subtle::ConstantTimeEq as _;
use time::{Duration, OffsetDateTime};

use crate::authorization::ParsedSignature;
use crate::canonical;
use crate::error::{AuthKind, SigV4Error, SignatureMismatch, excerpt};
use crate::key::{SigningKey, SigningKeyCache};
use crate::payload::PayloadMode;
use crate::request::SignedRequest;
use crate::timestamp;

/// Maximum difference between the request time and the server time of a header-signed
/// request, and how far in the future a presigned URL may be dated. S3 uses 15 minutes.
pub const MAX_CLOCK_SKEW: Duration = Duration::minutes(15);

/// Server expectations for a request: the current time, its region and its service.
#[derive(Debug, Clone, Copy)]
pub struct VerifyContext<'a> {
    /// Current server time. The library reads no clock, so tests can fix it.
    pub now: OffsetDateTime,
    /// Region the credential scope must name. A server that accepts any region passes
    /// [`ParsedSignature::region`] here.
    pub region: &'a str,
    /// Service the credential scope must name, `s3` for the S3 API.
    pub service: &'a str,
}

impl<'a> VerifyContext<'a> {
    /// Builds a context for the S3 service.
    pub fn s3(now: OffsetDateTime, region: &'a str) -> Self {
        Self {
            now,
            region,
            service: "s3",
        }
    }
}

/// A request whose signature matched, with what the body verifier needs to go on: the
/// payload mode, and for aws-chunked bodies the signing key and seed signature.
///
/// The `Debug` output leaves out the signing key, the seed signature and the session token.
#[derive(Clone)]
pub struct VerifiedSignature {
    pub(crate) kind: AuthKind,
    pub(crate) access_key_id: String,
    pub(crate) region: String,
    pub(crate) service: String,
    pub(crate) amz_date: String,
    pub(crate) request_time: OffsetDateTime,
    pub(crate) scope: String,
    pub(crate) seed_signature: String,
    pub(crate) signing_key: SigningKey,
    pub(crate) payload_mode: PayloadMode,
    pub(crate) security_token: Option<String>,
}

impl VerifiedSignature {
    /// Returns whether the signature came from the header or from the query.
    pub fn kind(&self) -> AuthKind {
        self.kind
    }

    /// Returns the access key id that signed the request.
    pub fn access_key_id(&self) -> &str {
        &self.access_key_id
    }

    /// Returns the region of the credential scope.
    pub fn region(&self) -> &str {
        &self.region
    }

    /// Returns the service of the credential scope.
    pub fn service(&self) -> &str {
        &self.service
    }

    /// Returns the request time.
    pub fn request_time(&self) -> OffsetDateTime {
        self.request_time
    }

    /// Returns the payload mode declared by `x-amz-content-sha256`.
    pub fn payload_mode(&self) -> PayloadMode {
        self.payload_mode
    }

    /// Returns the session token (`X-Amz-Security-Token` or `x-amz-security-token`), which
    /// the caller must still validate.
    pub fn security_token(&self) -> Option<&str> {
        self.security_token.as_deref()
    }
}

impl std::fmt::Debug for VerifiedSignature {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("VerifiedSignature")
            .field("kind", &self.kind)
            .field("access_key_id", &self.access_key_id)
            .field("scope", &self.scope)
            .field("amz_date", &self.amz_date)
            .field("payload_mode", &self.payload_mode)
            .finish_non_exhaustive()
    }
}

/// Verifies a parsed signature with the secret key of its access key id.
///
/// Checks run in this order: request time (`x-amz-date`, else `Date`, or `X-Amz-Date`),
/// credential scope date, service and region, clock skew or presigned expiry, `host` signed,
/// every `x-amz-*` header signed, `x-amz-content-sha256`, and finally the signature, which is
/// compared in constant time.
///
/// A presigned request's payload hash is its `X-Amz-Content-Sha256` query parameter, else its
/// `x-amz-content-sha256` header (which must then be signed, like every `x-amz-*` header),
/// else `UNSIGNED-PAYLOAD`.
///
/// # Errors
///
/// Returns the [`SigV4Error`] of the first check that fails. On a signature mismatch the
/// error contains the canonical request and string to sign, which contain no secret.
pub fn verify(
    parsed: &ParsedSignature,
    request: &SignedRequest<'_>,
    secret: &str,
    context: &VerifyContext<'_>,
    cache: &mut SigningKeyCache,
) -> Result<VerifiedSignature, SigV4Error> {
    let request_time = request_time(parsed, request)?;
    let amz_date = timestamp::format_amz_date(request_time);
    check_scope(parsed, &amz_date, context)?;
    check_time(parsed, request_time, context.now)?;
    check_signed_headers(parsed, request)?;
    let (payload_hash, payload_mode) = payload_hash(parsed, request)?;

    let exclude_signature = parsed.kind == AuthKind::Presigned;
    let canonical_request = canonical::canonical_request(
        request,
        &parsed.signed_headers,
        exclude_signature,
        payload_hash,
    );
    let scope = canonical::credential_scope(&parsed.scope_date, &parsed.region, &parsed.service);
    let string_to_sign = canonical::string_to_sign(&amz_date, &scope, &canonical_request);
    let signing_key =
        cache.signing_key(secret, &parsed.scope_date, &parsed.region, &parsed.service);
    let computed = signing_key.sign(string_to_sign.as_bytes());
    if !bool::from(computed.ct_eq(&parsed.signature)) {
        return Err(SigV4Error::SignatureDoesNotMatch(Box::new(
            SignatureMismatch {
                access_key_id: parsed.access_key_id.clone(),
                canonical_request,
                string_to_sign,
            },
        )));
    }

    Ok(VerifiedSignature {
        kind: parsed.kind,
        access_key_id: parsed.access_key_id.clone(),
        region: parsed.region.clone(),
        service: parsed.service.clone(),
        amz_date,
        request_time,
        scope,
        seed_signature: hex::encode(computed),
        signing_key,
        payload_mode,
        security_token: parsed.security_token.clone(),
    })
}

/// Reads the request time: `X-Amz-Date` for a presigned URL, else `x-amz-date`, else `Date`.
fn request_time(
    parsed: &ParsedSignature,
    request: &SignedRequest<'_>,
) -> Result<OffsetDateTime, SigV4Error> {
    if let Some(presigned) = parsed.presigned {
        return Ok(presigned.request_time);
    }
    let amz_date = request
        .single_header("x-amz-date")
        .map_err(|()| SigV4Error::DuplicateHeader { name: "x-amz-date" })?;
    if let Some(value) = amz_date {
        return timestamp::parse_amz_date(value).ok_or_else(|| SigV4Error::InvalidDate {
            value: excerpt(value),
        });
    }
    let date = request
        .single_header("date")
        .map_err(|()| SigV4Error::DuplicateHeader { name: "date" })?;
    match date {
        Some(value) => timestamp::parse_http_date(value).ok_or_else(|| SigV4Error::InvalidDate {
            value: excerpt(value),
        }),
        None => Err(SigV4Error::MissingDate),
    }
}

fn check_scope(
    parsed: &ParsedSignature,
    amz_date: &str,
    context: &VerifyContext<'_>,
) -> Result<(), SigV4Error> {
    if !amz_date.starts_with(parsed.scope_date.as_str()) {
        return Err(SigV4Error::ScopeDateMismatch {
            kind: parsed.kind,
            scope_date: parsed.scope_date.clone(),
            request_time: amz_date.to_owned(),
        });
    }
    if parsed.service != context.service {
        return Err(SigV4Error::ServiceMismatch {
            kind: parsed.kind,
            found: parsed.service.clone(),
            expected: context.service.to_owned(),
        });
    }
    if parsed.region != context.region {
        return Err(SigV4Error::RegionMismatch {
            kind: parsed.kind,
            found: parsed.region.clone(),
            expected: context.region.to_owned(),
        });
    }
    Ok(())
}

fn check_time(
    parsed: &ParsedSignature,
    request_time: OffsetDateTime,
    now: OffsetDateTime,
) -> Result<(), SigV4Error> {
    match parsed.presigned {
        None => {
            if (now - request_time).abs() > MAX_CLOCK_SKEW {
                return Err(SigV4Error::RequestTimeTooSkewed {
                    request_time,
                    server_time: now,
                });
            }
        }
        Some(presigned) => {
            if request_time - now > MAX_CLOCK_SKEW {
                return Err(SigV4Error::NotYetValid {
                    request_time,
                    server_time: now,
                });
            }
            let expires_at = request_time + Duration::seconds(i64::from(presigned.expires_seconds));
            if now > expires_at {
                return Err(SigV4Error::Expired {
                    expires_at,
                    server_time: now,
                });
            }
        }
    }
    Ok(())
}

/// Requires `host` among the signed headers, and every `x-amz-*` header of the request too,
/// because an unsigned `x-amz-*` header could change the meaning of a signed request.
fn check_signed_headers(
    parsed: &ParsedSignature,
    request: &SignedRequest<'_>,
) -> Result<(), SigV4Error> {
    let is_signed = |name: &str| {
        parsed
            .signed_headers
            .iter()
            .any(|signed| signed.eq_ignore_ascii_case(name))
    };
    if !is_signed("host") {
        return Err(SigV4Error::HostNotSigned { kind: parsed.kind });
    }
    if parsed.kind == AuthKind::Header {
        let content_sha256 = request
            .single_header("x-amz-content-sha256")
            .map_err(|()| SigV4Error::DuplicateHeader {
                name: "x-amz-content-sha256",
            })?;
        if content_sha256.is_none() {
            return Err(SigV4Error::MissingContentSha256);
        }
        if !is_signed("x-amz-content-sha256") {
            return Err(SigV4Error::ContentSha256NotSigned);
        }
    }
    let mut unsigned: Vec<String> = Vec::new();
    for (name, _) in request.headers {
        let is_amz = name.len() >= 6 && name.as_bytes()[..6].eq_ignore_ascii_case(b"x-amz-");
        if is_amz && !is_signed(name) {
            let lower = name.to_ascii_lowercase();
            if !unsigned.contains(&lower) {
                unsigned.push(lower);
            }
        }
    }
    if !unsigned.is_empty() {
        return Err(SigV4Error::HeadersNotSigned { names: unsigned });
    }
    Ok(())
}

fn payload_hash<'a>(
    parsed: &'a ParsedSignature,
    request: &SignedRequest<'a>,
) -> Result<(&'a str, PayloadMode), SigV4Error> {
    let header = request
        .single_header("x-amz-content-sha256")
        .map_err(|()| SigV4Error::DuplicateHeader {
            name: "x-amz-content-sha256",
        })?;
    let value = match (parsed.query_content_sha256.as_deref(), header, parsed.kind) {
        (Some(value), _, AuthKind::Presigned) => value,
        (_, Some(value), _) => value,
        (_, None, AuthKind::Presigned) => "UNSIGNED-PAYLOAD",
        (_, None, AuthKind::Header) => return Err(SigV4Error::MissingContentSha256),
    };
    let mode = PayloadMode::parse(value).ok_or_else(|| SigV4Error::InvalidContentSha256 {
        value: excerpt(value),
    })?;
    Ok((value, mode))
}
