from django.shortcuts import render

from apps.accounts.access import team_view


@team_view()
def fleet(request):
    return render(request, "nodes/fleet.html", {})
