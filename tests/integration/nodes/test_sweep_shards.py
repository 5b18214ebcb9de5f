"""Sharded sweeps against the simulated fleet over real HTTP: the same results as one sweep, two
real worker processes sharing the shards through the real Redis, and a shard whose worker is
killed (SIGKILL) taken again by the other."""
from __future__ import annotations

import os
import signal
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from apps.accounts.models import Membership
from apps.nodes import actions
from apps.nodes.alerts import evaluate_alerts
from apps.nodes.models import (
    AlertDelivery,
    AlertRule,
    Node,
    NodeSnapshot,
    StatusChange,
    Sweep,
    SweepShard,
)
from apps.nodes.sweep import run_sweep
from apps.nodes.sweep_shards import (
    claim_shard,
    help_sweep,
    run_shard,
    start_sharded_sweep,
    sweep_team,
    this_process,
)
from tests.conftest import start_worker_process, stop_process

COMPARED = ["state", "reason", "reason_detail", "version", "tier", "flux_status", "height", "height_lag",
            "last_confirmed_height", "maintenance_blocks", "benchmark_status", "arcane", "apps_running",
            "detail", "last_known"]


def register(team, urls) -> list[Node]:
    manager = Membership.objects.filter(team=team, role="manager").first()
    return sorted(actions.register_nodes(membership=manager, text="\n".join(urls)), key=lambda n: n.pk)


def results(team) -> tuple[list[tuple], list[tuple]]:
    """Snapshots and status changes of the team, by node address (the same in both teams)."""
    snaps = NodeSnapshot.objects.filter(team=team).select_related("node").order_by("node__address")
    changes = (StatusChange.objects.filter(team=team).select_related("node")
               .order_by("node__address", "at", "pk"))
    return ([(s.node.address, *[getattr(s, f) for f in COMPARED]) for s in snaps],
            [(c.node.address, c.old_state, c.new_state, c.reason) for c in changes])


def test_it_sharded_sweep_writes_exactly_what_one_sweep_writes(personas, fleet, settings):
    settings.ALLOW_ANY_NODE_URL = True
    settings.SWEEP_TIMEOUT_SECONDS = 1
    one, sharded = personas.team, personas.other_team
    register(one, fleet.urls)
    nodes = register(sharded, fleet.urls)
    # Shard 0 (nodes 0–3) sees mostly behind nodes: its own fleet height is 40 blocks low, so its
    # lags are only right once the finisher measures them against the whole fleet's height.
    for index in (0, 1):
        fleet.inject(index, "behind", blocks=40)
    for index, fault in ((2, "down"), (5, "http500"), (9, "malformed")):
        fleet.inject(index, fault)
    for team in (one, sharded):
        AlertRule.objects.create(team=team, kind=AlertRule.Kind.NODE_DOWN)
        AlertRule.objects.create(team=team, kind=AlertRule.Kind.HEIGHT_BEHIND, threshold=10)
    for _attempt in range(3):  # the simulated chain gains a block every few seconds of wall time
        single = run_sweep(one.pk)
        sweep = start_sharded_sweep(sharded.pk, [n.pk for n in nodes], 3)
        finished = help_sweep(sweep.pk, worker="test-process")
        if results(one)[0][0][7] == results(sharded)[0][0][7]:  # the same chain height seen
            break
        StatusChange.objects.all().delete()  # start both teams again from "not swept yet"
        NodeSnapshot.objects.update(state="unknown", checked_at=None)
    assert [s.pk for s in finished] == [sweep.pk]
    assert results(sharded) == results(one)
    lagging = NodeSnapshot.objects.get(node=nodes[0])
    assert lagging.height_lag == 40
    shards = list(sweep.shards.order_by("index"))
    assert [(s.status, s.nodes, s.worker) for s in shards] == [("done", 4, "test-process")] * 3
    assert shards[0].fleet_height != shards[1].fleet_height  # the correction above was needed
    sweep.refresh_from_db()
    single.refresh_from_db()
    assert (sweep.status, sweep.done, sweep.failed, sweep.changes) == (
        "done", single.done, single.failed, single.changes) == ("done", 12, 3, 12)
    assert sweep.finished_at is not None
    # Alerts evaluated once per finished sweep give the same notices as the unsharded sweep's.
    fired = {team.pk: sorted((d.rule.kind, d.node.address) for d in evaluate_alerts(team.pk))
             for team in (one, sharded)}
    assert fired[sharded.pk] == fired[one.pk] and len(fired[one.pk]) == 5


def test_it_late_results_of_a_reclaimed_shard_are_dropped(personas, fleet, settings):
    settings.ALLOW_ANY_NODE_URL = True
    settings.SWEEP_TIMEOUT_SECONDS = 1
    nodes = register(personas.team, fleet.urls)
    sweep = start_sharded_sweep(personas.team.pk, [n.pk for n in nodes], 2)
    doomed = claim_shard(sweep.pk, "first")
    SweepShard.objects.filter(pk=doomed.pk).update(heartbeat_at=timezone.now() - timedelta(hours=1))
    again = claim_shard(sweep.pk, "second")
    assert (again.pk, again.attempts) == (doomed.pk, 2)
    assert run_shard(doomed) is False  # its claim is gone: nothing written
    assert not NodeSnapshot.objects.filter(team=personas.team, checked_at__isnull=False).exists()
    assert run_shard(again) is True
    assert StatusChange.objects.filter(team=personas.team).count() == 6


def test_it_tick_shards_by_live_workers_and_sweeps_alone_when_no_helper_comes(personas, fleet, settings):
    settings.ALLOW_ANY_NODE_URL = True
    settings.SWEEP_TIMEOUT_SECONDS = 1
    settings.SWEEP_NODES_PER_SHARD = 6
    register(personas.team, fleet.urls)
    asked = []
    finished = sweep_team(personas.team.pk, lambda sweep_id, helpers: asked.append(helpers), workers=3)
    assert asked == [1]  # 12 nodes, at least 6 a shard: 2 shards for 3 workers, one helper asked
    assert [(s.status, s.done, s.changes) for s in finished] == [("done", 12, 12)]
    assert [s.worker for s in finished[0].shards.all()] == [this_process()] * 2
    # A small fleet is one shard: the unsharded sweep, no helper asked.
    settings.SWEEP_NODES_PER_SHARD = 500
    (again,) = sweep_team(personas.team.pk, lambda *_: pytest.fail("no helper for one shard"), workers=3)
    assert again.status == "done" and not again.shards.exists()


def test_it_tick_finishes_a_sweep_whose_finisher_died(personas, fleet, settings):
    settings.ALLOW_ANY_NODE_URL = True
    settings.SWEEP_TIMEOUT_SECONDS = 1
    nodes = register(personas.team, fleet.urls)
    sweep = start_sharded_sweep(personas.team.pk, [n.pk for n in nodes], 2)
    while (shard := claim_shard(sweep.pk, "dies-before-finishing")) is not None:
        assert run_shard(shard)
    assert Sweep.objects.get(pk=sweep.pk).status == "running"
    finished = sweep_team(personas.team.pk, lambda *_: pytest.fail("nothing to help"), workers=2)
    assert [(s.pk, s.status, s.done) for s in finished] == [(sweep.pk, "done", 12)]
    assert Sweep.objects.filter(team=personas.team).count() == 1  # not swept again


# ------------------------------------------------------------------ real workers, real Redis

WORKER_SETTINGS = {"FLUXPANEL_ALLOW_ANY_NODE_URL": "true", "SWEEP_NODES_PER_SHARD": "6",
                   "SWEEP_STALE_SECONDS": "5", "SWEEP_TIMEOUT_SECONDS": "20"}


@pytest.fixture
def worker_env():
    return WORKER_SETTINGS


@pytest.fixture
def second_worker(worker, redis_broker):
    """Another worker process (its own Celery node name) next to the `worker` fixture's."""
    process = start_worker_process(redis_broker, "secondworker", **WORKER_SETTINGS)
    yield process
    stop_process(process)  # nothing for a process the test killed


def wait_for_sweep(team, timeout=90) -> Sweep:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        sweep = Sweep.objects.filter(team=team).order_by("started_at").first()
        if sweep is not None and sweep.status != "running":
            return sweep
        time.sleep(0.2)
    pytest.fail(f"the sweep did not finish: {list(SweepShard.objects.values('index', 'status', 'worker'))}")


def each_node_once(team) -> bool:
    changes = list(StatusChange.objects.filter(team=team).values_list("node_id", "old_state", "new_state"))
    return sorted(changes) == sorted((n.pk, "unknown", "confirmed") for n in Node.objects.filter(team=team))


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_it_two_workers_share_the_shards(personas, fleet, worker, second_worker, settings):
    from apps.nodes.tasks import sweep_team_task

    settings.ALLOW_ANY_NODE_URL = True

    register(personas.team, fleet.urls)
    for index in range(len(fleet.urls)):
        fleet.inject(index, "slow", latency_ms=600)  # long enough for the other worker to claim
    sweep_team_task.delay(personas.team.pk)
    sweep = wait_for_sweep(personas.team)
    assert (sweep.status, sweep.done, sweep.failed, sweep.changes) == ("done", 12, 0, 12)
    shards = list(sweep.shards.order_by("index"))
    assert [s.status for s in shards] == ["done", "done"]
    assert sorted(s.worker.split("@")[0] for s in shards) == ["secondworker", "testworker"]
    assert each_node_once(personas.team)


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_it_takes_again_the_shard_of_a_killed_worker(personas, fleet, worker, second_worker, settings):
    from apps.nodes.tasks import sweep_team_task

    settings.ALLOW_ANY_NODE_URL = True

    nodes = register(personas.team, fleet.urls)
    AlertRule.objects.create(team=personas.team, kind=AlertRule.Kind.NODE_DOWN)
    fleet.inject(0, "hang")  # keeps shard 0's worker busy until it is killed
    fleet.inject(11, "down")
    sweep_team_task.delay(personas.team.pk)
    deadline = time.monotonic() + 60
    while not SweepShard.objects.filter(index=0, status="running").exclude(worker="").exists():
        assert time.monotonic() < deadline, "shard 0 was never claimed"
        time.sleep(0.1)
    doomed = SweepShard.objects.get(index=0)
    victim = worker if doomed.worker.startswith("testworker@") else second_worker
    survivor = second_worker if victim is worker else worker
    assert int(doomed.worker.split("/")[1]) == victim.pid
    time.sleep(1)
    os.kill(victim.pid, signal.SIGKILL)
    victim.wait()
    fleet.clear(0)
    # Shard 1 finishes; the sweep waits for shard 0, whose heartbeat now lapses (5 s here).
    deadline = time.monotonic() + 60
    while not SweepShard.objects.filter(index=1, status="done").exists():
        assert time.monotonic() < deadline and survivor.poll() is None, "shard 1 did not finish"
        time.sleep(0.2)
    assert Sweep.objects.get(team=personas.team).status == "running"
    time.sleep(6)
    sweep_team_task.delay(personas.team.pk)  # the team's next tick, as beat sends it
    sweep = wait_for_sweep(personas.team)
    assert (sweep.status, sweep.done, sweep.failed) == ("done", 12, 1)
    assert Sweep.objects.filter(team=personas.team).count() == 1  # taken again, not started over
    again = SweepShard.objects.get(pk=doomed.pk)
    assert again.status == "done" and again.attempts == 2
    assert int(again.worker.split("/")[1]) == survivor.pid
    assert NodeSnapshot.objects.filter(team=personas.team, checked_at__isnull=False).count() == 12
    assert StatusChange.objects.filter(team=personas.team).count() == 12  # one per node, none twice
    down = AlertDelivery.objects.filter(team=personas.team)
    assert list(down.values_list("node_id", "kind")) == [(nodes[11].pk, "firing")]
