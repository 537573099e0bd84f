//! Streaming verification of request bodies: the payload modes of `x-amz-content-sha256`,
//! aws-chunked decoding, `Content-MD5`, and `x-amz-checksum-*` headers and trailers.
//!
//! The verifier forwards body bytes as they arrive, before the end of the body proves them
//! good, so that no chunk is buffered whole. The caller must treat everything it forwarded as
//! tentative until [`PayloadVerifier::finish`] returns `Ok`, and abort the backend write
//! otherwise.

pub(crate) mod chunked;

use aws_lc_rs::digest;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use bytes::Bytes;
use md5::{Digest as _, Md5};
use subtle::ConstantTimeEq as _;

use crate::checksum::{ChecksumAlgorithm, Checksummer, VerifiedChecksum};
use crate::error::{PayloadError, excerpt};
use crate::request::SignedRequest;
use crate::verify::VerifiedSignature;
use chunked::{ChunkSigning, ChunkedDecoder};

pub use chunked::{MAX_CHUNK_LINE_LEN, MAX_CHUNK_SIZE, MAX_TRAILER_SECTION_LEN};

/// SHA-256 of empty data, in hex: the payload hash of a request without a body.
pub const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// Payload signing mode, from the `x-amz-content-sha256` header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PayloadMode {
    /// A hex SHA-256 digest of the whole body, checked at its end.
    Sha256([u8; 32]),
    /// `UNSIGNED-PAYLOAD`: the body is not covered by the signature.
    Unsigned,
    /// `STREAMING-AWS4-HMAC-SHA256-PAYLOAD`: aws-chunked with a signature on every chunk.
    StreamingSigned,
    /// `STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER`: signed chunks and a signed trailer.
    StreamingSignedTrailer,
    /// `STREAMING-UNSIGNED-PAYLOAD-TRAILER`: aws-chunked without signatures, with a trailer.
    StreamingUnsignedTrailer,
}

impl PayloadMode {
    /// Parses an `x-amz-content-sha256` value. Returns `None` for anything else, including the
    /// SigV4a (`ECDSA`) streaming modes, which an HMAC signature cannot use.
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "UNSIGNED-PAYLOAD" => Some(Self::Unsigned),
            "STREAMING-AWS4-HMAC-SHA256-PAYLOAD" => Some(Self::StreamingSigned),
            "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER" => Some(Self::StreamingSignedTrailer),
            "STREAMING-UNSIGNED-PAYLOAD-TRAILER" => Some(Self::StreamingUnsignedTrailer),
            _ => {
                let mut digest = [0_u8; 32];
                let is_digest =
                    value.len() == 64 && hex::decode_to_slice(value, &mut digest).is_ok();
                is_digest.then_some(Self::Sha256(digest))
            }
        }
    }

    /// Returns the `x-amz-content-sha256` value of the mode.
    pub fn header_value(&self) -> String {
        match self {
            Self::Sha256(digest) => hex::encode(digest),
            Self::Unsigned => "UNSIGNED-PAYLOAD".to_owned(),
            Self::StreamingSigned => "STREAMING-AWS4-HMAC-SHA256-PAYLOAD".to_owned(),
            Self::StreamingSignedTrailer => "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER".to_owned(),
            Self::StreamingUnsignedTrailer => "STREAMING-UNSIGNED-PAYLOAD-TRAILER".to_owned(),
        }
    }

    /// Returns whether the body uses aws-chunked framing.
    pub fn is_aws_chunked(&self) -> bool {
        matches!(
            self,
            Self::StreamingSigned | Self::StreamingSignedTrailer | Self::StreamingUnsignedTrailer
        )
    }

    /// Returns whether the body ends with a trailer section.
    pub fn has_trailer(&self) -> bool {
        matches!(
            self,
            Self::StreamingSignedTrailer | Self::StreamingUnsignedTrailer
        )
    }

    fn is_signed_streaming(&self) -> bool {
        matches!(self, Self::StreamingSigned | Self::StreamingSignedTrailer)
    }
}

/// The result of a body that passed every check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayloadSummary {
    /// Length of the body after aws-chunked decoding, in bytes.
    pub decoded_length: u64,
    /// The `x-amz-checksum-*` header or trailer that matched the body, if one was sent.
    pub checksum: Option<VerifiedChecksum>,
    /// MD5 of the body, when `Content-MD5` was sent and matched.
    pub content_md5: Option<[u8; 16]>,
    /// SHA-256 of the body, when `x-amz-content-sha256` was a digest and matched.
    pub content_sha256: Option<[u8; 32]>,
}

/// Source of the expected checksum.
enum ExpectedChecksum {
    /// An `x-amz-checksum-*` request header, decoded when the verifier was created.
    Header(Vec<u8>),
    /// A trailer declared in `x-amz-trailer`, read at the end of the body.
    Trailer,
}

struct ChecksumCheck {
    checksummer: Checksummer,
    expected: ExpectedChecksum,
}

/// Verifies a request body fed to it in pieces, forwarding the decoded bytes.
///
/// ```text
/// let mut verifier = PayloadVerifier::new(&verified, &request)?;
/// let mut decoded = Vec::new();
/// for piece in body {
///     verifier.push(piece, &mut decoded)?;   // decoded bytes are appended to `decoded`
///     forward(decoded.drain(..));
/// }
/// let summary = verifier.finish()?;          // only now is the body verified
/// ```
///
/// Memory stays bounded whatever the input: data is forwarded as slices of the input
/// [`Bytes`], and only a chunk-size line (at most [`MAX_CHUNK_LINE_LEN`] bytes) or the trailer
/// section (at most [`MAX_TRAILER_SECTION_LEN`] bytes) is copied. After an error, every later
/// call returns the same error.
pub struct PayloadVerifier {
    mode: PayloadMode,
    declared_length: Option<u64>,
    received: u64,
    sha256: Option<(digest::Context, [u8; 32])>,
    md5: Option<(Md5, [u8; 16])>,
    checksum: Option<ChecksumCheck>,
    decoder: Option<ChunkedDecoder>,
    failure: Option<PayloadError>,
}

impl PayloadVerifier {
    /// Creates the verifier for a request whose signature was verified.
    ///
    /// # Errors
    ///
    /// Returns an error when the body-describing headers are invalid: `Content-MD5`,
    /// `x-amz-checksum-*`, `x-amz-trailer`, `Content-Length` or `x-amz-decoded-content-length`.
    pub fn new(
        verified: &VerifiedSignature,
        request: &SignedRequest<'_>,
    ) -> Result<Self, PayloadError> {
        let mode = verified.payload_mode;
        let signing = mode.is_signed_streaming().then(|| ChunkSigning {
            key: verified.signing_key.clone(),
            amz_date: verified.amz_date.clone(),
            scope: verified.scope.clone(),
            previous_signature: verified.seed_signature.clone(),
        });
        Self::build(mode, signing, request)
    }

    /// Creates the verifier for an anonymous request, which has no signature.
    ///
    /// `x-amz-content-sha256` is optional here. A digest is still checked, and
    /// `STREAMING-UNSIGNED-PAYLOAD-TRAILER` is still decoded, but the signed streaming modes
    /// are rejected, because they need a seed signature.
    ///
    /// # Errors
    ///
    /// Returns the errors of [`Self::new`], and an error for a signed or unknown payload mode.
    pub fn anonymous(request: &SignedRequest<'_>) -> Result<Self, PayloadError> {
        let value = request
            .single_header("x-amz-content-sha256")
            .map_err(|()| PayloadError::DuplicateHeader {
                name: "x-amz-content-sha256",
            })?;
        let mode = match value {
            None => PayloadMode::Unsigned,
            Some(value) => {
                PayloadMode::parse(value).ok_or_else(|| PayloadError::InvalidContentSha256 {
                    value: excerpt(value),
                })?
            }
        };
        match mode {
            PayloadMode::StreamingSigned => Err(PayloadError::SignedPayloadWithoutSignature {
                value: "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
            }),
            PayloadMode::StreamingSignedTrailer => {
                Err(PayloadError::SignedPayloadWithoutSignature {
                    value: "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER",
                })
            }
            _ => Self::build(mode, None, request),
        }
    }

    fn build(
        mode: PayloadMode,
        signing: Option<ChunkSigning>,
        request: &SignedRequest<'_>,
    ) -> Result<Self, PayloadError> {
        let md5 = content_md5(request)?.map(|expected| (Md5::new(), expected));
        let header_checksum = header_checksum(request)?;
        let trailer_checksum = trailer_checksum(request)?;

        if trailer_checksum.is_some() && !mode.has_trailer() {
            return Err(PayloadError::TrailerModeMismatch {
                reason: "x-amz-trailer was sent, but x-amz-content-sha256 names a payload mode without a trailer.",
            });
        }
        if trailer_checksum.is_none() && mode.has_trailer() {
            return Err(PayloadError::TrailerModeMismatch {
                reason: "x-amz-content-sha256 names a payload mode with a trailer, but x-amz-trailer is missing.",
            });
        }
        let checksum = match (header_checksum, trailer_checksum) {
            (Some(_), Some(_)) => return Err(PayloadError::MultipleChecksums),
            (Some((algorithm, expected)), None) => Some(ChecksumCheck {
                checksummer: Checksummer::new(algorithm),
                expected: ExpectedChecksum::Header(expected),
            }),
            (None, Some(algorithm)) => Some(ChecksumCheck {
                checksummer: Checksummer::new(algorithm),
                expected: ExpectedChecksum::Trailer,
            }),
            (None, None) => None,
        };

        let (declared_length, decoder) = if mode.is_aws_chunked() {
            let declared = length_header(request, "x-amz-decoded-content-length")?;
            if declared.is_none() && mode.is_signed_streaming() {
                return Err(PayloadError::MissingDecodedContentLength);
            }
            let trailer = trailer_checksum.map(ChecksumAlgorithm::header_name);
            let decoder = ChunkedDecoder::new(signing, mode.has_trailer(), trailer, declared);
            (declared, Some(decoder))
        } else {
            (length_header(request, "content-length")?, None)
        };

        let sha256 = match mode {
            PayloadMode::Sha256(expected) => {
                Some((digest::Context::new(&digest::SHA256), expected))
            }
            _ => None,
        };
        Ok(Self {
            mode,
            declared_length,
            received: 0,
            sha256,
            md5,
            checksum,
            decoder,
            failure: None,
        })
    }

    /// Returns the payload mode.
    pub fn mode(&self) -> PayloadMode {
        self.mode
    }

    /// Returns the number of decoded bytes forwarded so far.
    pub fn decoded_length(&self) -> u64 {
        self.received
    }

    /// Feeds the next piece of the body as received, appending the decoded data to `output`
    /// as slices of `input`. Pieces may be split anywhere, even inside a chunk-size line.
    ///
    /// # Errors
    ///
    /// Returns an error as soon as the body is known to be bad: malformed framing, a chunk
    /// signature mismatch, a limit exceeded, or more data than declared. `output` is then left
    /// as it was before the call.
    pub fn push(&mut self, input: Bytes, output: &mut Vec<Bytes>) -> Result<(), PayloadError> {
        if let Some(failure) = &self.failure {
            return Err(failure.clone());
        }
        let start = output.len();
        let result = match &mut self.decoder {
            Some(decoder) => decoder.push(input, output),
            None => self.push_plain(input, output),
        };
        if let Err(error) = result {
            // Data of this call may belong to the chunk that failed, so none of it is output.
            output.truncate(start);
            self.failure = Some(error.clone());
            return Err(error);
        }
        for piece in &output[start..] {
            self.received += piece.len() as u64;
            if let Some((context, _)) = &mut self.sha256 {
                context.update(piece);
            }
            if let Some((md5, _)) = &mut self.md5 {
                md5.update(piece);
            }
            if let Some(check) = &mut self.checksum {
                check.checksummer.update(piece);
            }
        }
        Ok(())
    }

    fn push_plain(&self, input: Bytes, output: &mut Vec<Bytes>) -> Result<(), PayloadError> {
        if input.is_empty() {
            return Ok(());
        }
        if let Some(declared) = self.declared_length
            && self.received + input.len() as u64 > declared
        {
            return Err(PayloadError::BodyTooLong { declared });
        }
        output.push(input);
        Ok(())
    }

    /// Ends the body and runs the checks that need all of it: the framing is complete, the
    /// length is as declared, and the digests and checksum match.
    ///
    /// # Errors
    ///
    /// Returns the first failed check, or the error an earlier [`Self::push`] returned.
    pub fn finish(self) -> Result<PayloadSummary, PayloadError> {
        if let Some(failure) = self.failure {
            return Err(failure);
        }
        let trailers = match self.decoder {
            Some(decoder) => decoder.finish()?,
            None => Vec::new(),
        };
        if let Some(declared) = self.declared_length
            && self.received < declared
        {
            return Err(PayloadError::IncompleteBody {
                declared,
                received: self.received,
            });
        }

        let mut content_sha256 = None;
        if let Some((context, expected)) = self.sha256 {
            let actual = context.finish();
            if !bool::from(actual.as_ref().ct_eq(&expected)) {
                return Err(PayloadError::ContentSha256Mismatch);
            }
            content_sha256 = Some(expected);
        }

        let mut content_md5 = None;
        if let Some((md5, expected)) = self.md5 {
            let actual: [u8; 16] = md5.finalize().into();
            if !bool::from(actual.ct_eq(&expected)) {
                return Err(PayloadError::ContentMd5Mismatch);
            }
            content_md5 = Some(expected);
        }

        let mut checksum = None;
        if let Some(check) = self.checksum {
            let algorithm = check.checksummer.algorithm();
            let expected = match check.expected {
                ExpectedChecksum::Header(expected) => expected,
                ExpectedChecksum::Trailer => {
                    let value = trailers
                        .iter()
                        .find(|(name, _)| name == algorithm.header_name())
                        .map(|(_, value)| value.as_str())
                        .ok_or_else(|| PayloadError::MalformedTrailer {
                            reason: format!(
                                "the declared trailer {} is missing",
                                algorithm.header_name()
                            ),
                        })?;
                    algorithm
                        .decode_value(value)
                        .ok_or(PayloadError::InvalidChecksum { algorithm })?
                }
            };
            let actual = check.checksummer.finish();
            if !bool::from(actual.ct_eq(&expected)) {
                return Err(PayloadError::ChecksumMismatch { algorithm });
            }
            checksum = Some(VerifiedChecksum {
                algorithm,
                digest: actual,
            });
        }

        Ok(PayloadSummary {
            decoded_length: self.received,
            checksum,
            content_md5,
            content_sha256,
        })
    }
}

impl std::fmt::Debug for PayloadVerifier {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("PayloadVerifier")
            .field("mode", &self.mode)
            .field("declared_length", &self.declared_length)
            .field("received", &self.received)
            .field("failure", &self.failure)
            .finish_non_exhaustive()
    }
}

fn content_md5(request: &SignedRequest<'_>) -> Result<Option<[u8; 16]>, PayloadError> {
    let value =
        request
            .single_header("content-md5")
            .map_err(|()| PayloadError::DuplicateHeader {
                name: "content-md5",
            })?;
    let Some(value) = value else {
        return Ok(None);
    };
    // Base64 of 16 bytes is 24 characters, so anything else is rejected before decoding.
    if value.len() != 24 {
        return Err(PayloadError::InvalidContentMd5);
    }
    let decoded = BASE64
        .decode(value)
        .map_err(|_| PayloadError::InvalidContentMd5)?;
    let digest: [u8; 16] = decoded
        .try_into()
        .map_err(|_| PayloadError::InvalidContentMd5)?;
    Ok(Some(digest))
}

/// `x-amz-checksum-*` names that are not checksum values: the checksum type of a multipart
/// upload, the algorithm of CreateMultipartUpload, and the checksum mode of GetObject.
const CHECKSUM_HEADERS_WITHOUT_VALUE: [&str; 3] = [
    "x-amz-checksum-type",
    "x-amz-checksum-algorithm",
    "x-amz-checksum-mode",
];

fn header_checksum(
    request: &SignedRequest<'_>,
) -> Result<Option<(ChecksumAlgorithm, Vec<u8>)>, PayloadError> {
    let mut found: Option<(ChecksumAlgorithm, Vec<u8>)> = None;
    for (name, value) in request.headers {
        let is_checksum =
            name.len() > 15 && name.as_bytes()[..15].eq_ignore_ascii_case(b"x-amz-checksum-");
        if !is_checksum
            || CHECKSUM_HEADERS_WITHOUT_VALUE
                .iter()
                .any(|other| other.eq_ignore_ascii_case(name))
        {
            continue;
        }
        let algorithm = ChecksumAlgorithm::from_header_name(name).ok_or_else(|| {
            PayloadError::UnsupportedChecksum {
                name: excerpt(&name.to_ascii_lowercase()),
            }
        })?;
        if found.is_some() {
            return Err(PayloadError::MultipleChecksums);
        }
        let expected = algorithm
            .decode_value(value.trim_matches([' ', '\t']))
            .ok_or(PayloadError::InvalidChecksum { algorithm })?;
        found = Some((algorithm, expected));
    }
    Ok(found)
}

/// Reads `x-amz-trailer`, which may list names separated by commas. Only one checksum
/// trailer is allowed, as S3 allows one checksum per object.
fn trailer_checksum(
    request: &SignedRequest<'_>,
) -> Result<Option<ChecksumAlgorithm>, PayloadError> {
    let value =
        request
            .single_header("x-amz-trailer")
            .map_err(|()| PayloadError::DuplicateHeader {
                name: "x-amz-trailer",
            })?;
    let Some(value) = value else {
        return Ok(None);
    };
    let mut found = None;
    for name in value.split(',').map(|name| name.trim_matches([' ', '\t'])) {
        let algorithm = ChecksumAlgorithm::from_header_name(name).ok_or_else(|| {
            PayloadError::UnsupportedTrailer {
                value: excerpt(value),
            }
        })?;
        if found.replace(algorithm).is_some() {
            return Err(PayloadError::MultipleChecksums);
        }
    }
    Ok(found)
}

fn length_header(
    request: &SignedRequest<'_>,
    name: &'static str,
) -> Result<Option<u64>, PayloadError> {
    let value = request
        .single_header(name)
        .map_err(|()| PayloadError::DuplicateHeader { name })?;
    let Some(value) = value else {
        return Ok(None);
    };
    let valid =
        !value.is_empty() && value.len() <= 19 && value.bytes().all(|byte| byte.is_ascii_digit());
    if !valid {
        return Err(PayloadError::InvalidLength { name });
    }
    value
        .parse()
        .map(Some)
        .map_err(|_| PayloadError::InvalidLength { name })
}
