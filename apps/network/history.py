"""The team's fleet over time, for the pictures: node counts by state (rebuilt backwards from the
current snapshots through the StatusChange rows) and FluxOS versions (the FleetDay rows this app
writes once a day, plus now). Bounded: at most MAX_CHANGES changes and MAX_DAYS days, a fixed
number of queries whatever the fleet size."""
from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import Count
from django.utils import timezone

from apps.network.models import FleetDay
from apps.nodes.models import NodeSnapshot, NodeState, StatusChange

SPAN = timedelta(days=7)
MAX_CHANGES = 5000
MAX_DAYS = 30
MAX_NODES = 10_000
GOOD = NodeState.CONFIRMED


def state_counts(team) -> dict[str, int]:
    rows = NodeSnapshot.objects.filter(team=team).values("state").annotate(n=Count("pk")).order_by()
    return {row["state"]: row["n"] for row in rows}


def state_series(team, *, now: datetime | None = None) -> list[tuple[datetime, dict]]:
    """(time, counts per state) oldest first, from SPAN ago to now: each change walked back from
    the current counts. Older history than MAX_CHANGES changes starts the series later."""
    now = now or timezone.now()
    counts = state_counts(team)
    changes = (StatusChange.objects.filter(team=team, at__gte=now - SPAN).order_by("-at", "-pk")
               .values_list("at", "old_state", "new_state")[:MAX_CHANGES])
    points = [(now, dict(counts))]
    for at, old, new in changes:
        points.append((at, dict(counts)))  # what held from this change on
        counts[new] = max(0, counts.get(new, 0) - 1)
        counts[old] = counts.get(old, 0) + 1
        points.append((at - timedelta(microseconds=1), dict(counts)))
    if len(changes) < MAX_CHANGES:
        points.append((now - SPAN, dict(counts)))
    points.reverse()
    return points


def snapshot_versions(team) -> dict[str, int]:
    """Nodes per FluxOS version now (the last answered version of a silent node)."""
    rows = (NodeSnapshot.objects.filter(team=team).order_by("pk")
            .values_list("version", "last_known")[:MAX_NODES])
    versions: dict[str, int] = {}
    for version, known in rows:
        version = version or (known or {}).get("version") or ""
        if version:
            versions[version] = versions.get(version, 0) + 1
    return versions


def version_series(team, current: dict[str, int], *, now: datetime | None = None):
    """(time, versions) per recorded day (noon), oldest first, then now."""
    now = now or timezone.now()
    days = list(FleetDay.objects.filter(team=team, day__gte=(now - timedelta(days=MAX_DAYS)).date())
                .order_by("-day").values_list("day", "versions")[:MAX_DAYS])
    today = timezone.localdate(now)
    points = [(timezone.make_aware(datetime.combine(day, datetime.min.time())) + timedelta(hours=12),
               versions) for day, versions in reversed(days) if day != today]
    points.append((now, current))
    return points


def record_day(team, *, now: datetime | None = None) -> FleetDay:
    """Today's FleetDay of the team (written by the beat task)."""
    now = now or timezone.now()
    row, _ = FleetDay.objects.update_or_create(
        team=team, day=timezone.localdate(now),
        defaults={"states": state_counts(team), "versions": snapshot_versions(team)})
    return row
