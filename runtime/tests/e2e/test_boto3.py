"""boto3 against the gateway with the SDK's default checksum behaviour: over HTTP botocore sends
an `x-amz-checksum-crc32` header with a signed payload, over HTTPS it streams the body as
`aws-chunked` with STREAMING-UNSIGNED-PAYLOAD-TRAILER and a CRC32 trailer.

The tests cover listings (pagination over 2,500 keys in UTF-8 byte order, delimiters, URL
encoding), batch delete, copy, multipart uploads and their error cases, awkward keys,
conditional writes and presigned URLs. `TestOverHttps` repeats the core operations through the
TLS listener.
"""

import hashlib
import io
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest
from boto3.s3.transfer import TransferConfig
from botocore.exceptions import ClientError

from conftest import unique_bucket_name
from payloads import MIB, pattern
from s3wire import crc32_base64, error_code

# urllib must never use a proxy from the environment: every request goes to loopback.
LOOPBACK_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))

# Keys whose byte order differs from naive orders: '!' and '-' sort below '/', upper case below
# lower case, and multi-byte UTF-8 above all ASCII.
SPECIAL_TOP_LEVEL_KEYS = [
    "!bang",
    "-dash",
    "0zero",
    "Zed",
    "a b",
    "a+b",
    "dir0!x",
    "zed",
    "~tilde",
    "ünicode-é",
]
SPECIAL_PREFIX_KEYS = ["日本語/キー"]
REGULAR_KEY_COUNT = 2500 - len(SPECIAL_TOP_LEVEL_KEYS) - len(SPECIAL_PREFIX_KEYS)
REGULAR_KEYS = [f"dir{i % 5}/f{i:04d}" for i in range(REGULAR_KEY_COUNT)]
ALL_KEYS = SPECIAL_TOP_LEVEL_KEYS + SPECIAL_PREFIX_KEYS + REGULAR_KEYS
# S3 lists keys in the order of their UTF-8 bytes.
ALL_KEYS_SORTED = sorted(ALL_KEYS, key=lambda key: key.encode("utf-8"))

AWKWARD_KEYS = [
    "with space",
    "plus+sign",
    "percent%20literal%",
    "tilde~key",
    "ünïcødé/ファイル",
    "a//b",
    "./x",
    "trailing/",
    "q?mark#hash&amp=",
]


def client_error_code(error: ClientError) -> str:
    return error.response["Error"]["Code"]


def http_status(error: ClientError) -> int:
    return error.response["ResponseMetadata"]["HTTPStatusCode"]


@pytest.fixture(scope="module")
def listing_bucket(gateway):
    """A bucket of 2,500 keys, filled once per gateway and only read by the tests using it."""
    name = unique_bucket_name("listing")
    client = gateway.client()
    client.create_bucket(Bucket=name)
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda key: client.put_object(Bucket=name, Key=key, Body=b""), ALL_KEYS))
    return name


# Objects.


def test_put_get_head_round_trip(gateway, bucket):
    client = gateway.client()
    data = pattern(300_000, seed=5)
    put = client.put_object(Bucket=bucket, Key="obj", Body=data, ContentType="application/octet-stream")
    assert put["ETag"] == f'"{hashlib.md5(data).hexdigest()}"', f"PutObject ETag: {put['ETag']}"
    got = client.get_object(Bucket=bucket, Key="obj")
    assert got["Body"].read() == data, "GetObject body differs from the PutObject body"
    head = client.head_object(Bucket=bucket, Key="obj")
    assert head["ContentLength"] == len(data), f"HeadObject ContentLength: {head['ContentLength']}"
    assert head["ETag"] == put["ETag"], f"HeadObject ETag {head['ETag']} differs from PutObject's"
    assert head["ContentType"] == "application/octet-stream", f"ContentType: {head['ContentType']}"


def test_put_returns_crc32_checksum(gateway, bucket):
    client = gateway.client()
    data = b"checksummed body"
    put = client.put_object(Bucket=bucket, Key="crc", Body=data)
    # botocore sent x-amz-checksum-crc32; S3 echoes the checksum it verified.
    assert put.get("ChecksumCRC32") == crc32_base64(data), f"PutObject ChecksumCRC32: {put.get('ChecksumCRC32')}"


def test_get_missing_key_404(gateway, bucket):
    with pytest.raises(ClientError) as error:
        gateway.client().get_object(Bucket=bucket, Key="absent")
    assert client_error_code(error.value) == "NoSuchKey", f"error: {error.value.response['Error']}"
    assert http_status(error.value) == 404, "NoSuchKey status is not 404"


def test_missing_bucket_404(gateway, bucket_name):
    with pytest.raises(ClientError) as error:
        gateway.client().list_objects_v2(Bucket=bucket_name)
    assert client_error_code(error.value) == "NoSuchBucket", f"error: {error.value.response['Error']}"


@pytest.mark.parametrize("key", AWKWARD_KEYS)
def test_awkward_keys_round_trip(gateway, bucket, key):
    client = gateway.client()
    body = f"body of {key}".encode()
    client.put_object(Bucket=bucket, Key=key, Body=body)
    assert client.get_object(Bucket=bucket, Key=key)["Body"].read() == body, f"GET of {key!r} returned other bytes"
    assert client.head_object(Bucket=bucket, Key=key)["ContentLength"] == len(body), f"HEAD of {key!r}"
    listed = [entry["Key"] for entry in client.list_objects_v2(Bucket=bucket).get("Contents", [])]
    assert listed == [key], f"listing after putting {key!r}: {listed}"
    client.delete_object(Bucket=bucket, Key=key)
    assert client.list_objects_v2(Bucket=bucket).get("KeyCount") == 0, f"{key!r} still listed after DELETE"


def test_put_if_none_match(gateway, bucket):
    client = gateway.client()
    try:
        client.put_object(Bucket=bucket, Key="once", Body=b"first", IfNoneMatch="*")
    except ClientError as error:
        if client_error_code(error) == "NotImplemented":
            pytest.skip("conditional writes (If-None-Match on PUT) are not implemented")
        raise
    with pytest.raises(ClientError) as error:
        client.put_object(Bucket=bucket, Key="once", Body=b"second", IfNoneMatch="*")
    assert client_error_code(error.value) == "PreconditionFailed", f"second put: {error.value.response['Error']}"
    assert http_status(error.value) == 412, "PreconditionFailed status is not 412"
    assert client.get_object(Bucket=bucket, Key="once")["Body"].read() == b"first", "conditional put overwrote"


# Listings.


def test_paginator_2500_keys_order(gateway, listing_bucket):
    paginator = gateway.client().get_paginator("list_objects_v2")
    pages = list(paginator.paginate(Bucket=listing_bucket, PaginationConfig={"PageSize": 1000}))
    assert [page["KeyCount"] for page in pages] == [1000, 1000, 500], "pages of 2,500 keys at MaxKeys=1000"
    assert [page["IsTruncated"] for page in pages] == [True, True, False], "IsTruncated per page"
    keys = [entry["Key"] for page in pages for entry in page.get("Contents", [])]
    assert len(keys) == len(set(keys)), "a key was listed twice across pages"
    assert set(keys) == set(ALL_KEYS), f"listed key set differs: missing {sorted(set(ALL_KEYS) - set(keys))[:5]}"
    assert keys == ALL_KEYS_SORTED, "keys are not in UTF-8 byte order"


def test_delimiter_prefixes_across_pages(gateway, listing_bucket):
    paginator = gateway.client().get_paginator("list_objects_v2")
    pages = list(paginator.paginate(Bucket=listing_bucket, Delimiter="/", PaginationConfig={"PageSize": 3}))
    prefixes = [entry["Prefix"] for page in pages for entry in page.get("CommonPrefixes", [])]
    keys = [entry["Key"] for page in pages for entry in page.get("Contents", [])]
    expected_prefixes = sorted({key.split("/")[0] + "/" for key in ALL_KEYS if "/" in key}, key=str.encode)
    expected_keys = sorted((key for key in ALL_KEYS if "/" not in key), key=str.encode)
    # Keys and common prefixes both count against MaxKeys.
    assert len(pages) == -(-(len(expected_prefixes) + len(expected_keys)) // 3), f"page count {len(pages)}"
    assert prefixes == expected_prefixes, f"CommonPrefixes across pages: {prefixes}"
    assert keys == expected_keys, f"top-level keys across pages: {keys}"
    merged = [entry for page in pages for entry in sorted(
        [e["Key"] for e in page.get("Contents", [])] + [e["Prefix"] for e in page.get("CommonPrefixes", [])],
        key=str.encode,
    )]  # fmt: skip
    assert merged == sorted(expected_prefixes + expected_keys, key=str.encode), "pages overlap or are out of order"


def test_delimiter_within_prefix(gateway, listing_bucket):
    listing = gateway.client().list_objects_v2(Bucket=listing_bucket, Prefix="dir0", Delimiter="/")
    prefixes = [entry["Prefix"] for entry in listing.get("CommonPrefixes", [])]
    keys = [entry["Key"] for entry in listing.get("Contents", [])]
    assert prefixes == ["dir0/"], f"CommonPrefixes under prefix dir0: {prefixes}"
    assert keys == ["dir0!x"], f"keys under prefix dir0 with delimiter: {keys}"


def test_encoding_type_url_listing(gateway, bucket):
    client = gateway.client()
    keys = ["sp ace", "plus+", "ünï", "ctl\x01char", "slash/key"]
    for key in keys:
        client.put_object(Bucket=bucket, Key=key, Body=b"")
    # Setting EncodingType explicitly stops botocore from decoding the keys itself.
    listing = client.list_objects_v2(Bucket=bucket, EncodingType="url")
    assert listing.get("EncodingType") == "url", f"EncodingType not echoed: {listing.get('EncodingType')}"
    raw = [entry["Key"] for entry in listing.get("Contents", [])]
    assert all(key.isascii() and " " not in key and "\x01" not in key for key in raw), f"keys not encoded: {raw}"
    decoded = [urllib.parse.unquote_plus(key) for key in raw]
    assert decoded == sorted(keys, key=str.encode), f"decoded keys: {decoded}"


# Batch delete and copy.


def test_delete_objects_quiet_and_verbose(gateway, bucket):
    client = gateway.client()
    for key in ["a", "b", "c", "d"]:
        client.put_object(Bucket=bucket, Key=key, Body=b"x")
    verbose = client.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "a"}, {"Key": "b"}, {"Key": "zz"}]})
    assert sorted(entry["Key"] for entry in verbose.get("Deleted", [])) == ["a", "b", "zz"], f"Deleted: {verbose}"
    assert verbose.get("Errors", []) == [], f"Errors: {verbose.get('Errors')}"
    quiet = client.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "c"}], "Quiet": True})
    # In quiet mode S3 lists only the keys that failed.
    assert quiet.get("Deleted", []) == [], f"quiet mode listed deleted keys: {quiet.get('Deleted')}"
    assert quiet.get("Errors", []) == [], f"quiet mode Errors: {quiet.get('Errors')}"
    remaining = [entry["Key"] for entry in client.list_objects_v2(Bucket=bucket).get("Contents", [])]
    assert remaining == ["d"], f"objects left: {remaining}"


def test_copy_object_copy_replace(gateway, bucket):
    client = gateway.client()
    client.put_object(Bucket=bucket, Key="src", Body=b"original", Metadata={"k": "v"}, ContentType="text/plain")
    source = {"Bucket": bucket, "Key": "src"}
    copied = client.copy_object(Bucket=bucket, Key="copy", CopySource=source, MetadataDirective="COPY")
    assert copied["CopyObjectResult"]["ETag"] == f'"{hashlib.md5(b"original").hexdigest()}"', f"copy ETag: {copied}"
    head = client.head_object(Bucket=bucket, Key="copy")
    assert head["Metadata"] == {"k": "v"}, f"COPY metadata: {head['Metadata']}"
    assert head["ContentType"] == "text/plain", f"COPY content type: {head['ContentType']}"
    client.copy_object(
        Bucket=bucket, Key="replaced", CopySource=source, MetadataDirective="REPLACE",
        Metadata={"new": "yes"}, ContentType="application/json",
    )  # fmt: skip
    replaced = client.head_object(Bucket=bucket, Key="replaced")
    assert replaced["Metadata"] == {"new": "yes"}, f"REPLACE metadata: {replaced['Metadata']}"
    assert replaced["ContentType"] == "application/json", f"REPLACE content type: {replaced['ContentType']}"
    assert client.get_object(Bucket=bucket, Key="replaced")["Body"].read() == b"original", "copied body differs"


def test_copy_missing_source_fails(gateway, bucket):
    with pytest.raises(ClientError) as error:
        gateway.client().copy_object(Bucket=bucket, Key="dst", CopySource={"Bucket": bucket, "Key": "nothing"})
    assert client_error_code(error.value) == "NoSuchKey", f"copy of a missing source: {error.value.response['Error']}"


# Multipart uploads.


def test_upload_fileobj_multipart(gateway, bucket):
    client = gateway.client()
    data = pattern(12 * MIB, seed=12)
    config = TransferConfig(multipart_threshold=5 * MIB, multipart_chunksize=5 * MIB, max_concurrency=4)
    client.upload_fileobj(io.BytesIO(data), bucket, "managed", Config=config)
    head = client.head_object(Bucket=bucket, Key="managed")
    assert head["ETag"].strip('"').endswith("-3"), f"12 MiB in 5 MiB parts should give a 3-part ETag: {head['ETag']}"
    out = io.BytesIO()
    client.download_fileobj(bucket, "managed", out, Config=config)
    assert out.getvalue() == data, "download_fileobj returned other bytes than upload_fileobj sent"


def upload_parts(client, bucket, key, parts):
    """Create an upload, send each part and return (upload id, [(part number, ETag)])."""
    upload_id = client.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
    etags = []
    for number, data in enumerate(parts, start=1):
        response = client.upload_part(Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=data)
        etags.append((number, response["ETag"]))
    return upload_id, etags


def complete(client, bucket, key, upload_id, etags):
    parts = [{"PartNumber": number, "ETag": etag} for number, etag in etags]
    return client.complete_multipart_upload(
        Bucket=bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": parts}
    )


def test_low_level_multipart(gateway, bucket):
    client = gateway.client()
    first, second = pattern(5 * MIB, seed=1), pattern(1024, seed=2)
    upload_id, etags = upload_parts(client, bucket, "mp", [first, second])
    done = complete(client, bucket, "mp", upload_id, etags)
    # S3's multipart ETag is the MD5 of the concatenated binary part MD5s, then "-" and the count.
    digests = hashlib.md5(hashlib.md5(first).digest() + hashlib.md5(second).digest()).hexdigest()
    assert done["ETag"] == f'"{digests}-2"', f"multipart ETag: {done['ETag']}"
    assert client.get_object(Bucket=bucket, Key="mp")["Body"].read() == first + second, "assembled object differs"
    ranged = client.get_object(Bucket=bucket, Key="mp", Range=f"bytes={5 * MIB - 2}-{5 * MIB + 1}")
    assert ranged["Body"].read() == first[-2:] + second[:2], "range across the part boundary returned other bytes"


def test_multipart_entity_too_small(gateway, bucket):
    client = gateway.client()
    upload_id, etags = upload_parts(client, bucket, "small", [pattern(MIB, seed=3), b"last"])
    with pytest.raises(ClientError) as error:
        complete(client, bucket, "small", upload_id, etags)
    assert client_error_code(error.value) == "EntityTooSmall", f"1 MiB first part: {error.value.response['Error']}"
    assert http_status(error.value) == 400, "EntityTooSmall status is not 400"


def test_multipart_invalid_part_etag(gateway, bucket):
    client = gateway.client()
    upload_id, etags = upload_parts(client, bucket, "bad-etag", [pattern(5 * MIB, seed=4), b"last"])
    wrong = [(1, '"00000000000000000000000000000000"'), etags[1]]
    with pytest.raises(ClientError) as error:
        complete(client, bucket, "bad-etag", upload_id, wrong)
    assert client_error_code(error.value) == "InvalidPart", f"wrong ETag: {error.value.response['Error']}"
    missing = [etags[0], (3, etags[1][1])]
    with pytest.raises(ClientError) as error:
        complete(client, bucket, "bad-etag", upload_id, missing)
    assert client_error_code(error.value) == "InvalidPart", f"never-uploaded part: {error.value.response['Error']}"


def test_multipart_invalid_part_order(gateway, bucket):
    client = gateway.client()
    # Both parts are large enough, so only their order is wrong.
    upload_id, etags = upload_parts(client, bucket, "order", [pattern(5 * MIB, seed=5), pattern(5 * MIB, seed=6)])
    with pytest.raises(ClientError) as error:
        complete(client, bucket, "order", upload_id, list(reversed(etags)))
    assert client_error_code(error.value) == "InvalidPartOrder", f"parts 2,1: {error.value.response['Error']}"


def test_multipart_no_such_upload(gateway, bucket):
    client = gateway.client()
    with pytest.raises(ClientError) as error:
        client.upload_part(Bucket=bucket, Key="k", UploadId="no-such-upload-id", PartNumber=1, Body=b"x")
    assert client_error_code(error.value) == "NoSuchUpload", f"unknown upload id: {error.value.response['Error']}"
    assert http_status(error.value) == 404, "NoSuchUpload status is not 404"
    upload_id, etags = upload_parts(client, bucket, "k", [b"only part"])
    client.abort_multipart_upload(Bucket=bucket, Key="k", UploadId=upload_id)
    with pytest.raises(ClientError) as error:
        complete(client, bucket, "k", upload_id, etags)
    assert client_error_code(error.value) == "NoSuchUpload", f"complete after abort: {error.value.response['Error']}"


# Presigned URLs.


def presigner(gateway):
    """Return a client that presigns with SigV4 (X-Amz-Algorithm=AWS4-HMAC-SHA256).

    Without `signature_version="s3v4"`, botocore 1.43 presigns S3 URLs in the legacy SigV2 form.
    """
    return gateway.client(signature_version="s3v4")


def test_presigned_get_works(gateway, bucket):
    client = presigner(gateway)
    client.put_object(Bucket=bucket, Key="shared file.txt", Body=b"presigned content")
    url = client.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "shared file.txt"}, ExpiresIn=60)
    assert url.startswith(gateway.endpoint), f"presigned URL points elsewhere: {url}"
    with LOOPBACK_OPENER.open(url, timeout=30) as response:
        assert response.status == 200, f"presigned GET status {response.status}"
        assert response.read() == b"presigned content", "presigned GET returned other bytes"


def test_presigned_get_expired(gateway, bucket):
    client = presigner(gateway)
    client.put_object(Bucket=bucket, Key="soon-gone", Body=b"x")
    url = client.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "soon-gone"}, ExpiresIn=1)
    time.sleep(2)
    with pytest.raises(urllib.error.HTTPError) as error:
        LOOPBACK_OPENER.open(url, timeout=30)
    assert error.value.code == 403, f"expired presigned GET status {error.value.code}"
    assert error_code(error.value.read()) == "AccessDenied", "expired presigned GET is not AccessDenied"


def test_presigned_put_stores_object(gateway, bucket):
    client = presigner(gateway)
    url = client.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "uploaded"}, ExpiresIn=60)
    # urllib would otherwise label the body application/x-www-form-urlencoded.
    headers = {"Content-Type": "application/octet-stream"}
    request = urllib.request.Request(url, data=b"sent with urllib", method="PUT", headers=headers)
    with LOOPBACK_OPENER.open(request, timeout=30) as response:
        assert response.status == 200, f"presigned PUT status {response.status}"
    assert client.get_object(Bucket=bucket, Key="uploaded")["Body"].read() == b"sent with urllib", "stored bytes"


def test_presigned_get_tampered_key(gateway, bucket):
    client = presigner(gateway)
    client.put_object(Bucket=bucket, Key="one", Body=b"1")
    client.put_object(Bucket=bucket, Key="two", Body=b"2")
    url = client.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "one"}, ExpiresIn=60)
    with pytest.raises(urllib.error.HTTPError) as error:
        LOOPBACK_OPENER.open(url.replace(f"/{bucket}/one?", f"/{bucket}/two?"), timeout=30)
    assert error.value.code == 403, f"presigned URL for another key: status {error.value.code}"
    assert error_code(error.value.read()) == "SignatureDoesNotMatch", "tampered presigned URL error code"


def test_sigv2_presigned_url_rejected(gateway, bucket):
    # A SigV2 query string (AWSAccessKeyId, Signature, Expires) is not SigV4, so it must not grant access.
    gateway.client().put_object(Bucket=bucket, Key="v2", Body=b"x")
    v2_client = gateway.client(signature_version="s3")
    url = v2_client.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "v2"}, ExpiresIn=60)
    assert "AWSAccessKeyId=" in url, f"botocore did not presign with SigV2: {url}"
    with pytest.raises(urllib.error.HTTPError) as error:
        LOOPBACK_OPENER.open(url, timeout=30)
    # S3 rejects SigV2 where it is retired with 400 InvalidRequest.
    assert error.value.code == 400, f"SigV2 presigned GET status {error.value.code}"
    assert error_code(error.value.read()) == "InvalidRequest", "SigV2 presigned GET is not InvalidRequest"


# The core operations again through the TLS listener, where botocore streams with trailers.


class TestOverHttps:
    @staticmethod
    def tls_client(gateway, sent_headers):
        client = gateway.client(tls=True)

        def capture(request, **_):
            sent_headers.append(dict(request.headers))

        client.meta.events.register("before-send.s3.PutObject", capture)
        client.meta.events.register("before-send.s3.UploadPart", capture)
        return client

    def test_put_get_uses_trailer(self, gateway, bucket):
        sent = []
        client = self.tls_client(gateway, sent)
        data = pattern(200_000, seed=9)
        client.put_object(Bucket=bucket, Key="tls", Body=data)
        content_sha = sent[0].get("X-Amz-Content-SHA256", b"")
        content_sha = content_sha.decode() if isinstance(content_sha, bytes) else content_sha
        # Without this the test would not exercise the aws-chunked trailer path at all.
        assert content_sha == "STREAMING-UNSIGNED-PAYLOAD-TRAILER", f"botocore sent x-amz-content-sha256 {content_sha}"
        assert client.get_object(Bucket=bucket, Key="tls")["Body"].read() == data, "GET over HTTPS differs"
        assert client.head_object(Bucket=bucket, Key="tls")["ContentLength"] == len(data), "HEAD size over HTTPS"

    def test_list_over_https(self, gateway, bucket):
        client = gateway.client(tls=True)
        for key in ["b", "a/1", "a/2", "ü"]:
            client.put_object(Bucket=bucket, Key=key, Body=b"")
        listing = client.list_objects_v2(Bucket=bucket, Delimiter="/")
        assert [entry["Key"] for entry in listing.get("Contents", [])] == ["b", "ü"], f"keys over HTTPS: {listing}"
        assert [entry["Prefix"] for entry in listing.get("CommonPrefixes", [])] == ["a/"], "prefixes over HTTPS"

    def test_multipart_over_https(self, gateway, bucket):
        sent = []
        client = self.tls_client(gateway, sent)
        data = pattern(11 * MIB, seed=11)
        config = TransferConfig(multipart_threshold=5 * MIB, multipart_chunksize=5 * MIB, max_concurrency=3)
        client.upload_fileobj(io.BytesIO(data), bucket, "tls-mp", Config=config)
        assert len(sent) == 3, f"expected 3 UploadPart requests, saw {len(sent)}"
        out = io.BytesIO()
        client.download_fileobj(bucket, "tls-mp", out)
        assert out.getvalue() == data, "multipart object over HTTPS differs"

    def test_low_level_multipart_https(self, gateway, bucket):
        client = gateway.client(tls=True)
        first, second = pattern(5 * MIB, seed=6), b"end"
        upload_id, etags = upload_parts(client, bucket, "mp", [first, second])
        complete(client, bucket, "mp", upload_id, etags)
        assert client.get_object(Bucket=bucket, Key="mp")["Body"].read() == first + second, "assembled over HTTPS"
