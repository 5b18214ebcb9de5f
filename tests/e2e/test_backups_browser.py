"""In a real browser: a backup started from the app's page is watched until it is verified, the
component's data is then changed on the node, and the backup is restored: the restore takes (and
verifies) a safety backup first, the node's data is the backup's again, and the downloaded archive
is the node's archive byte for byte."""
from __future__ import annotations

import hashlib
import io
import pathlib
import tarfile

import pytest
from playwright.sync_api import expect

from apps.backups.models import Backup
from apps.jobs.models import Job
from tests.e2e.builder_flow import InlineWorker
from tests.integration.operations.test_logs import make_app
from tests.sim.fluxnode import SimFleet

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module")
def sim():
    with SimFleet(nodes=8, seed=3) as fleet:
        yield fleet


@pytest.fixture
def worker(personas):
    with InlineWorker(personas.team) as running:
        yield running
    assert not running.errors, running.errors


def volume_of(sim, app, index, component):
    return sim.call(lambda: sim.fleet.node(index).app(app.name).container(component).volume)


def test_it_backs_up_from_the_app_page_watches_it_verify_then_restores_it(personas, page, live_server, sign_in,
                                                                          sim, settings, worker):
    settings.ALLOW_ANY_NODE_URL = True
    settings.DEV_LOCATION_URL = sim.location_base
    settings.CELERY_TASK_ALWAYS_EAGER = False
    app, nodes = make_app(personas.team, sim, instances=1, user=personas.operator)
    component = app.spec["compose"][0]["name"]
    volume = volume_of(sim, app, nodes[0], component)
    original = sim.call(lambda: volume.get("appdata/config.yml").content)

    sign_in("operator", personas.password)
    page.goto(f"{live_server.url}/apps/{app.pk}/")
    page.locator('[data-role="backups-link"]').first.click()
    page.wait_for_url(f"**/backups/app/{app.pk}/")
    for other in app.spec["compose"][1:]:  # only the first component
        page.locator(f'#backup-now input[name=component][value="{other["name"]}"]').uncheck()
    page.locator("#backup-now button[type=submit]").click()
    expect(page.locator("#backup-list")).to_contain_text("Backup started as job")
    row = page.locator('#backup-list tr[data-backup]').first
    expect(row).to_have_attribute("data-status", "verified", timeout=60_000)  # the list polls while running
    backup = Backup.objects.get(app=app)
    assert backup.status == Backup.Status.VERIFIED and backup.members and backup.component == component

    with page.expect_download() as info:
        row.get_by_role("link", name="Download").click()
    downloaded = pathlib.Path(info.value.path()).read_bytes()
    assert hashlib.sha256(downloaded).hexdigest() == backup.sha256
    with tarfile.open(fileobj=io.BytesIO(downloaded), mode="r:gz") as archive:
        assert archive.extractfile("config.yml").read() == original

    # The data changes on the node after the backup...
    sim.call(lambda: volume.write("appdata/config.yml", b"changed after the backup\n"))
    sim.call(lambda: volume.write("appdata/new-file.txt", b"not in the backup\n"))

    # ...and the backup is restored from its row.
    row.locator('[data-role="restore"]').click()
    confirm = page.locator('[data-role="restore-confirm"]')
    expect(confirm).to_contain_text(f"Restore backup #{backup.pk}")
    expect(confirm).to_contain_text("safety backup")
    confirm.locator('[data-role="restore-submit"]').click()
    page.wait_for_url("**/jobs/*/")
    expect(page.locator("[data-status]")).to_have_attribute("data-status", "succeeded", timeout=120_000)
    expect(page.locator("#job-log")).to_contain_text("Safety backup")

    assert sim.call(lambda: volume.get("appdata/config.yml").content) == original
    assert sim.call(lambda: volume.get("appdata/new-file.txt")) is None
    safety = Backup.objects.get(app=app, kind=Backup.Kind.SAFETY)
    assert safety.status == Backup.Status.VERIFIED
    restore_job = Job.objects.get(team=personas.team, kind="app_restore")
    assert safety.job_id == restore_job.pk and safety.verified_at < restore_job.finished_at

    page.goto(f"{live_server.url}/backups/app/{app.pk}/")
    expect(page.locator(f'#backup-list tr[data-backup="{safety.pk}"]')).to_contain_text("Safety")
