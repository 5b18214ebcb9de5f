"""A sync that finds the network as it was writes almost nothing and prices nothing again; a change
(a new message, an instance that stops) is written and priced as on the first sync."""
from __future__ import annotations

import copy
from decimal import Decimal

from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.deployments.costs import app_costs
from apps.deployments.models import AppInstance, AppStateChange, AppSync, TeamApp
from apps.deployments.sync import run_app_sync
from tests.integration.deployments.test_sync import team_apps  # noqa: F401  (the fixture)

SENTINEL = Decimal("12345.67")


def _writes(queries, table: str) -> list[str]:
    return [q["sql"] for q in queries if table in q["sql"] and q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE"))]


def test_it_a_sync_that_finds_nothing_new_rewrites_no_app_row(team_apps):  # noqa: F811
    team, names, fleet = team_apps
    assert run_app_sync(team.pk).status == AppSync.Status.DONE
    before = {a.name: (a.changed_at, a.synced_at) for a in TeamApp.objects.filter(team=team)}
    with CaptureQueriesContext(connection) as queries:
        sync = run_app_sync(team.pk)
    assert sync.status == AppSync.Status.DONE, sync.reason
    app_writes = _writes(queries.captured_queries, "deployments_teamapp")
    # one UPDATE of synced_at per batch of 500, no INSERT … ON CONFLICT of whole rows
    assert app_writes and all(sql.lstrip().upper().startswith("UPDATE") for sql in app_writes), app_writes
    instance_writes = _writes(queries.captured_queries, "deployments_appinstance")
    assert all(sql.lstrip().upper().startswith("UPDATE") for sql in instance_writes), instance_writes
    after = {a.name: (a.changed_at, a.synced_at) for a in TeamApp.objects.filter(team=team)}
    for name in names:
        assert after[name][0] == before[name][0]  # nothing flipped
        assert after[name][1] > before[name][1]  # but it was seen
    assert sync.apps == len(names) and sync.instances == AppInstance.objects.filter(team=team).count()
    assert all(i.checked_at == after[names[0]][1] for i in AppInstance.objects.filter(team=team))


def test_it_an_unchanged_app_keeps_its_stored_price(team_apps):  # noqa: F811
    team, names, fleet = team_apps
    run_app_sync(team.pk)
    app = TeamApp.objects.get(team=team, name=names[0])
    assert app.price_key and app.monthly_usd is not None
    real = app.monthly_usd
    # The stored price stands for the computed one as long as the price key matches: a sync that
    # recomputed it would overwrite the sentinel.
    TeamApp.objects.filter(pk=app.pk).update(monthly_usd=SENTINEL)
    run_app_sync(team.pk)
    assert TeamApp.objects.get(pk=app.pk).monthly_usd == SENTINEL
    TeamApp.objects.filter(pk=app.pk).update(monthly_usd=real, price_key="changed")
    run_app_sync(team.pk)
    app.refresh_from_db()
    assert app.monthly_usd == real and app.price_key not in ("", "changed")


def test_it_a_new_message_is_formatted_and_priced_again(team_apps):  # noqa: F811
    team, names, fleet = team_apps
    run_app_sync(team.pk)
    name = names[0]
    old = TeamApp.objects.get(team=team, name=name)
    original = fleet.call(lambda: copy.deepcopy(fleet.fleet.catalogue[name].spec))
    updated = copy.deepcopy(original)
    updated["compose"][0]["cpu"] = round(updated["compose"][0]["cpu"] + 1.5, 1)
    updated["hash"] = "f" * 64
    updated["height"] = original["height"] + 10

    def set_spec(spec):
        fleet.fleet.catalogue[name].spec = spec
        for node in fleet.fleet._nodes.values():  # FluxOS's apicache would serve the old list 30 s
            node.cache.clear()

    fleet.call(set_spec, updated)
    try:
        sync = run_app_sync(team.pk)
    finally:
        fleet.call(set_spec, original)
    assert sync.status == AppSync.Status.DONE, sync.reason
    app = TeamApp.objects.get(pk=old.pk)
    assert app.message_hash == "f" * 64 and app.message_height == original["height"] + 10
    assert app.spec["compose"][0]["cpu"] == updated["compose"][0]["cpu"]
    assert app.price_key != old.price_key
    expected = app_costs(app.spec, _height(fleet), *_tables(team))
    assert app.monthly_usd == expected["monthly_usd"] and app.monthly_usd > old.monthly_usd


def test_it_only_the_instance_that_changed_is_rewritten(team_apps):  # noqa: F811
    team, names, fleet = team_apps
    run_app_sync(team.pk)
    name = next(n for n in names if len(fleet.app(n).nodes) >= 2)
    index = fleet.app(name).nodes[0]
    fleet.call(lambda: fleet.fleet.set_instance_state(name, index, "stopped"))
    try:
        with CaptureQueriesContext(connection) as queries:
            run_app_sync(team.pk)
    finally:
        fleet.call(lambda: fleet.fleet.set_instance_state(name, index, "running"))
    inserts = [sql for sql in _writes(queries.captured_queries, "deployments_appinstance")
               if sql.lstrip().upper().startswith("INSERT")]
    assert len(inserts) == 1 and "), (" not in inserts[0], inserts  # one row, the stopped instance
    app = TeamApp.objects.get(team=team, name=name)
    assert app.status == "degraded"
    assert AppStateChange.objects.filter(app=app, new_status="degraded").count() == 1


def _height(fleet) -> int:
    return fleet.call(lambda: fleet.fleet.chain.height())


def _tables(team):
    from apps.deployments.costs import price_tables
    from apps.deployments.sources import team_sources

    [source, *_] = team_sources(team)
    return price_tables(source.client().deployment_information())
