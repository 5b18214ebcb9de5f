"""Issue 10 F5: one hostile node never stalls or fails its team's sweep, and a sweep that was
taken over never overwrites the newer sweep's snapshots."""
from __future__ import annotations

import copy
import threading
import time
from datetime import timedelta

import pytest
import requests
from django.utils import timezone

from apps.accounts.models import Membership
from apps.nodes import actions
from apps.nodes.models import NodeSnapshot, StatusChange, Sweep
from apps.nodes.probe import Probe
from apps.nodes.sweep import claim_sweep, run_sweep, write_results
from tests.integration.nodes.hostile_node import HostileNode


@pytest.fixture
def hostile():
    node = HostileNode()
    yield node
    node.close()


@pytest.fixture
def flux_info(fleet):
    """A real-looking /flux/info, as the simulated FluxOS answers it."""
    return requests.get(fleet.urls[0] + "/flux/info", timeout=5).json()["data"]


def register(personas, urls):
    manager = Membership.objects.get(user=personas.manager, team=personas.team)
    return sorted(actions.register_nodes(membership=manager, text="\n".join(urls)), key=lambda n: n.pk)


def sweep_in_thread(team_id, within_s: float):
    """run_sweep in a thread, so a sweep that never ends fails the test instead of hanging it."""
    from django.db import connection

    outcome = {}

    def sweep():
        try:
            outcome["sweep"] = run_sweep(team_id)
        finally:
            connection.close()  # this thread's own connection

    thread = threading.Thread(target=sweep, daemon=True)
    started = time.monotonic()
    thread.start()
    thread.join(within_s)
    assert not thread.is_alive(), f"the sweep was still running after {within_s} s"
    return outcome["sweep"], time.monotonic() - started


@pytest.mark.parametrize("height", [10**20, 1e20, -5, 2**31, "12abc", float("inf")])
def test_it_marks_a_node_with_an_absurd_height_as_garbage_and_writes_the_others(
        personas, fleet, settings, hostile, flux_info, height):
    settings.ALLOW_ANY_NODE_URL = True
    settings.SWEEP_TIMEOUT_SECONDS = 2
    info = copy.deepcopy(flux_info)
    info["daemon"]["info"]["blocks"] = height
    hostile.answers["/flux/info"] = info
    nodes = register(personas, [*fleet.urls[:4], hostile.url])
    sweep = run_sweep(personas.team.pk)
    assert sweep.status == "done"
    bad = NodeSnapshot.objects.get(node=nodes[-1])
    assert (bad.state, bad.height) == ("error", None) and bad.reason
    for node in nodes[:4]:
        snap = NodeSnapshot.objects.get(node=node)
        assert snap.state == "confirmed" and snap.height_lag == 0
    assert StatusChange.objects.filter(node=nodes[0], new_state="confirmed").count() == 1


def test_it_does_not_let_one_far_ahead_height_make_the_fleet_look_behind(
        personas, fleet, settings, hostile, flux_info):
    settings.ALLOW_ANY_NODE_URL = True
    info = copy.deepcopy(flux_info)
    info["daemon"]["info"]["blocks"] = 2**31 - 1  # in the column's range, but no chain is there
    hostile.answers["/flux/info"] = info
    nodes = register(personas, [*fleet.urls[:4], hostile.url])
    run_sweep(personas.team.pk)
    assert [NodeSnapshot.objects.get(node=n).height_lag for n in nodes[:4]] == [0, 0, 0, 0]


@pytest.mark.django_db(transaction=True)  # the sweep runs in a thread of its own, on its own connection
def test_it_cuts_off_nodes_that_trickle_their_answer(personas, fleet, settings, hostile, flux_info):
    """One byte every 0.3 s never trips a 1 s read timeout: only a total deadline ends it."""
    settings.ALLOW_ANY_NODE_URL = True
    settings.SWEEP_TIMEOUT_SECONDS = 1  # probe deadline: 1 s connect + 1 s read = 2 s in all
    hostile.answers["/flux/info"] = flux_info
    hostile.trickle["/flux/info"] = 0.3
    nodes = register(personas, [*fleet.urls[:6], *(f"{hostile.url}-{i}" for i in range(3))])
    sweep, elapsed = sweep_in_thread(personas.team.pk, within_s=20)
    assert sweep.status == "done" and sweep.failed == 3
    assert elapsed < 6, elapsed  # each probe's own deadline, not the sweep's outer limit
    for node in nodes[6:]:
        snap = NodeSnapshot.objects.get(node=node)
        assert snap.state == "down" and snap.reason == "answer too slow, cut off after 2 s", snap.reason
        assert "no complete answer" in snap.reason_detail
    assert all(NodeSnapshot.objects.get(node=n).state == "confirmed" for n in nodes[:6])


def test_it_drops_the_late_results_of_a_sweep_that_was_taken_over(personas, fleet, settings):
    settings.ALLOW_ANY_NODE_URL = True
    settings.SWEEP_TIMEOUT_SECONDS = 1
    nodes = register(personas, fleet.urls[:4])
    # Sweep A starts and stalls; its heartbeat goes stale, so sweep B takes over and finishes.
    stalled = claim_sweep(personas.team.pk, len(nodes))
    Sweep.objects.filter(pk=stalled.pk).update(heartbeat_at=timezone.now() - timedelta(minutes=10))
    fleet.inject(2, "down")
    newer = run_sweep(personas.team.pk)
    assert newer.status == "done"
    assert Sweep.objects.get(pk=stalled.pk).status == "abandoned"
    # A wakes up with what it saw before node 2 went down: nothing of it may be written.
    late = {node.pk: Probe("confirmed", version="0.0.1") for node in nodes}
    assert write_results(personas.team.pk, late, sweep=stalled) is None
    assert NodeSnapshot.objects.get(node=nodes[2]).state == "down"
    assert not NodeSnapshot.objects.filter(version="0.0.1").exists()


def test_it_never_writes_over_a_snapshot_newer_than_the_sweep(personas, fleet, settings):
    """Even a sweep still marked running (a race with a takeover) leaves newer snapshots alone."""
    settings.ALLOW_ANY_NODE_URL = True
    nodes = register(personas, fleet.urls[:2])
    older = claim_sweep(personas.team.pk, len(nodes))
    Sweep.objects.filter(pk=older.pk).update(started_at=timezone.now() - timedelta(minutes=5))
    older.refresh_from_db()
    NodeSnapshot.objects.filter(node=nodes[0]).update(state="down", checked_at=timezone.now())
    changed = write_results(personas.team.pk, {n.pk: Probe("confirmed") for n in nodes}, sweep=older)
    assert changed == [nodes[1].pk]
    assert NodeSnapshot.objects.get(node=nodes[0]).state == "down"
    assert NodeSnapshot.objects.get(node=nodes[1]).state == "confirmed"
