"""A job through a real Celery worker process and a real Redis broker; and a worker that dies."""
from __future__ import annotations

import time

import pytest

from apps.accounts.models import Membership
from apps.jobs import actions
from apps.jobs.models import Job
from apps.jobs.runner import reap_stale_jobs

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.redis]


def wait_for(job: Job, statuses, timeout=60) -> Job:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if job.status in statuses:
            return job
        time.sleep(0.2)
    pytest.fail(f"job stayed {job.status}")


def test_demo_job_runs_in_a_real_worker(personas, worker):
    membership = Membership.objects.get(user=personas.operator, team=personas.team)
    job = actions.start_job(membership=membership, kind="check_connectivity", params={"pause": 0.05})
    job = wait_for(job, Job.FINISHED)
    assert job.status == Job.Status.SUCCEEDED, job.error
    assert job.worker.startswith("testworker@")
    assert job.progress == 100
    assert job.lines.filter(text="Broker ok.").exists()


def test_job_of_a_killed_worker_ends_failed(personas, worker, settings):
    membership = Membership.objects.get(user=personas.operator, team=personas.team)
    job = actions.start_job(membership=membership, kind="check_connectivity", params={"pause": 5})
    job = wait_for(job, [Job.Status.RUNNING])
    worker.kill()  # SIGKILL: no clean shutdown, the heartbeat just stops
    worker.wait()
    settings.WORKER_STALE_SECONDS = 2
    deadline = time.monotonic() + 30
    while reap_stale_jobs() == 0 and time.monotonic() < deadline:
        time.sleep(0.5)
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED
    assert "stopped before it finished" in job.error
