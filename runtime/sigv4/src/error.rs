//! Error types of the crate: [`SigV4Error`] for request authentication and [`PayloadError`]
//! for body verification, each with the S3 error code and HTTP status a server returns for it.
//!
//! No message contains a secret key, a derived key or a signature. The canonical request and
//! the string to sign of a failed check are kept in [`SignatureMismatch`], because S3 returns
//! them in its `SignatureDoesNotMatch` document and they contain no secret.

use time::OffsetDateTime;

use crate::checksum::ChecksumAlgorithm;

/// The place of a request's signature: header or query.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthKind {
    /// `Authorization: AWS4-HMAC-SHA256 ...` header.
    Header,
    /// `X-Amz-Algorithm`, `X-Amz-Signature` and related query parameters (a presigned URL).
    Presigned,
}

/// The canonical request and string to sign that the server computed for a request whose
/// signature did not match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureMismatch {
    /// Access key id from the credential scope.
    pub access_key_id: String,
    /// Canonical request, as defined by SigV4.
    pub canonical_request: String,
    /// String to sign built from the canonical request.
    pub string_to_sign: String,
}

/// A failed authentication of a request (its `Authorization` header or presigned query).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SigV4Error {
    /// The `Authorization` header does not follow the SigV4 grammar.
    #[error("The authorization header is malformed: {reason}.")]
    MalformedAuthorization {
        /// Description of the defect.
        reason: String,
    },

    /// The presigned URL's `X-Amz-*` query parameters are missing or invalid.
    #[error("The presigned URL query parameters are invalid: {reason}.")]
    MalformedQuery {
        /// Description of the defect.
        reason: String,
    },

    /// The request uses an algorithm other than `AWS4-HMAC-SHA256`, such as SigV2 or SigV4a.
    #[error(
        "The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256."
    )]
    UnsupportedAlgorithm,

    /// Both an `Authorization` header and presigned query parameters are present.
    #[error(
        "Only one auth mechanism allowed; send either the Authorization header or the X-Amz-Algorithm query parameter, not both."
    )]
    ConflictingAuthentication,

    /// The credential scope names a region other than the server's.
    #[error("The credential scope region '{found}' is wrong; expecting '{expected}'.")]
    RegionMismatch {
        /// Source of the credential, which selects the S3 error code.
        kind: AuthKind,
        /// Region in the credential scope.
        found: String,
        /// Region the server expects.
        expected: String,
    },

    /// The credential scope names a service other than the server's.
    #[error(
        "The credential scope service '{found}' is wrong; this endpoint belongs to '{expected}'."
    )]
    ServiceMismatch {
        /// Source of the credential, which selects the S3 error code.
        kind: AuthKind,
        /// Service in the credential scope.
        found: String,
        /// Service the server expects.
        expected: String,
    },

    /// The credential scope date is not the day of the request time.
    #[error(
        "Invalid credential date: the credential scope date {scope_date} is not the day of the request time {request_time}."
    )]
    ScopeDateMismatch {
        /// Source of the credential, which selects the S3 error code.
        kind: AuthKind,
        /// Date in the credential scope, `YYYYMMDD`.
        scope_date: String,
        /// Request time, `YYYYMMDD'T'HHMMSS'Z'`.
        request_time: String,
    },

    /// `host` is not in the signed headers.
    #[error("The host header must be signed.")]
    HostNotSigned {
        /// Source of the signed-header list, which selects the S3 error code.
        kind: AuthKind,
    },

    /// The request has `x-amz-*` headers that are not in the signed headers.
    #[error("There were headers present in the request which were not signed: {}.", names.join(", "))]
    HeadersNotSigned {
        /// Lower-cased names of the unsigned headers.
        names: Vec<String>,
    },

    /// A header-signed request has no `x-amz-content-sha256` header.
    #[error("Missing required header for this request: x-amz-content-sha256.")]
    MissingContentSha256,

    /// `x-amz-content-sha256` is present but not one of the signed headers.
    #[error("Header 'x-amz-content-sha256' must be included in the signature.")]
    ContentSha256NotSigned,

    /// `x-amz-content-sha256` is neither a SHA-256 hex digest nor a known payload mode.
    #[error(
        "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER or a SHA-256 hex digest; received '{value}'."
    )]
    InvalidContentSha256 {
        /// The value received, cut to 80 characters.
        value: String,
    },

    /// The request has neither `x-amz-date` nor `Date`.
    #[error("AWS authentication requires a valid Date or x-amz-date header.")]
    MissingDate,

    /// The request time could not be parsed.
    #[error(
        "Invalid request time '{value}': expected YYYYMMDD'T'HHMMSS'Z' in x-amz-date or X-Amz-Date, or an HTTP date in Date."
    )]
    InvalidDate {
        /// The value received, cut to 80 characters.
        value: String,
    },

    /// A header-signed request is more than 15 minutes away from the server's clock.
    #[error(
        "The difference between the request time {request_time} and the server time {server_time} is more than 15 minutes."
    )]
    RequestTimeTooSkewed {
        /// Request time from `x-amz-date` or `Date`.
        request_time: OffsetDateTime,
        /// Server time passed to the verifier.
        server_time: OffsetDateTime,
    },

    /// The presigned URL's `X-Amz-Date` plus `X-Amz-Expires` is in the past.
    #[error(
        "Request has expired: it expired at {expires_at}, and the server time is {server_time}."
    )]
    Expired {
        /// `X-Amz-Date` plus `X-Amz-Expires`.
        expires_at: OffsetDateTime,
        /// Server time passed to the verifier.
        server_time: OffsetDateTime,
    },

    /// The presigned URL's `X-Amz-Date` is more than 15 minutes in the future.
    #[error(
        "Request is not valid yet: it is dated {request_time}, and the server time is {server_time}."
    )]
    NotYetValid {
        /// `X-Amz-Date`.
        request_time: OffsetDateTime,
        /// Server time passed to the verifier.
        server_time: OffsetDateTime,
    },

    /// A header that must appear at most once appears more than once.
    #[error("The header {name} must appear at most once.")]
    DuplicateHeader {
        /// Lower-cased header name.
        name: &'static str,
    },

    /// The signature computed with the secret differs from the one in the request.
    #[error(
        "The request signature we calculated does not match the signature you provided. Check your key and signing method."
    )]
    SignatureDoesNotMatch(Box<SignatureMismatch>),
}

impl SigV4Error {
    /// Returns the S3 error code for the `<Code>` element of the error document.
    pub fn s3_code(&self) -> &'static str {
        match self {
            Self::MalformedAuthorization { .. } => "AuthorizationHeaderMalformed",
            Self::MalformedQuery { .. } => "AuthorizationQueryParametersError",
            Self::UnsupportedAlgorithm => "InvalidRequest",
            Self::ConflictingAuthentication => "InvalidArgument",
            Self::RegionMismatch { kind, .. }
            | Self::ServiceMismatch { kind, .. }
            | Self::ScopeDateMismatch { kind, .. }
            | Self::HostNotSigned { kind } => malformed_code(*kind),
            Self::HeadersNotSigned { .. } => "AccessDenied",
            Self::MissingContentSha256 | Self::ContentSha256NotSigned => "InvalidRequest",
            Self::InvalidContentSha256 { .. } => "InvalidArgument",
            Self::MissingDate | Self::InvalidDate { .. } => "AccessDenied",
            Self::RequestTimeTooSkewed { .. } => "RequestTimeTooSkewed",
            Self::Expired { .. } | Self::NotYetValid { .. } => "AccessDenied",
            Self::DuplicateHeader { .. } => "InvalidRequest",
            Self::SignatureDoesNotMatch(_) => "SignatureDoesNotMatch",
        }
    }

    /// Returns the HTTP status code S3 sends with [`Self::s3_code`].
    pub fn http_status(&self) -> u16 {
        match self.s3_code() {
            "AccessDenied" | "RequestTimeTooSkewed" | "SignatureDoesNotMatch" => 403,
            _ => 400,
        }
    }

    /// Returns the region the server expects when the credential scope named another one.
    /// S3 returns it in the `<Region>` element so that clients can retry in the right region.
    pub fn expected_region(&self) -> Option<&str> {
        match self {
            Self::RegionMismatch { expected, .. } => Some(expected),
            _ => None,
        }
    }

    /// Returns the canonical request and string to sign of a signature mismatch.
    pub fn signature_mismatch(&self) -> Option<&SignatureMismatch> {
        match self {
            Self::SignatureDoesNotMatch(details) => Some(details),
            _ => None,
        }
    }
}

fn malformed_code(kind: AuthKind) -> &'static str {
    match kind {
        AuthKind::Header => "AuthorizationHeaderMalformed",
        AuthKind::Presigned => "AuthorizationQueryParametersError",
    }
}

/// A failed verification of a request body or of the headers that describe it.
///
/// After a [`crate::PayloadVerifier`] returns one, the body must be discarded and any backend
/// write aborted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PayloadError {
    /// A chunk's `chunk-signature` does not match the chained signature.
    #[error(
        "The chunk signature of chunk {chunk} does not match the signature we calculated. Check your key and signing method."
    )]
    ChunkSignatureDoesNotMatch {
        /// Zero-based index of the chunk, the final zero-length chunk included.
        chunk: u64,
    },

    /// The `x-amz-trailer-signature` does not match the chained signature.
    #[error(
        "The trailer signature does not match the signature we calculated. Check your key and signing method."
    )]
    TrailerSignatureDoesNotMatch,

    /// A signed trailer section has no `x-amz-trailer-signature` line.
    #[error("The trailer section has no x-amz-trailer-signature line.")]
    MissingTrailerSignature,

    /// The SHA-256 of the body differs from `x-amz-content-sha256`.
    #[error("The provided 'x-amz-content-sha256' header does not match what was computed.")]
    ContentSha256Mismatch,

    /// The MD5 of the body differs from `Content-MD5`.
    #[error("The Content-MD5 you specified did not match what we received.")]
    ContentMd5Mismatch,

    /// `Content-MD5` is not the base64 form of 16 bytes.
    #[error(
        "The Content-MD5 you specified is not valid: it must be the base64 form of a 16-byte MD5 digest."
    )]
    InvalidContentMd5,

    /// The checksum of the body differs from the `x-amz-checksum-*` header or trailer.
    #[error("The {} you specified did not match the calculated checksum.", algorithm.display_name())]
    ChecksumMismatch {
        /// Algorithm whose value differed.
        algorithm: ChecksumAlgorithm,
    },

    /// An `x-amz-checksum-*` header or trailer value is not base64 of the algorithm's size.
    #[error("Value for {} header is invalid.", algorithm.header_name())]
    InvalidChecksum {
        /// Algorithm named by the header.
        algorithm: ChecksumAlgorithm,
    },

    /// More than one checksum was sent (two headers, or a header and a trailer).
    #[error("Expecting a single x-amz-checksum- header. Multiple checksum types are not allowed.")]
    MultipleChecksums,

    /// An `x-amz-checksum-*` header names an algorithm this server does not know.
    #[error(
        "The checksum header '{name}' names an unsupported algorithm; use crc32, crc32c, crc64nvme, sha1 or sha256."
    )]
    UnsupportedChecksum {
        /// Lower-cased header name, cut to 80 characters.
        name: String,
    },

    /// `x-amz-trailer` names a trailer other than an `x-amz-checksum-*` one.
    #[error(
        "The value '{value}' of x-amz-trailer is not supported; name one x-amz-checksum-* trailer."
    )]
    UnsupportedTrailer {
        /// The value received, cut to 80 characters.
        value: String,
    },

    /// `x-amz-trailer` was sent with a payload mode that has no trailer, or a trailer mode was
    /// used without `x-amz-trailer`.
    #[error("{reason}")]
    TrailerModeMismatch {
        /// Description of the mismatch.
        reason: &'static str,
    },

    /// The trailer section is malformed, incomplete or names undeclared trailers.
    #[error("The request contained trailing data that was not well-formed: {reason}.")]
    MalformedTrailer {
        /// Description of the defect.
        reason: String,
    },

    /// The trailer section exceeds [`crate::MAX_TRAILER_SECTION_LEN`].
    #[error("The trailer section is longer than {limit} bytes.")]
    TrailerTooLarge {
        /// The limit in bytes.
        limit: usize,
    },

    /// The aws-chunked framing is malformed.
    #[error("The aws-chunked body is malformed: {reason}.")]
    MalformedChunk {
        /// Description of the defect.
        reason: &'static str,
    },

    /// A chunk-size line exceeds [`crate::MAX_CHUNK_LINE_LEN`].
    #[error("A chunk-size line is longer than {limit} bytes.")]
    ChunkLineTooLong {
        /// The limit in bytes.
        limit: usize,
    },

    /// A chunk declares more data than [`crate::MAX_CHUNK_SIZE`].
    #[error("A chunk declares {size} bytes, more than the maximum of {limit}.")]
    ChunkTooLarge {
        /// Size the chunk declared.
        size: u64,
        /// The limit in bytes.
        limit: u64,
    },

    /// The body ended before the declared length or before the end of the aws-chunked framing.
    #[error(
        "You did not provide the number of bytes specified by the Content-Length or x-amz-decoded-content-length header: {received} of {declared} bytes received."
    )]
    IncompleteBody {
        /// Declared length, or the length decoded so far plus the open chunk when the framing ended early.
        declared: u64,
        /// Bytes received, after aws-chunked decoding.
        received: u64,
    },

    /// The body is longer than its declared length.
    #[error("The body is longer than the declared length of {declared} bytes.")]
    BodyTooLong {
        /// Declared length in bytes.
        declared: u64,
    },

    /// A streaming payload mode was used without `x-amz-decoded-content-length`.
    #[error("You must provide the x-amz-decoded-content-length header with a streaming payload.")]
    MissingDecodedContentLength,

    /// A length header is not a decimal number of bytes.
    #[error("The {name} header must be a decimal number of bytes.")]
    InvalidLength {
        /// Lower-cased header name.
        name: &'static str,
    },

    /// A header that must appear at most once appears more than once.
    #[error("The header {name} must appear at most once.")]
    DuplicateHeader {
        /// Lower-cased header name.
        name: &'static str,
    },

    /// An anonymous request declared a signed payload mode, which needs a request signature.
    #[error(
        "x-amz-content-sha256 '{value}' needs a signed request, and this request is anonymous."
    )]
    SignedPayloadWithoutSignature {
        /// The payload mode received.
        value: &'static str,
    },

    /// An anonymous request's `x-amz-content-sha256` is not a known value.
    #[error(
        "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER or a SHA-256 hex digest on an anonymous request; received '{value}'."
    )]
    InvalidContentSha256 {
        /// The value received, cut to 80 characters.
        value: String,
    },
}

impl PayloadError {
    /// Returns the S3 error code for the `<Code>` element of the error document.
    pub fn s3_code(&self) -> &'static str {
        match self {
            Self::ChunkSignatureDoesNotMatch { .. } | Self::TrailerSignatureDoesNotMatch => {
                "SignatureDoesNotMatch"
            }
            Self::MissingTrailerSignature => "SignatureDoesNotMatch",
            Self::ContentSha256Mismatch => "XAmzContentSHA256Mismatch",
            Self::ContentMd5Mismatch | Self::ChecksumMismatch { .. } => "BadDigest",
            Self::InvalidContentMd5 => "InvalidDigest",
            Self::InvalidChecksum { .. }
            | Self::MultipleChecksums
            | Self::UnsupportedChecksum { .. }
            | Self::UnsupportedTrailer { .. }
            | Self::TrailerModeMismatch { .. } => "InvalidRequest",
            Self::MalformedTrailer { .. } | Self::TrailerTooLarge { .. } => "MalformedTrailerError",
            Self::MalformedChunk { .. }
            | Self::ChunkLineTooLong { .. }
            | Self::ChunkTooLarge { .. }
            | Self::BodyTooLong { .. } => "InvalidRequest",
            Self::IncompleteBody { .. } => "IncompleteBody",
            Self::MissingDecodedContentLength => "MissingContentLength",
            Self::InvalidLength { .. } | Self::InvalidContentSha256 { .. } => "InvalidArgument",
            Self::DuplicateHeader { .. } | Self::SignedPayloadWithoutSignature { .. } => {
                "InvalidRequest"
            }
        }
    }

    /// Returns the HTTP status code S3 sends with [`Self::s3_code`].
    pub fn http_status(&self) -> u16 {
        match self.s3_code() {
            "SignatureDoesNotMatch" => 403,
            "MissingContentLength" => 411,
            _ => 400,
        }
    }
}

/// Cuts a client-supplied value to 80 characters for an error message, so that a huge header
/// cannot make a huge error document.
pub(crate) fn excerpt(value: &str) -> String {
    value.chars().take(80).collect()
}
