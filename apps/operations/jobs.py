"""The job kind `app_operation`: one operation of a team app on its instances (apps.operations.actions
starts it). A line per instance and step, progress, cancel between instances, the outcome per
instance at the end. The zelidauth is looked up here, when it runs (the job's params hold none).

Modes: `one`/`selected` (the instances in turn), `global` (one node asked to forward it to every
instance: FluxOS's global route, owner authorisation only), `rolling` (N at a time; each waits
until it runs again on its node before the next; the first failure stops it, or is skipped).
A node under a maintenance claim or inside its maintenance window is waited for (bounded,
OPERATIONS_BLOCKED_WAIT_S), with the reason in the output; never touched.
"""
from __future__ import annotations

import time

from django.conf import settings

from apps.accounts.models import Role
from apps.jobs.kinds import job_kind
from apps.jobs.models import OUTCOME_IN_PROGRESS
from apps.operations import operations as ops

JOB_KIND = "app_operation"
GLOBAL_TRIES = 3
NOT_REACHED = "not reached"
WINDOW_ENDED = "not reached: the maintenance window ended"


def _setting(name: str) -> float:
    return float(getattr(settings, name))


@job_kind(JOB_KIND, label="App operation", role=Role.OPERATOR)
def run_operation(ctx, app: int, operation: str, mode: str, component: str = "", instances=(),
                  batch: int = 1, skip_failures: bool = False, window_end: str = ""):
    from apps.deployments.models import AppInstance

    membership, team_app = ops.member_and_app(ctx.job, app, "this operation")
    op = ops.OPERATIONS[operation]
    rows = AppInstance.objects.filter(app=team_app).select_related("node").order_by("location")
    if instances:
        rows = rows.filter(pk__in=list(instances))
    targets = list(rows)
    what = f"{op.label} of {team_app.name}" + (f" component {component}" if component else "")
    if not targets:
        raise ops.OperationFailed(f"{what}: no instance to act on.")
    owner = ops.owner_auth(membership, team_app)
    if mode == "global":
        return _global(ctx, membership, team_app, op, targets, owner, what)
    ctx.log(f"{what}: {len(targets)} instance(s), {ops.MODES[mode].lower()}"
            + (f", {batch} at a time" if mode == "rolling" else "") + ".", progress=2)
    outcome: dict[str, str] = {}
    failed = []
    _record(ctx, targets, outcome)
    groups = [targets[i:i + batch] for i in range(0, len(targets), batch)] if mode == "rolling" else [[t] for t in targets]
    done_count = 0
    acting: list[str] = []  # the locations of the group being acted on
    closed = ""  # when a scheduled run's maintenance window ended before a group
    try:
        for group in groups:
            ctx.check_cancelled()  # cancel between instances
            closed = _window_closed(window_end)
            if closed:
                for instance in targets:
                    outcome.setdefault(instance.location, WINDOW_ENDED)
                break
            acting = [i.location for i in group]
            _record(ctx, targets, {**outcome, **dict.fromkeys(acting, OUTCOME_IN_PROGRESS)})
            started = []
            for instance in group:
                label = ops.instance_label(instance)
                problem = ops.wait_unblocked(ctx, label, instance.node)
                if not problem:
                    problem = _one(ctx, membership, team_app, op, instance, component, owner, label)
                if problem:
                    outcome[instance.location] = f"failed: {problem}"
                    failed.append(instance.location)
                    ctx.log(f"{label}: FAILED — {problem}")
                else:
                    started.append((instance, label))
            if mode == "rolling" and op.waits_running:
                for instance, label in started:
                    ctx.log(f"{label}: waiting until it runs again…")
                    until = time.monotonic() + _setting("OPERATIONS_RUN_TIMEOUT_S")
                    problem = ops.wait_running(instance, team_app, component or None, until,
                                               every=_setting("OPERATIONS_RUN_POLL_S"))
                    if problem:
                        outcome[instance.location] = f"failed: {problem}"
                        failed.append(instance.location)
                        ctx.log(f"{label}: FAILED — {problem}")
                    else:
                        outcome[instance.location] = "done"  # first: a cancel makes log() raise
                        ctx.log(f"{label}: running again.")
            for instance, _ in started:
                outcome.setdefault(instance.location, "done")
            done_count += len(group)
            acting = []
            _record(ctx, targets, outcome)
            ctx.progress(5 + done_count * 90 // len(targets))
            if failed and not skip_failures:
                break
    finally:
        # A cancel or a failure inside a group leaves its instances acted on but not confirmed.
        _outcome(ctx, targets, {**dict.fromkeys(acting, OUTCOME_IN_PROGRESS), **outcome})
    if closed:
        done = sum(1 for text in outcome.values() if text == "done")
        raise ops.OperationFailed(f"{what}: the maintenance window ended at {closed}; done on {done} of "
                              f"{len(targets)} instance(s), the others not reached"
                              + (f" ({len(failed)} failed)" if failed else "") + ".")
    if failed:
        verb = "skipped" if skip_failures else "stopped at the first failure"
        raise ops.OperationFailed(f"{what}: {len(failed)} of {len(targets)} instance(s) failed ({verb}): "
                              + outcome[failed[0]].removeprefix("failed: "))
    ctx.log(f"{what}: done on {len(targets)} instance(s).", progress=100)


def _window_closed(window_end: str) -> str:
    """"" while a scheduled run may start its next group, else when its window ended. A run from
    the page has no window ("")."""
    if not window_end:
        return ""
    from datetime import datetime

    from django.utils import timezone

    end = datetime.fromisoformat(window_end)
    return f"{end:%Y-%m-%d %H:%M %Z}".strip() if timezone.now() >= end else ""


def _one(ctx, membership, team_app, op, instance, component, owner, label) -> str:
    auth = ops.zelidauth_for_instance(membership, team_app, instance, owner)
    if auth is None:
        return ("no valid authorisation: no app-owner authorisation by the owner and no session on "
                "this node (Wallet page, app-owner authorisation)")
    ctx.log(f"{label}: {op.label.lower()}…")
    try:
        client = ops.client_for(instance, auth)
        message = ops.perform(client, op.name, team_app.name, component or None,
                              on_step=lambda text: ctx.log(f"{label}: {text}"))
    except Exception as exc:  # noqa: BLE001 - every failure of one instance is its outcome
        from apps.jobs.runner import JobCancelled

        if isinstance(exc, JobCancelled):
            raise
        return ops.failure_reason(exc)
    ctx.log(f"{label}: {message}")
    return ""


def _global(ctx, membership, team_app, op, targets, owner, what):
    if not owner:
        raise ops.OperationFailed(f"{what}: FluxOS's global route needs the team's app-owner authorisation by "
                              f"{team_app.owner or 'the owner'} (a node session is valid on its own node only). "
                              "Ask the key holder to sign one on the Wallet page.")
    ctx.log(f"{what}: through FluxOS's global route ({len(targets)} instance(s) known).", progress=5)
    problems = []
    for instance in targets[:GLOBAL_TRIES]:
        ctx.check_cancelled()
        try:
            message = ops.perform(ops.client_for(instance, owner), op.name, team_app.name, None, global_=True)
        except Exception as exc:  # noqa: BLE001
            from apps.jobs.runner import JobCancelled

            if isinstance(exc, JobCancelled):
                raise
            problems.append(f"{instance.location}: {ops.failure_reason(exc)}")
            ctx.log(f"{instance.location}: {ops.failure_reason(exc)}")
            continue
        ctx.log(f"{instance.location}: {message}")
        ctx.log("FluxOS forwards the command to every instance without reporting each result; the next "
                "app sync shows their states.", progress=100)
        return
    raise ops.OperationFailed(f"{what}: no node took the global command: " + "; ".join(problems))


def _record(ctx, targets, outcome: dict) -> None:
    """The outcome per instance so far, kept on the job (shown on its page even when it was
    cancelled or its worker died)."""
    ctx.set_outcome((instance.location, outcome.get(instance.location, NOT_REACHED)) for instance in targets)


def _outcome(ctx, targets, outcome: dict) -> None:
    _record(ctx, targets, outcome)
    lines = ["Outcome per instance:"]
    for instance in targets:
        lines.append(f"  {instance.location}: {outcome.get(instance.location, NOT_REACHED)}")
    try:
        ctx.log("\n".join(lines))
    except Exception:  # noqa: BLE001 - a cancelled job cannot write more lines (the record stays)
        pass
