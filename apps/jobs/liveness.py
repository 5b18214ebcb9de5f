"""Is the process that runs a job still there? And ending a job whose process is gone.

A running job names its process (`Job.worker` = `ProcessHeartbeat.identity`). The process is gone
when its heartbeat row is missing or silent for WORKER_STALE_SECONDS, or at once when a newer
process with the same Celery node name has started (a worker restarted after a SIGKILL, a
container restarted): Celery node names are unique among live workers, so the older one is dead.
"""
from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from apps.jobs.models import Job, JobLine, ProcessHeartbeat


def gone_reasons(jobs, now=None) -> dict[int, str]:
    """For each of `jobs` (running) whose process is gone: job id -> why we think so."""
    now = now or timezone.now()
    stale_before = now - timedelta(seconds=settings.WORKER_STALE_SECONDS)
    identities = {job.worker for job in jobs}
    rows = {row.identity: row for row in ProcessHeartbeat.objects.filter(identity__in=identities)}
    newest_start = {}
    for hostname, started in ProcessHeartbeat.objects.filter(
        hostname__in={row.hostname for row in rows.values()}, role=ProcessHeartbeat.Role.WORKER
    ).values_list("hostname", "started_at"):
        newest_start[hostname] = max(started, newest_start.get(hostname, started))
    reasons = {}
    for job in jobs:
        row = rows.get(job.worker)
        if row is None:
            # "inline" (run by a web process) or unknown: no heartbeat to go by, only the job's age.
            if job.started_at is None or job.started_at < stale_before:
                reasons[job.pk] = "it sends no heartbeat"
        elif newest_start.get(row.hostname, row.started_at) > row.started_at:
            reasons[job.pk] = f"a new worker process of {row.hostname} has started since"
        elif row.last_seen < stale_before:
            seconds = int((now - row.last_seen).total_seconds())
            reasons[job.pk] = f"its last heartbeat was {seconds} s ago"
    return reasons


def end_orphaned(job: Job, reason: str, now=None) -> bool:
    """End a running job whose process is gone: cancelled if a member asked for that, else failed.

    One conditional UPDATE, so the job's own process (should it be alive after all) and a second
    reaper cannot both end it; the line number comes from the row, so no line is lost or doubled.
    """
    now = now or timezone.now()
    worker = job.worker or "unknown"
    with transaction.atomic():
        current = Job.objects.filter(pk=job.pk, status=Job.Status.RUNNING).values_list(
            "cancel_requested", flat=True).first()
        if current is None:
            return False
        if current:
            status, text = Job.Status.CANCELLED, f"Cancelled: the worker {worker} is gone ({reason})."
            error = ""
        else:
            status = Job.Status.FAILED
            text = f"Failed: the worker {worker} stopped before the job finished ({reason})."
            error = f"The worker running this job ({worker}) stopped before it finished."
        updated = Job.objects.filter(pk=job.pk, status=Job.Status.RUNNING).update(
            status=status, finished_at=now, error=error, cancel_requested=False,
            last_line=F("last_line") + 1,
        )
        if not updated:
            return False
        seq = Job.objects.filter(pk=job.pk).values_list("last_line", flat=True).get()
        JobLine.objects.create(job_id=job.pk, seq=seq, at=now, text=text)
    return True
