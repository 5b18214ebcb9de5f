"""The Apps page (with its own 304 poll) and one app's page with its tabs.

One URL per page: the Apps page answers its own poll (htmx aimed at `#apps-live`, `fp=` fingerprint
→ 304 when nothing changed), the app page its tabs (`?tab=spec` …, htmx → the tab's partial);
links carry the same URL in `href` and `hx-get`, so they work without JavaScript.
"""
from __future__ import annotations

import json

from django.http import Http404
from django.shortcuts import render

from apps.accounts.access import team_object_or_404, team_view
from apps.accounts.models import Role
from apps.deployments import history
from apps.deployments.listing import AppQuery, app_fingerprint, app_page, last_sync, status_counts
from apps.deployments.models import AppStatus, AppSync, TeamApp
from apps.deployments.templatetags.apps_table import days_left, short_owner
from fluxpanel.htmx import unchanged

APPS_LIVE_ID = "apps-live"
COLUMNS = [("name", "Name"), (None, "Owner"), (None, "Components"), ("instances", "Instances"),
           ("status", "Status"), ("expiry", "Expires"), ("price", "Monthly")]
TABS = [("overview", "Overview"), ("spec", "Specification"), ("instances", "Instances"),
        ("history", "History"), ("subscription", "Subscription")]
TAB_KEYS = {key for key, _ in TABS}


def _list_context(request, query, counts, sync, fingerprint):
    return {
        "query": query, "page": app_page(request.team, query, counts), "counts": counts,
        "sync": sync, "sync_failed": sync is not None and sync.status == AppSync.Status.FAILED,
        "fingerprint": fingerprint, "statuses": AppStatus.choices, "columns": COLUMNS,
        "apps_live_id": APPS_LIVE_ID,
    }


@team_view()
def app_list(request):
    """The Apps page; for its htmx poll only the live part, or 304 when nothing changed."""
    query = AppQuery.from_request(request.GET)
    sync = last_sync(request.team)
    fingerprint = app_fingerprint(request.team, sync)
    is_poll = request.htmx and request.htmx.target == APPS_LIVE_ID
    if is_poll and request.GET.get("fp") == fingerprint:
        return unchanged()
    context = _list_context(request, query, status_counts(request.team, query), sync, fingerprint)
    context.update(can_sync=request.membership.can(Role.OPERATOR),
                   is_manager=request.membership.can(Role.MANAGER))
    if is_poll:
        return render(request, "deployments/_apps_live.html", context)
    return render(request, "deployments/app_list.html", context)


def _tab_context(request, app, tab) -> dict:
    context = {"app": app, "tab": tab, "days_left": days_left(app.expires_at), "tabs": TABS}
    if tab == "overview":
        context["changes"] = list(app.state_changes.all()[:20])
    elif tab == "spec":
        context["components"] = spec_components(app.spec)
        context["spec_json"] = json.dumps(app.spec, indent=2, sort_keys=False, ensure_ascii=False)
    elif tab == "instances":
        context["instances"] = list(app.instances.select_related("node"))
    elif tab == "history":
        context["history"] = history.app_history(request.team, app.name)
    elif tab == "subscription":
        context["can_renew"] = request.membership.can(Role.OPERATOR)
    return context


def spec_components(spec) -> list[dict]:
    """Display rows per component of a canonical spec (v4+ compose, or the v1–3 single component)."""
    if not isinstance(spec, dict):
        return []
    compose = spec.get("compose")
    parts = compose if isinstance(compose, list) else [spec]
    rows = []
    for part in parts:
        if not isinstance(part, dict):
            continue
        env = part.get("environmentParameters") or part.get("enviromentParameters") or []
        ports = part.get("ports") or part.get("port") or []
        domains = part.get("domains") or []
        rows.append({
            "name": part.get("name", spec.get("name", "")), "repotag": part.get("repotag", ""),
            "ports": ", ".join(str(p) for p in ports) if isinstance(ports, list) else str(ports),
            "cpu": part.get("cpu"), "ram": part.get("ram"), "hdd": part.get("hdd"),
            "env_count": len(env) if isinstance(env, list) else 0,
            "domains": ", ".join(str(d) for d in domains if d) if isinstance(domains, list) else "",
        })
    return rows


@team_view()
def app_detail(request, pk):
    """The app page; `?tab=<tab>` opens that tab (only the tab's partial for htmx)."""
    app = team_object_or_404(TeamApp, request.team, pk=pk)
    tab = request.GET.get("tab", "overview")
    if tab not in TAB_KEYS:
        raise Http404("No such tab.")
    context = _tab_context(request, app, tab)
    if request.htmx:
        return render(request, "deployments/_tab.html", context)
    context.update(
        owner_short=short_owner(app.owner) if app.owner else "", is_manager=request.membership.can(Role.MANAGER),
    )
    return render(request, "deployments/detail.html", context)
