"""A backup of a component as a job against the simulated fleet over loopback HTTP, into a real
storage folder: it ends verified, the stored archive decrypts to exactly the node's tar.gz, its
members are counted, and the node's archive is removed when asked; a re-verification job."""
from __future__ import annotations

import hashlib

import pytest

from apps.accounts.models import AuditEntry, Membership
from apps.backups import actions, storage
from apps.backups.jobs import reap_orphans
from apps.backups.models import Backup
from apps.jobs.models import Job
from apps.jobs.runner import run_job
from tests.integration.operations.test_operations import authorise
from tests.sim_apps import team_app_on_sim_nodes

pytestmark = pytest.mark.django_db(transaction=True)
APP = "wiki2"  # components app and db on several simulated nodes (seed 3)


@pytest.fixture
def setup(personas, fleet, settings, tmp_path):
    settings.ALLOW_ANY_NODE_URL = True
    settings.DEV_LOCATION_URL = fleet.location_base
    settings.BACKUP_DIR = tmp_path / "backups"
    # A backups folder of this test's own (the storage of tests/settings.py is shared by the run).
    settings.STORAGES = {**settings.STORAGES, "backups": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(settings.BACKUP_DIR), "file_permissions_mode": 0o600,
                    "directory_permissions_mode": 0o700}}}
    settings.BACKUP_STALL_S = 2
    settings.OPERATIONS_RUN_POLL_S = 0.05
    settings.OPERATIONS_RUN_TIMEOUT_S = 5
    app, entry = team_app_on_sim_nodes(personas.team, fleet, APP)
    authorise(personas, app)
    return personas, app, entry


def member(personas, role="operator"):
    return Membership.objects.get(user=personas.users[role], team=personas.team)


def first_instance(app, fleet, entry):
    instance = app.instances.order_by("location").first()
    index = next(i for i in entry.nodes if fleet.fleet.identity(i).location == instance.location)
    return instance, index


def node_archive(fleet, index, component) -> bytes | None:
    def read():
        found = fleet.fleet.node(index).app(APP).container(component).volume.get(
            f"backup/local/backup_{component.lower()}.tar.gz")
        return None if found is None else bytes(found.content)

    return fleet.call(read)


def run(job) -> Job:
    run_job(job.pk)
    job.refresh_from_db()
    return job


def stored_files(settings) -> list:
    return [p for p in settings.BACKUP_DIR.rglob("*") if p.is_file()] if settings.BACKUP_DIR.exists() else []


def test_it_backs_up_a_component_verified_and_identical_to_the_nodes_archive(setup, fleet, settings):
    personas, app, entry = setup
    instance, index = first_instance(app, fleet, entry)
    job = actions.start_backup(membership=member(personas), app=app, instance=instance, components=["db"],
                               remove_from_node=False)
    row = Backup.objects.get(job=job)
    assert row.status == Backup.Status.RUNNING and row.requested_by == personas.operator
    assert AuditEntry.objects.filter(action="backups.start", team=personas.team).count() == 1
    assert "zelidauth" not in str(job.params)
    job = run(job)
    assert job.status == Job.Status.SUCCEEDED, job.error
    row.refresh_from_db()
    assert row.status == Backup.Status.VERIFIED and row.verified_at is not None
    on_node = node_archive(fleet, index, "db")
    assert on_node is not None and not row.removed_from_node
    plain = b"".join(storage.read_plain(row.storage_name, context=f"backup:{row.pk}"))
    assert hashlib.sha256(plain).hexdigest() == hashlib.sha256(on_node).hexdigest() == row.sha256
    assert row.size == len(on_node) and row.stored_size and row.stored_size != row.size  # sealed
    assert row.members and row.members > 0 and row.member_bytes is not None
    assert row.node.name == f"n{index}" and instance.location in row.source
    assert dict(job.outcome)["db"].startswith("verified")

    verify = run(actions.start_verify(membership=member(personas), backup=row))
    assert verify.status == Job.Status.SUCCEEDED, verify.error
    assert reap_orphans() == 0


def test_it_removes_the_nodes_archive_when_asked(setup, fleet):
    personas, app, entry = setup
    instance, index = first_instance(app, fleet, entry)
    job = run(actions.start_backup(membership=member(personas), app=app, instance=instance, components=["app"]))
    assert job.status == Job.Status.SUCCEEDED, job.error
    row = Backup.objects.get(job=job)
    assert row.status == Backup.Status.VERIFIED and row.removed_from_node
    assert node_archive(fleet, index, "app") is None


def test_it_refuses_bad_input_and_viewers(setup):
    from django.core.exceptions import PermissionDenied, ValidationError

    personas, app, _ = setup
    with pytest.raises(ValidationError, match="no component"):
        actions.start_backup(membership=member(personas), app=app, components=["nope"])
    with pytest.raises(PermissionDenied):
        actions.start_backup(membership=member(personas, "viewer"), app=app, components=["db"])
    assert AuditEntry.objects.filter(action="access.denied").count() == 1
    assert not Backup.objects.exists()
