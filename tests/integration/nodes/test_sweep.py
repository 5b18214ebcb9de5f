"""Sweeps against the simulated fleet over real HTTP: each fault kind, overlap, a killed sweep."""
from __future__ import annotations

import signal
import subprocess
import sys
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from apps.accounts.models import Membership
from apps.nodes import actions
from apps.nodes.models import Node, NodeSnapshot, StatusChange, Sweep
from apps.nodes.sweep import run_sweep
from tests.conftest import REPO


@pytest.fixture
def team_fleet(personas, fleet, settings):
    """Team A with every simulated node registered (by URL, as the demo does)."""
    settings.ALLOW_ANY_NODE_URL = True
    settings.SWEEP_TIMEOUT_SECONDS = 1
    manager = Membership.objects.get(user=personas.manager, team=personas.team)
    nodes = actions.register_nodes(membership=manager, text="\n".join(fleet.urls))
    return personas.team, sorted(nodes, key=lambda n: n.pk), fleet


def snapshot(node) -> NodeSnapshot:
    return NodeSnapshot.objects.get(node=node)


def test_it_healthy_fleet_is_confirmed(team_fleet):
    team, nodes, fleet = team_fleet
    sweep = run_sweep(team.pk)
    assert (sweep.status, sweep.done, sweep.failed) == ("done", len(nodes), 0)
    snap = snapshot(nodes[0])
    assert snap.state == "confirmed"
    assert snap.version and snap.tier and snap.height > 0
    assert 0 <= snap.maintenance_blocks <= 480
    assert snap.height_lag == 0 or snap.height_lag is not None
    # First observation is recorded as a transition from "unknown".
    assert StatusChange.objects.filter(node=nodes[0], old_state="unknown", new_state="confirmed").count() == 1


@pytest.mark.parametrize("fault,state,reason,detail", [
    ("down", "down", "connection reset", "ConnectionResetError"),
    ("hang", "down", "timed out after ", "NodeTimeout: no answer within"),
    ("http500", "error", "answered HTTP 500", "BadResponse: HTTP 500 answer"),
    ("malformed", "error", "not a FluxOS answer", "not JSON"),
    ("dos", "dos", "DOS", ""),
    ("huge", "error", "answer too large (over 2 MiB)", "larger than 2 MiB"),  # refused at the body cap
    ("drip", "down", "answer stalled", "NodeTimeout: answer stalled"),  # ends at a bound
])
def test_it_each_fault_gets_a_precise_reason(team_fleet, fault, state, reason, detail):
    team, nodes, fleet = team_fleet
    fleet.inject(2, fault)
    run_sweep(team.pk)
    snap = snapshot(nodes[2])
    assert snap.state == state
    assert reason in snap.reason, snap.reason
    assert detail in snap.reason_detail, snap.reason_detail
    assert "Error(" not in snap.reason and "(" not in snap.reason.replace("(over", "")
    assert snapshot(nodes[3]).state == "confirmed"  # the others are not affected


def test_it_behind_and_unconfirmed(team_fleet):
    team, nodes, fleet = team_fleet
    fleet.inject(4, "behind", blocks=40)
    fleet.inject(5, "unconfirmed")
    fleet.advance_blocks(700)  # past the confirmation window for the frozen node
    run_sweep(team.pk)
    assert snapshot(nodes[4]).height_lag == 40
    unconfirmed = snapshot(nodes[5])
    assert unconfirmed.state == "unconfirmed"
    assert unconfirmed.maintenance_blocks == 0
    assert "EXPIRED" in unconfirmed.reason


def test_it_hanging_nodes_cost_only_their_timeout(team_fleet):
    team, nodes, fleet = team_fleet
    for index in (1, 6, 7):
        fleet.inject(index, "hang")
    started = time.monotonic()
    sweep = run_sweep(team.pk)
    elapsed = time.monotonic() - started
    assert sweep.failed == 3
    assert elapsed < 1 + 3, elapsed  # the per-node timeout (1 s) plus overhead, not 3 × timeout


def test_it_recovery_is_one_transition_back(team_fleet):
    team, nodes, fleet = team_fleet
    run_sweep(team.pk)
    fleet.inject(0, "down")
    run_sweep(team.pk)
    run_sweep(team.pk)  # still down: no new row
    fleet.clear(0)
    run_sweep(team.pk)
    transitions = list(StatusChange.objects.filter(node=nodes[0]).order_by("at", "id").values_list("old_state", "new_state"))
    assert transitions == [("unknown", "confirmed"), ("confirmed", "down"), ("down", "confirmed")]
    snap = snapshot(nodes[0])
    assert snap.last_seen is not None and snap.state == "confirmed"


def test_it_sweeps_never_overlap(team_fleet):
    team, nodes, fleet = team_fleet
    Sweep.objects.create(team=team, status="running", heartbeat_at=timezone.now())
    assert run_sweep(team.pk) is None
    assert not NodeSnapshot.objects.filter(team=team, checked_at__isnull=False).exists()


@pytest.mark.django_db(transaction=True)
def test_it_sweep_killed_midway_is_finished_by_the_next(personas, fleet, settings, child_environment):
    settings.ALLOW_ANY_NODE_URL = True
    settings.SWEEP_STALE_SECONDS = 5
    manager = Membership.objects.get(user=personas.manager, team=personas.team)
    actions.register_nodes(membership=manager, text="\n".join(fleet.urls))
    fleet.inject(0, "hang")  # keeps the doomed sweep busy until it is killed
    # The test's own database (SQLite file or PostgreSQL), so the sweep's rows are seen here.
    environment = child_environment(SWEEP_TIMEOUT_SECONDS="60", FLUXPANEL_ALLOW_ANY_NODE_URL="true")
    code = (f"import django; django.setup(); from apps.nodes.sweep import run_sweep; run_sweep({personas.team.pk})")
    process = subprocess.Popen([sys.executable, "-c", code], cwd=REPO, env=environment)
    deadline = time.monotonic() + 30
    while not Sweep.objects.filter(team=personas.team, status="running").exists():
        assert time.monotonic() < deadline and process.poll() is None, "the sweep did not start"
        time.sleep(0.1)
    time.sleep(1)
    process.send_signal(signal.SIGKILL)
    process.wait()
    # It died before writing: every node is still "not swept yet".
    assert not NodeSnapshot.objects.filter(team=personas.team, checked_at__isnull=False).exists()
    # While its heartbeat is fresh the dead sweep still holds the lock…
    assert run_sweep(personas.team.pk) is None
    # …once it is stale, the next sweep takes over and sweeps every node.
    Sweep.objects.filter(status="running").update(heartbeat_at=timezone.now() - timedelta(seconds=10))
    settings.SWEEP_TIMEOUT_SECONDS = 1
    sweep = run_sweep(personas.team.pk)
    assert sweep.status == "done"
    assert Sweep.objects.filter(team=personas.team, status="abandoned").count() == 1
    swept = NodeSnapshot.objects.filter(team=personas.team, checked_at__isnull=False).count()
    assert swept == len(fleet.urls) == Node.objects.count()
