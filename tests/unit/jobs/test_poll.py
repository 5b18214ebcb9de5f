"""The job page's poll (same URL as the page): the cursor never repeats or loses a line."""
from __future__ import annotations

import re

from django.urls import reverse
from django.utils import timezone

from apps.jobs import actions
from apps.jobs.models import Job, JobLine, ProcessHeartbeat
from apps.jobs.runner import JobContext, run_job


def _poll(client, job, after, status="", progress=0):
    url = reverse("jobs:detail", args=[job.pk])
    return client.get(url, {"after": after, "status": status, "progress": progress},
                      headers={"HX-Request": "true"})


def _seqs(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'data-seq="(\d+)"', html)]


def test_it_poll_cursor_delivers_each_line_exactly_once(personas, client_as):
    client = client_as("viewer")
    job = Job.objects.create(team=personas.team, kind="check_connectivity", status=Job.Status.RUNNING,
                             started_at=timezone.now(), worker="inline")
    ProcessHeartbeat.objects.create(identity="inline", hostname="inline", role="worker")
    ctx = JobContext(job)
    delivered = []
    cursor, status, progress = 0, "", 0
    for batch in range(4):
        for n in range(batch * 3):
            ctx.log(f"line {batch}.{n}", progress=batch * 20)
        response = _poll(client, job, cursor, status, progress)
        job.refresh_from_db()
        if response.status_code == 304:
            continue
        html = response.content.decode()
        delivered += _seqs(html)
        cursor = int(re.search(r'data-cursor="(\d+)"', html).group(1))
        status, progress = job.status, job.progress
    assert delivered == list(range(1, JobLine.objects.filter(job=job).count() + 1))
    # Nothing new: 304 (fluxpanel.htmx.unchanged), htmx swaps nothing and keeps polling.
    assert _poll(client, job, cursor, status, progress).status_code == 304


def test_it_poll_stops_with_286_when_finished(personas, client_as, operator_membership):
    job = actions.start_job(membership=operator_membership, kind="check_connectivity", params={"pause": 0})
    run_job(job.pk)
    response = _poll(client_as("viewer"), job, 0)
    assert response.status_code == 286
    html = response.content.decode()
    assert "Done." in html
    assert "hx-trigger" not in html.split('id="job-status"')[0]  # the new poller does not poll


def test_it_job_page_shows_progress_and_output(personas, client_as, operator_membership):
    job = actions.start_job(membership=operator_membership, kind="check_connectivity", params={"pause": 0})
    run_job(job.pk)
    html = client_as("viewer").get(reverse("jobs:detail", args=[job.pk])).content.decode()
    assert 'aria-valuenow="100"' in html
    assert "Broker ok." in html


def test_it_answers_a_garbage_or_huge_cursor_without_a_server_error(personas, client_as, operator_membership):
    job = actions.start_job(membership=operator_membership, kind="check_connectivity", params={"pause": 0})
    run_job(job.pk)
    client = client_as("viewer")
    for cursor in ("²", "-5", "abc", str(10**30), "9" * 400):
        response = _poll(client, job, cursor)
        assert response.status_code == 286, cursor  # read as 0: every line, then stop
        assert _seqs(response.content.decode())[0] == 1


def test_it_serves_the_whole_page_at_the_same_url_without_htmx(personas, client_as, operator_membership):
    job = actions.start_job(membership=operator_membership, kind="check_connectivity", params={"pause": 0})
    run_job(job.pk)
    response = client_as("viewer").get(reverse("jobs:detail", args=[job.pk]), {"after": 0})
    assert response.status_code == 200
    assert "<html" in response.content.decode()
    poller = re.search(r'<div id="job-poller"[^>]*>', response.content.decode()).group(0)
    assert "hx-get" not in poller  # a finished job's page does not poll


def test_it_polls_the_page_url_itself(personas, client_as, operator_membership):
    job = actions.start_job(membership=operator_membership, kind="check_connectivity")
    html = client_as("viewer").get(reverse("jobs:detail", args=[job.pk])).content.decode()
    url = reverse("jobs:detail", args=[job.pk])
    assert f'hx-get="{url}?after=0&status=queued&progress=0"' in html


def test_it_runs_the_same_few_queries_however_many_lines_a_poll_brings(personas, client_as):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_as("viewer")
    counts = []
    for size in (3, 300):
        job = Job.objects.create(team=personas.team, kind="check_connectivity", status=Job.Status.RUNNING,
                                 started_at=timezone.now(), worker="inline")
        ctx = JobContext(job)
        ctx.log("\n".join(f"line {n}" for n in range(size)))
        _poll(client, job, 0)  # warm up: the first request stores the team in the session
        with CaptureQueriesContext(connection) as captured:
            response = _poll(client, job, 0)
        assert len(_seqs(response.content.decode())) == size
        counts.append(len(captured))
    assert counts[0] == counts[1] <= 8, counts
