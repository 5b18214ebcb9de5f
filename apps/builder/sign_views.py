"""Sign tab (helper-owned stub)."""
from django.http import HttpResponse

from apps.accounts.access import team_view


def sign_tab(request, draft):
    return "builder/_tab_placeholder.html", {}


@team_view()
def draft_sign(request, pk):
    return HttpResponse(status=501)
