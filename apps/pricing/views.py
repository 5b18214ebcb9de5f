from django.shortcuts import render

from apps.accounts.access import team_view


@team_view()
def estimator(request):
    return render(request, "pricing/estimator.html", {})
