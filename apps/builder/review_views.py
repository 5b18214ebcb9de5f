"""Review tab: diff and node check (helper-owned stub)."""
from django.http import HttpResponse

from apps.accounts.access import team_view


def review_tab(request, draft):
    return "builder/_tab_placeholder.html", {}


@team_view()
def draft_check(request, pk):
    return HttpResponse(status=501)
