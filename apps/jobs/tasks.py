"""Celery tasks of the jobs app: thin wrappers over runner functions."""
from celery import shared_task

from apps.jobs.heartbeat import process_identity
from apps.jobs.runner import reap_stale_jobs, run_job


@shared_task(name="jobs.run", bind=True, acks_late=True)
def run_job_task(self, job_id: int):
    # The job records this process's identity (the one its heartbeat thread writes), so the
    # reaper can tell when this very process is gone. Eager runs happen inside a web request.
    worker = "inline" if self.request.is_eager else process_identity(self.request.hostname or "")
    run_job(job_id, worker=worker)


@shared_task(name="jobs.reap_stale")
def reap_stale_jobs_task():
    return reap_stale_jobs()
