"""In a real browser: the volume browser uploads a file through the page with its progress bar
(XMLHttpRequest upload events), lists it, downloads it with the same bytes, and downloads a
folder as a zip, against the simulated fleet."""
from __future__ import annotations

import io
import pathlib
import zipfile

import pytest
from playwright.sync_api import expect

from tests.integration.operations.test_logs import make_app
from tests.sim.fluxnode import SimFleet

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module")
def sim():
    with SimFleet(nodes=8, seed=3) as fleet:
        yield fleet


def test_it_uploads_with_progress_then_downloads_the_file_and_a_folder_zip(personas, page, live_server,
                                                                          sign_in, sim, settings):
    settings.ALLOW_ANY_NODE_URL = True
    settings.DEV_LOCATION_URL = sim.location_base
    app, _ = make_app(personas.team, sim, instances=1, user=personas.operator)
    instance = app.instances.get()
    component = app.spec["compose"][0]["name"]
    content = bytes(range(256)) * 8192  # 2 MiB: several progress events

    sign_in("operator", personas.password)
    page.goto(f"{live_server.url}/operate/{app.pk}/files/?instance={instance.pk}&component={component}&path=appdata")
    expect(page.locator('[data-entry="config.yml"]')).to_be_visible()
    progress = page.locator("#files-progress")
    expect(progress).to_be_hidden()

    page.set_input_files("#files-upload input[type=file]",
                         files=[{"name": "upload.bin", "mimeType": "application/octet-stream", "buffer": content}])
    page.click("#files-upload button[type=submit]")
    expect(page.locator('[data-role="files-notice"]')).to_contain_text("Uploaded upload.bin to appdata/")
    expect(progress).to_be_visible()
    expect(progress).to_have_attribute("value", "100")
    expect(page.locator("#files-upload-status")).to_have_text("Done.")
    row = page.locator('[data-entry="upload.bin"]')
    expect(row).to_contain_text("2.0\xa0MB")
    assert page.url.endswith("path=appdata")  # no page load: the listing was swapped in place

    with page.expect_download() as info:
        row.locator('[data-role="download"]').click()
    download = info.value
    assert download.suggested_filename == "upload.bin"
    assert pathlib.Path(download.path()).read_bytes() == content

    with page.expect_download() as info:
        page.locator('[data-entry="data"] [data-role="download-zip"]').click()
    zipped = info.value
    assert zipped.suggested_filename == "data.zip"
    archive = zipfile.ZipFile(io.BytesIO(pathlib.Path(zipped.path()).read_bytes()))
    assert {"part-0.bin", "part-1.bin", "part-2.bin"} <= set(archive.namelist())

    # Delete asks first, in the page; the file goes only once confirmed.
    row.locator('[data-role="delete"]').click()
    expect(page.locator('[data-role="files-confirm"]')).to_contain_text("appdata/upload.bin")
    page.click('[data-role="confirm-delete"]')
    expect(page.locator('[data-role="files-notice"]')).to_contain_text("File Removed")
    expect(page.locator('[data-entry="upload.bin"]')).to_have_count(0)
