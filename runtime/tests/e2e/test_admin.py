"""The admin listener and policy reloads: probes, Prometheus metrics, the policy status, reloads
by file change, by SIGHUP and by the admin endpoint, a failing reload that keeps the last good
table, the simulator, and dry-run policies in the audit log."""

import json
import signal
import subprocess
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from botocore.exceptions import ClientError
from conftest import ALICE, BINARY, BOB, QUICKSTART
from s3wire import wait_for

LOOPBACK_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))

# Grants alice's tenant nothing new: a second allow for the same role, in dry-run mode.
DRY_RUN_POLICY = """
version: "1.0"
policies:
  - id: dry-run-probe
    name: dry run probe
    description: Would deny every GetObject, but only in dry-run mode
    effect: Deny
    mode: dry-run
    principals:
      type: role
      values: [dev]
    actions: [s3:GetObject]
    resources: ["arn:aws:s3:::*"]
    audit: true
"""

DENY_PUT_POLICY = """
version: "1.0"
policies:
  - id: freeze-puts
    name: freeze writes
    description: Nobody writes while the freeze is on
    effect: Deny
    principals:
      type: role
      values: [dev]
    actions: [s3:PutObject]
    resources: ["arn:aws:s3:::*"]
    audit: true
"""


def admin(gateway, method, path, body=None):
    """Send one admin request; return (status, body bytes)."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(gateway.admin_endpoint + path, data=data, method=method)
    if data is not None:
        request.add_header("content-type", "application/json")
    try:
        with LOOPBACK_OPENER.open(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def policy_status(gateway):
    status, body = admin(gateway, "GET", "/policy")
    assert status == 200, f"GET /policy status {status}: {body!r}"
    return json.loads(body)


def test_health_and_readiness(gateway):
    assert admin(gateway, "GET", "/healthz") == (200, b"ok\n"), "healthz"
    status, body = admin(gateway, "GET", "/readyz")
    assert status == 200, f"readyz status {status}: {body!r}"


def test_metrics_count_requests(gateway, bucket):
    client = gateway.client()
    client.put_object(Bucket=bucket, Key="m", Body=b"metrics")
    with pytest.raises(ClientError):
        gateway.client(BOB).get_object(Bucket=bucket, Key="m")
    status, body = admin(gateway, "GET", "/metrics")
    text = body.decode()
    assert status == 200, f"metrics status {status}"
    assert 'ironbucket_requests_total{class="2xx"}' in text, text
    denied = [line for line in text.splitlines() if line.startswith("ironbucket_requests_denied_total ")]
    assert denied and int(denied[0].split()[1]) >= 1, f"denied counter: {denied}"
    assert f'driver="{gateway.driver}"' in text, f"driver gauge missing for {gateway.driver}"
    assert "ironbucket_policy_info{digest=" in text, "policy info gauge missing"


def test_unknown_admin_path_lists_endpoints(gateway):
    status, body = admin(gateway, "GET", "/nope")
    assert status == 404, f"status {status}"
    assert "/policy/simulate" in body.decode(), body


def test_simulate_decides_without_storage(gateway):
    request = {
        "principal": {"user_id": "alice", "tenant": "acme", "roles": ["dev"]},
        "action": "s3:DeleteBucket",
        "resource": "arn:aws:s3:::anything",
    }
    status, body = admin(gateway, "POST", "/policy/simulate", request)
    answer = json.loads(body)
    assert status == 200, f"simulate status {status}: {body!r}"
    assert answer["decision"] == "deny", answer
    assert "no-dev-bucket-delete" in answer["reason"], answer
    request["action"] = "s3:GetObject"
    answer = json.loads(admin(gateway, "POST", "/policy/simulate", request)[1])
    assert answer["decision"] == "allow", answer
    assert answer["matched_policies"] == ["dev-read-write"], answer


def test_simulate_rejects_bad_request(gateway):
    status, body = admin(gateway, "POST", "/policy/simulate", {"principal": {}, "action": "s3:Nope"})
    assert status == 400, f"status {status}: {body!r}"
    assert "error" in json.loads(body), body


def test_file_change_reload_and_rollback(fresh_gateway):
    gateway = fresh_gateway()
    client = gateway.client(ALICE)
    client.create_bucket(Bucket="reload-bucket")
    client.put_object(Bucket="reload-bucket", Key="before", Body=b"1")
    first = policy_status(gateway)["digest"]

    # A new deny file is picked up by the directory watcher.
    (gateway.workdir / "policies" / "freeze.yaml").write_text(DENY_PUT_POLICY)
    wait_for(lambda: policy_status(gateway)["digest"] != first, timeout=15)
    with pytest.raises(ClientError) as error:
        client.put_object(Bucket="reload-bucket", Key="during", Body=b"2")
    assert error.value.response["Error"]["Code"] == "AccessDenied", error.value.response["Error"]
    assert "freeze-puts" in error.value.response["Error"]["Message"], error.value.response["Error"]

    # A broken file fails the reload; the last good table stays and the error is reported.
    frozen = policy_status(gateway)["digest"]
    (gateway.workdir / "policies" / "broken.yaml").write_text("policies:\n  - id: [unclosed\n")
    status, body = admin(gateway, "POST", "/policy/reload")
    assert status == 422, f"reload of a broken file: {status} {body!r}"
    answer = json.loads(body)
    assert "broken.yaml" in answer["error"], answer
    assert answer["kept"]["digest"] == frozen, answer
    assert policy_status(gateway)["last_error"], "status does not show the failed reload"
    metrics = admin(gateway, "GET", "/metrics")[1].decode()
    assert "ironbucket_policy_last_reload_ok 0" in metrics, "reload failure not in metrics"
    with pytest.raises(ClientError):
        client.put_object(Bucket="reload-bucket", Key="still-frozen", Body=b"3")

    # SIGHUP after the fix reloads the repaired directory.
    (gateway.workdir / "policies" / "broken.yaml").unlink()
    (gateway.workdir / "policies" / "freeze.yaml").unlink()
    gateway.process.send_signal(signal.SIGHUP)
    wait_for(lambda: policy_status(gateway)["digest"] == first, timeout=15)
    client.put_object(Bucket="reload-bucket", Key="after", Body=b"4")
    assert policy_status(gateway)["last_error"] is None, "a good reload left the old error"


def test_dry_run_policy_is_audited_not_enforced(fresh_gateway):
    gateway = fresh_gateway()
    (gateway.workdir / "policies" / "dry-run.yaml").write_text(DRY_RUN_POLICY)
    status, body = admin(gateway, "POST", "/policy/reload")
    assert status == 200, f"reload status {status}: {body!r}"
    client = gateway.client(ALICE)
    client.create_bucket(Bucket="dry-run-bucket")
    client.put_object(Bucket="dry-run-bucket", Key="k", Body=b"v")
    assert client.get_object(Bucket="dry-run-bucket", Key="k")["Body"].read() == b"v", "dry-run deny enforced"

    def get_record():
        records = [r for r in gateway.audit_records() if r["operation"] == "GetObject"]
        return records[-1] if records else None

    record = wait_for(get_record, timeout=5)
    assert record["decision"] == "allow", record
    assert record["dry_run_policies"] == ["dry-run-probe"], record


CONDITION_POLICY = """
version: "1.0"
policies:
  - id: tls-only-writes
    name: writes need TLS
    description: Plain-HTTP uploads are refused
    effect: Deny
    principals:
      type: role
      values: [dev]
    actions: [s3:PutObject]
    resources: ["arn:aws:s3:::*"]
    conditions:
      - type: Bool
        key: aws:SecureTransport
        value: "false"
    audit: true
  - id: hide-private-prefix
    name: private listings
    description: Listing under private/ is refused
    effect: Deny
    principals:
      type: role
      values: [dev]
    actions: [s3:ListBucket]
    resources: ["arn:aws:s3:::*"]
    conditions:
      - type: StringLike
        key: s3:prefix
        values: ["private/*"]
    audit: true
"""


def test_conditions_see_request_context(fresh_gateway):
    gateway = fresh_gateway()
    plain, tls = gateway.client(ALICE), gateway.client(ALICE, tls=True)
    plain.create_bucket(Bucket="conditions")
    (gateway.workdir / "policies" / "conditions.yaml").write_text(CONDITION_POLICY)
    status, body = admin(gateway, "POST", "/policy/reload")
    assert status == 200, f"reload status {status}: {body!r}"

    with pytest.raises(ClientError) as error:
        plain.put_object(Bucket="conditions", Key="k", Body=b"over http")
    assert "tls-only-writes" in error.value.response["Error"]["Message"], error.value.response["Error"]
    tls.put_object(Bucket="conditions", Key="k", Body=b"over https")

    plain.list_objects_v2(Bucket="conditions", Prefix="public/")
    with pytest.raises(ClientError) as error:
        plain.list_objects_v2(Bucket="conditions", Prefix="private/reports")
    assert "hide-private-prefix" in error.value.response["Error"]["Message"], error.value.response["Error"]


POLICY_TOOL = BINARY.parent / "ironbucket-policy"


def policy_tool(*args):
    result = subprocess.run([str(POLICY_TOOL), *map(str, args)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, f"ironbucket-policy {args} exited {result.returncode}: {result.stderr}"
    return result


def use_table_file(gateway_config: Path, table: Path, public_key: Path):
    text = gateway_config.read_text()
    assert 'dir = "policies"' in text, "the quickstart [policy] section changed shape"
    text = text.replace('dir = "policies"', f'table = "{table}"\npublic_key = "{public_key}"', 1)
    gateway_config.write_text(text)


@pytest.mark.skipif(not POLICY_TOOL.exists(), reason="needs target/release/ironbucket-policy")
def test_signed_table_file_serves_and_tampering_rejected(fresh_gateway, tmp_path):
    keys = tmp_path / "signer"
    policy_tool("keygen", "--out", keys)
    table = tmp_path / "policies.ibt"
    policy_tool("compile", QUICKSTART / "policies", "-o", table, "--sign", f"{keys}.pk8")

    gateway = fresh_gateway()
    stop_gateway_process(gateway)
    use_table_file(gateway.config_path, table, Path(f"{keys}.pub"))
    gateway = fresh_gateway.relaunch(gateway)
    gateway.client(ALICE).create_bucket(Bucket="signed-table")
    assert policy_status(gateway)["policy_count"] == 3, policy_status(gateway)

    # A table whose bytes changed after signing is refused; the signed table stays live.
    digest = policy_status(gateway)["digest"]
    data = bytearray(table.read_bytes())
    data[-2] ^= 0x01
    table.write_bytes(bytes(data))
    status, body = admin(gateway, "POST", "/policy/reload")
    assert status == 422, f"reload of a tampered table: {status} {body!r}"
    assert policy_status(gateway)["digest"] == digest, "a tampered table replaced the signed one"
    gateway.client(ALICE).put_object(Bucket="signed-table", Key="k", Body=b"still served")


def stop_gateway_process(gateway):
    gateway.process.terminate()
    gateway.process.wait(timeout=15)
