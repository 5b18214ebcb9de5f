"""The job kind `node_admin`: one admin operation (apps.nodes.admin_ops) on one node, selected
nodes, or rolling across the fleet one node at a time (apps.nodes.admin_actions starts it).

A line per node and step, progress, cancel between nodes, the outcome per node (`set_outcome`).
A node under a maintenance claim or inside its FluxOS maintenance window is never touched: it is
waited for (bounded, app operations' rule) or, when failures are skipped, skipped at once. A
rolling step waits until the restarted part answers again before the next node; the first
failure stops the job unless failures are skipped. A node without a valid admin session fails
with that reason and gets no call; nothing is retried.
"""
from __future__ import annotations

import time

from apps.accounts.models import Role
from apps.jobs.kinds import job_kind
from apps.jobs.models import OUTCOME_IN_PROGRESS
from apps.nodes import admin_ops
from apps.operations import operations as ops

JOB_KIND = "node_admin"
NOT_REACHED = "not reached"
SKIPPED = "skipped"


def _member(job):
    from django.core.exceptions import PermissionDenied

    from apps.accounts.access import member_for_task

    try:
        return member_for_task(job.requested_by_id, job.team_id, Role.MANAGER)
    except PermissionDenied:
        raise ops.OperationFailed("The member who started this operation is no longer a manager of the team.") from None


class _Outcome:
    """The outcome per node, kept on the job after each node (shown even when it was cancelled)."""

    def __init__(self, ctx, nodes):
        self.ctx, self.nodes, self.text = ctx, nodes, {}

    def save(self, acting=None) -> None:
        self.ctx.set_outcome((n.name, OUTCOME_IN_PROGRESS if acting is not None and n.pk == acting.pk
                              else self.text.get(n.pk, NOT_REACHED)) for n in self.nodes)

    def count(self, prefix: str) -> int:
        return sum(1 for text in self.text.values() if text.startswith(prefix))


@job_kind(JOB_KIND, label="Node admin operation", role=Role.MANAGER)
def run_node_admin(ctx, operation: str, mode: str, nodes=(), skip_failures: bool = False):
    from apps.nodes.models import Node

    membership = _member(ctx.job)
    op = admin_ops.ADMIN_OPERATIONS[operation]
    targets = list(Node.objects.filter(team_id=ctx.job.team_id, pk__in=list(nodes)).order_by("name"))
    if not targets:
        raise ops.OperationFailed(f"{op.label}: no node to act on.")
    ctx.log(f"{op.label}: {len(targets)} node(s), {admin_ops.MODES[mode].split(' (')[0].lower()}.", progress=2)
    outcome = _Outcome(ctx, targets)
    outcome.save()
    acting = None
    try:
        for done, node in enumerate(targets):
            ctx.check_cancelled()  # cancel between nodes
            acting = node
            outcome.save(acting=node)
            outcome.text[node.pk] = _one(ctx, membership, op, node, rolling=mode == "rolling",
                                         skip=skip_failures)
            acting = None
            outcome.save()
            ctx.progress(5 + (done + 1) * 90 // len(targets))
            if outcome.text[node.pk].startswith("failed") and not skip_failures:
                break
    finally:
        outcome.save(acting=acting)
        _summary(ctx, outcome)
    failed = outcome.count("failed")
    skipped = outcome.count(SKIPPED)
    if failed:
        verb = "the others skipped past" if skip_failures else "stopped at the first failure"
        first = next(outcome.text[n.pk] for n in targets if outcome.text.get(n.pk, "").startswith("failed"))
        raise ops.OperationFailed(f"{op.label}: {failed} of {len(targets)} node(s) failed ({verb}): "
                                  + first.removeprefix("failed: "))
    ctx.log(f"{op.label}: done on {len(targets) - skipped} of {len(targets)} node(s)"
            + (f", {skipped} skipped (not touched)" if skipped else "") + ".", progress=100)


def _one(ctx, membership, op, node, *, rolling: bool, skip: bool) -> str:
    """The outcome text of one node: "done: …", "skipped: …" or "failed: …"."""
    from apps.jobs.runner import JobCancelled

    label = node.name
    if skip:
        reason = ops.blocked_reason(node)
        if reason:
            ctx.log(f"{label}: SKIPPED — {reason}; not touched.")
            return f"{SKIPPED}: {reason}"
    problem = ops.wait_unblocked(ctx, label, node)
    if problem:
        ctx.log(f"{label}: FAILED — {problem}")
        return f"failed: {problem}"
    auth = admin_ops.session_auth(node, membership, op.privileges)
    if auth is None:
        problem = admin_ops.no_session_text(node, op.privileges)
        ctx.log(f"{label}: FAILED — {problem}")
        return f"failed: {problem}"
    ctx.log(f"{label}: {op.label.lower()}…")
    asked_at = time.monotonic()
    try:
        message = admin_ops.perform(node, op, auth)
    except JobCancelled:
        raise
    except Exception as exc:  # noqa: BLE001 - every failure of one node is its outcome
        problem = ops.failure_reason(exc)
        ctx.log(f"{label}: FAILED — {problem}")
        return f"failed: {problem}"
    ctx.log(f"{label}: FluxOS answered: {message}")
    if not rolling:
        return f"done: {message}"
    ctx.log(f"{label}: waiting until it answers again…")
    said, problem = admin_ops.wait_back(node, op, asked_at, check=ctx.check_cancelled)
    if problem:
        ctx.log(f"{label}: FAILED — {problem}")
        return f"failed: {problem}"
    ctx.log(f"{label}: {said}.")
    return f"done: {said}"


def _summary(ctx, outcome: _Outcome) -> None:
    lines = ["Outcome per node:"] + [f"  {n.name}: {outcome.text.get(n.pk, NOT_REACHED)}" for n in outcome.nodes]
    try:
        ctx.log("\n".join(lines))
    except Exception:  # noqa: BLE001 - a cancelled job cannot write more lines (the outcome stays)
        pass
