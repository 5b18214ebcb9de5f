"""Celery tasks of the jobs app: thin wrappers over runner functions."""
from celery import shared_task

from apps.jobs.runner import reap_stale_jobs, run_job


@shared_task(name="jobs.run", bind=True, acks_late=True)
def run_job_task(self, job_id: int):
    run_job(job_id, worker=self.request.hostname or "inline")


@shared_task(name="jobs.reap_stale")
def reap_stale_jobs_task():
    return reap_stale_jobs()
