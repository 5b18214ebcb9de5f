"""`/metrics` app gauges: instances running/wanted, seconds to expiry, up; constant queries (issue 13)."""
from __future__ import annotations

import re
from datetime import timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.accounts.models import Membership
from apps.deployments.models import AppStatus, TeamApp
from apps.nodes import actions
from tests.unit.deployments.factories import add_apps


def scrape(client, token) -> str:
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200
    return response.content.decode()


def token_of(personas, user):
    membership = Membership.objects.filter(user=user).order_by("team_id" if user == personas.manager else "-team_id")
    if user == personas.manager:
        membership = membership.filter(team=personas.team)
    return actions.rotate_metrics_token(membership=membership.first())


def test_it_exports_app_gauges(personas, client):
    team = personas.team
    TeamApp.objects.create(team=team, name='we"b\\3', instances_wanted=3, instances_running=1,
                           status=AppStatus.DEGRADED, expires_at=timezone.now() + timedelta(hours=2))
    TeamApp.objects.create(team=team, name="old", instances_wanted=2, instances_running=0,
                           status=AppStatus.EXPIRED, expires_at=timezone.now() - timedelta(days=1))
    TeamApp.objects.create(team=team, name="fine", instances_wanted=2, instances_running=2, status=AppStatus.HEALTHY)
    TeamApp.objects.create(team=team, name="gone", dropped=True)
    body = scrape(client, token_of(personas, personas.manager))
    assert 'fluxpanel_app_instances_running{app="we\\"b\\\\3"} 1' in body
    assert 'fluxpanel_app_instances_wanted{app="we\\"b\\\\3"} 3' in body
    seconds = int(re.search(r'fluxpanel_app_expiry_seconds\{app="we\\"b\\\\3"\} (-?\d+)', body).group(1))
    assert 7100 < seconds <= 7200
    assert int(re.search(r'fluxpanel_app_expiry_seconds\{app="old"\} (-?\d+)', body).group(1)) < -86_000
    assert 'fluxpanel_app_expiry_seconds{app="fine"}' not in body  # no expiry known
    assert 'fluxpanel_app_up{app="fine",status="healthy"} 1' in body
    assert 'fluxpanel_app_up{app="old",status="expired"} 0' in body
    assert 'app="gone"' not in body
    assert "# TYPE fluxpanel_app_up gauge" in body
    # Team B's token sees none of team A's apps.
    assert 'app="fine"' not in scrape(client, token_of(personas, personas.outsider))


def test_it_runs_the_same_queries_for_any_number_of_apps(personas, client):
    token = token_of(personas, personas.manager)
    add_apps(personas.team, 2)
    with CaptureQueriesContext(connection) as few:
        scrape(client, token)
    add_apps(personas.team, 60, start=2)
    with CaptureQueriesContext(connection) as many:
        body = scrape(client, token)
    assert len(few) == len(many)
    assert body.count("fluxpanel_app_up{") == 62
