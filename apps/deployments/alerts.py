"""App alert rules: evaluated after every app sync; a notice is recorded only when a rule flips.

`AppAlertState` rows exist only while a rule fires for a team app, so a rule that starts holding
records one "firing" `AlertDelivery` (app set, node None), stopping records one "resolved", and
nothing is recorded while it keeps holding. Sending is the fleet's outbox
(`apps.nodes.alerts.send_pending_alerts`).
"""
from __future__ import annotations

import logging
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from apps.deployments.models import AppAlertState, AppStatus, TeamApp
from apps.nodes.models import AlertDelivery, AlertRule

log = logging.getLogger(__name__)

# Not backup_failed: the backups app raises and resolves it (apps.backups.alerts), a sync must not.
APP_KINDS = (AlertRule.Kind.APP_EXPIRES, AlertRule.Kind.APP_INSTANCES_LOW, AlertRule.Kind.APP_DOWN)
DEFAULT_EXPIRY_DAYS = 7
APP_COLUMNS = ("id", "name", "status", "expires_at", "expiry_height", "instances_running", "instances_wanted")


def app_rule_holds(rule: AlertRule, app: dict, now) -> bool:
    if rule.kind == AlertRule.Kind.APP_EXPIRES:
        if app["expires_at"] is None:
            return False
        days = rule.threshold or DEFAULT_EXPIRY_DAYS
        return app["expires_at"] <= now + timedelta(days=days)
    if rule.kind == AlertRule.Kind.APP_INSTANCES_LOW:
        return app["status"] == AppStatus.DEGRADED
    if rule.kind == AlertRule.Kind.APP_DOWN:
        return app["status"] == AppStatus.DOWN
    return False


def _expiry_words(app: dict, now) -> str:
    expires_at = app["expires_at"]
    seconds = (expires_at - now).total_seconds()
    days = int(abs(seconds) // 86_400)
    when = f"expires in {days} day{'s' if days != 1 else ''}" if seconds >= 0 else \
        f"expired {days} day{'s' if days != 1 else ''} ago"
    facts = [f"block {app['expiry_height']:,}"] if app["expiry_height"] is not None else []
    facts.append(expires_at.date().isoformat())
    return f"{when} ({', '.join(facts)})"


def describe_app(rule: AlertRule, app: dict, firing: bool, now) -> str:
    name = f"app {app['name']}"
    if not firing:
        return f"Resolved: {rule.get_kind_display()} for {name}"[:500]
    if rule.kind == AlertRule.Kind.APP_EXPIRES:
        return f"{name} {_expiry_words(app, now)}"[:500]
    running = app["instances_running"] if app["instances_running"] is not None else "?"
    if rule.kind == AlertRule.Kind.APP_INSTANCES_LOW:
        return f"{name} runs {running} of {app['instances_wanted']} wanted instances"[:500]
    return f"{name} is down: 0 of {app['instances_wanted']} wanted instances run"[:500]


def evaluate_app_alerts(team_id: int) -> list[AlertDelivery]:
    """Compare every enabled app rule with every team app; record a delivery for each flip."""
    rules = list(AlertRule.objects.filter(team_id=team_id, enabled=True, kind__in=APP_KINDS))
    if not rules:
        return []
    apps = list(TeamApp.objects.filter(team_id=team_id, dropped=False).values(*APP_COLUMNS))
    firing = {(s.rule_id, s.app_id): s for s in AppAlertState.objects.filter(rule__team_id=team_id)}
    now = timezone.now()
    deliveries = []
    with transaction.atomic():
        for rule in rules:
            for app in apps:
                key = (rule.pk, app["id"])
                holds = app_rule_holds(rule, app, now)
                was = key in firing
                if holds == was:
                    continue
                if holds:
                    AppAlertState.objects.create(rule=rule, app_id=app["id"], since=now)
                else:
                    firing[key].delete()
                deliveries.append(AlertDelivery(
                    team_id=team_id, rule=rule, app_id=app["id"], node=None,
                    kind=AlertDelivery.Kind.FIRING if holds else AlertDelivery.Kind.RESOLVED,
                    message=describe_app(rule, app, holds, now), created_at=now,
                ))
        AlertDelivery.objects.bulk_create(deliveries)
    return deliveries


def on_apps_synced(sender, *, team_id: int, **_kwargs) -> None:
    """Receiver of apps.deployments.signals.apps_synced: evaluate, then queue the sender on commit."""
    try:
        deliveries = evaluate_app_alerts(team_id)
    except Exception:
        log.exception("app alerts of team %s failed", team_id)
        return
    if any(d.pending for d in deliveries):
        from apps.nodes.tasks import send_alerts_task

        transaction.on_commit(send_alerts_task.delay)
