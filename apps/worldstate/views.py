from django.shortcuts import render

from apps.accounts.access import team_view


@team_view()
def engines(request):
    return render(request, "worldstate/engines.html", {})
