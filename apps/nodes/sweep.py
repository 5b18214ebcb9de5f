"""Sweep a team's fleet: probe every node in parallel, write the snapshots in bulk, record changes.

Sweeps of one team never overlap: a running sweep row with a fresh heartbeat is the lock. A sweep
whose process died leaves a stale heartbeat; the next sweep marks it abandoned and does the whole
fleet again, so nothing stays half-swept.

Nodes are untrusted peers, so every bound is explicit: each probe has a (connect, read) timeout, a
total deadline and a body cap (the client's); the sweep as a whole stops waiting at a computed
limit and marks the stragglers down instead of waiting for them; one probe's exception or garbage
never fails the others. A sweep that was abandoned while it waited, and finishes late, writes
nothing (a newer sweep owns the snapshots by then).
"""
from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from concurrent.futures import ALL_COMPLETED, ThreadPoolExecutor, wait
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.dispatch import Signal
from django.utils import timezone

from apps.nodes.bulk_rows import write_rows
from apps.nodes.clients import node_client
from apps.nodes.models import Node, NodeSnapshot, NodeState, StatusChange, Sweep, SweepShard
from apps.nodes.probe import Probe, maintenance_blocks, network_height, probe_node
from fluxpanel.fluxos.client import reasons

log = logging.getLogger(__name__)

# Sent after a sweep wrote its results: sender=Sweep, team_id, changed_node_ids (state changed).
sweep_finished = Signal()

SNAPSHOT_FIELDS = [
    "team", "state", "reason", "reason_detail", "version", "tier", "flux_status", "height", "height_lag",
    "last_confirmed_height", "maintenance_blocks", "benchmark_status", "arcane", "apps_running",
    "detail", "last_known", "checked_at", "last_seen", "changed_at",
]
STATUS_CHANGE_FIELDS = ["node", "team", "old_state", "new_state", "reason", "reason_detail", "at"]
HEARTBEAT_EVERY_S = 2.0
# Slack on top of the sweep's computed limit (thread start-up, the odd slow DNS answer).
SWEEP_GRACE_S = 5.0
# /flux/info of a real node is 20–60 kB; anything near this is not a FluxOS answer.
PROBE_MAX_BYTES = 2 * 1024 * 1024


def sweep_timeout() -> tuple[float, float]:
    seconds = settings.SWEEP_TIMEOUT_SECONDS
    return (min(3.0, seconds), float(seconds))


def probe_deadline_s() -> float:
    """The longest one probe may take, connection and whole answer included."""
    connect, read = sweep_timeout()
    return connect + read


def probe_client_options() -> dict:
    """NodeClient options of a probe: timeouts, the total deadline (a node trickling one byte at a
    time is cut off at it) and the body cap (a 300 MB answer is refused, not read)."""
    return {"timeout": sweep_timeout(), "deadline_s": probe_deadline_s(), "max_body": PROBE_MAX_BYTES}


def sweep_limit_s(node_count: int, workers: int) -> float:
    """How long a sweep waits for its probes: every wave of `workers` probes at its deadline."""
    waves = math.ceil(node_count / max(1, workers)) if node_count else 0
    return waves * probe_deadline_s() + SWEEP_GRACE_S


def claim_sweep(team_id: int, node_count: int) -> Sweep | None:
    """Start a sweep unless one is alive for this team; take over a dead one."""
    now = timezone.now()
    stale_before = now - timedelta(seconds=settings.SWEEP_STALE_SECONDS)
    with transaction.atomic():
        running = list(Sweep.objects.select_for_update().filter(team_id=team_id, status=Sweep.Status.RUNNING))
        if any(s.heartbeat_at >= stale_before for s in running):
            return None
        for dead in running:
            dead.status = Sweep.Status.ABANDONED
            dead.finished_at = now
            dead.save(update_fields=["status", "finished_at"])
            # Its shards go with it: a late holder's conditional write then finds nothing to claim.
            SweepShard.objects.filter(sweep=dead, status__in=SweepShard.UNFINISHED).update(
                status=SweepShard.Status.ABANDONED)
            log.warning("sweep %s of team %s died; taking over", dead.pk, team_id)
        return Sweep.objects.create(team_id=team_id, nodes=node_count)


def run_sweep(team_id: int, *, concurrency: int | None = None) -> Sweep | None:
    """Sweep every node of the team. Returns the Sweep (done, or abandoned when a newer sweep took
    over while this one waited), or None when another sweep is running."""
    nodes = list(Node.objects.filter(team_id=team_id).values_list("pk", "base_url"))
    sweep = claim_sweep(team_id, len(nodes))
    if sweep is None:
        return None
    probes = probe_all(sweep, nodes, concurrency or settings.SWEEP_CONCURRENCY)
    changed = write_results(team_id, probes, sweep=sweep)
    if changed is None:
        sweep.refresh_from_db()
        return sweep
    Sweep.objects.filter(pk=sweep.pk, status=Sweep.Status.RUNNING).update(
        status=Sweep.Status.DONE, finished_at=timezone.now(), done=len(probes),
        failed=sum(1 for p in probes.values() if not p.answered), changes=len(changed),
    )
    sweep.refresh_from_db()
    sweep_finished.send(sender=Sweep, sweep=sweep, team_id=team_id, changed_node_ids=changed)
    return sweep


def _probe_one(pk: int, base_url: str, options: dict) -> Probe:
    try:
        return probe_node(node_client(base_url, **options))
    except Exception as exc:  # a bug or a surprise in one probe must not lose the whole sweep
        log.exception("probe of node %s crashed", pk)
        return Probe(NodeState.ERROR, "panel error while asking the node",
                     reason_detail=f"{type(exc).__name__}: {exc}"[:500])


def probe_all(sweep: Sweep, nodes: list[tuple[int, str]], concurrency: int,
              beat: Callable[[int], None] | None = None) -> dict[int, Probe]:
    """Probe every node; a node without a result when the sweep's limit comes is marked down and
    its thread abandoned (the client's own deadline ends it soon after). `beat(done)` is called
    every HEARTBEAT_EVERY_S while waiting (default: the sweep row's heartbeat)."""
    beat = beat or (lambda done: Sweep.objects.filter(pk=sweep.pk).update(
        heartbeat_at=timezone.now(), done=done))
    options = probe_client_options()
    workers = max(1, min(concurrency, len(nodes) or 1))
    limit_s = sweep_limit_s(len(nodes), workers)
    give_up_at = time.monotonic() + limit_s
    results: dict[int, Probe] = {}
    last_beat = time.monotonic()
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"sweep-{sweep.team_id}")
    try:
        futures = {pool.submit(_probe_one, pk, base_url, options): pk for pk, base_url in nodes}
        pending = set(futures)
        while pending:
            remaining = give_up_at - time.monotonic()
            if remaining <= 0:
                break
            # ALL_COMPLETED with a timeout wakes once per heartbeat, not once per finished probe:
            # wait() walks every pending future on each call, which per probe is quadratic.
            done, pending = wait(pending, timeout=min(HEARTBEAT_EVERY_S, remaining),
                                 return_when=ALL_COMPLETED)
            for future in done:
                results[futures[future]] = future.result()  # _probe_one never raises
            # Beat while waiting too: a sweep busy with slow nodes is alive, not dead.
            if time.monotonic() - last_beat >= HEARTBEAT_EVERY_S:
                last_beat = time.monotonic()
                beat(len(results))
        gave_up = reasons.gave_up(limit_s)
        for future in pending:
            results[futures[future]] = Probe(NodeState.DOWN, gave_up.short, reason_detail=gave_up.detail)
        if pending:
            log.warning("sweep %s gave up on %d node(s) after %g s", sweep.pk, len(pending), limit_s)
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    return results


def write_results(team_id: int, probes: dict[int, Probe], *, sweep: Sweep | None = None,
                  shard: SweepShard | None = None) -> list[int] | None:
    """Upsert one snapshot per node and one StatusChange per transition; returns changed node ids.

    With `sweep`, writes only while that sweep is still the team's running one (the row is locked
    for the check, as claim_sweep locks it to take over), and never over a snapshot checked after
    the sweep started; returns None when it wrote nothing for that reason. With `shard` (of that
    sweep), the check is the shard's own claim instead: one conditional UPDATE marks it done only
    while it still carries this holder's attempt, so each shard's results are written once.
    """
    heights = [p.height for p in probes.values() if p.answered and p.height]
    fleet_height = network_height(heights)
    with transaction.atomic():
        if shard is not None:
            # Not the sweep row's lock: shards of one sweep write side by side on PostgreSQL.
            held = SweepShard.objects.filter(
                pk=shard.pk, status=SweepShard.Status.RUNNING, attempts=shard.attempts,
            ).update(status=SweepShard.Status.DONE, finished_at=timezone.now(), done=len(probes),
                     failed=sum(1 for p in probes.values() if not p.answered), fleet_height=fleet_height)
            if not held:
                log.warning("%s was taken over; its late results are dropped", shard)
                return None
        elif sweep is not None:
            still_current = Sweep.objects.select_for_update().filter(
                pk=sweep.pk, status=Sweep.Status.RUNNING).exists()
            if not still_current:
                log.warning("sweep %s was taken over; its late results are dropped", sweep.pk)
                return None
        now = timezone.now()
        previous = {
            pk: (state, seen, checked)
            for pk, state, seen, checked in NodeSnapshot.objects.filter(team_id=team_id).values_list(
                "node_id", "state", "last_seen", "checked_at")
        }
        snapshots, changes = [], []
        for pk, probe in probes.items():
            if pk not in previous:
                continue  # deleted while the sweep ran (every node has a snapshot from the start)
            old_state, old_seen, old_checked = previous[pk]
            if sweep is not None and old_checked is not None and old_checked > sweep.started_at:
                continue  # a newer sweep already wrote this node
            height_lag = max(0, fleet_height - probe.height) if fleet_height and probe.height else None
            snapshots.append(NodeSnapshot(
                node_id=pk, team_id=team_id, state=probe.state, reason=probe.reason[:300],
                reason_detail=probe.reason_detail[:500], version=probe.version, tier=probe.tier, flux_status=probe.flux_status,
                height=probe.height, height_lag=height_lag,
                last_confirmed_height=probe.last_confirmed_height,
                maintenance_blocks=maintenance_blocks(fleet_height or probe.height, probe.last_confirmed_height),
                benchmark_status=probe.benchmark_status, arcane=probe.arcane,
                apps_running=probe.apps_running, detail=probe.detail, checked_at=now,
                last_known=last_known(probe) if probe.answered else {},
                last_seen=now if probe.answered else old_seen,
                changed_at=now,
            ))
            if old_state != probe.state:
                changes.append(StatusChange(
                    node_id=pk, team_id=team_id, old_state=old_state, new_state=probe.state,
                    reason=probe.reason[:300], reason_detail=probe.reason_detail[:500], at=now,
                ))
        # changed_at must keep its old value for unchanged nodes: upsert it only for the changed
        # ones; a node without an answer keeps its last-known facts (not in its update fields).
        changed_ids = {c.node_id for c in changes}
        for changed in (False, True):
            for answered in (False, True):
                fields = [f for f in SNAPSHOT_FIELDS if (changed or f != "changed_at")
                          and (answered or f != "last_known")]
                _upsert([s for s in snapshots if (s.node_id in changed_ids) == changed
                         and NodeState.answered(s.state) == answered], fields)
        write_rows(StatusChange, changes, STATUS_CHANGE_FIELDS)
        if shard is not None:
            SweepShard.objects.filter(pk=shard.pk).update(changes=len(changes))
    return sorted(changed_ids)


def last_known(probe: Probe) -> dict:
    """The facts a silent node keeps showing (as of its last answer): tier, version, owner, apps."""
    return {"version": probe.version, "tier": probe.tier, "arcane": probe.arcane,
            "apps_running": probe.apps_running, "zelid": probe.detail.get("zelid"),
            "apps": probe.detail.get("apps") or []}


def _upsert(rows: list[NodeSnapshot], fields: list[str]) -> None:
    write_rows(NodeSnapshot, rows, ["node", *SNAPSHOT_FIELDS], conflict="node", update=fields)
