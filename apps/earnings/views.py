"""The Earnings page: the team's rewards per month against its nodes' monthly costs."""
from __future__ import annotations

from django.shortcuts import render

from apps.accounts.access import team_view
from apps.earnings.totals import team_totals


@team_view()
def totals(request):
    return render(request, "earnings/totals.html", team_totals(request.team.pk))
