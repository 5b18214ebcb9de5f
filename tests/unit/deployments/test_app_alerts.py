"""App alert rules: one notice when a rule flips for an app, one when it resolves, none while it
holds; node rules ignore app kinds; mail and webhook name the app (issue 13)."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from apps.deployments.alerts import evaluate_app_alerts
from apps.deployments.models import AppAlertState, AppStatus, TeamApp
from apps.deployments.signals import apps_synced
from apps.nodes.alerts import evaluate_alerts, send_pending_alerts
from apps.nodes.forms import AlertRuleForm
from apps.nodes.models import AlertDelivery, AlertRule
from tests.integration.nodes.webhook_receiver import Receiver


@pytest.fixture
def receiver():
    receiver = Receiver()
    yield receiver
    receiver.close()


def make_app(team, name="web3", **fields):
    values = {"owner": "1CbErtneaX2QVyUfwU7JGB7VzvPgrgc3uC", "instances_wanted": 3, "instances_running": 3,
              "status": AppStatus.HEALTHY, "expires_at": timezone.now() + timedelta(days=60),
              "expiry_height": 2_012_345}
    values.update(fields)
    return TeamApp.objects.create(team=team, name=name, **values)


def test_it_fires_once_resolves_once_and_stays_quiet_while_it_holds(personas):
    team = personas.team
    app = make_app(team)
    AlertRule.objects.create(team=team, kind=AlertRule.Kind.APP_DOWN, email="ops@example.com")
    assert evaluate_app_alerts(team.pk) == []
    TeamApp.objects.filter(pk=app.pk).update(status=AppStatus.DOWN, instances_running=0)
    fired = evaluate_app_alerts(team.pk)
    assert [(d.kind, d.app_id, d.node_id) for d in fired] == [("firing", app.pk, None)]
    assert "app web3" in fired[0].message
    assert evaluate_app_alerts(team.pk) == []
    assert evaluate_app_alerts(team.pk) == []
    assert AppAlertState.objects.filter(app=app).count() == 1
    TeamApp.objects.filter(pk=app.pk).update(status=AppStatus.HEALTHY, instances_running=3)
    resolved = evaluate_app_alerts(team.pk)
    assert [(d.kind, d.app_id) for d in resolved] == [("resolved", app.pk)]
    assert not AppAlertState.objects.exists()
    assert evaluate_app_alerts(team.pk) == []


def test_it_fires_for_expiry_within_the_threshold_in_words(personas):
    team = personas.team
    soon = make_app(team, "web3", expires_at=timezone.now() + timedelta(days=5, hours=2))
    make_app(team, "later", expires_at=timezone.now() + timedelta(days=30))
    gone = make_app(team, "gone", expires_at=timezone.now() - timedelta(days=1, hours=1), status=AppStatus.EXPIRED)
    make_app(team, "dropped", expires_at=timezone.now(), dropped=True)
    AlertRule.objects.create(team=team, kind=AlertRule.Kind.APP_EXPIRES, threshold=7, email="ops@example.com")
    fired = {d.app_id: d.message for d in evaluate_app_alerts(team.pk)}
    assert set(fired) == {soon.pk, gone.pk}
    assert fired[soon.pk].startswith("app web3 expires in 5 days (block 2,012,345, ")
    assert "expired 1 day ago" in fired[gone.pk]


def test_it_fires_for_fewer_instances_than_wanted(personas):
    team = personas.team
    app = make_app(team, status=AppStatus.DEGRADED, instances_running=1)
    make_app(team, "down", status=AppStatus.DOWN, instances_running=0)
    AlertRule.objects.create(team=team, kind=AlertRule.Kind.APP_INSTANCES_LOW, email="ops@example.com")
    fired = evaluate_app_alerts(team.pk)
    assert [d.app_id for d in fired] == [app.pk]
    assert "runs 1 of 3" in fired[0].message


def test_it_keeps_node_rules_and_app_rules_apart(personas):
    team = personas.team
    make_app(team, status=AppStatus.DOWN, instances_running=0)
    AlertRule.objects.create(team=team, kind=AlertRule.Kind.APP_DOWN, email="ops@example.com")
    AlertRule.objects.create(team=team, kind=AlertRule.Kind.NODE_DOWN, email="ops@example.com")
    assert evaluate_alerts(team.pk) == []  # no nodes; and the app rule is not a node rule
    fired = evaluate_app_alerts(team.pk)
    assert [d.rule.kind for d in fired] == ["app_down"]


def test_it_mails_and_posts_a_notice_naming_the_app(personas, settings, receiver):
    settings.ALLOW_PRIVATE_WEBHOOKS = True
    team = personas.team
    make_app(team, status=AppStatus.DOWN, instances_running=0)
    AlertRule.objects.create(team=team, kind=AlertRule.Kind.APP_DOWN, email="ops@example.com",
                             webhook_url=receiver.url)
    evaluate_app_alerts(team.pk)
    assert send_pending_alerts() == 1
    assert "app web3" in mail.outbox[0].subject
    content_type, payload = receiver.payloads[0]
    assert content_type == "application/json"
    assert payload["app"] == "web3" and payload["kind"] == "firing" and payload["rule"] == "app_down"
    assert "node" not in payload
    delivery = AlertDelivery.objects.get()
    assert delivery.sent_at is not None and delivery.channels == {"email": "sent", "webhook": "sent"}


def test_it_evaluates_on_apps_synced(personas, django_capture_on_commit_callbacks):
    team = personas.team
    make_app(team, status=AppStatus.DOWN, instances_running=0)
    AlertRule.objects.create(team=team, kind=AlertRule.Kind.APP_DOWN, email="ops@example.com")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        apps_synced.send(sender=None, sync=None, team_id=team.pk, changed_app_ids=[])
    assert AlertDelivery.objects.filter(app__team=team, kind="firing").count() == 1
    assert len(callbacks) == 1  # nodes.send_alerts queued on commit


@pytest.mark.parametrize(("threshold", "ok"), [(None, False), (0, False), (1, True), (365, True), (366, False)])
def test_it_needs_days_for_an_expiry_rule(threshold, ok):
    data = {"kind": "app_expires", "email": "ops@example.com"}
    if threshold is not None:
        data["threshold"] = threshold
    assert AlertRuleForm(data).is_valid() is ok


def test_it_offers_the_app_kinds_in_the_rule_form():
    choices = dict(AlertRuleForm().fields["kind"].choices)
    assert {"app_expires", "app_instances_low", "app_down"} <= set(choices)


def test_it_adds_an_app_rule_from_the_fleet_settings_page(personas, client_as):
    from django.urls import reverse

    client = client_as("manager")
    page = client.get(reverse("nodes:settings")).content.decode()
    assert 'value="app_expires"' in page and 'value="app_down"' in page
    client.post(reverse("nodes:alert_create"), {"kind": "app_expires", "email": "ops@example.com"})
    assert not AlertRule.objects.filter(team=personas.team).exists()  # days are needed
    client.post(reverse("nodes:alert_create"), {"kind": "app_expires", "threshold": 14, "email": "ops@example.com"})
    assert AlertRule.objects.get(team=personas.team).threshold == 14
