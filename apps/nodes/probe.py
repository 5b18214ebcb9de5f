"""Turn one node's `/flux/info` (or the error that came instead) into a snapshot. No queries.

One request per node per sweep: `/flux/info` carries the daemon's view (height), the node's
network status (CONFIRMED, last confirmed height, tier), benchmarks, FluxOS version, DOS state,
Arcane, and running apps, which keeps a 10,000-node sweep within its time budget.

A node is an untrusted peer: every number it reports is checked against the range of the column
it goes to (a height of 1e20 once crashed the whole team's sweep at the database write), and the
extras kept for the node page are reduced to short scalars. What does not fit makes that node
"error: garbage"; it never reaches the database.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from apps.nodes.models import CONFIRMATION_BLOCKS, MAX_COLUMN_INT, NodeState
from fluxpanel.fluxos.client import (
    FluxClientError,
    NodeClient,
    NodeTimeout,
    NodeUnreachable,
    reasons,
)
from fluxpanel.fluxos.client.reasons import explain
from fluxpanel.netguard import PeerError

# The daemon counts as synced when fewer than this many blocks behind (FluxOS's own dashboard rule).
SYNCED_LAG = 5
DETAIL_TEXT_MAX = 120  # characters of one extra shown on the node page
DETAIL_APPS_MAX = 50


class Garbage(ValueError):
    """A node's answer has a value the panel will not store (out of range, wrong type)."""


@dataclass
class Probe:
    """What one sweep learned about one node."""

    state: str
    reason: str = ""  # short, for people (fluxpanel.fluxos.client.reasons)
    reason_detail: str = ""  # technical, one click away on the pages
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
        return NodeState.answered(self.state)


def probe_node(client: NodeClient) -> Probe:
    """Ask one node for /flux/info and interpret it; every failure becomes a precise reason."""
    try:
        info = client.info()
    except (FluxClientError, PeerError) as exc:  # refused, reset, DNS, TLS, timeout, HTTP, garbage…
        return failed(exc)
    try:
        return interpret_info(info)
    except Garbage as exc:
        return garbage_probe(str(exc))
    except (AttributeError, KeyError, TypeError, ValueError, OverflowError, RecursionError) as exc:
        return garbage_probe(f"unexpected /flux/info shape: {type(exc).__name__} {exc}")


def failed(exc: BaseException) -> Probe:
    """The probe of a node whose call failed: down when nothing usable came back at all (no
    connection, timeout), error when something answered that is not FluxOS's reply."""
    reason = explain(exc)
    state = NodeState.DOWN if isinstance(exc, (NodeTimeout, NodeUnreachable)) else NodeState.ERROR
    return Probe(state, reason.short, reason_detail=reason.detail)


def garbage_probe(detail: str) -> Probe:
    reason = reasons.garbage("/flux/info", detail)
    return Probe(NodeState.ERROR, reason.short, reason_detail=reason.detail)


def interpret_info(info: dict) -> Probe:
    node_status = info["node"]["status"] or {}
    flux = info["flux"]
    daemon = info["daemon"]["info"]
    bench = info.get("benchmark") or {}
    apps = info.get("apps") or {}
    dos_state = (flux.get("dos") or {}).get("dosState") or 0
    status_word = str(node_status.get("status", ""))[:32].upper()
    if dos_state or status_word == "DOS":
        message = (flux.get("dos") or {}).get("dosMessage")
        state, reason = "dos", str(message)[:300] if message else "Node is in DOS state"
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
        version=_text(flux.get("version"), 32),
        tier=_text(node_status.get("tier") or (bench.get("bench") or {}).get("status"), 16),
        flux_status=status_word[:32],
        height=column_int(daemon.get("blocks"), "block height"),
        last_confirmed_height=column_int(node_status.get("last_confirmed_height"), "last confirmed height"),
        benchmark_status=_text(bench_status.get("benchmarking"), 32),
        arcane="arcaneVersion" in flux,
        apps_running=len(running) if isinstance(running, list) else None,
        detail={
            "ip": _scalar(flux.get("ip")),
            "zelid": _scalar(flux.get("zelid")),
            "payment_address": _scalar(node_status.get("payment_address")),
            "rank": _scalar(node_status.get("rank")),
            "activesince": _scalar(node_status.get("activesince")),
            "country": _scalar(geolocation.get("country")),
            "region": _scalar(geolocation.get("regionName")),
            "org": _scalar(geolocation.get("org")),
            "connections_out": _scalar(flux.get("numberOfConnectionsOut")),
            "connections_in": _scalar(flux.get("numberOfConnectionsIn")),
            "apps": sorted({_app_name(c) for c in (running or [])[:500] if _app_name(c)})[:DETAIL_APPS_MAX],
            "usage": _scalar(apps.get("fluxusage")),
        },
    )


def maintenance_blocks(height: int | None, last_confirmed_height: int | None) -> int | None:
    """Blocks left before the node must confirm again (0 … CONFIRMATION_BLOCKS)."""
    if height is None or last_confirmed_height is None or last_confirmed_height <= 0:
        return None
    return min(CONFIRMATION_BLOCKS, max(0, CONFIRMATION_BLOCKS - (height - last_confirmed_height)))


def network_height(heights: list[int]) -> int | None:
    """The chain's height as the fleet sees it: from three answers on, the second highest height
    reported, so one node claiming a far-ahead height cannot make every other node look behind
    and fire the whole fleet's height alerts (with one or two answers, the highest)."""
    top = sorted(heights, reverse=True)[:2]
    if not top:
        return None
    return top[1] if len(heights) >= 3 else top[0]


def version_key(version: str) -> tuple:
    parts = []
    for piece in (version or "").split("."):
        digits = "".join(ch for ch in piece if ch.isdigit())
        parts.append(int(digits) if digits else 0)
    return tuple(parts)


def column_int(value, what: str) -> int | None:
    """A node's whole number for an integer column: None when absent, Garbage when it is not a
    whole number in 0 … MAX_COLUMN_INT (FluxOS sends heights as JSON numbers; a numeric string
    is accepted as fluxd's RPC sometimes has them)."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise Garbage(f"{what} is {value!r}, not a number")
    if isinstance(value, float):
        if not math.isfinite(value) or value != int(value):
            raise Garbage(f"{what} {value!r} is not a whole number")
        value = int(value)
    elif isinstance(value, str):
        text = value.strip()
        if not (text.isascii() and text.isdigit() and len(text) <= 12):
            raise Garbage(f"{what} {value[:40]!r} is not a number")
        value = int(text)
    elif not isinstance(value, int):
        raise Garbage(f"{what} is a {type(value).__name__}, not a number")
    if not 0 <= value <= MAX_COLUMN_INT:
        raise Garbage(f"{what} {value:.3g} is out of range")
    return value


def _text(value, limit: int) -> str:
    """A short text column from a node's value (empty for absent or structured values)."""
    return str(value)[:limit] if isinstance(value, (str, int, float)) and not isinstance(value, bool) else ""


def _scalar(value):
    """An extra for the node page: short text or a finite number, never a nested structure."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value if abs(value) <= 2**53 else None  # JSON numbers beyond that lose digits
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, str):
        return value[:DETAIL_TEXT_MAX]
    return None


def _app_name(container) -> str:
    if not isinstance(container, dict):
        return ""
    names = container.get("Names") or []
    name = names[0].lstrip("/") if isinstance(names, list) and names and isinstance(names[0], str) else ""
    for prefix in ("flux", "zel"):
        if name.startswith(prefix):
            name = name[len(prefix):]
    return name.split("_")[-1] if "_" in name else name
