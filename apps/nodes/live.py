"""The node page's live tabs: read-only public calls to the node, turned into readable rows.

Each tab is a reader `(client, node) -> dict` in its own module: tabs_daemon (daemon, peers,
services), tabs_bench (benchmarks against FluxOS's minimums), tabs_apps (apps, syncthing) and
apps.earnings.payments (payments through the node's explorer). The node is an untrusted peer:
answers are reduced to short strings and bounded lists (tabs_common) before a template sees
them, so an answer of the wrong shape is shown as "–", a note, or the tab's error, never a
server error.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from django.conf import settings

from apps.earnings.payments import payments
from apps.nodes import tabs_apps, tabs_bench, tabs_daemon
from apps.nodes.clients import node_client
from apps.nodes.tabs_common import MAX_ROWS, TEXT_MAX, text  # noqa: F401  (this module's API)
from fluxpanel.fluxos.client import FluxClientError
from fluxpanel.fluxos.client.reasons import explain

# One call of a tab waits this long at most (connect + whole answer); a hung node ends the tab
# with "no answer" after it. The page's script gives up a little later (live_wait_s), in case the
# panel itself is slow to answer.
LIVE_DEADLINE_S = 8.0
LIVE_CONNECT_S = 3.05
PAGE_GRACE_S = 4
LIVE_MAX_BODY = 4 * 1024 * 1024


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


SECTIONS = {
    "daemon": ("Daemon", tabs_daemon.daemon),
    "benchmarks": ("Benchmarks", tabs_bench.benchmarks),
    "apps": ("Apps", tabs_apps.apps),
    "peers": ("Peers", tabs_daemon.peers),
    "syncthing": ("Syncthing", tabs_apps.syncthing),
    "services": ("Services", tabs_daemon.services),
    "payments": ("Payments", payments),
}
DEFAULT_SECTION = "daemon"


def live_client(node):
    """A client for one read of the node page's kind (a tab, or a payments refresh)."""
    deadline = live_deadline_s()
    # A silent node trips the read timeout ("timed out after N s"); one that trickles its answer
    # is cut a second later by the whole-call deadline.
    return node_client(node.base_url, timeout=(min(LIVE_CONNECT_S, deadline), deadline),
                       deadline_s=deadline + 1, max_body=LIVE_MAX_BODY)


def read_tab(node, key: str) -> LiveTab:
    """Read one tab from the node now. `key` must be one of SECTIONS."""
    label, reader = SECTIONS[key]
    tab = LiveTab(key, label)
    client = live_client(node)
    try:
        tab.data = reader(client, node)
    except FluxClientError as exc:
        reason = explain(exc)
        tab.error, tab.error_detail = reason.short, reason.detail
    except (ValueError, TypeError, AttributeError, OverflowError, RecursionError) as exc:
        tab.error = "not a usable FluxOS answer"
        tab.error_detail = f"{type(exc).__name__}: {exc}"[:500]
    return tab
