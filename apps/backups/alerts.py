"""The "Backup failed or not verified" alert of a team app (AlertRule.Kind.BACKUP_FAILED).

Unlike the other app rules it is not evaluated after an app sync (nothing there says how a backup
went): the backups app raises it itself. `backup_problem` is called on a failed backup or
verification and on a refused, missed or failed scheduled run; `backup_ok` after a verified
backup. As for the other app rules (apps.deployments.alerts), an `AppAlertState` row exists only
while the rule fires for the app, so a run of failures records one "firing" `AlertDelivery` and
the next verified backup one "resolved". Sending is the fleet's outbox (`nodes.send_alerts`,
queued on commit).
"""
from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from apps.deployments.models import AppAlertState
from apps.nodes.models import AlertDelivery, AlertRule
from fluxpanel.fluxos.client.reasons import shorten

KIND = AlertRule.Kind.BACKUP_FAILED


def _send_on_commit(deliveries: list[AlertDelivery]) -> None:
    if deliveries:
        from apps.nodes.tasks import send_alerts_task

        transaction.on_commit(send_alerts_task.delay)


def backup_problem(app, text: str) -> list[AlertDelivery]:
    """Fire the team's enabled backup rules for `app` (those not already firing); `text` says what
    went wrong. Returns the deliveries recorded."""
    now = timezone.now()
    deliveries = []
    with transaction.atomic():
        for rule in AlertRule.objects.filter(team_id=app.team_id, kind=KIND, enabled=True):
            # The unique (rule, app) state is the lock: of two failures at once, one records it.
            _state, created = AppAlertState.objects.get_or_create(rule=rule, app=app, defaults={"since": now})
            if not created:
                continue
            deliveries.append(AlertDelivery.objects.create(
                team_id=app.team_id, rule=rule, app=app, node=None, kind=AlertDelivery.Kind.FIRING,
                message=shorten(f"Backups of app {app.name}: {text}", 500), created_at=now))
        _send_on_commit(deliveries)
    return deliveries


def backup_ok(app) -> list[AlertDelivery]:
    """Resolve the backup rules firing for `app`. A rule disabled meanwhile stops firing silently."""
    now = timezone.now()
    deliveries = []
    with transaction.atomic():
        states = AppAlertState.objects.filter(app=app, rule__kind=KIND, rule__team_id=app.team_id).select_related("rule")
        for state in states:
            # Deleted by its pk: only the caller that removed the row records the resolution.
            if not AppAlertState.objects.filter(pk=state.pk).delete()[0] or not state.rule.enabled:
                continue
            deliveries.append(AlertDelivery.objects.create(
                team_id=app.team_id, rule=state.rule, app=app, node=None, kind=AlertDelivery.Kind.RESOLVED,
                message=shorten(f"Resolved: {state.rule.get_kind_display()} for app {app.name}", 500),
                created_at=now))
        _send_on_commit(deliveries)
    return deliveries
