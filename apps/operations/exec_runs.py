"""The job kind `app_exec`: run one command in one component of a team app on one instance
(`POST /apps/appexec`; apps.operations.exec_actions starts it) and write its output into the job
as it streams, so the Jobs page shows it live.

FluxOS lets only the app's owner exec (`appowner`: not the node admin, not the Flux team), so the
only authorisation that works is the team's app-owner authorisation by the owner, looked up here
when the job runs (the job's params hold none). The output is bounded: at most MAX_OUTPUT_LINES
lines and MAX_OUTPUT_BYTES bytes are kept (then the stream is closed and the job says where it was
cut), a line longer than MAX_LINE_CHARS is split, and OPERATIONS_EXEC_TIMEOUT_S bounds both the
whole run and any silence, so a node that hangs fails the job instead of holding it.
"""
from __future__ import annotations

import dataclasses
import shlex

from django.conf import settings

from apps.accounts.models import Role
from apps.jobs.kinds import job_kind
from apps.operations import operations as ops
from fluxpanel.fluxos.client import component_name

JOB_KIND = "app_exec"
MAX_OUTPUT_LINES = 2000
MAX_OUTPUT_BYTES = 256 * 1024
MAX_LINE_CHARS = 4000
DOCKER_START_FAILURE = "OCI runtime exec failed"
# What str.splitlines (and so JobContext.log) counts as a line break.
BREAKS = "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"


class ExecFailed(ops.OperationFailed):
    pass


def no_owner_message(app) -> str:
    return (f"Exec needs the team's app-owner authorisation by {app.owner or 'the app owner'}: FluxOS lets "
            "only the app's owner run commands in its containers (a node admin's session is refused). "
            "Ask the key holder to sign one on the Wallet page (app-owner authorisation, 2 hours).")


class OutputWriter:
    """Cuts the streamed text into lines for the job (the same breaks as JobContext.log), keeping
    an unfinished line until its end arrives, within the caps."""

    def __init__(self, ctx):
        self.ctx = ctx
        self.pending = ""
        self.lines = 0
        self.bytes = 0
        self.cut = False

    def feed(self, text: str) -> bool:
        """Write the complete lines of `text`; False once the cap is reached (stop reading)."""
        text = self.pending + text
        # "\r\n" may arrive split: hold a trailing "\r" back so it does not make an empty line.
        held = "\r" if text.endswith("\r") else ""
        pieces = text[:len(text) - len(held)].splitlines(keepends=True)
        self.pending = held
        if pieces and not pieces[-1].endswith(tuple(BREAKS)):
            self.pending = pieces.pop() + held
        while len(self.pending) > MAX_LINE_CHARS:  # a line that never ends is shown in parts
            pieces.append(self.pending[:MAX_LINE_CHARS])
            self.pending = self.pending[MAX_LINE_CHARS:]
        return self._write([piece.rstrip(BREAKS) for piece in pieces])

    def flush(self) -> None:
        if self.pending and not self.cut:
            self._write([self.pending.rstrip("\r")])
        self.pending = ""

    def _write(self, lines: list[str]) -> bool:
        keep = []
        for line in lines:
            size = len(line.encode()) + 1
            if self.lines + len(keep) >= MAX_OUTPUT_LINES or self.bytes + size > MAX_OUTPUT_BYTES:
                self.cut = True
                break
            keep.append(line)
            self.bytes += size
        if keep:
            # JobContext.log splits on line breaks and drops a trailing empty line: keep it.
            self.ctx.log("\n".join(keep) + ("\n" if keep[-1] == "" else ""))
            self.lines += len(keep)
        if self.cut:
            self.ctx.log(f"… output cut at {self.lines} lines ({self.bytes // 1024} KiB): the panel keeps at "
                         f"most {MAX_OUTPUT_LINES} lines or {MAX_OUTPUT_BYTES // 1024} KiB of a command's output.")
        return not self.cut


@job_kind(JOB_KIND, label="Exec in an app", role=Role.OPERATOR)
def run_exec(ctx, app: int, instance: int, component: str, argv: list, env=()):
    from apps.deployments.models import AppInstance
    from apps.jobs.runner import JobCancelled

    membership, team_app = ops.member_and_app(ctx.job, app, "this command")
    target = AppInstance.objects.filter(app=team_app, pk=instance).select_related("node").first()
    if target is None:
        raise ExecFailed(f"{team_app.name} no longer has that instance (an app sync removed it).")
    owner = ops.owner_auth(membership, team_app)
    if owner is None:
        raise ExecFailed(no_owner_message(team_app))
    label = ops.instance_label(target)
    where = component_name(component or None, team_app.name)
    ctx.log(f"{label}: {where}: $ {shlex.join(argv)}"
            + (f" (environment: {', '.join(entry.partition('=')[0] for entry in env)})" if env else ""),
            progress=5)
    limit = float(settings.OPERATIONS_EXEC_TIMEOUT_S)
    client = ops.client_for(target, owner)
    # The headers must come, and then the output must not pause, within the limit; in all the
    # stream may last as long.
    client.stream_bounds = dataclasses.replace(client.stream_bounds, max_seconds=limit)
    timeout = (ops.CALL_TIMEOUT[0], limit)
    writer = OutputWriter(ctx)
    opening = None  # the first piece of output: Docker's own text when the command could not start
    try:
        with client.exec_in_app(team_app.name, component or None, argv, env=list(env),
                                 timeout=timeout) as stream:
            for text in stream:
                opening = opening if opening is not None else text
                if not writer.feed(text):
                    break
            else:
                writer.flush()
    except JobCancelled:
        raise
    except Exception as exc:  # noqa: BLE001 - every failure of the call is the job's reason
        writer.flush()
        raise ExecFailed(f"{label}: {ops.failure_reason(exc)}" + _hint(exc)) from None
    if opening is not None and opening.lstrip().startswith(DOCKER_START_FAILURE):
        # Docker writes why into the stream itself (no such program, no permission): not an output.
        raise ExecFailed(f"{label}: the command could not start in the container: {opening.strip()[:300]}")
    ended = "cut" if writer.cut else "ended"
    ctx.log(f"{label}: the command's output {ended} after {writer.lines} line(s). FluxOS reports no exit "
            "code: the output is the outcome.")


def _hint(exc) -> str:
    from fluxpanel.fluxos.client import Unauthorized

    if isinstance(exc, Unauthorized):
        return " (FluxOS lets only the app's owner exec: the app-owner authorisation may have expired)"
    return ""
