"""How a removal/redeploy/backup stream ends, as FluxOS means it (appUninstaller.js,
appInstaller.js, advancedWorkflows.js)."""

import pytest

from fluxpanel.fluxos.client import FluxError
from tests.integration.client.conftest import (
    FAST,
    SimClient,
    node_with_app,
    owner_key,
    stateless_auth,
)
from tests.sim.fluxnode import SimFleet


@pytest.fixture
def sim():
    with SimFleet(nodes=6, seed=13, **FAST) as fleet:
        yield fleet


@pytest.fixture
def target(sim):
    index, app = node_with_app(sim)
    client = SimClient(sim.url(index), zelidauth=stateless_auth(owner_key(sim, app)))
    return client, app, index


def _node(sim, index):
    return sim.fleet.node(index)


def test_it_keeps_the_image_in_use_error_as_a_warning_and_succeeds(sim, target):
    client, app, index = target
    repotag = next(iter(sim.node(index).apps[app].containers.values())).spec["repotag"]
    sim.call(lambda: _node(sim, index).pinned_images.update({repotag: "4f3c2b1a0e9d8c7b"}))
    with client.remove_app(app) as stream:
        objects = list(stream)
    assert any(o.get("status") == "error" for o in objects)  # really written into the stream
    assert len(stream.warnings) == 1 and "(HTTP code 409) conflict" in stream.warnings[0]
    assert repotag in stream.warnings[0]
    assert stream.succeeded and stream.result.startswith("Removal step done.")
    assert app not in sim.node(index).apps


def test_it_fails_a_redeploy_whose_install_failed_although_the_cleanup_succeeded(sim, target):
    client, app, index = target
    sim.call(lambda: setattr(_node(sim, index), "install_failure", "Failed to pull image"))
    with pytest.raises(FluxError, match="Initiating Flux App") as info:
        client.redeploy_app(app, force=True).read_all()
    assert "Failed to pull image" in info.value.warnings


def test_it_fails_a_removal_refused_with_a_warning(sim, target):
    client, app, index = target
    sim.call(lambda: setattr(_node(sim, index), "removal_in_progress", True))
    with pytest.raises(FluxError, match="Another application is undergoing removal"):
        client.remove_app(app).read_all()
    assert app in sim.node(index).apps


def test_it_fails_a_removal_whose_last_word_is_an_error(sim, target):
    client, _, _ = target
    with pytest.raises(FluxError, match="Application not found"):
        client.remove_app("nosuchapp").read_all()


def test_it_reads_backup_errors_written_as_plain_text(sim, target):
    client, app, index = target
    component = next(iter(sim.node(index).apps[app].containers))
    lines = client.start_backup(app, [component]).read_all()
    assert lines[-1] == "Finalizing..." and "" not in lines  # the empty separator lines skipped
    sim.call(lambda: setattr(_node(sim, index).apps[app], "backup_running", True))
    try:
        with pytest.raises(FluxError, match="^Backup in progress"):
            client.start_backup(app, [component]).read_all()
    finally:
        sim.call(lambda: setattr(_node(sim, index).apps[app], "backup_running", False))
