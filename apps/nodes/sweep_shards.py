"""A team's sweep split across the worker processes that are alive: one shard per process.

A big fleet's sweep is bound by one process's CPU (the HTTP client, under one GIL) and by its
thread pool (`SWEEP_CONCURRENCY` probes in flight), so it is cut into contiguous ranges of node
ids, one `SweepShard` row each. The task that starts the sweep sweeps a shard itself and enqueues
one helper task per other shard; a helper claims any pending shard (a conditional UPDATE, the same
on SQLite and PostgreSQL), sweeps it, writes its results under that claim and then looks for the
next. A process works one shard at a time (a second shard in the same process would only share
its GIL), and the helper that finishes the last shard finishes the Sweep: it corrects the height
lags to the whole fleet's height, sums the counts and sends `sweep_finished`, once.

A shard whose process died keeps a lapsed heartbeat; the team's next tick (beat, every interval)
finds it and another process takes it again, at most SWEEP_SHARD_ATTEMPTS times; after that the
sweep is left to go stale and the next tick starts a fresh one, as for an unsharded sweep.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from apps.nodes.models import Node, NodeSnapshot, NodeState, StatusChange, Sweep, SweepShard
from apps.nodes.probe import maintenance_blocks, network_height
from apps.nodes.sweep import claim_sweep, probe_all, run_sweep, sweep_finished, write_results

log = logging.getLogger(__name__)

# Ranges cover every id, so a node registered while the sweep runs still falls in a shard.
LAST_NODE_ID = 2**63 - 1
_one_shard_at_a_time = threading.Lock()  # per process


def plan_shard_count(node_count: int, workers: int, per_shard: int) -> int:
    """One shard per live worker, but none smaller than `per_shard` nodes (so a small fleet is one
    shard, swept in one process without the shards' bookkeeping)."""
    return max(1, min(workers, node_count // max(1, per_shard)))


def split_ranges(node_ids: list[int], count: int) -> list[tuple[int, int, int]]:
    """Contiguous (first id, last id, nodes) ranges of sorted `node_ids`, sizes differing by at most
    one; the first starts at 0 and the last ends at LAST_NODE_ID, so together they cover every id."""
    count = max(1, min(count, len(node_ids) or 1))
    size, extra = divmod(len(node_ids), count)
    ranges, start = [], 0
    for index in range(count):
        end = start + size + (1 if index < extra else 0)
        first = 0 if index == 0 else node_ids[start]
        last = LAST_NODE_ID if index == count - 1 else node_ids[end] - 1
        ranges.append((first, last, end - start))
        start = end
    return ranges


def live_worker_count() -> int:
    """Worker processes with a fresh heartbeat, by Celery node name (a restarted worker's old row is
    not a second worker)."""
    from apps.jobs.models import ProcessHeartbeat

    fresh = timezone.now() - timedelta(seconds=settings.WORKER_STALE_SECONDS)
    return (ProcessHeartbeat.objects.filter(role=ProcessHeartbeat.Role.WORKER, last_seen__gte=fresh)
            .values("hostname").distinct().count())


def this_process() -> str:
    from apps.jobs.heartbeat import process_identity

    return process_identity()


Enqueue = Callable[[int, int], None]  # (sweep id, helpers)


def sweep_team(team_id: int, enqueue_helpers: Enqueue, *, workers: int | None = None) -> list[Sweep]:
    """The team's tick: resume a sharded sweep whose shard lost its worker, else start a sweep,
    sharded when the fleet and the live workers call for it. Returns the sweeps this call finished
    (done), for the caller's alert evaluation."""
    running = Sweep.objects.filter(team_id=team_id, status=Sweep.Status.RUNNING).order_by("-started_at").first()
    if running is not None and (finished := finish_if_complete(running.pk)) is not None:
        return [finished]  # every shard was written but its finisher died before finishing
    resumable = resumable_sweep(running)
    if resumable is not None:
        sweep, waiting = resumable
        log.warning("sweep %s: %d shard(s) lost their worker; taking them again", sweep.pk, waiting)
        if waiting > 1:
            enqueue_helpers(sweep.pk, waiting - 1)
        return help_sweep(sweep.pk)
    node_ids = list(Node.objects.filter(team_id=team_id).order_by("pk").values_list("pk", flat=True))
    workers = live_worker_count() if workers is None else workers
    count = plan_shard_count(len(node_ids), workers, settings.SWEEP_NODES_PER_SHARD)
    if count == 1:
        sweep = run_sweep(team_id)
        return [sweep] if sweep is not None and sweep.status == Sweep.Status.DONE else []
    sweep = start_sharded_sweep(team_id, node_ids, count)
    if sweep is None:
        return []
    enqueue_helpers(sweep.pk, count - 1)
    return help_sweep(sweep.pk)


def start_sharded_sweep(team_id: int, node_ids: list[int], count: int) -> Sweep | None:
    """Claim the team's sweep (as an unsharded one does) and record its shards, in one transaction."""
    with transaction.atomic():
        sweep = claim_sweep(team_id, len(node_ids))
        if sweep is None:
            return None
        SweepShard.objects.bulk_create([
            SweepShard(sweep=sweep, index=index, first_node=first, last_node=last, nodes=nodes)
            for index, (first, last, nodes) in enumerate(split_ranges(node_ids, count))
        ])
    return sweep


def resumable_sweep(sweep: Sweep | None) -> tuple[Sweep, int] | None:
    """The team's running sweep when it has shards no live process holds (pending, or running with
    a lapsed heartbeat) that may still be tried again, and how many; its heartbeat is renewed so the
    tick does not take the whole sweep over meanwhile."""
    if sweep is None:
        return None
    waiting = _claimable(sweep.pk).count()
    if not waiting:
        return None
    Sweep.objects.filter(pk=sweep.pk, status=Sweep.Status.RUNNING).update(heartbeat_at=timezone.now())
    return sweep, waiting


def _claimable(sweep_id: int | None = None):
    stale_before = timezone.now() - timedelta(seconds=settings.SWEEP_STALE_SECONDS)
    shards = SweepShard.objects.filter(
        Q(status=SweepShard.Status.PENDING)
        | Q(status=SweepShard.Status.RUNNING, heartbeat_at__lt=stale_before),
        attempts__lt=settings.SWEEP_SHARD_ATTEMPTS, sweep__status=Sweep.Status.RUNNING,
    )
    return shards.filter(sweep_id=sweep_id) if sweep_id is not None else shards


def claim_shard(sweep_id: int | None, worker: str) -> SweepShard | None:
    """Take one claimable shard, of `sweep_id` first, then of any running sweep. The UPDATE repeats
    what was seen (status, attempts, the lapsed heartbeat), so of two processes only one wins."""
    stale_before = timezone.now() - timedelta(seconds=settings.SWEEP_STALE_SECONDS)
    for scope in ([sweep_id, None] if sweep_id is not None else [None]):
        for pk, status, attempts in _claimable(scope).order_by("sweep_id", "index").values_list(
                "pk", "status", "attempts")[:20]:
            seen = SweepShard.objects.filter(pk=pk, status=status, attempts=attempts)
            if status == SweepShard.Status.RUNNING:
                seen = seen.filter(heartbeat_at__lt=stale_before)
            if seen.update(status=SweepShard.Status.RUNNING, worker=worker, attempts=attempts + 1,
                           heartbeat_at=timezone.now()):
                return SweepShard.objects.select_related("sweep").get(pk=pk)
    return None


def help_sweep(sweep_id: int | None, *, worker: str | None = None) -> list[Sweep]:
    """Sweep shards until none is left to claim; returns the sweeps this process finished. A process
    already sweeping a shard returns at once: its running loop takes the remaining shards next."""
    if not _one_shard_at_a_time.acquire(blocking=False):
        return []
    worker = worker or this_process()
    finished = []
    try:
        while (shard := claim_shard(sweep_id, worker)) is not None:
            if run_shard(shard) and (sweep := finish_if_complete(shard.sweep_id)) is not None:
                finished.append(sweep)
    finally:
        _one_shard_at_a_time.release()
    return finished


def run_shard(shard: SweepShard, *, concurrency: int | None = None) -> bool:
    """Probe the shard's nodes and write them under its claim; False when it was taken over."""
    sweep = shard.sweep
    nodes = list(Node.objects.filter(team_id=sweep.team_id, pk__gte=shard.first_node,
                                     pk__lte=shard.last_node).values_list("pk", "base_url"))

    def beat(done: int) -> None:
        now = timezone.now()
        SweepShard.objects.filter(pk=shard.pk, attempts=shard.attempts,
                                  status=SweepShard.Status.RUNNING).update(heartbeat_at=now, done=done)
        # The sweep row stays the team's lock while any of its shards is alive.
        Sweep.objects.filter(pk=sweep.pk, status=Sweep.Status.RUNNING).update(heartbeat_at=now)

    probes = probe_all(sweep, nodes, concurrency or settings.SWEEP_CONCURRENCY, beat=beat)
    return write_results(sweep.team_id, probes, sweep=sweep, shard=shard) is not None


def finish_if_complete(sweep_id: int) -> Sweep | None:
    """Finish the sweep when every shard is done: lags against the whole fleet's height, the summed
    counts, `done`, then sweep_finished. The conditional UPDATE lets only one caller finish it."""
    with transaction.atomic():
        sweep = Sweep.objects.select_for_update().get(pk=sweep_id)
        shards = list(sweep.shards.all())
        if not shards or sweep.status != Sweep.Status.RUNNING or any(s.status != SweepShard.Status.DONE for s in shards):
            return None
        correct_height_lags(sweep, shards)
        finished = Sweep.objects.filter(pk=sweep_id, status=Sweep.Status.RUNNING).update(
            status=Sweep.Status.DONE, finished_at=timezone.now(), done=sum(s.done for s in shards),
            failed=sum(s.failed for s in shards), changes=sum(s.changes for s in shards))
        if not finished:
            return None
    sweep.refresh_from_db()
    changed = sorted(set(StatusChange.objects.filter(team_id=sweep.team_id, at__gte=sweep.started_at)
                         .values_list("node_id", flat=True)))
    sweep_finished.send(sender=Sweep, sweep=sweep, team_id=sweep.team_id, changed_node_ids=changed)
    return sweep


def correct_height_lags(sweep: Sweep, shards: list[SweepShard]) -> int:
    """Each shard measured lags against its own nodes' height; where that differs from the whole
    fleet's (the same rule as an unsharded sweep), recompute that shard's lags and windows."""
    rows = list(NodeSnapshot.objects.filter(team_id=sweep.team_id, checked_at__gte=sweep.started_at)
                .values_list("node_id", "state", "height", "last_confirmed_height",
                             "height_lag", "maintenance_blocks"))
    fleet_height = network_height([height for _, state, height, *_ in rows if NodeState.answered(state) and height])
    off = [(s.first_node, s.last_node) for s in shards if s.fleet_height != fleet_height]
    fixed = []
    for node_id, _, height, confirmed, lag, blocks in rows:
        if not any(first <= node_id <= last for first, last in off):
            continue
        new_lag = max(0, fleet_height - height) if fleet_height and height else None
        new_blocks = maintenance_blocks(fleet_height or height, confirmed)
        if (new_lag, new_blocks) != (lag, blocks):
            fixed.append(NodeSnapshot(node_id=node_id, height_lag=new_lag, maintenance_blocks=new_blocks))
    if fixed:
        # node_id is the snapshot's primary key (one-to-one), so these rows update by it.
        NodeSnapshot.objects.bulk_update(fixed, ["height_lag", "maintenance_blocks"], batch_size=500)
    return len(fixed)
