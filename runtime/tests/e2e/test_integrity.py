"""Nothing unverified is stored. A PUT that is correctly signed but whose body does not match
what the head promises (payload hash, Content-MD5, CRC32 header or trailer, length, chunk
signatures) is rejected with S3's error code, and the object keeps its previous content.

The requests are built by hand with `s3wire`, because an SDK never sends a tampered body.
"""

import hashlib

import pytest

from conftest import ALICE
from s3wire import (
    STREAMING_UNSIGNED_TRAILER,
    chunk_signatures,
    crc32_base64,
    frame_signed_chunks,
    md5_base64,
    object_path,
    send,
    send_truncated,
    sign_headers,
    signed_get,
    signed_put,
    signing_key,
    split_chunks,
    streaming_put,
    unsigned_trailer_put,
)

ORIGINAL = b"the original content, which must survive every rejected write\n"
KEY = "guarded.txt"


@pytest.fixture
def guarded(gateway, bucket):
    """A bucket with KEY holding ORIGINAL, written with a correctly signed raw PUT."""
    response = signed_put(gateway.endpoint, ALICE, bucket, KEY, ORIGINAL)
    assert response.status == 200, f"baseline PUT failed: {response.status} {response.body!r}"
    return bucket


def stored_body(gateway, bucket, key=KEY) -> bytes:
    response = signed_get(gateway.endpoint, ALICE, bucket, key)
    assert response.status == 200, f"GET {key} failed: {response.status} {response.body!r}"
    return response.body


def assert_unchanged(gateway, bucket):
    assert stored_body(gateway, bucket) == ORIGINAL, "a rejected PUT changed the stored object"


def test_raw_signed_put_accepted(gateway, guarded):
    # The positive control for the helpers: a correct request through the same path succeeds.
    body = b"replacement written correctly"
    response = signed_put(gateway.endpoint, ALICE, guarded, KEY, body)
    assert response.status == 200, f"correct raw PUT: {response.status} {response.body!r}"
    assert response.headers.get("etag") == f'"{hashlib.md5(body).hexdigest()}"', f"ETag: {response.headers}"
    assert stored_body(gateway, guarded) == body, "correct raw PUT did not store its body"


def test_payload_hash_mismatch_rejected(gateway, guarded):
    path = object_path(guarded, KEY)
    signed_body = b"A" * 4096
    sent_body = b"B" * 4096
    headers = sign_headers(gateway.endpoint, "PUT", path, ALICE, payload_hash=hashlib.sha256(signed_body).hexdigest())
    response = send(gateway.endpoint, "PUT", path, headers, sent_body)
    assert response.status == 400, f"payload hash mismatch status {response.status}: {response.body!r}"
    assert response.error_code == "XAmzContentSHA256Mismatch", f"error code: {response.body!r}"
    assert_unchanged(gateway, guarded)


def test_wrong_content_md5_rejected(gateway, guarded):
    body = b"body whose MD5 header belongs to another body"
    response = signed_put(gateway.endpoint, ALICE, guarded, KEY, body, {"Content-MD5": md5_base64(b"other body")})
    assert response.status == 400, f"wrong Content-MD5 status {response.status}: {response.body!r}"
    assert response.error_code == "BadDigest", f"error code: {response.body!r}"
    assert_unchanged(gateway, guarded)


def test_malformed_content_md5_rejected(gateway, guarded):
    response = signed_put(gateway.endpoint, ALICE, guarded, KEY, b"x", {"Content-MD5": "not-base64-md5"})
    assert response.status == 400, f"malformed Content-MD5 status {response.status}: {response.body!r}"
    assert response.error_code == "InvalidDigest", f"error code: {response.body!r}"
    assert_unchanged(gateway, guarded)


def test_correct_content_md5_accepted(gateway, guarded):
    body = b"body with a correct MD5"
    response = signed_put(gateway.endpoint, ALICE, guarded, KEY, body, {"Content-MD5": md5_base64(body)})
    assert response.status == 200, f"correct Content-MD5 rejected: {response.status} {response.body!r}"
    assert stored_body(gateway, guarded) == body, "PUT with a correct Content-MD5 did not store its body"


def test_wrong_crc32_header_rejected(gateway, guarded):
    body = b"body whose CRC32 header belongs to another body"
    headers = {"x-amz-checksum-crc32": crc32_base64(b"other body"), "x-amz-sdk-checksum-algorithm": "CRC32"}
    response = signed_put(gateway.endpoint, ALICE, guarded, KEY, body, headers)
    assert response.status == 400, f"wrong CRC32 status {response.status}: {response.body!r}"
    assert response.error_code == "BadDigest", f"error code: {response.body!r}"
    assert_unchanged(gateway, guarded)


def test_wrong_crc32_trailer_rejected(gateway, guarded):
    body = b"T" * 100_000
    response = unsigned_trailer_put(gateway.endpoint, ALICE, guarded, KEY, body, trailer_crc32=crc32_base64(b"other"))
    assert response.status == 400, f"wrong CRC32 trailer status {response.status}: {response.body!r}"
    assert response.error_code == "BadDigest", f"error code: {response.body!r}"
    assert_unchanged(gateway, guarded)


def test_correct_crc32_trailer_accepted(gateway, guarded):
    body = b"t" * 100_000
    response = unsigned_trailer_put(gateway.endpoint, ALICE, guarded, KEY, body)
    assert response.status == 200, f"{STREAMING_UNSIGNED_TRAILER} PUT rejected: {response.status} {response.body!r}"
    assert stored_body(gateway, guarded) == body, "trailer PUT did not store the decoded body"


def test_short_body_stores_nothing(gateway, guarded):
    path = object_path(guarded, KEY)
    full_body = b"S" * 100_000
    headers = sign_headers(gateway.endpoint, "PUT", path, ALICE, payload_hash=hashlib.sha256(full_body).hexdigest())
    headers["Content-Length"] = str(len(full_body))
    send_truncated(gateway.endpoint, path, headers, full_body[:40_000])
    assert_unchanged(gateway, guarded)


def test_short_body_new_key_absent(gateway, guarded):
    path = object_path(guarded, "never-finished")
    full_body = b"N" * 100_000
    headers = sign_headers(gateway.endpoint, "PUT", path, ALICE, payload_hash="UNSIGNED-PAYLOAD")
    headers["Content-Length"] = str(len(full_body))
    send_truncated(gateway.endpoint, path, headers, full_body[:10])
    response = signed_get(gateway.endpoint, ALICE, guarded, "never-finished")
    assert response.status == 404, f"a truncated PUT left an object: {response.status} {response.body[:200]!r}"


# Signed aws-chunked bodies (STREAMING-AWS4-HMAC-SHA256-PAYLOAD).


def test_chunk_signer_matches_aws_example():
    # AWS's published example: 66,560 bytes of "a" in chunks of 64 KiB, 1 KiB and 0, signed with
    # the documentation's example secret on 2013-05-24 after the seed signature 4f232c4...
    key = signing_key("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "20130524")
    seed = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"
    scope = "20130524/us-east-1/s3/aws4_request"
    signatures = chunk_signatures(key, "20130524T000000Z", scope, seed, split_chunks(b"a" * 66560, 65536))
    assert signatures == [
        "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648",
        "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497",
        "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9",
    ], "the suite's chunk signer disagrees with AWS's published signatures"
    body = frame_signed_chunks(split_chunks(b"a" * 66560, 65536), signatures)
    assert len(body) == 66824, f"framed body length {len(body)} differs from the example's Content-Length 66824"


def test_signed_chunks_accepted(gateway, guarded):
    data = bytes(range(256)) * 1000
    response = streaming_put(gateway.endpoint, ALICE, guarded, KEY, data, chunk_size=64 * 1024)
    assert response.status == 200, f"signed aws-chunked PUT rejected: {response.status} {response.body!r}"
    assert stored_body(gateway, guarded) == data, "signed aws-chunked PUT did not store the decoded payload"


def test_corrupted_chunk_signature_rejected(gateway, guarded):
    def forge_second_signature(chunks, signatures):
        signatures[1] = ("0" if signatures[1][0] != "0" else "1") + signatures[1][1:]
        return chunks, signatures

    data = b"C" * 200_000
    response = streaming_put(gateway.endpoint, ALICE, guarded, KEY, data, tamper=forge_second_signature)
    assert response.status == 403, f"forged chunk signature status {response.status}: {response.body!r}"
    assert response.error_code == "SignatureDoesNotMatch", f"error code: {response.body!r}"
    assert_unchanged(gateway, guarded)


def test_corrupted_chunk_data_rejected(gateway, guarded):
    def flip_byte_in_last_data_chunk(chunks, signatures):
        last = len(chunks) - 2
        chunks[last] = chunks[last][:-1] + bytes([chunks[last][-1] ^ 0x01])
        return chunks, signatures

    data = b"D" * 200_000
    response = streaming_put(gateway.endpoint, ALICE, guarded, KEY, data, tamper=flip_byte_in_last_data_chunk)
    assert response.status == 403, f"altered chunk data status {response.status}: {response.body!r}"
    assert response.error_code == "SignatureDoesNotMatch", f"error code: {response.body!r}"
    assert_unchanged(gateway, guarded)


def test_forged_final_chunk_rejected(gateway, guarded):
    def forge_final_signature(chunks, signatures):
        signatures[-1] = "f" * 64
        return chunks, signatures

    response = streaming_put(gateway.endpoint, ALICE, guarded, KEY, b"F" * 70_000, tamper=forge_final_signature)
    assert response.status == 403, f"forged final chunk status {response.status}: {response.body!r}"
    assert response.error_code == "SignatureDoesNotMatch", f"error code: {response.body!r}"
    assert_unchanged(gateway, guarded)
