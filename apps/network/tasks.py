from celery import shared_task

from apps.accounts.models import Team
from apps.network import history, refresh

MAX_TEAMS = 1000


@shared_task(name="network.refresh", ignore_result=True)
def refresh_task():
    """Beat: the network figures when due, and every team's FleetDay of today."""
    refresh.refresh()
    for team in Team.objects.order_by("pk")[:MAX_TEAMS]:
        history.record_day(team)
