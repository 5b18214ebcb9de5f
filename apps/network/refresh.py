"""The cached network figures: read them, and refresh them when older than NETWORK_STATS_TTL_S.

One NetworkStats row per configured API URL. A refresh takes a lease on the row with one
conditional UPDATE (so two pages or a page and the beat task never ask at once), asks the stats
API once (bounded by statsapi's cap and deadline), and either replaces the figures or keeps them,
marked stale with the human reason (reasons.explain / reasons.garbage).
"""
from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from apps.network import parse, statsapi
from apps.network.models import NetworkStats
from apps.nodes.models import Node
from fluxpanel.fluxos.client.addresses import parse_node_address
from fluxpanel.fluxos.client.errors import FluxClientError
from fluxpanel.fluxos.client.reasons import explain, garbage
from fluxpanel.netguard import PeerError

MAX_WANTED_IPS = 20_000


def current_row() -> NetworkStats | None:
    return NetworkStats.objects.filter(api_url=settings.FLUX_STATS_API_URL).first()


def is_due(row: NetworkStats | None, now=None) -> bool:
    if row is None or row.checked_at is None:
        return True
    now = now or timezone.now()
    return now - row.checked_at >= timedelta(seconds=settings.NETWORK_STATS_TTL_S)


def node_ip(address: str) -> str | None:
    try:
        found = parse_node_address(address)
    except ValueError:
        return None
    return f"{found.host}:{found.api_port}"


def wanted_ips() -> frozenset:
    """The ip keys of the nodes registered in the panel (any team), for the benchmark standing."""
    addresses = Node.objects.order_by("pk").values_list("address", flat=True)[:MAX_WANTED_IPS]
    return frozenset(filter(None, map(node_ip, addresses)))


def _take_lease(now) -> bool:
    NetworkStats.objects.get_or_create(api_url=settings.FLUX_STATS_API_URL)
    lease = timedelta(seconds=settings.NETWORK_STATS_DEADLINE_S + 15)
    free = Q(refreshing_since__isnull=True) | Q(refreshing_since__lt=now - lease)
    return bool(NetworkStats.objects.filter(free, api_url=settings.FLUX_STATS_API_URL)
                .update(refreshing_since=now))


def fetch_figures() -> parse.Figures:
    """Ask the stats API; raises FluxClientError/PeerError (transport, HTTP) or parse.Garbage."""
    return parse.figures_of(statsapi.stats_client().fluxinfo(), wanted_ips())


def refresh(*, force: bool = False) -> NetworkStats:
    """Refresh the row when due (or forced) and nobody else is; return the row as it is then."""
    now = timezone.now()
    if not (force or is_due(current_row(), now)) or not _take_lease(now):
        return current_row()
    try:
        figures = fetch_figures()
    except parse.Garbage as exc:
        outcome = {"stale": True, **_reason(garbage("the stats API's answer", str(exc)))}
    except (FluxClientError, PeerError) as exc:
        outcome = {"stale": True, **_reason(explain(exc))}
    else:
        outcome = {"stale": False, "reason": "", "reason_detail": "", "figures": figures.as_json(),
                   "fetched_at": timezone.now()}
    NetworkStats.objects.filter(api_url=settings.FLUX_STATS_API_URL).update(
        checked_at=timezone.now(), refreshing_since=None, **outcome)
    return current_row()


def _reason(reason) -> dict:
    return {"reason": reason.short[:300], "reason_detail": reason.detail[:500]}
