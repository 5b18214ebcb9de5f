"""Sweep a team's fleet: probe every node in parallel, write the snapshots in bulk, record changes.

Sweeps of one team never overlap: a running sweep row with a fresh heartbeat is the lock. A sweep
whose process died leaves a stale heartbeat; the next sweep marks it abandoned and does the whole
fleet again, so nothing stays half-swept.
"""
from __future__ import annotations

import logging
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.dispatch import Signal
from django.utils import timezone

from apps.nodes.health import Probe, maintenance_blocks, probe_node
from apps.nodes.models import Node, NodeSnapshot, NodeState, StatusChange, Sweep
from fluxpanel.fluxos.client import NodeClient

log = logging.getLogger(__name__)

# Sent after a sweep wrote its results: sender=Sweep, team_id, changed_node_ids (state changed).
sweep_finished = Signal()

SNAPSHOT_FIELDS = [
    "team", "state", "reason", "version", "tier", "flux_status", "height", "height_lag",
    "last_confirmed_height", "maintenance_blocks", "benchmark_status", "arcane", "apps_running",
    "detail", "checked_at", "last_seen", "changed_at",
]
HEARTBEAT_EVERY_S = 2.0


def sweep_timeout() -> tuple[float, float]:
    seconds = settings.SWEEP_TIMEOUT_SECONDS
    return (min(3.0, seconds), float(seconds))


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
            log.warning("sweep %s of team %s died; taking over", dead.pk, team_id)
        return Sweep.objects.create(team_id=team_id, nodes=node_count)


def run_sweep(team_id: int, *, concurrency: int | None = None) -> Sweep | None:
    """Sweep every node of the team. Returns the finished Sweep, or None when one is running."""
    nodes = list(Node.objects.filter(team_id=team_id).values_list("pk", "base_url"))
    sweep = claim_sweep(team_id, len(nodes))
    if sweep is None:
        return None
    probes = probe_all(sweep, nodes, concurrency or settings.SWEEP_CONCURRENCY)
    changed = write_results(team_id, probes)
    Sweep.objects.filter(pk=sweep.pk).update(
        status=Sweep.Status.DONE, finished_at=timezone.now(), done=len(probes),
        failed=sum(1 for p in probes.values() if not p.answered), changes=len(changed),
    )
    sweep.refresh_from_db()
    sweep_finished.send(sender=Sweep, sweep=sweep, team_id=team_id, changed_node_ids=changed)
    return sweep


def probe_all(sweep: Sweep, nodes: list[tuple[int, str]], concurrency: int) -> dict[int, Probe]:
    timeout = sweep_timeout()
    results: dict[int, Probe] = {}
    last_beat = time.monotonic()
    with ThreadPoolExecutor(max_workers=max(1, min(concurrency, len(nodes) or 1))) as pool:
        futures = {
            pool.submit(probe_node, NodeClient(base_url, timeout=timeout)): pk for pk, base_url in nodes
        }
        for future in as_completed(futures):
            pk = futures[future]
            try:
                results[pk] = future.result()
            except Exception as exc:  # a bug in one probe must not lose the whole sweep
                log.exception("probe of node %s crashed", pk)
                results[pk] = Probe("error", f"Panel error while probing: {type(exc).__name__}")
            if time.monotonic() - last_beat > HEARTBEAT_EVERY_S:
                last_beat = time.monotonic()
                Sweep.objects.filter(pk=sweep.pk).update(heartbeat_at=timezone.now(), done=len(results))
    return results


def write_results(team_id: int, probes: dict[int, Probe]) -> list[int]:
    """Upsert one snapshot per node and one StatusChange per transition; returns changed node ids."""
    now = timezone.now()
    heights = [p.height for p in probes.values() if p.answered and p.height]
    network_height = max(heights) if heights else None
    previous = {
        pk: (state, seen)
        for pk, state, seen in NodeSnapshot.objects.filter(team_id=team_id).values_list(
            "node_id", "state", "last_seen"
        )
    }
    snapshots, changes = [], []
    for pk, probe in probes.items():
        old_state, old_seen = previous.get(pk, (NodeState.UNKNOWN, None))
        changed = old_state != probe.state
        snapshots.append(NodeSnapshot(
            node_id=pk, team_id=team_id, state=probe.state, reason=probe.reason,
            version=probe.version, tier=probe.tier, flux_status=probe.flux_status,
            height=probe.height,
            height_lag=(network_height - probe.height) if network_height and probe.height else None,
            last_confirmed_height=probe.last_confirmed_height,
            maintenance_blocks=maintenance_blocks(network_height or probe.height, probe.last_confirmed_height),
            benchmark_status=probe.benchmark_status, arcane=probe.arcane,
            apps_running=probe.apps_running, detail=probe.detail, checked_at=now,
            last_seen=now if probe.answered else old_seen,
            changed_at=now,
        ))
        if changed:
            changes.append(StatusChange(
                node_id=pk, team_id=team_id, old_state=old_state, new_state=probe.state,
                reason=probe.reason, at=now,
            ))
    # changed_at must keep its old value for unchanged nodes: upsert it only for the changed ones.
    changed_ids = {c.node_id for c in changes}
    unchanged = [s for s in snapshots if s.node_id not in changed_ids]
    fresh = [s for s in snapshots if s.node_id in changed_ids]
    with transaction.atomic():
        _upsert(unchanged, [f for f in SNAPSHOT_FIELDS if f != "changed_at"])
        _upsert(fresh, SNAPSHOT_FIELDS)
        StatusChange.objects.bulk_create(changes, batch_size=500)
    return sorted(changed_ids)


def _upsert(rows: list[NodeSnapshot], fields: list[str]) -> None:
    if rows:
        NodeSnapshot.objects.bulk_create(
            rows, batch_size=500, update_conflicts=True, unique_fields=["node"], update_fields=fields
        )
