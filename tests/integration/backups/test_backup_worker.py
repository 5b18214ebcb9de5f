"""A backup run by a real Celery worker that is SIGKILLed mid-transfer (the node stalls the
download): the reaper ends the job, `reap_orphans` marks the row failed with the words and the
partial archive is gone from the storage (issue 16, "a worker killed mid-backup")."""
from __future__ import annotations

import pytest

from apps.backups import actions
from apps.backups.jobs import WORKER_STOPPED, reap_orphans
from apps.backups.models import Backup
from apps.jobs.models import Job
from apps.jobs.runner import reap_stale_jobs
from tests.integration.backups.test_backup_job import first_instance, member, setup  # noqa: F401
from tests.integration.operations.test_operations_worker import wait_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.redis]


@pytest.fixture
def worker_env(fleet, settings):
    # The worker reaches the simulated nodes on loopback and uses the test's data folder.
    return {"FLUXPANEL_ALLOW_ANY_NODE_URL": "1", "FLUXPANEL_DEV_LOCATION_URL": fleet.location_base,
            "BACKUP_STALL_S": "600"}


def test_it_fails_the_backup_and_removes_the_partial_when_the_worker_dies(setup, fleet, worker,  # noqa: F811
                                                                          settings):
    personas, app, entry = setup
    # The worker's storage is the run's (DATA_DIR/backups, tests/settings.py): this process reaps there too.
    settings.STORAGES = {**settings.STORAGES, "backups": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(settings.DATA_DIR / "backups")}}}
    instance, index = first_instance(app, fleet, entry)
    fleet.inject(index, "stall", after_bytes=100)
    job = actions.start_backup(membership=member(personas), app=app, instance=instance, components=["db"])
    row = Backup.objects.get(job=job)

    def downloading():
        return job.lines.filter(text__contains="downloading the archive").exists()

    wait_until(downloading, 60, "the worker to start the download")
    worker.kill()  # SIGKILL while the node stalls the transfer
    worker.wait()
    settings.WORKER_STALE_SECONDS = 2
    wait_until(lambda: reap_stale_jobs() or Job.objects.get(pk=job.pk).is_finished, 30, "the job reaper")
    assert reap_orphans() == 1
    row.refresh_from_db()
    assert row.status == Backup.Status.FAILED and row.failure == WORKER_STOPPED
    assert row.verified_at is None
    # The worker's folder storage: DATA_DIR/backups (the child's FLUXPANEL_DATA_DIR is the test's).
    folder = settings.DATA_DIR / "backups"
    assert row.storage_name and not (folder / row.storage_name).exists()
    assert reap_orphans() == 0
