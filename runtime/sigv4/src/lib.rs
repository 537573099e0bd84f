//! AWS Signature Version 4 verification for an S3 server, without I/O: the server passes in
//! the parsed request, the secret key and the current time, then feeds the body through a
//! verifier as it arrives.
//!
//! The specification is AWS's public SigV4 documentation for S3 (header-based
//! authentication, presigned URLs, chunked uploads with and without trailers) and S3's
//! flexible-checksum documentation. The tests reproduce the example values of the S3 page
//! "Examples: Signature Calculations in AWS Signature Version 4" and of the chunked-upload
//! and trailing-header pages.
//!
//! # Flow
//!
//! ```text
//! let request = SignedRequest::from_target(method, target, &headers);
//! match ironbucket_sigv4::parse(&request)? {
//!     None => { /* no SigV4: anonymous, or another scheme such as Bearer */
//!         let body = PayloadVerifier::anonymous(&request)?; }
//!     Some(parsed) => {
//!         let secret = lookup(parsed.access_key_id())?;      // InvalidAccessKeyId if unknown
//!         let context = VerifyContext::s3(now, "us-east-1");
//!         let verified = ironbucket_sigv4::verify(&parsed, &request, secret, &context, &mut cache)?;
//!         let mut body = PayloadVerifier::new(&verified, &request)?;
//!         // body.push(bytes, &mut decoded)? for each piece, then body.finish()?
//!     }
//! }
//! ```
//!
//! Each error type has `s3_code()` and `http_status()` for the S3 error document. Messages
//! never contain a secret key, a derived key or a signature. Signatures, digests and
//! checksums are compared in constant time.
//!
//! # Limits
//!
//! | what | limit |
//! | --- | --- |
//! | `Authorization` header | [`MAX_AUTHORIZATION_LEN`] bytes |
//! | names in `SignedHeaders` | [`MAX_SIGNED_HEADERS`] |
//! | `X-Amz-Expires` | 1 to [`MAX_EXPIRES_SECONDS`] seconds |
//! | clock skew, and presigned dates in the future | [`MAX_CLOCK_SKEW`] |
//! | chunk-size line | [`MAX_CHUNK_LINE_LEN`] bytes |
//! | chunk data | [`MAX_CHUNK_SIZE`] bytes per chunk |
//! | trailer section | [`MAX_TRAILER_SECTION_LEN`] bytes |
//!
//! # Decisions where AWS leaves room
//!
//! - Every `x-amz-*` header must be signed, for presigned URLs too, as S3 rejects unsigned
//!   ones with "There were headers present in the request which were not signed".
//! - A `+` in the query is a literal plus sign (RFC 3986), not a space.
//! - Only one checksum per request is accepted, as a header or as a trailer.
//! - An empty line between the final chunk and the trailers, and a missing empty line after
//!   complete trailers, are accepted, because the AWS trailer example has both.
//! - Body bytes are forwarded before the end of the body proves them good, so the caller must
//!   abort its backend write unless [`PayloadVerifier::finish`] succeeds.
//! - [`PayloadVerifier::new`] checks the body-describing headers before any body byte, so a
//!   server can reject a bad request before it sends `100 Continue`.
//! - The verifier does not touch `Content-Encoding`. The caller removes `aws-chunked` from it
//!   before storing the object's metadata.
//!
//! The [`signer`] module signs requests, presigned URLs and aws-chunked bodies, for tests of
//! other crates and for the load generator.

#![forbid(unsafe_code)]

mod authorization;
pub mod canonical;
mod checksum;
mod error;
mod key;
mod payload;
mod request;
pub mod signer;
pub mod timestamp;
mod verify;

pub use authorization::{
    MAX_ACCESS_KEY_ID_LEN, MAX_AUTHORIZATION_LEN, MAX_EXPIRES_SECONDS, MAX_SECURITY_TOKEN_LEN,
    MAX_SIGNED_HEADERS, ParsedSignature, parse, parse_authorization, parse_presigned,
};
pub use checksum::{ChecksumAlgorithm, Checksummer, VerifiedChecksum};
pub use error::{AuthKind, PayloadError, SigV4Error, SignatureMismatch};
pub use key::{SigningKey, SigningKeyCache};
pub use payload::{
    EMPTY_SHA256, MAX_CHUNK_LINE_LEN, MAX_CHUNK_SIZE, MAX_TRAILER_SECTION_LEN, PayloadMode,
    PayloadSummary, PayloadVerifier,
};
pub use request::SignedRequest;
pub use verify::{MAX_CLOCK_SKEW, VerifiedSignature, VerifyContext, verify};
