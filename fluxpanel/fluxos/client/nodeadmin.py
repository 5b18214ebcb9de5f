"""Node administration (reference §3, FluxOS's fluxService): restart FluxOS, start/restart the
daemon, restart the benchmarks, and the tails of FluxOS's error and warn logs.

Privileges (§1.4): `/flux/restart` is `admin`; the daemon, benchmark and log routes are
`adminandfluxteam`. Both need a session stored on that very node (no stateless fallback); a
refusal is the unauthorised envelope at HTTP 200 (Unauthorized). `/flux/restart` is behind a 30 s
apicache, so every call here bypasses the cache (a cached reply would say "Restarting FluxOS"
without restarting anything). Actions are never retried: a restart that failed mid-call is the
caller's to judge, not the client's to repeat.
"""

from __future__ import annotations

from .errors import BadResponse
from .health import whole_number
from .transport import message_of

# tail -n 100 of a log: lines are bounded by FluxOS, the answer by this cap.
LOG_TAIL_MAX_BODY = 512 * 1024
ACTIONS = {
    "restart_fluxos": ("flux", "restart"),
    "start_daemon": ("daemon", "start"),
    "restart_daemon": ("daemon", "restart"),
    "restart_benchmark": ("benchmark", "restart"),
}
LOGS = {"error": ("flux", "tailerrorlog"), "warn": ("flux", "tailwarnlog")}


class NodeAdminMixin:

    def node_admin(self, action: str) -> str:
        """Run one admin action (a key of ACTIONS); FluxOS's message ("Restarting FluxOS",
        "Daemon successfully restarted", …). FluxError with FluxOS's text when it failed."""
        data = self._get(*ACTIONS[action], auth=True, per_user=True, read_only=False)
        text = message_of(data)
        if not isinstance(text, str):
            raise BadResponse(f"{action}: expected a message", url=self.path_url(*ACTIONS[action]),
                              body=str(text)[:100])
        return text[:500]

    def flux_log_tail(self, which: str) -> str:
        """The last 100 lines of FluxOS's `error` or `warn` log (`/flux/tail<which>log`)."""
        data = self._get(*LOGS[which], auth=True, per_user=True, limit=LOG_TAIL_MAX_BODY)
        text = message_of(data)
        if not isinstance(text, str):
            raise BadResponse(f"{which} log: expected text", url=self.path_url(*LOGS[which]),
                              body=str(text)[:100])
        return text

    def daemon_answers(self) -> dict:
        """`/daemon/getinfo`, fresh (not the cached copy): raises while the daemon is down."""
        data = self._get("daemon", "getinfo", per_user=True)
        if not isinstance(data, dict):
            raise BadResponse("daemon info: expected an object", url=self.path_url("daemon", "getinfo"))
        return data

    def benchmark_answers(self) -> dict:
        """`/benchmark/getstatus`, fresh: raises while the benchmark daemon is down."""
        data = self._get("benchmark", "getstatus", per_user=True)
        if not isinstance(data, dict):
            raise BadResponse("benchmark status: expected an object",
                              url=self.path_url("benchmark", "getstatus"))
        return data

    def fresh_version(self) -> str:
        """`/flux/version` bypassing the cache: the FluxOS process answering now."""
        data = self._get("flux", "version", per_user=True)
        if not isinstance(data, str) or not 0 < len(data) <= 32:
            raise BadResponse("version: expected a short string", url=self.path_url("flux", "version"))
        return data

    def fresh_uptime(self) -> int:
        """`/flux/uptime` bypassing the cache: seconds the FluxOS process answering now has run."""
        return whole_number(self._get("flux", "uptime", per_user=True), url=self.path_url("flux", "uptime"),
                            what="uptime", maximum=10 ** 10)
