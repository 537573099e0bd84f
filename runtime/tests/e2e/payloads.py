"""Deterministic test payloads: bytes that differ in every 1 MiB block, so a part stored at the
wrong offset, repeated or dropped changes the SHA-256, and files of any size written and hashed
in blocks without holding them in memory.
"""

import hashlib
from pathlib import Path

BLOCK = 1024 * 1024
MIB = 1024 * 1024


def _block(seed: int, index: int) -> bytes:
    # A 32-byte digest repeated to 1 MiB, unique per (seed, block index).
    digest = hashlib.sha256(f"{seed}:{index}".encode()).digest()
    return digest * (BLOCK // len(digest))


def pattern(size: int, seed: int = 0) -> bytes:
    """Return `size` deterministic bytes; equal arguments give equal bytes."""
    blocks = [_block(seed, index) for index in range((size + BLOCK - 1) // BLOCK)]
    return b"".join(blocks)[:size]


def write_pattern_file(path: Path, size: int, seed: int = 0) -> str:
    """Write `size` deterministic bytes to `path` block by block and return their SHA-256 hex."""
    digest = hashlib.sha256()
    remaining = size
    index = 0
    with open(path, "wb") as output:
        while remaining > 0:
            block = _block(seed, index)[: min(BLOCK, remaining)]
            output.write(block)
            digest.update(block)
            remaining -= len(block)
            index += 1
    return digest.hexdigest()


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as source:
        while block := source.read(BLOCK):
            digest.update(block)
    return digest.hexdigest()


def sha256_stream(stream, block_size: int = BLOCK) -> tuple[str, int]:
    """Hash a readable stream block by block and return (SHA-256 hex, byte count)."""
    digest = hashlib.sha256()
    total = 0
    while block := stream.read(block_size):
        digest.update(block)
        total += len(block)
    return digest.hexdigest(), total
