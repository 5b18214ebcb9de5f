"""File downloads: res.download's types, gzip, and errors at HTTP 200 (fileSystemManager.js)."""

import json

import pytest
import requests

from fluxpanel.fluxos.client import FluxError
from tests.integration.client.conftest import SimClient, node_with_app, owner_key, stateless_auth


@pytest.fixture
def target(fleet):
    index, app = node_with_app(fleet)
    component = next(iter(fleet.node(index).apps[app].containers))
    auth = stateless_auth(owner_key(fleet, app))
    client = SimClient(fleet.url(index), zelidauth=auth)
    container = fleet.node(index).apps[app].containers[component]
    big = json.dumps({"rows": [{"n": n, "text": "value"} for n in range(200)]}).encode()
    fleet.call(lambda: (container.volume.write("appdata/small.json", b'{"ok": true}'),
                        container.volume.write("appdata/big.json", big)))
    return client, app, component, big


def _raw(client, *segments):
    return requests.get(client.path_url(*segments), headers={"zelidauth": client.zelidauth},
                        timeout=5, stream=True)


def test_it_downloads_json_files_as_files(target):
    client, app, component, big = target
    assert client.download_file(app, component, "appdata/small.json") == b'{"ok": true}'
    assert client.download_file(app, component, "appdata/big.json") == big


def test_it_serves_json_files_like_res_download(target):
    client, app, component, _ = target
    small = _raw(client, "apps", "downloadfile", app, component, "appdata/small.json")
    assert small.headers["Content-Type"].startswith("application/json")
    assert "attachment" in small.headers["Content-Disposition"]
    big = _raw(client, "apps", "downloadfile", app, component, "appdata/big.json")
    assert big.headers["Content-Encoding"] == "gzip" and "Content-Length" not in big.headers


def test_it_raises_the_error_of_a_failed_download(target):
    client, app, component, _ = target
    raw = _raw(client, "apps", "downloadfile", app, component, "appdata/missing.txt")
    assert raw.status_code == 200 and "Content-Type" not in raw.headers
    assert raw.json()["status"] == "error"
    with pytest.raises(FluxError, match="ENOENT"):
        client.download_file(app, component, "appdata/missing.txt")


def test_it_raises_the_error_of_a_failed_backup_download(target):
    client, app, component, _ = target
    mount = client.volume_info(app, component)["mount"]
    with pytest.raises(FluxError, match="No such file or directory"):
        client.download_backup_file(f"{mount}/backup/local/none.tar.gz", app)
