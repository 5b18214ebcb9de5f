from django.shortcuts import render

from apps.accounts.access import team_view


@team_view()
def app_list(request):
    return render(request, "deployments/app_list.html", {})
