"""The backup_prune job through the real job runner against the folder storage: a schedule's own
backups that its retention lets go lose their archive and are marked removed, with one audit row;
another schedule's and hand-made backups are not touched; a storage that refuses one removal
leaves that row alone and fails the job with the count."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.accounts.models import AuditEntry, Membership
from apps.backups import storage
from apps.backups.models import Backup, BackupSchedule
from apps.backups.prune import PRUNED_WHY, start_prune
from apps.deployments.models import TeamApp
from apps.jobs.models import Job
from apps.jobs.runner import run_job
from tests.integration.backups.test_storage import folder_storage_settings

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def backup_dir(tmp_path, settings):
    settings.BACKUP_DIR = tmp_path / "backups"
    settings.STORAGES = {**settings.STORAGES, "backups": folder_storage_settings(settings.BACKUP_DIR)}
    return settings.BACKUP_DIR


@pytest.fixture
def app(personas):
    return TeamApp.objects.create(team=personas.team, name="wiki", name_key="wiki", owner="1Owner",
                                  spec={"version": 8, "name": "wiki", "compose": [{"name": "web"}, {"name": "db"}]})


def schedule_of(personas, app, **keep) -> BackupSchedule:
    values = {"keep_last": 2, "keep_daily": 0, "keep_weekly": 0, "keep_monthly": 0, **keep}
    return BackupSchedule.objects.create(team=personas.team, app=app, components=["web", "db"],
                                         created_by=personas.operator, **values)


def stored(personas, app, schedule, component, days_ago, status=Backup.Status.VERIFIED) -> Backup:
    """A backup row with a real sealed archive in the folder storage."""
    backup = Backup.objects.create(team=personas.team, app=app, component=component, schedule=schedule,
                                   kind=Backup.Kind.SCHEDULED, status=status,
                                   created_at=timezone.now() - timedelta(days=days_ago))
    name = storage.storage_name_for(backup)
    size = storage.store(name, [f"archive {backup.pk}".encode()], context=name)
    Backup.objects.filter(pk=backup.pk).update(storage_name=name, stored_size=size)
    backup.refresh_from_db()
    return backup


def run(job) -> Job:
    run_job(job.pk)
    job.refresh_from_db()
    return job


def test_it_prunes_what_retention_lets_go_per_component(personas, app, backup_dir):
    schedule = schedule_of(personas, app)
    web = [stored(personas, app, schedule, "web", days) for days in (1, 2, 3, 4)]
    db = [stored(personas, app, schedule, "db", days) for days in (1, 2)]
    failed = stored(personas, app, schedule, "db", 3, status=Backup.Status.FAILED)
    by_hand = stored(personas, app, None, "web", 10)
    other = stored(personas, app, schedule_of(personas, app), "web", 9)
    job = run(start_prune(schedule))
    assert job.status == Job.Status.SUCCEEDED, job.error
    gone = {web[2].pk, web[3].pk, failed.pk}
    rows = {b.pk: b for b in Backup.objects.all()}
    assert {pk for pk, b in rows.items() if b.status == Backup.Status.REMOVED} == gone
    assert all(rows[pk].removed_why == PRUNED_WHY and rows[pk].removed_at for pk in gone)
    for backup in web + db + [failed, by_hand, other]:
        assert storage.exists(backup.storage_name) == (backup.pk not in gone)
    entry = AuditEntry.objects.get(action="backups.prune")
    assert sorted(entry.detail["removed"]) == sorted(gone) and entry.detail["count"] == 3
    assert entry.detail["bytes"] == sum(rows[pk].stored_size for pk in gone) > 0
    assert entry.actor == personas.operator and entry.detail["job"] == job.pk
    assert job.requested_by == personas.operator and job.kind == "backup_prune"


def test_it_fails_with_the_count_and_keeps_the_row_the_storage_refused(personas, app, backup_dir):
    schedule = schedule_of(personas, app, keep_last=1)
    newest = stored(personas, app, schedule, "web", 1)
    stuck = stored(personas, app, schedule, "web", 2)
    loose = stored(personas, app, schedule, "web", 3)
    # A folder where the archive was, with something in it: the folder storage cannot delete it.
    path = backup_dir / stuck.storage_name
    path.unlink()
    path.mkdir()
    (path / "inside").write_bytes(b"x")
    operator = Membership.objects.get(user=personas.operator, team=personas.team)
    job = run(start_prune(schedule, membership=operator))
    assert job.status == Job.Status.FAILED
    assert job.error.startswith("1 of 2 archive(s) could not be removed from the storage")
    stuck.refresh_from_db()
    loose.refresh_from_db()
    newest.refresh_from_db()
    assert (stuck.status, loose.status, newest.status) == (Backup.Status.VERIFIED, Backup.Status.REMOVED,
                                                          Backup.Status.VERIFIED)
    entry = AuditEntry.objects.get(action="backups.prune")
    assert entry.detail["removed"] == [loose.pk] and entry.detail["failed"] == [stuck.pk]
    assert any(f"#{stuck.pk}" in line and "not removed" in line for line in job.lines.values_list("text", flat=True))
