"""`POST /apps/appexec`: owner only, streamed plain text, errors as envelopes (appInspector.js)."""

import json

import pytest
import requests

from fluxpanel.fluxos.client import FluxError, NodeTimeout, Unauthorized
from tests.integration.client.conftest import (
    SimClient,
    admin_key,
    login,
    node_with_app,
    owner_key,
    requests_seen,
    stateless_auth,
)


@pytest.fixture
def target(fleet):
    index, app = node_with_app(fleet)
    component = next(iter(fleet.node(index).apps[app].containers))
    client = SimClient(fleet.url(index), zelidauth=stateless_auth(owner_key(fleet, app)))
    return client, app, component, index


def test_it_streams_the_command_output(fleet, target):
    client, app, component, index = target
    with client.exec_in_app(app, component, ["echo", "hello", "flux"]) as stream:
        assert stream.read_all() == "hello flux\n"
    method, path, content_type, _, _ = requests_seen(fleet, index)[-1]
    assert (method, path, content_type) == ("POST", "/apps/appexec", "text/plain")
    env = client.exec_in_app(app, component, ["env"], env=["MODE=test"]).read_all()
    assert "MODE=test" in env.splitlines()


def test_it_decodes_the_gzipped_reply(target):
    client, app, component, _ = target
    body = json.dumps({"appname": f"{component}_{app}", "cmd": ["echo", "x"], "env": []}).encode()
    raw = requests.post(client.path_url("apps", "appexec"), data=body, timeout=5,
                        headers={"zelidauth": client.zelidauth, "Content-Type": "text/plain"})
    assert raw.headers["Content-Encoding"] == "gzip"
    assert raw.headers["Content-Type"].startswith("application/json") and raw.text == "x\n"


def test_it_lets_only_the_app_owner_exec(fleet):
    # A node whose admin does not own the app: admins may stop it, not exec in it.
    index, app = next((i, name) for i in range(fleet.fleet.count) for name in fleet.node(i).apps
                      if fleet.node(i).id.owner != fleet.app(name).spec["owner"])
    component = next(iter(fleet.node(index).apps[app].containers))
    admin = login(fleet, index, admin_key(fleet, index), allow_private=True)
    assert admin.stop_app(app, component)
    admin.start_app(app, component)
    with pytest.raises(Unauthorized):
        admin.exec_in_app(app, component, ["echo", "x"]).read_all()


def test_it_raises_fluxos_errors(target):
    client, app, _, _ = target
    with pytest.raises(FluxError, match="reading 'Id'"):
        client.exec_in_app(app, "nosuchcomponent", ["echo", "x"]).read_all()
    with pytest.raises(ValueError):
        client.exec_in_app(app, "web", "echo x")


def test_it_times_out_in_a_stopped_container(target):
    client, app, component, _ = target
    client.stop_app(app, component)
    try:
        with pytest.raises(NodeTimeout):
            client.exec_in_app(app, component, ["echo", "x"], timeout=(2, 0.5)).read_all()
    finally:
        client.start_app(app, component)
