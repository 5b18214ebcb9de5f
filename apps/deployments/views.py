from django.shortcuts import render

from apps.accounts.access import team_view


@team_view()
def app_list(request):
    return render(request, "deployments/app_list.html", {})


@team_view()
def app_detail(request, pk):  # placeholder until the app page lands
    return render(request, "deployments/app_list.html", {})
