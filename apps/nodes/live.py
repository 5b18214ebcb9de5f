"""The node page's live tabs: read-only public calls to the node, turned into plain display rows.

The node is an untrusted peer. Its answers are reduced here to short strings and bounded lists
before a template sees them, so an answer of the wrong shape (a number where a list belongs, a
non-numeric uptime, a nested object) is shown as "–" or as the tab's error, never a server error.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from apps.nodes.clients import node_client
from apps.nodes.probe import Garbage, column_int
from fluxpanel.fluxos.client import BadResponse, FluxClientError

LIVE_TIMEOUT = (3.05, 10.0)
LIVE_DEADLINE_S = 15.0
LIVE_MAX_BODY = 4 * 1024 * 1024
MAX_ROWS = 200
TEXT_MAX = 200


@dataclass
class LiveTab:
    key: str
    label: str
    data: dict = field(default_factory=dict)
    error: str | None = None


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
    client = node_client(node.base_url, timeout=LIVE_TIMEOUT, deadline_s=LIVE_DEADLINE_S,
                         max_body=LIVE_MAX_BODY)
    try:
        tab.data = reader(client)
    except FluxClientError as exc:
        tab.error = str(exc.message)[:300]
    except (ValueError, TypeError, AttributeError, OverflowError, RecursionError):
        tab.error = "its answer is not a usable FluxOS reply"
    return tab
