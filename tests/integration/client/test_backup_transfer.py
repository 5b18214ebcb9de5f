"""Backup archives streamed both ways over real HTTP: big file-backed archives from the simulator,
bounded memory, broken and stalled transfers, FluxOS's error answers, streamed uploads."""

import hashlib
import io
import os
import re
import tarfile
import time
import tracemalloc

import pytest
import requests

from fluxpanel.fluxos.client import BadResponse, FluxError, NodeTimeout, NodeUnreachable
from fluxpanel.fluxos.client.backups import local_archive_path
from fluxpanel.fluxos.client.streams import StreamBounds
from tests.integration.client.conftest import (
    FAST,
    SimClient,
    node_with_app,
    owner_key,
    stateless_auth,
)
from tests.sim.fluxnode import SimFleet

MIB = 1024 * 1024
BIG = 200 * MIB
BOUNDS = StreamBounds(max_bytes=4096 * MIB, max_seconds=120, stall_s=10)


@pytest.fixture(scope="module")
def sim():
    with SimFleet(nodes=4, seed=11, **FAST) as fleet:
        yield fleet


@pytest.fixture(scope="module")
def big_archive(tmp_path_factory):
    """(path, size, sha256) of a 200 MiB file on disk (random bytes: nothing compresses it)."""
    path = tmp_path_factory.mktemp("archives") / "big.tar.gz"
    digest = hashlib.sha256()
    with open(path, "wb") as handle:
        for _ in range(BIG // MIB):
            block = os.urandom(MIB)
            digest.update(block)
            handle.write(block)
    return str(path), BIG, digest.hexdigest()


@pytest.fixture
def target(sim):
    index, app = node_with_app(sim)
    component = next(iter(sim.node(index).apps[app].containers))
    client = SimClient(sim.url(index), zelidauth=stateless_auth(owner_key(sim, app)))
    yield client, app, component, index
    sim.clear(index)


def backed_up(sim, target, archive_path: str) -> str:
    """Make the archive the component's appdata, back it up; the archive's path on the node."""
    client, app, component, index = target
    mount = sim.set_volume_archive(index, app, component, archive_path)
    assert client.start_backup(app, [component]).read_all()[-1] == "Finalizing..."
    return local_archive_path(mount, component)


def sha_of(download) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    with download:
        for chunk in download:
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


class Reader:
    """A non-seekable reader (like a decrypting stream): read(n) only."""

    def __init__(self, data: bytes, piece: int = 300_000):
        self._data, self._at, self._piece = data, 0, piece

    def read(self, count: int = -1) -> bytes:
        count = self._piece if count < 0 else min(count, self._piece)
        block = self._data[self._at:self._at + count]
        self._at += len(block)
        return block


def test_it_streams_a_big_archive_with_bounded_memory(sim, target, big_archive):
    client, app, _, _ = target
    path, size, sha = big_archive
    archive = backed_up(sim, target, path)
    tracemalloc.start()
    try:
        download = client.open_backup_file(archive, app, bounds=BOUNDS)
        assert download.expected_size == size
        got_sha, got_size = sha_of(download)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert (got_sha, got_size) == (sha, size)
    assert peak < 16 * MIB, f"peak {peak} bytes for a {size}-byte archive"


def test_it_answers_like_res_download(sim, target, big_archive):
    client, app, component, _ = target
    archive = backed_up(sim, target, big_archive[0])
    response = requests.get(client.path_url("backup", "downloadlocalfile", archive, app),
                            headers={"zelidauth": client.zelidauth}, stream=True, timeout=10)
    with response:
        assert response.status_code == 200
        assert response.headers["Content-Type"] == "application/gzip"
        assert response.headers["Content-Length"] == str(big_archive[1])
        assert response.headers["Content-Disposition"] == (
            f'attachment; filename="backup_{component.lower()}.tar.gz"')
        assert "Content-Encoding" not in response.headers
    missing = requests.get(client.path_url("backup", "downloadlocalfile", archive + ".gone", app),
                           headers={"zelidauth": client.zelidauth}, timeout=10)
    assert missing.status_code == 200 and missing.headers["Content-Type"].startswith("application/json")
    assert missing.json()["status"] == "error"


def test_it_reports_a_cut_download_with_its_bytes(sim, target, big_archive):
    client, app, _, index = target
    archive = backed_up(sim, target, big_archive[0])
    sim.inject(index, "cut", after_bytes=5 * MIB)
    with pytest.raises(NodeUnreachable) as caught:
        sha_of(client.open_backup_file(archive, app, bounds=BOUNDS))
    found = re.search(r"cut off after (\d+) of (\d+) bytes", str(caught.value))
    assert found, str(caught.value)
    assert int(found.group(1)) <= 5 * MIB and int(found.group(2)) == big_archive[1]
    sim.clear(index)
    assert sha_of(client.open_backup_file(archive, app, bounds=BOUNDS))[0] == big_archive[2]


def test_it_gives_up_on_a_stalled_download_within_the_stall_bound(sim, target, big_archive):
    client, app, _, index = target
    archive = backed_up(sim, target, big_archive[0])
    sim.inject(index, "stall", after_bytes=MIB)
    started = time.monotonic()
    with pytest.raises(NodeTimeout, match="stalled"):
        sha_of(client.open_backup_file(archive, app, bounds=StreamBounds(max_bytes=BOUNDS.max_bytes, stall_s=1.0)))
    assert time.monotonic() - started < 5


def test_it_refuses_an_archive_over_the_byte_bound(sim, target, big_archive):
    client, app, _, _ = target
    archive = backed_up(sim, target, big_archive[0])
    with pytest.raises(BadResponse, match="limit"):
        client.open_backup_file(archive, app, bounds=StreamBounds(max_bytes=10 * MIB))


def test_it_raises_fluxos_errors_for_a_missing_file_and_a_bad_path(sim, target):
    client, app, component, _ = target
    mount = client.volume_info(app, component)["mount"]
    with pytest.raises(FluxError, match="No such file or directory"):
        client.open_backup_file(local_archive_path(mount, "nothing"), app, bounds=BOUNDS)
    with pytest.raises(FluxError, match="Path validation failed"):
        client.open_backup_file("/etc/passwd", app, bounds=BOUNDS)
    with pytest.raises(FluxError, match="Path validation failed"):
        client.open_backup_file(f"{mount}/appdata/config.yml", app, bounds=BOUNDS)


def test_it_uploads_a_reader_with_progress_and_restores_it_as_appdata(sim, target):
    client, app, component, _ = target
    data = os.urandom(20 * MIB + 12345)  # over the simulator's in-memory limit: kept on disk
    calls = []
    reply = client.upload_backup(app, component, Reader(data), size=len(data),
                                 progress=lambda sent, total: calls.append((sent, total)))
    assert reply["name"] == f"backup_{component.lower()}.tar.gz"
    assert reply["progress"][-1][0] == len(data)
    assert calls[-1] == (len(data), len(data))
    sent = [0] + [done for done, _ in calls]
    steps = [after - before for before, after in zip(sent, sent[1:], strict=False)]
    assert all(step >= MIB for step in steps[:-1]) and steps[-1] > 0  # about every MiB, growing
    assert len(calls) >= len(data) // (2 * MIB)
    lines = client.start_restore(app, [component], source="upload").read_all()
    assert lines[-1] == "Finalizing..."
    # the uploaded archive replaced the old appdata and is what the next backup yields
    assert client.folder_info(app, component, "appdata") == []
    client.start_backup(app, [component]).read_all()
    mount = client.volume_info(app, component)["mount"]
    download = client.open_backup_file(local_archive_path(mount, component), app, bounds=BOUNDS)
    assert sha_of(download) == (hashlib.sha256(data).hexdigest(), len(data))


def test_it_refuses_a_reader_shorter_than_its_size(target):
    client, app, component, _ = target
    with pytest.raises(ValueError, match="ended after 1000 of"):
        client.upload_backup(app, component, Reader(b"x" * 1000), size=5000)


def test_it_raises_when_an_upload_is_cut(sim, target):
    client, app, component, index = target
    sim.inject(index, "cut", after_bytes=16 * MIB)
    with pytest.raises(NodeUnreachable, match=r"upload cut off after \d+ of 67108864 bytes"):
        client.upload_backup(app, component, Reader(os.urandom(64 * MIB), MIB), size=64 * MIB)
    entries = {e["name"] for e in client.folder_info(app, component, "backup/upload")}
    assert f"backup_{component.lower()}.tar.gz" not in entries


def test_it_restores_a_small_upload_into_appdata(target):
    client, app, component, _ = target
    client.upload_file(app, component, "appdata", "old.txt", io.BytesIO(b"old data"))
    assert "old.txt" in {e["name"] for e in client.folder_info(app, component, "appdata")}
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name in ("one.txt", "two.txt"):
            info = tarfile.TarInfo(name)
            info.size = len(name)
            tar.addfile(info, io.BytesIO(name.encode()))
    payload = buffer.getvalue()
    client.upload_backup(app, component, io.BytesIO(payload), size=len(payload))
    client.start_restore(app, [component], source="upload").read_all()
    assert {e["name"] for e in client.folder_info(app, component, "appdata")} == {"one.txt", "two.txt"}
    assert client.download_file(app, component, "appdata/two.txt") == b"two.txt"


def test_it_takes_an_archive_and_faults_through_the_control_api(sim, target, big_archive):
    client, app, component, index = target
    answer = requests.post(f"{sim.base}/_sim/nodes/{index}/volume-archive",
                           json={"app": app, "component": component, "path": big_archive[0]},
                           timeout=10)
    assert answer.status_code == 200
    mount = answer.json()["mount"]
    client.start_backup(app, [component]).read_all()
    archive = local_archive_path(mount, component)
    assert sha_of(client.open_backup_file(archive, app, bounds=BOUNDS))[0] == big_archive[2]
    fault = requests.post(f"{sim.base}/_sim/nodes/{index}/fault",
                          json={"kind": "cut", "after_bytes": MIB}, timeout=10)
    assert "cut" in fault.json()["faults"]
    with pytest.raises(NodeUnreachable, match="cut off"):
        sha_of(client.open_backup_file(archive, app, bounds=BOUNDS))
    requests.delete(f"{sim.base}/_sim/nodes/{index}/fault", timeout=10)
    refused = requests.post(f"{sim.base}/_sim/nodes/{index}/volume-archive",
                            json={"app": app, "component": component, "path": "relative.tar.gz"},
                            timeout=10)
    assert refused.status_code == 400
