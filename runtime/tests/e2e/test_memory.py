"""Bounded memory: a 1 GiB object goes up (aws-cli multipart) and down (boto3 streaming)
through the gateway intact. The server's peak resident set size must stay under 128 MiB, which
is only possible if no hop buffers whole objects or parts.

These tests are marked `slow` so they can be deselected with `-m "not slow"`; they run by
default, once each, on their own gateway (default driver).
"""

import pytest

from payloads import MIB, sha256_file, sha256_stream, write_pattern_file

GIB = 1024 * MIB
PEAK_RSS_LIMIT_KIB = 128 * 1024


@pytest.mark.slow
def test_one_gib_round_trip(fresh_gateway, bucket_name, tmp_path):
    gateway = fresh_gateway()
    client = gateway.client()
    client.create_bucket(Bucket=bucket_name)
    source = tmp_path / "one-gib.bin"
    expected = write_pattern_file(source, GIB, seed=1024)

    gateway.aws("s3", "cp", source, f"s3://{bucket_name}/one-gib.bin", "--only-show-errors")
    source.unlink()
    head = client.head_object(Bucket=bucket_name, Key="one-gib.bin")
    assert head["ContentLength"] == GIB, f"stored size {head['ContentLength']} is not 1 GiB"

    body = client.get_object(Bucket=bucket_name, Key="one-gib.bin")["Body"]
    digest, size = sha256_stream(body)
    assert size == GIB, f"downloaded {size} bytes instead of 1 GiB"
    assert digest == expected, "downloaded 1 GiB object differs from the uploaded file"

    peak = gateway.rss_peak_kib()
    assert peak < PEAK_RSS_LIMIT_KIB, f"peak RSS {peak} KiB exceeds {PEAK_RSS_LIMIT_KIB} KiB"


@pytest.mark.slow
def test_single_put_streams_bounded(fresh_gateway, bucket_name, tmp_path):
    # One 512 MiB PutObject body: unlike multipart, no part boundary limits what a hop could buffer.
    gateway = fresh_gateway()
    client = gateway.client()
    client.create_bucket(Bucket=bucket_name)
    source = tmp_path / "half-gib.bin"
    expected = write_pattern_file(source, 512 * MIB, seed=512)
    with open(source, "rb") as body:
        client.put_object(Bucket=bucket_name, Key="half-gib.bin", Body=body)

    target = tmp_path / "half-gib.back"
    gateway.aws("s3", "cp", f"s3://{bucket_name}/half-gib.bin", target, "--only-show-errors")
    assert sha256_file(target) == expected, "downloaded 512 MiB object differs from the uploaded file"

    peak = gateway.rss_peak_kib()
    assert peak < PEAK_RSS_LIMIT_KIB, f"peak RSS {peak} KiB exceeds {PEAK_RSS_LIMIT_KIB} KiB"
