"""The Operations page of a team app, `/operate/<app id>/` (operators): choose the operation, the
whole app or one component, and the target (one, selected, global, rolling); htmx swaps the form
partial when a choice changes (`?part=form`). Posting starts one `app_operation` job and goes to its
Jobs page, where its output shows live. Without a valid authorisation the page says so and offers
the Wallet page's app-owner signing request."""
from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from apps.accounts.access import team_object_or_404, team_view
from apps.accounts.models import Role
from apps.deployments.models import TeamApp
from apps.operations import actions
from apps.operations import operations as ops


def _context(request, app, data, error: str = "") -> dict:
    from apps.deployments.sync import component_names

    instances = list(app.instances.select_related("node").order_by("location"))
    usable, auth_text = ops.authorisation_summary(request.membership, app, instances)
    operation = data.get("operation") or "restart"
    if operation not in ops.OPERATIONS:
        operation = "restart"
    mode = data.get("mode") or "rolling"
    if mode not in ops.MODES:
        mode = "rolling"
    chosen = {str(i) for i in (data.getlist("instances") if hasattr(data, "getlist") else [])}
    return {"app": app, "instances": instances, "auth_usable": usable, "auth_text": auth_text,
            "operations": list(ops.OPERATIONS.values()), "modes": ops.MODES, "operation": ops.OPERATIONS[operation],
            "mode": mode, "components": component_names(app.spec or {}), "component": data.get("component", ""),
            "batch": data.get("batch", "1"), "skip_failures": bool(data.get("skip_failures")),
            "chosen": chosen, "error": error, "max_batch": ops.MAX_BATCH}


@team_view(Role.OPERATOR)
def operate(request, pk):
    app = team_object_or_404(TeamApp, request.team, pk=pk)
    if request.method == "POST":
        try:
            job = actions.start_operation(
                membership=request.membership, app=app, operation=request.POST.get("operation", ""),
                mode=request.POST.get("mode", ""), component=request.POST.get("component", ""),
                instance_ids=request.POST.getlist("instances"), batch=request.POST.get("batch", 1),
                skip_failures=bool(request.POST.get("skip_failures")),
                confirm_name=request.POST.get("confirm_name", ""),
                when_signed=request.POST.get("when_signed") == "1")
        except ValidationError as exc:
            error = " ".join(exc.messages)
            context = _context(request, app, request.POST, error)
            template = "operations/operate_form.html" if request.htmx else "operations/operate.html"
            return render(request, template, context, status=200)
        url = reverse("jobs:detail", args=[job.pk])
        if request.htmx:
            response = HttpResponse(status=204)
            response["HX-Redirect"] = url
            return response
        if job.held_for_request:
            messages.success(request, f"{job.target}: job #{job.pk} starts once the key holder signs the "
                                      "app-owner authorisation (Wallet page, signing requests).")
        else:
            messages.success(request, f"{job.target}: started as job #{job.pk}.")
        return redirect(url)
    context = _context(request, app, request.GET)
    if request.htmx and request.GET.get("part") == "form":
        return render(request, "operations/operate_form.html", context)
    return render(request, "operations/operate.html", context)
