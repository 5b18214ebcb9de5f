"""Local and global lifecycle commands and the streamed removal/redeploy replies (§7.1, §7.2)."""

import time

import pytest

from fluxpanel.fluxos.client import FluxError, NodeTimeout, Unauthorized
from tests.integration.client.conftest import (
    FAST,
    SimClient,
    node_with_app,
    owner_key,
    stateless_auth,
)
from tests.sim import keys
from tests.sim.fluxnode import SimFleet


@pytest.fixture
def sim():
    """Lifecycle tests change app state: each gets its own fleet."""
    with SimFleet(nodes=10, seed=11, **FAST) as fleet:
        yield fleet


def _owner_client(sim, index, app, **options):
    return SimClient(sim.url(index), zelidauth=stateless_auth(owner_key(sim, app)), **options)


def _states(sim, index, app):
    return {name: c.state for name, c in sim.node(index).apps[app].containers.items()}


def test_it_component_commands_change_state_and_write_logs(sim):
    index, app = node_with_app(sim)
    client = _owner_client(sim, index, app)
    component = next(iter(sim.node(index).apps[app].containers))
    assert client.stop_app(app, component) == f"Flux App {component}_{app} successfully stopped."
    assert _states(sim, index, app)[component] == "stopped"
    assert "shutting down" in client.app_log(app, component, lines=5)
    with pytest.raises(FluxError, match="already stopped"):
        client.stop_app(app, component)
    with pytest.raises(FluxError, match="is not running"):
        client.pause_app(app, component)
    assert client.start_app(app, component).endswith("successfully started.")
    assert client.pause_app(app, component).endswith("successfully paused.")
    assert _states(sim, index, app)[component] == "paused"
    assert client.unpause_app(app, component).endswith("successfully unpaused.")
    assert client.restart_app(app, component).endswith("successfully restarted.")
    assert _states(sim, index, app)[component] == "running"


def test_it_whole_app_commands_act_on_every_component(sim):
    index, app = node_with_app(sim, min_components=2)
    client = _owner_client(sim, index, app)
    assert client.stop_app(app) == f"Application {app} stopped"
    assert set(_states(sim, index, app).values()) == {"stopped"}
    assert client.start_app(app) == f"Application {app} started"
    assert client.restart_app(app) == f"Application {app} restarted"
    assert client.pause_app(app) == f"Application {app} paused"
    assert client.unpause_app(app) == f"Application {app} unpaused"
    assert set(_states(sim, index, app).values()) == {"running"}


def test_it_lifecycle_needs_app_owner_or_above(sim):
    index, app = node_with_app(sim)
    stranger = SimClient(sim.url(index), zelidauth=stateless_auth(keys.STRANGER))
    with pytest.raises(Unauthorized):
        stranger.stop_app(app)
    assert set(_states(sim, index, app).values()) == {"running"}


def test_it_global_command_reaches_every_instance(sim):
    app = max(sim.app_names(), key=lambda name: len(sim.app(name).nodes))
    nodes = list(sim.app(app).nodes)
    assert len(nodes) >= 2
    client = _owner_client(sim, nodes[0], app)
    assert client.stop_app(app, global_=True) == f"{app} queried for global stop"
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        if all(set(_states(sim, i, app).values()) == {"stopped"} for i in nodes):
            break
        time.sleep(0.02)
    assert all(set(_states(sim, i, app).values()) == {"stopped"} for i in nodes)
    assert client.unpause_app(app, global_=True) == f"{app} queried for global unpase"  # sic


def test_it_global_commands_need_a_phrase_under_two_hours(sim):
    """Other nodes authorise a forwarded header with the stateless 2 h rule only."""
    app = max(sim.app_names(), key=lambda name: len(sim.app(name).nodes))
    first, *others = sim.app(app).nodes
    owner = owner_key(sim, app)
    stale = stateless_auth(owner, age_ms=3 * 3600 * 1000)
    with pytest.raises(Unauthorized):
        SimClient(sim.url(first), zelidauth=stale).stop_app(app, global_=True)
    # a real login on the first node: a stored session there, and a fresh phrase everywhere else
    plain = SimClient(sim.url(first))
    phrase = plain.login_phrase()
    signature = owner.sign(phrase)
    plain.verify_login(owner.zelid, phrase, signature)
    session = plain.with_auth({"zelid": owner.zelid, "signature": signature, "loginPhrase": phrase})
    session.stop_app(app, global_=True)
    deadline = time.monotonic() + 5
    nodes = [first, *others]
    while time.monotonic() < deadline and not all(
            set(_states(sim, i, app).values()) == {"stopped"} for i in nodes):
        time.sleep(0.02)
    assert all(set(_states(sim, i, app).values()) == {"stopped"} for i in nodes)


def test_it_remove_streams_progress_and_uninstalls(sim):
    index, app = node_with_app(sim)
    client = _owner_client(sim, index, app)
    with client.remove_app(app) as stream:
        messages = [m["status"] for m in stream]
    assert messages[0].startswith("Stopping Flux App Component ")
    assert messages[-1] == "success"  # removeAppLocally's closing createSuccessMessage
    assert stream.result == f"Removal step done. Result: Flux App {app} was successfuly removed"
    assert stream.warnings == []
    assert any(m.startswith("Unmounting volume of") for m in messages)
    assert app not in sim.node(index).apps
    assert index not in sim.app(app).nodes


def test_it_components_cannot_be_removed(sim):
    index, app = node_with_app(sim)
    component = next(iter(sim.node(index).apps[app].containers))
    with pytest.raises(FluxError, match="Components cannot be removed manually"):
        _owner_client(sim, index, app).remove_app(f"{component}_{app}").read_all()


def test_it_remove_unauthorized_raises_from_the_stream(sim):
    index, app = node_with_app(sim)
    stranger = SimClient(sim.url(index), zelidauth=stateless_auth(keys.STRANGER))
    with pytest.raises(Unauthorized):
        stranger.remove_app(app).read_all()


def test_it_redeploys_stream_and_end_with_a_success_message(sim):
    index, app = node_with_app(sim)
    client = _owner_client(sim, index, app)
    soft = client.redeploy_app(app).read_all()
    assert {"status": "success", "data": {"message": "Application softly removed. Awaiting installation..."}} in soft
    assert soft[-1] == {"status": "success",
                        "data": {"message": f"Flux App {app} successfully installed and launched"}}
    with client.redeploy_app(app, force=True) as hard:
        hard.read_all()
    assert hard.result == f"Flux App {app} successfully installed and launched"
    component = next(iter(sim.node(index).apps[app].containers))
    last = client.redeploy_component(app, component).read_all()[-1]
    assert last["data"]["message"] == f"Component {component} of {app} redeployed successfully"
    assert client.redeploy_app(app, global_=True).read_all() == [
        {"status": "success", "data": {"message": f"{app} queried for global soft redeploy"}}]


def test_it_redeploy_during_a_restore_never_answers(sim):
    index, app = node_with_app(sim)
    sim.call(lambda: setattr(sim.fleet.node(index).apps[app], "restore_running", True))
    client = _owner_client(sim, index, app, timeout=(2, 0.5))
    with pytest.raises(NodeTimeout) as info:
        client.redeploy_app(app, timeout=(2, 0.5)).read_all()
    assert info.value.phase == "read"
