"""What every schedule that beat fires shares (rolling operations, backups).

A schedule model has `team`, `app`, `enabled`, `created_by` (the member it runs as), a one-to-one
`periodic_task`, and `last_job`, `last_run_at`, `last_outcome`. Its beat entry is one
django-celery-beat PeriodicTask named after the schedule, whose args are [schedule id]; crontab
rows are shared (looked up by their fields). Beat only knows an id and a time, so a fire opens the
schedule again under a row lock and re-checks it (`open_fire`) before the family's own checks.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from apps.accounts import audit
from apps.accounts.access import member_for_task, require_role_audited
from apps.accounts.models import Membership, Role


def sync_entry(schedule, *, name: str, task: str, crontab: dict, description: str) -> None:
    """Create or update the schedule's beat entry (saving a PeriodicTask tells beat it changed)."""
    from django_celery_beat.models import CrontabSchedule, PeriodicTask

    row = CrontabSchedule.objects.filter(**crontab).order_by("pk").first() or CrontabSchedule.objects.create(**crontab)
    entry, _ = PeriodicTask.objects.update_or_create(
        name=name,
        defaults={"task": task, "crontab": row, "interval": None, "args": json.dumps([schedule.pk]),
                  "enabled": schedule.enabled, "description": description[:200]})
    if schedule.periodic_task_id != entry.pk:
        schedule.periodic_task = entry
        schedule.save(update_fields=["periodic_task"])


def drop_entry(name: str) -> None:
    from django_celery_beat.models import PeriodicTask

    for entry in PeriodicTask.objects.filter(name=name):
        entry.delete()  # one by one: the delete signal tells beat


def record_fire(schedule, now: datetime, text: str, *, job=None) -> str:
    """Leave a fire's outcome on the schedule; returns it."""
    schedule.last_run_at = now
    schedule.last_outcome = text[:300]
    fields = ["last_run_at", "last_outcome"]
    if job is not None:
        schedule.last_job = job
        fields.append("last_job")
    schedule.save(update_fields=fields)
    return schedule.last_outcome


@dataclass
class Fire:
    """A fire that got past the common checks (`outcome` ""), or what stopped it."""

    schedule: object | None
    membership: Membership | None = None
    outcome: str = ""
    role_refused: bool = False


def open_fire(queryset, schedule_id: int, now: datetime, *, entry_name: str, run_action: str,
              paused: str) -> Fire:
    """Lock the schedule (call inside a transaction) and check what every fire checks: it still
    exists (else its orphan beat entry is dropped), it is enabled, its app is still the team's, and
    the member it runs as still has the operator role (refused and audited otherwise). A stopped
    fire's outcome is already recorded on the schedule."""
    schedule = queryset.select_for_update(of=("self",)).filter(pk=schedule_id).first()
    if schedule is None:  # deleted with its app or team
        drop_entry(entry_name)
        return Fire(None, outcome="gone: the schedule no longer exists")
    if not schedule.enabled:
        return Fire(schedule, outcome=record_fire(schedule, now, paused))
    app = schedule.app
    if app.team_id != schedule.team_id or app.dropped:
        return Fire(schedule, outcome=record_fire(schedule, now, "refused: the app is no longer one of the team's apps"))
    try:
        membership = member_for_task(schedule.created_by_id, schedule.team_id, Role.OPERATOR)
    except PermissionDenied:
        who = schedule.created_by.username if schedule.created_by else "its creator"
        text = f"refused: {who} no longer has the operator role in the team"
        audit.record(team=schedule.team, actor=schedule.created_by, action=run_action, target=app,
                     outcome=audit.Outcome.DENIED, schedule=schedule.pk, reason=text)
        return Fire(schedule, outcome=record_fire(schedule, now, text), role_refused=True)
    return Fire(schedule, membership)


def previous_run_busy(schedule) -> str:
    """"" or why a fire waits: the previous run's job is still going."""
    previous = schedule.last_job
    if previous is not None and not previous.is_finished:
        return f"skipped: the previous run (job #{previous.pk}) is still {previous.status}"
    return ""


def same_team(membership: Membership, obj) -> None:
    if obj.team_id != membership.team_id:
        raise ValidationError("This belongs to another team.")


def set_enabled(*, membership: Membership, schedule, enabled: bool, where: str, action: str, sync,
                also: dict | None = None) -> None:
    """Pause (enabled False) or resume a schedule (an operator's write); its beat entry follows.
    `sync` is the family's sync_beat, `also` more fields the family changes with it; the audit row
    says the new state."""
    require_role_audited(membership, Role.OPERATOR, where)
    same_team(membership, schedule)
    changes = {"enabled": bool(enabled), **(also or {})}
    with transaction.atomic():
        for field, value in changes.items():
            setattr(schedule, field, value)
        schedule.save(update_fields=list(changes))
        sync(schedule)
        audit.record(team=membership.team, actor=membership.user, action=action, target=schedule.app,
                     schedule=schedule.pk, enabled=schedule.enabled)


def delete(*, membership: Membership, schedule, where: str, action: str, summary: dict, drop) -> None:
    """Delete a schedule (an operator's write) and its beat entry (`drop(schedule id)`); the audit
    row keeps `summary`, what the schedule was."""
    require_role_audited(membership, Role.OPERATOR, where)
    same_team(membership, schedule)
    with transaction.atomic():
        audit.record(team=membership.team, actor=membership.user, action=action, target=schedule.app,
                     schedule=schedule.pk, **summary)
        pk = schedule.pk
        schedule.delete()
        drop(pk)
