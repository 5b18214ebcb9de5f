"""Stats of a team app's containers (issue 15, item 5): samples the panel takes while someone
watches the Stats page, one per instance × component, kept OPERATIONS_STATS_KEEP_S.

A round asks every container's `/apps/appstats` (docker's one-shot stats plus FluxOS's
`disk_stats`) in parallel and waits at most `budget_s()` in all; a node that is down, slow or
answers garbage gives its container a reason (reasons.explain's words) and the others are still
sampled. Nodes are untrusted: every figure is checked (a number, not negative, not absurd) and a
wrong one is stored as None, never a crash. However many people watch, an app is sampled at most
every MIN_INTERVAL_S: a poll that comes sooner reads what the last round wrote.

Reading stats is for viewers too, with the team's credentials (`read_only=True`), like logs.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from apps.nodes.clients import node_client
from apps.operations.logs import Stream, streams_of
from apps.operations.models import StatsSample
from apps.operations.operations import ask_all

MIN_INTERVAL_S = 4  # an app is sampled at most this often, whoever watches
MAX_CONTAINERS = 60  # instance × component series sampled and drawn per app
MAX_BODY = 1024 * 1024  # one docker stats answer is a few kB
MAX_BYTES = 2**62  # cumulative counters (fits a BigIntegerField)
MAX_NS = 2**64  # docker's CPU times: nanoseconds, uint64
MAX_SIZE = 2**50  # a memory or disk figure above 1 PiB is not a real one (docker's "no limit")
MAX_CPUS = 4096
ROUND_KEY = "operations.stats.round:{}"


def budget_s() -> float:
    return float(settings.OPERATIONS_STATS_BUDGET_S)


# ---------------------------------------------------------------------------- parsing


def number(value, limit: float) -> float | None:
    """`value` when it is a finite number in 0 … limit (JSON booleans are not numbers), else None."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if not math.isfinite(value) or value < 0 or value > limit:
        return None
    return value


def whole(value, limit: float = MAX_BYTES) -> int | None:
    checked = number(value, limit)
    return None if checked is None else int(checked)


def _dict(value) -> dict:
    return value if isinstance(value, dict) else {}


def cpu_percent(stats: dict) -> float | None:
    """Docker's figure (`docker stats`): the container's CPU time over the host's in the interval
    between the two readings, times the online CPUs, in %. None when it cannot be computed."""
    now, before = _dict(stats.get("cpu_stats")), _dict(stats.get("precpu_stats"))
    total = whole(_dict(now.get("cpu_usage")).get("total_usage"), MAX_NS)
    total_before = whole(_dict(before.get("cpu_usage")).get("total_usage"), MAX_NS)
    system = whole(now.get("system_cpu_usage"), MAX_NS)
    system_before = whole(before.get("system_cpu_usage"), MAX_NS)
    cpus = whole(now.get("online_cpus"), MAX_CPUS)
    if not cpus:  # older engines: the length of percpu_usage
        per_cpu = _dict(now.get("cpu_usage")).get("percpu_usage")
        cpus = len(per_cpu) if isinstance(per_cpu, list) and 0 < len(per_cpu) <= MAX_CPUS else None
    if None in (total, total_before, system, system_before) or not cpus:
        return None
    cpu_delta, system_delta = total - total_before, system - system_before
    if system_delta <= 0 or cpu_delta < 0:  # first reading, or a restart between the two
        return None
    percent = cpu_delta / system_delta * cpus * 100
    return round(percent, 2) if percent <= cpus * 100 else None


def memory_used(memory: dict) -> int | None:
    """Usage without the page cache, as `docker stats` shows it (cgroup v1 and v2)."""
    usage = whole(memory.get("usage"), MAX_SIZE)
    if usage is None:
        return None
    detail = _dict(memory.get("stats"))
    for name in ("total_inactive_file", "inactive_file", "cache"):
        cached = whole(detail.get(name), MAX_SIZE)
        if cached is not None and cached <= usage:
            return usage - cached
    return usage


def network_totals(networks) -> tuple[int | None, int | None]:
    """Received and sent bytes summed over every interface; None when not reported."""
    if not isinstance(networks, dict) or not networks:
        return None, None
    totals = []
    for name in ("rx_bytes", "tx_bytes"):
        values = [whole(_dict(interface).get(name)) for interface in list(networks.values())[:64]]
        totals.append(None if None in values else min(sum(values), MAX_BYTES))
    return totals[0], totals[1]


def block_totals(blkio) -> tuple[int | None, int | None]:
    """Block bytes read and written (`io_service_bytes_recursive`: "Read"/"Write" on cgroup v1,
    "read"/"write" on v2; null on some v2 engines)."""
    entries = _dict(blkio).get("io_service_bytes_recursive")
    if not isinstance(entries, list):
        return None, None
    sums = {"read": 0, "write": 0}
    for entry in entries[:256]:
        op = str(_dict(entry).get("op", "")).lower()
        if op in sums:
            value = whole(entry.get("value"))
            if value is None:
                return None, None
            sums[op] = min(sums[op] + value, MAX_BYTES)
    return sums["read"], sums["write"]


def parse(stats) -> dict:
    """The StatsSample fields of one `/apps/appstats` answer; a figure that is missing, not a
    number, negative or absurd is None."""
    stats = _dict(stats)
    memory = _dict(stats.get("memory_stats"))
    rx, tx = network_totals(stats.get("networks"))
    read, write = block_totals(stats.get("blkio_stats"))
    return {
        "cpu_percent": cpu_percent(stats),
        "memory_used": memory_used(memory),
        "memory_limit": whole(memory.get("limit"), MAX_SIZE) or None,  # 0 = no limit
        "net_rx": rx, "net_tx": tx, "disk_read": read, "disk_write": write,
        "disk_used": whole(_dict(stats.get("disk_stats")).get("used"), MAX_SIZE),
    }


# ---------------------------------------------------------------------------- sampling


@dataclass
class Round:
    """What one look at the app found: the containers, and why some could not be sampled."""

    containers: list[Stream]
    reasons: dict[str, str] = field(default_factory=dict)  # container key -> why no sample
    sampled: bool = False  # False: the last round was too recent (or nothing to ask)
    more: int = 0  # containers beyond MAX_CONTAINERS, not sampled


def containers_of(app, membership) -> tuple[list[Stream], int]:
    """The app's containers (one per instance × component, the logs' streams) with the team's
    read-only credentials; at most MAX_CONTAINERS, and how many more there are."""
    every = streams_of(app, membership)
    return every[:MAX_CONTAINERS], max(0, len(every) - MAX_CONTAINERS)


def _ask(app_name: str, container: Stream):
    client = node_client(container.base_url, zelidauth=container.zelidauth, timeout=(3.05, budget_s()),
                         deadline_s=budget_s(), max_body=MAX_BODY)
    return client.app_stats(app_name, container.component or None)


def newest_sample_at(app):
    return (StatsSample.objects.filter(instance__app=app).order_by("-taken_at")
            .values_list("taken_at", flat=True).first())


def _last_round(app) -> tuple[object, dict[str, str]]:
    """(when the app's last round ran, why containers were not sampled in it) — kept in the cache
    too, since a round where every node failed writes no sample to tell its time."""
    return cache.get(ROUND_KEY.format(app.pk)) or (None, {})


def last_reasons(app) -> dict[str, str]:
    """Why containers were not sampled in the app's last round (whoever's poll took it)."""
    return _last_round(app)[1]


def sample(app, membership, *, now=None) -> Round:
    """Take one sample of every container of `app`, unless the last round is under MIN_INTERVAL_S
    old; prune the app's samples older than OPERATIONS_STATS_KEEP_S."""
    now = now or timezone.now()
    containers, more = containers_of(app, membership)
    result = Round(containers, more=more)
    ran_at, reasons = _last_round(app)
    last = max(filter(None, (ran_at, newest_sample_at(app))), default=None)
    if last is not None and timedelta(0) <= now - last < timedelta(seconds=MIN_INTERVAL_S):
        result.reasons = reasons
        return result
    calls = {c.key: (lambda c=c: _ask(app.name, c)) for c in containers if not c.problem}
    answers = ask_all(calls, budget_s())
    rows = []
    for container in containers:
        answer, reason = answers.get(container.key, (None, container.problem))
        if reason:
            result.reasons[container.key] = reason
            continue
        rows.append(StatsSample(team_id=app.team_id, instance_id=container.instance_id,
                                component=container.component, taken_at=now, **parse(answer)))
    StatsSample.objects.bulk_create(rows)
    StatsSample.objects.filter(instance__app=app,
                               taken_at__lt=now - timedelta(seconds=settings.OPERATIONS_STATS_KEEP_S)).delete()
    cache.set(ROUND_KEY.format(app.pk), (now, result.reasons), settings.OPERATIONS_STATS_KEEP_S)
    result.sampled = bool(containers)
    return result


def recent_samples(app, containers: list[Stream], *, now=None) -> dict[str, list[StatsSample]]:
    """The last hour's samples of these containers, oldest first, by container key (one query)."""
    now = now or timezone.now()
    keys = {c.key for c in containers}
    by_key: dict[str, list[StatsSample]] = {key: [] for key in keys}
    rows = StatsSample.objects.filter(
        instance_id__in={c.instance_id for c in containers}, taken_at__gte=now - timedelta(hours=1),
    ).order_by("taken_at", "id")
    for row in rows:
        key = f"{row.instance_id}:{row.component}"
        if key in keys:
            by_key[key].append(row)
    return by_key
