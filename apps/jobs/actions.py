"""Start and cancel jobs (each with its audit row)."""
from __future__ import annotations

from functools import partial

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from apps.accounts import audit
from apps.accounts.access import require_role
from apps.accounts.audit import AuditEvent
from apps.accounts.models import Membership, Role
from apps.jobs.kinds import get_kind
from apps.jobs.liveness import end_orphaned, gone_reasons
from apps.jobs.models import HELD_FOR, Job, JobLine


def start_job(*, membership: Membership, kind: str, target: str = "", params=None) -> Job:
    job_kind = get_kind(kind)
    if job_kind is None:
        raise ValidationError(f"Unknown job kind “{kind}”.")
    require_role(membership, job_kind.role)
    with transaction.atomic():
        job = Job.objects.create(
            team=membership.team, kind=kind, target=target, params=params or {},
            requested_by=membership.user,
        )
        audit.record(
            team=membership.team, actor=membership.user, action=AuditEvent.JOB_START, target=job,
            kind=kind,
        )
        transaction.on_commit(lambda: enqueue(job.pk))
    return job


def release_held_jobs(team_id: int, job_ids, *, signed: bool, reason: str) -> int:
    """Queued jobs held until a signing request ended (apps.wallets.actions.hold_job_until_signed):
    once it is signed they go to a worker (after the commit); otherwise they end cancelled, with
    why on their page. Runs inside the transaction that ends the request. Returns how many."""
    held = list(Job.objects.select_for_update().filter(team_id=team_id, pk__in=list(job_ids),
                                                       status=Job.Status.QUEUED))
    for job in held:
        job.params = {k: v for k, v in job.params.items() if k != HELD_FOR}
        if signed:
            job.save(update_fields=["params"])
            transaction.on_commit(partial(enqueue, job.pk))
            continue
        text = f"Not started: the signing request it waited for ended ({reason})"
        job.status, job.finished_at, job.error = Job.Status.CANCELLED, timezone.now(), text
        job.last_line += 1
        job.save(update_fields=["params", "status", "finished_at", "error", "last_line"])
        JobLine.objects.create(job=job, seq=job.last_line, text=text)
    return len(held)


def enqueue(job_id: int) -> None:
    from apps.jobs.tasks import run_job_task

    run_job_task.delay(job_id)


def cancel_job(*, membership: Membership, job: Job) -> Job:
    """Cancel a job: a queued one at once; a running one at its next step, or at once when its
    worker process is gone (nobody would ever read the request)."""
    kind = get_kind(job.kind)
    require_role(membership, kind.role if kind else Role.OPERATOR)
    if job.team_id != membership.team_id:
        raise PermissionDenied("This job belongs to another team.")
    with transaction.atomic():
        job = Job.objects.select_for_update().get(pk=job.pk)
        if job.is_finished:
            raise ValidationError("This job has already finished.")
        if job.status == Job.Status.QUEUED:
            # Not started: finish it here; the worker will skip it (it only claims queued jobs).
            job.status = Job.Status.CANCELLED
            job.finished_at = timezone.now()
            job.save(update_fields=["status", "finished_at"])
        else:
            job.cancel_requested = True
            job.save(update_fields=["cancel_requested"])
            reason = gone_reasons([job]).get(job.pk)
            if reason:
                end_orphaned(job, reason)
        audit.record(team=membership.team, actor=membership.user, action=AuditEvent.JOB_CANCEL,
                     target=job)
    job.refresh_from_db()
    return job
