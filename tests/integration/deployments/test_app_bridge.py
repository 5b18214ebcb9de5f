"""The world-state bridge for apps: after an app sync (`apps_synced`) each team app is published
as an app entity, in one batch counted on the wire, and nothing is sent when nothing changed
(issue 13)."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest

from apps.deployments.models import AppStatus, TeamApp
from apps.deployments.signals import apps_synced
from apps.worldstate.models import BridgeRecord, Engine
from tests.integration.worldstate.test_bridge import DEAD_URL, CountingProxy
from tests.sim.worldstate import loopback_client

OWNER = "1CbErtneaX2QVyUfwU7JGB7VzvPgrgc3uC"


@pytest.fixture
def proxy(double, settings):
    settings.ALLOW_PRIVATE_ENGINES = True
    with CountingProxy(double.url) as counting:
        yield counting


def synced(team):
    apps_synced.send(sender=None, sync=None, team_id=team.pk, changed_app_ids=[])


def make_apps(team):
    TeamApp.objects.create(team=team, name="web3", owner=OWNER, instances_wanted=3, instances_running=3,
                           status=AppStatus.HEALTHY, expiry_height=2_012_345,
                           expires_at=datetime(2026, 12, 7, 10, tzinfo=UTC))
    TeamApp.objects.create(team=team, name="Shop", owner=OWNER, instances_wanted=3, instances_running=1,
                           status=AppStatus.DEGRADED)
    TeamApp.objects.create(team=team, name="dropped", owner=OWNER, dropped=True)


def test_it_publishes_team_apps_in_one_batch_then_only_changes(personas, double, proxy):
    team = personas.team
    make_apps(team)
    engine = Engine.objects.create(team=team, name="bridge", base_url=proxy.url, namespace="team-a",
                                   bridge_enabled=True)
    synced(team)
    assert proxy.batches() == 1 and len(proxy.requests) == 1
    reader = loopback_client(double.url)
    published = {e.id: e.properties for e in reader.entities(namespace="team-a")}
    assert set(published) == {"team-a/app-web3", "team-a/app-Shop"}
    assert published["team-a/app-web3"] == {
        "instances": 0, "status": "healthy", "instances_running": 3, "instances_wanted": 3,
        "expiry_height": 2_012_345, "expires_on": "2026-12-07", "owner": OWNER}
    assert published["team-a/app-Shop"]["status"] == "degraded"
    assert BridgeRecord.objects.filter(engine=engine).count() == 2

    synced(team)  # nothing changed: nothing sent
    assert proxy.batches() == 1 and len(proxy.requests) == 1

    TeamApp.objects.filter(name="Shop").update(status=AppStatus.DOWN, instances_running=0)
    synced(team)
    assert proxy.batches() == 2
    assert len(reader.history("team-a/app-Shop")) == 2 and len(reader.history("team-a/app-web3")) == 1
    assert reader.entity("team-a/app-Shop").properties["status"] == "down"
    engine.refresh_from_db()
    assert engine.bridge_last_error == ""


def test_it_engine_failures_never_break_the_sync(personas, settings):
    settings.ALLOW_PRIVATE_ENGINES = True
    team = personas.team
    make_apps(team)
    engine = Engine.objects.create(team=team, name="bridge", base_url=DEAD_URL, namespace="team-a",
                                   bridge_enabled=True)
    synced(team)  # does not raise
    engine.refresh_from_db()
    assert "cannot be reached" in engine.bridge_last_error and engine.bridge_last_error_at
