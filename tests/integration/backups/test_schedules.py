"""Backup schedules: the beat entry follows each write (crontab in the schedule's zone), the page's
partial shows next run, missed runs and refusals next to what was typed; a fire re-checks (role,
window, previous run) and starts the backup through start_backup; due times are DST-safe; and a
schedule due within a minute fires through a real beat and worker against the real Redis."""
from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta

import pytest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from apps.accounts.models import AuditEntry, Membership, Role
from apps.backups import schedule_actions, schedules
from apps.backups.models import Backup, BackupSchedule
from apps.backups.schedule_views import schedules_context
from apps.deployments.models import AppAlertState, AppInstance, TeamApp
from apps.jobs.models import Job
from apps.nodes.models import AlertDelivery, AlertRule
from tests.conftest import REPO, make_child_environment, start_worker_process, stop_process

pytestmark = pytest.mark.django_db(transaction=True)
BERLIN = "Europe/Berlin"
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def app(personas):
    app = TeamApp.objects.create(team=personas.team, name="wiki", name_key="wiki", owner="1Owner",
                                 spec={"version": 8, "name": "wiki", "compose": [{"name": "web"}, {"name": "db"}]})
    # A documentation address: the panel refuses to call it at once, so a backup job ends quickly.
    AppInstance.objects.create(app=app, team=personas.team, location="203.0.113.7:16127")
    return app


def operator(personas) -> Membership:
    return Membership.objects.get(user=personas.operator, team=personas.team)


def make(personas, app, **values) -> BackupSchedule:
    values = {"components": ["web"], "frequency": "daily", "hour": 3, "minute": 0, "timezone": "UTC", **values}
    return schedule_actions.create_schedule(membership=operator(personas), app=app, **values)


def task_of(schedule) -> PeriodicTask:
    return PeriodicTask.objects.select_related("crontab").get(name=schedules.task_name(schedule.pk))


FORM = {"components": ["db", "web"], "frequency": "weekly", "weekday": "6", "hour": "22", "minute": "5",
        "day_of_month": "1", "timezone": BERLIN, "window_minutes": "30", "keep_last": "3", "keep_daily": "7",
        "keep_weekly": "4", "keep_monthly": "0", "remove_from_node": "1"}


def test_it_creates_the_beat_task_in_the_schedule_zone_and_shows_it(personas, app, client_as):
    answer = client_as("operator").post(reverse("backups:schedule_create", args=[app.pk]), FORM, **HTMX)
    page = answer.content.decode()
    assert answer.status_code == 200 and 'id="backup-schedules"' in page and "Backup schedule created." in page
    schedule = BackupSchedule.objects.get()
    assert schedule.components == ["web", "db"] and schedule.created_by == personas.operator
    task = task_of(schedule)
    assert (task.task, json.loads(task.args), task.enabled) == ("backups.run_schedule", [schedule.pk], True)
    crontab = task.crontab
    assert (crontab.minute, crontab.hour, crontab.day_of_week, crontab.day_of_month) == ("5", "22", "0", "*")
    assert str(crontab.timezone) == BERLIN
    assert "every Sunday at 22:05 (Europe/Berlin)" in page and ("CET" in page or "CEST" in page)
    entry = AuditEntry.objects.get(action="backups.schedule_create")
    assert entry.actor == personas.operator and entry.detail["schedule"] == schedule.pk
    operator_page = client_as("operator").get(reverse("backups:app", args=[app.pk])).content.decode()
    assert "every Sunday at 22:05" in operator_page and 'data-role="backup-schedule-form"' in operator_page
    viewer = Membership.objects.get(user=personas.viewer, team=personas.team)
    partial = render_to_string("backups/_schedules.html", schedules_context(viewer, app, timezone.now()))
    assert "every Sunday at 22:05" in partial and 'data-role="backup-schedule-form"' not in partial


def test_it_refuses_bad_input_next_to_what_was_typed(personas, app, client_as):
    bad = {**FORM, "components": ["cache"], "minute": "61", "timezone": "Mars/Olympus", "keep_last": "0",
           "keep_daily": "0", "keep_weekly": "0"}
    page = client_as("operator").post(reverse("backups:schedule_create", args=[app.pk]), bad, **HTMX).content.decode()
    assert "wiki has no component “cache”." in page and "The minute is 0 to 59." in page
    assert "“Mars/Olympus” is not a time zone name" in page and 'value="Mars/Olympus"' in page
    assert not BackupSchedule.objects.exists()
    page = client_as("operator").post(reverse("backups:schedule_create", args=[app.pk]),
                                      {**FORM, "keep_last": "0", "keep_daily": "0", "keep_weekly": "0"},
                                      **HTMX).content.decode()
    assert "Keep something: at least one retention count above 0." in page
    page = client_as("operator").post(reverse("backups:schedule_create", args=[app.pk]),
                                      {**FORM, "components": []}, **HTMX).content.decode()
    assert "Choose at least one component to back up." in page
    answer = client_as("operator").post(reverse("backups:schedule_create", args=[app.pk]), bad, follow=True)
    assert answer.redirect_chain[-1][0] == reverse("backups:app", args=[app.pk])
    assert not BackupSchedule.objects.exists() and not PeriodicTask.objects.filter(task=schedules.TASK).exists()


def test_it_edits_pauses_resumes_and_deletes_with_the_task(personas, app, client_as):
    schedule = make(personas, app)
    client = client_as("manager")
    client.post(reverse("backups:schedule_update", args=[schedule.pk]), {**FORM, "frequency": "monthly",
                                                                         "day_of_month": "15"}, **HTMX)
    schedule.refresh_from_db()
    assert schedule.created_by == personas.manager and schedule.frequency == "monthly"
    assert (task_of(schedule).crontab.day_of_month, task_of(schedule).crontab.day_of_week) == ("15", "*")
    client.post(reverse("backups:schedule_enabled", args=[schedule.pk]), {"enabled": "0"}, **HTMX)
    assert task_of(schedule).enabled is False
    assert schedules.run_schedule(schedule.pk) == "skipped: the schedule is paused"
    client.post(reverse("backups:schedule_enabled", args=[schedule.pk]), {"enabled": "1"})
    assert task_of(schedule).enabled is True
    answer = client.post(reverse("backups:schedule_delete", args=[schedule.pk]))
    assert answer.status_code == 302
    assert not BackupSchedule.objects.exists() and not PeriodicTask.objects.filter(name=schedules.task_name(schedule.pk)).exists()
    assert list(AuditEntry.objects.filter(action__startswith="backups.schedule").values_list("action", flat=True)
                .order_by("id")) == ["backups.schedule_create", "backups.schedule_update", "backups.schedule_update",
                                     "backups.schedule_update", "backups.schedule_delete"]


def test_it_computes_due_times_across_dst_changes(personas, app):
    daily = BackupSchedule(app=app, team=personas.team, frequency="daily", hour=2, minute=30, timezone=BERLIN)
    # Berlin springs forward on 2025-03-30 (02:00 → 03:00) and falls back on 2025-10-26 (03:00 → 02:00).
    spring = schedules.due_times(daily, datetime(2025, 3, 29, tzinfo=UTC), datetime(2025, 3, 31, 12, tzinfo=UTC))
    assert [m.astimezone(UTC) for m in spring] == [datetime(2025, 3, 29, 1, 30, tzinfo=UTC),
                                                   datetime(2025, 3, 30, 1, 30, tzinfo=UTC),
                                                   datetime(2025, 3, 31, 0, 30, tzinfo=UTC)]
    autumn = schedules.due_times(daily, datetime(2025, 10, 25, 12, tzinfo=UTC), datetime(2025, 10, 26, 12, tzinfo=UTC))
    assert [m.astimezone(UTC) for m in autumn] == [datetime(2025, 10, 26, 0, 30, tzinfo=UTC)]  # the first 02:30
    hourly = BackupSchedule(app=app, team=personas.team, frequency="hourly", minute=15, timezone=BERLIN)
    assert len(schedules.due_times(hourly, datetime(2025, 3, 29, 23, tzinfo=UTC), datetime(2025, 3, 30, 22, tzinfo=UTC))) == 23
    assert len(schedules.due_times(hourly, datetime(2025, 10, 25, 22, tzinfo=UTC), datetime(2025, 10, 26, 23, tzinfo=UTC))) == 25
    kathmandu = BackupSchedule(app=app, team=personas.team, frequency="hourly", minute=7, timezone="Asia/Kathmandu")
    # UTC+05:45: minute 7 there is minute 22 in UTC.
    assert [m.astimezone(UTC).minute for m in schedules.due_times(kathmandu, datetime(2025, 1, 1, tzinfo=UTC),
                                                                  datetime(2025, 1, 1, 5, tzinfo=UTC))] == [22] * 5
    monthly = BackupSchedule(app=app, team=personas.team, frequency="monthly", day_of_month=28, hour=0, minute=0,
                             timezone="Asia/Tokyo")
    now = datetime(2025, 3, 1, tzinfo=UTC)
    assert schedules.next_due(monthly, now) == datetime(2025, 3, 28, tzinfo=schedules.zone(monthly))
    assert schedules.previous_due(monthly, now) == datetime(2025, 2, 28, tzinfo=schedules.zone(monthly))


def test_it_says_a_run_was_missed_while_beat_was_down_and_not_once_it_ran(personas, app):
    now = timezone.now()
    due = now - timedelta(hours=2)
    schedule = make(personas, app, frequency="daily", hour=due.hour, minute=due.minute, window_minutes=60)
    BackupSchedule.objects.filter(pk=schedule.pk).update(created_at=now - timedelta(days=3),
                                                         changed_at=now - timedelta(days=3))
    schedule.refresh_from_db()
    text = schedules.missed(schedule, now)
    assert text.startswith(f"The backup due {due:%a %Y-%m-%d %H:%M} UTC did not run")
    assert schedules.missed(schedule, due + timedelta(minutes=30)) == ""  # still inside its window
    schedule.last_run_at, schedule.last_outcome = due + timedelta(seconds=2), "started job #1"
    assert schedules.missed(schedule, now) == ""


def test_a_time_moved_into_the_past_or_a_resumed_schedule_is_not_missed(personas, app):
    now = timezone.now()
    schedule = make(personas, app, frequency="daily", hour=(now + timedelta(hours=1)).hour, window_minutes=60)
    BackupSchedule.objects.filter(pk=schedule.pk).update(created_at=now - timedelta(days=3),
                                                         changed_at=now - timedelta(days=3))
    schedule.refresh_from_db()
    passed = now - timedelta(hours=2)
    # The editor moves the time to one that passed two hours ago: nothing was due then.
    schedule_actions.update_schedule(membership=operator(personas), schedule=schedule, components=["web"],
                                     frequency="daily", hour=passed.hour, minute=passed.minute, timezone="UTC")
    assert schedules.missed(schedule, timezone.now()) == ""
    assert schedules.missed(schedule, timezone.now() + timedelta(days=1)).startswith("The backup due")
    schedule_actions.set_schedule_enabled(membership=operator(personas), schedule=schedule, enabled=False)
    BackupSchedule.objects.filter(pk=schedule.pk).update(changed_at=now - timedelta(days=2))
    schedule.refresh_from_db()
    assert schedules.missed(schedule, now) == ""  # paused: nothing is due
    schedule_actions.set_schedule_enabled(membership=operator(personas), schedule=schedule, enabled=True)
    schedule.refresh_from_db()
    assert schedule.enabled and schedule.changed_at >= now
    assert schedules.missed(schedule, timezone.now()) == ""  # the runs due while paused are not "missed"


def test_it_refuses_audits_and_alerts_when_the_creator_lost_the_role(personas, app):
    rule = AlertRule.objects.create(team=personas.team, kind=AlertRule.Kind.BACKUP_FAILED)
    now = timezone.now()
    schedule = make(personas, app, hour=now.hour, minute=now.minute)
    Membership.objects.filter(user=personas.operator, team=personas.team).update(role=Role.VIEWER)
    outcome = schedules.run_schedule(schedule.pk, now=now)
    assert outcome == "refused: operator no longer has the operator role in the team"
    schedule.refresh_from_db()
    assert schedule.last_outcome == outcome and schedule.last_run_at == now and not Job.objects.exists()
    refused = AuditEntry.objects.get(action="backups.schedule_run")
    assert refused.outcome == "denied" and refused.detail["schedule"] == schedule.pk
    assert AppAlertState.objects.filter(rule=rule, app=app).exists()
    assert AlertDelivery.objects.get().message.endswith(outcome)


def test_it_starts_the_backup_and_records_a_late_fire_as_missed(personas, app):
    now = timezone.now().replace(second=0, microsecond=0)
    schedule = make(personas, app, components=["web", "db"], hour=now.hour, minute=now.minute, window_minutes=10)
    outcome = schedules.run_schedule(schedule.pk, now=now + timedelta(seconds=20))
    job = Job.objects.get(kind="app_backup")
    assert outcome.startswith(f"started job #{job.pk} (due at ")
    assert sorted(Backup.objects.filter(schedule=schedule, kind="scheduled").values_list("component", flat=True)) == ["db", "web"]
    assert job.requested_by == personas.operator and job.params["schedule"] == schedule.pk
    assert schedules.run_schedule(schedule.pk, now=now + timedelta(seconds=30)) == \
        f"skipped: the previous run (job #{job.pk}) is still {job.status}"
    Job.objects.filter(pk=job.pk).update(status=Job.Status.SUCCEEDED)
    late = schedules.run_schedule(schedule.pk, now=now + timedelta(minutes=11))
    assert late.startswith("missed: due at ") and Job.objects.filter(kind="app_backup").count() == 1


def start_beat(redis_url: str) -> subprocess.Popen:
    child = make_child_environment(REDIS_URL=redis_url, WORKER_HEARTBEAT_SECONDS="1")
    output = tempfile.TemporaryFile()
    folder = tempfile.mkdtemp(prefix="fluxpanel-beat-")
    return subprocess.Popen([sys.executable, "-m", "celery", "-A", "fluxpanel", "beat", "--loglevel", "INFO",
                             "--pidfile", "", "--schedule", f"{folder}/beat-schedule", "--max-interval", "2"],
                            cwd=REPO, env=child, stdout=output, stderr=subprocess.STDOUT)


def test_it_fires_through_a_real_beat_and_worker(personas, app, redis_broker):
    now = timezone.now()
    due = (now + timedelta(minutes=2 if now.second > 40 else 1)).replace(second=0, microsecond=0)
    schedule = make(personas, app, frequency="hourly", minute=due.minute, window_minutes=5)
    worker = start_worker_process(redis_broker, "backupbeat")
    beat = start_beat(redis_broker)
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            schedule.refresh_from_db()
            if schedule.last_run_at is not None:
                break
            assert beat.poll() is None, "beat stopped"
            time.sleep(1)
    finally:
        stop_process(beat)
        stop_process(worker)
    assert schedule.last_run_at is not None, "beat never fired the schedule"
    assert schedule.last_run_at >= due - schedules.EARLY
    job = Job.objects.filter(kind="app_backup").first()
    assert job is not None, schedule.last_outcome
    assert schedule.last_outcome.startswith(f"started job #{job.pk} (due at ") and schedule.last_job == job
    assert Backup.objects.filter(schedule=schedule, kind="scheduled", component="web").exists()
