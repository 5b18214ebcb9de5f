"""The volume browser of a team app, `/operate/<app id>/files/` (operators: a volume holds the
app's data), per instance and component, `?instance=&component=&path=`.

GET: the page, with the folder's listing asked of the instance's node (bounded; no node is asked
for a path the panel refuses); `?part=listing` (htmx) the listing alone; `?confirm=<name>` puts
the delete confirmation step above the listing. POST `action` = mkdir | rename | delete | upload:
one action each (files_actions); htmx and the upload script (XMLHttpRequest, for its progress
bar) get the refreshed listing with the node's answer, a plain form post is redirected back.
`files/download/?…&path=&folder=1` streams a file, or a folder as a zip, from a temporary file.
"""
from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse

from apps.accounts.access import team_object_or_404, team_view
from apps.accounts.models import Role
from apps.deployments.models import TeamApp
from apps.operations import files_actions, volumes
from apps.operations import operations as ops
from fluxpanel.params import parse_id

MAX_INSTANCES = 200
ACTIONS = ("mkdir", "rename", "delete", "upload")


def _target(request, app, data):
    """(instances, instance, component) chosen in `data`; the first of each by default."""
    from apps.deployments.sync import component_names

    instances = list(app.instances.select_related("node").order_by("location", "pk")[:MAX_INSTANCES])
    wanted = parse_id(data.get("instance") or "")
    instance = next((i for i in instances if i.pk == wanted), None) if wanted else (instances or [None])[0]
    if wanted and instance is None:
        raise Http404("No such instance of this app.")
    components = component_names(app.spec or {})
    component = data.get("component") or (components[0] if components else "")
    if components and component not in components:
        raise Http404("No such component of this app.")
    return instances, instance, components, component


def _page_url(app, instance, component, path="", **extra) -> str:
    query = {"instance": instance.pk if instance else "", "component": component, "path": path, **extra}
    return reverse("operations:files", args=[app.pk]) + "?" + urlencode(query)


def _listing_context(request, app, instance, component, path, *, notice="", error="", confirm=""):
    """The listing part: the node's entries, or why there are none."""
    listing = None
    if not error and instance is not None and component:
        try:
            path = volumes.volume_path(path)
            listing = volumes.list_folder(request.membership, app, instance, component, path)
        except (volumes.PathRefused, volumes.VolumeError) as exc:
            error = str(exc)
    elif instance is None and not error:
        error = f"{app.name} has no known instance (run an app sync first)."
    try:
        crumbs = volumes.crumbs(path)
        confirm_path = volumes.join(path, confirm) if confirm else ""
    except volumes.PathRefused:
        crumbs, path, confirm_path = [], "", ""
    return {"app": app, "instance": instance, "component": component, "path": path, "crumbs": crumbs,
            "listing": listing, "notice": notice, "error": error, "confirm": confirm if confirm_path else "",
            "max_entries": volumes.MAX_ENTRIES,
            "root_url": _page_url(app, instance, component),
            "base_query": urlencode({"instance": instance.pk if instance else "", "component": component})}


def _wants_part(request) -> bool:
    """htmx, or files.js's XMLHttpRequest upload: both swap the listing in place."""
    return bool(request.htmx) or request.headers.get("X-Requested-With") == "XMLHttpRequest"


def _post(request, app, instance, component):
    data = request.POST
    action, path = data.get("action", ""), data.get("path", "")
    name = data.get("name", "")
    common = {"membership": request.membership, "app": app, "instance": instance, "component": component}
    try:
        if action == "mkdir":
            notice = files_actions.make_folder(folder=path, name=name.strip(), **common)
        elif action == "rename":
            notice = files_actions.rename(path=_joined(path, name), new_name=data.get("new_name", "").strip(),
                                          **common)
        elif action == "delete":
            if data.get("confirmed") != "yes":  # the confirmation step first
                return _answer(request, app, instance, component, path, confirm=name)
            notice = files_actions.delete(path=_joined(path, name), **common)
        elif action == "upload":
            notice = files_actions.upload(folder=path, uploaded=request.FILES.get("file"), **common)
        else:
            raise ValidationError("Choose an action.")
    except ValidationError as exc:
        return _answer(request, app, instance, component, path, error=" ".join(exc.messages))
    return _answer(request, app, instance, component, path, notice=notice)


def _joined(folder: str, name: str) -> str:
    try:
        return volumes.join(folder, name)
    except volumes.PathRefused as exc:
        raise ValidationError(str(exc)) from exc


def _answer(request, app, instance, component, path, *, notice="", error="", confirm=""):
    if _wants_part(request):
        context = _listing_context(request, app, instance, component, path, notice=notice, confirm=confirm)
        if error:
            context["action_error"] = error
        return render(request, "operations/_files_listing.html", context)
    if error:
        messages.error(request, error)
    elif notice:
        messages.success(request, notice)
    extra = {"confirm": confirm} if confirm else {}
    return redirect(_page_url(app, instance, component, path if not error else _safe(path), **extra))


def _safe(path: str) -> str:
    try:
        return volumes.volume_path(path)
    except volumes.PathRefused:
        return ""


@team_view(Role.OPERATOR)
def app_files(request, pk):
    app = team_object_or_404(TeamApp, request.team, pk=pk)
    data = request.POST if request.method == "POST" else request.GET
    instances, instance, components, component = _target(request, app, data)
    if request.method == "POST":
        return _post(request, app, instance, component)
    path = request.GET.get("path", "")
    context = _listing_context(request, app, instance, component, path,
                               confirm=request.GET.get("confirm", "")[:volumes.MAX_NAME])
    if request.htmx and request.GET.get("part") == "listing":
        return render(request, "operations/_files_listing.html", context)
    usable, auth_text = ops.authorisation_summary(request.membership, app, instances)
    context.update({"instances": instances, "components": components, "auth_usable": usable,
                    "needs_authorisation": not usable,
                    "auth_text": auth_text, "upload_max_mb": files_actions.upload_limit_bytes() // (1024 * 1024),
                    "upload_max_bytes": files_actions.upload_limit_bytes()})
    return render(request, "operations/files.html", context)


@team_view(Role.OPERATOR)
def download(request, pk):
    app = team_object_or_404(TeamApp, request.team, pk=pk)
    _, instance, _, component = _target(request, app, request.GET)
    path, folder = request.GET.get("path", ""), request.GET.get("folder") == "1"
    try:
        sink, name = files_actions.download(membership=request.membership, app=app, instance=instance,
                                            component=component, path=path, folder=folder)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(_page_url(app, instance, component, volumes.parent_of(path) if _safe(path) else ""))
    # The panel names the file and types it itself: nothing the node sent is rendered inline.
    response = FileResponse(sink, as_attachment=True, filename=name,
                            content_type="application/zip" if folder else "application/octet-stream")
    response["X-Content-Type-Options"] = "nosniff"
    return response
