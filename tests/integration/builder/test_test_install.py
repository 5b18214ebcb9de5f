"""FluxOS's test install of a new app before paying, against the simulated network over loopback
HTTP: the node's streamed chunks become the job's output lines as they arrive and the job succeeds on
FluxOS's final message; a hash the node does not hold, or an error midway, fails it with FluxOS's
text; a node that goes silent or floods is cut off within bounds. Plus who may start one, where it
is offered, and the simulator's own FluxOS rules for the route."""
from __future__ import annotations

import time

import pytest
import requests
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from apps.accounts.models import AuditEntry, Membership
from apps.builder import test_install
from apps.builder.models import AppDraft
from apps.jobs.models import Job
from apps.jobs.runner import run_job
from apps.nodes.models import Node, NodeSnapshot
from apps.wallets import actions as wallet_actions
from fluxpanel.fluxos.client import format_zelidauth_header
from tests.integration.builder.test_payment import awaiting, paying_team
from tests.sim import fluxnode_testinstall as testinstall
from tests.sim import keys
from tests.sim.fluxnode_auth import fluxos_phrase

pytestmark = pytest.mark.django_db
KEY = keys.OWNERS[0]  # the owner of the drafts `awaiting` makes


@pytest.fixture
def team(personas, fleet, settings):
    """Team A with node 0 (seen just now) and an app-owner authorisation by the drafts' owner."""
    paying_team(personas, fleet, settings, poll_s=0.05, gateway=False)
    node = Node.objects.get(team=personas.team)
    NodeSnapshot.objects.update_or_create(node=node, defaults={"team": personas.team, "last_seen": timezone.now()})
    phrase = fluxos_phrase(int(time.time() * 1000))
    wallet_actions.store_app_owner_authorisation(team=personas.team, zelid=KEY.zelid, login_phrase=phrase,
                                                 signature=KEY.sign(phrase), actor=personas.operator)
    yield personas
    fleet.call(testinstall.set_testinstall_fault, fleet.fleet, 0, None)
    fleet.call(fleet.fleet.temporary.clear)


def operator(personas):
    return Membership.objects.get(user=personas.operator, team=personas.team)


def node_of(personas) -> Node:
    return Node.objects.get(team=personas.team)


def output(job) -> list[str]:
    return list(job.lines.order_by("seq").values_list("text", flat=True))


def started(personas, draft) -> Job:
    job = test_install.start_test_install(membership=operator(personas), draft=draft, node_id=node_of(personas).pk)
    run_job(job.pk)
    job.refresh_from_db()
    return job


def test_it_streams_the_test_install_into_the_job_and_succeeds(team, fleet, client_as):
    draft = awaiting(team, fleet, "testinst1")
    page = client_as("operator").get(reverse("builder:draft", args=[draft.pk]) + "?tab=pay").content.decode()
    assert 'data-role="test-install-form"' in page and f'<option value="{node_of(team).pk}">' in page
    answer = client_as("operator").post(reverse("builder:test_install", args=[draft.pk]),
                                        {"node": node_of(team).pk})
    assert answer.status_code == 302
    job = Job.objects.get(kind="app_test_install")
    assert job.params == {"draft": draft.pk, "node": node_of(team).pk}
    assert AuditEntry.objects.filter(action="builder.test_install", team=team.team).count() == 1
    run_job(job.pk)
    job.refresh_from_db()
    lines = output(job)
    assert job.status == Job.Status.SUCCEEDED, job.error
    assert "Running initial checks for Flux App..." in lines
    assert "Initiating Flux App testinst1 installation..." in lines
    assert "a1b2c3d4e5f6: Pull complete" in lines  # Docker's pull events, per layer
    assert any(line.startswith("Starting component") for line in lines)
    assert "Test install finished: Flux App testinst1 successfully installed and launched" in lines
    requests_seen = [r for r in fleet.node(0).requests if r[1] == f"/apps/testappinstall/{draft.message_hash}"]
    assert requests_seen and KEY.zelid in requests_seen[-1][3]  # sent with the owner's authorisation
    page = client_as("viewer").get(reverse("builder:draft", args=[draft.pk]) + "?tab=pay").content.decode()
    assert 'data-role="test-install-output"' in page and "successfully installed and launched" in page
    assert 'data-role="test-install-form"' not in page  # a viewer sees the output, not the form


def test_it_an_unknown_hash_fails_with_fluxos_text(team, fleet):
    draft = awaiting(team, fleet, "testinst2")
    AppDraft.objects.filter(pk=draft.pk).update(message_hash="cd" * 32)  # not held by the network
    draft.refresh_from_db()
    job = started(team, draft)
    assert job.status == Job.Status.FAILED
    assert "Unauthorized. Access denied." in job.error and "temporary message" in job.error


def test_it_an_error_midway_fails_with_fluxos_reason_without_waiting_for_the_end(team, fleet):
    fleet.call(testinstall.set_testinstall_fault, fleet.fleet, 0, "fail", "Failed to start testinst3 container")
    draft = awaiting(team, fleet, "testinst3")
    begun = time.monotonic()
    job = started(team, draft)
    assert job.status == Job.Status.FAILED
    assert job.error == "FluxOS: Failed to start testinst3 container"
    assert "Initiating Flux App testinst3 installation..." in output(job)  # what came before stays
    assert time.monotonic() - begun < 10  # FluxOS leaves the stream open: the error chunk ends it


def test_it_a_node_that_goes_silent_midway_is_cut_off(team, fleet, settings):
    settings.BUILDER_TEST_INSTALL_READ_TIMEOUT_S = 1.0
    fleet.call(testinstall.set_testinstall_fault, fleet.fleet, 0, "hang")
    draft = awaiting(team, fleet, "testinst4")
    begun = time.monotonic()
    job = started(team, draft)
    assert job.status == Job.Status.FAILED
    assert "failed during the test install" in job.error and "stalled" in job.error
    assert time.monotonic() - begun < 15


def test_it_a_huge_stream_is_cut_off_at_its_bound(team, fleet, settings):
    settings.BUILDER_TEST_INSTALL_MAX_BYTES = 1024 * 1024
    fleet.call(testinstall.set_testinstall_fault, fleet.fleet, 0, "flood")
    draft = awaiting(team, fleet, "testinst5")
    job = started(team, draft)
    assert job.status == Job.Status.FAILED
    assert "stream larger than 1 MiB" in job.error
    assert job.last_line < 500  # Docker's byte counters are thinned, not one line each


def test_it_one_running_test_install_per_draft(team, fleet):
    draft = awaiting(team, fleet, "testinst6")
    test_install.start_test_install(membership=operator(team), draft=draft, node_id=node_of(team).pk)
    with pytest.raises(ValidationError, match="already running"):
        test_install.start_test_install(membership=operator(team), draft=draft, node_id=node_of(team).pk)
    assert Job.objects.filter(kind="app_test_install").count() == 1


def test_it_a_viewer_is_refused(team, fleet, client_as):
    draft = awaiting(team, fleet, "testinst7")
    answer = client_as("viewer").post(reverse("builder:test_install", args=[draft.pk]), {"node": node_of(team).pk})
    assert answer.status_code == 403
    assert not Job.objects.filter(kind="app_test_install").exists()


def test_it_an_update_draft_offers_no_test_install(team, fleet, client_as):
    draft = awaiting(team, fleet, "testinst8")
    AppDraft.objects.filter(pk=draft.pk).update(kind=AppDraft.Kind.UPDATE, message_type="fluxappupdate")
    draft.refresh_from_db()
    page = client_as("operator").get(reverse("builder:draft", args=[draft.pk]) + "?tab=pay").content.decode()
    assert 'data-role="pay-memo"' in page and 'data-role="test-install"' not in page
    with pytest.raises(ValidationError, match="new app"):
        test_install.start_test_install(membership=operator(team), draft=draft, node_id=node_of(team).pk)


def test_it_a_node_not_seen_recently_is_not_offered(team, fleet):
    draft = awaiting(team, fleet, "testinst9")
    NodeSnapshot.objects.filter(node=node_of(team)).update(last_seen=timezone.now() - test_install.RECENT * 2)
    assert test_install.node_choices(draft) == []
    AppDraft.objects.filter(pk=draft.pk).update(submitted_to=f"node {node_of(team).name} ({node_of(team).address})")
    draft.refresh_from_db()
    assert test_install.node_choices(draft) == [node_of(team)]  # the node it was submitted to


def test_it_sim_needs_a_user_zelidauth_and_streams_as_fluxos(team, fleet):
    draft = awaiting(team, fleet, "testinsta")
    url = f"{fleet.url(0)}/apps/testappinstall/{draft.message_hash}"
    refused = requests.get(url, timeout=10)
    assert refused.json()["data"] == {"code": 401, "name": "Unauthorized", "message": "Unauthorized. Access denied."}
    phrase = fluxos_phrase(int(time.time() * 1000))
    auth = format_zelidauth_header({"zelid": KEY.zelid, "loginPhrase": phrase, "signature": KEY.sign(phrase)})
    answer = requests.get(url, headers={"zelidauth": auth}, timeout=10)
    assert answer.headers["Content-Type"] == "application/json"
    assert answer.text.startswith('{"status":"Running initial checks for Flux App..."}{"status":')
    assert answer.text.endswith('{"status":"success","data":{"message":"Flux App testinsta successfully '
                                'installed and launched"}}')
