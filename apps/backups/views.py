"""The backups pages: `/backups/` (the team's apps and how their backups stand) and
`/backups/app/<app id>/` (one app: back up now, the stored backups, restore, upload, schedules).

Viewers see both pages; taking, verifying, downloading, restoring and uploading need the operator
role, deleting the manager role (apps.backups.actions checks and audits each). The app page's list
is its htmx partial (`?part=list`): it polls while a backup is in progress and answers 304 when
nothing changed. `?restore=<backup id>` puts the restore confirmation above the list. Writes answer
htmx with the refreshed list (or a redirect to the job's live output for a restore), plain posts
with a redirect back.
"""
from __future__ import annotations

import hashlib
from datetime import UTC
from urllib.parse import quote

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Max, Q
from django.http import Http404, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from apps.accounts.access import refusal_text, team_object_or_404, team_view
from apps.accounts.models import Role
from apps.backups import actions, storage
from apps.backups.models import Backup
from apps.deployments.models import TeamApp
from apps.operations import operations as ops
from fluxpanel.htmx import unchanged
from fluxpanel.params import parse_id

LIST_LIMIT = 100
MAX_INSTANCES = 200


def _components(app) -> list[str]:
    from apps.deployments.sync import component_names

    return component_names(app.spec or {})


def _instances(app) -> list:
    return list(app.instances.select_related("node").order_by("location", "pk")[:MAX_INSTANCES])


def _backups(app):
    return (Backup.objects.filter(app=app).select_related("requested_by", "job", "node")
            .order_by("-created_at", "-id"))


def _fingerprint(app) -> str:
    """Changes whenever a row of the list would read differently."""
    rows = Backup.objects.filter(app=app).values_list("pk", "status", "size", "verified_at", "removed_at")
    return hashlib.sha256(repr(list(rows.order_by("pk"))).encode()).hexdigest()[:16]


def _list_context(request, app, *, notice: str = "", error: str = "") -> dict:
    rows = list(_backups(app)[:LIST_LIMIT + 1])
    return {"app": app, "backups": rows[:LIST_LIMIT], "more": len(rows) > LIST_LIMIT,
            "running": any(row.status == Backup.Status.RUNNING for row in rows),
            "fingerprint": _fingerprint(app), "notice": notice, "error": error}


def _page_url(app, **query) -> str:
    url = reverse("backups:app", args=[app.pk])
    return url + ("?" + "&".join(f"{k}={quote(str(v))}" for k, v in query.items()) if query else "")


def _answer(request, app, *, notice: str = "", error: str = ""):
    """htmx: the refreshed list with the outcome above it; a plain post: back to the page."""
    if request.htmx:
        return render(request, "backups/_list.html", _list_context(request, app, notice=notice, error=error))
    if error:
        messages.error(request, error)
    elif notice:
        messages.success(request, notice)
    return redirect(_page_url(app))


def _refusal(exc) -> str:
    return " ".join(exc.messages) if isinstance(exc, ValidationError) else refusal_text(exc)


@team_view(Role.VIEWER)
def overview(request):
    """Every app of the team with its newest backup, newest verified one, failures and schedules."""
    apps_ = (TeamApp.objects.filter(team=request.team, dropped=False).order_by("name")
             .annotate(last_backup=Max("backups__created_at"),
                       last_verified=Max("backups__verified_at"),
                       stored=Count("backups", filter=Q(backups__status=Backup.Status.VERIFIED), distinct=True),
                       failed=Count("backups", filter=Q(backups__status=Backup.Status.FAILED), distinct=True),
                       scheduled=Count("backup_schedules", filter=Q(backup_schedules__enabled=True), distinct=True)))
    return render(request, "backups/overview.html", {"apps": apps_, "storage": storage.describe_storage()})


@team_view(Role.VIEWER)
def app_backups(request, pk):
    app = team_object_or_404(TeamApp, request.team, pk=pk)
    if request.htmx and request.GET.get("part") == "list":
        if request.GET.get("fp") == _fingerprint(app):
            return unchanged()
        return render(request, "backups/_list.html", _list_context(request, app))
    instances = _instances(app)
    context = _list_context(request, app)
    restore = _restore_target(request, app)
    # Only operators act on nodes; asking which authorisation would be used is theirs too.
    usable, auth_text = (ops.authorisation_summary(request.membership, app, instances)
                         if request.membership.can(Role.OPERATOR) else (False, ""))
    from apps.backups.schedule_views import schedules_context

    context.update({
        "instances": instances, "components": _components(app), "restore": restore,
        "auth_usable": usable, "auth_text": auth_text, "needs_authorisation": not usable,
        "storage": storage.describe_storage(), "upload_max_mb": settings.BACKUP_UPLOAD_MAX_MB,
        "can_skip_safety": request.membership.can(Role.MANAGER),
        **schedules_context(request.membership, app, timezone.now()),
    })
    return render(request, "backups/app.html", context)


def _restore_target(request, app):
    """The backup whose restore is being confirmed (`?restore=<id>`), if it can be restored."""
    wanted = parse_id(request.GET.get("restore") or "")
    if not wanted:
        return None
    backup = Backup.objects.filter(app=app, pk=wanted).first()
    if backup is None:
        raise Http404("No such backup of this app.")
    return backup


@require_POST
@team_view(Role.OPERATOR)
def backup_start(request, pk):
    app = team_object_or_404(TeamApp, request.team, pk=pk)
    data = request.POST
    instance = None
    if data.get("instance"):
        instance = app.instances.filter(pk=parse_id(data["instance"]) or 0).first()
        if instance is None:
            return _answer(request, app, error=f"Choose an instance of {app.name}.")
    try:
        job = actions.start_backup(membership=request.membership, app=app, instance=instance,
                                   components=data.getlist("component"),
                                   remove_from_node=data.get("remove_from_node") == "on")
    except (ValidationError, PermissionDenied) as exc:
        return _answer(request, app, error=_refusal(exc))
    return _answer(request, app, notice=f"Backup started as job #{job.pk}.")


@require_POST
@team_view(Role.OPERATOR)
def backup_upload(request, pk):
    app = team_object_or_404(TeamApp, request.team, pk=pk)
    try:
        backup = actions.accept_upload(membership=request.membership, app=app,
                                       component=request.POST.get("component", ""),
                                       uploaded_file=request.FILES.get("archive"))
    except (ValidationError, PermissionDenied) as exc:
        return _answer(request, app, error=_refusal(exc))
    return _answer(request, app, notice=f"Archive stored as backup #{backup.pk} ({backup.get_status_display().lower()}).")


@require_POST
@team_view(Role.OPERATOR)
def restore_start(request, pk):
    """Restore one component from a stored backup (`backup`) or from an https URL (`url`)."""
    app = team_object_or_404(TeamApp, request.team, pk=pk)
    data = request.POST
    instance = app.instances.filter(pk=parse_id(data.get("instance") or "") or 0).first()
    try:
        if instance is None:
            raise ValidationError(f"Choose the instance of {app.name} to restore on.")
        if data.get("backup"):
            backup = Backup.objects.filter(app=app, pk=parse_id(data["backup"]) or 0).first()
            if backup is None:
                raise ValidationError("Choose a backup of this app.")
            sources = {backup.component: backup}
        else:
            sources = {data.get("component", ""): data.get("url", "").strip()}
        job = actions.start_restore(membership=request.membership, app=app, instance=instance, sources=sources,
                                    skip_safety=data.get("skip_safety") == "on",
                                    confirm_name=data.get("confirm_name", ""))
    except (ValidationError, PermissionDenied) as exc:
        if request.htmx:
            return render(request, "backups/_restore_error.html", {"error": _refusal(exc)})
        messages.error(request, _refusal(exc))
        return redirect(_page_url(app, **({"restore": data["backup"]} if data.get("backup") else {})))
    return ops.to_job_page(request, job)


def _backup_of_team(request, pk) -> Backup:
    return team_object_or_404(Backup.objects.select_related("app"), request.team, pk=pk)


@require_POST
@team_view(Role.OPERATOR)
def backup_verify(request, pk):
    backup = _backup_of_team(request, pk)
    try:
        job = actions.start_verify(membership=request.membership, backup=backup)
    except (ValidationError, PermissionDenied) as exc:
        return _answer(request, backup.app, error=_refusal(exc))
    return _answer(request, backup.app, notice=f"Verification of backup #{backup.pk} started as job #{job.pk}.")


@require_POST
@team_view(Role.MANAGER)
def backup_delete(request, pk):
    backup = _backup_of_team(request, pk)
    try:
        actions.delete_backup(membership=request.membership, backup=backup)
    except (ValidationError, PermissionDenied) as exc:
        return _answer(request, backup.app, error=_refusal(exc))
    return _answer(request, backup.app, notice=f"Backup #{backup.pk} deleted.")


@team_view(Role.OPERATOR)
def backup_download(request, pk):
    """The plain archive, decrypted as it streams; the panel names and types it itself."""
    backup = _backup_of_team(request, pk)
    try:
        chunks = actions.download_backup(membership=request.membership, backup=backup)
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, _refusal(exc))
        return redirect(_page_url(backup.app))
    response = StreamingHttpResponse(chunks, content_type="application/gzip")
    stamp = backup.created_at.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    name = f"{backup.app.name}_{backup.component or 'app'}_{stamp}.tar.gz"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    if backup.size is not None:
        response["Content-Length"] = str(backup.size)
    response["X-Content-Type-Options"] = "nosniff"
    return response
