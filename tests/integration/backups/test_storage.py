"""The backup storage for real: a folder under a temporary BACKUP_DIR, and an S3 bucket on the moto
server the test setup starts on loopback. Archives go in sealed and come back whole, failures are
human reasons with the partial object gone, and memory stays bounded whatever the archive's size."""
from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile
import tracemalloc
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from apps.backups import storage
from apps.backups.cipher import CHUNK, ArchiveDamaged, sealed_size
from apps.backups.storage import StorageFailed
from apps.backups.verify import verify_stored
from tests.conftest import REPO, free_port

MiB = 1 << 20


def folder_storage_settings(location) -> dict:
    return {"BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(location), "file_permissions_mode": 0o600,
                        "directory_permissions_mode": 0o700}}


@pytest.fixture
def backup_dir(tmp_path, settings):
    """STORAGES["backups"] as a folder under a temporary BACKUP_DIR (as fluxpanel/settings.py
    configures it by default)."""
    settings.BACKUP_DIR = tmp_path / "backups"
    settings.STORAGES = {**settings.STORAGES, "backups": folder_storage_settings(settings.BACKUP_DIR)}
    return settings.BACKUP_DIR


def pieces(data: bytes, size: int = 65536):
    return [data[i:i + size] for i in range(0, len(data), size)]


def tar_gz(count: int = 3, size: int = 300_000) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for index in range(count):
            data = os.urandom(size)
            info = tarfile.TarInfo(f"appdata/file{index}")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return gzip.compress(buffer.getvalue(), compresslevel=1)


class NodeDropped(Exception):
    pass


def dropping_producer(data: bytes, after: int):
    yield data[:after]
    raise NodeDropped("the node closed the download")


def files_under(folder) -> list:
    return [path for path in folder.rglob("*") if path.is_file()] if folder.exists() else []


# --------------------------------------------------------------------------- names and labels


def test_it_names_an_archive_by_team_app_component_time_and_id():
    backup = SimpleNamespace(pk=42, team_id=7, component="", app=SimpleNamespace(name="myapp"),
                             created_at=datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC))
    assert storage.storage_name_for(backup) == "teams/7/apps/myapp/_/20260304T050607Z-42.tar.gz.sealed"
    backup.component, backup.app.name = "../db", "a/b"
    name = storage.storage_name_for(backup)
    assert ".." not in name and name.startswith("teams/7/apps/a_b/___db/")


def test_it_describes_the_folder_and_the_bucket(backup_dir, s3_backup_storage):
    assert storage.describe_storage() == f"s3:{s3_backup_storage.bucket}"


def test_it_describes_the_folder(backup_dir):
    assert storage.describe_storage() == "folder"


# --------------------------------------------------------------------------- the folder


def test_it_stores_reads_back_and_removes_through_the_folder(backup_dir):
    data = os.urandom(3 * CHUNK + 5)
    stored = storage.store("teams/1/a/x.sealed", pieces(data), context="backup:1")
    path = backup_dir / "teams/1/a/x.sealed"
    assert stored == sealed_size(len(data)) == path.stat().st_size
    assert path.stat().st_mode & 0o777 == 0o600
    assert data[:1000] not in path.read_bytes()
    assert b"".join(storage.read_plain("teams/1/a/x.sealed", context="backup:1")) == data
    assert b"".join(storage.read_stored("teams/1/a/x.sealed")) == path.read_bytes()
    assert storage.exists("teams/1/a/x.sealed")
    storage.remove("teams/1/a/x.sealed")
    assert not path.exists() and not storage.exists("teams/1/a/x.sealed")
    storage.remove("teams/1/a/x.sealed")  # a missing object is fine


def test_it_refuses_to_store_over_an_existing_archive(backup_dir):
    storage.store("x.sealed", [b"first"], context="c")
    with pytest.raises(StorageFailed, match="already holds x.sealed"):
        storage.store("x.sealed", [b"second"], context="c")
    assert b"".join(storage.read_plain("x.sealed", context="c")) == b"first"
    assert len(files_under(backup_dir)) == 1


def test_it_reraises_the_producers_error_and_removes_the_partial(backup_dir):
    data = os.urandom(5 * MiB)
    with pytest.raises(NodeDropped, match="closed the download"):
        storage.store("teams/1/partial.sealed", dropping_producer(data, 3 * MiB), context="c")
    assert files_under(backup_dir) == []
    assert not storage.exists("teams/1/partial.sealed")


def test_it_says_a_missing_archive_is_missing(backup_dir):
    with pytest.raises(StorageFailed, match="missing"):
        b"".join(storage.read_plain("nothing.sealed", context="c"))


def test_it_refuses_a_stored_copy_opened_for_another_backup(backup_dir):
    storage.store("one.sealed", [b"data"], context="backup:1")
    with pytest.raises(ArchiveDamaged, match="another backup's archive"):
        b"".join(storage.read_plain("one.sealed", context="backup:2"))


FULL_DISK_SCRIPT = r"""
import json, os, resource, signal, sys
import django
django.setup()
from apps.backups import storage
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # the write then fails with EFBIG instead
resource.setrlimit(resource.RLIMIT_FSIZE, (4 << 20, 4 << 20))
block = os.urandom(1 << 20)
try:
    storage.store("teams/1/big.sealed", (block for _ in range(16)), context="c")
    outcome = "stored"
except storage.StorageFailed as exc:
    outcome = str(exc)
print(json.dumps({"outcome": outcome, "left": storage.exists("teams/1/big.sealed")}))
"""


def test_it_fails_with_a_human_reason_when_the_storage_is_full(tmp_path):
    # A file size limit (RLIMIT_FSIZE) in a child process: the kernel refuses the write past 4 MiB
    # exactly as a full filesystem refuses it (the write fails mid-archive).
    environment = dict(os.environ, DJANGO_SETTINGS_MODULE="fluxpanel.settings",
                       FLUXPANEL_DATA_DIR=str(tmp_path / "data"), FLUXPANEL_ENCRYPTION_KEY="k" * 40)
    environment.pop("FLUXPANEL_BACKUP_S3_BUCKET", None)
    done = subprocess.run([sys.executable, "-c", FULL_DISK_SCRIPT], cwd=REPO, env=environment,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["outcome"].startswith("the backup storage is full")
    assert result["left"] is False
    assert files_under(tmp_path / "data" / "backups") == []


def test_it_fails_with_a_human_reason_when_the_folder_refuses_writes(backup_dir):
    if os.geteuid() == 0:
        # root writes through any mode bits: a plain file where a folder must be refuses alike.
        backup_dir.mkdir(parents=True)
        (backup_dir / "teams").write_bytes(b"not a folder")
        with pytest.raises(StorageFailed, match="the backup storage"):
            storage.store("teams/1/x.sealed", [b"data"], context="c")
        return
    backup_dir.mkdir(parents=True, mode=0o500)
    with pytest.raises(StorageFailed, match="refused the write"):
        storage.store("teams/1/x.sealed", [b"data"], context="c")


def test_it_stores_a_big_archive_with_bounded_memory(backup_dir):
    block = os.urandom(MiB)
    tracemalloc.start()
    try:
        stored = storage.store("big.sealed", (block for _ in range(256)), context="c")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert stored == sealed_size(256 * MiB)
    assert peak < 16 * MiB, f"peak {peak / MiB:.1f} MiB"
    digest = hashlib.sha256()
    for piece in storage.read_plain("big.sealed", context="c"):
        digest.update(piece)
    assert digest.hexdigest() == hashlib.sha256(block * 256).hexdigest()


# --------------------------------------------------------------------------- verification


def test_it_verifies_a_stored_archive(backup_dir):
    archive = tar_gz(count=4)
    storage.store("v.sealed", pieces(archive), context="backup:9")
    result = verify_stored("v.sealed", context="backup:9", expected_sha256=hashlib.sha256(archive).hexdigest(),
                           expected_size=len(archive))
    assert (result.members, result.member_bytes, result.size) == (4, 4 * 300_000, len(archive))


def test_it_refuses_a_stored_archive_whose_checksum_or_size_differs(backup_dir):
    archive = tar_gz()
    storage.store("v.sealed", [archive], context="c")
    right = hashlib.sha256(archive).hexdigest()
    with pytest.raises(ArchiveDamaged, match="checksum mismatch"):
        verify_stored("v.sealed", context="c", expected_sha256=hashlib.sha256(b"x").hexdigest(),
                      expected_size=len(archive))
    with pytest.raises(ArchiveDamaged, match="size mismatch"):
        verify_stored("v.sealed", context="c", expected_sha256=right, expected_size=len(archive) + 1)


def test_it_refuses_a_stored_copy_changed_on_disk(backup_dir):
    archive = tar_gz()
    storage.store("v.sealed", [archive], context="c")
    path = backup_dir / "v.sealed"
    damaged = bytearray(path.read_bytes())
    damaged[len(damaged) // 2] ^= 0x01
    path.write_bytes(bytes(damaged))
    with pytest.raises(ArchiveDamaged, match="damaged"):
        verify_stored("v.sealed", context="c", expected_sha256=hashlib.sha256(archive).hexdigest(),
                      expected_size=len(archive))


def test_it_refuses_a_stored_copy_cut_short(backup_dir):
    archive = tar_gz(count=1, size=3 * MiB)
    storage.store("v.sealed", [archive], context="c")
    path = backup_dir / "v.sealed"
    path.write_bytes(path.read_bytes()[:-(CHUNK // 2)])
    with pytest.raises(ArchiveDamaged, match="truncated"):
        verify_stored("v.sealed", context="c", expected_sha256=hashlib.sha256(archive).hexdigest(),
                      expected_size=len(archive))


# --------------------------------------------------------------------------- S3


def stored_object(s3, name: str) -> bytes:
    return s3.client.get_object(Bucket=s3.bucket, Key=f"{s3.prefix}/{name}")["Body"].read()


def test_it_stores_reads_back_and_removes_through_s3(s3_backup_storage):
    s3 = s3_backup_storage
    data = os.urandom(20 * MiB + 3)  # more than one multipart part
    stored = storage.store("teams/1/s3.sealed", pieces(data, 100_000), context="backup:5")
    raw = stored_object(s3, "teams/1/s3.sealed")
    assert stored == len(raw) == sealed_size(len(data))
    assert data[:4096] not in raw
    assert b"".join(storage.read_stored("teams/1/s3.sealed")) == raw
    assert b"".join(storage.read_plain("teams/1/s3.sealed", context="backup:5")) == data
    storage.remove("teams/1/s3.sealed")
    assert not storage.exists("teams/1/s3.sealed")
    assert s3.client.list_objects_v2(Bucket=s3.bucket).get("KeyCount", 0) == 0
    storage.remove("teams/1/s3.sealed")


def test_it_stores_a_small_archive_in_one_put_on_s3(s3_backup_storage):
    storage.store("small.sealed", [b"tiny"], context="c")
    assert b"".join(storage.read_plain("small.sealed", context="c")) == b"tiny"
    with pytest.raises(StorageFailed, match="already holds"):
        storage.store("small.sealed", [b"again"], context="c")


def test_it_verifies_an_archive_stored_on_s3(s3_backup_storage):
    archive = tar_gz(count=2)
    storage.store("v.sealed", pieces(archive), context="c")
    result = verify_stored("v.sealed", context="c", expected_sha256=hashlib.sha256(archive).hexdigest(),
                           expected_size=len(archive))
    assert result.members == 2


def test_it_reraises_the_producers_error_and_leaves_nothing_on_s3(s3_backup_storage):
    s3 = s3_backup_storage
    with pytest.raises(NodeDropped):
        storage.store("teams/1/partial.sealed", dropping_producer(os.urandom(20 * MiB), 18 * MiB),
                      context="c")
    assert not storage.exists("teams/1/partial.sealed")
    assert s3.client.list_objects_v2(Bucket=s3.bucket).get("KeyCount", 0) == 0
    uploads = s3.client.list_multipart_uploads(Bucket=s3.bucket).get("Uploads", [])
    assert uploads == []


def test_it_says_a_missing_bucket_refused(s3_backup_storage):
    s3_backup_storage.client.delete_bucket(Bucket=s3_backup_storage.bucket)
    with pytest.raises(StorageFailed, match="refused: NoSuchBucket|refused: 404"):
        storage.store("x.sealed", [b"data"], context="c")


def test_it_stores_to_s3_with_bounded_memory(s3_backup_storage):
    block = os.urandom(MiB)
    tracemalloc.start()
    try:
        storage.store("big.sealed", (block for _ in range(128)), context="c")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 64 * MiB, f"peak {peak / MiB:.1f} MiB"
    assert s3_backup_storage.client.head_object(
        Bucket=s3_backup_storage.bucket, Key="panel/big.sealed")["ContentLength"] == sealed_size(128 * MiB)


def s3_settings(endpoint: str, *, allow_private: bool) -> dict:
    return {"BACKEND": "apps.backups.s3.BackupS3Storage",
            "OPTIONS": {"bucket_name": "nowhere", "endpoint_url": endpoint, "region_name": "us-east-1",
                        "access_key": "testing", "secret_key": "testing", "addressing_style": "path",
                        "allow_private": allow_private}}


def test_it_says_an_unreachable_s3_endpoint_cannot_be_reached(settings):
    endpoint = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    settings.STORAGES = {**settings.STORAGES, "backups": s3_settings(endpoint, allow_private=True)}
    with pytest.raises(StorageFailed, match=f"cannot reach the S3 storage at {endpoint}"):
        storage.store("x.sealed", [b"data"], context="c")


def test_it_refuses_a_loopback_s3_endpoint_unless_allowed(settings, s3_server):
    settings.STORAGES = {**settings.STORAGES, "backups": s3_settings(s3_server, allow_private=False)}
    with pytest.raises(StorageFailed, match="endpoint is refused: .*loopback"):
        storage.store("x.sealed", [b"data"], context="c")
