"""Tenant isolation and authentication, the Alice-and-Bob scenario: alice (tenant acme) owns a
bucket, and bob (tenant globex) is denied every operation on it and never finds it listed. Bad
credentials get S3's authentication errors, denials name the policy that decided them, and the
audit log records every request without a single secret in it.
"""

import re
import uuid

import pytest
from botocore import UNSIGNED
from botocore.exceptions import ClientError

from conftest import ADMIN, ALICE, BOB, DEMO_SECRETS, unique_bucket_name
from s3wire import wait_for


def error_of(call) -> ClientError:
    """Run a call that must fail and return its ClientError."""
    with pytest.raises(ClientError) as error:
        call()
    return error.value


def code(error: ClientError) -> str:
    return error.response["Error"]["Code"]


def status(error: ClientError) -> int:
    return error.response["ResponseMetadata"]["HTTPStatusCode"]


def bucket_names(client) -> list[str]:
    return [entry["Name"] for entry in client.list_buckets().get("Buckets", [])]


@pytest.fixture
def alice_object(gateway, bucket):
    """Alice's bucket with one object in it, as (bucket, key, body)."""
    gateway.client(ALICE).put_object(Bucket=bucket, Key="secret-plans.txt", Body=b"acme only")
    return bucket, "secret-plans.txt", b"acme only"


@pytest.fixture
def bob_bucket(gateway):
    name = unique_bucket_name("bob")
    gateway.client(BOB).create_bucket(Bucket=name)
    return name


# What bob tries against alice's bucket; each must fail with AccessDenied (403 for HEAD).
BOB_OPERATIONS = {
    "list_objects_v2": lambda c, b, k: c.list_objects_v2(Bucket=b),
    "list_objects": lambda c, b, k: c.list_objects(Bucket=b),
    "get_object": lambda c, b, k: c.get_object(Bucket=b, Key=k),
    "get_object_range": lambda c, b, k: c.get_object(Bucket=b, Key=k, Range="bytes=0-1"),
    "head_object": lambda c, b, k: c.head_object(Bucket=b, Key=k),
    "head_bucket": lambda c, b, k: c.head_bucket(Bucket=b),
    "put_object": lambda c, b, k: c.put_object(Bucket=b, Key=k, Body=b"globex was here"),
    "put_new_object": lambda c, b, k: c.put_object(Bucket=b, Key="bob.txt", Body=b"globex"),
    "delete_object": lambda c, b, k: c.delete_object(Bucket=b, Key=k),
    "delete_objects": lambda c, b, k: c.delete_objects(Bucket=b, Delete={"Objects": [{"Key": k}]}),
    "create_multipart_upload": lambda c, b, k: c.create_multipart_upload(Bucket=b, Key="bob-mp"),
    "list_multipart_uploads": lambda c, b, k: c.list_multipart_uploads(Bucket=b),
    "get_bucket_acl": lambda c, b, k: c.get_bucket_acl(Bucket=b),
    "get_object_acl": lambda c, b, k: c.get_object_acl(Bucket=b, Key=k),
    "get_bucket_location": lambda c, b, k: c.get_bucket_location(Bucket=b),
    "list_object_versions": lambda c, b, k: c.list_object_versions(Bucket=b),
    "delete_bucket": lambda c, b, k: c.delete_bucket(Bucket=b),
}


@pytest.mark.parametrize("operation", sorted(BOB_OPERATIONS))
def test_bob_denied_on_alice_bucket(gateway, alice_object, operation):
    bucket, key, body = alice_object
    error = error_of(lambda: BOB_OPERATIONS[operation](gateway.client(BOB), bucket, key))
    expected = "403" if operation.startswith("head_") else "AccessDenied"
    assert code(error) == expected, f"bob {operation}: {error.response['Error']}"
    assert status(error) == 403, f"bob {operation} status {status(error)}"
    stored = gateway.client(ALICE).get_object(Bucket=bucket, Key=key)["Body"].read()
    assert stored == body, f"alice's object changed after bob's {operation}"


def test_bob_copy_from_alice_denied(gateway, alice_object, bob_bucket):
    bucket, key, _ = alice_object
    bob = gateway.client(BOB)
    error = error_of(
        lambda: bob.copy_object(Bucket=bob_bucket, Key="stolen", CopySource={"Bucket": bucket, "Key": key})
    )
    assert code(error) == "AccessDenied", f"bob copying out of alice's bucket: {error.response['Error']}"
    assert bob.list_objects_v2(Bucket=bob_bucket).get("KeyCount") == 0, "the denied copy stored an object"


def test_alice_copy_into_bob_denied(gateway, alice_object, bob_bucket):
    bucket, key, _ = alice_object
    alice = gateway.client(ALICE)
    error = error_of(
        lambda: alice.copy_object(Bucket=bob_bucket, Key="pushed", CopySource={"Bucket": bucket, "Key": key})
    )
    assert code(error) == "AccessDenied", f"alice copying into bob's bucket: {error.response['Error']}"


def test_bob_cannot_see_alice_bucket(gateway, bucket, bob_bucket):
    bob_sees = bucket_names(gateway.client(BOB))
    assert bucket not in bob_sees, f"bob's ListBuckets shows alice's bucket: {bob_sees}"
    assert bob_bucket in bob_sees, f"bob's ListBuckets misses his own bucket: {bob_sees}"


def test_alice_cannot_see_bob_bucket(gateway, bucket, bob_bucket):
    alice_sees = bucket_names(gateway.client(ALICE))
    assert bob_bucket not in alice_sees, f"alice's ListBuckets shows bob's bucket: {alice_sees}"
    assert bucket in alice_sees, f"alice's ListBuckets misses her own bucket: {alice_sees}"


def test_bob_cannot_claim_alice_name(gateway, alice_object):
    bucket, key, body = alice_object
    error = error_of(lambda: gateway.client(BOB).create_bucket(Bucket=bucket))
    # S3 returns BucketAlreadyExists for a name another owner has.
    assert code(error) == "BucketAlreadyExists", (
        f"bob creating alice's name: {error.response['Error']}"
    )
    assert bucket not in bucket_names(gateway.client(BOB)), "bob's failed CreateBucket made the bucket his"
    stored = gateway.client(ALICE).get_object(Bucket=bucket, Key=key)["Body"].read()
    assert stored == body, "alice's object changed after bob's CreateBucket"


def test_admin_sees_acme_only(gateway, alice_object, bob_bucket):
    bucket, key, body = alice_object
    admin = gateway.client(ADMIN)
    admin_sees = bucket_names(admin)
    assert bucket in admin_sees, f"acme's admin does not see alice's bucket: {admin_sees}"
    assert bob_bucket not in admin_sees, f"acme's admin sees globex's bucket: {admin_sees}"
    assert admin.get_object(Bucket=bucket, Key=key)["Body"].read() == body, "acme's admin cannot read acme objects"
    error = error_of(lambda: admin.list_objects_v2(Bucket=bob_bucket))
    assert code(error) == "AccessDenied", f"acme's admin listing globex's bucket: {error.response['Error']}"


# Authentication failures.


def test_wrong_secret_signature_mismatch(gateway, alice_object):
    bucket, key, _ = alice_object
    forged = gateway.client((ALICE[0], "not-the-right-secret-key-for-alice-00000"))
    error = error_of(lambda: forged.get_object(Bucket=bucket, Key=key))
    assert code(error) == "SignatureDoesNotMatch", f"wrong secret: {error.response['Error']}"
    assert status(error) == 403, f"wrong secret status {status(error)}"
    message = error.response["Error"].get("Message", "")
    assert ALICE[1] not in message, "the error message contains alice's secret"


def test_unknown_key_invalid_access_key(gateway, bucket):
    stranger = gateway.client(("AKIAUNKNOWN000000000", "whatever-secret-key-0000000000000000000"))
    error = error_of(lambda: stranger.list_objects_v2(Bucket=bucket))
    assert code(error) == "InvalidAccessKeyId", f"unknown access key: {error.response['Error']}"
    assert status(error) == 403, f"unknown access key status {status(error)}"


def test_anonymous_request_denied(gateway, alice_object):
    bucket, key, _ = alice_object
    anonymous = gateway.client(signature_version=UNSIGNED)
    for name, call in [
        ("GetObject", lambda: anonymous.get_object(Bucket=bucket, Key=key)),
        ("ListObjectsV2", lambda: anonymous.list_objects_v2(Bucket=bucket)),
        ("PutObject", lambda: anonymous.put_object(Bucket=bucket, Key="anon", Body=b"x")),
        ("ListBuckets", lambda: anonymous.list_buckets()),
    ]:
        error = error_of(call)
        assert code(error) == "AccessDenied", f"anonymous {name}: {error.response['Error']}"


# Policy decisions.


def test_deny_names_the_policy(gateway, bucket):
    alice = gateway.client(ALICE)
    error = error_of(lambda: alice.delete_bucket(Bucket=bucket))
    assert code(error) == "AccessDenied", f"alice deleting her bucket: {error.response['Error']}"
    message = error.response["Error"].get("Message", "")
    assert "no-dev-bucket-delete" in message, f"AccessDenied message does not name the deny policy: {message!r}"
    assert bucket in bucket_names(alice), "the denied DeleteBucket removed the bucket"


def test_no_allow_is_explained(gateway, bucket):
    # s3:GetBucketVersioning is in no policy for the dev role, so no allow matches.
    error = error_of(lambda: gateway.client(ALICE).get_bucket_versioning(Bucket=bucket))
    assert code(error) == "AccessDenied", f"alice GetBucketVersioning: {error.response['Error']}"
    message = error.response["Error"].get("Message", "")
    assert re.search(r"\bno\b.*\ballow", message, re.I), (
        f"AccessDenied message does not say no allow matched: {message!r}"
    )
    assert "no-dev-bucket-delete" not in message, f"a no-allow denial names an unrelated deny policy: {message!r}"
    versioning = gateway.client(ADMIN).get_bucket_versioning(Bucket=bucket)
    assert versioning["ResponseMetadata"]["HTTPStatusCode"] == 200, "the admin cannot read bucket versioning"


# Audit log.


def test_audit_records_every_request(gateway, bucket):
    marker = f"e2e-audit-{uuid.uuid4().hex[:12]}"
    signatures = []

    def capture(request, **_):
        authorization = request.headers.get("Authorization", b"")
        authorization = authorization.decode() if isinstance(authorization, bytes) else authorization
        if "Signature=" in authorization:
            signatures.append(authorization.rsplit("Signature=", 1)[1])

    alice = gateway.client(ALICE, user_agent_extra=marker)
    bob = gateway.client(BOB, user_agent_extra=marker)
    forged = gateway.client((ALICE[0], "not-the-right-secret-key-for-alice-00000"), user_agent_extra=marker)
    for client in (alice, bob, forged):
        client.meta.events.register("before-send.s3", capture)

    alice.put_object(Bucket=bucket, Key="audited", Body=b"audit me")
    alice.get_object(Bucket=bucket, Key="audited")["Body"].read()
    error_of(lambda: alice.head_object(Bucket=bucket, Key="missing"))
    error_of(lambda: alice.delete_bucket(Bucket=bucket))
    error_of(lambda: bob.get_object(Bucket=bucket, Key="audited"))
    error_of(lambda: forged.get_object(Bucket=bucket, Key="audited"))

    def marked():
        records = [r for r in gateway.audit_records() if marker in (r.get("user_agent") or "")]
        return records if len(records) >= 6 else None

    records = wait_for(marked, timeout=10) or [
        r for r in gateway.audit_records() if marker in (r.get("user_agent") or "")
    ]
    assert len(records) == 6, f"expected 6 audit records for 6 requests, found {len(records)}: {records}"
    for record in records:
        missing = {"principal", "tenant", "decision", "status", "operation", "reason"} - record.keys()
        assert not missing, f"audit record lacks {sorted(missing)}: {record}"

    def record_of(principal, operation, status):
        found = [r for r in records if (r["principal"], r["operation"], r["status"]) == (principal, operation, status)]
        assert len(found) == 1, f"expected one {operation} record of {principal} with status {status}: {records}"
        return found[0]

    put = record_of("alice", "PutObject", 200)
    assert put["tenant"] == "acme", f"PutObject record tenant: {put}"
    assert put["decision"] == "allow", f"PutObject record decision: {put}"
    assert (put["bucket"], put["key"]) == (bucket, "audited"), f"PutObject record names: {put}"
    assert put["access_key_id"] == ALICE[0], f"PutObject record access key id: {put}"
    assert record_of("alice", "GetObject", 200)["decision"] == "allow", "GetObject record decision"
    assert record_of("alice", "HeadObject", 404)["decision"] == "allow", "HeadObject of a missing key decision"

    delete = record_of("alice", "DeleteBucket", 403)
    assert delete["decision"] == "deny", f"DeleteBucket record decision: {delete}"
    assert delete["reason"] == "explicit-deny", f"DeleteBucket reason: {delete['reason']}"
    assert "no-dev-bucket-delete" in delete["policies"], f"DeleteBucket record policies: {delete['policies']}"

    bob_get = record_of("bob", "GetObject", 403)
    assert bob_get["tenant"] == "globex", f"bob's record tenant: {bob_get}"
    assert bob_get["decision"] == "deny", f"bob's record decision: {bob_get}"
    assert bob_get["reason"] == "tenant-isolation", f"bob's denial reason: {bob_get['reason']}"

    failed_auth = [r for r in records if r["reason"] == "authentication"]
    assert len(failed_auth) == 1, f"expected one authentication-failure record for the forged signature: {records}"
    assert failed_auth[0]["decision"] == "deny", f"forged signature record decision: {failed_auth[0]}"
    assert failed_auth[0]["status"] == 403, f"forged signature record status: {failed_auth[0]}"

    audit_text = gateway.audit_path.read_text()
    log_text = gateway.log()
    for secret in DEMO_SECRETS:
        assert secret not in audit_text, "a demo secret key appears in the audit log"
        assert secret not in log_text, "a demo secret key appears in the server log"
    assert len(signatures) == 6, f"captured {len(signatures)} request signatures for 6 requests"
    for signature in signatures:
        assert signature not in audit_text, "a request signature appears in the audit log"
        assert signature not in log_text, "a request signature appears in the server log"
