"""A job whose worker process is gone ends (issue 10 F7), even when a worker of the same name is
alive again; cancelling such a job ends it at once."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.jobs import actions
from apps.jobs.models import Job, JobLine, ProcessHeartbeat
from apps.jobs.runner import JobCancelled, JobContext, reap_stale_jobs, run_job


def _running_job(team, worker, started):
    return Job.objects.create(team=team, kind="check_connectivity", status=Job.Status.RUNNING,
                              started_at=started, worker=worker)


def _process(identity, hostname, *, started, last_seen):
    return ProcessHeartbeat.objects.create(identity=identity, hostname=hostname, role="worker",
                                           started_at=started, last_seen=last_seen)


def test_it_fails_the_job_of_a_silent_worker_and_keeps_the_others(personas):
    now = timezone.now()
    started = now - timedelta(minutes=5)
    gone = _running_job(personas.team, "worker@a/10/x", started)
    _process("worker@a/10/x", "worker@a", started=started, last_seen=started)
    alive = _running_job(personas.team, "worker@b/11/y", started)
    _process("worker@b/11/y", "worker@b", started=started, last_seen=now)
    assert reap_stale_jobs() == 1
    gone.refresh_from_db()
    alive.refresh_from_db()
    assert gone.status == Job.Status.FAILED
    assert "worker@a/10/x" in gone.error and "stopped before it finished" in gone.error
    assert gone.lines.last().seq == gone.last_line == 1
    assert alive.status == Job.Status.RUNNING
    # A redelivered message for the reaped job does not run it again.
    assert run_job(gone.pk) is None


def test_it_fails_the_job_of_a_worker_restarted_under_the_same_name_at_once(personas):
    """The old bug: the restarted worker's fresh heartbeat (same host name) hid the dead one."""
    now = timezone.now()
    old_start = now - timedelta(seconds=20)  # died a moment ago: its heartbeat is not stale yet
    job = _running_job(personas.team, "worker@host/100/old", old_start)
    _process("worker@host/100/old", "worker@host", started=old_start, last_seen=now - timedelta(seconds=5))
    _process("worker@host/100/new", "worker@host", started=now - timedelta(seconds=2), last_seen=now)
    assert reap_stale_jobs() == 1
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED
    assert "a new worker process of worker@host has started" in job.lines.last().text


def test_it_leaves_a_fresh_inline_job_alone_and_reaps_an_old_one(personas):
    now = timezone.now()
    fresh = _running_job(personas.team, "inline", now)
    old = _running_job(personas.team, "inline", now - timedelta(minutes=5))
    assert reap_stale_jobs() == 1
    fresh.refresh_from_db()
    old.refresh_from_db()
    assert (fresh.status, old.status) == (Job.Status.RUNNING, Job.Status.FAILED)


def test_it_cancels_at_once_a_job_whose_worker_is_gone(personas, client_as):
    now = timezone.now()
    started = now - timedelta(seconds=10)
    job = _running_job(personas.team, "worker@host/7/dead", started)
    _process("worker@host/7/dead", "worker@host", started=started, last_seen=started)
    _process("worker@host/8/next", "worker@host", started=now, last_seen=now)
    response = client_as("operator").post(reverse("jobs:cancel", args=[job.pk]), follow=True)
    assert "Job cancelled." in response.content.decode()
    job.refresh_from_db()
    assert job.status == Job.Status.CANCELLED
    assert job.finished_at is not None and not job.cancel_requested
    assert job.lines.last().text.startswith("Cancelled: the worker worker@host/7/dead is gone")


def test_it_only_requests_cancellation_while_the_worker_is_alive(personas, operator_membership):
    now = timezone.now()
    job = _running_job(personas.team, "worker@host/9/live", now)
    _process("worker@host/9/live", "worker@host", started=now, last_seen=now)
    job = actions.cancel_job(membership=operator_membership, job=job)
    assert (job.status, job.cancel_requested) == (Job.Status.RUNNING, True)


def test_it_stops_a_reaped_job_at_its_next_step_without_rewriting_its_end(personas):
    job = _running_job(personas.team, "inline", timezone.now() - timedelta(minutes=5))
    ctx = JobContext(job)
    ctx.log("step 1")
    assert reap_stale_jobs() == 1
    with pytest.raises(JobCancelled):
        ctx.log("step 2")
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED
    texts = list(JobLine.objects.filter(job=job).values_list("seq", "text"))
    assert [seq for seq, _ in texts] == [1, 2]
    assert texts[0][1] == "step 1" and texts[1][1].startswith("Failed: the worker inline")
