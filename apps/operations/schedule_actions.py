"""Writes of the Schedules page: maintenance windows (managers) and operation schedules (operators).

Each is one action: the role checked (refusals audited), the input checked (a ValidationError whose
message_dict names the field, so the form shows it next to what was typed), the change, its beat
entries (apps.operations.schedules) and its audit row in one transaction. Only operations that are
safe to repeat unattended can be scheduled: the destructive ones (hard redeploy, remove) are
refused. Editing a schedule makes the editor the member it runs as (their role is what a run checks).
"""
from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from apps.accounts import audit
from apps.accounts.access import require_role_audited
from apps.accounts.audit import AuditEvent
from apps.accounts.models import Membership, Role
from apps.jobs import beat
from apps.operations import operations as ops
from apps.operations import schedules, windows
from apps.operations.models import OperationSchedule, TeamWindow

SCHEDULABLE = {name: op for name, op in ops.OPERATIONS.items() if not op.destructive}


def _window_fields(team, *, name, weekdays, start, duration, timezone, exclude_pk=None) -> dict:
    errors = {}
    name = (name or "").strip()
    if not name or len(name) > 80:
        errors["name"] = "Give the window a name (up to 80 characters)."
    elif any(ch < " " or ch == "\x7f" for ch in name):
        errors["name"] = "The name holds control characters."
    elif TeamWindow.objects.filter(team=team, name=name).exclude(pk=exclude_pk).exists():
        errors["name"] = f"The team already has a window called “{name}”."
    days = sorted({int(d) for d in weekdays if str(d).strip() in {"0", "1", "2", "3", "4", "5", "6"}})
    if not days:
        errors["weekdays"] = "Choose at least one weekday."
    start_time = start if hasattr(start, "hour") else windows.clock(str(start or ""))
    if start_time is None:
        errors["start"] = "The start is a time of day such as 22:00."
    minutes = _whole_number(duration)
    if not 1 <= minutes <= windows.MAX_DURATION_MINUTES:
        errors["duration"] = f"The duration is 1 to {windows.MAX_DURATION_MINUTES} minutes (a day at most)."
    zone_problem = windows.zone_error((timezone or "").strip())
    if zone_problem:
        errors["timezone"] = zone_problem
    if errors:
        raise ValidationError(errors)
    return {"name": name, "weekdays": days, "start_time": start_time, "duration_minutes": minutes,
            "timezone": timezone.strip()}


def create_window(*, membership: Membership, **values) -> TeamWindow:
    require_role_audited(membership, Role.MANAGER, "operations.schedule_actions.create_window")
    fields = _window_fields(membership.team, **values)
    with transaction.atomic():
        window = TeamWindow.objects.create(team=membership.team, created_by=membership.user, **fields)
        audit.record(team=membership.team, actor=membership.user, action=AuditEvent.OPERATIONS_WINDOW_CREATE,
                     target=window, window=windows.describe(window))
    return window


def update_window(*, membership: Membership, window: TeamWindow, **values) -> TeamWindow:
    """Change a window; every schedule in it moves to the new crontab."""
    require_role_audited(membership, Role.MANAGER, "operations.schedule_actions.update_window")
    beat.same_team(membership, window)
    fields = _window_fields(membership.team, exclude_pk=window.pk, **values)
    with transaction.atomic():
        before = windows.describe(window)
        for key, value in fields.items():
            setattr(window, key, value)
        window.save()
        for schedule in window.schedules.select_related("app", "window"):
            schedules.sync_beat(schedule)
        audit.record(team=membership.team, actor=membership.user, action=AuditEvent.OPERATIONS_WINDOW_UPDATE,
                     target=window, before=before, after=windows.describe(window))
    return window


def delete_window(*, membership: Membership, window: TeamWindow) -> None:
    require_role_audited(membership, Role.MANAGER, "operations.schedule_actions.delete_window")
    beat.same_team(membership, window)
    used = window.schedules.count()
    if used:
        raise ValidationError(f"The window “{window.name}” is used by {used} schedule(s): delete or move them first.")
    with transaction.atomic():
        audit.record(team=membership.team, actor=membership.user, action=AuditEvent.OPERATIONS_WINDOW_DELETE,
                     target=window, window=windows.describe(window))
        window.delete()


def _schedule_fields(membership, *, app, window, operation, component="", batch=1, skip_failures=False) -> dict:
    from apps.deployments.sync import component_names

    errors = {}
    if app is None or app.team_id != membership.team_id or app.dropped:
        errors["app"] = "Choose one of the team's apps."
    if window is None or window.team_id != membership.team_id:
        errors["window"] = "Choose one of the team's maintenance windows."
    op = ops.OPERATIONS.get(operation or "")
    if op is None:
        errors["operation"] = "Choose an operation."
    elif op.name not in SCHEDULABLE:
        errors["operation"] = (f"{op.label} is destructive and cannot be scheduled: run it from the app's "
                               "Operations page, where its name is typed to confirm.")
    component = (component or "").strip()
    if component and "app" not in errors:
        if component not in component_names(app.spec or {}):
            errors["component"] = f"{app.name} has no component “{component}”."
        elif op is not None and not op.component_ok:
            errors["component"] = f"{op.label} acts on the whole app, not a component."
    batch = _whole_number(batch)
    if not 1 <= batch <= ops.MAX_BATCH:
        errors["batch"] = f"Rolling: 1 to {ops.MAX_BATCH} instances at a time."
    if errors:
        raise ValidationError(errors)
    return {"app": app, "window": window, "operation": op.name, "component": component, "batch": batch,
            "skip_failures": bool(skip_failures)}


def create_schedule(*, membership: Membership, **values) -> OperationSchedule:
    require_role_audited(membership, Role.OPERATOR, "operations.schedule_actions.create_schedule")
    fields = _schedule_fields(membership, **values)
    with transaction.atomic():
        schedule = OperationSchedule.objects.create(team=membership.team, created_by=membership.user, **fields)
        schedules.sync_beat(schedule)
        audit.record(team=membership.team, actor=membership.user, action=AuditEvent.OPERATIONS_SCHEDULE_CREATE,
                     target=fields["app"], schedule=schedule.pk, **_summary(schedule))
    return schedule


def update_schedule(*, membership: Membership, schedule: OperationSchedule, **values) -> OperationSchedule:
    require_role_audited(membership, Role.OPERATOR, "operations.schedule_actions.update_schedule")
    beat.same_team(membership, schedule)
    fields = _schedule_fields(membership, **values)
    with transaction.atomic():
        before = _summary(schedule)
        for key, value in fields.items():
            setattr(schedule, key, value)
        schedule.created_by = membership.user
        schedule.save()
        schedules.sync_beat(schedule)
        audit.record(team=membership.team, actor=membership.user, action=AuditEvent.OPERATIONS_SCHEDULE_UPDATE,
                     target=schedule.app, schedule=schedule.pk, before=before, after=_summary(schedule))
    return schedule


def set_schedule_enabled(*, membership: Membership, schedule: OperationSchedule, enabled: bool) -> OperationSchedule:
    beat.set_enabled(membership=membership, schedule=schedule, enabled=enabled,
                     where="operations.schedule_actions.set_schedule_enabled",
                     action=AuditEvent.OPERATIONS_SCHEDULE_UPDATE, sync=schedules.sync_beat)
    return schedule


def delete_schedule(*, membership: Membership, schedule: OperationSchedule) -> None:
    beat.delete(membership=membership, schedule=schedule, where="operations.schedule_actions.delete_schedule",
                action=AuditEvent.OPERATIONS_SCHEDULE_DELETE, summary=_summary(schedule), drop=schedules.drop_beat)


def _whole_number(value) -> int:
    """A typed whole number, 0 for anything else (the caller's range check then refuses it)."""
    text = str(value).strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) < 7 else 0


def _summary(schedule: OperationSchedule) -> dict:
    return {"operation": schedule.operation, "component": schedule.component, "window": schedule.window.name,
            "batch": schedule.batch, "skip_failures": schedule.skip_failures, "enabled": schedule.enabled}
