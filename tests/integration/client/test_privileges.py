"""Privilege decisions (§1.4) as seen through the client: 401 envelopes become Unauthorized."""

import pytest

from fluxpanel.fluxos.client import Unauthorized
from tests.integration.client.conftest import (
    SimClient,
    admin_key,
    login,
    node_with_app,
    owner_key,
    stateless_auth,
)
from tests.sim import keys

HOUR = 3600 * 1000


def _admin_call(client):
    return client._get("id", "loggedusers", auth=True)


def test_it_admin_routes_need_a_stored_session_on_that_node(fleet):
    owner = admin_key(fleet, 0)
    stateless = SimClient(fleet.url(0), zelidauth=stateless_auth(owner))
    with pytest.raises(Unauthorized) as info:
        _admin_call(stateless)
    assert (info.value.code, info.value.name, info.value.message) == (
        401, "Unauthorized", "Unauthorized. Access denied.")
    session = login(fleet, 0, owner)
    assert any(s["zelid"] == owner.zelid for s in _admin_call(session))
    # the same session means nothing on another node
    other = next(i for i in range(1, 12) if fleet.node(i).id.owner != owner.zelid)
    with pytest.raises(Unauthorized):
        _admin_call(SimClient(fleet.url(other), zelidauth=session.zelidauth))


def test_it_non_admin_login_is_not_admin(fleet):
    with pytest.raises(Unauthorized):
        _admin_call(login(fleet, 0, keys.USER))


def test_it_app_owner_self_issued_phrase_works_for_two_hours(fleet):
    index, app = node_with_app(fleet)
    owner = owner_key(fleet, app)
    fresh = SimClient(fleet.url(index), zelidauth=stateless_auth(owner, age_ms=HOUR))
    component = next(iter(fleet.node(index).apps[app].containers))
    assert fresh.app_inspect(app, component)["Name"] == f"/flux{component}_{app}"
    stale = SimClient(fleet.url(index), zelidauth=stateless_auth(owner, age_ms=2 * HOUR + 60_000))
    with pytest.raises(Unauthorized):
        stale.app_inspect(app, component)


def test_it_strangers_and_wrong_signatures_are_refused(fleet):
    index, app = node_with_app(fleet)
    component = next(iter(fleet.node(index).apps[app].containers))
    stranger = SimClient(fleet.url(index), zelidauth=stateless_auth(keys.STRANGER))
    with pytest.raises(Unauthorized):
        stranger.app_stats(app, component)
    owner = owner_key(fleet, app)
    forged = stateless_auth(owner)
    forged["signature"] = keys.STRANGER.sign(forged["loginPhrase"])
    with pytest.raises(Unauthorized):
        SimClient(fleet.url(index), zelidauth=forged).app_stats(app, component)


def test_it_node_admin_is_app_owner_or_above(fleet):
    index, app = node_with_app(fleet)
    component = next(iter(fleet.node(index).apps[app].containers))
    admin = SimClient(fleet.url(index), zelidauth=stateless_auth(admin_key(fleet, index)))
    assert admin.app_top(app, component)["Titles"][0] == "UID"


def test_it_team_ids_are_app_owner_or_above():
    from tests.integration.client.conftest import FAST
    from tests.sim.fluxnode import SimFleet

    with SimFleet(nodes=6, seed=7, team_ids=(keys.TEAM.zelid, keys.TEAM.zelid), **FAST) as sim:
        index, app = node_with_app(sim)
        component = next(iter(sim.node(index).apps[app].containers))
        team = SimClient(sim.url(index), zelidauth=stateless_auth(keys.TEAM))
        assert team.app_changes(app, component)
        phrase = SimClient(sim.url(index)).login_phrase()
        data = SimClient(sim.url(index)).verify_login(keys.TEAM.zelid, phrase, keys.TEAM.sign(phrase))
        assert data["privilage"] == "fluxteam"


def test_it_user_privilege_uses_the_sixteen_hour_rule(fleet):
    young = SimClient(fleet.url(1), zelidauth=stateless_auth(keys.USER, age_ms=15 * HOUR))
    assert young.logged_sessions() == []
    old = SimClient(fleet.url(1), zelidauth=stateless_auth(keys.USER, age_ms=17 * HOUR))
    with pytest.raises(Unauthorized):
        old.logged_sessions()


def test_it_eth_identities_work_too(fleet):
    session = login(fleet, 2, keys.ETH_USER)
    assert session.logged_sessions()[0]["zelid"] == keys.ETH_USER.zelid


def test_it_privileged_call_without_a_session_fails_before_sending(fleet):
    with pytest.raises(Unauthorized):
        SimClient(fleet.url(1)).logged_sessions()
