"""Node admin operations (issue 17 item 3): what each one is, the stored session it needs, one
call on one node, and how to tell that a restarted node answers again.

- Sessions: FluxOS's `/flux/restart` is `admin`, the daemon, benchmark and log routes
  `adminandfluxteam` (reference §1.4); both need a login stored on that very node, so only the
  team's node sessions (apps.wallets.node_sessions) of those privileges are used, looked up when
  the call is made and never stored in a job.
- The maintenance-window / claim rule is app operations' (`apps.operations.operations`).
- "Answers again": FluxOS answers a version after it was seen not answering (or reports an uptime
  shorter than the time since the restart was asked); the daemon answers `/daemon/getinfo`; the
  benchmark daemon `/benchmark/getstatus`. Bounded by NODE_ADMIN_BACK_TIMEOUT_S; never retried.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

from django.conf import settings

from apps.nodes.clients import node_client

POLL_TIMEOUT = (3.05, 5.0)
LOG_KINDS = {"error": "Error log", "warn": "Warn log"}
LOG_MAX_CHARS = 256 * 1024


@dataclass(frozen=True)
class AdminOperation:
    name: str  # a key of fluxpanel.fluxos.client.nodeadmin.ACTIONS
    label: str
    privileges: tuple[str, ...]  # session privileges FluxOS accepts, best first
    comes_back: str  # what is waited for: "fluxos", "daemon" or "benchmark"
    risky: bool  # can cost the node its confirmation: typed confirmation


ADMIN_OPERATIONS = {op.name: op for op in (
    AdminOperation("restart_fluxos", "Restart FluxOS", ("admin",), "fluxos", True),
    AdminOperation("start_daemon", "Start the daemon", ("admin", "fluxteam"), "daemon", False),
    AdminOperation("restart_daemon", "Restart the daemon", ("admin", "fluxteam"), "daemon", True),
    AdminOperation("restart_benchmark", "Restart benchmarks", ("admin", "fluxteam"), "benchmark", True),
)}
LOG_PRIVILEGES = ("admin", "fluxteam")
MODES = {"one": "One node", "selected": "Selected nodes",
         "rolling": "Rolling across the fleet (one at a time, the selected nodes or all)"}


def confirmation_word(nodes) -> str:
    """What a risky operation asks to be typed: the node's name, or "<n> nodes"."""
    return nodes[0].name if len(nodes) == 1 else f"{len(nodes)} nodes"


def session_auth(node, membership, privileges) -> str | None:
    """The team's zelidauth for `node` with one of `privileges` (best first), or None."""
    from apps.wallets.node_sessions import zelidauth_for

    for privilege in privileges:
        auth = zelidauth_for(node, membership, privilege=privilege)
        if auth:
            return auth
    return None


def no_session_text(node, privileges) -> str:
    wanted = " or ".join(privileges)
    return (f"no valid {wanted} session on node {node.name}: the panel holds none for it "
            "(sign one on the Wallet page: log in to this node as its owner)")


def session_rows(nodes) -> dict:
    """node id -> (best privilege, valid until) of the team's live sessions, one query."""
    from django.utils import timezone

    from apps.wallets.models import NodeSession
    from apps.wallets.node_sessions import USE_MARGIN

    rank = {"admin": 0, "fluxteam": 1}
    best: dict = {}
    for node_id, privilege, until in (NodeSession.objects
                                      .filter(node__in=[n.pk for n in nodes],
                                              expires_at__gt=timezone.now() + USE_MARGIN)
                                      .values_list("node_id", "privilege", "expires_at")):
        held = best.get(node_id)
        if held is None or rank.get(privilege, 9) < rank.get(held[0], 9):
            best[node_id] = (privilege, until)
    return best


def client(node, zelidauth: str | None, *, timeout=None):
    if timeout is None:
        timeout = (3.05, float(settings.NODE_ADMIN_CALL_TIMEOUT_S))
    return node_client(node.base_url, zelidauth=zelidauth, timeout=timeout,
                       deadline_s=timeout[0] + timeout[1])


def perform(node, op: AdminOperation, auth: str) -> str:
    """One admin call; FluxOS's message, its FluxError/FluxClientError otherwise."""
    return client(node, auth).node_admin(op.name)


def read_log(node, membership, which: str) -> tuple[str, str]:
    """(text, "") of FluxOS's `which` log tail, or ("", why not): no call without a session of a
    privilege FluxOS accepts for it."""
    from apps.operations.operations import failure_reason

    auth = session_auth(node, membership, LOG_PRIVILEGES)
    if auth is None:
        return "", no_session_text(node, LOG_PRIVILEGES)
    try:
        text = client(node, auth, timeout=(3.05, 10.0)).flux_log_tail(which)
    except Exception as exc:  # noqa: BLE001 - a node's failure is its reason on the page
        return "", failure_reason(exc)
    return text[-LOG_MAX_CHARS:], ""


def _answers(poller, op: AdminOperation) -> str:
    """What the node says now about the part `op` restarts (raises while it does not answer)."""
    if op.comes_back == "fluxos":
        return f"FluxOS answers again (version {poller.fresh_version()})"
    if op.comes_back == "daemon":
        info = poller.daemon_answers()
        blocks = info.get("blocks")
        return "the daemon answers again" + (f" (height {blocks})" if isinstance(blocks, int) else "")
    poller.benchmark_answers()
    return "the benchmarks answer again"


def wait_back(node, op: AdminOperation, asked_at: float, *, check=None) -> tuple[str, str]:
    """Poll until the restarted part answers again: (what it said, "") or ("", why not) once
    NODE_ADMIN_BACK_TIMEOUT_S passed. FluxOS must first have been seen away (or report a
    younger uptime), so its old process answering before it exits does not count."""
    from fluxpanel.fluxos.client import FluxClientError

    poller = client(node, None, timeout=POLL_TIMEOUT)
    until = asked_at + float(settings.NODE_ADMIN_BACK_TIMEOUT_S)
    every = float(settings.NODE_ADMIN_POLL_S)
    seen_away = op.comes_back != "fluxos"
    last = "it did not answer again"
    while True:
        try:
            said = _answers(poller, op)
            if seen_away or poller.fresh_uptime() < time.monotonic() - asked_at:
                return said, ""
            last = "FluxOS still answers from before its restart"
        except FluxClientError as exc:
            seen_away = True
            last = f"it does not answer ({exc.message})"
        if time.monotonic() >= until:
            return "", f"{last} after {settings.NODE_ADMIN_BACK_TIMEOUT_S} s"
        if check is not None:
            check()
        time.sleep(min(every, 0.05 + (time.monotonic() - asked_at) * 0.1))
