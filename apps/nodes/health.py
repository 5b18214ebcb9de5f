"""Turn one node's `/flux/info` (or the error that came instead) into a snapshot. No database.

One request per node per sweep: `/flux/info` carries the daemon's view (height), the node's
network status (CONFIRMED, last confirmed height, tier), benchmarks, FluxOS version, DOS state,
Arcane, and running apps, which keeps a 10,000-node sweep within its time budget.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from fluxpanel.fluxos.client import (
    BadResponse,
    FluxError,
    NodeClient,
    NodeTimeout,
    NodeUnreachable,
)

# A node must confirm every 480–600 blocks; FluxOS refuses chain maintenance with fewer than 30
# blocks left before the window (fluxService streamChainPreparation). Blocks come every 30 s.
CONFIRMATION_BLOCKS = 480
BLOCK_SECONDS = 30
# The daemon counts as synced when fewer than this many blocks behind (FluxOS's own dashboard rule).
SYNCED_LAG = 5


@dataclass
class Probe:
    """What one sweep learned about one node."""

    state: str
    reason: str = ""
    version: str = ""
    tier: str = ""
    flux_status: str = ""
    height: int | None = None
    last_confirmed_height: int | None = None
    benchmark_status: str = ""
    arcane: bool | None = None
    apps_running: int | None = None
    detail: dict = field(default_factory=dict)

    @property
    def answered(self) -> bool:
        return self.state not in ("down", "error")


def probe_node(client: NodeClient) -> Probe:
    """Ask one node for /flux/info and interpret it; every failure becomes a precise reason."""
    try:
        info = client.info()
    except NodeTimeout as exc:
        seconds = client.timeout[0] if exc.phase == "connect" else client.timeout[1]
        return Probe("down", f"No answer within {seconds:g} s ({exc.phase} timeout)")
    except NodeUnreachable as exc:
        return Probe("down", f"Unreachable: {exc.message}")
    except BadResponse as exc:
        status = f"HTTP {exc.http_status}: " if exc.http_status else ""
        return Probe("error", f"Bad response: {status}{exc.message}"[:300])
    except FluxError as exc:
        return Probe("error", f"FluxOS error: {exc.message}"[:300])
    try:
        return interpret_info(info)
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        return Probe("error", f"Unexpected /flux/info shape: {type(exc).__name__} {exc}"[:300])


def interpret_info(info: dict) -> Probe:
    node_status = info["node"]["status"] or {}
    flux = info["flux"]
    daemon = info["daemon"]["info"]
    bench = info.get("benchmark") or {}
    apps = info.get("apps") or {}
    dos_state = (flux.get("dos") or {}).get("dosState") or 0
    status_word = str(node_status.get("status", "")).upper()
    if dos_state or status_word == "DOS":
        state, reason = "dos", (flux.get("dos") or {}).get("dosMessage") or "Node is in DOS state"
    elif status_word == "CONFIRMED":
        state, reason = "confirmed", ""
    else:
        state, reason = "unconfirmed", f"Network status {status_word or 'unknown'}"
    bench_status = bench.get("status") or {}
    running = apps.get("runningapps")
    geolocation = info.get("geolocation") or {}
    return Probe(
        state=state,
        reason=reason,
        version=str(flux.get("version", ""))[:32],
        tier=str(node_status.get("tier", "") or (bench.get("bench") or {}).get("status", ""))[:16],
        flux_status=status_word[:32],
        height=_int(daemon.get("blocks")),
        last_confirmed_height=_int(node_status.get("last_confirmed_height")),
        benchmark_status=str(bench_status.get("benchmarking", ""))[:32],
        arcane="arcaneVersion" in flux,
        apps_running=len(running) if isinstance(running, list) else None,
        detail={
            "ip": flux.get("ip"),
            "zelid": flux.get("zelid"),
            "payment_address": node_status.get("payment_address"),
            "rank": node_status.get("rank"),
            "activesince": node_status.get("activesince"),
            "country": geolocation.get("country"),
            "org": geolocation.get("org"),
            "connections_out": flux.get("numberOfConnectionsOut"),
            "connections_in": flux.get("numberOfConnectionsIn"),
            "apps": sorted({_app_name(c) for c in running or [] if _app_name(c)})[:50],
            "usage": apps.get("fluxusage"),
        },
    )


def maintenance_blocks(height: int | None, last_confirmed_height: int | None) -> int | None:
    """Blocks left before the node must confirm again (never below zero)."""
    if height is None or last_confirmed_height is None or last_confirmed_height <= 0:
        return None
    return max(0, CONFIRMATION_BLOCKS - (height - last_confirmed_height))


def version_key(version: str) -> tuple:
    parts = []
    for piece in (version or "").split("."):
        digits = "".join(ch for ch in piece if ch.isdigit())
        parts.append(int(digits) if digits else 0)
    return tuple(parts)


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _app_name(container: dict) -> str:
    names = container.get("Names") or []
    name = names[0].lstrip("/") if names else ""
    for prefix in ("flux", "zel"):
        if name.startswith(prefix):
            name = name[len(prefix):]
    return name.split("_")[-1] if "_" in name else name
