"""The sealed stream of backup archives: round trips, and every way a stored copy can go wrong."""
from __future__ import annotations

import os

import pytest

from apps.backups.cipher import (
    CHUNK,
    HEADER_SIZE,
    TAG_SIZE,
    ArchiveDamaged,
    seal,
    sealed_size,
    unseal,
)

RECORD = CHUNK + TAG_SIZE


def pieces(data: bytes, size: int):
    return [data[i:i + size] for i in range(0, len(data), size)]


def sealed(data: bytes, context: str = "backup:1", piece: int = 65536) -> bytes:
    return b"".join(seal(pieces(data, piece), context=context))


def opened(stream: bytes, context: str = "backup:1", piece: int = 100_003) -> bytes:
    return b"".join(unseal(pieces(stream, piece) or [b""], context=context))


@pytest.mark.parametrize("size", [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK, 5 * CHUNK + 12345])
def test_it_opens_what_it_sealed_for_every_size(size):
    data = os.urandom(size)
    stream = sealed(data)
    assert len(stream) == sealed_size(size)
    assert opened(stream) == data
    if size >= 16:  # shorter plain bytes may turn up in any random stream by chance
        assert data[:16] not in stream


def test_it_accepts_any_piece_sizes_on_both_sides():
    data = os.urandom(2 * CHUNK + 77)
    stream = b"".join(seal(pieces(data[:1000], 7) + [b""] + [data[1000:]], context="c"))
    assert b"".join(unseal([stream], context="c")) == data
    assert b"".join(unseal(pieces(stream, RECORD), context="c")) == data


def test_it_seals_the_same_archive_differently_each_time():
    data = os.urandom(1000)
    assert sealed(data) != sealed(data)


def test_it_refuses_a_flipped_byte_anywhere():
    data = os.urandom(2 * CHUNK + 10)
    stream = sealed(data)
    for offset in (0, HEADER_SIZE - 1, HEADER_SIZE + 5, HEADER_SIZE + RECORD + 3, len(stream) - 1):
        damaged = bytearray(stream)
        damaged[offset] ^= 0x01
        with pytest.raises(ArchiveDamaged):
            opened(bytes(damaged))


def test_it_says_truncated_for_a_stream_cut_at_a_record_boundary():
    data = os.urandom(3 * CHUNK)
    stream = sealed(data)
    with pytest.raises(ArchiveDamaged, match="the stored archive is truncated"):
        opened(stream[:HEADER_SIZE + 2 * RECORD])


@pytest.mark.parametrize("cut", [1, HEADER_SIZE - 1, HEADER_SIZE + 10, HEADER_SIZE + RECORD + 100])
def test_it_refuses_a_stream_cut_anywhere(cut):
    stream = sealed(os.urandom(2 * CHUNK + 5))
    with pytest.raises(ArchiveDamaged, match="truncated|damaged"):
        opened(stream[:cut])


def test_it_refuses_a_dropped_or_reordered_record():
    stream = sealed(os.urandom(3 * CHUNK + 5))
    header, body = stream[:HEADER_SIZE], stream[HEADER_SIZE:]
    records = pieces(body, RECORD)
    assert len(records) == 4
    dropped = header + records[0] + records[2] + records[3]
    swapped = header + records[1] + records[0] + records[2] + records[3]
    repeated = header + records[0] + records[0] + records[1] + records[2] + records[3]
    for stream_ in (dropped, swapped, repeated):
        with pytest.raises(ArchiveDamaged):
            opened(stream_)


def test_it_refuses_bytes_appended_after_the_end():
    for size in (CHUNK, CHUNK + 3):
        stream = sealed(os.urandom(size))
        for extra in (b"x", os.urandom(RECORD), sealed(b"more")[HEADER_SIZE:]):
            with pytest.raises(ArchiveDamaged):
                opened(stream + extra)


def test_it_names_data_after_the_end_when_the_last_record_is_whole():
    stream = sealed(os.urandom(CHUNK))
    with pytest.raises(ArchiveDamaged, match="data after its end"):
        opened(stream + os.urandom(RECORD + 10))


def test_it_refuses_another_backups_context():
    stream = sealed(b"volume data", context="backup:1")
    with pytest.raises(ArchiveDamaged, match="does not open with this panel's key for this backup"):
        opened(stream, context="backup:2")


def test_it_refuses_another_panels_key(settings):
    stream = sealed(b"volume data")
    settings.ENCRYPTION_KEY = "another panel's key"
    with pytest.raises(ArchiveDamaged, match="does not open"):
        opened(stream)


def test_it_refuses_what_is_not_a_sealed_archive():
    with pytest.raises(ArchiveDamaged, match="not a sealed backup archive"):
        opened(b"\x1f\x8b" + os.urandom(100))
    with pytest.raises(ArchiveDamaged, match="empty"):
        opened(b"")


def test_it_refuses_a_header_from_an_unknown_version():
    stream = bytearray(sealed(b"abc"))
    stream[4] = 9
    with pytest.raises(ArchiveDamaged, match="unknown format"):
        opened(bytes(stream))
