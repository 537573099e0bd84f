"""The process's life: graceful shutdown on SIGTERM with a deadline for in-flight requests, a
clear failure when the port is taken, the I/O driver each core got in the log, and
configuration errors reported as `file:line:column`.
"""

import ctypes
import hashlib
import http.client
import os
import platform
import re
import signal
import subprocess
import threading
import time

import pytest

from conftest import ALICE, BINARY, free_port, make_certificate, require_binary, server_env, strip_ansi, write_config
from s3wire import object_path, sign_headers, signed_get, wait_for

DRIVER_PATTERN = re.compile(r"driver\W{0,3}(io_uring|epoll)\b")
# io_uring_setup has number 425 on every architecture that uses the generic syscall table.
IO_URING_SETUP = {"x86_64": 425, "aarch64": 425}


def io_uring_available() -> bool | None:
    """Probe io_uring_setup directly; None when this architecture's number is not known here."""
    number = IO_URING_SETUP.get(platform.machine())
    if number is None:
        return None
    libc = ctypes.CDLL(None, use_errno=True)
    params = ctypes.create_string_buffer(120)  # struct io_uring_params
    fd = libc.syscall(number, 4, params)
    if fd < 0:
        return False
    os.close(fd)
    return True


class SlowUpload(threading.Thread):
    """A PUT whose body trickles out in pieces, so that it is in flight when the signal arrives."""

    def __init__(self, gateway, bucket, key, pieces: int, piece_size: int, pause: float):
        super().__init__(daemon=True)
        self.gateway, self.bucket, self.key = gateway, bucket, key
        self.pieces, self.piece_size, self.pause = pieces, piece_size, pause
        self.body = bytes(range(256)) * (pieces * piece_size // 256 + 1)
        self.body = self.body[: pieces * piece_size]
        self.first_piece_sent = threading.Event()
        self.status = None
        self.error = None

    def run(self):
        path = object_path(self.bucket, self.key)
        headers = sign_headers(
            self.gateway.endpoint, "PUT", path, ALICE, payload_hash=hashlib.sha256(self.body).hexdigest()
        )
        headers["Content-Length"] = str(len(self.body))
        connection = http.client.HTTPConnection("127.0.0.1", self.gateway.port, timeout=60)
        try:
            connection.putrequest("PUT", path, skip_host=True, skip_accept_encoding=True)
            for name, value in headers.items():
                connection.putheader(name, value)
            connection.endheaders()
            for index in range(self.pieces):
                connection.send(self.body[index * self.piece_size : (index + 1) * self.piece_size])
                self.first_piece_sent.set()
                time.sleep(self.pause)
            response = connection.getresponse()
            response.read()
            self.status = response.status
        except (OSError, http.client.HTTPException) as error:
            self.error = error
        finally:
            self.first_piece_sent.set()
            connection.close()


def test_sigterm_finishes_inflight_upload(fresh_gateway, bucket_name):
    gateway = fresh_gateway(shutdown_deadline_secs=10)
    gateway.client().create_bucket(Bucket=bucket_name)
    upload = SlowUpload(gateway, bucket_name, "slow.bin", pieces=20, piece_size=64 * 1024, pause=0.1)
    upload.start()
    assert upload.first_piece_sent.wait(10), "the slow upload never started"
    gateway.process.send_signal(signal.SIGTERM)
    code = gateway.process.wait(timeout=30)
    upload.join(timeout=30)
    assert upload.error is None, f"the in-flight upload failed during shutdown: {upload.error!r}"
    assert upload.status == 200, f"the in-flight upload got status {upload.status}"
    assert code == 0, f"exit code after SIGTERM is {code}:\n{gateway.log()}"

    again = fresh_gateway.relaunch(gateway)
    stored = signed_get(again.endpoint, ALICE, bucket_name, "slow.bin")
    assert stored.status == 200, f"the upload acknowledged during shutdown is missing after restart: {stored.status}"
    assert stored.body == upload.body, "the upload acknowledged during shutdown was stored with other bytes"


def test_deadline_cuts_slow_upload(fresh_gateway, bucket_name):
    deadline = 2
    gateway = fresh_gateway(shutdown_deadline_secs=deadline)
    gateway.client().create_bucket(Bucket=bucket_name)
    upload = SlowUpload(gateway, bucket_name, "too-slow.bin", pieces=40, piece_size=16 * 1024, pause=0.25)
    upload.start()
    assert upload.first_piece_sent.wait(10), "the slow upload never started"
    signalled = time.monotonic()
    gateway.process.send_signal(signal.SIGTERM)
    code = gateway.process.wait(timeout=30)
    elapsed = time.monotonic() - signalled
    upload.join(timeout=30)
    assert code == 0, f"exit code after the deadline is {code}:\n{gateway.log()}"
    # The body needs 10 s, so only the deadline can end the process this early.
    assert elapsed < deadline + 3, f"the process took {elapsed:.1f} s to exit with a {deadline} s deadline"
    assert upload.status != 200, "an upload cut by the deadline was acknowledged"

    again = fresh_gateway.relaunch(gateway)
    stored = signed_get(again.endpoint, ALICE, bucket_name, "too-slow.bin")
    assert stored.status == 404, f"an upload cut by the deadline left an object: status {stored.status}"


def test_idle_sigterm_exits_zero(fresh_gateway):
    gateway = fresh_gateway()
    started = time.monotonic()
    gateway.process.send_signal(signal.SIGTERM)
    code = gateway.process.wait(timeout=30)
    assert code == 0, f"exit code of an idle gateway after SIGTERM is {code}:\n{gateway.log()}"
    assert time.monotonic() - started < 3, "an idle gateway did not exit promptly on SIGTERM"


def test_second_instance_port_taken(fresh_gateway, tmp_path):
    first = fresh_gateway()
    cert, key = make_certificate(tmp_path)
    config = write_config(tmp_path, first.port, free_port(), cert, key, "io_uring")
    second = subprocess.Popen(
        [str(BINARY), "serve", "--config", str(config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=server_env(),
    )
    try:
        output = strip_ansi(second.communicate(timeout=20)[0])
    except subprocess.TimeoutExpired:
        second.kill()
        output = strip_ansi(second.communicate()[0])
        pytest.fail(f"a second instance on port {first.port} kept running (SO_REUSEPORT shared the port?):\n{output}")
    assert second.returncode != 0, f"a second instance on a taken port exited 0:\n{output}"
    assert str(first.port) in output, f"the failure message does not name the port {first.port}:\n{output}"
    assert re.search(r"in use", output, re.I), f"the failure message does not say the address is in use:\n{output}"
    assert first.client().list_buckets()["ResponseMetadata"]["HTTPStatusCode"] == 200, "first instance stopped serving"


@pytest.mark.parametrize("driver", ["io_uring", "epoll"])
def test_log_names_core_drivers(fresh_gateway, driver):
    gateway = fresh_gateway(driver)

    def driver_lines():
        return [line for line in gateway.log().splitlines() if DRIVER_PATTERN.search(line)]

    # The config sets cores = 2, and each core logs the driver it got.
    wait_for(lambda: len(driver_lines()) >= 2, timeout=5)
    lines = driver_lines()
    assert len(lines) >= 2, f"the log does not name a driver for each of the 2 cores:\n{gateway.log()}"
    drivers = {DRIVER_PATTERN.search(line).group(1) for line in lines}
    if driver == "epoll":
        assert drivers == {"epoll"}, f"with force_epoll every core must say epoll: {lines}"
    elif io_uring_available():
        assert drivers == {"io_uring"}, f"io_uring works on this kernel but a core fell back: {lines}"
    else:
        assert drivers == {"epoll"}, f"io_uring is unavailable here, so every core must say epoll: {lines}"


@pytest.mark.parametrize(
    "replacement",
    [
        pytest.param("cores = = 2", id="syntax-error"),
        pytest.param('cores = "two"', id="wrong-type"),
    ],
)
def test_malformed_config_names_position(tmp_path, replacement):
    require_binary()
    cert, key = make_certificate(tmp_path)
    config = write_config(tmp_path, free_port(), free_port(), cert, key, "io_uring")
    lines = config.read_text().splitlines()
    line_number = lines.index("cores = 2") + 1
    lines[line_number - 1] = replacement
    config.write_text("\n".join(lines) + "\n")
    result = subprocess.run(
        [str(BINARY), "serve", "--config", str(config)], capture_output=True, text=True, timeout=30, env=server_env()
    )
    output = strip_ansi(result.stdout + result.stderr)
    assert result.returncode != 0, f"a malformed config exited 0:\n{output}"
    assert re.search(rf"ironbucket\.toml:{line_number}:\d+", output), (
        f"the error does not point at ironbucket.toml:{line_number}:COLUMN:\n{output}"
    )
