"""The Stats page of a team app: `/operate/<app id>/stats/`.

GET: the page with a card per container (instance × component) and the charts of the samples
already taken (no node is asked while it renders). `?part=charts` (htmx, on load and every
POLL_S): one sample round (bounded, at most every stats.MIN_INTERVAL_S per app), answering the new
poller and each card's figures and charts out of band, or 304 when nothing changed since the
poller's fingerprint. `?part=inspect|top|changes&instance=<id>&component=<name>`: one container's
docker inspect, top or changes, loaded on demand; operators and above (inspect shows the
environment), a viewer gets 403.
"""
from __future__ import annotations

import hashlib

from django.http import Http404, HttpResponseBadRequest
from django.shortcuts import render
from django.utils import timezone

from apps.accounts.access import require_role, team_object_or_404, team_view
from apps.accounts.models import Role
from apps.deployments.models import TeamApp
from apps.operations import charts, containers, stats
from apps.operations.logs import components_of
from apps.operations.models import StatsSample
from fluxpanel.htmx import unchanged
from fluxpanel.params import parse_id

POLL_S = 10


def fingerprint(app, reasons: dict) -> tuple[str, object]:
    """(a text that changes when a sample was written or a container's reason changed, when the
    newest sample was taken) in one query."""
    newest = (StatsSample.objects.filter(instance__app=app).order_by("-id")
              .values_list("id", "taken_at").first()) or (None, None)
    return hashlib.sha256(repr((newest[0], sorted(reasons.items()))).encode()).hexdigest()[:16], newest[1]


def _cards(app, found: list, reasons: dict) -> list[dict]:
    now = timezone.now()
    samples = stats.recent_samples(app, found, now=now)
    names = components_of(app)
    cards = []
    for container in found:
        rows = samples[container.key]
        cards.append({
            "container": container, "dom_id": f"stats-{container.instance_id}-{names.index(container.component)}",
            "reason": reasons.get(container.key, ""), "current": charts.current(rows),
            "charts": charts.container_charts(rows, now=now),
        })
    return cards


def _context(app, round_: stats.Round, fp: tuple[str, object]) -> dict:
    return {"app": app, "cards": _cards(app, round_.containers, round_.reasons), "more": round_.more,
            "fingerprint": fp[0], "sampled_at": fp[1], "poll_s": POLL_S,
            "min_interval_s": stats.MIN_INTERVAL_S, "parts": containers.PARTS,
            "needs_authorisation": any(c.zelidauth is None for c in round_.containers)}


def _container_part(request, app, part: str):
    require_role(request.membership, Role.OPERATOR)  # inspect carries the environment
    instance_id = parse_id(request.GET.get("instance") or "")
    if instance_id is None:
        raise Http404("No such instance.")
    instance = team_object_or_404(app.instances.select_related("node"), request.team, pk=instance_id)
    component = request.GET.get("component") or ""
    if component not in components_of(app):
        raise Http404("No such component.")
    answer, reason, detail = containers.fetch(part, app, instance, component, request.membership)
    context = {"app": app, "instance": instance, "component": component, "part": part, "reason": reason,
               "detail": detail}
    if not reason and part == "inspect":
        context["summary"] = containers.summary(answer)
    elif not reason and part == "top":
        context["titles"], context["processes"] = containers.processes(answer)
    elif not reason:
        context["changes"] = containers.changes(answer)
    return render(request, f"operations/_stats_{part}.html", context)


@team_view()
def app_stats(request, pk):
    app = team_object_or_404(TeamApp, request.team, pk=pk)
    part = request.GET.get("part") or ""
    if part in containers.PARTS:
        return _container_part(request, app, part)
    if part == "charts":
        round_ = stats.sample(app, request.membership)
        fp = fingerprint(app, round_.reasons)
        if request.GET.get("fp") == fp[0]:
            return unchanged()
        return render(request, "operations/_stats_poll.html", _context(app, round_, fp))
    if part:
        return HttpResponseBadRequest("Unknown part.", content_type="text/plain")
    found, more = stats.containers_of(app, request.membership)
    round_ = stats.Round(found, stats.last_reasons(app), more=more)
    return render(request, "operations/stats.html", _context(app, round_, fingerprint(app, round_.reasons)))
