"""Scheduled backups (issue 16 item 3): each schedule's beat entry, its due times, and what a fire does.

- Due times: hourly at `minute` past every hour; daily at `hour:minute`; weekly on `weekday`
  (0 = Monday); monthly on `day_of_month` (1–28, so every month has it). All read on the wall clock
  of the schedule's IANA zone. A daily time inside a spring-forward gap is due at the moment it
  would have been (zoneinfo's fold=0 offset: 02:30 in Europe/Berlin on the last Sunday of March is
  01:30 UTC); a time that occurs twice on a fall-back day is due once, the first time. Hourly runs
  are due at every real hour whose local minute is `minute` (so none in a skipped hour, two in a
  repeated one). Arithmetic happens in UTC: Python compares two datetimes of one zone by their
  wall clocks, which is wrong across a DST change.
- Beat: one django-celery-beat PeriodicTask per schedule (task "backups.run_schedule", args
  [schedule id]; apps.jobs.beat) on a crontab read in the schedule's zone, kept in step by every
  write (apps.backups.schedule_actions) in its transaction.
- A fire re-checks everything, because beat only knows an id and a time: apps.jobs.beat.open_fire
  (the schedule still exists and is enabled, its app is still the team's, the member it runs as,
  its last editor, still has the operator role: refused, audited and alerted otherwise), then the
  fire is at most `window_minutes` after the due time (else "missed"), and the previous run's job
  is not still going. Then it starts the backup through the page's own action
  (apps.backups.actions.start_backup). Every fire leaves its outcome on the schedule; a refused,
  missed or failed start raises the backup alert.
- `missed()` is the other half: a due time that passed with no fire at all (beat or the panel was
  down) is shown on the page. Only due times after the schedule's last change (created, edited,
  resumed) count: a time moved to one that has just passed was never due.
"""
from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from apps.accounts.access import refusal_text
from apps.accounts.audit import AuditEvent
from apps.backups.models import Backup, BackupSchedule
from apps.jobs import beat

TASK = "backups.run_schedule"
RUN_AUDIT_ACTION = AuditEvent.BACKUP_SCHEDULE_RUN
# Beat may fire a little before the due minute by its own clock: such a fire is that due time's.
EARLY = timedelta(minutes=1)
# How far back / ahead a due time is looked for: more than a month (the longest period).
REACH = timedelta(days=33)
Frequency = BackupSchedule.Frequency


def task_name(schedule_id: int) -> str:
    return f"backup schedule {schedule_id}"


def zone(schedule) -> ZoneInfo:
    return ZoneInfo(schedule.timezone or "UTC")


def crontab(schedule) -> dict:
    """The beat crontab (CrontabSchedule fields) of the schedule, read in its zone. Cron counts
    weekdays from Sunday = 0, Python from Monday = 0."""
    fields = {"minute": str(schedule.minute), "hour": str(schedule.hour), "day_of_week": "*",
              "day_of_month": "*", "month_of_year": "*", "timezone": schedule.timezone or "UTC"}
    if schedule.frequency == Frequency.HOURLY:
        fields["hour"] = "*"
    elif schedule.frequency == Frequency.WEEKLY:
        fields["day_of_week"] = str((schedule.weekday + 1) % 7)
    elif schedule.frequency == Frequency.MONTHLY:
        fields["day_of_month"] = str(schedule.day_of_month)
    return fields


def describe(schedule) -> str:
    """"every day at 03:00 (Europe/Berlin)"."""
    at = f"{schedule.hour:02d}:{schedule.minute:02d}"
    if schedule.frequency == Frequency.HOURLY:
        when = f"every hour at minute {schedule.minute:02d}"
    elif schedule.frequency == Frequency.WEEKLY:
        when = f"every {('Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday')[schedule.weekday % 7]} at {at}"
    elif schedule.frequency == Frequency.MONTHLY:
        when = f"on day {schedule.day_of_month} of every month at {at}"
    else:
        when = f"every day at {at}"
    return f"{when} ({schedule.timezone})"


def sync_beat(schedule: BackupSchedule) -> None:
    beat.sync_entry(schedule, name=task_name(schedule.pk), task=TASK, crontab=crontab(schedule),
                    description=f"backup of {schedule.app.name} {describe(schedule)}")


def drop_beat(schedule_id: int) -> None:
    beat.drop_entry(task_name(schedule_id))


def _on_day(schedule, day: date) -> list[datetime]:
    """The schedule's due moments (UTC) of one local date."""
    tz = zone(schedule)
    if schedule.frequency == Frequency.HOURLY:
        # Every real instant of that local day whose local minute is `minute`: step through the
        # day's UTC span by quarter hours (every zone offset is a multiple of 15 minutes, so the
        # UTC and local minutes agree modulo 15).
        start = (datetime.combine(day, time(0)).replace(tzinfo=tz).astimezone(UTC)
                 - timedelta(hours=1) + timedelta(minutes=schedule.minute % 15))
        moments = []
        for step in range(27 * 4):
            moment = start + timedelta(minutes=15 * step)
            local = moment.astimezone(tz)
            if local.date() == day and local.minute == schedule.minute:
                moments.append(moment)
        return moments
    if schedule.frequency == Frequency.WEEKLY and day.weekday() != schedule.weekday:
        return []
    if schedule.frequency == Frequency.MONTHLY and day.day != schedule.day_of_month:
        return []
    naive = datetime.combine(day, time(schedule.hour, schedule.minute))
    return [naive.replace(tzinfo=tz).astimezone(UTC)]


def due_times(schedule, after: datetime, before: datetime) -> list[datetime]:
    """Due moments strictly after `after` and at or before `before`, oldest first, in the
    schedule's zone."""
    tz = zone(schedule)
    low, high = after.astimezone(UTC), before.astimezone(UTC)
    if high <= low:
        return []
    day, last = low.astimezone(tz).date() - timedelta(days=1), high.astimezone(tz).date() + timedelta(days=1)
    found = []
    while day <= last:
        found += [m for m in _on_day(schedule, day) if low < m <= high]
        day += timedelta(days=1)
    return [m.astimezone(tz) for m in sorted(set(found))]


def previous_due(schedule, now: datetime) -> datetime | None:
    """The latest due moment at or before `now`."""
    found = due_times(schedule, now - REACH, now)
    return found[-1] if found else None


def next_due(schedule, now: datetime) -> datetime | None:
    """The first due moment after `now`."""
    found = due_times(schedule, now, now + REACH)
    return found[0] if found else None


def _when(moment: datetime) -> str:
    return f"{moment:%a %Y-%m-%d %H:%M %Z}"


def missed(schedule, now: datetime) -> str:
    """"" or a sentence: the last due moment passed more than `window_minutes` ago and no fire was
    recorded at or after it (beat was down, the panel was off), or its fire came too late."""
    if not schedule.enabled:
        return ""
    due = previous_due(schedule, now)
    if due is None or due < schedule.changed_at or now - due <= timedelta(minutes=schedule.window_minutes):
        return ""
    ran = schedule.last_run_at is not None and schedule.last_run_at >= due
    if ran and not schedule.last_outcome.startswith("missed"):
        return ""
    return (f"The backup due {_when(due)} did not run: the scheduler (beat) or the panel was not running "
            f"within {schedule.window_minutes} minutes of that time.")


def run_schedule(schedule_id: int, *, now: datetime | None = None) -> str:
    """What one beat fire of the schedule did (also kept as its last_outcome)."""
    from apps.backups.alerts import backup_problem

    now = now or timezone.now()
    with transaction.atomic():
        fire = beat.open_fire(BackupSchedule.objects.select_related("app", "team", "created_by", "last_job"),
                              schedule_id, now, entry_name=task_name(schedule_id), run_action=RUN_AUDIT_ACTION,
                              paused="skipped: the schedule is paused")
        if fire.role_refused:
            backup_problem(fire.schedule.app, f"the scheduled backup was {fire.outcome}")
        if fire.outcome:
            return fire.outcome
        schedule, app = fire.schedule, fire.schedule.app
        due = previous_due(schedule, now + EARLY)
        if due is None or now - due > timedelta(minutes=schedule.window_minutes):
            text = f"missed: due at {_when(due)}" if due else "missed: not due"
            backup_problem(app, f"the scheduled backup was {text}, and beat fired it only at "
                                f"{_when(now.astimezone(zone(schedule)))}")
            return beat.record_fire(schedule, now, text)
        busy = beat.previous_run_busy(schedule)
        if busy:
            return beat.record_fire(schedule, now, busy)
        instance = None
        if schedule.instance_location:
            instance = app.instances.filter(location=schedule.instance_location).first()
            if instance is None:
                text = f"refused: the app has no instance at {schedule.instance_location} any more"
                backup_problem(app, f"the scheduled backup was {text}")
                return beat.record_fire(schedule, now, text)
        try:
            from apps.backups.actions import start_backup

            job = start_backup(membership=fire.membership, app=app, instance=instance,
                               components=list(schedule.components or [""]), kind=Backup.Kind.SCHEDULED,
                               schedule=schedule, remove_from_node=schedule.remove_from_node)
        except (ValidationError, PermissionDenied) as exc:
            text = f"refused: {refusal_text(exc)}"
            backup_problem(app, f"the scheduled backup was {text}")
            return beat.record_fire(schedule, now, text)
        return beat.record_fire(schedule, now, f"started job #{job.pk} (due at {_when(due)})", job=job)
