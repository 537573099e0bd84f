//! Body verification in every payload mode: plain bodies with digests and checksums,
//! aws-chunked bodies signed and unsigned, trailers, every split point of the input, limits,
//! and bodies one byte short or long.

mod common;

use bytes::Bytes;
use common::*;
use ironbucket_sigv4::signer::{self, ChunkSigner, ChunkedUpload};
use ironbucket_sigv4::{
    ChecksumAlgorithm, EMPTY_SHA256, MAX_CHUNK_LINE_LEN, MAX_CHUNK_SIZE, MAX_TRAILER_SECTION_LEN,
    PayloadError, PayloadMode, PayloadVerifier, SignedRequest,
};

const HOST: &str = "examplebucket.s3.amazonaws.com";
const BODY: &[u8] = b"The quick brown fox jumps over the lazy dog, twice over.";

fn sha256_hex(data: &[u8]) -> String {
    hex::encode(ChecksumAlgorithm::Sha256.digest(data))
}

fn md5_base64(data: &[u8]) -> String {
    use base64::Engine as _;
    use md5::Digest as _;
    base64::engine::general_purpose::STANDARD.encode(md5::Md5::digest(data))
}

/// Signs a streaming upload of `body` and returns its headers and encoded body.
fn chunked_upload(
    body: &[u8],
    chunk_size: usize,
    mode: PayloadMode,
    trailer: Option<ChecksumAlgorithm>,
) -> (Vec<(String, String)>, Vec<u8>) {
    let mut headers = owned(&[("host", HOST)]);
    let upload = ChunkedUpload {
        body,
        chunk_size,
        mode,
        trailer,
    };
    let encoded = signer::sign_chunked_upload(&params(), "PUT", "/key", &mut headers, &upload);
    (headers, encoded)
}

/// Returns the seed signature of signed headers, for building bodies by hand.
fn seed_of(headers: &[(String, String)]) -> String {
    let authorization = &headers
        .iter()
        .find(|(name, _)| name == "authorization")
        .unwrap()
        .1;
    authorization.rsplit('=').next().unwrap().to_owned()
}

fn put(
    headers: &[(String, String)],
    pieces: &[&[u8]],
) -> Result<(Vec<u8>, ironbucket_sigv4::PayloadSummary), PayloadError> {
    verify_body("PUT", "/key", headers, pieces)
}

/// Feeds `encoded` split at every position into two pieces, and one byte at a time, and
/// checks that each run decodes to `expected`.
fn assert_every_split_decodes(headers: &[(String, String)], encoded: &[u8], expected: &[u8]) {
    for split in 0..=encoded.len() {
        let (first, second) = encoded.split_at(split);
        let result = put(headers, &[first, second]);
        let (decoded, _) = result.unwrap_or_else(|error| panic!("split at {split}: {error}"));
        assert_eq!(decoded, expected, "split at {split}");
    }
    let bytes: Vec<&[u8]> = encoded.chunks(1).collect();
    let (decoded, _) = put(headers, &bytes).unwrap();
    assert_eq!(decoded, expected, "one byte at a time");
}

#[test]
fn plain_sha256_body_verifies() {
    let headers = sign("PUT", "/key", &[("host", HOST)], &sha256_hex(BODY));
    let (decoded, summary) = put(&headers, &[&BODY[..10], &BODY[10..]]).unwrap();
    assert_eq!(decoded, BODY);
    assert_eq!(summary.decoded_length, BODY.len() as u64);
}

#[test]
fn plain_sha256_mismatch_rejected() {
    let headers = sign("PUT", "/key", &[("host", HOST)], &sha256_hex(b"other"));
    let error = put(&headers, &[BODY]).unwrap_err();
    assert_eq!(error, PayloadError::ContentSha256Mismatch);
    assert_eq!(error.http_status(), 400);
}

#[test]
fn empty_body_empty_hash_verifies() {
    let headers = sign("PUT", "/key", &[("host", HOST)], EMPTY_SHA256);
    let (decoded, summary) = put(&headers, &[]).unwrap();
    assert!(decoded.is_empty());
    assert_eq!(summary.decoded_length, 0);
}

#[test]
fn unsigned_payload_accepts_anything() {
    let headers = sign("PUT", "/key", &[("host", HOST)], "UNSIGNED-PAYLOAD");
    let (decoded, summary) = put(&headers, &[BODY]).unwrap();
    assert_eq!(decoded, BODY);
    assert_eq!(summary.content_sha256, None);
}

#[test]
fn plain_body_forwarded_without_copy() {
    let headers = sign("PUT", "/key", &[("host", HOST)], "UNSIGNED-PAYLOAD");
    let verified = verify("PUT", "/key", &headers).unwrap();
    let borrowed = borrow(&headers);
    let request = SignedRequest::from_target("PUT", "/key", &borrowed);
    let mut verifier = PayloadVerifier::new(&verified, &request).unwrap();
    let input = Bytes::from_static(BODY);
    let mut output = Vec::new();
    verifier.push(input.clone(), &mut output).unwrap();
    assert_eq!(output.len(), 1);
    assert_eq!(output[0].as_ptr(), input.as_ptr());
}

#[test]
fn content_length_short_body_incomplete() {
    let length = (BODY.len() + 1).to_string();
    let headers = sign(
        "PUT",
        "/key",
        &[("host", HOST), ("content-length", &length)],
        "UNSIGNED-PAYLOAD",
    );
    let error = put(&headers, &[BODY]).unwrap_err();
    assert_eq!(
        error,
        PayloadError::IncompleteBody {
            declared: BODY.len() as u64 + 1,
            received: BODY.len() as u64
        }
    );
    assert_eq!(error.s3_code(), "IncompleteBody");
}

#[test]
fn content_length_long_body_rejected() {
    let length = (BODY.len() - 1).to_string();
    let headers = sign(
        "PUT",
        "/key",
        &[("host", HOST), ("content-length", &length)],
        "UNSIGNED-PAYLOAD",
    );
    let error = put(&headers, &[BODY]).unwrap_err();
    assert_eq!(
        error,
        PayloadError::BodyTooLong {
            declared: BODY.len() as u64 - 1
        }
    );
}

#[test]
fn invalid_content_length_rejected() {
    for value in ["", "-1", "1.5", "12345678901234567890", "0x10"] {
        let headers = sign(
            "PUT",
            "/key",
            &[("host", HOST), ("content-length", value)],
            "UNSIGNED-PAYLOAD",
        );
        let error = put(&headers, &[]).unwrap_err();
        assert_eq!(
            error,
            PayloadError::InvalidLength {
                name: "content-length"
            },
            "{value:?}"
        );
    }
}

#[test]
fn content_md5_match_verifies() {
    let md5 = md5_base64(BODY);
    let headers = sign(
        "PUT",
        "/key",
        &[("host", HOST), ("content-md5", &md5)],
        "UNSIGNED-PAYLOAD",
    );
    let (_, summary) = put(&headers, &[BODY]).unwrap();
    assert!(summary.content_md5.is_some());
}

#[test]
fn content_md5_mismatch_bad_digest() {
    let md5 = md5_base64(b"other");
    let headers = sign(
        "PUT",
        "/key",
        &[("host", HOST), ("content-md5", &md5)],
        "UNSIGNED-PAYLOAD",
    );
    let error = put(&headers, &[BODY]).unwrap_err();
    assert_eq!(error, PayloadError::ContentMd5Mismatch);
    assert_eq!(error.s3_code(), "BadDigest");
}

#[test]
fn invalid_content_md5_rejected() {
    for value in [
        "abc",
        "!!!!!!!!!!!!!!!!!!!!!!!!",
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    ] {
        let headers = sign(
            "PUT",
            "/key",
            &[("host", HOST), ("content-md5", value)],
            "UNSIGNED-PAYLOAD",
        );
        let error = put(&headers, &[]).unwrap_err();
        assert_eq!(error, PayloadError::InvalidContentMd5, "{value}");
        assert_eq!(error.s3_code(), "InvalidDigest");
    }
}

#[test]
fn checksum_headers_verify_each_algorithm() {
    for algorithm in ChecksumAlgorithm::ALL {
        let value = algorithm.digest_base64(BODY);
        let headers = sign(
            "PUT",
            "/key",
            &[("host", HOST), (algorithm.header_name(), &value)],
            "UNSIGNED-PAYLOAD",
        );
        let (_, summary) = put(&headers, &[&BODY[..3], &BODY[3..]]).unwrap();
        let checksum = summary.checksum.unwrap();
        assert_eq!(checksum.algorithm, algorithm);
        assert_eq!(checksum.to_base64(), value);
    }
}

#[test]
fn checksum_header_mismatch_bad_digest() {
    for algorithm in ChecksumAlgorithm::ALL {
        let value = algorithm.digest_base64(b"other");
        let headers = sign(
            "PUT",
            "/key",
            &[("host", HOST), (algorithm.header_name(), &value)],
            "UNSIGNED-PAYLOAD",
        );
        let error = put(&headers, &[BODY]).unwrap_err();
        assert_eq!(error, PayloadError::ChecksumMismatch { algorithm });
        assert_eq!(error.s3_code(), "BadDigest");
    }
}

#[test]
fn crc32_mismatch_message_matches_s3() {
    let error = PayloadError::ChecksumMismatch {
        algorithm: ChecksumAlgorithm::Crc32,
    };
    assert_eq!(
        error.to_string(),
        "The CRC32 you specified did not match the calculated checksum."
    );
}

#[test]
fn invalid_checksum_value_rejected() {
    let headers = sign(
        "PUT",
        "/key",
        &[("host", HOST), ("x-amz-checksum-crc32", "AAAAAAAAAAAA")],
        "UNSIGNED-PAYLOAD",
    );
    let error = put(&headers, &[]).unwrap_err();
    assert_eq!(
        error,
        PayloadError::InvalidChecksum {
            algorithm: ChecksumAlgorithm::Crc32
        }
    );
    assert_eq!(error.s3_code(), "InvalidRequest");
}

#[test]
fn two_checksum_headers_rejected() {
    let crc32 = ChecksumAlgorithm::Crc32.digest_base64(BODY);
    let sha1 = ChecksumAlgorithm::Sha1.digest_base64(BODY);
    let headers = sign(
        "PUT",
        "/key",
        &[
            ("host", HOST),
            ("x-amz-checksum-crc32", &crc32),
            ("x-amz-checksum-sha1", &sha1),
        ],
        "UNSIGNED-PAYLOAD",
    );
    assert_eq!(
        put(&headers, &[]).unwrap_err(),
        PayloadError::MultipleChecksums
    );
}

#[test]
fn unknown_checksum_header_rejected() {
    let headers = sign(
        "PUT",
        "/key",
        &[("host", HOST), ("x-amz-checksum-md4", "AAAA")],
        "UNSIGNED-PAYLOAD",
    );
    let error = put(&headers, &[]).unwrap_err();
    assert!(matches!(error, PayloadError::UnsupportedChecksum { .. }));
}

#[test]
fn checksum_type_header_ignored() {
    let headers = sign(
        "PUT",
        "/key",
        &[("host", HOST), ("x-amz-checksum-type", "FULL_OBJECT")],
        "UNSIGNED-PAYLOAD",
    );
    let (_, summary) = put(&headers, &[BODY]).unwrap();
    assert_eq!(summary.checksum, None);
}

#[test]
fn signed_chunks_every_split_decode() {
    let (headers, encoded) = chunked_upload(BODY, 16, PayloadMode::StreamingSigned, None);
    assert_every_split_decodes(&headers, &encoded, BODY);
}

#[test]
fn signed_trailer_every_split_decodes() {
    let (headers, encoded) = chunked_upload(
        BODY,
        16,
        PayloadMode::StreamingSignedTrailer,
        Some(ChecksumAlgorithm::Crc32),
    );
    assert_every_split_decodes(&headers, &encoded, BODY);
}

#[test]
fn unsigned_trailer_every_split_decodes() {
    let (headers, encoded) = chunked_upload(
        BODY,
        16,
        PayloadMode::StreamingUnsignedTrailer,
        Some(ChecksumAlgorithm::Crc32c),
    );
    assert_every_split_decodes(&headers, &encoded, BODY);
}

#[test]
fn signed_upload_content_length_exact() {
    for mode in [
        PayloadMode::StreamingSigned,
        PayloadMode::StreamingSignedTrailer,
        PayloadMode::StreamingUnsignedTrailer,
    ] {
        let trailer = mode.has_trailer().then_some(ChecksumAlgorithm::Sha256);
        let (headers, encoded) = chunked_upload(BODY, 7, mode, trailer);
        let declared = &headers
            .iter()
            .find(|(name, _)| name == "content-length")
            .unwrap()
            .1;
        assert_eq!(declared, &encoded.len().to_string(), "{mode:?}");
    }
}

#[test]
fn every_trailer_algorithm_verifies() {
    for algorithm in ChecksumAlgorithm::ALL {
        for mode in [
            PayloadMode::StreamingSignedTrailer,
            PayloadMode::StreamingUnsignedTrailer,
        ] {
            let (headers, encoded) = chunked_upload(BODY, 20, mode, Some(algorithm));
            let (decoded, summary) = put(&headers, &[&encoded]).unwrap();
            assert_eq!(decoded, BODY);
            assert_eq!(summary.checksum.unwrap().algorithm, algorithm);
        }
    }
}

#[test]
fn empty_streaming_body_verifies() {
    let (headers, encoded) = chunked_upload(b"", 16, PayloadMode::StreamingSigned, None);
    let (decoded, summary) = put(&headers, &[&encoded]).unwrap();
    assert!(decoded.is_empty());
    assert_eq!(summary.decoded_length, 0);
}

#[test]
fn tampered_chunk_data_rejected() {
    let (headers, mut encoded) = chunked_upload(BODY, 16, PayloadMode::StreamingSigned, None);
    let position = encoded.iter().position(|&byte| byte == b'q').unwrap();
    encoded[position] = b'Q';
    let error = put(&headers, &[&encoded]).unwrap_err();
    assert_eq!(error, PayloadError::ChunkSignatureDoesNotMatch { chunk: 0 });
    assert_eq!(error.http_status(), 403);
}

#[test]
fn tampered_final_chunk_rejected() {
    let (headers, encoded) = chunked_upload(BODY, 16, PayloadMode::StreamingSigned, None);
    let text = String::from_utf8(encoded).unwrap();
    let final_start = text.rfind("0;chunk-signature=").unwrap() + 18;
    let mut tampered = text.into_bytes();
    tampered[final_start] = if tampered[final_start] == b'0' {
        b'1'
    } else {
        b'0'
    };
    let error = put(&headers, &[&tampered]).unwrap_err();
    assert_eq!(error, PayloadError::ChunkSignatureDoesNotMatch { chunk: 4 });
}

#[test]
fn dropped_chunk_rejected() {
    // Two signed chunks of 16 bytes; removing the second breaks the chain at the final chunk,
    // whose signature was computed from the second chunk's signature.
    let body = &BODY[..32];
    let (headers, encoded) = chunked_upload(body, 16, PayloadMode::StreamingSigned, None);
    let text = String::from_utf8(encoded).unwrap();
    let second = text.match_indices("10;chunk-signature=").nth(1).unwrap().0;
    let final_chunk = text.rfind("0;chunk-signature=").unwrap();
    let dropped = format!("{}{}", &text[..second], &text[final_chunk..]);
    let error = put(&headers, &[dropped.as_bytes()]).unwrap_err();
    assert_eq!(error, PayloadError::ChunkSignatureDoesNotMatch { chunk: 1 });
}

#[test]
fn missing_chunk_signature_rejected() {
    let (headers, _) = chunked_upload(BODY, 64, PayloadMode::StreamingSigned, None);
    let body = format!(
        "{:x}\r\n{}\r\n0\r\n\r\n",
        BODY.len(),
        String::from_utf8_lossy(BODY)
    );
    let error = put(&headers, &[body.as_bytes()]).unwrap_err();
    assert!(matches!(error, PayloadError::MalformedChunk { .. }));
    assert_eq!(error.s3_code(), "InvalidRequest");
}

#[test]
fn signed_body_one_byte_short() {
    let (headers, encoded) = chunked_upload(BODY, 16, PayloadMode::StreamingSigned, None);
    let error = put(&headers, &[&encoded[..encoded.len() - 1]]).unwrap_err();
    assert!(matches!(error, PayloadError::IncompleteBody { .. }));
}

#[test]
fn signed_body_one_byte_long() {
    let (headers, mut encoded) = chunked_upload(BODY, 16, PayloadMode::StreamingSigned, None);
    encoded.push(b'x');
    let error = put(&headers, &[&encoded]).unwrap_err();
    assert!(matches!(error, PayloadError::MalformedChunk { .. }));
}

#[test]
fn truncated_chunk_data_incomplete() {
    let (headers, encoded) = chunked_upload(BODY, 64, PayloadMode::StreamingSigned, None);
    let header_end = encoded.windows(2).position(|pair| pair == b"\r\n").unwrap() + 2;
    let error = put(&headers, &[&encoded[..header_end + 10]]).unwrap_err();
    assert_eq!(
        error,
        PayloadError::IncompleteBody {
            declared: BODY.len() as u64,
            received: 10
        }
    );
}

/// Builds a signed streaming request whose `x-amz-decoded-content-length` is `declared`,
/// with the chunks of `body` signed correctly, so that only the length disagrees.
fn signed_with_declared_length(body: &[u8], declared: usize) -> (Vec<(String, String)>, Vec<u8>) {
    let headers = sign(
        "PUT",
        "/key",
        &[
            ("host", HOST),
            ("content-encoding", "aws-chunked"),
            ("x-amz-decoded-content-length", &declared.to_string()),
        ],
        "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
    );
    let seed = seed_of(&headers);
    let mut chunk_signer = ChunkSigner::new(&params(), &seed);
    let encoded = signer::encode_aws_chunked(Some(&mut chunk_signer), body, 16, None);
    (headers, encoded)
}

#[test]
fn decoded_length_one_byte_short() {
    let (headers, encoded) = signed_with_declared_length(BODY, BODY.len() + 1);
    let error = put(&headers, &[&encoded]).unwrap_err();
    assert_eq!(
        error,
        PayloadError::IncompleteBody {
            declared: BODY.len() as u64 + 1,
            received: BODY.len() as u64
        }
    );
}

#[test]
fn decoded_length_one_byte_long() {
    let (headers, encoded) = signed_with_declared_length(BODY, BODY.len() - 1);
    let error = put(&headers, &[&encoded]).unwrap_err();
    assert_eq!(
        error,
        PayloadError::BodyTooLong {
            declared: BODY.len() as u64 - 1
        }
    );
}

#[test]
fn signed_streaming_needs_decoded_length() {
    let headers = sign(
        "PUT",
        "/key",
        &[("host", HOST), ("content-encoding", "aws-chunked")],
        "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
    );
    let error = put(&headers, &[]).unwrap_err();
    assert_eq!(error, PayloadError::MissingDecodedContentLength);
    assert_eq!(error.http_status(), 411);
}

/// Headers of a `STREAMING-UNSIGNED-PAYLOAD-TRAILER` upload with a crc32 trailer.
fn unsigned_trailer_headers(extra: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut headers = vec![
        ("host", HOST),
        ("content-encoding", "aws-chunked"),
        ("x-amz-trailer", "x-amz-checksum-crc32"),
    ];
    headers.extend_from_slice(extra);
    sign(
        "PUT",
        "/key",
        &headers,
        "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
    )
}

fn unsigned_trailer_body(trailer_lines: &str) -> Vec<u8> {
    let mut body = format!("{:x}\r\n", BODY.len()).into_bytes();
    body.extend_from_slice(BODY);
    body.extend_from_slice(b"\r\n0\r\n");
    body.extend_from_slice(trailer_lines.as_bytes());
    body.extend_from_slice(b"\r\n");
    body
}

#[test]
fn unsigned_trailer_without_decoded_length() {
    let headers = unsigned_trailer_headers(&[]);
    let crc = ChecksumAlgorithm::Crc32.digest_base64(BODY);
    let body = unsigned_trailer_body(&format!("x-amz-checksum-crc32:{crc}\r\n"));
    let (decoded, summary) = put(&headers, &[&body]).unwrap();
    assert_eq!(decoded, BODY);
    assert_eq!(summary.checksum.unwrap().to_base64(), crc);
}

#[test]
fn unsigned_trailer_chunk_extensions_ignored() {
    let headers = unsigned_trailer_headers(&[]);
    let crc = ChecksumAlgorithm::Crc32.digest_base64(BODY);
    let mut body = format!("{:x};ext=1;flag\r\n", BODY.len()).into_bytes();
    body.extend_from_slice(BODY);
    body.extend_from_slice(format!("\r\n0;ext=2\r\nx-amz-checksum-crc32:{crc}\r\n\r\n").as_bytes());
    let (decoded, _) = put(&headers, &[&body]).unwrap();
    assert_eq!(decoded, BODY);
}

#[test]
fn unsigned_trailer_value_whitespace_trimmed() {
    let headers = unsigned_trailer_headers(&[]);
    let crc = ChecksumAlgorithm::Crc32.digest_base64(BODY);
    let body = unsigned_trailer_body(&format!("X-Amz-Checksum-CRC32:  {crc} \r\n"));
    assert!(put(&headers, &[&body]).is_ok());
}

#[test]
fn trailing_checksum_mismatch_bad_digest() {
    let headers = unsigned_trailer_headers(&[]);
    let crc = ChecksumAlgorithm::Crc32.digest_base64(b"other");
    let body = unsigned_trailer_body(&format!("x-amz-checksum-crc32:{crc}\r\n"));
    let error = put(&headers, &[&body]).unwrap_err();
    assert_eq!(
        error,
        PayloadError::ChecksumMismatch {
            algorithm: ChecksumAlgorithm::Crc32
        }
    );
    assert_eq!(error.s3_code(), "BadDigest");
}

#[test]
fn signed_trailer_checksum_mismatch_bad_digest() {
    // The trailer is signed correctly but carries the checksum of other data.
    let headers = sign(
        "PUT",
        "/key",
        &[
            ("host", HOST),
            ("content-encoding", "aws-chunked"),
            ("x-amz-decoded-content-length", &BODY.len().to_string()),
            ("x-amz-trailer", "x-amz-checksum-sha256"),
        ],
        "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER",
    );
    let seed = seed_of(&headers);
    let mut chunk_signer = ChunkSigner::new(&params(), &seed);
    let mut body = signer::encode_aws_chunked(Some(&mut chunk_signer), BODY, 64, None);
    body.truncate(body.len() - 2);
    let wrong = ChecksumAlgorithm::Sha256.digest_base64(b"other");
    let signature = chunk_signer.sign_trailer(&[("x-amz-checksum-sha256", &wrong)]);
    body.extend_from_slice(
        format!("x-amz-checksum-sha256:{wrong}\r\nx-amz-trailer-signature:{signature}\r\n\r\n")
            .as_bytes(),
    );
    let error = put(&headers, &[&body]).unwrap_err();
    assert_eq!(
        error,
        PayloadError::ChecksumMismatch {
            algorithm: ChecksumAlgorithm::Sha256
        }
    );
}

#[test]
fn missing_trailer_rejected() {
    let headers = unsigned_trailer_headers(&[]);
    let body = unsigned_trailer_body("");
    let error = put(&headers, &[&body]).unwrap_err();
    assert!(matches!(error, PayloadError::MalformedTrailer { .. }));
    assert_eq!(error.s3_code(), "MalformedTrailerError");
}

#[test]
fn undeclared_trailer_rejected() {
    let headers = unsigned_trailer_headers(&[]);
    let crc = ChecksumAlgorithm::Crc32c.digest_base64(BODY);
    let body = unsigned_trailer_body(&format!("x-amz-checksum-crc32c:{crc}\r\n"));
    let error = put(&headers, &[&body]).unwrap_err();
    assert!(matches!(error, PayloadError::MalformedTrailer { .. }));
}

#[test]
fn duplicate_trailer_rejected() {
    let headers = unsigned_trailer_headers(&[]);
    let crc = ChecksumAlgorithm::Crc32.digest_base64(BODY);
    let line = format!("x-amz-checksum-crc32:{crc}\r\n");
    let body = unsigned_trailer_body(&format!("{line}{line}"));
    let error = put(&headers, &[&body]).unwrap_err();
    assert!(matches!(error, PayloadError::MalformedTrailer { .. }));
}

#[test]
fn trailer_line_without_colon_rejected() {
    let headers = unsigned_trailer_headers(&[]);
    let body = unsigned_trailer_body("x-amz-checksum-crc32\r\n");
    let error = put(&headers, &[&body]).unwrap_err();
    assert!(matches!(error, PayloadError::MalformedTrailer { .. }));
}

#[test]
fn invalid_trailer_value_rejected() {
    let headers = unsigned_trailer_headers(&[]);
    let body = unsigned_trailer_body("x-amz-checksum-crc32:not-base64\r\n");
    let error = put(&headers, &[&body]).unwrap_err();
    assert_eq!(
        error,
        PayloadError::InvalidChecksum {
            algorithm: ChecksumAlgorithm::Crc32
        }
    );
}

#[test]
fn trailer_mode_needs_trailer_header() {
    let headers = sign(
        "PUT",
        "/key",
        &[("host", HOST), ("content-encoding", "aws-chunked")],
        "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
    );
    let error = put(&headers, &[]).unwrap_err();
    assert!(matches!(error, PayloadError::TrailerModeMismatch { .. }));
}

#[test]
fn trailer_header_needs_trailer_mode() {
    let headers = sign(
        "PUT",
        "/key",
        &[("host", HOST), ("x-amz-trailer", "x-amz-checksum-crc32")],
        "UNSIGNED-PAYLOAD",
    );
    let error = put(&headers, &[]).unwrap_err();
    assert!(matches!(error, PayloadError::TrailerModeMismatch { .. }));
}

#[test]
fn unknown_trailer_name_rejected() {
    let headers = sign(
        "PUT",
        "/key",
        &[("host", HOST), ("x-amz-trailer", "x-amz-meta-later")],
        "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
    );
    let error = put(&headers, &[]).unwrap_err();
    assert!(matches!(error, PayloadError::UnsupportedTrailer { .. }));
}

#[test]
fn header_and_trailer_checksum_rejected() {
    let crc = ChecksumAlgorithm::Crc32.digest_base64(BODY);
    let headers = unsigned_trailer_headers(&[("x-amz-checksum-crc32", &crc)]);
    assert_eq!(
        put(&headers, &[]).unwrap_err(),
        PayloadError::MultipleChecksums
    );
}

#[test]
fn missing_trailer_signature_rejected() {
    let (headers, encoded) = chunked_upload(
        BODY,
        16,
        PayloadMode::StreamingSignedTrailer,
        Some(ChecksumAlgorithm::Crc32),
    );
    let text = String::from_utf8(encoded).unwrap();
    let start = text.find("x-amz-trailer-signature:").unwrap();
    let stripped = format!("{}\r\n", &text[..start]);
    let error = put(&headers, &[stripped.as_bytes()]).unwrap_err();
    assert_eq!(error, PayloadError::MissingTrailerSignature);
}

#[test]
fn tampered_trailer_signature_rejected() {
    let (headers, encoded) = chunked_upload(
        BODY,
        16,
        PayloadMode::StreamingSignedTrailer,
        Some(ChecksumAlgorithm::Crc32),
    );
    let text = String::from_utf8(encoded).unwrap();
    let start = text.find("x-amz-trailer-signature:").unwrap() + 24;
    let mut tampered = text.into_bytes();
    tampered[start] = if tampered[start] == b'a' { b'b' } else { b'a' };
    let error = put(&headers, &[&tampered]).unwrap_err();
    assert_eq!(error, PayloadError::TrailerSignatureDoesNotMatch);
}

#[test]
fn trailer_in_non_trailer_mode_rejected() {
    let (headers, encoded) = chunked_upload(BODY, 64, PayloadMode::StreamingSigned, None);
    let mut body = encoded[..encoded.len() - 2].to_vec();
    body.extend_from_slice(b"x-amz-checksum-crc32:AAAAAA==\r\n\r\n");
    let error = put(&headers, &[&body]).unwrap_err();
    assert!(matches!(error, PayloadError::MalformedTrailer { .. }));
}

#[test]
fn chunk_line_limit_enforced() {
    let headers = unsigned_trailer_headers(&[]);
    let line = format!("10;{}\r\n", "x".repeat(MAX_CHUNK_LINE_LEN));
    let error = put(&headers, &[line.as_bytes()]).unwrap_err();
    assert_eq!(
        error,
        PayloadError::ChunkLineTooLong {
            limit: MAX_CHUNK_LINE_LEN
        }
    );
}

#[test]
fn chunk_line_limit_across_pushes() {
    let headers = unsigned_trailer_headers(&[]);
    let verified = verify("PUT", "/key", &headers).unwrap();
    let borrowed = borrow(&headers);
    let request = SignedRequest::from_target("PUT", "/key", &borrowed);
    let mut verifier = PayloadVerifier::new(&verified, &request).unwrap();
    let mut output = Vec::new();
    let mut result = Ok(());
    // A line without LF, fed in small pieces, must fail once it passes the limit.
    for _ in 0..=MAX_CHUNK_LINE_LEN / 64 {
        result = verifier.push(Bytes::from(vec![b'1'; 64]), &mut output);
        if result.is_err() {
            break;
        }
    }
    assert!(matches!(result, Err(PayloadError::ChunkLineTooLong { .. })));
}

#[test]
fn chunk_line_at_limit_accepted() {
    let headers = unsigned_trailer_headers(&[]);
    let crc = ChecksumAlgorithm::Crc32.digest_base64(BODY);
    let prefix = format!("{:x};", BODY.len());
    let padding = "x".repeat(MAX_CHUNK_LINE_LEN - prefix.len() - 2);
    let mut body = format!("{prefix}{padding}\r\n").into_bytes();
    assert_eq!(body.len(), MAX_CHUNK_LINE_LEN);
    body.extend_from_slice(BODY);
    body.extend_from_slice(format!("\r\n0\r\nx-amz-checksum-crc32:{crc}\r\n\r\n").as_bytes());
    assert!(put(&headers, &[&body]).is_ok());
}

#[test]
fn chunk_size_limit_enforced() {
    let headers = unsigned_trailer_headers(&[]);
    let line = format!("{:x}\r\n", MAX_CHUNK_SIZE + 1);
    let error = put(&headers, &[line.as_bytes()]).unwrap_err();
    assert_eq!(
        error,
        PayloadError::ChunkTooLarge {
            size: MAX_CHUNK_SIZE + 1,
            limit: MAX_CHUNK_SIZE
        }
    );
}

#[test]
fn huge_hex_chunk_size_rejected() {
    let headers = unsigned_trailer_headers(&[]);
    let error = put(&headers, &[b"fffffffffffffffff\r\n"]).unwrap_err();
    assert!(matches!(error, PayloadError::MalformedChunk { .. }));
}

#[test]
fn trailer_section_limit_enforced() {
    let headers = unsigned_trailer_headers(&[]);
    let mut body = b"0\r\n".to_vec();
    let line = format!(
        "x-amz-checksum-crc32:{}\r\n",
        "A".repeat(MAX_TRAILER_SECTION_LEN)
    );
    body.extend_from_slice(line.as_bytes());
    let error = put(&headers, &[&body]).unwrap_err();
    assert_eq!(
        error,
        PayloadError::TrailerTooLarge {
            limit: MAX_TRAILER_SECTION_LEN
        }
    );
}

#[test]
fn trailer_section_limit_spans_lines() {
    // The limit counts the whole section, so many short lines cannot exceed it either.
    let headers = unsigned_trailer_headers(&[]);
    let crc = ChecksumAlgorithm::Crc32.digest_base64(BODY);
    let mut body = unsigned_trailer_body("");
    body.truncate(body.len() - 2);
    body.extend_from_slice(format!("x-amz-checksum-crc32:{crc}\r\n").as_bytes());
    while body.len() < MAX_TRAILER_SECTION_LEN + 200 {
        body.extend_from_slice(b"x-amz-trailer-signature:ignored\r\n");
    }
    let error = put(&headers, &[&body]).unwrap_err();
    assert_eq!(
        error,
        PayloadError::TrailerTooLarge {
            limit: MAX_TRAILER_SECTION_LEN
        }
    );
}

#[test]
fn non_hex_chunk_size_rejected() {
    let headers = unsigned_trailer_headers(&[]);
    for line in [&b"zz\r\n"[..], b"\r\n", b" 10\r\n", b"+10\r\n", b"10 \r\n"] {
        let error = put(&headers, &[line]).unwrap_err();
        assert!(
            matches!(error, PayloadError::MalformedChunk { .. }),
            "{line:?}"
        );
    }
}

#[test]
fn bare_lf_line_rejected() {
    let headers = unsigned_trailer_headers(&[]);
    let error = put(&headers, &[b"5\nhello\r\n"]).unwrap_err();
    assert!(matches!(error, PayloadError::MalformedChunk { .. }));
}

#[test]
fn missing_crlf_after_data_rejected() {
    let headers = unsigned_trailer_headers(&[]);
    let error = put(&headers, &[b"5\r\nhello!\r\n"]).unwrap_err();
    assert!(matches!(error, PayloadError::MalformedChunk { .. }));
}

#[test]
fn failed_push_outputs_nothing() {
    let (headers, mut encoded) = chunked_upload(BODY, 64, PayloadMode::StreamingSigned, None);
    let position = encoded.iter().position(|&byte| byte == b'q').unwrap();
    encoded[position] = b'Q';
    let verified = verify("PUT", "/key", &headers).unwrap();
    let borrowed = borrow(&headers);
    let request = SignedRequest::from_target("PUT", "/key", &borrowed);
    let mut verifier = PayloadVerifier::new(&verified, &request).unwrap();
    let mut output = vec![Bytes::from_static(b"earlier")];
    let result = verifier.push(Bytes::from(encoded), &mut output);
    assert!(result.is_err());
    assert_eq!(output, vec![Bytes::from_static(b"earlier")]);
}

#[test]
fn errors_are_sticky() {
    let headers = unsigned_trailer_headers(&[]);
    let verified = verify("PUT", "/key", &headers).unwrap();
    let borrowed = borrow(&headers);
    let request = SignedRequest::from_target("PUT", "/key", &borrowed);
    let mut verifier = PayloadVerifier::new(&verified, &request).unwrap();
    let mut output = Vec::new();
    let first = verifier
        .push(Bytes::from_static(b"zz\r\n"), &mut output)
        .unwrap_err();
    let second = verifier
        .push(Bytes::from_static(b"5\r\n"), &mut output)
        .unwrap_err();
    assert_eq!(first, second);
    assert_eq!(verifier.finish().unwrap_err(), first);
}

#[test]
fn anonymous_plain_body_checks_md5() {
    let md5 = md5_base64(BODY);
    let headers = owned(&[("content-md5", &md5)]);
    let (decoded, summary) = verify_anonymous_body(&headers, &[BODY]).unwrap();
    assert_eq!(decoded, BODY);
    assert!(summary.content_md5.is_some());
    let error = verify_anonymous_body(&headers, &[b"tampered"]).unwrap_err();
    assert_eq!(error, PayloadError::ContentMd5Mismatch);
}

#[test]
fn anonymous_checks_content_sha256() {
    let headers = owned(&[("x-amz-content-sha256", &sha256_hex(b"other"))]);
    let error = verify_anonymous_body(&headers, &[BODY]).unwrap_err();
    assert_eq!(error, PayloadError::ContentSha256Mismatch);
}

#[test]
fn anonymous_unsigned_trailer_decodes() {
    let crc = ChecksumAlgorithm::Crc32.digest_base64(BODY);
    let headers = owned(&[
        ("x-amz-content-sha256", "STREAMING-UNSIGNED-PAYLOAD-TRAILER"),
        ("x-amz-trailer", "x-amz-checksum-crc32"),
    ]);
    let body = unsigned_trailer_body(&format!("x-amz-checksum-crc32:{crc}\r\n"));
    let (decoded, _) = verify_anonymous_body(&headers, &[&body]).unwrap();
    assert_eq!(decoded, BODY);
}

#[test]
fn anonymous_signed_streaming_rejected() {
    let headers = owned(&[
        ("x-amz-content-sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"),
        ("x-amz-decoded-content-length", "5"),
    ]);
    let error = verify_anonymous_body(&headers, &[]).unwrap_err();
    assert!(matches!(
        error,
        PayloadError::SignedPayloadWithoutSignature { .. }
    ));
}

#[test]
fn anonymous_invalid_mode_rejected() {
    let headers = owned(&[("x-amz-content-sha256", "nonsense")]);
    let error = verify_anonymous_body(&headers, &[]).unwrap_err();
    assert!(matches!(error, PayloadError::InvalidContentSha256 { .. }));
}

#[test]
fn presigned_payload_defaults_unsigned() {
    let target = signer::presign_url(&params(), "PUT", "/key", HOST, 60);
    let headers = owned(&[("host", HOST)]);
    let verified = verify("PUT", &target, &headers).unwrap();
    assert_eq!(verified.payload_mode(), PayloadMode::Unsigned);
}

#[test]
fn presigned_query_payload_hash_used() {
    // Some SDKs put X-Amz-Content-Sha256 in the presigned query; the digest is then enforced.
    let target = format!("/key?X-Amz-Content-Sha256={}", sha256_hex(BODY));
    let url = signer::presign_url(&params(), "PUT", &target, HOST, 60);
    let headers = owned(&[("host", HOST)]);
    let verified = verify("PUT", &url, &headers).unwrap();
    assert!(matches!(verified.payload_mode(), PayloadMode::Sha256(_)));
    let error = verify_body("PUT", &url, &headers, &[b"tampered"]).unwrap_err();
    assert_eq!(error, PayloadError::ContentSha256Mismatch);
}

#[test]
fn duplicate_content_md5_rejected() {
    let md5 = md5_base64(BODY);
    let headers = owned(&[("content-md5", &md5), ("Content-MD5", &md5)]);
    let error = verify_anonymous_body(&headers, &[]).unwrap_err();
    assert_eq!(
        error,
        PayloadError::DuplicateHeader {
            name: "content-md5"
        }
    );
}
