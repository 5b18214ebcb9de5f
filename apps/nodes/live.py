"""The node page's live tabs: read-only public calls to the node, turned into plain display rows.

The node is an untrusted peer. Its answers are reduced here to short strings and bounded lists
before a template sees them, so an answer of the wrong shape (a number where a list belongs, a
non-numeric uptime, a nested object) is shown as "–" or as the tab's error, never a server error.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from django.conf import settings

from apps.nodes.clients import node_client
from apps.nodes.probe import Garbage, column_int
from fluxpanel.fluxos.client import BadResponse, FluxClientError
from fluxpanel.fluxos.client.reasons import explain

# One call of a tab waits this long at most (connect + whole answer); a hung node ends the tab
# with "no answer" after it. The page's script gives up a little later (live_wait_s), in case the
# panel itself is slow to answer.
LIVE_DEADLINE_S = 8.0
LIVE_CONNECT_S = 3.05
PAGE_GRACE_S = 4
LIVE_MAX_BODY = 4 * 1024 * 1024
MAX_ROWS = 200
TEXT_MAX = 200


@dataclass
class LiveTab:
    key: str
    label: str
    data: dict = field(default_factory=dict)
    error: str | None = None  # short reason, for people
    error_detail: str = ""


def live_deadline_s() -> float:
    return float(getattr(settings, "NODE_LIVE_DEADLINE_SECONDS", LIVE_DEADLINE_S))


def live_wait_s() -> int:
    """How long the page waits for a tab before it says "no answer after N s"."""
    wait = getattr(settings, "NODE_LIVE_PAGE_WAIT_SECONDS", None)
    return int(wait if wait is not None else live_deadline_s() + 1 + PAGE_GRACE_S)


def text(value) -> str:
    if value is None or value == "":
        return "–"
    if isinstance(value, (dict, list, tuple)):
        return "…"  # structured values are not shown inline
    return str(value)[:TEXT_MAX]


def _rows(value) -> list:
    return value[:MAX_ROWS] if isinstance(value, list) else []


def _mapping(value) -> dict:
    return value if isinstance(value, dict) else {}


def _number(read, what: str) -> str:
    """One numeric read-out; a node's non-number becomes a note instead of an exception."""
    try:
        value = column_int(read(), what)
    except BadResponse as exc:  # the client's own shape check
        return exc.message[:TEXT_MAX]
    except (Garbage, ValueError, TypeError, OverflowError):
        return f"{what} is not a number"
    return "–" if value is None else str(value)


def _shaped(read, empty):
    """One read whose answer has the wrong shape shows as empty; a node that does not answer at
    all still ends the tab (one timeout, not one per field)."""
    try:
        return read()
    except BadResponse:
        return empty


def _daemon(client) -> dict:
    status = _mapping(_shaped(client.flux_node_status, {}))
    dos = _mapping(_shaped(client.dos_state, {}))
    return {
        "version": text(_shaped(client.version, "")),
        "uptime": _number(client.uptime, "uptime"),
        "block_count": _number(client.block_count, "block count"),
        "dos_state": text(dos.get("dosState")),
        "dos_message": text(dos.get("dosMessage")) if dos.get("dosMessage") else "",
        "node_status": [(text(k), text(v)) for k, v in list(status.items())[:MAX_ROWS]],
    }


def _benchmarks(client) -> dict:
    status = _mapping(_shaped(client.benchmark_status, {}))
    results = _mapping(_shaped(client.benchmarks, {}))
    return {
        "benchmarking": text(status.get("benchmarking")),
        "status": text(status.get("status")),
        "facts": [(text(k), text(v)) for k, v in list(results.items())[:MAX_ROWS] if k != "disksinfo"],
    }


def _first(value) -> str:
    return text(value[0]) if isinstance(value, list) and value else text(value)


def _apps(client) -> dict:
    running = [_mapping(c) for c in _rows(_shaped(client.running_apps, []))]
    installed = [_mapping(a) for a in _rows(_shaped(client.installed_apps, []))]
    return {
        "running": [{"name": _first(c.get("Names")), "image": text(c.get("Image")),
                     "state": text(c.get("State")), "status": text(c.get("Status"))} for c in running],
        "installed": [{"name": text(a.get("name")), "version": text(a.get("version")),
                       "owner": text(a.get("owner"))} for a in installed],
    }


def _peers(client) -> dict:
    outgoing, incoming = _shaped(client.connected_peers, []), _shaped(client.incoming_connections, [])
    return {
        "outgoing": [text(p) for p in _rows(outgoing)],
        "incoming": [text(p) for p in _rows(incoming)],
        "outgoing_count": len(outgoing) if isinstance(outgoing, list) else 0,
        "incoming_count": len(incoming) if isinstance(incoming, list) else 0,
    }


SECTIONS = {
    "daemon": ("Daemon", _daemon),
    "benchmarks": ("Benchmarks", _benchmarks),
    "apps": ("Apps", _apps),
    "peers": ("Peers", _peers),
}
DEFAULT_SECTION = "daemon"


def read_tab(node, key: str) -> LiveTab:
    """Read one tab from the node now. `key` must be one of SECTIONS."""
    label, reader = SECTIONS[key]
    tab = LiveTab(key, label)
    deadline = live_deadline_s()
    # A silent node trips the read timeout ("timed out after N s"); one that trickles its answer
    # is cut a second later by the whole-call deadline.
    client = node_client(node.base_url, timeout=(min(LIVE_CONNECT_S, deadline), deadline),
                         deadline_s=deadline + 1, max_body=LIVE_MAX_BODY)
    try:
        tab.data = reader(client)
    except FluxClientError as exc:
        reason = explain(exc)
        tab.error, tab.error_detail = reason.short, reason.detail
    except (ValueError, TypeError, AttributeError, OverflowError, RecursionError) as exc:
        tab.error = "not a usable FluxOS answer"
        tab.error_detail = f"{type(exc).__name__}: {exc}"[:500]
    return tab
