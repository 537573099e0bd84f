"""aws-cli (v1) against the gateway: the high-level `aws s3` commands and the `s3api` calls a
user scripts with, checked against S3's documented responses.

Every test runs over plain HTTP under both I/O drivers; the `TestOverHttps` class repeats a
representative subset (cp up and down, ls, s3api get-object) through the TLS listener.
"""

import datetime
import email.utils
import hashlib
import json
import os
import re
import time
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from conftest import ADMIN, ALICE
from payloads import MIB, pattern, sha256_file, write_pattern_file

# aws-cli's default multipart_threshold and multipart_chunksize are both 8 MiB.
CLI_CHUNK = 8 * MIB


def cli_error_code(stderr: str) -> str | None:
    """Return the S3 error code from aws-cli's `An error occurred (CODE) when calling ...`."""
    match = re.search(r"An error occurred \(([^)]+)\)", stderr)
    return match.group(1) if match else None


def put_keys(gateway, bucket, keys, body=b"x"):
    client = gateway.client()
    for key in keys:
        client.put_object(Bucket=bucket, Key=key, Body=body)


def age_files(directory: Path, seconds: int = 3600):
    """Move every file's mtime into the past so that `aws s3 sync` treats S3's copy as newer."""
    past = time.time() - seconds
    for path in directory.rglob("*"):
        if path.is_file():
            os.utime(path, (past, past))


def transfer_lines(stdout: str, verb: str) -> list[str]:
    return [line for line in stdout.splitlines() if line.startswith(f"{verb}:")]


def listed_keys(listing: dict) -> list[str]:
    return [entry["Key"] for entry in listing.get("Contents", [])]


def listed_prefixes(listing: dict) -> list[str]:
    return [entry["Prefix"] for entry in listing.get("CommonPrefixes", [])]


# aws s3: buckets and transfers.


def test_mb_creates_bucket(gateway, bucket_name):
    result = gateway.aws("s3", "mb", f"s3://{bucket_name}")
    assert result.stdout.strip() == f"make_bucket: {bucket_name}", f"unexpected mb output: {result.stdout!r}"
    listing = gateway.aws("s3", "ls").stdout
    assert bucket_name in listing.split(), f"new bucket missing from `aws s3 ls`:\n{listing}"


def test_cp_small_file_round_trip(gateway, bucket, tmp_path):
    source = tmp_path / "small.txt"
    source.write_bytes(b"hello, ironbucket\n")
    upload = gateway.aws("s3", "cp", source, f"s3://{bucket}/small.txt")
    assert "upload:" in upload.stdout, f"cp up printed no upload line: {upload.stdout!r}"
    target = tmp_path / "back.txt"
    gateway.aws("s3", "cp", f"s3://{bucket}/small.txt", target)
    assert target.read_bytes() == source.read_bytes(), "downloaded bytes differ from the uploaded file"


def test_cp_large_file_multipart(gateway, bucket, tmp_path):
    source = tmp_path / "large.bin"
    expected = write_pattern_file(source, 20 * MIB, seed=20)
    gateway.aws("s3", "cp", source, f"s3://{bucket}/large.bin", "--only-show-errors")
    head = gateway.aws_json("s3api", "head-object", "--bucket", bucket, "--key", "large.bin")
    assert head["ContentLength"] == 20 * MIB, f"stored size is {head['ContentLength']}"
    parts = -(-20 * MIB // CLI_CHUNK)
    assert head["ETag"].strip('"').endswith(f"-{parts}"), f"ETag {head['ETag']} is not a {parts}-part multipart ETag"
    target = tmp_path / "large.back"
    gateway.aws("s3", "cp", f"s3://{bucket}/large.bin", target, "--only-show-errors")
    assert sha256_file(target) == expected, "downloaded 20 MiB file differs from the uploaded one"


def test_ls_buckets_prefixes_recursive(gateway, bucket):
    put_keys(gateway, bucket, ["top.txt", "dir/one.txt", "dir/sub/two.txt"])
    buckets = gateway.aws("s3", "ls").stdout
    assert bucket in buckets.split(), f"bucket missing from `aws s3 ls`:\n{buckets}"
    root = gateway.aws("s3", "ls", f"s3://{bucket}").stdout
    assert re.search(r"^\s+PRE dir/$", root, re.M), f"`ls` of the bucket shows no PRE dir/:\n{root}"
    assert re.search(r"\s1 top\.txt$", root, re.M), f"`ls` of the bucket shows no top.txt of 1 byte:\n{root}"
    assert "one.txt" not in root, f"`ls` without --recursive descended into dir/:\n{root}"
    nested = gateway.aws("s3", "ls", f"s3://{bucket}/dir/").stdout
    assert re.search(r"^\s+PRE sub/$", nested, re.M), f"`ls dir/` shows no PRE sub/:\n{nested}"
    assert re.search(r"\s1 one\.txt$", nested, re.M), f"`ls dir/` shows no one.txt:\n{nested}"
    recursive = gateway.aws("s3", "ls", f"s3://{bucket}", "--recursive").stdout
    keys = [line.split()[-1] for line in recursive.splitlines() if line.strip()]
    assert keys == ["dir/one.txt", "dir/sub/two.txt", "top.txt"], f"recursive listing: {keys}"


def test_sync_up_and_down(gateway, bucket, tmp_path):
    local = tmp_path / "up"
    (local / "nested" / "deeper").mkdir(parents=True)
    (local / "a.txt").write_bytes(b"alpha")
    (local / "nested" / "b.txt").write_bytes(b"bravo" * 100)
    (local / "nested" / "deeper" / "c.bin").write_bytes(pattern(100_000, seed=3))
    age_files(local)

    first = gateway.aws("s3", "sync", local, f"s3://{bucket}/tree")
    assert len(transfer_lines(first.stdout, "upload")) == 3, f"first sync up:\n{first.stdout}"
    second = gateway.aws("s3", "sync", local, f"s3://{bucket}/tree")
    assert transfer_lines(second.stdout, "upload") == [], f"second sync up copied again:\n{second.stdout}"

    down = tmp_path / "down"
    third = gateway.aws("s3", "sync", f"s3://{bucket}/tree", down)
    assert len(transfer_lines(third.stdout, "download")) == 3, f"sync down:\n{third.stdout}"
    for path in local.rglob("*"):
        if path.is_file():
            copy = down / path.relative_to(local)
            assert copy.read_bytes() == path.read_bytes(), f"{copy} differs after sync down"
    fourth = gateway.aws("s3", "sync", f"s3://{bucket}/tree", down)
    assert transfer_lines(fourth.stdout, "download") == [], f"second sync down copied again:\n{fourth.stdout}"


def test_rm_recursive_empties_prefix(gateway, bucket):
    put_keys(gateway, bucket, ["keep.txt", "junk/1", "junk/2", "junk/deep/3"])
    result = gateway.aws("s3", "rm", f"s3://{bucket}/junk", "--recursive")
    assert len(transfer_lines(result.stdout, "delete")) == 3, f"rm --recursive output:\n{result.stdout}"
    listing = gateway.aws_json("s3api", "list-objects-v2", "--bucket", bucket)
    assert listed_keys(listing) == ["keep.txt"], f"objects left after rm --recursive: {listed_keys(listing)}"


def test_rb_as_admin_removes_bucket(gateway, bucket_name):
    gateway.aws("s3", "mb", f"s3://{bucket_name}")
    result = gateway.aws("s3", "rb", f"s3://{bucket_name}", keys=ADMIN)
    assert result.stdout.strip() == f"remove_bucket: {bucket_name}", f"unexpected rb output: {result.stdout!r}"
    stderr = gateway.aws_error("s3api", "head-bucket", "--bucket", bucket_name)
    assert cli_error_code(stderr) == "404", f"head-bucket after rb: {stderr}"


def test_rb_as_dev_denied(gateway, bucket_name):
    gateway.aws("s3", "mb", f"s3://{bucket_name}")
    stderr = gateway.aws_error("s3", "rb", f"s3://{bucket_name}", keys=ALICE)
    assert cli_error_code(stderr) == "AccessDenied", f"rb as alice: {stderr}"
    gateway.aws("s3api", "head-bucket", "--bucket", bucket_name)


# s3api: listings.

LISTING_KEYS = ["a.txt", "b/1.txt", "b/2.txt", "b/c/3.txt", "c/4.txt", "d.txt"]


def test_list_v2_prefix_delimiter(gateway, bucket):
    put_keys(gateway, bucket, LISTING_KEYS)
    top = gateway.aws_json("s3api", "list-objects-v2", "--bucket", bucket, "--delimiter", "/")
    assert listed_keys(top) == ["a.txt", "d.txt"], f"top-level keys: {listed_keys(top)}"
    assert listed_prefixes(top) == ["b/", "c/"], f"top-level prefixes: {listed_prefixes(top)}"
    nested = gateway.aws_json("s3api", "list-objects-v2", "--bucket", bucket, "--prefix", "b/", "--delimiter", "/")
    assert listed_keys(nested) == ["b/1.txt", "b/2.txt"], f"keys under b/: {listed_keys(nested)}"
    assert listed_prefixes(nested) == ["b/c/"], f"prefixes under b/: {listed_prefixes(nested)}"
    only_prefix = gateway.aws_json("s3api", "list-objects-v2", "--bucket", bucket, "--prefix", "b/")
    assert listed_keys(only_prefix) == ["b/1.txt", "b/2.txt", "b/c/3.txt"], f"prefix b/: {listed_keys(only_prefix)}"


def test_list_v2_max_keys_zero(gateway, bucket):
    put_keys(gateway, bucket, LISTING_KEYS)
    listing = gateway.aws_json("s3api", "list-objects-v2", "--bucket", bucket, "--max-keys", "0", "--no-paginate")
    assert listing.get("KeyCount") == 0, f"KeyCount with max-keys 0: {listing}"
    assert "Contents" not in listing, f"max-keys 0 returned objects: {listing}"
    assert listing.get("IsTruncated") is False, f"S3 reports max-keys 0 as not truncated: {listing}"


def test_list_v2_continuation_tokens(gateway, bucket):
    put_keys(gateway, bucket, LISTING_KEYS)
    first = gateway.aws_json("s3api", "list-objects-v2", "--bucket", bucket, "--max-keys", "4", "--no-paginate")
    assert listed_keys(first) == LISTING_KEYS[:4], f"first page: {listed_keys(first)}"
    assert first.get("IsTruncated") is True, f"first page of 6 keys with max-keys 4 is not truncated: {first}"
    token = first.get("NextContinuationToken")
    assert token, f"truncated page has no NextContinuationToken: {first}"
    second = gateway.aws_json(
        "s3api",
        "list-objects-v2",
        "--bucket",
        bucket,
        "--max-keys",
        "4",
        "--continuation-token",
        token,
        "--no-paginate",
    )
    assert listed_keys(second) == LISTING_KEYS[4:], f"second page: {listed_keys(second)}"
    assert second.get("IsTruncated") is False, f"last page is truncated: {second}"
    assert second.get("ContinuationToken") == token, f"ContinuationToken not echoed: {second}"


def test_list_v2_start_after(gateway, bucket):
    put_keys(gateway, bucket, LISTING_KEYS)
    listing = gateway.aws_json(
        "s3api", "list-objects-v2", "--bucket", bucket, "--start-after", "b/2.txt", "--no-paginate"
    )
    assert listed_keys(listing) == ["b/c/3.txt", "c/4.txt", "d.txt"], f"start-after b/2.txt: {listed_keys(listing)}"
    assert listing.get("StartAfter") == "b/2.txt", f"StartAfter not echoed: {listing}"
    past_end = gateway.aws_json("s3api", "list-objects-v2", "--bucket", bucket, "--start-after", "zzz")
    assert listed_keys(past_end) == [], f"start-after past the last key: {listed_keys(past_end)}"


def test_list_objects_v1_marker(gateway, bucket):
    put_keys(gateway, bucket, LISTING_KEYS)
    first = gateway.aws_json("s3api", "list-objects", "--bucket", bucket, "--max-keys", "2", "--no-paginate")
    assert listed_keys(first) == LISTING_KEYS[:2], f"first v1 page: {listed_keys(first)}"
    assert first.get("IsTruncated") is True, f"first v1 page not truncated: {first}"
    rest = gateway.aws_json("s3api", "list-objects", "--bucket", bucket, "--marker", LISTING_KEYS[1], "--no-paginate")
    assert listed_keys(rest) == LISTING_KEYS[2:], f"keys after marker: {listed_keys(rest)}"
    assert rest.get("Marker") == LISTING_KEYS[1], f"Marker not echoed: {rest}"
    with_delimiter = gateway.aws_json(
        "s3api", "list-objects", "--bucket", bucket, "--delimiter", "/", "--max-keys", "2", "--no-paginate"
    )
    # With a delimiter S3 returns NextMarker: the last key or common prefix of the page.
    assert with_delimiter.get("NextMarker") == "b/", f"NextMarker with delimiter: {with_delimiter}"


# s3api: reading objects.


def test_get_object_byte_ranges(gateway, bucket, tmp_path):
    data = bytes(range(100))
    gateway.client().put_object(Bucket=bucket, Key="r", Body=data)
    out = tmp_path / "out"
    first = gateway.aws_json("s3api", "get-object", "--bucket", bucket, "--key", "r", "--range", "bytes=0-9", out)
    assert out.read_bytes() == data[:10], "bytes=0-9 returned the wrong bytes"
    assert first["ContentRange"] == "bytes 0-9/100", f"ContentRange: {first.get('ContentRange')}"
    assert first["ContentLength"] == 10, f"ContentLength: {first.get('ContentLength')}"
    suffix = gateway.aws_json("s3api", "get-object", "--bucket", bucket, "--key", "r", "--range", "bytes=-5", out)
    assert out.read_bytes() == data[-5:], "bytes=-5 did not return the last five bytes"
    assert suffix["ContentRange"] == "bytes 95-99/100", f"suffix ContentRange: {suffix.get('ContentRange')}"
    open_ended = gateway.aws_json("s3api", "get-object", "--bucket", bucket, "--key", "r", "--range", "bytes=90-", out)
    assert out.read_bytes() == data[90:], "bytes=90- did not return the tail"
    assert open_ended["ContentRange"] == "bytes 90-99/100", f"open ContentRange: {open_ended.get('ContentRange')}"


def test_get_object_unsatisfiable_range(gateway, bucket, tmp_path):
    gateway.client().put_object(Bucket=bucket, Key="r", Body=bytes(100))
    stderr = gateway.aws_error(
        "s3api", "get-object", "--bucket", bucket, "--key", "r", "--range", "bytes=1000-2000", tmp_path / "out"
    )
    assert cli_error_code(stderr) == "InvalidRange", f"unsatisfiable range: {stderr}"
    # aws-cli hides the status, so read it from boto3.
    with pytest.raises(ClientError) as error:
        gateway.client().get_object(Bucket=bucket, Key="r", Range="bytes=1000-2000")
    assert error.value.response["ResponseMetadata"]["HTTPStatusCode"] == 416, "InvalidRange status is not 416"


def test_head_object_fields(gateway, bucket):
    data = b"head me"
    gateway.client().put_object(Bucket=bucket, Key="h", Body=data)
    head = gateway.aws_json("s3api", "head-object", "--bucket", bucket, "--key", "h")
    assert head["ContentLength"] == len(data), f"ContentLength: {head}"
    assert head["ETag"] == f'"{hashlib.md5(data).hexdigest()}"', f"ETag is not the quoted MD5: {head}"
    assert "LastModified" in head, f"no LastModified: {head}"
    stderr = gateway.aws_error("s3api", "head-object", "--bucket", bucket, "--key", "missing")
    assert cli_error_code(stderr) == "404", f"head-object of a missing key: {stderr}"


def test_get_object_conditional_headers(gateway, bucket, tmp_path):
    client = gateway.client()
    etag = client.put_object(Bucket=bucket, Key="c", Body=b"conditional")["ETag"]
    modified = client.head_object(Bucket=bucket, Key="c")["LastModified"]
    # The object was not modified after its own Last-Modified time, and was after 2001.
    at_last_modified = email.utils.format_datetime(modified.astimezone(datetime.timezone.utc), usegmt=True)
    past = "Mon, 01 Jan 2001 00:00:00 GMT"
    other_etag = '"0123456789abcdef0123456789abcdef"'
    out = tmp_path / "out"
    cases = [
        (["--if-match", etag], None),
        (["--if-match", other_etag], "PreconditionFailed"),
        (["--if-none-match", etag], "304"),
        (["--if-none-match", other_etag], None),
        (["--if-modified-since", at_last_modified], "304"),
        (["--if-modified-since", past], None),
        (["--if-unmodified-since", past], "PreconditionFailed"),
        (["--if-unmodified-since", at_last_modified], None),
    ]
    for conditions, expected_error in cases:
        result = gateway.aws("s3api", "get-object", "--bucket", bucket, "--key", "c", *conditions, out, check=False)
        if expected_error is None:
            assert result.returncode == 0, f"get-object {conditions} failed: {result.stderr}"
        else:
            assert cli_error_code(result.stderr) == expected_error, f"get-object {conditions}: {result.stderr}"


# s3api: writing objects.


def test_put_object_metadata_round_trip(gateway, bucket, tmp_path):
    body = tmp_path / "body"
    body.write_bytes(b"<html></html>")
    gateway.aws(
        "s3api", "put-object", "--bucket", bucket, "--key", "page.html", "--body", body,
        "--metadata", "color=blue,Owner=alice",
        "--content-type", "text/html; charset=utf-8",
        "--cache-control", "max-age=60",
        "--content-disposition", 'attachment; filename="page.html"',
    )  # fmt: skip
    head = gateway.aws_json("s3api", "head-object", "--bucket", bucket, "--key", "page.html")
    # S3 lower-cases user metadata names.
    assert head.get("Metadata") == {"color": "blue", "owner": "alice"}, f"Metadata: {head.get('Metadata')}"
    assert head.get("ContentType") == "text/html; charset=utf-8", f"ContentType: {head.get('ContentType')}"
    assert head.get("CacheControl") == "max-age=60", f"CacheControl: {head.get('CacheControl')}"
    assert head.get("ContentDisposition") == 'attachment; filename="page.html"', f"ContentDisposition: {head}"


def test_copy_object_metadata_directives(gateway, bucket):
    gateway.client().put_object(
        Bucket=bucket, Key="src", Body=b"copy me", Metadata={"origin": "source"}, ContentType="text/plain"
    )
    gateway.aws(
        "s3api", "copy-object", "--bucket", bucket, "--key", "kept", "--copy-source", f"{bucket}/src",
        "--metadata-directive", "COPY",
    )  # fmt: skip
    kept = gateway.aws_json("s3api", "head-object", "--bucket", bucket, "--key", "kept")
    assert kept.get("Metadata") == {"origin": "source"}, f"COPY lost metadata: {kept.get('Metadata')}"
    assert kept.get("ContentType") == "text/plain", f"COPY lost the content type: {kept.get('ContentType')}"
    gateway.aws(
        "s3api", "copy-object", "--bucket", bucket, "--key", "replaced", "--copy-source", f"{bucket}/src",
        "--metadata-directive", "REPLACE", "--metadata", "origin=copy", "--content-type", "application/x-test",
    )  # fmt: skip
    replaced = gateway.aws_json("s3api", "head-object", "--bucket", bucket, "--key", "replaced")
    assert replaced.get("Metadata") == {"origin": "copy"}, f"REPLACE metadata: {replaced.get('Metadata')}"
    assert replaced.get("ContentType") == "application/x-test", f"REPLACE content type: {replaced}"
    body = gateway.client().get_object(Bucket=bucket, Key="replaced")["Body"].read()
    assert body == b"copy me", f"copied body: {body!r}"


def test_delete_objects_batch(gateway, bucket):
    put_keys(gateway, bucket, ["one", "two", "three"])
    request = {"Objects": [{"Key": "one"}, {"Key": "two"}, {"Key": "never-existed"}]}
    result = gateway.aws_json("s3api", "delete-objects", "--bucket", bucket, "--delete", json.dumps(request))
    deleted = sorted(entry["Key"] for entry in result.get("Deleted", []))
    # S3 reports a key that did not exist as deleted too.
    assert deleted == ["never-existed", "one", "two"], f"Deleted: {result}"
    assert "Errors" not in result, f"delete-objects reported errors: {result}"
    remaining = listed_keys(gateway.aws_json("s3api", "list-objects-v2", "--bucket", bucket))
    assert remaining == ["three"], f"objects after delete-objects: {remaining}"


def test_list_object_versions_null(gateway, bucket):
    put_keys(gateway, bucket, ["v"])
    versions = gateway.aws_json("s3api", "list-object-versions", "--bucket", bucket)
    entries = versions.get("Versions", [])
    assert [entry["Key"] for entry in entries] == ["v"], f"Versions: {versions}"
    assert entries[0]["VersionId"] == "null", f"unversioned bucket VersionId: {entries[0]}"
    assert entries[0]["IsLatest"] is True, f"IsLatest: {entries[0]}"


def test_delete_object_version_null(gateway, bucket):
    put_keys(gateway, bucket, ["v"])
    # S3 authorizes DeleteObject with a versionId as s3:DeleteObjectVersion, which only the admin has.
    gateway.aws("s3api", "delete-object", "--bucket", bucket, "--key", "v", "--version-id", "null", keys=ADMIN)
    stderr = gateway.aws_error("s3api", "head-object", "--bucket", bucket, "--key", "v")
    assert cli_error_code(stderr) == "404", f"object still there after deleting version null: {stderr}"


# s3api: bucket facts and ACLs.


def test_get_bucket_location(gateway, bucket):
    location = gateway.aws_json("s3api", "get-bucket-location", "--bucket", bucket)
    # us-east-1 is reported as an empty LocationConstraint, which aws-cli prints as null.
    assert location.get("LocationConstraint") in (None, ""), f"LocationConstraint: {location}"


def test_bucket_and_object_acl(gateway, bucket):
    put_keys(gateway, bucket, ["acl"])
    for label, args in [
        ("bucket", ["get-bucket-acl", "--bucket", bucket]),
        ("object", ["get-object-acl", "--bucket", bucket, "--key", "acl"]),
    ]:
        acl = gateway.aws_json("s3api", *args)
        grants = acl.get("Grants", [])
        assert [grant["Permission"] for grant in grants] == ["FULL_CONTROL"], f"{label} grants: {acl}"
        owner_id = acl.get("Owner", {}).get("ID")
        assert owner_id, f"{label} ACL has no owner id: {acl}"
        assert grants[0]["Grantee"].get("ID") == owner_id, f"{label} FULL_CONTROL is not the owner's: {acl}"


def test_put_object_acl_public_read(gateway, bucket, tmp_path):
    body = tmp_path / "body"
    body.write_bytes(b"acl")
    # The admin has every permission (s3:PutObjectAcl too), so only ACL support is tested.
    stderr = gateway.aws_error(
        "s3api", "put-object", "--bucket", bucket, "--key", "public", "--body", body, "--acl", "public-read", keys=ADMIN
    )
    assert cli_error_code(stderr) == "AccessControlListNotSupported", f"--acl public-read: {stderr}"
    missing = gateway.aws_error("s3api", "head-object", "--bucket", bucket, "--key", "public")
    assert cli_error_code(missing) == "404", f"rejected put stored an object: {missing}"


def test_put_object_acl_private(gateway, bucket, tmp_path):
    body = tmp_path / "body"
    body.write_bytes(b"acl")
    gateway.aws(
        "s3api", "put-object", "--bucket", bucket, "--key", "private", "--body", body, "--acl", "private", keys=ADMIN
    )
    head = gateway.aws_json("s3api", "head-object", "--bucket", bucket, "--key", "private")
    assert head["ContentLength"] == 3, f"object stored with --acl private: {head}"


# s3api: multipart uploads.


def test_multipart_upload_complete(gateway, bucket, tmp_path):
    part1, part2 = tmp_path / "p1", tmp_path / "p2"
    part1.write_bytes(pattern(5 * MIB, seed=1))
    part2.write_bytes(b"tail")
    upload = gateway.aws_json("s3api", "create-multipart-upload", "--bucket", bucket, "--key", "mp")
    upload_id = upload["UploadId"]
    etags = []
    for number, path in [(1, part1), (2, part2)]:
        part = gateway.aws_json(
            "s3api", "upload-part", "--bucket", bucket, "--key", "mp", "--upload-id", upload_id,
            "--part-number", str(number), "--body", path,
        )  # fmt: skip
        etags.append(part["ETag"])

    parts = gateway.aws_json("s3api", "list-parts", "--bucket", bucket, "--key", "mp", "--upload-id", upload_id)
    listed = [(p["PartNumber"], p["Size"], p["ETag"]) for p in parts.get("Parts", [])]
    assert listed == [(1, 5 * MIB, etags[0]), (2, 4, etags[1])], f"list-parts: {listed}"
    uploads = gateway.aws_json("s3api", "list-multipart-uploads", "--bucket", bucket)
    in_progress = [(u["Key"], u["UploadId"]) for u in uploads.get("Uploads", [])]
    assert in_progress == [("mp", upload_id)], f"list-multipart-uploads: {in_progress}"

    completion = {"Parts": [{"PartNumber": 1, "ETag": etags[0]}, {"PartNumber": 2, "ETag": etags[1]}]}
    done = gateway.aws_json(
        "s3api", "complete-multipart-upload", "--bucket", bucket, "--key", "mp", "--upload-id", upload_id,
        "--multipart-upload", json.dumps(completion),
    )  # fmt: skip
    assert done["ETag"].strip('"').endswith("-2"), f"completed ETag: {done}"
    out = tmp_path / "out"
    gateway.aws("s3api", "get-object", "--bucket", bucket, "--key", "mp", out)
    assert out.read_bytes() == part1.read_bytes() + b"tail", "completed object is not the parts concatenated"
    after = gateway.aws_json("s3api", "list-multipart-uploads", "--bucket", bucket)
    assert after.get("Uploads", []) == [], f"completed upload still listed: {after}"


def test_multipart_upload_abort(gateway, bucket, tmp_path):
    part = tmp_path / "p"
    part.write_bytes(b"abandoned")
    upload_id = gateway.aws_json("s3api", "create-multipart-upload", "--bucket", bucket, "--key", "gone")["UploadId"]
    gateway.aws(
        "s3api", "upload-part", "--bucket", bucket, "--key", "gone", "--upload-id", upload_id,
        "--part-number", "1", "--body", part,
    )  # fmt: skip
    gateway.aws("s3api", "abort-multipart-upload", "--bucket", bucket, "--key", "gone", "--upload-id", upload_id)
    uploads = gateway.aws_json("s3api", "list-multipart-uploads", "--bucket", bucket)
    assert uploads.get("Uploads", []) == [], f"aborted upload still listed: {uploads}"
    stderr = gateway.aws_error("s3api", "list-parts", "--bucket", bucket, "--key", "gone", "--upload-id", upload_id)
    assert cli_error_code(stderr) == "NoSuchUpload", f"list-parts after abort: {stderr}"
    missing = gateway.aws_error("s3api", "head-object", "--bucket", bucket, "--key", "gone")
    assert cli_error_code(missing) == "404", f"aborted upload left an object: {missing}"


def test_unimplemented_call_returns_501(gateway, bucket):
    # The admin may call anything, so a denial cannot hide the missing operation.
    stderr = gateway.aws_error(
        "s3api", "put-bucket-tagging", "--bucket", bucket, "--tagging", '{"TagSet":[{"Key":"k","Value":"v"}]}',
        keys=ADMIN,
    )  # fmt: skip
    assert cli_error_code(stderr) == "NotImplemented", f"put-bucket-tagging: {stderr}"
    with pytest.raises(ClientError) as error:
        gateway.client(ADMIN).put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": [{"Key": "k", "Value": "v"}]})
    assert error.value.response["ResponseMetadata"]["HTTPStatusCode"] == 501, "NotImplemented status is not 501"


# The same commands through the TLS listener.


class TestOverHttps:
    def test_cp_round_trip_https(self, gateway, bucket, tmp_path):
        source = tmp_path / "tls.bin"
        expected = write_pattern_file(source, 3 * MIB, seed=7)
        gateway.aws("s3", "cp", source, f"s3://{bucket}/tls.bin", "--only-show-errors", tls=True)
        target = tmp_path / "tls.back"
        gateway.aws("s3", "cp", f"s3://{bucket}/tls.bin", target, "--only-show-errors", tls=True)
        assert sha256_file(target) == expected, "file downloaded over HTTPS differs from the upload"

    def test_cp_multipart_https(self, gateway, bucket, tmp_path):
        source = tmp_path / "tls-large.bin"
        expected = write_pattern_file(source, 20 * MIB, seed=21)
        gateway.aws("s3", "cp", source, f"s3://{bucket}/large.bin", "--only-show-errors", tls=True)
        target = tmp_path / "tls-large.back"
        gateway.aws("s3", "cp", f"s3://{bucket}/large.bin", target, "--only-show-errors", tls=True)
        assert sha256_file(target) == expected, "multipart file downloaded over HTTPS differs from the upload"

    def test_ls_over_https(self, gateway, bucket):
        put_keys(gateway, bucket, ["dir/x", "y"])
        buckets = gateway.aws("s3", "ls", tls=True).stdout
        assert bucket in buckets.split(), f"bucket missing from `aws s3 ls` over HTTPS:\n{buckets}"
        root = gateway.aws("s3", "ls", f"s3://{bucket}", tls=True).stdout
        assert re.search(r"^\s+PRE dir/$", root, re.M), f"no PRE dir/ over HTTPS:\n{root}"
        assert re.search(r"\s1 y$", root, re.M), f"no key y over HTTPS:\n{root}"

    def test_s3api_get_object_https(self, gateway, bucket, tmp_path):
        gateway.client().put_object(Bucket=bucket, Key="g", Body=b"0123456789abcdef")
        out = tmp_path / "out"
        result = gateway.aws_json(
            "s3api", "get-object", "--bucket", bucket, "--key", "g", "--range", "bytes=10-", out, tls=True
        )
        assert out.read_bytes() == b"abcdef", "ranged get-object over HTTPS returned the wrong bytes"
        assert result["ContentRange"] == "bytes 10-15/16", f"ContentRange over HTTPS: {result}"
