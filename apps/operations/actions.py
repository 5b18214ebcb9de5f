"""Start an app operation: operator role (refusals audited), checked input, one Job with its audit
row in the same transaction, enqueued on commit. The job's params hold no credential."""
from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from apps.accounts import audit
from apps.accounts.access import require_role_audited
from apps.accounts.audit import AuditEvent
from apps.accounts.models import Membership, Role
from apps.jobs.actions import enqueue
from apps.jobs.models import Job
from apps.operations import operations as ops
from apps.operations.jobs import JOB_KIND

AUDIT_ACTION = AuditEvent.OPERATIONS_START


def start_operation(*, membership: Membership, app, operation: str, mode: str, component: str = "",
                    instance_ids=(), batch: int = 1, skip_failures: bool = False,
                    confirm_name: str = "", window_end: str = "", schedule=None,
                    when_signed: bool = False) -> Job:
    """`window_end` and `schedule` are a scheduled run's (apps.operations.schedules, as the
    schedule's creator): the job stops before a next group once the window ended."""
    require_role_audited(membership, Role.OPERATOR, "operations.actions.start_operation")
    if app.team_id != membership.team_id:
        raise ValidationError("This app belongs to another team.")
    op = ops.OPERATIONS.get(operation)
    if op is None:
        raise ValidationError("Choose an operation.")
    if mode not in ops.MODES:
        raise ValidationError("Choose a target.")
    component = (component or "").strip()
    if component:
        from apps.deployments.sync import component_names

        if component not in component_names(app.spec or {}):
            raise ValidationError(f"{app.name} has no component “{component}”.")
        if not op.component_ok:
            raise ValidationError(f"{op.label} acts on the whole app, not a component.")
        if mode == "global":
            raise ValidationError("FluxOS's global route acts on the whole app, not a component.")
    if operation == "hard_redeploy" and confirm_name.strip() != app.name:
        raise ValidationError(f"A hard redeploy wipes the app's data: type the app name “{app.name}” to confirm.")
    known = set(app.instances.values_list("pk", flat=True))
    ids = sorted({int(i) for i in instance_ids if str(i).isdigit()} & known)
    if mode == "one" and len(ids) != 1:
        raise ValidationError("Choose one instance.")
    if mode == "selected" and not ids:
        raise ValidationError("Select at least one instance.")
    if mode in ("global",):
        ids = []
    if not known:
        raise ValidationError(f"{app.name} has no known instance (run an app sync first).")
    try:
        batch = int(batch)
    except (TypeError, ValueError):
        batch = 1
    if mode == "rolling" and not 1 <= batch <= ops.MAX_BATCH:
        raise ValidationError(f"Rolling: 1 to {ops.MAX_BATCH} instances at a time.")
    params = {"app": app.pk, "operation": operation, "mode": mode, "component": component,
              "instances": ids, "batch": batch if mode == "rolling" else 1,
              "skip_failures": bool(skip_failures)}
    if window_end:
        params["window_end"] = window_end
    scheduled = {"schedule": schedule.pk, "window_end": window_end} if schedule is not None else {}
    with transaction.atomic():
        job = Job.objects.create(team=membership.team, kind=JOB_KIND, target=f"{op.label} {app.name}"[:200],
                                 params=params, requested_by=membership.user)
        held = _hold_until_signed(membership, app, job, op) if when_signed else {}
        audit.record(team=membership.team, actor=membership.user, action=AUDIT_ACTION, target=app,
                     job=job.pk, operation=operation, mode=mode, component=component,
                     instances=len(ids) or len(known), batch=params["batch"], skip_failures=params["skip_failures"],
                     **scheduled, **held)
        if not held:
            transaction.on_commit(lambda: enqueue(job.pk))
    return job


def _hold_until_signed(membership, app, job, op) -> dict:
    """'Start once signed': the job waits, queued but with no worker, for the owner's app-owner
    authorisation (the key holder's signing request); the audit row names the request."""
    from apps.wallets.actions import hold_job_until_signed

    if not app.owner:
        raise ValidationError(f"{app.name} has no known owner to ask for an authorisation.")
    request = hold_job_until_signed(
        membership=membership, job=job, zelid=app.owner,
        purpose=f"Let the panel run app-owner operations on the apps of {app.owner} for 2 hours; "
                f"then it starts: {op.label} {app.name} (job #{job.pk}).")
    return {"held_for_request": request.pk}
