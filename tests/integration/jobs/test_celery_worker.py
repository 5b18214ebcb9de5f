"""A job through a real Celery worker process and a real Redis broker; and a worker that dies."""
from __future__ import annotations

import time

import pytest

from apps.accounts.models import Membership
from apps.jobs import actions
from apps.jobs.models import Job, ProcessHeartbeat
from apps.jobs.runner import reap_stale_jobs
from tests.conftest import start_worker_process, stop_process

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.redis]


def wait_for(job: Job, statuses, timeout=60) -> Job:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if job.status in statuses:
            return job
        time.sleep(0.2)
    pytest.fail(f"job stayed {job.status}")


def test_it_demo_job_runs_in_a_real_worker(personas, worker):
    membership = Membership.objects.get(user=personas.operator, team=personas.team)
    job = actions.start_job(membership=membership, kind="check_connectivity", params={"pause": 0.05})
    job = wait_for(job, Job.FINISHED)
    assert job.status == Job.Status.SUCCEEDED, job.error
    assert job.worker.startswith("testworker@")
    assert job.progress == 100
    assert job.lines.filter(text="Broker ok.").exists()


def test_it_job_of_a_killed_worker_ends_failed(personas, worker, settings):
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


def test_it_ends_the_job_of_a_killed_worker_when_it_restarts_under_the_same_name(personas, worker, redis_broker):
    """Issue 10 F7: the restarted worker's fresh heartbeat used to hide the dead process."""
    membership = Membership.objects.get(user=personas.operator, team=personas.team)
    job = actions.start_job(membership=membership, kind="check_connectivity", params={"pause": 5})
    job = wait_for(job, [Job.Status.RUNNING])
    dead = ProcessHeartbeat.objects.get(identity=job.worker)
    assert dead.pid == worker.pid
    worker.kill()  # SIGKILL: no clean shutdown, the heartbeat just stops
    worker.wait()
    again = start_worker_process(redis_broker, wait=False)  # the same Celery node name
    try:
        deadline = time.monotonic() + 60
        while not ProcessHeartbeat.objects.filter(hostname=dead.hostname).exclude(pk=dead.pk).exists():
            assert again.poll() is None and time.monotonic() < deadline, "the new worker did not start"
            time.sleep(0.2)
        # Well inside WORKER_STALE_SECONDS (60 s): the new process of that name proves the old gone.
        assert reap_stale_jobs() == 1
        job.refresh_from_db()
        assert job.status == Job.Status.FAILED
        assert "stopped before it finished" in job.error
        assert f"a new worker process of {dead.hostname} has started" in job.lines.last().text
    finally:
        stop_process(again)
