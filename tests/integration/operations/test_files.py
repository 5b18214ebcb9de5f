"""The volume browser of an app, through its page, against the simulated fleet over loopback
HTTP: listing, create/rename/delete with confirmation, upload and download, audit rows, and the
refusals (traversal before any call, no authorisation, a node that is down or sends garbage)."""
from __future__ import annotations

import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from apps.accounts.models import AuditEntry
from apps.wallets.models import AppOwnerAuthorisation
from tests.integration.operations.test_logs import make_app
from tests.sim.fluxnode_apps import VNode


@pytest.fixture
def setup(personas, fleet, settings, client_as):
    settings.ALLOW_ANY_NODE_URL = True
    settings.DEV_LOCATION_URL = fleet.base + "/loc/{location}"
    app, nodes = make_app(personas.team, fleet, instances=1, user=personas.operator)
    instance = app.instances.get()
    component = app.spec["compose"][0]["name"]
    volume = fleet.call(lambda: fleet.fleet.node(nodes[0]).app(app.name).container(component).volume)
    return {"app": app, "instance": instance, "component": component, "volume": volume, "fleet": fleet,
            "index": nodes[0], "client": client_as("operator")}


def page_url(s):
    return reverse("operations:files", args=[s["app"].pk])


def target(s, **extra):
    return {"instance": s["instance"].pk, "component": s["component"], **extra}


def node_calls(s, route: str) -> int:
    requests = s["fleet"].call(lambda: list(s["fleet"].fleet.node(s["index"]).requests))
    return sum(1 for request in requests if route in str(request[1]))


def audit_rows(action):
    return list(AuditEntry.objects.filter(action=action).order_by("pk"))


def test_it_lists_a_folder_folders_first_with_recursive_sizes(setup):
    s = setup
    response = s["client"].get(page_url(s), target(s, path="appdata"))
    assert response.status_code == 200
    body = response.content.decode()
    assert body.index('data-entry="data"') < body.index('data-entry="config.yml"')
    data_size = sum(len(child.content) for child in s["volume"].get("appdata/data").children.values())
    assert f'title="{data_size} bytes"' in body
    assert "Download as zip" in body and "appdata" in body
    htmx = s["client"].get(page_url(s), target(s, path="appdata", part="listing"), HTTP_HX_REQUEST="true")
    part = htmx.content.decode()
    assert 'id="files-listing"' in part and 'data-entry="data"' in part
    assert "<html" not in part and "files-upload" not in part


def test_it_creates_renames_and_deletes_after_confirmation_with_audit_rows(setup):
    s = setup
    client, volume = s["client"], s["volume"]
    response = client.post(page_url(s), target(s, action="mkdir", path="appdata", name="made here"),
                           HTTP_HX_REQUEST="true")
    assert "Folder Created" in response.content.decode()
    assert volume.get("appdata/made here").is_dir
    response = client.post(page_url(s), target(s, action="rename", path="appdata", name="made here",
                                                new_name="renamed"), HTTP_HX_REQUEST="true")
    assert "Rename successful" in response.content.decode()
    assert volume.get("appdata/made here") is None and volume.get("appdata/renamed") is not None

    ask = client.post(page_url(s), target(s, action="delete", path="appdata", name="renamed"),
                      HTTP_HX_REQUEST="true")
    assert 'data-role="files-confirm"' in ask.content.decode()
    assert volume.get("appdata/renamed") is not None  # only asked, nothing deleted
    done = client.post(page_url(s), target(s, action="delete", path="appdata", name="renamed", confirmed="yes"))
    assert done.status_code == 302  # a plain post comes back to the page
    assert volume.get("appdata/renamed") is None
    for action, path in (("files.mkdir", "appdata/made here"), ("files.rename", "appdata/made here"),
                         ("files.delete", "appdata/renamed")):
        (row,) = audit_rows(action)
        assert row.outcome == "success" and row.detail["path"] == path
        assert row.detail["instance"] == s["instance"].location and row.actor.username == "operator"


def test_it_uploads_and_downloads_the_same_bytes(setup, settings):
    s = setup
    content = bytes(range(256)) * 12_000  # 3 MB: Django spools it to disk, the panel streams it on
    upload = SimpleUploadedFile("blob.bin", content, content_type="application/octet-stream")
    response = s["client"].post(page_url(s), {**target(s, action="upload", path="appdata/data"), "file": upload},
                                HTTP_X_REQUESTED_WITH="XMLHttpRequest")
    assert response.status_code == 200
    assert "Uploaded blob.bin to appdata/data/" in response.content.decode()
    assert s["volume"].get("appdata/data/blob.bin").content == content
    (row,) = audit_rows("files.upload")
    assert row.detail["size"] == len(content)

    download = s["client"].get(reverse("operations:files_download", args=[s["app"].pk]),
                               target(s, path="appdata/data/blob.bin"))
    assert download.status_code == 200 and download.streaming
    assert download["Content-Disposition"] == 'attachment; filename="blob.bin"'
    assert download["Content-Type"] == "application/octet-stream"
    assert b"".join(download.streaming_content) == content

    zipped = s["client"].get(reverse("operations:files_download", args=[s["app"].pk]),
                             target(s, path="appdata/data", folder="1"))
    assert zipped["Content-Disposition"] == 'attachment; filename="data.zip"'
    archive = zipfile.ZipFile(io.BytesIO(b"".join(zipped.streaming_content)))
    assert archive.read("blob.bin") == content and "part-0.bin" in archive.namelist()
    assert [r.detail["kind"] for r in audit_rows("files.download")] == ["file", "folder"]


def test_it_uploads_into_the_volume_root_and_refuses_a_file_over_the_limit(setup, settings):
    s = setup
    upload = SimpleUploadedFile("root.txt", b"at the root\n")
    s["client"].post(page_url(s), {**target(s, action="upload", path=""), "file": upload})
    assert s["volume"].get("root.txt").content == b"at the root\n"
    settings.OPERATIONS_UPLOAD_MAX_MB = 1
    before = node_calls(s, "fileupload")
    big = SimpleUploadedFile("big.bin", b"x" * (1024 * 1024 + 1))
    response = s["client"].post(page_url(s), {**target(s, action="upload", path="appdata"), "file": big},
                                HTTP_HX_REQUEST="true")
    assert "upload limit of 1 MB (OPERATIONS_UPLOAD_MAX_MB)" in response.content.decode()
    assert node_calls(s, "fileupload") == before and s["volume"].get("appdata/big.bin") is None


@pytest.mark.parametrize("path", ["../../etc", "appdata/%2e%2e/%2e%2e", "/etc", "appdata\\..\\x", "~/x"])
def test_it_refuses_traversal_before_any_call_to_the_node(setup, path):
    s = setup
    before = {route: node_calls(s, route) for route in ("getfolderinfo", "downloadfile", "removeobject",
                                                         "createfolder", "renameobject")}
    page = s["client"].get(page_url(s), target(s, path=path))
    assert page.status_code == 200 and 'data-role="files-error"' in page.content.decode()
    download = s["client"].get(reverse("operations:files_download", args=[s["app"].pk]), target(s, path=path))
    assert download.status_code == 302
    for action, extra in (("delete", {"name": "x", "confirmed": "yes"}), ("mkdir", {"name": "x"}),
                          ("rename", {"name": "x", "new_name": "y"})):
        response = s["client"].post(page_url(s), target(s, action=action, path=path, **extra), HTTP_HX_REQUEST="true")
        assert 'data-role="files-error"' in response.content.decode()
    assert {route: node_calls(s, route) for route in before} == before
    for name in ("..", "a/b", "x\\y", "%2e%2e"):
        response = s["client"].post(page_url(s), target(s, action="mkdir", path="appdata", name=name),
                                    HTTP_HX_REQUEST="true")
        assert 'data-role="files-error"' in response.content.decode()
    assert node_calls(s, "createfolder") == before["createfolder"]  # only the listing was read again
    assert not AuditEntry.objects.filter(action__startswith="files.").exists()


def test_it_shows_fluxos_errors_and_records_the_failure(setup):
    s = setup
    response = s["client"].post(page_url(s), target(s, action="rename", path="appdata", name="missing.txt",
                                                    new_name="other.txt"), HTTP_HX_REQUEST="true")
    assert "File or folder does not exist" in response.content.decode()
    (row,) = audit_rows("files.rename")
    assert row.outcome == "failure" and "does not exist" in row.detail["reason"]
    missing = s["client"].get(reverse("operations:files_download", args=[s["app"].pk]),
                              target(s, path="appdata/missing.txt"), follow=True)
    assert "Download failed" in missing.content.decode() and "ENOENT" in missing.content.decode()
    assert "Content-Disposition" not in missing


def test_it_says_there_is_no_authorisation_and_points_to_the_wallet_page(setup):
    s = setup
    AppOwnerAuthorisation.objects.all().delete()
    before = node_calls(s, "getfolderinfo")
    body = s["client"].get(page_url(s), target(s)).content.decode()
    assert "No valid authorisation" in body and "Wallet page" in body
    assert reverse("wallets:app_owner") in body
    assert node_calls(s, "getfolderinfo") == before


def test_it_reports_a_node_that_is_down(setup):
    s = setup
    s["fleet"].inject(s["index"], "down")
    response = s["client"].get(page_url(s), target(s, path="appdata"))
    assert response.status_code == 200
    assert "Listing failed" in response.content.decode()


def test_it_caps_a_huge_folder_and_shows_unusable_names_without_actions(setup):
    s = setup

    def fill():
        folder = s["volume"].make_dir("appdata/many")
        for number in range(2050):
            folder.children[f"f{number:05}"] = VNode(f"f{number:05}", content=b"x")
        folder.children["odd:name"] = VNode("odd:name", content=b"y")

    s["fleet"].call(fill)
    body = s["client"].get(page_url(s), target(s, path="appdata/many")).content.decode()
    assert "The folder holds 2051 entries; the first 2000 are shown" in body
    assert body.count("data-entry=") == 2000
    small = s["client"].get(page_url(s), target(s, path="appdata")).content.decode()
    assert "data-entry" in small
    s["fleet"].call(lambda: s["volume"].remove("appdata/many"))
    s["fleet"].call(lambda: s["volume"].write("appdata/odd:name", b"y"))
    body = s["client"].get(page_url(s), target(s, path="appdata")).content.decode()
    row = body[body.index('data-entry="odd:name"'):]
    row = row[:row.index("</tr>")]
    assert "FluxOS refuses this name" in row and "Download" not in row
