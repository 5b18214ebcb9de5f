"""App sync against the simulated network over loopback HTTP: apps, instances, faults, takeover."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.accounts.models import Membership
from apps.deployments.models import (
    AppInstance,
    AppStateChange,
    AppSync,
    AppSyncSettings,
    TeamApp,
    WatchedOwner,
)
from apps.deployments.sync import run_app_sync
from apps.nodes import actions
from tests.sim.keys import owner_zelids

OWNER = owner_zelids()[0]


@pytest.fixture
def team_apps(personas, fleet, settings):
    """Team A watching one simulated owner, with simulated node 0 as its source."""
    settings.ALLOW_ANY_NODE_URL = True
    settings.DEV_LOCATION_URL = fleet.base + "/loc/{location}"
    settings.APP_SYNC_TIMEOUT_SECONDS = 1
    team = personas.team
    manager = Membership.objects.get(user=personas.manager, team=team)
    [node] = actions.register_nodes(membership=manager, text=fleet.url(0))
    AppSyncSettings.objects.create(team=team, source_node=node)
    WatchedOwner.objects.create(team=team, address=OWNER)
    names = sorted(name for name in fleet.app_names() if fleet.app(name).spec["owner"] == OWNER)
    assert names
    return team, names, fleet


def test_it_apps_appear_with_instances_expiry_and_price(team_apps):
    team, names, fleet = team_apps
    sync = run_app_sync(team.pk)
    assert sync.status == AppSync.Status.DONE, sync.reason
    apps = {a.name: a for a in TeamApp.objects.filter(team=team)}
    assert sorted(apps) == names
    app = apps[names[0]]
    entry = fleet.app(names[0])
    assert app.origin == TeamApp.Origin.OWNER and app.owner == OWNER
    assert app.instances_wanted == entry.spec["instances"]
    assert app.expiry_height == entry.spec["height"] + 88000
    assert app.expires_at > timezone.now()
    assert app.monthly_usd is not None and app.renewal_flux is not None
    assert "hash" not in app.spec and "height" not in app.spec
    assert AppInstance.objects.filter(app=app).count() == len(entry.nodes)
    assert app.status == "healthy", app.reason
    assert set(AppInstance.objects.filter(app=app).values_list("state", flat=True)) == {"running"}
    assert AppStateChange.objects.filter(app=app, old_status="unknown", new_status="healthy").count() == 1
    assert sync.apps == len(names)


def test_it_a_stopped_instance_degrades_the_app(team_apps):
    team, names, fleet = team_apps
    run_app_sync(team.pk)
    name = next(n for n in names if len(fleet.app(n).nodes) >= 2)
    index = fleet.app(name).nodes[0]
    fleet.call(lambda: fleet.fleet.set_instance_state(name, index, "stopped"))
    try:
        run_app_sync(team.pk)
    finally:  # the simulator is shared by the module's tests
        fleet.call(lambda: fleet.fleet.set_instance_state(name, index, "running"))
    app = TeamApp.objects.get(team=team, name=name)
    assert app.status == "degraded", app.reason
    assert AppStateChange.objects.filter(app=app, old_status="healthy", new_status="degraded").count() == 1
    location = fleet.call(lambda: fleet.fleet.identity(index).location)
    assert AppInstance.objects.get(app=app, location=location).state == "stopped"


def test_it_a_garbage_source_fails_and_keeps_data_stale(team_apps):
    team, names, fleet = team_apps
    run_app_sync(team.pk)
    before = TeamApp.objects.filter(team=team).count()
    fleet.inject(0, "garbage")
    sync = run_app_sync(team.pk)
    assert sync.status == AppSync.Status.FAILED
    assert "No source answered" in sync.reason
    assert TeamApp.objects.filter(team=team).count() == before
    assert set(TeamApp.objects.filter(team=team).values_list("stale", flat=True)) == {True}
    assert all(TeamApp.objects.filter(team=team).values_list("stale_reason", flat=True))


def test_it_no_source_fails_with_a_reason(personas):
    WatchedOwner.objects.create(team=personas.team, address=OWNER)
    sync = run_app_sync(personas.team.pk)
    assert sync.status == AppSync.Status.FAILED
    assert sync.reason.startswith("No source")


def test_it_a_hanging_instance_node_costs_one_timeout(team_apps):
    team, names, fleet = team_apps
    name = names[0]
    index = next(i for i in fleet.app(name).nodes if i != 0)
    fleet.inject(index, "hang")
    started = timezone.now()
    sync = run_app_sync(team.pk)
    elapsed = (timezone.now() - started).total_seconds()
    assert sync.status == AppSync.Status.DONE
    assert elapsed < 8
    location = fleet.call(lambda: fleet.fleet.identity(index).location)
    hung = AppInstance.objects.get(app__name=name, location=location)
    assert hung.state == "unreachable" and hung.reason
    others = AppInstance.objects.filter(team=team).exclude(location=location)
    assert set(others.values_list("state", flat=True)) == {"running"}


def test_it_added_app_unknown_to_the_network_is_missing(team_apps):
    team, names, fleet = team_apps
    TeamApp.objects.create(team=team, name="nosuchapp42", origin=TeamApp.Origin.ADDED)
    run_app_sync(team.pk)
    app = TeamApp.objects.get(team=team, name_key="nosuchapp42")
    assert app.status == "missing" and app.reason == "No app of that name on the network"


def test_it_a_stale_sync_is_taken_over(team_apps):
    team, names, fleet = team_apps
    old = timezone.now() - timedelta(hours=1)
    dead = AppSync.objects.create(team=team, started_at=old, heartbeat_at=old)
    sync = run_app_sync(team.pk)
    assert sync.status == AppSync.Status.DONE
    dead.refresh_from_db()
    assert dead.status == AppSync.Status.ABANDONED


def test_it_a_live_sync_is_not_overlapped(team_apps):
    team, names, fleet = team_apps
    AppSync.objects.create(team=team)
    assert run_app_sync(team.pk) is None


def test_it_the_next_source_is_asked_when_one_fails(team_apps):
    team, names, fleet = team_apps
    AppSyncSettings.objects.filter(team=team).update(gateway_url=fleet.url(1))
    fleet.inject(0, "http500")
    sync = run_app_sync(team.pk)
    assert sync.status == AppSync.Status.DONE
    assert sync.source.startswith("gateway")
    assert "500" in sync.reason
    assert sorted(TeamApp.objects.filter(team=team).values_list("name", flat=True)) == names


def test_it_dropped_apps_stay_dropped(team_apps):
    team, names, fleet = team_apps
    run_app_sync(team.pk)
    TeamApp.objects.filter(team=team, name=names[0]).update(dropped=True)
    run_app_sync(team.pk)
    assert TeamApp.objects.get(team=team, name=names[0]).dropped is True


def test_it_an_owner_app_gone_from_the_network_is_missing(team_apps):
    team, names, fleet = team_apps
    TeamApp.objects.create(team=team, name="vanished7", origin=TeamApp.Origin.OWNER, status="healthy",
                           instances_running=3, instances_wanted=3)
    run_app_sync(team.pk)
    app = TeamApp.objects.get(team=team, name_key="vanished7")
    assert app.status == "missing"
    assert AppStateChange.objects.filter(app=app, old_status="healthy", new_status="missing").exists()


@pytest.mark.parametrize("record", [
    None, [], "web0", {"name": "bad name!", "owner": "x", "height": 1, "version": 8},
    {"name": "ok1", "owner": "x" * 65, "height": 1, "version": 8},
    {"name": "ok1", "owner": "x", "height": 10**20, "version": 8},
    {"name": "ok1", "owner": "x", "height": 1, "version": 8, "expire": "soon"},
    {"name": "ok1", "owner": "x", "height": True, "version": 8},
    {"name": "ok1", "owner": "x", "height": 1},
])
def test_it_garbage_spec_records_are_skipped(record):
    from apps.deployments.sync import valid_spec

    assert valid_spec(record) is None


def test_it_reads_running_components_from_docker_names():
    from apps.deployments.sync import running_components

    answer = [{"Names": ["/fluxweb_shop1"], "State": "running"}, {"Names": ["/zeloldapp"]},
              {"Names": ["/fluxdb_shop1"], "State": "exited"}, {"Names": [7]}, "junk", {"Names": "x"},
              {"Names": ["/nginx"]}]
    assert running_components(answer) == {"shop1": {"web"}, "oldapp": {None}}
    assert running_components({"not": "a list"}) == {}


def test_it_owner_addresses_are_deduplicated(personas):
    from apps.deployments.owners import team_owner_addresses
    from apps.wallets.models import WalletIdentity

    WalletIdentity.objects.create(user=personas.viewer, zelid=OWNER, zelid_key=OWNER, kind="btc")
    WatchedOwner.objects.create(team=personas.team, address=OWNER)
    WatchedOwner.objects.create(team=personas.team, address="0xAbC0000000000000000000000000000000000001")
    WatchedOwner.objects.create(team=personas.team, address="0xabc0000000000000000000000000000000000001")
    WatchedOwner.objects.create(team=personas.other_team, address="1OtherTeamOwner")
    assert team_owner_addresses(personas.team) == [OWNER, "0xAbC0000000000000000000000000000000000001"]


def test_it_due_teams_are_those_with_owners_and_an_old_sync(personas):
    from apps.deployments.tasks import due_team_ids

    team, other = personas.team, personas.other_team
    assert due_team_ids() == []
    WatchedOwner.objects.create(team=team, address=OWNER)
    TeamApp.objects.create(team=other, name="someapp", origin=TeamApp.Origin.ADDED)
    assert due_team_ids() == sorted([team.pk, other.pk])
    AppSync.objects.create(team=team, status=AppSync.Status.DONE)
    assert due_team_ids() == [other.pk]
    AppSync.objects.filter(team=team).update(started_at=timezone.now() - timedelta(seconds=301))
    assert due_team_ids() == sorted([team.pk, other.pk])


def test_it_a_registered_node_reuses_its_fresh_sweep(team_apps):
    from apps.nodes.models import Node, NodeSnapshot

    team, names, fleet = team_apps
    name = names[0]
    index = next(i for i in fleet.app(name).nodes if i != 0)
    location = fleet.call(lambda: fleet.fleet.identity(index).location)
    address = location if ":" in location else f"{location}:16127"
    node = Node.objects.create(team=team, name="mine", address=address, base_url=f"http://{address}")
    NodeSnapshot.objects.create(node=node, team=team, checked_at=timezone.now(), detail={"apps": [name]})
    fleet.inject(index, "hang")  # asking it would cost a timeout and say unreachable
    sync = run_app_sync(team.pk)
    instance = AppInstance.objects.get(app__name=name, location=location)
    assert (instance.state, instance.node_id) == ("running", node.pk)
    assert sync.nodes_checked >= 1


def test_it_a_stale_sweep_is_not_reused(team_apps):
    from apps.nodes.models import Node, NodeSnapshot

    team, names, fleet = team_apps
    name = names[0]
    index = next(i for i in fleet.app(name).nodes if i != 0)
    location = fleet.call(lambda: fleet.fleet.identity(index).location)
    address = location if ":" in location else f"{location}:16127"
    node = Node.objects.create(team=team, name="mine", address=address, base_url=f"http://{address}")
    NodeSnapshot.objects.create(node=node, team=team, checked_at=timezone.now() - timedelta(hours=1),
                                detail={"apps": [name]})
    fleet.inject(index, "hang")
    run_app_sync(team.pk)
    instance = AppInstance.objects.get(app__name=name, location=location)
    assert instance.state == "unreachable" and instance.node_id == node.pk


def test_it_places_an_instance_where_the_sweep_geolocated_its_node(team_apps):
    from apps.nodes.models import Node, NodeSnapshot
    from apps.nodes.sweep import run_sweep

    team, names, fleet = team_apps
    name = names[0]
    index = next(i for i in fleet.app(name).nodes if i != 0)
    location = fleet.call(lambda: fleet.fleet.identity(index).location)
    geo = fleet.call(lambda: fleet.fleet.identity(index).geo)
    assert geo[2] and geo[5]  # the simulated node has a country and a region name
    address = location if ":" in location else f"{location}:16127"
    node = Node.objects.create(team=team, name="mine", address=address, base_url=fleet.url(index))
    NodeSnapshot.objects.create(node=node, team=team)
    run_sweep(team.pk)  # the probe keeps the node's geolocation (country, regionName)
    run_app_sync(team.pk)
    instance = AppInstance.objects.get(app__name=name, location=location)
    assert (instance.country, instance.region) == (geo[2], geo[5])
    assert instance.node_id == node.pk


def test_it_a_hung_source_costs_one_timeout_and_the_next_source_answers(team_apps, settings):
    team, names, fleet = team_apps
    settings.APP_SYNC_SOURCE_TIMEOUT_SECONDS = 2
    AppSyncSettings.objects.filter(team=team).update(gateway_url=fleet.url(1))
    fleet.inject(0, "hang")  # the source node accepts the connection and never answers
    sync = run_app_sync(team.pk)
    assert sync.status == "done"
    assert sync.source.startswith("gateway ")
    assert "timed out" in sync.reason or "no answer" in sync.reason.lower(), sync.reason
    assert set(TeamApp.objects.filter(team=team).values_list("name", flat=True)) >= set(names)
