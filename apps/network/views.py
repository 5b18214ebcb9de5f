"""The Network page, `/network/`: the network's figures from the stats API (cached), the team's
fleet against them, and the fleet's pictures.

GET renders from the cached row and asks nothing. `?part=network` (htmx, loaded by the page when
the figures are older than NETWORK_STATS_TTL_S) refreshes them, bounded by the stats client's
deadline, and answers the network section.
"""
from __future__ import annotations

from django.http import HttpResponseBadRequest
from django.shortcuts import render

from apps.accounts.access import team_view
from apps.accounts.models import Role
from apps.network import overview, refresh


@team_view(Role.VIEWER)
def network_page(request):
    part = request.GET.get("part") or ""
    if part == "network":
        row = refresh.refresh()
        return render(request, "network/_network.html", overview.network_context(request.team, row))
    if part:
        return HttpResponseBadRequest("Unknown part.", content_type="text/plain")
    context = {**overview.network_context(request.team, refresh.current_row()),
               **overview.fleet_context(request.team)}
    return render(request, "network/overview.html", context)
