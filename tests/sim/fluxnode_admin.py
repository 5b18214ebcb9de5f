"""Admin routes of a simulated node (reference §3, FluxOS's fluxService): `/flux/restart`
(admin), `/daemon/start`, `/daemon/restart`, `/flux/restartdaemon`, `/benchmark/restart`,
`/flux/restartbenchmark`, `/flux/tailerrorlog`, `/flux/tailwarnlog` (adminandfluxteam; both need
a session stored on this node, else the unauthorised envelope at HTTP 200).

A restart takes time: FluxOS answers `Restarting FluxOS` and then the whole node answers nothing
(connections reset) for the node's restart time; a daemon or benchmark restart leaves FluxOS up
but its `/daemon/getinfo` / `/benchmark/getstatus` answer FluxOS's error while it comes back.
Tests set the time (`set_restart_time`, `math.inf`: it never comes back — a node that went down
mid-way), an error FluxOS answers instead (`set_failure`), or stop the daemon (`stop_daemon`),
with `fleet.call(...)` like fluxnode_lifecycle's helpers.
"""

from __future__ import annotations

import asyncio
import math
import time

from tests.sim import fluxnode_routes as r
from tests.sim.fluxnode_routes import UNAUTHORIZED, err, msg, ok

DEFAULT_RESTART_S = 0.2
RESTART_S: dict = {}
FAILURES: dict = {}
DAEMON_DOWN_UNTIL: dict = {}  # (fleet, index) -> monotonic time, or inf while stopped
BENCH_DOWN_UNTIL: dict = {}
DOWN_BY_RESTART: set = set()
CALLS: dict = {}  # (fleet, index) -> [route, …] of actions the node acted on
EPOCH: dict = {}  # (fleet, index) -> bumped by reset, so a pending restart of a finished test is void

DAEMON_REFUSED = "connect ECONNREFUSED 127.0.0.1:16124"
BENCH_REFUSED = "connect ECONNREFUSED 127.0.0.1:16224"
ALREADY_RUNNING = ("Error starting Daemon: Command failed: fluxd\nError: Cannot obtain a lock on data "
                   "directory /home/fluxuser/.flux. Flux Daemon is probably already running.")


def _key(ctx_or_fleet, index=None):
    if index is None:
        return (id(ctx_or_fleet.fleet), ctx_or_fleet.node.index)
    return (id(ctx_or_fleet), index)


def set_restart_time(fleet, index: int, seconds: float | None) -> None:
    RESTART_S.pop(_key(fleet, index), None) if seconds is None else RESTART_S.update({_key(fleet, index): seconds})


def set_failure(fleet, index: int, text: str | None) -> None:
    FAILURES.pop(_key(fleet, index), None) if text is None else FAILURES.update({_key(fleet, index): text})


def stop_daemon(fleet, index: int) -> None:
    DAEMON_DOWN_UNTIL[_key(fleet, index)] = math.inf


def calls(fleet, index: int) -> list[str]:
    return list(CALLS.get(_key(fleet, index), ()))


def reset(fleet, index: int) -> None:
    key = _key(fleet, index)
    EPOCH[key] = EPOCH.get(key, 0) + 1
    for table in (RESTART_S, FAILURES, DAEMON_DOWN_UNTIL, BENCH_DOWN_UNTIL, CALLS):
        table.pop(key, None)
    if key in DOWN_BY_RESTART:
        DOWN_BY_RESTART.discard(key)
        node = fleet.node(index)
        if node.transport_fault == "down":
            node.transport_fault = None


def _restart_s(ctx) -> float:
    return RESTART_S.get(_key(ctx), DEFAULT_RESTART_S)


def _refused(ctx, privilege: str):
    """FluxOS's order: the privilege first (unauthorised envelope), then a planted failure."""
    if not ctx.allowed(privilege):
        return UNAUTHORIZED
    failure = FAILURES.get(_key(ctx))
    if failure is not None:
        return err(failure, "Error", 1)
    return None


def _acted(ctx, route: str) -> None:
    CALLS.setdefault(_key(ctx), []).append(route)
    ctx.node.cache.clear()


def flux_restart(ctx):
    refusal = _refused(ctx, "admin")
    if refusal is not None:
        return refusal
    _acted(ctx, "flux/restart")
    key, node, seconds = _key(ctx), ctx.node, _restart_s(ctx)
    loop = asyncio.get_running_loop()
    epoch = EPOCH.get(key, 0)

    def go_down():  # pm2 restart flux: after the answer left, the process is gone
        if node.transport_fault is None and EPOCH.get(key, 0) == epoch:
            node.transport_fault = "down"
            DOWN_BY_RESTART.add(key)

    def come_back():
        if key in DOWN_BY_RESTART and node.transport_fault == "down":
            node.transport_fault = None
        DOWN_BY_RESTART.discard(key)
        node.started = time.monotonic() + node.id.uptime_offset_s  # its uptime starts again from 0
        node.cache.clear()

    loop.call_later(0.05, go_down)
    if math.isfinite(seconds):
        loop.call_later(0.05 + seconds, come_back)
    return ok("Restarting FluxOS")  # messageHelper.createDataMessage


def _daemon_restart(ctx):
    refusal = _refused(ctx, "adminandfluxteam")
    if refusal is not None:
        return refusal
    _acted(ctx, "daemon/restart")
    DAEMON_DOWN_UNTIL[_key(ctx)] = time.monotonic() + _restart_s(ctx)
    return msg("Daemon successfully restarted")


def daemon_start(ctx):
    refusal = _refused(ctx, "adminandfluxteam")
    if refusal is not None:
        return refusal
    key = _key(ctx)
    if DAEMON_DOWN_UNTIL.get(key, 0) <= time.monotonic():
        return err(ALREADY_RUNNING, "Error", 1)
    _acted(ctx, "daemon/start")
    DAEMON_DOWN_UNTIL[key] = time.monotonic() + _restart_s(ctx)
    return msg("Daemon successfully started")


def _benchmark_restart(ctx):
    refusal = _refused(ctx, "adminandfluxteam")
    if refusal is not None:
        return refusal
    _acted(ctx, "benchmark/restart")
    BENCH_DOWN_UNTIL[_key(ctx)] = time.monotonic() + _restart_s(ctx)
    return msg("Benchmark successfully restarted")


def log_lines(index: int, which: str) -> str:
    level = which
    return "\n".join(f"2026-12-04T10:{m:02d}:00.000Z {level}: node {index} simulated {which} line {m}"
                     for m in range(5)) + "\n"


def _tail(which: str):
    def handler(ctx):
        if not ctx.allowed("adminandfluxteam"):
            return UNAUTHORIZED
        return msg(log_lines(ctx.node.index, which))
    return handler


def daemon_getinfo(ctx):
    if DAEMON_DOWN_UNTIL.get(_key(ctx), 0) > time.monotonic():
        return err(DAEMON_REFUSED, "Error", "ECONNREFUSED")
    return r.daemon_getinfo(ctx)


def benchmark_getstatus(ctx):
    if BENCH_DOWN_UNTIL.get(_key(ctx), 0) > time.monotonic():
        return err(BENCH_REFUSED, "Error", "ECONNREFUSED")
    return r.benchmark_getstatus(ctx)


# (first, second segment) -> (handler, apicache TTL), as fluxnode_server.ROUTES
ROUTES = {
    ("flux", "restart"): (flux_restart, 30),
    ("daemon", "start"): (daemon_start, 0),
    ("daemon", "restart"): (_daemon_restart, 0), ("flux", "restartdaemon"): (_daemon_restart, 0),
    ("benchmark", "restart"): (_benchmark_restart, 0), ("flux", "restartbenchmark"): (_benchmark_restart, 0),
    ("flux", "tailerrorlog"): (_tail("error"), 0), ("flux", "tailwarnlog"): (_tail("warn"), 0),
    ("daemon", "getinfo"): (daemon_getinfo, 30), ("benchmark", "getstatus"): (benchmark_getstatus, 30),
}
