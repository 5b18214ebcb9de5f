"""The "Backup failed or not verified" app rule: a run of problems fires it once, the next good
backup resolves it once, the outbox sends both; app syncs and node sweeps never evaluate it."""
from __future__ import annotations

import pytest
from django.core import mail

from apps.backups.alerts import backup_ok, backup_problem
from apps.deployments.alerts import evaluate_app_alerts
from apps.deployments.models import AppAlertState, TeamApp
from apps.nodes.alerts import evaluate_alerts, send_pending_alerts
from apps.nodes.forms import AlertRuleForm
from apps.nodes.models import AlertDelivery, AlertRule

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def app(personas):
    return TeamApp.objects.create(team=personas.team, name="wiki", name_key="wiki", owner="1Owner",
                                  spec={"version": 8, "name": "wiki", "compose": [{"name": "web"}]})


def test_it_fires_once_and_resolves_once(personas, app):
    rule = AlertRule.objects.create(team=personas.team, kind=AlertRule.Kind.BACKUP_FAILED, email="ops@example.com")
    assert len(backup_problem(app, "verification failed: checksum mismatch")) == 1
    assert backup_problem(app, "the node did not answer") == []
    evaluate_app_alerts(personas.team.pk)  # an app sync leaves the rule alone
    evaluate_alerts(personas.team.pk)  # so does a sweep
    assert AppAlertState.objects.filter(rule=rule, app=app).count() == 1
    assert len(backup_ok(app)) == 1 and backup_ok(app) == []
    deliveries = list(AlertDelivery.objects.order_by("id").values_list("kind", "message", "app_id", "node_id"))
    assert deliveries == [
        ("firing", "Backups of app wiki: verification failed: checksum mismatch", app.pk, None),
        ("resolved", "Resolved: Backup failed or not verified for app wiki", app.pk, None)]
    assert send_pending_alerts() == 2
    assert [m.subject for m in mail.outbox] == ["[fluxpanel] Backups of app wiki: verification failed: checksum mismatch",
                                                "[fluxpanel] Resolved: Backup failed or not verified for app wiki"]
    assert not AppAlertState.objects.exists()


def test_it_records_nothing_without_an_enabled_rule(personas, app):
    AlertRule.objects.create(team=personas.team, kind=AlertRule.Kind.BACKUP_FAILED, enabled=False)
    AlertRule.objects.create(team=personas.other_team, kind=AlertRule.Kind.BACKUP_FAILED)
    AlertRule.objects.create(team=personas.team, kind=AlertRule.Kind.APP_DOWN)
    assert backup_problem(app, "failed") == [] and backup_ok(app) == []
    assert not AlertDelivery.objects.exists()


def test_it_is_offered_in_the_alert_rule_form():
    form = AlertRuleForm(data={"kind": "backup_failed", "email": "ops@example.com"})
    assert form.is_valid(), form.errors
    assert ("backup_failed", "Backup failed or not verified") in AlertRule.Kind.choices
