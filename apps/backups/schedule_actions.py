"""Writes of backup schedules (operators): create, update, pause or resume, delete.

Each is one action: the role checked (refusals audited as access.denied), the input checked (a
ValidationError whose message_dict names the field, so the form shows the reason next to what was
typed), the change, its beat entry (apps.backups.schedules.sync_beat / drop_beat) and its audit
row in one transaction. Saving a schedule makes the editor the member it runs as: their role is
what each run checks.
"""
from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.timezone import now as django_now

from apps.accounts import audit
from apps.accounts.access import require_role_audited
from apps.accounts.audit import AuditEvent
from apps.accounts.models import Membership, Role
from apps.backups import schedules
from apps.backups.models import BackupSchedule
from apps.jobs import beat

MAX_KEEP = 1000
MAX_WINDOW_MINUTES = 24 * 60
KEEP_FIELDS = ("keep_last", "keep_daily", "keep_weekly", "keep_monthly")


def app_components(app) -> list[str]:
    """What a schedule of `app` may back up: its components, or "" for a v1–v3 app (one container)."""
    from apps.deployments.sync import component_names

    return component_names(app.spec or {}) or [""]


def _whole_number(value) -> int | None:
    """A typed whole number, None for anything else (the caller's range check then refuses it)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    text = str(value if value is not None else "").strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) < 7 else None


def _in_range(errors, field, value, low, high, message) -> int:
    number = _whole_number(value)
    if number is None or not low <= number <= high:
        errors[field] = message
        return low
    return number


def _fields(membership, app, *, components, instance_location="", frequency=BackupSchedule.Frequency.DAILY,
            minute=0, hour=3, weekday=0, day_of_month=1, timezone="UTC", window_minutes=60,
            remove_from_node=True, keep_last=7, keep_daily=7, keep_weekly=4, keep_monthly=6) -> dict:
    from apps.operations.windows import zone_error

    errors = {}
    if app is None or app.team_id != membership.team_id or app.dropped:
        raise ValidationError({"app": "Choose one of the team's apps."})
    known = app_components(app)
    chosen = [str(c).strip() for c in (components or [])]
    unknown = [c for c in chosen if c not in known]
    if unknown:
        errors["components"] = f"{app.name} has no component “{unknown[0][:64]}”."
    elif not chosen:
        errors["components"] = "Choose at least one component to back up."
    chosen = [c for c in known if c in chosen]  # the app's order, each once
    location = (instance_location or "").strip()
    if location and not app.instances.filter(location=location).exists():
        errors["instance_location"] = f"{app.name} has no instance at “{location[:64]}”."
    if frequency not in BackupSchedule.Frequency.values:
        errors["frequency"] = "Choose how often: every hour, day, week or month."
    values = {
        "minute": _in_range(errors, "minute", minute, 0, 59, "The minute is 0 to 59."),
        "hour": _in_range(errors, "hour", hour, 0, 23, "The hour is 0 to 23."),
        "weekday": _in_range(errors, "weekday", weekday, 0, 6, "Choose a weekday."),
        "day_of_month": _in_range(errors, "day_of_month", day_of_month, 1, 28,
                                  "The day of the month is 1 to 28 (every month has it)."),
        "window_minutes": _in_range(errors, "window_minutes", window_minutes, 1, MAX_WINDOW_MINUTES,
                                    f"A run may start 1 to {MAX_WINDOW_MINUTES} minutes late."),
    }
    typed_keep = {"keep_last": keep_last, "keep_daily": keep_daily, "keep_weekly": keep_weekly,
                  "keep_monthly": keep_monthly}
    for field, typed in typed_keep.items():
        values[field] = _in_range(errors, field, typed, 0, MAX_KEEP, f"Keep 0 to {MAX_KEEP}.")
    if not any(field in errors for field in KEEP_FIELDS) and not any(values[f] for f in KEEP_FIELDS):
        errors["keep_last"] = "Keep something: at least one retention count above 0."
    zone_name = (timezone or "").strip()
    problem = zone_error(zone_name)
    if problem:
        errors["timezone"] = problem
    if errors:
        raise ValidationError(errors)
    return {"app": app, "components": chosen, "instance_location": location, "frequency": frequency,
            "timezone": zone_name, "remove_from_node": bool(remove_from_node), **values}


def create_schedule(*, membership: Membership, app, **values) -> BackupSchedule:
    require_role_audited(membership, Role.OPERATOR, "backups.schedule_actions.create_schedule")
    fields = _fields(membership, app, **values)
    with transaction.atomic():
        schedule = BackupSchedule.objects.create(team=membership.team, created_by=membership.user, **fields)
        schedules.sync_beat(schedule)
        audit.record(team=membership.team, actor=membership.user, action=AuditEvent.BACKUP_SCHEDULE_CREATE,
                     target=app, schedule=schedule.pk, **summary(schedule))
    return schedule


def update_schedule(*, membership: Membership, schedule: BackupSchedule, **values) -> BackupSchedule:
    require_role_audited(membership, Role.OPERATOR, "backups.schedule_actions.update_schedule")
    beat.same_team(membership, schedule)
    fields = _fields(membership, schedule.app, **values)
    with transaction.atomic():
        before = summary(schedule)
        for key, value in fields.items():
            setattr(schedule, key, value)
        schedule.created_by = membership.user
        schedule.changed_at = django_now()
        schedule.save()
        schedules.sync_beat(schedule)
        audit.record(team=membership.team, actor=membership.user, action=AuditEvent.BACKUP_SCHEDULE_UPDATE,
                     target=schedule.app, schedule=schedule.pk, before=before, after=summary(schedule))
    return schedule


def set_schedule_enabled(*, membership: Membership, schedule: BackupSchedule, enabled: bool) -> BackupSchedule:
    """Pause (enabled False) or resume a schedule; its beat entry follows."""
    beat.set_enabled(membership=membership, schedule=schedule, enabled=enabled,
                     where="backups.schedule_actions.set_schedule_enabled",
                     action=AuditEvent.BACKUP_SCHEDULE_UPDATE, sync=schedules.sync_beat,
                     also={"changed_at": django_now()})
    return schedule


def delete_schedule(*, membership: Membership, schedule: BackupSchedule) -> None:
    """The schedule and its beat entry; its backups stay (they are the team's until deleted)."""
    beat.delete(membership=membership, schedule=schedule, where="backups.schedule_actions.delete_schedule",
                action=AuditEvent.BACKUP_SCHEDULE_DELETE, summary=summary(schedule), drop=schedules.drop_beat)


def summary(schedule: BackupSchedule) -> dict:
    return {"components": list(schedule.components), "instance": schedule.instance_location,
            "when": schedules.describe(schedule), "window_minutes": schedule.window_minutes,
            "remove_from_node": schedule.remove_from_node, "enabled": schedule.enabled,
            **{field: getattr(schedule, field) for field in KEEP_FIELDS}}
