"""Backups that must fail, with a human reason, nothing partial left in storage and never
"verified": the node drops mid-download, the node stalls, the archive is garbage."""
from __future__ import annotations

import pytest

from apps.backups import actions
from apps.backups.models import Backup
from apps.jobs.models import Job
from tests.integration.backups.test_backup_job import (  # noqa: F401 - fixture
    first_instance,
    member,
    run,
    setup,
    stored_files,
)

pytestmark = pytest.mark.django_db(transaction=True)


def backup(personas, app, instance):
    job = run(actions.start_backup(membership=member(personas), app=app, instance=instance, components=["db"]))
    return job, Backup.objects.get(job=job)


def test_it_fails_with_cut_off_when_the_node_drops_mid_download(setup, fleet, settings):  # noqa: F811
    personas, app, entry = setup
    instance, index = first_instance(app, fleet, entry)
    fleet.inject(index, "cut", after_bytes=100)
    job, row = backup(personas, app, instance)
    assert job.status == Job.Status.FAILED and "db" in job.error
    assert row.status == Backup.Status.FAILED and "cut off" in row.failure, row.failure
    assert row.verified_at is None and stored_files(settings) == []


def test_it_fails_when_the_node_stalls(setup, fleet, settings):  # noqa: F811
    personas, app, entry = setup
    instance, index = first_instance(app, fleet, entry)
    fleet.inject(index, "stall", after_bytes=100)
    job, row = backup(personas, app, instance)
    assert job.status == Job.Status.FAILED
    assert row.status == Backup.Status.FAILED and row.failure and row.verified_at is None
    assert stored_files(settings) == []


def test_it_never_verifies_a_corrupt_archive(setup, fleet, settings, tmp_path):  # noqa: F811
    from tests.sim.fluxnode_files import set_volume_archive

    personas, app, entry = setup
    instance, index = first_instance(app, fleet, entry)
    garbage = tmp_path / "garbage.tar.gz"
    garbage.write_bytes(b"\x1f\x8b" + bytes(range(256)) * 40)
    fleet.call(lambda: set_volume_archive(fleet.fleet.node(index), "wiki2", "db", str(garbage)))
    job, row = backup(personas, app, instance)
    assert job.status == Job.Status.FAILED
    assert row.status == Backup.Status.FAILED and "damaged" in row.failure, row.failure
    assert row.verified_at is None and row.members is None
    assert stored_files(settings) == []
