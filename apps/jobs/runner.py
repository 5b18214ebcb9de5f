"""Run a job's function and record everything it does into its row.

Tasks are thin wrappers over `run_job`, so tests run the very same code without a worker.
"""
from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone

from apps.jobs.heartbeat import forget_old
from apps.jobs.kinds import get_kind
from apps.jobs.liveness import end_orphaned, gone_reasons
from apps.jobs.models import HELD_FOR, Job, JobLine

log = logging.getLogger(__name__)


class JobCancelled(Exception):
    """Raised inside a job when a member asked to cancel it, or when it was ended elsewhere
    (reaped as orphaned, cancelled at once): the job's function stops at its next step."""


class JobContext:
    """What a job function gets: append output, report progress, notice cancellation."""

    def __init__(self, job: Job):
        self.job = job
        self._seq = job.last_line

    def log(self, text: str, *, progress: int | None = None) -> None:
        now = timezone.now()
        lines = [line for line in str(text).splitlines() or [""]]
        with transaction.atomic():
            # The row first: it locks the job and proves it is still ours to write to, so a
            # reaper that ended it meanwhile never shares a line number with us.
            first = self._seq + 1
            self._update(last_line=self._seq + len(lines), **self._progress_fields(progress))
            JobLine.objects.bulk_create(
                JobLine(job_id=self.job.pk, seq=first + offset, at=now, text=line)
                for offset, line in enumerate(lines)
            )
            self._seq += len(lines)

    def progress(self, percent: int) -> None:
        self._update(**self._progress_fields(percent))

    def set_outcome(self, pairs) -> None:
        """Record the outcome per target ([(target, text), ...]). Unlike log(), it is written after
        a cancel was asked for too (not once the job ended), so the page can say what was done."""
        outcome = [[str(target), str(text)] for target, text in pairs]
        Job.objects.filter(pk=self.job.pk, status=Job.Status.RUNNING).update(outcome=outcome)

    def check_cancelled(self) -> None:
        # An UPDATE of no field runs no SQL and reports no row: ask instead.
        if not Job.objects.filter(pk=self.job.pk, status=Job.Status.RUNNING,
                                  cancel_requested=False).exists():
            raise JobCancelled()

    def _progress_fields(self, percent):
        if percent is None:
            return {}
        return {"progress": max(0, min(100, int(percent)))}

    def _update(self, **fields) -> None:
        # One UPDATE that also tells us whether a cancel was requested (or the job was ended)
        # meanwhile.
        changed = Job.objects.filter(
            pk=self.job.pk, status=Job.Status.RUNNING, cancel_requested=False
        ).update(**fields)
        if not changed:
            raise JobCancelled()


def run_job(job_id: int, *, worker: str = "inline") -> Job | None:
    """Claim a queued job, run its kind's function, record the outcome.

    A job that is no longer queued (cancelled before it started, or already run and then
    redelivered by the broker after a worker died) is left alone.
    """
    # A job held until a signature (HELD_FOR) is not a worker's yet, even if a message names it.
    claimed = Job.objects.filter(pk=job_id, status=Job.Status.QUEUED).exclude(params__has_key=HELD_FOR).update(
        status=Job.Status.RUNNING, started_at=timezone.now(), worker=worker
    )
    if not claimed:
        return None
    job = Job.objects.get(pk=job_id)
    ctx = JobContext(job)
    kind = get_kind(job.kind)
    try:
        if kind is None:
            raise RuntimeError(f"Unknown job kind {job.kind!r}")
        kind.run(ctx, **job.params)
    except JobCancelled:
        _finish(job, Job.Status.CANCELLED, ctx, "Cancelled on request.")
    except Exception as exc:  # the job's failure is the job's outcome, not the worker's
        log.exception("job %s failed", job_id)
        _finish(job, Job.Status.FAILED, ctx, f"Failed: {exc}", error=str(exc) or type(exc).__name__)
    else:
        _finish(job, Job.Status.SUCCEEDED, ctx, "Done.", progress=100)
    job.refresh_from_db()
    return job


def _finish(job: Job, status: str, ctx: JobContext, line: str, *, error: str = "", progress=None):
    with transaction.atomic():
        # Let the last line through; a job that was ended elsewhere already has its last line.
        if not Job.objects.filter(pk=job.pk, status=Job.Status.RUNNING).update(cancel_requested=False):
            return
        ctx.log(line)
        fields = {"status": status, "finished_at": timezone.now(), "error": error}
        if progress is not None:
            fields["progress"] = progress
        Job.objects.filter(pk=job.pk, status=Job.Status.RUNNING).update(**fields)


def reap_stale_jobs(now=None) -> int:
    """End the running jobs whose process is gone (see apps.jobs.liveness).

    Returns how many jobs were ended. Runs on a beat schedule and when a page looks at a running
    job, so a dead worker never leaves a job "running" for ever.
    """
    now = now or timezone.now()
    running = list(Job.objects.filter(status=Job.Status.RUNNING).only("pk", "worker", "started_at"))
    reasons = gone_reasons(running, now) if running else {}
    reaped = sum(end_orphaned(job, reasons[job.pk], now) for job in running if job.pk in reasons)
    forget_old(now)
    return reaped
