"""Restores as jobs against the simulated fleet: acquire before destroy (a verified safety backup
before anything is uploaded, then the node's appdata is the chosen backup's and the component runs),
a restore refused when its safety backup fails (the node untouched), and skipping the safety
backup only for a manager who typed the app name (audited)."""
from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from apps.accounts.models import AuditEntry
from apps.backups import actions
from apps.backups.models import Backup
from apps.jobs.models import Job
from tests.integration.backups.test_backup_job import first_instance, member, run, setup  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)
MARK = "appdata/restore-mark.txt"


def read_file(fleet, index, path):
    def read():
        found = fleet.fleet.node(index).app("wiki2").container("db").volume.get(path)
        return None if found is None else bytes(found.content)

    return fleet.call(read)


def write_file(fleet, index, path, data: bytes):
    fleet.call(lambda: fleet.fleet.node(index).app("wiki2").container("db").volume.write(path, data))


def verified_backup(personas, app, instance):
    job = run(actions.start_backup(membership=member(personas), app=app, instance=instance, components=["db"]))
    assert job.status == Job.Status.SUCCEEDED, job.error
    return Backup.objects.get(job=job)


def test_it_restores_after_a_verified_safety_backup(setup, fleet):  # noqa: F811
    personas, app, entry = setup
    instance, index = first_instance(app, fleet, entry)
    write_file(fleet, index, MARK, b"before the chosen backup\n")
    chosen = verified_backup(personas, app, instance)
    write_file(fleet, index, MARK, b"changed afterwards\n")
    job = run(actions.start_restore(membership=member(personas), app=app, instance=instance,
                                    sources={"db": chosen}))
    assert job.status == Job.Status.SUCCEEDED, job.error
    assert read_file(fleet, index, MARK) == b"before the chosen backup\n"
    safety = Backup.objects.get(job=job, kind=Backup.Kind.SAFETY)
    assert safety.status == Backup.Status.VERIFIED and safety.verified_at is not None
    lines = list(job.lines.order_by("seq").values_list("text", flat=True))
    verified_at = next(i for i, t in enumerate(lines) if t.startswith("Safety backup verified"))
    upload_at = next(i for i, t in enumerate(lines) if "uploading backup" in t)
    assert verified_at < upload_at  # acquire before destroy
    assert dict(job.outcome)["db"] == "restored, running"
    assert AuditEntry.objects.filter(action="backups.restore").count() == 1


def test_it_stops_when_the_safety_backup_fails_and_leaves_the_node_alone(setup, fleet):  # noqa: F811
    personas, app, entry = setup
    instance, index = first_instance(app, fleet, entry)
    chosen = verified_backup(personas, app, instance)
    write_file(fleet, index, MARK, b"the current data\n")
    fleet.inject(index, "cut", after_bytes=100)
    job = run(actions.start_restore(membership=member(personas), app=app, instance=instance,
                                    sources={"db": chosen}))
    assert job.status == Job.Status.FAILED
    assert "Safety backup failed" in job.error and "nothing on the node was changed" in job.error
    assert read_file(fleet, index, MARK) == b"the current data\n"
    assert read_file(fleet, index, "backup/upload/backup_db.tar.gz") is None  # nothing uploaded
    assert not any("uploading" in t for t in job.lines.values_list("text", flat=True))


def test_it_skips_the_safety_backup_only_for_a_confirming_manager(setup, fleet):  # noqa: F811
    personas, app, entry = setup
    instance, _ = first_instance(app, fleet, entry)
    chosen = verified_backup(personas, app, instance)
    with pytest.raises(PermissionDenied):
        actions.start_restore(membership=member(personas), app=app, instance=instance, sources={"db": chosen},
                              skip_safety=True, confirm_name=app.name)
    with pytest.raises(ValidationError, match="type the app name"):
        actions.start_restore(membership=member(personas, "manager"), app=app, instance=instance,
                              sources={"db": chosen}, skip_safety=True, confirm_name="nope")
    with pytest.raises(ValidationError, match="https"):
        actions.start_restore(membership=member(personas), app=app, instance=instance,
                              sources={"db": "http://backups.example.com/a.tar.gz"})
    with pytest.raises(ValidationError, match="private"):
        actions.start_restore(membership=member(personas), app=app, instance=instance,
                              sources={"db": "https://10.0.0.5/a.tar.gz"})
    job = run(actions.start_restore(membership=member(personas, "manager"), app=app, instance=instance,
                                    sources={"db": chosen}, skip_safety=True, confirm_name=app.name))
    assert job.status == Job.Status.SUCCEEDED, job.error
    assert not Backup.objects.filter(kind=Backup.Kind.SAFETY).exists()
    assert AuditEntry.objects.filter(action="backups.restore_unsafe").count() == 1
