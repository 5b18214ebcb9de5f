"""Walking a tar.gz archive in one pass: checksum, counts, and the damaged archives it refuses."""
from __future__ import annotations

import gzip
import hashlib
import io
import os
import tarfile

import pytest

from apps.backups.cipher import ArchiveDamaged
from apps.backups.verify import walk


def tar_bytes(files: dict[str, bytes], *, folders=("data",)) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for folder in folders:
            info = tarfile.TarInfo(folder)
            info.type = tarfile.DIRTYPE
            archive.addfile(info)
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def pieces(data: bytes, size: int = 65536):
    return [data[i:i + size] for i in range(0, len(data), size)]


FILES = {"data/a.bin": os.urandom(3 << 20), "data/b.txt": b"hello\n" * 1000, "data/empty": b"",
         f"data/{'long' * 40}.bin": os.urandom(5000)}


def test_it_counts_members_and_bytes_and_hashes_the_plain_archive():
    archive = gzip.compress(tar_bytes(FILES), compresslevel=1)
    result = walk(pieces(archive, 100_001))
    assert result.size == len(archive)
    assert result.sha256 == hashlib.sha256(archive).hexdigest()
    assert result.members == len(FILES) + 1
    assert result.member_bytes == sum(len(data) for data in FILES.values())


def test_it_reads_an_archive_made_by_tarfiles_own_gzip_mode():
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for index in range(30):
            data = os.urandom(index * 1000)
            info = tarfile.TarInfo(f"v/{index}")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    result = walk([buffer.getvalue()])
    assert (result.members, result.member_bytes) == (30, sum(i * 1000 for i in range(30)))


def test_it_accepts_several_gzip_members_and_zero_padding():
    plain = tar_bytes(FILES)
    half = len(plain) // 2
    archive = gzip.compress(plain[:half]) + gzip.compress(plain[half:]) + b"\0" * 1000
    assert walk(pieces(archive, 4096)).member_bytes == sum(len(d) for d in FILES.values())


def test_it_refuses_a_cut_gzip_stream():
    archive = gzip.compress(tar_bytes(FILES))
    for cut in (5, len(archive) // 2, len(archive) - 4):
        with pytest.raises(ArchiveDamaged, match="truncated"):
            walk(pieces(archive[:cut]))


def test_it_refuses_a_flipped_byte_in_member_data():
    # Random data is stored uncompressed by deflate: only the gzip CRC can tell.
    archive = bytearray(gzip.compress(tar_bytes(FILES), compresslevel=1))
    archive[len(archive) // 3] ^= 0x10
    with pytest.raises(ArchiveDamaged, match="gzip"):
        walk([bytes(archive)])


@pytest.mark.parametrize("data, reason", [
    (b"", "empty"),
    (b"PK\x03\x04 a zip file" * 10, "not a gzip archive"),
    (tar_bytes(FILES), "not a gzip archive"),
    (gzip.compress(b"just some text, not a tar" * 100), "not a tar archive"),
])
def test_it_refuses_what_is_not_a_tar_gz(data, reason):
    with pytest.raises(ArchiveDamaged, match=reason):
        walk(pieces(data) or [])


def test_it_refuses_a_truncated_member_inside_a_whole_gzip_stream():
    plain = tar_bytes({"data/big.bin": os.urandom(200_000)})
    with pytest.raises(ArchiveDamaged, match="member data/big.bin is truncated"):
        walk([gzip.compress(plain[:100_000])])


def test_it_refuses_a_tar_without_its_end():
    plain = tar_bytes({"data/x": b"x" * 600})
    without_end = plain[:512 + 1024]  # header and data blocks only
    with pytest.raises(ArchiveDamaged, match="truncated"):
        walk([gzip.compress(without_end)])


def test_it_refuses_a_damaged_header_after_the_first_member():
    plain = bytearray(tar_bytes({"data/one": b"1" * 10, "data/two": b"2" * 10}))
    second_header = 512 + 512 + 512  # the folder, the first member and its data block
    plain[second_header + 148:second_header + 156] = b"9999999\0"  # its checksum field
    with pytest.raises(ArchiveDamaged, match="header is damaged"):
        walk([gzip.compress(bytes(plain))])


def test_it_refuses_garbage_after_the_gzip_stream():
    archive = gzip.compress(tar_bytes(FILES)) + b"trailing garbage"
    with pytest.raises(ArchiveDamaged, match="after the end of its gzip stream"):
        walk(pieces(archive))


def test_it_refuses_data_after_the_end_of_the_tar():
    plain = tar_bytes(FILES) + b"\x01" * 512
    with pytest.raises(ArchiveDamaged, match="after the end of its tar archive"):
        walk([gzip.compress(plain)])
