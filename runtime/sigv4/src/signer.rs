//! A SigV4 signer for clients of IronBucket: the tests of other crates and the load generator
//! use it to make valid requests, and tampered ones by changing a request after signing.
//!
//! It signs the way the AWS SDKs sign for S3: the path is signed as it will be sent, and the
//! query is canonicalized like the verifier does.

use time::OffsetDateTime;

use crate::canonical::{self, ALGORITHM};
use crate::checksum::ChecksumAlgorithm;
use crate::key::SigningKey;
use crate::payload::PayloadMode;
use crate::payload::chunked::ChunkSigning;
use crate::request::SignedRequest;
use crate::timestamp::format_amz_date;

/// The credential and scope a request is signed with.
#[derive(Clone, Copy)]
pub struct SigningParams<'a> {
    /// Access key id.
    pub access_key_id: &'a str,
    /// Secret access key.
    pub secret_access_key: &'a str,
    /// Session token of temporary credentials, sent as `x-amz-security-token` or
    /// `X-Amz-Security-Token`.
    pub session_token: Option<&'a str>,
    /// Region of the credential scope.
    pub region: &'a str,
    /// Service of the credential scope, `s3` for the S3 API.
    pub service: &'a str,
    /// Request time.
    pub time: OffsetDateTime,
}

impl std::fmt::Debug for SigningParams<'_> {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("SigningParams")
            .field("access_key_id", &self.access_key_id)
            .field("region", &self.region)
            .field("service", &self.service)
            .field("time", &self.time)
            .finish_non_exhaustive()
    }
}

impl SigningParams<'_> {
    fn scope_date(&self) -> String {
        format_amz_date(self.time)[..8].to_owned()
    }

    fn scope(&self) -> String {
        canonical::credential_scope(&self.scope_date(), self.region, self.service)
    }

    fn signing_key(&self) -> SigningKey {
        SigningKey::derive(
            self.secret_access_key,
            &self.scope_date(),
            self.region,
            self.service,
        )
    }
}

/// The signature of a request and what it was computed from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestSignature {
    /// Value of the `Authorization` header.
    pub authorization: String,
    /// Signature in hex: the seed of an aws-chunked body.
    pub signature: String,
    /// Canonical request.
    pub canonical_request: String,
    /// String to sign.
    pub string_to_sign: String,
}

/// Signs a request with every header it has, so `host`, `x-amz-date` and
/// `x-amz-content-sha256` must already be among `request.headers`.
pub fn sign_request(params: &SigningParams<'_>, request: &SignedRequest<'_>) -> RequestSignature {
    let mut names: Vec<String> = request
        .headers
        .iter()
        .map(|(name, _)| name.to_ascii_lowercase())
        .filter(|name| name != "authorization")
        .collect();
    names.sort_unstable();
    names.dedup();
    let payload_hash = request
        .single_header("x-amz-content-sha256")
        .ok()
        .flatten()
        .unwrap_or("UNSIGNED-PAYLOAD");
    let canonical_request = canonical::canonical_request(request, &names, false, payload_hash);
    let amz_date = format_amz_date(params.time);
    let scope = params.scope();
    let string_to_sign = canonical::string_to_sign(&amz_date, &scope, &canonical_request);
    let signature = params.signing_key().sign_hex(string_to_sign.as_bytes());
    let authorization = format!(
        "{ALGORITHM} Credential={}/{scope}, SignedHeaders={}, Signature={signature}",
        params.access_key_id,
        names.join(";")
    );
    RequestSignature {
        authorization,
        signature,
        canonical_request,
        string_to_sign,
    }
}

/// Adds `x-amz-date`, `x-amz-content-sha256` (set to `payload_hash`) and, with a session
/// token, `x-amz-security-token` to `headers`, signs the request with all its headers, and
/// adds the `Authorization` header. `headers` must contain `host`.
pub fn sign_headers(
    params: &SigningParams<'_>,
    method: &str,
    target: &str,
    headers: &mut Vec<(String, String)>,
    payload_hash: &str,
) -> RequestSignature {
    headers.push(("x-amz-date".to_owned(), format_amz_date(params.time)));
    headers.push(("x-amz-content-sha256".to_owned(), payload_hash.to_owned()));
    if let Some(token) = params.session_token {
        headers.push(("x-amz-security-token".to_owned(), token.to_owned()));
    }
    let borrowed: Vec<(&str, &str)> = headers
        .iter()
        .map(|(name, value)| (name.as_str(), value.as_str()))
        .collect();
    let request = SignedRequest::from_target(method, target, &borrowed);
    let signature = sign_request(params, &request);
    headers.push(("authorization".to_owned(), signature.authorization.clone()));
    signature
}

/// Returns `target` with the query parameters of a presigned URL added, signing only the
/// `host` header. `target` may already have a query. The payload hash is the
/// `X-Amz-Content-Sha256` parameter of that query when present, else `UNSIGNED-PAYLOAD`.
pub fn presign_url(
    params: &SigningParams<'_>,
    method: &str,
    target: &str,
    host: &str,
    expires_seconds: u32,
) -> String {
    let mut query = target
        .split_once('?')
        .map(|(_, query)| query.to_owned())
        .unwrap_or_default();
    let mut append = |name: &str, value: &str| {
        if !query.is_empty() {
            query.push('&');
        }
        query.push_str(name);
        query.push('=');
        canonical::uri_encode_into(&mut query, value.as_bytes());
    };
    append("X-Amz-Algorithm", ALGORITHM);
    append(
        "X-Amz-Credential",
        &format!("{}/{}", params.access_key_id, params.scope()),
    );
    append("X-Amz-Date", &format_amz_date(params.time));
    append("X-Amz-Expires", &expires_seconds.to_string());
    append("X-Amz-SignedHeaders", "host");
    if let Some(token) = params.session_token {
        append("X-Amz-Security-Token", token);
    }

    let path = target.split_once('?').map_or(target, |(path, _)| path);
    let headers = [("host", host)];
    let request = SignedRequest {
        method,
        raw_path: path,
        raw_query: &query,
        headers: &headers,
    };
    let names = ["host".to_owned()];
    let payload_hash = query
        .split('&')
        .find_map(|parameter| parameter.strip_prefix("X-Amz-Content-Sha256="))
        .unwrap_or("UNSIGNED-PAYLOAD");
    let canonical_request = canonical::canonical_request(&request, &names, true, payload_hash);
    let string_to_sign = canonical::string_to_sign(
        &format_amz_date(params.time),
        &params.scope(),
        &canonical_request,
    );
    let signature = params.signing_key().sign_hex(string_to_sign.as_bytes());
    format!("{path}?{query}&X-Amz-Signature={signature}")
}

/// Signs the chunks and the trailer of an aws-chunked body, chaining each signature to the
/// previous one from the seed (the request's signature).
pub struct ChunkSigner {
    signing: ChunkSigning,
}

impl ChunkSigner {
    /// Starts the chain at `seed_signature`, the hex signature of the request.
    pub fn new(params: &SigningParams<'_>, seed_signature: &str) -> Self {
        Self {
            signing: ChunkSigning {
                key: params.signing_key(),
                amz_date: format_amz_date(params.time),
                scope: params.scope(),
                previous_signature: seed_signature.to_owned(),
            },
        }
    }

    /// Returns the hex signature of the next chunk, whose data is `data`.
    pub fn sign_chunk(&mut self, data: &[u8]) -> String {
        let hash = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, data);
        let signature = hex::encode(self.signing.chunk_signature(hash.as_ref()));
        self.signing.previous_signature.clone_from(&signature);
        signature
    }

    /// Returns the hex `x-amz-trailer-signature` of `trailers` (lower-case names and values).
    pub fn sign_trailer(&mut self, trailers: &[(&str, &str)]) -> String {
        let mut canonical = Vec::new();
        for (name, value) in trailers {
            canonical.extend_from_slice(format!("{name}:{value}\n").as_bytes());
        }
        let signature = hex::encode(self.signing.trailer_signature(&canonical));
        self.signing.previous_signature.clone_from(&signature);
        signature
    }
}

/// Encodes `body` in aws-chunked framing with chunks of `chunk_size` bytes (the last one may
/// be shorter), the final zero-length chunk, and, when `trailer` is set, a checksum trailer.
/// With a `signer` every chunk and the trailer are signed. `chunk_size` must not be 0.
pub fn encode_aws_chunked(
    mut signer: Option<&mut ChunkSigner>,
    body: &[u8],
    chunk_size: usize,
    trailer: Option<ChecksumAlgorithm>,
) -> Vec<u8> {
    assert!(chunk_size > 0, "chunk_size must be at least 1");
    let mut out = Vec::with_capacity(body.len() + 256);
    let mut write_chunk = |out: &mut Vec<u8>, data: &[u8]| {
        out.extend_from_slice(format!("{:x}", data.len()).as_bytes());
        if let Some(signer) = signer.as_deref_mut() {
            out.extend_from_slice(b";chunk-signature=");
            out.extend_from_slice(signer.sign_chunk(data).as_bytes());
        }
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(data);
        if !data.is_empty() {
            out.extend_from_slice(b"\r\n");
        }
    };
    for data in body.chunks(chunk_size) {
        write_chunk(&mut out, data);
    }
    write_chunk(&mut out, b"");
    if let Some(algorithm) = trailer {
        let value = algorithm.digest_base64(body);
        out.extend_from_slice(format!("{}:{value}\r\n", algorithm.header_name()).as_bytes());
        if let Some(signer) = signer {
            let signature = signer.sign_trailer(&[(algorithm.header_name(), &value)]);
            out.extend_from_slice(format!("x-amz-trailer-signature:{signature}\r\n").as_bytes());
        }
    }
    out.extend_from_slice(b"\r\n");
    out
}

/// The body of a streaming upload and how to encode it.
#[derive(Debug, Clone, Copy)]
pub struct ChunkedUpload<'a> {
    /// Decoded body.
    pub body: &'a [u8],
    /// Data size of each chunk but the last, which may be shorter. Must not be 0.
    pub chunk_size: usize,
    /// One of the aws-chunked payload modes.
    pub mode: PayloadMode,
    /// Checksum to send as a trailer. S3 requires one with the trailer modes.
    pub trailer: Option<ChecksumAlgorithm>,
}

/// Prepares a streaming upload: adds `content-encoding: aws-chunked`,
/// `x-amz-decoded-content-length`, `x-amz-trailer` when a trailer is set, and
/// `content-length` to `headers`, signs them with the upload's mode as the payload hash, and
/// returns the encoded body.
pub fn sign_chunked_upload(
    params: &SigningParams<'_>,
    method: &str,
    target: &str,
    headers: &mut Vec<(String, String)>,
    upload: &ChunkedUpload<'_>,
) -> Vec<u8> {
    let ChunkedUpload {
        body,
        chunk_size,
        mode,
        trailer,
    } = *upload;
    assert!(mode.is_aws_chunked(), "mode must be an aws-chunked mode");
    assert!(chunk_size > 0, "chunk_size must be at least 1");
    let signed = matches!(
        mode,
        PayloadMode::StreamingSigned | PayloadMode::StreamingSignedTrailer
    );

    headers.push(("content-encoding".to_owned(), "aws-chunked".to_owned()));
    headers.push((
        "x-amz-decoded-content-length".to_owned(),
        body.len().to_string(),
    ));
    if let Some(algorithm) = trailer {
        headers.push((
            "x-amz-trailer".to_owned(),
            algorithm.header_name().to_owned(),
        ));
    }
    // The encoded length depends only on sizes, so an unsigned encoding plus the size of the
    // signature extensions gives the content-length before the seed signature exists.
    let unsigned_length = encode_aws_chunked(None, body, chunk_size, trailer).len();
    let chunk_count = body.len().div_ceil(chunk_size) + 1;
    let signature_overhead = if signed {
        let per_chunk = ";chunk-signature=".len() + 64;
        let trailer_line = trailer.map_or(0, |_| "x-amz-trailer-signature:".len() + 64 + 2);
        chunk_count * per_chunk + trailer_line
    } else {
        0
    };
    headers.push((
        "content-length".to_owned(),
        (unsigned_length + signature_overhead).to_string(),
    ));

    let signature = sign_headers(params, method, target, headers, &mode.header_value());
    if signed {
        let mut signer = ChunkSigner::new(params, &signature.signature);
        encode_aws_chunked(Some(&mut signer), body, chunk_size, trailer)
    } else {
        encode_aws_chunked(None, body, chunk_size, trailer)
    }
}
