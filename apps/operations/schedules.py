"""Scheduled rolling operations (issue 15 item 3): each schedule's beat entry, and what a beat fire does.

- Beat: one django-celery-beat PeriodicTask per schedule (task "operations.run_schedule", args
  [schedule id]; apps.jobs.beat) on the crontab of its window's opening, read in the window's time
  zone. `sync_beat` is called by every write of a schedule or window
  (apps.operations.schedule_actions), in its transaction.
- A fire re-checks everything, because beat only knows an id and a time: apps.jobs.beat.open_fire
  (the schedule still exists and is enabled, its app is still the team's, the member it runs as
  still has the operator role), then `now` is inside the window (beat can fire late; a fire after
  the window's end is "missed"), and the previous run of this schedule is not still going. Then it
  starts the job through the page's own action (apps.operations.actions.start_operation) with the
  window's end, which the job checks before each group. Every fire leaves its outcome on the
  schedule (last_run_at, last_outcome).
"""
from __future__ import annotations

from datetime import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from apps.accounts.access import refusal_text
from apps.accounts.audit import AuditEvent
from apps.jobs import beat
from apps.operations import windows
from apps.operations.models import OperationSchedule

TASK = "operations.run_schedule"
RUN_AUDIT_ACTION = AuditEvent.OPERATIONS_SCHEDULE_RUN


def task_name(schedule_id: int) -> str:
    return f"operation schedule {schedule_id}"


def sync_beat(schedule: OperationSchedule) -> None:
    beat.sync_entry(schedule, name=task_name(schedule.pk), task=TASK, crontab=windows.crontab(schedule.window),
                    description=f"{schedule.operation} of {schedule.app.name} in window {schedule.window.name}")


def drop_beat(schedule_id: int) -> None:
    beat.drop_entry(task_name(schedule_id))


def next_run(schedule: OperationSchedule, now: datetime) -> datetime | None:
    return windows.next_start(schedule.window, now) if schedule.enabled else None


def run_schedule(schedule_id: int, *, now: datetime | None = None) -> str:
    """What one beat fire of the schedule did (also kept as its last_outcome)."""
    from apps.operations.actions import start_operation

    now = now or timezone.now()
    with transaction.atomic():
        fire = beat.open_fire(OperationSchedule.objects.select_related("window", "app", "team", "created_by", "last_job"),
                              schedule_id, now, entry_name=task_name(schedule_id), run_action=RUN_AUDIT_ACTION,
                              paused="skipped: the schedule is disabled")
        if fire.outcome:
            return fire.outcome
        schedule, app = fire.schedule, fire.schedule.app
        end = windows.current_end(schedule.window, now)
        if end is None:
            ended = windows.last_end(schedule.window, now)
            when = f" at {ended:%a %Y-%m-%d %H:%M %Z}" if ended else ""
            return beat.record_fire(schedule, now, f"missed: window ended{when}")
        busy = beat.previous_run_busy(schedule)
        if busy:
            return beat.record_fire(schedule, now, busy)
        try:
            job = start_operation(membership=fire.membership, app=app, operation=schedule.operation, mode="rolling",
                                  component=schedule.component, batch=schedule.batch,
                                  skip_failures=schedule.skip_failures, window_end=end.isoformat(),
                                  schedule=schedule)
        except (ValidationError, PermissionDenied) as exc:
            return beat.record_fire(schedule, now, f"refused: {refusal_text(exc)}")
        return beat.record_fire(schedule, now, f"started job #{job.pk}, until {end:%H:%M %Z}", job=job)
