"""Maintenance windows and scheduled rolling operations against the simulated fleet over loopback
HTTP: each schedule's beat entry follows the schedule and its window; a beat fire inside the
window starts an app_operation job through the page's own action; a fire after the window, by a
member who lost the operator role, or while the previous run still goes, starts nothing and says
why; a run whose window ends stops before its next group; destructive operations are refused."""
from __future__ import annotations

import json
from datetime import UTC, datetime, time, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from apps.accounts.models import AuditEntry, Membership, Role
from apps.jobs.models import Job
from apps.operations import actions, schedule_actions, schedules
from apps.operations.models import OperationSchedule, TeamWindow
from apps.operations.tasks import run_schedule_task
from tests.integration.operations import test_operations as operations_tests
from tests.integration.operations.test_operations import authorise, operator, output, restarts, run
from tests.sim import fluxnode_lifecycle as lifecycle

pytestmark = pytest.mark.django_db(transaction=True)
EVERY_DAY = list(range(7))
setup = operations_tests.setup  # the same team app on the simulated fleet (wiki2, five instances)


def manager(personas):
    return Membership.objects.get(user=personas.manager, team=personas.team)


def window_around(personas, *, opened_minutes_ago: int, minutes: int, name="now") -> TeamWindow:
    """A daily UTC window that opened `opened_minutes_ago` (negative: opens later) for `minutes`."""
    start = (datetime.now(UTC) - timedelta(minutes=opened_minutes_ago)).time().replace(second=0, microsecond=0)
    return schedule_actions.create_window(membership=manager(personas), name=name, weekdays=EVERY_DAY,
                                          start=start, duration=minutes, timezone="UTC")


def schedule_in(personas, app, window, **extra) -> OperationSchedule:
    values = {"operation": "restart", "batch": 1, **extra}
    return schedule_actions.create_schedule(membership=operator(personas), app=app, window=window, **values)


def task_of(schedule) -> PeriodicTask:
    return PeriodicTask.objects.select_related("crontab").get(name=schedules.task_name(schedule.pk))


def test_it_creates_the_beat_task_with_the_window_crontab_and_zone(setup, client_as):
    personas, app, entry = setup
    page = reverse("operations:schedules")
    answer = client_as("manager").post(reverse("operations:window_create"), {
        "name": "nights", "weekdays": ["2", "6"], "start": "22:05", "duration": "240", "timezone": "Europe/Berlin"})
    assert answer.status_code == 302 and answer.url == page
    window = TeamWindow.objects.get(team=personas.team)
    answer = client_as("operator").post(reverse("operations:schedule_create"), {
        "app": app.pk, "window": window.pk, "operation": "restart", "batch": "2"})
    assert answer.status_code == 302
    schedule = OperationSchedule.objects.get()
    task = task_of(schedule)
    assert (task.task, json.loads(task.args), task.enabled) == ("operations.run_schedule", [schedule.pk], True)
    crontab = task.crontab
    assert (crontab.minute, crontab.hour, crontab.day_of_week) == ("5", "22", "0,3")  # cron: Sun 0, Wed 3
    assert str(crontab.timezone) == "Europe/Berlin"
    assert schedule.periodic_task_id == task.pk and schedule.created_by == personas.operator
    assert list(AuditEntry.objects.filter(action__startswith="operations.").values_list("action", flat=True)
                .order_by("id")) == ["operations.window_create", "operations.schedule_create"]
    listing = client_as("viewer").get(page).content.decode()
    assert "nights" in listing and ("CET" in listing or "CEST" in listing)
    assert 'data-role="window-form"' not in listing and 'data-role="schedule-form"' not in listing
    assert 'action="' + reverse("operations:schedule_delete", args=[schedule.pk]) not in listing
    operate = client_as("operator").get(reverse("operations:operate", args=[app.pk])).content.decode()
    assert "Scheduled: 2× weekly rolling restart in nights, next " in operate
    assert 'href="' + page + '"' in operate


def test_it_moves_the_task_when_the_window_changes(setup, client_as):
    personas, app, entry = setup
    window = schedule_actions.create_window(membership=manager(personas), name="nights", weekdays=[6],
                                            start="22:00", duration=240, timezone="Europe/Berlin")
    schedule = schedule_in(personas, app, window)
    answer = client_as("manager").post(reverse("operations:window_update", args=[window.pk]), {
        "name": "nights", "weekdays": ["0", "4"], "start": "03:30", "duration": "60", "timezone": "America/New_York"})
    assert answer.status_code == 302
    crontab = task_of(schedule).crontab
    assert (crontab.minute, crontab.hour, crontab.day_of_week, str(crontab.timezone)) == \
        ("30", "3", "1,5", "America/New_York")
    assert AuditEntry.objects.filter(action="operations.window_update").count() == 1


def test_it_disables_enables_and_deletes_the_task(setup, client_as):
    personas, app, entry = setup
    schedule = schedule_in(personas, app, window_around(personas, opened_minutes_ago=0, minutes=60))
    client_as("operator").post(reverse("operations:schedule_enabled", args=[schedule.pk]), {"enabled": "0"})
    assert task_of(schedule).enabled is False
    assert "skipped: the schedule is disabled" in schedules.run_schedule(schedule.pk)
    client_as("operator").post(reverse("operations:schedule_enabled", args=[schedule.pk]), {"enabled": "1"})
    assert task_of(schedule).enabled is True
    answer = client_as("operator").post(reverse("operations:schedule_delete", args=[schedule.pk]))
    assert answer.status_code == 302
    assert not OperationSchedule.objects.exists()
    assert not PeriodicTask.objects.filter(name=schedules.task_name(schedule.pk)).exists()
    assert AuditEntry.objects.filter(action="operations.schedule_delete").count() == 1


def test_it_runs_a_rolling_restart_inside_the_window(setup, fleet):
    personas, app, entry = setup
    authorise(personas, app)
    schedule = schedule_in(personas, app, window_around(personas, opened_minutes_ago=5, minutes=60), batch=2)
    before = {i: restarts(fleet, i) for i in entry.nodes}
    run_schedule_task(schedule.pk)  # what beat calls
    schedule.refresh_from_db()
    job = Job.objects.get(kind="app_operation")
    assert schedule.last_job == job and schedule.last_outcome.startswith(f"started job #{job.pk}")
    assert schedule.last_run_at is not None
    assert (job.params["mode"], job.params["batch"], job.requested_by) == ("rolling", 2, personas.operator)
    end = datetime.fromisoformat(job.params["window_end"])
    assert timedelta(minutes=50) < end - timezone.now() <= timedelta(minutes=55)
    started = AuditEntry.objects.get(action="operations.start")
    assert started.detail["schedule"] == schedule.pk and started.actor == personas.operator
    job = run(job)
    assert job.status == Job.Status.SUCCEEDED, job.error
    assert all(restarts(fleet, i) > before[i] for i in entry.nodes)
    assert any("running again" in line for line in output(job))


def test_it_records_a_missed_run_and_starts_nothing_outside_the_window(setup):
    personas, app, entry = setup
    late = schedule_in(personas, app, window_around(personas, opened_minutes_ago=120, minutes=60, name="past"))
    early = schedule_in(personas, app, window_around(personas, opened_minutes_ago=-120, minutes=60, name="later"))
    assert schedules.run_schedule(late.pk).startswith("missed: window ended at ")
    assert schedules.run_schedule(early.pk).startswith("missed: window ended at ")
    late.refresh_from_db()
    assert late.last_outcome.startswith("missed: window ended") and late.last_run_at and late.last_job is None
    assert not Job.objects.exists()


def test_it_refuses_and_records_a_run_when_the_creator_lost_the_role(setup):
    personas, app, entry = setup
    schedule = schedule_in(personas, app, window_around(personas, opened_minutes_ago=1, minutes=60))
    Membership.objects.filter(user=personas.operator, team=personas.team).update(role=Role.VIEWER)
    outcome = schedules.run_schedule(schedule.pk)
    assert outcome == "refused: operator no longer has the operator role in the team"
    schedule.refresh_from_db()
    assert schedule.last_outcome == outcome and not Job.objects.exists()
    refused = AuditEntry.objects.get(action="operations.schedule_run")
    assert refused.outcome == "denied" and refused.detail["schedule"] == schedule.pk


def test_it_skips_a_fire_while_the_previous_run_still_goes(setup):
    personas, app, entry = setup
    schedule = schedule_in(personas, app, window_around(personas, opened_minutes_ago=1, minutes=60))
    first = schedules.run_schedule(schedule.pk)
    job = Job.objects.get()
    second = schedules.run_schedule(schedule.pk)
    assert first.startswith(f"started job #{job.pk}")
    assert second == f"skipped: the previous run (job #{job.pk}) is still queued"
    assert Job.objects.count() == 1
    Job.objects.filter(pk=job.pk).update(status=Job.Status.SUCCEEDED)
    assert schedules.run_schedule(schedule.pk).startswith("started job #")


def test_it_stops_a_rolling_run_before_the_next_group_once_the_window_ended(setup, fleet):
    personas, app, entry = setup
    authorise(personas, app)
    for index in entry.nodes:
        fleet.call(lifecycle.set_restart_time, fleet.fleet, index, 1.0)
    before = {i: restarts(fleet, i) for i in entry.nodes}
    window_end = (timezone.now() + timedelta(seconds=0.6)).isoformat()
    job = run(actions.start_operation(membership=operator(personas), app=app, operation="restart", mode="rolling",
                                      window_end=window_end))
    assert job.status == Job.Status.FAILED
    assert "the maintenance window ended at" in job.error and "done on 1 of 5 instance(s)" in job.error
    assert sum(line.strip().endswith("not reached: the maintenance window ended")
               for line in output(job)) == 4
    assert len([i for i in entry.nodes if restarts(fleet, i) != before[i]]) == 1


def test_it_refuses_destructive_operations_keeping_what_was_typed(setup, client_as):
    personas, app, entry = setup
    window = window_around(personas, opened_minutes_ago=1, minutes=60)
    for name in ("hard_redeploy", "remove"):
        with pytest.raises(ValidationError, match="destructive and cannot be scheduled"):
            schedule_in(personas, app, window, operation=name)
    answer = client_as("operator").post(reverse("operations:schedule_create"), {
        "app": app.pk, "window": window.pk, "operation": "hard_redeploy", "component": "db", "batch": "3"})
    page = answer.content.decode()
    assert answer.status_code == 200 and "destructive and cannot be scheduled" in page
    assert 'name="component" maxlength="64" value="db"' in page and 'name="batch" min="1" max="20" value="3"' in page
    assert not OperationSchedule.objects.exists() and not PeriodicTask.objects.filter(task=schedules.TASK).exists()


def test_it_shows_window_errors_next_to_what_was_typed(setup, client_as):
    personas, app, entry = setup
    answer = client_as("manager").post(reverse("operations:window_create"), {
        "name": "weekend", "weekdays": ["5"], "start": "23:00", "duration": "2000", "timezone": "Mars/Olympus"})
    page = answer.content.decode()
    assert answer.status_code == 200 and not TeamWindow.objects.exists()
    assert "“Mars/Olympus” is not a time zone name" in page and "1 to 1440 minutes" in page
    assert 'value="Mars/Olympus"' in page and 'value="weekend"' in page and 'value="23:00"' in page
    assert 'name="weekdays" value="5" checked' in page


def test_it_keeps_a_window_that_a_schedule_uses(setup, client_as):
    personas, app, entry = setup
    window = window_around(personas, opened_minutes_ago=1, minutes=60)
    schedule_in(personas, app, window)
    answer = client_as("manager").post(reverse("operations:window_delete", args=[window.pk]), follow=True)
    assert "is used by 1 schedule(s)" in answer.content.decode()
    assert TeamWindow.objects.filter(pk=window.pk).exists()


def test_it_shows_the_next_opening_in_the_window_zone(setup, client_as):
    personas, app, entry = setup
    schedule_actions.create_window(membership=manager(personas), name="tokyo mornings", weekdays=EVERY_DAY,
                                   start=time(6, 0), duration=30, timezone="Asia/Tokyo")
    page = client_as("viewer").get(reverse("operations:schedules")).content.decode()
    assert "06:00 JST" in page and "(in " in page


def test_it_goes_with_its_team_though_a_used_window_is_kept_alone(setup):
    personas, app, entry = setup
    window = window_around(personas, opened_minutes_ago=1, minutes=60)
    schedule = schedule_in(personas, app, window)
    with pytest.raises(ValidationError, match="is used by 1 schedule"):
        schedule_actions.delete_window(membership=manager(personas), window=window)
    personas.team.delete()
    assert not TeamWindow.objects.exists() and not OperationSchedule.objects.exists()
    assert schedules.run_schedule(schedule.pk) == "gone: the schedule no longer exists"  # its orphaned beat entry
    assert not PeriodicTask.objects.filter(name=schedules.task_name(schedule.pk)).exists()
