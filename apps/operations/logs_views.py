"""The merged Logs page of a team app: `/operate/<app id>/logs/`.

GET: the page (no node is asked while it renders); `?download=1`: the last lines of every stream,
merged, as a text file. POST (htmx, every POLL_FAST_S): one poll with the signed cursor, answering
the partial `_logs_poll.html` (new lines appended out of band, the streams' states, a new poller).
Filters (text, component, instance) ride in the query string and the poll form.
"""
from __future__ import annotations

from django.http import HttpResponse, HttpResponseBadRequest
from django.shortcuts import render
from django.utils.text import slugify

from apps.accounts.access import team_object_or_404, team_view
from apps.deployments.models import TeamApp
from apps.operations import logs
from fluxpanel.htmx import POLL_FAST_S
from fluxpanel.params import parse_id

MAX_QUERY = 200


def _filters(data, app):
    text = (data.get("q") or "").strip()[:MAX_QUERY]
    component = data.get("component") or None
    if component is not None and component not in logs.components_of(app):
        component = None
    instance = parse_id(data.get("instance") or "")
    if instance is not None and not app.instances.filter(pk=instance).exists():
        instance = None
    return {"q": text, "component": component, "instance": instance}


@team_view()
def app_logs(request, pk):
    app = team_object_or_404(TeamApp, request.team, pk=pk)
    data = request.POST if request.method == "POST" else request.GET
    filters = _filters(data, app)
    streams = logs.streams_of(app, request.membership, instance=filters["instance"],
                              component=filters["component"])
    if request.method == "POST":
        try:
            result = logs.poll(app, streams, request.POST.get("cursor") or None, text=filters["q"])
        except logs.CursorRefused as exc:
            return HttpResponseBadRequest(f"Refused: {exc}. Reload the page.", content_type="text/plain")
        return render(request, "operations/_logs_poll.html", {
            "app": app, "result": result, "streams": streams, "filters": filters, "poll_s": POLL_FAST_S})
    if data.get("download"):
        result = logs.poll(app, streams, None, first_lines=logs.DOWNLOAD_LINES, text=filters["q"])
        head = [f"# {app.name}: merged logs of {len(streams)} streams"]
        head += [f"# {s.label}: interrupted: {result.status[s.key]}" for s in streams if result.status.get(s.key)]
        body = "\n".join(head + [line.as_text() for line in result.lines]) + "\n"
        response = HttpResponse(body, content_type="text/plain; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{slugify(app.name) or "app"}-logs.txt"'
        return response
    instances = app.instances.select_related("node").order_by("location", "pk")[:logs.MAX_INSTANCES]
    return render(request, "operations/logs.html", {
        "app": app, "streams": streams, "filters": filters, "components": logs.components_of(app),
        "instances": instances, "poll_s": POLL_FAST_S,
        "needs_authorisation": any(stream.zelidauth is None for stream in streams)})
