"""Build tab (helper-owned stub; replaced by the builder page)."""
from django.http import HttpResponse

from apps.accounts.access import team_view


def build_tab(request, draft):
    return "builder/_tab_placeholder.html", {}


@team_view()
def draft_save(request, pk):
    return HttpResponse(status=501)
