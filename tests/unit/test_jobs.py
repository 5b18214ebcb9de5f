"""Jobs: the runner records output and outcome; the poll cursor never repeats or loses a line."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.accounts.models import AuditEntry, Membership
from apps.jobs import actions
from apps.jobs.kinds import REGISTRY, job_kind
from apps.jobs.models import Job, JobLine, ProcessHeartbeat
from apps.jobs.runner import JobContext, reap_stale_jobs, run_job


@pytest.fixture
def operator_membership(personas):
    return Membership.objects.get(user=personas.operator, team=personas.team)


@pytest.fixture
def scripted_kind():
    """A job kind whose body the test supplies."""
    calls = {}

    @job_kind("test_scripted", label="Scripted")
    def scripted(ctx, **params):
        calls["body"](ctx, **params)

    yield calls
    REGISTRY.pop("test_scripted")


def test_demo_job_runs_to_completion(operator_membership):
    job = actions.start_job(membership=operator_membership, kind="check_connectivity")
    job = run_job(job.pk, worker="test")
    assert job.status == Job.Status.SUCCEEDED
    assert job.progress == 100
    texts = list(job.lines.values_list("text", flat=True))
    assert texts[0] == "Checking the database…"
    assert "Broker ok." in texts
    assert "No nodes registered yet: nothing more to check." in texts
    assert texts[-1] == "Done."
    assert list(job.lines.values_list("seq", flat=True)) == list(range(1, len(texts) + 1))
    assert AuditEntry.objects.filter(action="job.start", target_id=str(job.pk)).exists()


def test_failure_is_recorded_with_its_reason(operator_membership, scripted_kind):
    def body(ctx):
        ctx.log("step one", progress=40)
        raise ValueError("node 10.0.0.1 refused the connection")

    scripted_kind["body"] = body
    job = actions.start_job(membership=operator_membership, kind="test_scripted")
    job = run_job(job.pk)
    assert job.status == Job.Status.FAILED
    assert job.error == "node 10.0.0.1 refused the connection"
    assert job.progress == 40
    assert job.lines.last().text == "Failed: node 10.0.0.1 refused the connection"


def test_cancel_running_job_stops_it_at_the_next_step(operator_membership, scripted_kind):
    seen = []

    def body(ctx):
        for step in range(10):
            if step == 3:
                Job.objects.filter(pk=ctx.job.pk).update(cancel_requested=True)
            ctx.log(f"step {step}")
            seen.append(step)

    scripted_kind["body"] = body
    job = actions.start_job(membership=operator_membership, kind="test_scripted")
    job = run_job(job.pk)
    assert job.status == Job.Status.CANCELLED
    assert seen == [0, 1, 2]
    assert job.lines.last().text == "Cancelled on request."


def test_cancel_queued_job_is_never_run(operator_membership, scripted_kind):
    scripted_kind["body"] = lambda ctx: pytest.fail("a cancelled job must not run")
    job = actions.start_job(membership=operator_membership, kind="test_scripted")
    actions.cancel_job(membership=operator_membership, job=job)
    assert run_job(job.pk) is None
    job.refresh_from_db()
    assert job.status == Job.Status.CANCELLED


def test_finished_job_cannot_be_cancelled(operator_membership):
    job = actions.start_job(membership=operator_membership, kind="check_connectivity", params={"pause": 0})
    run_job(job.pk)
    with pytest.raises(Exception, match="already finished"):
        actions.cancel_job(membership=operator_membership, job=job)


def test_unknown_kind_is_refused(operator_membership):
    with pytest.raises(Exception, match="Unknown job kind"):
        actions.start_job(membership=operator_membership, kind="format_disk")
    assert not Job.objects.exists()


def test_dead_worker_job_is_marked_failed(personas):
    started = timezone.now() - timedelta(minutes=5)
    job = Job.objects.create(
        team=personas.team, kind="check_connectivity", status=Job.Status.RUNNING,
        started_at=started, worker="worker@gone",
    )
    ProcessHeartbeat.objects.create(hostname="worker@gone", role="worker", last_seen=started)
    alive = Job.objects.create(
        team=personas.team, kind="check_connectivity", status=Job.Status.RUNNING,
        started_at=started, worker="worker@alive",
    )
    ProcessHeartbeat.objects.create(hostname="worker@alive", role="worker", last_seen=timezone.now())
    assert reap_stale_jobs() == 1
    job.refresh_from_db()
    alive.refresh_from_db()
    assert job.status == Job.Status.FAILED
    assert "worker@gone" in job.error
    assert alive.status == Job.Status.RUNNING
    # A redelivered message for the reaped job does not run it again.
    assert run_job(job.pk) is None


def _poll(client, job, after, status="", progress=0):
    url = reverse("jobs:poll", args=[job.pk])
    return client.get(url, {"after": after, "status": status, "progress": progress})


def _seqs(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'data-seq="(\d+)"', html)]


def test_poll_cursor_delivers_each_line_exactly_once(personas, client_as):
    client = client_as("viewer")
    job = Job.objects.create(team=personas.team, kind="check_connectivity", status=Job.Status.RUNNING,
                             started_at=timezone.now(), worker="inline")
    ProcessHeartbeat.objects.create(hostname="inline", role="worker")
    ctx = JobContext(job)
    delivered = []
    cursor, status, progress = 0, "", 0
    for batch in range(4):
        for n in range(batch * 3):
            ctx.log(f"line {batch}.{n}", progress=batch * 20)
        response = _poll(client, job, cursor, status, progress)
        job.refresh_from_db()
        if response.status_code == 204:
            continue
        html = response.content.decode()
        delivered += _seqs(html)
        cursor = int(re.search(r'data-cursor="(\d+)"', html).group(1))
        status, progress = job.status, job.progress
    assert delivered == list(range(1, JobLine.objects.filter(job=job).count() + 1))
    # Nothing new: 204, htmx swaps nothing and keeps polling.
    assert _poll(client, job, cursor, status, progress).status_code == 204


def test_poll_stops_with_286_when_finished(personas, client_as, operator_membership):
    job = actions.start_job(membership=operator_membership, kind="check_connectivity", params={"pause": 0})
    run_job(job.pk)
    response = _poll(client_as("viewer"), job, 0)
    assert response.status_code == 286
    html = response.content.decode()
    assert "Done." in html
    assert "hx-trigger" not in html.split('id="job-status"')[0]  # the new poller does not poll


def test_job_page_shows_progress_and_output(personas, client_as, operator_membership):
    job = actions.start_job(membership=operator_membership, kind="check_connectivity", params={"pause": 0})
    run_job(job.pk)
    html = client_as("viewer").get(reverse("jobs:detail", args=[job.pk])).content.decode()
    assert 'aria-valuenow="100"' in html
    assert "Broker ok." in html
