"""The Exec page of a team app, `/operate/<app id>/exec/` (operators): choose the instance and the
component, type the command (and environment lines), Run. Posting starts one `app_exec` job and
goes to its Jobs page, where the output shows live as the node streams it; a refusal (unreadable
line, something that looks like a secret, no owner authorisation) comes back inside the form
(htmx swaps `_exec_form.html`). The page lists the app's recent exec jobs. No node is asked while
the page renders."""
from __future__ import annotations

from django.core.exceptions import ValidationError
from django.shortcuts import render

from apps.accounts.access import refusal_text, team_object_or_404, team_view
from apps.accounts.models import Role
from apps.deployments.models import TeamApp
from apps.jobs.models import Job
from apps.operations import exec_actions
from apps.operations import operations as ops
from apps.operations.exec_runs import JOB_KIND, no_owner_message

RECENT_JOBS = 10


def _context(request, app, data, error: str = "", *, blank: bool = False) -> dict:
    from apps.deployments.sync import component_names

    has_owner = ops.owner_auth(request.membership, app) is not None
    recent = (Job.objects.filter(team=request.team, kind=JOB_KIND, params__app=app.pk)
              .select_related("requested_by").order_by("-created_at", "-pk")[:RECENT_JOBS])
    return {"app": app, "instances": list(app.instances.select_related("node").order_by("location")),
            "components": component_names(app.spec or {}), "has_owner": has_owner,
            "no_owner_text": "" if has_owner else no_owner_message(app), "recent": list(recent),
            # A refused secret is never rendered back into the form.
            "command": "" if blank else data.get("command", ""), "env": "" if blank else data.get("env", ""),
            "instance": str(data.get("instance", "")), "component": data.get("component", ""), "error": error}


@team_view(Role.OPERATOR)
def app_exec(request, pk):
    app = team_object_or_404(TeamApp, request.team, pk=pk)
    if request.method != "POST":
        return render(request, "operations/exec.html", _context(request, app, request.GET))
    try:
        job = exec_actions.start_exec(
            membership=request.membership, app=app, instance_id=request.POST.get("instance", ""),
            component=request.POST.get("component", ""), command=request.POST.get("command", ""),
            env_text=request.POST.get("env", ""))
    except ValidationError as exc:
        context = _context(request, app, request.POST, refusal_text(exc),
                           blank=isinstance(exc, exec_actions.SecretRefused))
        return render(request, "operations/_exec_form.html" if request.htmx else "operations/exec.html", context)
    return ops.to_job_page(request, job)
