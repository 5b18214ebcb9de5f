"""Job list and job page; the page's poll (same URL, asked by htmx with a cursor) streams the
job's output."""
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from apps.accounts.access import team_object_or_404, team_view
from apps.accounts.models import Role
from apps.jobs import actions
from apps.jobs.kinds import REGISTRY
from apps.jobs.models import Job
from apps.jobs.runner import reap_stale_jobs
from fluxpanel.htmx import stop_polling, unchanged
from fluxpanel.params import parse_int

LINES_PER_POLL = 500
MAX_CURSOR = 2**31 - 1  # JobLine.seq is a PositiveIntegerField


@team_view()
def job_list(request):
    jobs = Job.objects.filter(team=request.team).select_related("requested_by")
    page = Paginator(jobs, 30).get_page(request.GET.get("page"))
    startable = [k for k in REGISTRY.values() if k.manual and request.membership.can(k.role)]
    return render(request, "jobs/list.html", {"page": page, "startable": startable})


@team_view(Role.OPERATOR)
@require_POST
def job_start(request):
    try:
        job = actions.start_job(membership=request.membership, kind=request.POST.get("kind", ""))
    except ValidationError as error:
        messages.error(request, error.messages[0])
        return redirect("jobs:list")
    return redirect("jobs:detail", pk=job.pk)


@team_view()
def job_detail(request, pk):
    """The job page; with `after` (the poller's cursor) and htmx asking, only what changed."""
    if request.htmx and "after" in request.GET:
        return _job_poll(request, pk)
    job = team_object_or_404(Job.objects.select_related("requested_by"), request.team, pk=pk)
    if job.status == Job.Status.RUNNING and reap_stale_jobs():
        job.refresh_from_db()
    lines = list(job.lines.all()[:LINES_PER_POLL])
    cursor = lines[-1].seq if lines else 0
    return render(
        request,
        "jobs/detail.html",
        {"job": job, "lines": lines, "cursor": cursor, "can_cancel": request.membership.can(Role.OPERATOR)},
    )


def _job_poll(request, pk):
    """New lines after the client's cursor, plus progress and status.

    Answers 304 (`unchanged()`: htmx keeps polling, swaps nothing) when nothing changed since the
    client's view, and 286 (`stop_polling`) with the final fragment once the job has finished
    and every line was delivered. A cursor that is not a number in range counts as 0.
    """
    job = team_object_or_404(Job, request.team, pk=pk)
    if job.status == Job.Status.RUNNING and reap_stale_jobs():
        job.refresh_from_db()
    after = _cursor(request.GET.get("after"))
    seen_status = request.GET.get("status", "")
    seen_progress = _cursor(request.GET.get("progress"))
    if job.last_line <= after and job.status == seen_status and job.progress == seen_progress:
        return unchanged()
    lines = list(job.lines.filter(seq__gt=after)[:LINES_PER_POLL])
    cursor = lines[-1].seq if lines else after
    done = job.is_finished and cursor >= job.last_line
    response = render(
        request,
        "jobs/_poll.html",
        {"job": job, "lines": lines, "cursor": cursor, "done": done},
    )
    return stop_polling(response) if done else response


@team_view(Role.OPERATOR)
@require_POST
def job_cancel(request, pk):
    job = team_object_or_404(Job, request.team, pk=pk)
    try:
        job = actions.cancel_job(membership=request.membership, job=job)
    except ValidationError as error:
        messages.error(request, error.messages[0])
    else:
        messages.info(request, "Job cancelled." if job.is_finished else "Cancellation requested.")
    return redirect("jobs:detail", pk=job.pk)


def _cursor(value) -> int:
    return parse_int(value, minimum=0, maximum=MAX_CURSOR) or 0
