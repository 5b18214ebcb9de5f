"""Drafts list and the ways a draft starts (helper-owned stub)."""
from django.http import HttpResponse

from apps.accounts.access import team_view


def log_tab(request, draft):
    return "builder/_tab_placeholder.html", {}


@team_view()
def draft_list(request):
    return HttpResponse(status=501)


@team_view()
def draft_new(request):
    return HttpResponse(status=501)


@team_view()
def draft_from_app(request, pk):
    return HttpResponse(status=501)


@team_view()
def draft_duplicate(request, pk):
    return HttpResponse(status=501)


@team_view()
def draft_abandon(request, pk):
    return HttpResponse(status=501)
