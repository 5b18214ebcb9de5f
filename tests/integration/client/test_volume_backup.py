"""Volume browser, backup endpoints and backup/restore tasks (§8)."""

import io
import tarfile
import time
import zipfile

import pytest

from fluxpanel.fluxos.client import FluxError, Unauthorized
from tests.integration.client.conftest import (
    FAST,
    SimClient,
    node_with_app,
    owner_key,
    requests_seen,
    stateless_auth,
)
from tests.sim import keys
from tests.sim.fluxnode import SimFleet


@pytest.fixture
def sim():
    with SimFleet(nodes=6, seed=5, **FAST) as fleet:
        yield fleet


@pytest.fixture
def target(sim):
    index, app = node_with_app(sim)
    component = next(iter(sim.node(index).apps[app].containers))
    client = SimClient(sim.url(index), zelidauth=stateless_auth(owner_key(sim, app)))
    return client, app, component, index


def test_it_browse_create_rename_remove(target):
    client, app, component, _ = target
    root = {entry["name"] for entry in client.folder_info(app, component)}
    assert {"appdata", "backup"} <= root
    entries = client.folder_info(app, component, "appdata/data")
    assert {e["name"] for e in entries} == {"part-0.bin", "part-1.bin", "part-2.bin"}
    first = entries[0]
    assert set(first) == {"name", "size", "isDirectory", "isFile", "isSymbolicLink", "createdAt", "modifiedAt"}
    assert client.create_folder(app, component, "appdata/new dir") == "Folder Created"
    assert client.rename_object(app, component, "appdata/new dir", "renamed") == "Rename successful"
    names = {e["name"] for e in client.folder_info(app, component, "appdata")}
    assert "renamed" in names and "new dir" not in names
    assert client.remove_object(app, component, "appdata/renamed") == "File Removed"
    with pytest.raises(ValueError):
        client.rename_object(app, component, "appdata/config.yml", "a/b")
    with pytest.raises(FluxError):
        client.folder_info(app, component, "../../etc")


def test_it_downloads(target):
    client, app, component, _ = target
    config = client.download_file(app, component, "appdata/config.yml")
    assert config.startswith(b"# ")
    sink = io.BytesIO()
    assert client.download_file(app, component, "appdata/config.yml", dest=sink) == len(config)
    archive = zipfile.ZipFile(io.BytesIO(client.download_folder(app, component, "appdata")))
    assert "config.yml" in archive.namelist()
    with pytest.raises(FluxError):
        client.download_file(app, component, "appdata/missing.txt")


def test_it_backup_task_streams_lines_and_leaves_an_archive(sim, target):
    client, app, component, index = target
    started = time.monotonic()
    arrivals = []
    with client.start_backup(app, [component]) as stream:
        for line in stream:
            arrivals.append((time.monotonic() - started, line))
    lines = [line for _, line in arrivals]
    assert lines[0] == "Stopping application..."
    assert f"Creating backup archive for {component.lower()}..." in lines
    assert lines[-2:] == ["Starting application...", "Finalizing..."]
    assert arrivals[0][0] < arrivals[-1][0]  # yielded as they came, not all at the end
    method, path, content_type, *_ = requests_seen(sim, index)[-1]
    assert (method, path, content_type) == ("POST", "/apps/appendbackuptask", "application/json")

    mount = client.volume_info(app, component)["mount"]
    backups = client.local_backup_list(f"{mount}/backup/local", app)
    assert [b["name"] for b in backups] == [f"backup_{component.lower()}.tar.gz"]
    assert set(backups[0]) == {"name", "create", "size"}
    archive = client.download_backup_file(f"{mount}/backup/local/{backups[0]['name']}", app)
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        assert "config.yml" in tar.getnames()
    # a second backup replaces the archive
    assert f"Removing exists backup archive for {component.lower()}..." in client.start_backup(app, [component]).read_all()


def test_it_restore_from_local_and_upload(target):
    client, app, component, _ = target
    client.start_backup(app, [component]).read_all()
    client.remove_object(app, component, "appdata/config.yml")
    lines = client.start_restore(app, [component]).read_all()
    assert f"Unpacking backup archive for {component.lower()}..." in lines  # FluxOS's words
    assert client.download_file(app, component, "appdata/config.yml").startswith(b"# ")

    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        data = b"uploaded\n"
        info = tarfile.TarInfo("uploaded.txt")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    reply = client.upload_backup(app, component, io.BytesIO(buffer.getvalue()))
    assert reply["name"] == f"backup_{component.lower()}.tar.gz"
    assert reply["progress"] and reply["progress"][-1][0] == len(buffer.getvalue())
    client.start_restore(app, [component], source="upload").read_all()
    assert client.download_file(app, component, "appdata/uploaded.txt") == b"uploaded\n"
    # the restore replaced the data: what was there before is gone
    assert {e["name"] for e in client.folder_info(app, component, "appdata")} == {"uploaded.txt"}


def test_it_restore_from_remote_and_remote_size(target):
    client, app, component, _ = target
    url = "https://backups.example.test/one.tar.gz"
    assert client.remote_file_size(url, app, multiplier="B") > 0
    lines = client.start_restore(app, [component], source="remote", urls={component: url}).read_all()
    assert f"Downloading {url}..." in lines
    assert client.download_file(app, component, "appdata/restored.txt") == f"restored from {url}\n".encode()


def test_it_remove_backup_file(target):
    client, app, component, _ = target
    client.start_backup(app, [component]).read_all()
    mount = client.volume_info(app, component, multiplier="GB", decimal=2, fields=["mount", "size"])
    assert set(mount) == {"mount", "size"}
    path = f"{mount['mount']}/backup/local/backup_{component.lower()}.tar.gz"
    client.remove_backup_file(path, app)
    assert client.local_backup_list(f"{mount['mount']}/backup/local", app) == []


def test_it_task_errors_and_privileges(sim, target):
    client, app, component, index = target
    with pytest.raises(FluxError, match="No backup jobs"):
        client._task("appendbackuptask", {"appname": app, "backup": [{"component": component}]}, None).read_all()
    with pytest.raises(FluxError, match="Failed to unpack archive file for"):
        client.start_restore(app, [component], source="upload").read_all()
    stranger = SimClient(sim.url(index), zelidauth=stateless_auth(keys.STRANGER))
    with pytest.raises(Unauthorized):
        stranger.start_backup(app, [component]).read_all()
    with pytest.raises(Unauthorized):
        stranger.upload_backup(app, component, io.BytesIO(b"x"))
    with pytest.raises(Unauthorized):
        stranger.folder_info(app, component)
