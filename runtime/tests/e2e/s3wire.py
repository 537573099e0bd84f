"""Wire-level S3 requests for the tests that must send what no SDK sends: requests signed with
SigV4 and then tampered with, bodies cut short, and `aws-chunked` bodies with per-chunk
signatures (STREAMING-AWS4-HMAC-SHA256-PAYLOAD), which botocore cannot produce.

The chunk signer follows AWS's documented algorithm ("Signature Calculations for the
Authorization Header: Transferring Payload in Multiple Chunks", Amazon S3 API reference): each
chunk's string to sign chains the previous chunk's signature, starting from the seed signature
of the request head, and a zero-length chunk ends the body.

The raw-request helpers at the end serve the hostile-input tests: they sign a path exactly as
it is sent, serialize heads byte for byte (repeated or non-UTF-8 fields included), and split
the bytes of pipelined responses.
"""

import base64
import datetime
import hashlib
import hmac
import http.client
import socket
import time
import xml.etree.ElementTree as ET
import zlib
from dataclasses import dataclass
from unittest import mock
from urllib.parse import quote, urlsplit

from botocore.auth import S3SigV4QueryAuth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

REGION = "us-east-1"
SERVICE = "s3"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
STREAMING_SIGNED = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
STREAMING_UNSIGNED_TRAILER = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"


@dataclass
class Response:
    status: int
    headers: dict
    body: bytes

    @property
    def error_code(self) -> str | None:
        return error_code(self.body)

    @property
    def error_message(self) -> str | None:
        return error_field(self.body, "Message")


def error_field(body: bytes, name: str) -> str | None:
    """Return one field of an S3 error document, or None when the body is not one."""
    if not body.strip():
        return None
    try:
        root = ET.fromstring(body)
    except ET.ParseError:
        return None
    node = root.find(name)
    if node is None:
        # Tolerate a namespaced error document although S3's has no namespace.
        node = next((child for child in root if child.tag.rsplit("}", 1)[-1] == name), None)
    return node.text if node is not None else None


def error_code(body: bytes) -> str | None:
    return error_field(body, "Code")


def object_path(bucket: str, key: str) -> str:
    """Build a path-style request path, percent-encoding the key as S3 signers do."""
    return f"/{bucket}/{quote(key, safe='/~')}"


def crc32_base64(data: bytes) -> str:
    """Return the value of an `x-amz-checksum-crc32` header: the big-endian CRC32 in base64."""
    return base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()


def md5_base64(data: bytes) -> str:
    return base64.b64encode(hashlib.md5(data).digest()).decode()


def sign_headers(
    endpoint: str,
    method: str,
    path: str,
    keys: tuple[str, str],
    headers: dict | None = None,
    payload_hash: str = EMPTY_SHA256,
    query: str = "",
) -> dict:
    """Sign a request head with SigV4 and return every header to send, Authorization included.

    `path` must already be percent-encoded; `payload_hash` becomes `x-amz-content-sha256` and
    is what the signature covers, whatever body is later sent.
    """
    host = urlsplit(endpoint).netloc
    url = f"{endpoint}{path}" + (f"?{query}" if query else "")
    request_headers = {"Host": host, "X-Amz-Content-SHA256": payload_hash}
    request_headers.update(headers or {})
    request = AWSRequest(method=method, url=url, headers=request_headers)
    # Plain SigV4Auth keeps a preset X-Amz-Content-SHA256, unlike S3SigV4Auth, which recomputes it.
    SigV4Auth(Credentials(*keys), SERVICE, REGION).add_auth(request)
    return dict(request.headers.items())


def send(
    endpoint: str,
    method: str,
    path: str,
    headers: dict,
    body: bytes = b"",
    query: str = "",
    timeout: float = 30,
) -> Response:
    """Send one request on a new connection exactly as given and read the whole response."""
    parts = urlsplit(endpoint)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        connection.putrequest(method, path + (f"?{query}" if query else ""), skip_host=True, skip_accept_encoding=True)
        for name, value in headers.items():
            connection.putheader(name, value)
        if not any(name.lower() == "content-length" for name in headers):
            connection.putheader("Content-Length", str(len(body)))
        connection.endheaders()
        if body:
            connection.send(body)
        response = connection.getresponse()
        return Response(response.status, {k.lower(): v for k, v in response.getheaders()}, response.read())
    finally:
        connection.close()


def send_truncated(endpoint: str, path: str, headers: dict, partial_body: bytes, timeout: float = 5) -> bytes:
    """Send a request head and only part of the body its Content-Length promises, then close.

    Returns whatever the server wrote before or after the close (often nothing).
    """
    parts = urlsplit(endpoint)
    head = [f"PUT {path} HTTP/1.1"] + [f"{name}: {value}" for name, value in headers.items()]
    raw_head = ("\r\n".join(head) + "\r\n\r\n").encode()
    with socket.create_connection((parts.hostname, parts.port), timeout=timeout) as connection:
        connection.sendall(raw_head + partial_body)
        # Half-close so the server reads end of stream where it expects more body bytes.
        connection.shutdown(socket.SHUT_WR)
        received = b""
        try:
            while chunk := connection.recv(65536):
                received += chunk
        except (ConnectionResetError, TimeoutError, socket.timeout):
            pass
        return received


def signed_put(endpoint: str, keys, bucket: str, key: str, body: bytes, headers: dict | None = None) -> Response:
    """PUT an object with a correctly signed payload hash."""
    path = object_path(bucket, key)
    signed = sign_headers(endpoint, "PUT", path, keys, headers, hashlib.sha256(body).hexdigest())
    return send(endpoint, "PUT", path, signed, body)


def signed_get(endpoint: str, keys, bucket: str, key: str) -> Response:
    path = object_path(bucket, key)
    return send(endpoint, "GET", path, sign_headers(endpoint, "GET", path, keys))


# Chunk signing (STREAMING-AWS4-HMAC-SHA256-PAYLOAD).


def signing_key(secret: str, date: str, region: str = REGION, service: str = SERVICE) -> bytes:
    """Derive the SigV4 signing key for one day, region and service."""
    key = hmac.new(f"AWS4{secret}".encode(), date.encode(), hashlib.sha256).digest()
    for part in (region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


def chunk_signature(key: bytes, timestamp: str, scope: str, previous_signature: str, data: bytes) -> str:
    """Sign one chunk of a streaming upload, chained to the previous signature."""
    string_to_sign = "\n".join(
        [
            "AWS4-HMAC-SHA256-PAYLOAD",
            timestamp,
            scope,
            previous_signature,
            EMPTY_SHA256,
            hashlib.sha256(data).hexdigest(),
        ]
    )
    return hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()


def split_chunks(data: bytes, chunk_size: int) -> list[bytes]:
    """Split a payload into chunks plus the empty final chunk that ends an aws-chunked body."""
    chunks = [data[offset : offset + chunk_size] for offset in range(0, len(data), chunk_size)]
    return chunks + [b""]


def chunk_signatures(key: bytes, timestamp: str, scope: str, seed_signature: str, chunks: list[bytes]) -> list[str]:
    """Sign every chunk in order, each chained to the one before and the first to the seed."""
    signatures = []
    previous = seed_signature
    for chunk in chunks:
        previous = chunk_signature(key, timestamp, scope, previous, chunk)
        signatures.append(previous)
    return signatures


def frame_signed_chunks(chunks: list[bytes], signatures: list[str]) -> bytes:
    """Frame chunks as `hex-size;chunk-signature=SIG\\r\\nDATA\\r\\n`, the body of a signed stream."""
    body = bytearray()
    for chunk, signature in zip(chunks, signatures, strict=True):
        body += f"{len(chunk):x};chunk-signature={signature}\r\n".encode() + chunk + b"\r\n"
    return bytes(body)


def chunked_encoded_length(chunk_sizes: list[int], signature_length: int = 64) -> int:
    """Return the Content-Length of a signed aws-chunked body with chunks of these sizes."""
    total = 0
    for size in chunk_sizes:
        total += len(f"{size:x}") + len(";chunk-signature=") + signature_length + 2 + size + 2
    return total


def streaming_put(
    endpoint: str,
    keys,
    bucket: str,
    key: str,
    data: bytes,
    chunk_size: int = 64 * 1024,
    tamper=None,
) -> Response:
    """PUT an object as a signed aws-chunked stream.

    `tamper`, if given, receives the list of chunks and the list of their correct signatures and
    returns the (chunks, signatures) to send, so a test can corrupt either after signing.
    """
    path = object_path(bucket, key)
    chunks = split_chunks(data, chunk_size)
    headers = {
        "Content-Encoding": "aws-chunked",
        "X-Amz-Decoded-Content-Length": str(len(data)),
        "Content-Length": str(chunked_encoded_length([len(c) for c in chunks])),
    }
    signed = sign_headers(endpoint, "PUT", path, keys, headers, STREAMING_SIGNED)
    timestamp = signed["X-Amz-Date"]
    seed = signed["Authorization"].rsplit("Signature=", 1)[1]
    scope = f"{timestamp[:8]}/{REGION}/{SERVICE}/aws4_request"
    signatures = chunk_signatures(signing_key(keys[1], timestamp[:8]), timestamp, scope, seed, chunks)
    if tamper is not None:
        chunks, signatures = tamper(list(chunks), list(signatures))
    body = frame_signed_chunks(chunks, signatures)
    return send(endpoint, "PUT", path, signed, body)


def unsigned_trailer_put(
    endpoint: str,
    keys,
    bucket: str,
    key: str,
    data: bytes,
    trailer_crc32: str | None = None,
    chunk_size: int = 64 * 1024,
) -> Response:
    """PUT an object as STREAMING-UNSIGNED-PAYLOAD-TRAILER with an `x-amz-checksum-crc32` trailer.

    `trailer_crc32` overrides the correct checksum so a test can send a wrong one.
    """
    path = object_path(bucket, key)
    body = bytearray()
    for offset in range(0, len(data), chunk_size):
        chunk = data[offset : offset + chunk_size]
        body += f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
    checksum = trailer_crc32 if trailer_crc32 is not None else crc32_base64(data)
    body += f"0\r\nx-amz-checksum-crc32:{checksum}\r\n\r\n".encode()
    headers = {
        "Content-Encoding": "aws-chunked",
        "X-Amz-Decoded-Content-Length": str(len(data)),
        "X-Amz-Trailer": "x-amz-checksum-crc32",
        "X-Amz-Sdk-Checksum-Algorithm": "CRC32",
        "Content-Length": str(len(body)),
    }
    signed = sign_headers(endpoint, "PUT", path, keys, headers, STREAMING_UNSIGNED_TRAILER)
    return send(endpoint, "PUT", path, signed, bytes(body))


def wait_for(predicate, timeout: float = 5.0, interval: float = 0.05):
    """Poll `predicate` until it returns a true value or the timeout passes; return its last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(interval)


# Raw requests for the hostile-input tests: heads and bodies sent byte for byte, signed so that
# the gateway gets past authentication to the code under test.


class LiteralPathSigV4Auth(SigV4Auth):
    """SigV4 that signs the path exactly as it is sent, as S3 does.

    Plain SigV4Auth removes dot segments and percent-encodes the path a second time, which S3
    does not, so paths with `..` or `%` would never verify. A fixed `timestamp` signs the
    request as if it were made at that time.
    """

    def __init__(self, credentials, service_name, region_name, timestamp: datetime.datetime | None = None):
        super().__init__(credentials, service_name, region_name)
        self.timestamp = timestamp

    def _normalize_url_path(self, path):
        return path

    def add_auth(self, request):
        if self.timestamp is None:
            return super().add_auth(request)
        with mock.patch("botocore.auth.get_current_datetime", return_value=self.timestamp):
            return super().add_auth(request)


def sign_headers_literal(
    endpoint: str,
    method: str,
    path: str,
    keys: tuple[str, str],
    headers: dict | None = None,
    payload_hash: str = EMPTY_SHA256,
    query: str = "",
    region: str = REGION,
    service: str = SERVICE,
    timestamp: datetime.datetime | None = None,
) -> dict:
    """Sign a request head with SigV4 over the literal `path` and return every header to send.

    `query` must already be percent-encoded as S3 signers encode it (`/` as `%2F`), because
    botocore signs the query string as given. `region`, `service` and `timestamp` let a test
    sign for the wrong scope or time.
    """
    host = urlsplit(endpoint).netloc
    url = f"{endpoint}{path}" + (f"?{query}" if query else "")
    request_headers = {"Host": host, "X-Amz-Content-SHA256": payload_hash}
    request_headers.update(headers or {})
    request = AWSRequest(method=method, url=url, headers=request_headers)
    LiteralPathSigV4Auth(Credentials(*keys), service, region, timestamp).add_auth(request)
    return dict(request.headers.items())


def presign_literal(
    endpoint: str,
    method: str,
    path: str,
    keys: tuple[str, str],
    expires: int,
    timestamp: datetime.datetime | None = None,
) -> str:
    """Return a SigV4 presigned target (path and query) signed at `timestamp`, valid `expires` s.

    botocore checks neither bound of `expires`, so a test can ask for a negative or overlong
    lifetime.
    """
    request = AWSRequest(method=method, url=f"{endpoint}{path}", headers={"Host": urlsplit(endpoint).netloc})
    signer = S3SigV4QueryAuth(Credentials(*keys), SERVICE, REGION, expires=expires)
    signing_time = timestamp or datetime.datetime.now(datetime.UTC)
    with mock.patch("botocore.auth.get_current_datetime", return_value=signing_time):
        signer.add_auth(request)
    parts = urlsplit(request.url)
    return f"{parts.path}?{parts.query}"


def raw_request(
    method: str, target: str, headers, body: bytes = b"", version: str = "HTTP/1.1", add_length: bool = True
) -> bytes:
    """Serialize a request byte for byte.

    `headers` is a dict or a list of (name, value) pairs, so that a name may repeat, and a value
    may be `bytes` to carry octets that are not UTF-8. A Content-Length header for `body` is
    added unless `add_length` is false or the headers already frame the body.
    """
    pairs = list(headers.items()) if isinstance(headers, dict) else list(headers)
    framed = any(str(name).lower() in ("content-length", "transfer-encoding") for name, _ in pairs)
    if add_length and not framed:
        pairs.append(("Content-Length", str(len(body))))
    lines = [f"{method} {target} {version}".encode()]
    for name, value in pairs:
        encoded = value if isinstance(value, bytes) else str(value).encode()
        lines.append(name.encode() + b": " + encoded)
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


def signed_raw_request(
    endpoint: str,
    method: str,
    path: str,
    keys: tuple[str, str],
    body: bytes = b"",
    headers: dict | None = None,
    payload_hash: str | None = None,
    query: str = "",
    framing: list | None = None,
    version: str = "HTTP/1.1",
    **signing,
) -> bytes:
    """Sign a request with `sign_headers_literal` and serialize it with `raw_request`.

    The payload hash defaults to the SHA-256 of `body`. `framing` lists unsigned (name, value)
    pairs such as `("Transfer-Encoding", "chunked")` that replace the Content-Length header.
    Other keyword arguments go to `sign_headers_literal`.
    """
    payload_hash = payload_hash or hashlib.sha256(body).hexdigest()
    signed = sign_headers_literal(endpoint, method, path, keys, headers, payload_hash, query, **signing)
    pairs = list(signed.items()) + list(framing or [])
    target = path + (f"?{query}" if query else "")
    return raw_request(method, target, pairs, body, version, add_length=framing is None)


def exchange_raw(endpoint: str, data: bytes, timeout: float = 5, half_close: bool = True) -> bytes:
    """Send `data` on a new connection and return every byte the server writes until it closes.

    With `half_close`, the write side is shut down after sending, so a server waiting for more
    request bytes reads the end of the stream. A reset or timeout ends the read quietly.
    """
    parts = urlsplit(endpoint)
    with socket.create_connection((parts.hostname, parts.port), timeout=timeout) as connection:
        try:
            connection.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass
        if half_close:
            try:
                connection.shutdown(socket.SHUT_WR)
            except OSError:
                pass
        received = bytearray()
        try:
            while chunk := connection.recv(65536):
                received += chunk
        except (ConnectionResetError, TimeoutError, socket.timeout):
            pass
        return bytes(received)


def parse_responses(data: bytes) -> list[Response]:
    """Split the bytes of consecutive HTTP/1.1 responses, each framed by Content-Length.

    Interim `100 Continue` responses are skipped; a truncated last response keeps the bytes
    that arrived.
    """
    responses = []
    rest = data
    while rest:
        head, separator, rest = rest.partition(b"\r\n\r\n")
        if not separator:
            break
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        if status == 100:
            continue
        length = int(headers.get("content-length", "0"))
        responses.append(Response(status, headers, rest[:length]))
        rest = rest[length:]
    return responses
