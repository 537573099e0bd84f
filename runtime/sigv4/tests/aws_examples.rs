//! The example values that AWS publishes for S3 SigV4: the "Examples: Signature Calculations"
//! section of header-based authentication (GET Object, PUT Object, GET Bucket Lifecycle, GET
//! Bucket), the presigned URL example, the chunked upload example and the trailing-header
//! example. All use the example credentials, 20130524T000000Z and us-east-1.

mod common;

use common::*;
use ironbucket_sigv4::signer::{self, ChunkSigner};
use ironbucket_sigv4::{ChecksumAlgorithm, EMPTY_SHA256, PayloadError, SignedRequest};

const GET_OBJECT_SIGNATURE: &str =
    "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41";
const PUT_OBJECT_SIGNATURE: &str =
    "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd";
const LIFECYCLE_SIGNATURE: &str =
    "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543";
const LIST_OBJECTS_SIGNATURE: &str =
    "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7";
const PRESIGNED_SIGNATURE: &str =
    "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404";

const CHUNKED_SEED: &str = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9";
const CHUNKED_SIGNATURES: [&str; 3] = [
    "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648",
    "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497",
    "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9",
];
const TRAILER_SEED: &str = "106e2a8a18243abcf37539882f36619c00e2dfc72633413f02d3b74544bfeb8e";
const TRAILER_CHUNK_SIGNATURES: [&str; 3] = [
    "b474d8862b1487a5145d686f57f013e54db672cee1c953b3010fb58501ef5aa2",
    "1c1344b170168f8e65b41376b44b20fe354e373826ccbbe2c1d40a8cae51e5c7",
    "2ca2aba2005185cf7159c6277faf83795951dd77a3a99e6e65d5c9f85863f992",
];
const TRAILER_SIGNATURE: &str = "d81f82fc3505edab99d459891051a732e8730629a2e4a59689829ca17fe2e435";

fn authorization(signed_headers: &str, signature: &str) -> String {
    format!(
        "AWS4-HMAC-SHA256 Credential={ACCESS_KEY_ID}/20130524/us-east-1/s3/aws4_request,SignedHeaders={signed_headers},Signature={signature}"
    )
}

fn get_object_headers(signature: &str) -> Vec<(String, String)> {
    owned(&[
        ("Host", "examplebucket.s3.amazonaws.com"),
        ("Range", "bytes=0-9"),
        ("x-amz-content-sha256", EMPTY_SHA256),
        ("x-amz-date", "20130524T000000Z"),
        (
            "Authorization",
            &authorization("host;range;x-amz-content-sha256;x-amz-date", signature),
        ),
    ])
}

#[test]
fn get_object_example_verifies() {
    let verified = verify(
        "GET",
        "/test.txt",
        &get_object_headers(GET_OBJECT_SIGNATURE),
    )
    .unwrap();
    assert_eq!(verified.access_key_id(), ACCESS_KEY_ID);
}

#[test]
fn get_object_example_canonical_request() {
    let headers = get_object_headers(&"0".repeat(64));
    let error = verify("GET", "/test.txt", &headers).unwrap_err();
    let mismatch = error.signature_mismatch().unwrap();
    assert_eq!(
        mismatch.canonical_request,
        "GET\n/test.txt\n\nhost:examplebucket.s3.amazonaws.com\nrange:bytes=0-9\n\
         x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n\
         x-amz-date:20130524T000000Z\n\nhost;range;x-amz-content-sha256;x-amz-date\n\
         e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
    assert_eq!(
        mismatch.string_to_sign,
        "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n\
         7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972"
    );
}

#[test]
fn signer_reproduces_get_object() {
    let headers = [
        ("host", "examplebucket.s3.amazonaws.com"),
        ("range", "bytes=0-9"),
        ("x-amz-content-sha256", EMPTY_SHA256),
        ("x-amz-date", "20130524T000000Z"),
    ];
    let request = SignedRequest::from_target("GET", "/test.txt", &headers);
    let signature = signer::sign_request(&params(), &request);
    assert_eq!(signature.signature, GET_OBJECT_SIGNATURE);
}

fn put_object_headers() -> Vec<(String, String)> {
    owned(&[
        ("Host", "examplebucket.s3.amazonaws.com"),
        ("Date", "Fri, 24 May 2013 00:00:00 GMT"),
        ("x-amz-date", "20130524T000000Z"),
        ("x-amz-storage-class", "REDUCED_REDUNDANCY"),
        (
            "x-amz-content-sha256",
            "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072",
        ),
        (
            "Authorization",
            &authorization(
                "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class",
                PUT_OBJECT_SIGNATURE,
            ),
        ),
    ])
}

#[test]
fn put_object_example_verifies() {
    // The key is sent with an unencoded `$`, which the canonical URI encodes as %24.
    assert!(verify("PUT", "/test$file.text", &put_object_headers()).is_ok());
}

#[test]
fn put_object_encoded_path_verifies() {
    assert!(verify("PUT", "/test%24file.text", &put_object_headers()).is_ok());
}

#[test]
fn put_object_example_body_verifies() {
    let headers = put_object_headers();
    let (decoded, summary) = verify_body(
        "PUT",
        "/test$file.text",
        &headers,
        &[b"Welcome to ", b"Amazon S3."],
    )
    .unwrap();
    assert_eq!(decoded, b"Welcome to Amazon S3.");
    assert_eq!(summary.decoded_length, 21);
    assert!(summary.content_sha256.is_some());
}

#[test]
fn put_object_tampered_body_rejected() {
    let headers = put_object_headers();
    let error = verify_body(
        "PUT",
        "/test$file.text",
        &headers,
        &[b"Welcome to Amazon S3!"],
    )
    .unwrap_err();
    assert_eq!(error, PayloadError::ContentSha256Mismatch);
    assert_eq!(error.s3_code(), "XAmzContentSHA256Mismatch");
}

fn bucket_headers(signature: &str) -> Vec<(String, String)> {
    owned(&[
        ("Host", "examplebucket.s3.amazonaws.com"),
        ("x-amz-date", "20130524T000000Z"),
        ("x-amz-content-sha256", EMPTY_SHA256),
        (
            "Authorization",
            &authorization("host;x-amz-content-sha256;x-amz-date", signature),
        ),
    ])
}

#[test]
fn lifecycle_example_verifies() {
    assert!(verify("GET", "/?lifecycle", &bucket_headers(LIFECYCLE_SIGNATURE)).is_ok());
}

#[test]
fn list_objects_example_verifies() {
    let headers = bucket_headers(LIST_OBJECTS_SIGNATURE);
    assert!(verify("GET", "/?max-keys=2&prefix=J", &headers).is_ok());
}

#[test]
fn list_objects_query_order_irrelevant() {
    let headers = bucket_headers(LIST_OBJECTS_SIGNATURE);
    assert!(verify("GET", "/?prefix=J&max-keys=2", &headers).is_ok());
}

const PRESIGNED_TARGET: &str = "/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404";

#[test]
fn presigned_example_verifies() {
    let headers = owned(&[("Host", "examplebucket.s3.amazonaws.com")]);
    let verified = verify("GET", PRESIGNED_TARGET, &headers).unwrap();
    assert_eq!(verified.kind(), ironbucket_sigv4::AuthKind::Presigned);
}

#[test]
fn presign_url_reproduces_example() {
    let url = signer::presign_url(
        &params(),
        "GET",
        "/test.txt",
        "examplebucket.s3.amazonaws.com",
        86_400,
    );
    assert_eq!(url, PRESIGNED_TARGET);
    assert!(url.ends_with(PRESIGNED_SIGNATURE));
}

fn chunked_headers(mode: &str, signed_headers: &str, seed: &str) -> Vec<(String, String)> {
    let mut headers = owned(&[
        ("Host", "s3.amazonaws.com"),
        ("x-amz-date", "20130524T000000Z"),
        ("x-amz-storage-class", "REDUCED_REDUNDANCY"),
        ("x-amz-content-sha256", mode),
        ("Content-Encoding", "aws-chunked"),
        ("x-amz-decoded-content-length", "66560"),
        ("Content-Length", "66824"),
    ]);
    if mode.ends_with("TRAILER") {
        headers.push(owned(&[("x-amz-trailer", "x-amz-checksum-crc32c")]).remove(0));
    }
    headers.push((
        "Authorization".to_owned(),
        authorization(signed_headers, seed),
    ));
    headers
}

/// Builds the example body: 65536 and 1024 bytes of `a`, then the final chunk, with the
/// given chunk signatures, followed by `tail`.
fn example_chunked_body(signatures: [&str; 3], tail: &str) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend_from_slice(format!("10000;chunk-signature={}\r\n", signatures[0]).as_bytes());
    body.extend_from_slice(&[b'a'; 65_536]);
    body.extend_from_slice(format!("\r\n400;chunk-signature={}\r\n", signatures[1]).as_bytes());
    body.extend_from_slice(&[b'a'; 1_024]);
    body.extend_from_slice(format!("\r\n0;chunk-signature={}\r\n", signatures[2]).as_bytes());
    body.extend_from_slice(tail.as_bytes());
    body
}

const CHUNKED_SIGNED_HEADERS: &str = "content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class";
const TRAILER_SIGNED_HEADERS: &str = "content-encoding;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class;x-amz-trailer";

#[test]
fn chunked_example_seed_verifies() {
    let headers = chunked_headers(
        "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
        CHUNKED_SIGNED_HEADERS,
        CHUNKED_SEED,
    );
    assert!(verify("PUT", "/examplebucket/chunkObject.txt", &headers).is_ok());
}

#[test]
fn chunked_example_body_decodes() {
    let headers = chunked_headers(
        "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
        CHUNKED_SIGNED_HEADERS,
        CHUNKED_SEED,
    );
    let body = example_chunked_body(CHUNKED_SIGNATURES, "\r\n");
    assert_eq!(body.len(), 66_824);
    let pieces: Vec<&[u8]> = body.chunks(1_000).collect();
    let (decoded, summary) =
        verify_body("PUT", "/examplebucket/chunkObject.txt", &headers, &pieces).unwrap();
    assert_eq!(decoded, vec![b'a'; 66_560]);
    assert_eq!(summary.decoded_length, 66_560);
}

#[test]
fn chunked_example_one_byte_pushes() {
    let headers = chunked_headers(
        "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
        CHUNKED_SIGNED_HEADERS,
        CHUNKED_SEED,
    );
    let body = example_chunked_body(CHUNKED_SIGNATURES, "\r\n");
    let pieces: Vec<&[u8]> = body.chunks(1).collect();
    let (decoded, _) =
        verify_body("PUT", "/examplebucket/chunkObject.txt", &headers, &pieces).unwrap();
    assert_eq!(decoded.len(), 66_560);
}

#[test]
fn chunk_signer_reproduces_example() {
    let mut signer = ChunkSigner::new(&params(), CHUNKED_SEED);
    assert_eq!(signer.sign_chunk(&[b'a'; 65_536]), CHUNKED_SIGNATURES[0]);
    assert_eq!(signer.sign_chunk(&[b'a'; 1_024]), CHUNKED_SIGNATURES[1]);
    assert_eq!(signer.sign_chunk(b""), CHUNKED_SIGNATURES[2]);
}

#[test]
fn chunked_example_swapped_signatures_rejected() {
    let headers = chunked_headers(
        "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
        CHUNKED_SIGNED_HEADERS,
        CHUNKED_SEED,
    );
    let swapped = [
        CHUNKED_SIGNATURES[1],
        CHUNKED_SIGNATURES[0],
        CHUNKED_SIGNATURES[2],
    ];
    let body = example_chunked_body(swapped, "\r\n");
    let error =
        verify_body("PUT", "/examplebucket/chunkObject.txt", &headers, &[&body]).unwrap_err();
    assert_eq!(error, PayloadError::ChunkSignatureDoesNotMatch { chunk: 0 });
}

#[test]
fn signed_upload_content_length_matches_example() {
    let mut headers = owned(&[
        ("host", "s3.amazonaws.com"),
        ("x-amz-storage-class", "REDUCED_REDUNDANCY"),
    ]);
    let body = [b'a'; 66_560];
    let upload = signer::ChunkedUpload {
        body: &body,
        chunk_size: 65_536,
        mode: ironbucket_sigv4::PayloadMode::StreamingSigned,
        trailer: None,
    };
    let encoded = signer::sign_chunked_upload(
        &params(),
        "PUT",
        "/examplebucket/chunkObject.txt",
        &mut headers,
        &upload,
    );
    let content_length = headers
        .iter()
        .find(|(name, _)| name == "content-length")
        .map(|(_, value)| value.as_str());
    assert_eq!(content_length, Some("66824"));
    assert_eq!(encoded.len(), 66_824);
    // Same headers and time as the AWS example, so the same seed and chunk signatures.
    assert_eq!(encoded, example_chunked_body(CHUNKED_SIGNATURES, "\r\n"));
}

fn trailer_headers() -> Vec<(String, String)> {
    chunked_headers(
        "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER",
        TRAILER_SIGNED_HEADERS,
        TRAILER_SEED,
    )
}

#[test]
fn trailer_example_seed_verifies() {
    assert!(verify("PUT", "/examplebucket/chunkObject.txt", &trailer_headers()).is_ok());
}

#[test]
fn trailer_example_body_verifies() {
    let tail = format!(
        "x-amz-checksum-crc32c:sOO8/Q==\r\nx-amz-trailer-signature:{TRAILER_SIGNATURE}\r\n\r\n"
    );
    let body = example_chunked_body(TRAILER_CHUNK_SIGNATURES, &tail);
    let pieces: Vec<&[u8]> = body.chunks(777).collect();
    let (decoded, summary) = verify_body(
        "PUT",
        "/examplebucket/chunkObject.txt",
        &trailer_headers(),
        &pieces,
    )
    .unwrap();
    assert_eq!(decoded.len(), 66_560);
    let checksum = summary.checksum.unwrap();
    assert_eq!(checksum.algorithm, ChecksumAlgorithm::Crc32c);
    assert_eq!(checksum.to_base64(), "sOO8/Q==");
}

#[test]
fn trailer_example_documented_layout_verifies() {
    // The AWS page shows an empty line after the final chunk and none after the trailer
    // signature; both are accepted.
    let tail = format!(
        "\r\nx-amz-checksum-crc32c:sOO8/Q==\r\nx-amz-trailer-signature:{TRAILER_SIGNATURE}\r\n"
    );
    let body = example_chunked_body(TRAILER_CHUNK_SIGNATURES, &tail);
    let result = verify_body(
        "PUT",
        "/examplebucket/chunkObject.txt",
        &trailer_headers(),
        &[&body],
    );
    assert!(result.is_ok(), "{result:?}");
}

#[test]
fn trailer_signer_reproduces_example() {
    let mut signer = ChunkSigner::new(&params(), TRAILER_SEED);
    assert_eq!(
        signer.sign_chunk(&[b'a'; 65_536]),
        TRAILER_CHUNK_SIGNATURES[0]
    );
    assert_eq!(
        signer.sign_chunk(&[b'a'; 1_024]),
        TRAILER_CHUNK_SIGNATURES[1]
    );
    assert_eq!(signer.sign_chunk(b""), TRAILER_CHUNK_SIGNATURES[2]);
    let trailer = signer.sign_trailer(&[("x-amz-checksum-crc32c", "sOO8/Q==")]);
    assert_eq!(trailer, TRAILER_SIGNATURE);
}

#[test]
fn trailer_example_tampered_value_rejected() {
    let tail = format!(
        "x-amz-checksum-crc32c:sOO8/A==\r\nx-amz-trailer-signature:{TRAILER_SIGNATURE}\r\n\r\n"
    );
    let body = example_chunked_body(TRAILER_CHUNK_SIGNATURES, &tail);
    let error = verify_body(
        "PUT",
        "/examplebucket/chunkObject.txt",
        &trailer_headers(),
        &[&body],
    )
    .unwrap_err();
    assert_eq!(error, PayloadError::TrailerSignatureDoesNotMatch);
}
