"""compression() in front of every FluxOS route (lib/fluxServer.js), in the sim and the client."""

import time

import pytest
import requests

from tests.integration.client.conftest import SimClient, node_with_app, owner_key, stateless_auth


@pytest.fixture
def target(fleet):
    index, app = node_with_app(fleet)
    component = next(iter(fleet.node(index).apps[app].containers))
    client = SimClient(fleet.url(index), zelidauth=stateless_auth(owner_key(fleet, app)))
    return client, app, component, index


def test_it_gzips_answers_of_a_kilobyte_or_more_and_drops_their_length(fleet):
    info = requests.get(fleet.url(2) + "/flux/info", timeout=5, stream=True)
    assert info.headers["Content-Encoding"] == "gzip" and "Content-Length" not in info.headers
    assert info.headers["Vary"] == "Accept-Encoding"
    small = requests.get(fleet.url(2) + "/flux/version", timeout=5, stream=True)
    assert "Content-Encoding" not in small.headers and small.headers["Content-Length"]
    plain = requests.get(fleet.url(2) + "/flux/info", timeout=5, stream=True,
                         headers={"Accept-Encoding": "identity"})
    assert "Content-Encoding" not in plain.headers


def test_it_gzips_streamed_replies_but_not_the_untyped_backup_text(target):
    client, app, component, _ = target
    redeploy = requests.get(client.path_url("apps", "redeploy", app), timeout=10, stream=True,
                            headers={"zelidauth": client.zelidauth})
    assert redeploy.headers["Content-Encoding"] == "gzip"
    redeploy.content  # noqa: B018 - let the redeploy finish
    backup = requests.post(client.path_url("apps", "appendbackuptask"), timeout=10, stream=True,
                           json={"appname": app, "backup": [{"component": component, "backup": True}]},
                           headers={"zelidauth": client.zelidauth})
    assert "Content-Type" not in backup.headers and "Content-Encoding" not in backup.headers
    assert "Finalizing...\n\n" in backup.text


def test_it_reads_gzipped_streams_piece_by_piece(fleet, target):
    client, app, component, index = target
    started = time.monotonic()
    arrivals = []
    with client.redeploy_app(app) as stream:
        for _ in stream:
            arrivals.append(time.monotonic() - started)
    assert stream.result == f"Flux App {app} successfully installed and launched"
    # Each object is flushed as written: they arrive spread over the stream, not all at the end.
    assert len(arrivals) > 3 and arrivals[-1] - arrivals[0] >= 0.01
    assert client.info()["flux"]["version"]  # a gzipped JSON answer, read capped
