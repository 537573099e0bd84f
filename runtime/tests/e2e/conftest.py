"""Fixtures for the end-to-end suite: start the real ironbucket binary on free loopback ports
with a temporary data directory, and hand tests boto3 clients and an aws-cli runner for it.

The `gateway` fixture is parametrized over the two I/O drivers (io_uring and the forced epoll
fallback), so each test that uses it runs under both. Clients only ever talk to 127.0.0.1: the
process environment is stripped of AWS profiles and the EC2 metadata lookup is disabled.
"""

import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import boto3
import pytest
from botocore.config import Config as BotoConfig

REPO = Path(__file__).resolve().parents[3]
QUICKSTART = REPO / "deploy" / "quickstart"
BINARY = Path(os.environ.get("IRONBUCKET_BIN", REPO / "target" / "release" / "ironbucket"))

# Demo keys from deploy/quickstart/ironbucket.toml: (access key id, secret key).
ALICE = ("AKIAACMEALICE0000001", "alice-demo-secret-key-do-not-use-0000001")
BOB = ("AKIAGLOBEXBOB0000001", "bob-demo-secret-key-do-not-use-00000001")
ADMIN = ("AKIAACMEADMIN0000001", "admin-demo-secret-key-do-not-use-000001")
DEMO_SECRETS = (ALICE[1], BOB[1], ADMIN[1])

# Seconds in-flight requests get after SIGTERM; short so that lifecycle tests stay fast.
DEFAULT_SHUTDOWN_DEADLINE_SECS = 5


def pytest_configure(config):
    # boto3 clients built inside the test process read the same variables as aws-cli, so they
    # get the same loopback-only environment.
    os.environ.update(
        {
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "AWS_DEFAULT_REGION": "us-east-1",
        }
    )
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_CA_BUNDLE"):
        os.environ.pop(name, None)
    # A proxy from the environment would carry loopback traffic to another host.
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        os.environ.pop(name, None)
    os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost,::1"


ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def strip_ansi(text: str) -> str:
    """Remove terminal colour codes, which tracing's formatter may emit even into a file."""
    return ANSI_ESCAPE.sub("", text)


def server_env() -> dict:
    """Build the environment for an ironbucket process: info logs and no colour codes."""
    return {**os.environ, "RUST_LOG": os.environ.get("RUST_LOG", "info"), "NO_COLOR": "1"}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def make_certificate(directory: Path) -> tuple[Path, Path]:
    """Write a self-signed certificate for 127.0.0.1 and localhost."""
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=DNS:localhost,IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


@dataclass
class Gateway:
    """A running ironbucket process and how to reach it."""

    process: subprocess.Popen
    workdir: Path
    port: int
    tls_port: int
    cert: Path
    driver: str
    log_path: Path
    audit_path: Path
    config_path: Path
    env: dict = field(default_factory=dict)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def admin_endpoint(self) -> str:
        """The admin listener's base URL, read from the config this gateway runs."""
        text = self.config_path.read_text()
        section = text[text.index("[admin]") :]
        address = section.split('listen = "', 1)[1].split('"', 1)[0]
        return f"http://{address}"

    @property
    def tls_endpoint(self) -> str:
        return f"https://127.0.0.1:{self.tls_port}"

    def client(self, keys=ALICE, tls=False, **config):
        """Build a boto3 S3 client with the SDK's default checksum behaviour."""
        return boto3.client(
            "s3",
            endpoint_url=self.tls_endpoint if tls else self.endpoint,
            aws_access_key_id=keys[0],
            aws_secret_access_key=keys[1],
            region_name="us-east-1",
            verify=str(self.cert) if tls else None,
            config=BotoConfig(
                s3={"addressing_style": "path"},
                retries={"max_attempts": 1, "mode": "standard"},
                **config,
            ),
        )

    def aws(self, *args, keys=ALICE, tls=False, check=True, input=None):
        """Run aws-cli against the gateway and return the completed process."""
        env = dict(self.env)
        env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"] = keys
        command = ["aws", "--endpoint-url", self.tls_endpoint if tls else self.endpoint]
        if tls:
            command += ["--ca-bundle", str(self.cert)]
        command += [str(arg) for arg in args]
        result = subprocess.run(command, env=env, capture_output=True, text=True, input=input, timeout=600)
        if check and result.returncode != 0:
            raise AssertionError(
                f"aws {' '.join(map(str, args))} exited {result.returncode}\n"
                f"stdout: {result.stdout}\nstderr: {result.stderr}"
            )
        return result

    def aws_json(self, *args, keys=ALICE, tls=False):
        """Run an aws-cli command that prints JSON and return the parsed output ({} when empty)."""
        result = self.aws(*args, "--output", "json", keys=keys, tls=tls)
        return json.loads(result.stdout) if result.stdout.strip() else {}

    def aws_error(self, *args, keys=ALICE, tls=False) -> str:
        """Run an aws-cli command that must fail and return its standard error."""
        result = self.aws(*args, keys=keys, tls=tls, check=False)
        if result.returncode == 0:
            raise AssertionError(f"aws {' '.join(map(str, args))} succeeded but should fail\nstdout: {result.stdout}")
        return result.stderr

    def audit_records(self) -> list[dict]:
        if not self.audit_path.exists():
            return []
        return [json.loads(line) for line in self.audit_path.read_text().splitlines() if line]

    def log(self) -> str:
        return strip_ansi(self.log_path.read_text(errors="replace"))

    def rss_peak_kib(self) -> int:
        """Read the process's peak resident set size (VmHWM) in KiB."""
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
        raise AssertionError("VmHWM missing from /proc status")


def client_env(workdir: Path) -> dict:
    """Build the environment for aws-cli that never reaches beyond loopback."""
    env = dict(os.environ)
    config = workdir / "aws-config"
    config.write_text("[default]\nregion = us-east-1\ns3 =\n    addressing_style = path\n")
    env.update(
        {
            "AWS_CONFIG_FILE": str(config),
            "AWS_SHARED_CREDENTIALS_FILE": str(workdir / "aws-credentials-none"),
            "AWS_DEFAULT_REGION": "us-east-1",
            # Never ask the EC2 instance metadata service for credentials or a region.
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_PAGER": "",
        }
    )
    env.pop("AWS_PROFILE", None)
    return env


def write_config(
    workdir: Path,
    port: int,
    tls_port: int,
    cert: Path,
    key: Path,
    driver: str,
    extra: str = "",
    shutdown_deadline_secs: int = DEFAULT_SHUTDOWN_DEADLINE_SECS,
) -> Path:
    """Write the quickstart config with test ports, a TLS listener and the chosen driver."""
    text = (QUICKSTART / "ironbucket.toml").read_text()
    if 'listen = "127.0.0.1:9000"' not in text or "[storage]" not in text or "[server]\n" not in text:
        raise RuntimeError("deploy/quickstart/ironbucket.toml changed shape: update write_config in conftest.py")
    text = text.replace('listen = "127.0.0.1:9000"', f'listen = "127.0.0.1:{port}"')
    text = text.replace('listen = "127.0.0.1:9001"', f'listen = "127.0.0.1:{free_port()}"')
    server_keys = f"cores = 2\nshutdown_deadline_secs = {shutdown_deadline_secs}\n"
    if driver == "epoll":
        server_keys += "force_epoll = true\n"
    tls = f'[server.tls]\nlisten = "127.0.0.1:{tls_port}"\ncert = "{cert}"\nkey = "{key}"\n\n'
    text = text.replace("[storage]", tls + "[storage]", 1)
    text = text.replace("[server]\n", "[server]\n" + server_keys, 1)
    text += extra
    path = workdir / "ironbucket.toml"
    path.write_text(text)
    if not (workdir / "policies").exists():
        shutil.copytree(QUICKSTART / "policies", workdir / "policies")
    return path


def require_binary():
    if not BINARY.exists():
        raise RuntimeError(f"{BINARY} not found: run `cargo build --release -p ironbucket` or set IRONBUCKET_BIN")


def launch(workdir: Path, config: Path, port: int, tls_port: int, cert: Path, driver: str) -> Gateway:
    """Start the binary on an existing config and wait until both listeners accept connections."""
    log_path = workdir / "server.log"
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            [str(BINARY), "serve", "--config", str(config)],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=server_env(),
        )
    gateway = Gateway(
        process, workdir, port, tls_port, cert, driver, log_path, workdir / "audit.log", config, client_env(workdir)
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"ironbucket exited with {process.returncode}:\n{gateway.log()}")
        try:
            with (
                socket.create_connection(("127.0.0.1", port), timeout=0.2),
                socket.create_connection(("127.0.0.1", tls_port), timeout=0.2),
            ):
                return gateway
        except OSError:
            time.sleep(0.05)
    process.kill()
    process.wait()
    raise RuntimeError(f"ironbucket did not listen on {port} within 30 s:\n{gateway.log()}")


def start_gateway(
    driver: str, extra_config: str = "", shutdown_deadline_secs: int = DEFAULT_SHUTDOWN_DEADLINE_SECS
) -> Gateway:
    require_binary()
    workdir = Path(tempfile.mkdtemp(prefix="ironbucket-e2e-"))
    port, tls_port = free_port(), free_port()
    cert, key = make_certificate(workdir)
    config = write_config(workdir, port, tls_port, cert, key, driver, extra_config, shutdown_deadline_secs)
    return launch(workdir, config, port, tls_port, cert, driver)


def relaunch(gateway: Gateway) -> Gateway:
    """Start a new process on a stopped gateway's config, data directory and ports."""
    if gateway.process.poll() is None:
        raise RuntimeError("relaunch needs the previous process to have exited")
    return launch(gateway.workdir, gateway.config_path, gateway.port, gateway.tls_port, gateway.cert, gateway.driver)


def stop_gateway(gateway: Gateway) -> int:
    """Stop the process with SIGTERM (SIGKILL after 15 s), delete its files and return its exit code."""
    if gateway.process.poll() is None:
        gateway.process.terminate()
        try:
            gateway.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            gateway.process.kill()
            gateway.process.wait()
    code = gateway.process.returncode
    shutil.rmtree(gateway.workdir, ignore_errors=True)
    return code


@pytest.fixture(scope="module", params=["io_uring", "epoll"])
def gateway(request):
    """A gateway shared by the tests of one module, once per driver."""
    gw = start_gateway(request.param)
    yield gw
    stop_gateway(gw)


@pytest.fixture
def fresh_gateway():
    """A factory for gateways of one's own, for tests that stop or measure the process.

    The factory has a `relaunch(gateway)` attribute that restarts a stopped gateway on its
    data directory; every process it started is stopped at teardown.
    """
    started = []

    def start(driver="io_uring", extra_config="", shutdown_deadline_secs=DEFAULT_SHUTDOWN_DEADLINE_SECS):
        gw = start_gateway(driver, extra_config, shutdown_deadline_secs)
        started.append(gw)
        return gw

    def restart(gw):
        again = relaunch(gw)
        started.append(again)
        return again

    start.relaunch = restart
    yield start
    for gw in reversed(started):
        stop_gateway(gw)


_bucket_counter = [0]


def unique_bucket_name(label: str) -> str:
    """Return a valid S3 bucket name, unique within the run, that starts with a readable label."""
    _bucket_counter[0] += 1
    label = re.sub(r"[^a-z0-9-]+", "-", label.lower()).strip("-")[:30]
    return f"t{os.getpid() % 10000}-{_bucket_counter[0]}-{label}"[:63].rstrip("-")


@pytest.fixture
def bucket_name(request):
    """A bucket name unique within the run, not yet created."""
    return unique_bucket_name(request.node.originalname.removeprefix("test_"))


@pytest.fixture
def bucket(gateway, bucket_name):
    """A bucket that alice (tenant acme) created for this test."""
    gateway.client(ALICE).create_bucket(Bucket=bucket_name)
    return bucket_name
