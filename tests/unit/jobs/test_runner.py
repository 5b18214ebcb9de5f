"""Jobs: the runner records output and outcome; cancelling stops a job at its next step."""
from __future__ import annotations

import pytest

from apps.accounts.models import AuditEntry
from apps.jobs import actions
from apps.jobs.models import Job
from apps.jobs.runner import run_job


def test_it_demo_job_runs_to_completion(operator_membership):
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


def test_it_failure_is_recorded_with_its_reason(operator_membership, scripted_kind):
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


def test_it_cancel_running_job_stops_it_at_the_next_step(operator_membership, scripted_kind):
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


def test_it_check_cancelled_passes_until_a_cancel_is_asked(operator_membership, scripted_kind):
    seen = []

    def body(ctx):
        for step in range(5):
            if step == 2:
                Job.objects.filter(pk=ctx.job.pk).update(cancel_requested=True)
            ctx.check_cancelled()  # no output line: the check alone must notice the request
            seen.append(step)

    scripted_kind["body"] = body
    job = run_job(actions.start_job(membership=operator_membership, kind="test_scripted").pk)
    assert seen == [0, 1]
    assert job.status == Job.Status.CANCELLED


def test_it_cancel_queued_job_is_never_run(operator_membership, scripted_kind):
    scripted_kind["body"] = lambda ctx: pytest.fail("a cancelled job must not run")
    job = actions.start_job(membership=operator_membership, kind="test_scripted")
    actions.cancel_job(membership=operator_membership, job=job)
    assert run_job(job.pk) is None
    job.refresh_from_db()
    assert job.status == Job.Status.CANCELLED


def test_it_finished_job_cannot_be_cancelled(operator_membership):
    job = actions.start_job(membership=operator_membership, kind="check_connectivity", params={"pause": 0})
    run_job(job.pk)
    with pytest.raises(Exception, match="already finished"):
        actions.cancel_job(membership=operator_membership, job=job)


def test_it_unknown_kind_is_refused(operator_membership):
    with pytest.raises(Exception, match="Unknown job kind"):
        actions.start_job(membership=operator_membership, kind="format_disk")
    assert not Job.objects.exists()
