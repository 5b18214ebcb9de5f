"""Submission and payment (helper-owned stub)."""
from django.http import HttpResponse

from apps.accounts.access import team_view


def payment_tab(request, draft):
    return "builder/_tab_placeholder.html", {}


@team_view()
def draft_submit(request, pk):
    return HttpResponse(status=501)


@team_view()
def draft_test_install(request, pk):
    return HttpResponse(status=501)


@team_view()
def payment_qr(request, pk):
    return HttpResponse(status=501)
