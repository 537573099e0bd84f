"""Server-side copies of large objects: `aws s3 cp s3://a/k s3://b/k` above the multipart
threshold goes through UploadPartCopy, and UploadPartCopy keeps the copy source inside the
caller's tenant and policies."""

import pytest
from botocore.exceptions import ClientError

from conftest import ALICE, BOB, unique_bucket_name
from payloads import MIB, sha256_file, write_pattern_file


def test_cli_copies_large_object_between_buckets(gateway, bucket, tmp_path):
    target_bucket = unique_bucket_name("copy-target")
    gateway.client(ALICE).create_bucket(Bucket=target_bucket)
    source = tmp_path / "big.bin"
    expected = write_pattern_file(source, 20 * MIB, seed=31)
    gateway.aws("s3", "cp", source, f"s3://{bucket}/big.bin", "--only-show-errors")
    gateway.aws("s3", "cp", f"s3://{bucket}/big.bin", f"s3://{target_bucket}/copied.bin", "--only-show-errors")
    head = gateway.aws_json("s3api", "head-object", "--bucket", target_bucket, "--key", "copied.bin")
    assert head["ContentLength"] == 20 * MIB, f"copied size {head['ContentLength']}"
    assert head["ETag"].strip('"').endswith("-3"), f"copy ETag {head['ETag']} is not a 3-part ETag"
    back = tmp_path / "back.bin"
    gateway.aws("s3", "cp", f"s3://{target_bucket}/copied.bin", back, "--only-show-errors")
    assert sha256_file(back) == expected, "copied object differs from its source"


def test_upload_part_copy_range(gateway, bucket):
    client = gateway.client(ALICE)
    data = bytes(range(256)) * (24 * 1024)  # 6 MiB
    client.put_object(Bucket=bucket, Key="src", Body=data)
    upload = client.create_multipart_upload(Bucket=bucket, Key="dst")["UploadId"]
    first = client.upload_part_copy(
        Bucket=bucket, Key="dst", UploadId=upload, PartNumber=1,
        CopySource={"Bucket": bucket, "Key": "src"}, CopySourceRange=f"bytes=0-{5 * MIB - 1}",
    )["CopyPartResult"]["ETag"]
    second = client.upload_part_copy(
        Bucket=bucket, Key="dst", UploadId=upload, PartNumber=2,
        CopySource={"Bucket": bucket, "Key": "src"}, CopySourceRange=f"bytes={5 * MIB}-{len(data) - 1}",
    )["CopyPartResult"]["ETag"]
    client.complete_multipart_upload(
        Bucket=bucket, Key="dst", UploadId=upload,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": first}, {"PartNumber": 2, "ETag": second}]},
    )
    assert client.get_object(Bucket=bucket, Key="dst")["Body"].read() == data, "assembled copy differs"


def test_upload_part_copy_range_outside_object(gateway, bucket):
    client = gateway.client(ALICE)
    client.put_object(Bucket=bucket, Key="small", Body=b"0123456789")
    upload = client.create_multipart_upload(Bucket=bucket, Key="dst")["UploadId"]
    with pytest.raises(ClientError) as error:
        client.upload_part_copy(
            Bucket=bucket, Key="dst", UploadId=upload, PartNumber=1,
            CopySource={"Bucket": bucket, "Key": "small"}, CopySourceRange="bytes=5-100",
        )
    assert error.value.response["Error"]["Code"] == "InvalidRange", error.value.response["Error"]


def test_upload_part_copy_from_other_tenant_denied(gateway, bucket):
    gateway.client(ALICE).put_object(Bucket=bucket, Key="secret", Body=b"acme only")
    bob = gateway.client(BOB)
    bob_bucket = unique_bucket_name("bob-copy")
    bob.create_bucket(Bucket=bob_bucket)
    upload = bob.create_multipart_upload(Bucket=bob_bucket, Key="stolen")["UploadId"]
    with pytest.raises(ClientError) as error:
        bob.upload_part_copy(
            Bucket=bob_bucket, Key="stolen", UploadId=upload, PartNumber=1,
            CopySource={"Bucket": bucket, "Key": "secret"},
        )
    assert error.value.response["Error"]["Code"] == "AccessDenied", error.value.response["Error"]
    parts = bob.list_parts(Bucket=bob_bucket, Key="stolen", UploadId=upload).get("Parts", [])
    assert parts == [], f"a denied part copy left parts behind: {parts}"
