"""Encryption at rest of backup archives: a stream sealed chunk by chunk (AES-256-GCM).

An archive can be many GB, so it is never sealed in one piece: the plain bytes are cut into
chunks of CHUNK bytes and each chunk is sealed on its own, in a stream that holds at most a couple
of chunks in memory.

Layout of a sealed stream:

    header  = MAGIC (4) | version (1) | chunk size (4, big-endian) | salt (16)
    records = AES-256-GCM(chunk) (chunk + 16-byte tag), every chunk CHUNK bytes but the last

- The key of one archive is derived (HKDF-SHA256) from the panel's backup key and the archive's
  random salt; the panel's backup key is derived from settings.ENCRYPTION_KEY under its own
  purpose, like fluxpanel.vault's keys, so no other sealed value of the panel opens with it.
- The nonce of a record is its counter (11 bytes) and a last-record flag (1 byte), so a record
  moved, dropped, repeated or cut off, or bytes added after the last record, fail to open.
- The associated data of every record is the header and the caller's `context` (the lead passes
  f"backup:{pk}"), so one row's archive never opens as another row's.

The archive always ends with a record flagged last (an empty archive is one empty record), so a
stream cut exactly at a record boundary is still found truncated.
"""
from __future__ import annotations

import os
import struct
from collections.abc import Iterable, Iterator
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

__all__ = ["CHUNK", "ArchiveDamaged", "HEADER_SIZE", "TAG_SIZE", "seal", "sealed_size", "unseal"]

CHUNK = 1 << 20  # plain bytes per sealed record
TAG_SIZE = 16
MAGIC = b"FPBK"
VERSION = 1
SALT_SIZE = 16
_HEADER = struct.Struct(">4sBI16s")
HEADER_SIZE = _HEADER.size
# A header may name another chunk size (a later panel's); bounded so a damaged one cannot make
# unseal buffer gigabytes.
_MAX_CHUNK = 16 << 20
_PURPOSE = b"backups.archive"


class ArchiveDamaged(Exception):
    """A stored or uploaded archive cannot be used; str() is a human reason."""


@lru_cache(maxsize=4)
def _panel_backup_key(secret: str) -> bytes:
    # The same derivation as fluxpanel.vault (salt, HKDF-SHA256), under a purpose of its own.
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"fluxpanel-vault-v1",
                info=_PURPOSE).derive(secret.encode())


def _archive_cipher(salt: bytes) -> AESGCM:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=salt,
               info=b"fluxpanel backup archive key v1").derive(_panel_backup_key(settings.ENCRYPTION_KEY))
    return AESGCM(key)


def _nonce(counter: int, last: bool) -> bytes:
    return counter.to_bytes(11, "big") + (b"\x01" if last else b"\x00")


def _associated_data(header: bytes, context: str) -> bytes:
    return header + context.encode("utf-8")


def sealed_size(plain_size: int) -> int:
    """Bytes of the sealed stream of `plain_size` plain bytes."""
    records = max(1, -(-plain_size // CHUNK))
    return HEADER_SIZE + plain_size + records * TAG_SIZE


def seal(chunks: Iterable[bytes], *, context: str) -> Iterator[bytes]:
    """The sealed stream of the plain `chunks` (any sizes): the header, then one record per CHUNK.

    A full chunk is held back until the next bytes arrive, since only then is it known whether it
    is the last one."""
    salt = os.urandom(SALT_SIZE)
    header = _HEADER.pack(MAGIC, VERSION, CHUNK, salt)
    cipher = _archive_cipher(salt)
    aad = _associated_data(header, context)
    yield header
    buffer = bytearray()
    counter = 0
    for piece in chunks:
        if not piece:
            continue
        buffer += piece
        # Seal every full chunk that is known not to be the last (more bytes follow it).
        if len(buffer) > CHUNK:
            view = memoryview(buffer)
            start = 0
            while len(buffer) - start > CHUNK:
                yield cipher.encrypt(_nonce(counter, False), view[start:start + CHUNK], aad)
                counter += 1
                start += CHUNK
            view.release()
            del buffer[:start]
    yield cipher.encrypt(_nonce(counter, True), bytes(buffer), aad)


def unseal(chunks: Iterable[bytes], *, context: str) -> Iterator[bytes]:
    """The plain chunks of a sealed stream given as `chunks` (any sizes). Raises ArchiveDamaged
    for another key or context, tampering, truncation or bytes after the end. Chunks are yielded
    as they are opened: a consumer must not trust what it got before the stream ended cleanly."""
    source = iter(chunks)
    buffer = bytearray()
    for piece in source:
        buffer += piece
        if len(buffer) >= HEADER_SIZE:
            break
    if len(buffer) < HEADER_SIZE:
        if not buffer:
            raise ArchiveDamaged("the stored archive is empty")
        raise ArchiveDamaged("the stored archive is truncated")
    header = bytes(buffer[:HEADER_SIZE])
    magic, version, chunk_size, salt = _HEADER.unpack(header)
    if magic != MAGIC:
        raise ArchiveDamaged("not a sealed backup archive")
    if version != VERSION:
        raise ArchiveDamaged(f"sealed in an unknown format (version {version})")
    if not 0 < chunk_size <= _MAX_CHUNK:
        raise ArchiveDamaged("the stored archive's header is damaged")
    del buffer[:HEADER_SIZE]
    cipher = _archive_cipher(salt)
    aad = _associated_data(header, context)
    record = chunk_size + TAG_SIZE
    counter = 0

    def open_record(data, last: bool) -> bytes:
        try:
            return cipher.decrypt(_nonce(counter, last), data, aad)
        except InvalidTag:
            raise ArchiveDamaged(_failure(cipher, counter, data, aad, last)) from None

    exhausted = False
    while True:
        # Read until more than one record is buffered, or the source ends: a full record followed
        # by more bytes is not the last.
        while not exhausted and len(buffer) <= record:
            piece = next(source, None)
            if piece is None:
                exhausted = True
            else:
                buffer += piece
        if len(buffer) > record:
            view = memoryview(buffer)
            start = 0
            while len(buffer) - start > record:
                plain = open_record(view[start:start + record], False)
                counter += 1
                start += record
                yield plain
            view.release()
            del buffer[:start]
            continue
        # The source ended and what is left is at most one record: it must be the last one.
        if len(buffer) < TAG_SIZE:
            raise ArchiveDamaged("the stored archive is truncated")
        yield open_record(bytes(buffer), True)
        return


def _failure(cipher: AESGCM, counter: int, data, aad: bytes, last: bool) -> str:
    """Why record `counter` does not open, in words: truncated, bytes after the end, or damaged."""
    try:
        cipher.decrypt(_nonce(counter, not last), data, aad)
    except InvalidTag:
        if counter == 0:
            return ("the stored archive does not open with this panel's key for this backup "
                    "(another key, another backup's archive, or damaged)")
        if last:  # a cut inside the last record looks like this too
            return f"the stored archive is truncated or damaged (part {counter + 1} fails its check)"
        return f"the stored archive is damaged (part {counter + 1} fails its check)"
    # It opens with the other flag: a full record that should have been followed by more (the
    # stream was cut at a boundary), or the last record followed by bytes.
    return "the stored archive is truncated" if last else "the stored archive has data after its end"
