"""Scheduled rolling operations (issue 15 item 3): each schedule's beat entry, and what a beat fire does.

- Beat: one django-celery-beat PeriodicTask per schedule (task "operations.run_schedule", args
  [schedule id]) on the CrontabSchedule of its window's opening, read in the window's time zone;
  crontab rows are shared (get or create by their fields). `sync_beat` is called by every write of
  a schedule or window (apps.operations.schedule_actions), in its transaction.
- A fire re-checks everything, because beat only knows an id and a time: the schedule still exists
  and is enabled, its app is still the team's, the member it runs as still has the operator role,
  `now` is inside the window (beat can fire late; a fire after the window's end is "missed"), and
  the previous run of this schedule is not still going. Then it starts the job through the page's
  own action (apps.operations.actions.start_operation) with the window's end, which the job checks
  before each group. Every fire leaves its outcome on the schedule (last_run_at, last_outcome).
"""
from __future__ import annotations

import json
from datetime import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from apps.accounts import audit
from apps.accounts.access import member_for_task
from apps.accounts.audit import AuditEvent
from apps.accounts.models import Role
from apps.jobs.models import Job
from apps.operations import windows
from apps.operations.models import OperationSchedule

TASK = "operations.run_schedule"
RUN_AUDIT_ACTION = AuditEvent.OPERATIONS_SCHEDULE_RUN


def task_name(schedule_id: int) -> str:
    return f"operation schedule {schedule_id}"


def sync_beat(schedule: OperationSchedule) -> None:
    """Create or update the schedule's beat entry (saving a PeriodicTask tells beat it changed)."""
    from django_celery_beat.models import CrontabSchedule, PeriodicTask

    fields = windows.crontab(schedule.window)
    crontab = CrontabSchedule.objects.filter(**fields).order_by("pk").first() or CrontabSchedule.objects.create(**fields)
    task, _ = PeriodicTask.objects.update_or_create(
        name=task_name(schedule.pk),
        defaults={"task": TASK, "crontab": crontab, "interval": None, "args": json.dumps([schedule.pk]),
                  "enabled": schedule.enabled,
                  "description": f"{schedule.operation} of {schedule.app.name} in window {schedule.window.name}"})
    if schedule.periodic_task_id != task.pk:
        schedule.periodic_task = task
        schedule.save(update_fields=["periodic_task"])


def drop_beat(schedule_id: int) -> None:
    from django_celery_beat.models import PeriodicTask

    for task in PeriodicTask.objects.filter(name=task_name(schedule_id)):
        task.delete()  # one by one: the delete signal tells beat


def next_run(schedule: OperationSchedule, now: datetime) -> datetime | None:
    return windows.next_start(schedule.window, now) if schedule.enabled else None


def run_schedule(schedule_id: int, *, now: datetime | None = None) -> str:
    """What one beat fire of the schedule did (also kept as its last_outcome)."""
    from apps.operations.actions import start_operation

    now = now or timezone.now()
    with transaction.atomic():
        schedule = (OperationSchedule.objects.select_for_update(of=("self",))
                    .select_related("window", "app", "team", "created_by", "last_job")
                    .filter(pk=schedule_id).first())
        if schedule is None:  # deleted with its app or team: its beat entry is an orphan
            drop_beat(schedule_id)
            return "gone: the schedule no longer exists"
        if not schedule.enabled:
            return _record(schedule, now, "skipped: the schedule is disabled")
        app = schedule.app
        if app.team_id != schedule.team_id or app.dropped:
            return _record(schedule, now, "refused: the app is no longer one of the team's apps")
        try:
            membership = member_for_task(schedule.created_by_id, schedule.team_id, Role.OPERATOR)
        except PermissionDenied:
            who = schedule.created_by.username if schedule.created_by else "its creator"
            text = f"refused: {who} no longer has the operator role in the team"
            audit.record(team=schedule.team, actor=schedule.created_by, action=RUN_AUDIT_ACTION, target=app,
                         outcome=audit.Outcome.DENIED, schedule=schedule.pk, reason=text)
            return _record(schedule, now, text)
        end = windows.current_end(schedule.window, now)
        if end is None:
            ended = windows.last_end(schedule.window, now)
            when = f" at {ended:%a %Y-%m-%d %H:%M %Z}" if ended else ""
            return _record(schedule, now, f"missed: window ended{when}")
        previous = schedule.last_job
        if previous is not None and not previous.is_finished:
            return _record(schedule, now, f"skipped: the previous run (job #{previous.pk}) is still {previous.status}")
        try:
            job = start_operation(membership=membership, app=app, operation=schedule.operation, mode="rolling",
                                  component=schedule.component, batch=schedule.batch,
                                  skip_failures=schedule.skip_failures, window_end=end.isoformat(),
                                  schedule=schedule)
        except (ValidationError, PermissionDenied) as exc:
            from apps.accounts.access import refusal_text

            return _record(schedule, now, f"refused: {refusal_text(exc)}")
        return _record(schedule, now, f"started job #{job.pk}, until {end:%H:%M %Z}", job=job)


def _record(schedule: OperationSchedule, now: datetime, text: str, *, job: Job | None = None) -> str:
    schedule.last_run_at = now
    schedule.last_outcome = text[:300]
    fields = ["last_run_at", "last_outcome"]
    if job is not None:
        schedule.last_job = job
        fields.append("last_job")
    schedule.save(update_fields=fields)
    return schedule.last_outcome
