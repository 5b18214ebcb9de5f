"""The submit job against the simulated network over real HTTP: a signed register message goes to a
node with enough peers, the hash FluxOS answers is stored (and equals the panel's own), a refusal
shows FluxOS's text and leaves the draft retryable, a node that fails mid-submit is never asked to
register twice (the retry finds the hash first), and no valid zelidauth fails clearly. Plus the
simulator's own FluxOS rules: temporary messages and their hour, the timestamp window, peers."""
from __future__ import annotations

import hashlib
import json
import time

import pytest
import requests
from django.test import Client
from django.urls import reverse

from apps.accounts.models import AuditEntry, Membership
from apps.builder import sign_actions, submit
from apps.builder.actions import create_draft
from apps.builder.models import AppDraft
from apps.deployments.models import AppSyncSettings
from apps.jobs.models import Job
from apps.jobs.runner import run_job
from apps.nodes import actions as node_actions
from apps.wallets import actions as wallet_actions
from fluxpanel.fluxos.specs import format_spec, message_to_sign
from tests.sim import fluxnode_register as register
from tests.sim import keys
from tests.sim.fluxnode_auth import fluxos_phrase
from tests.sim.wallet import link
from tests.unit.fluxos.spec_cases import v8_spec

pytestmark = pytest.mark.django_db
KEY = keys.OWNERS[0]
GOOD, SPARE = 0, 1  # nodes given enough peers; node 2 keeps the fleet's few


@pytest.fixture
def network(fleet):
    """FluxOS's peer rule on, nodes 0 and 1 connected enough to broadcast; undone afterwards."""
    sim = fleet.fleet
    previous = {i: fleet.call(register.connect_peers, sim, i) for i in (GOOD, SPARE)}
    fleet.call(register.require_peers, sim, True)
    yield fleet
    fleet.call(register.require_peers, sim, False)
    for index, lists in previous.items():
        fleet.call(register.restore_peers, sim, index, lists)
    for index in range(3):
        fleet.call(register.set_submit_fault, sim, index, None)
    fleet.call(sim.temporary.clear)


@pytest.fixture
def team(personas, network, settings):
    settings.ALLOW_ANY_NODE_URL = True
    settings.BUILDER_SUBMIT_DEADLINE_S = 2.0
    manager = Membership.objects.get(user=personas.manager, team=personas.team)
    nodes = node_actions.register_nodes(membership=manager, text="\n".join(
        f"{network.url(i)} sim-{i}" for i in (GOOD, SPARE)))
    AppSyncSettings.objects.create(team=personas.team, source_node=nodes[0])
    link(personas.operator, KEY)
    return personas


def operator(personas):
    return Membership.objects.get(user=personas.operator, team=personas.team)


def authorise_owner(personas, key=KEY):
    """The app-owner authorisation the app_owner signing request would store (a user-level
    zelidauth accepted by every node)."""
    phrase = fluxos_phrase(int(time.time() * 1000))
    wallet_actions.store_app_owner_authorisation(team=personas.team, zelid=key.zelid, login_phrase=phrase,
                                                 signature=key.sign(phrase), actor=personas.operator)


def signed(personas, **changes):
    """A draft signed by its owner's key holder: (draft, its submit job, the signature)."""
    draft = create_draft(membership=operator(personas), spec=v8_spec(owner=KEY.zelid, **changes))
    signing_request = sign_actions.send_for_signing(membership=operator(personas), draft=draft)
    opened = wallet_actions.open_next(membership=operator(personas), request_id=signing_request.pk)
    signature = KEY.sign(opened.message)
    outcome = wallet_actions.sign(request=opened, actor=personas.operator, address=KEY.zelid,
                                  message=opened.message, signature=signature, via="test")
    assert "submitting" in outcome.lower()
    draft.refresh_from_db()
    return draft, draft.submit_job, signature


def fluxos_hash(draft, signature) -> str:
    """FluxOS's messageHash, computed here independently of the panel's code."""
    spec = json.dumps(format_spec(draft.message_spec), separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(f"{draft.message_type}1{spec}{draft.message_timestamp}{signature}".encode()).hexdigest()


def register_calls(fleet) -> int:
    return sum(1 for i in (GOOD, SPARE, 2) for method, path, *_ in fleet.node(i).requests
               if method == "POST" and path == "/apps/appregister")


def temporary(fleet, digest: str = "") -> list:
    answer = requests.get(f"{fleet.url(SPARE)}/apps/temporarymessages/{digest}", timeout=10,
                          headers={"x-apicache-bypass": "true"}).json()
    assert answer["status"] == "success"
    return answer["data"]


def lines(job) -> str:
    return "\n".join(job.lines.values_list("text", flat=True))


def test_it_submits_stores_the_hash_and_awaits_payment(team, network):
    authorise_owner(team)
    before = register_calls(network)
    draft, job, signature = signed(team)
    assert draft.status == AppDraft.Status.SUBMITTED and job.kind == "app_submit"
    # The signature is kept for the job sealed only, never in clear.
    assert signature not in json.dumps(job.params) and submit.unseal_signature(job.params["sealed"]) == signature
    job = run_job(job.pk)
    draft.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED, job.error
    assert draft.status == AppDraft.Status.AWAITING_PAYMENT
    assert draft.message_hash == fluxos_hash(draft, signature)
    assert draft.submitted_to.startswith("node sim-0") and draft.submitted_at is not None
    assert "the panel's own matches" in lines(job)
    assert "sealed" not in job.params  # used: dropped
    [message] = temporary(network, draft.message_hash)
    assert message["hash"] == draft.message_hash and message["signature"] == signature
    assert message["appSpecifications"]["name"] == draft.name and message["version"] == 1
    assert register_calls(network) == before + 1
    assert AuditEntry.objects.filter(action="builder.submit_accepted", target_id=str(draft.pk)).count() == 1
    assert AuditEntry.objects.filter(action="builder.submit", target_id=str(draft.pk)).count() == 1


def test_it_skips_a_node_without_enough_peers(team, network, personas):
    authorise_owner(team)
    config = AppSyncSettings.objects.get(team=team.team)
    manager = Membership.objects.get(user=personas.manager, team=personas.team)
    [weak] = node_actions.register_nodes(membership=manager, text=f"{network.url(2)} sim-2")
    config.source_node = weak
    config.save()
    draft, job, _ = signed(team)
    job = run_job(job.pk)
    draft.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED, job.error
    assert "node sim-2" in lines(job) and "FluxOS needs 8 and 4 to broadcast. Skipped." in lines(job)
    assert not draft.submitted_to.startswith("node sim-2")
    assert not any(path == "/apps/appregister" for _, path, *_ in network.node(2).requests)


def test_it_shows_fluxos_refusal_and_leaves_the_draft_retryable(team, network):
    authorise_owner(team)
    taken = network.app_names()[0]
    draft, job, _ = signed(team, name=taken)
    job = run_job(job.pk)
    draft.refresh_from_db()
    refusal = f"Flux App {taken} already registered. Flux App has to be registered under different name."
    assert job.status == Job.Status.FAILED and refusal in job.error
    assert draft.status == AppDraft.Status.AWAITING_SIGNATURE and refusal in draft.reason
    assert submit.can_retry(draft)
    assert AuditEntry.objects.filter(action="builder.submit_failed", outcome="failure").count() == 1
    client = Client()
    client.force_login(team.operator)
    html = client.get(reverse("builder:draft", args=[draft.pk]) + "?tab=sign").content.decode()
    assert refusal in html and reverse("builder:submit_retry", args=[draft.pk]) in html
    assert reverse("jobs:detail", args=[job.pk]) in html and 'data-role="submit-output"' in html


@pytest.mark.parametrize("fault", ["hang", "http500", "reset"])
def test_it_a_node_failing_mid_submit_is_retried_without_registering_twice(team, network, fault):
    authorise_owner(team)
    before = register_calls(network)
    network.call(register.set_submit_fault, network.fleet, GOOD, fault)
    draft, job, signature = signed(team)
    job = run_job(job.pk)
    draft.refresh_from_db()
    assert job.status == Job.Status.FAILED
    assert "failed during the submission" in job.error and "never registered twice" in job.error
    assert draft.status == AppDraft.Status.SUBMITTED and not draft.message_hash
    assert draft.reason.startswith("node sim-0")
    # The node did broadcast it before failing.
    assert [m["hash"] for m in temporary(network)] == [fluxos_hash(draft, signature)]
    network.call(register.set_submit_fault, network.fleet, GOOD, None)
    client = Client()
    client.force_login(team.operator)
    response = client.post(reverse("builder:submit_retry", args=[draft.pk]))
    assert response.status_code == 302
    draft.refresh_from_db()
    retry = draft.submit_job
    assert retry.pk != job.pk and retry.params["retry_of"] == job.pk
    assert "sealed" not in Job.objects.get(pk=job.pk).params  # handed over, not kept twice
    retry = run_job(retry.pk)
    draft.refresh_from_db()
    assert retry.status == Job.Status.SUCCEEDED, retry.error
    assert "already holds this message (temporary message)" in lines(retry)
    assert draft.status == AppDraft.Status.AWAITING_PAYMENT and draft.message_hash == fluxos_hash(draft, signature)
    assert register_calls(network) == before + 1
    assert AuditEntry.objects.filter(action="builder.submit_retry", target_id=str(draft.pk)).count() == 1


def test_it_without_a_valid_zelidauth_fails_clearly_and_offers_to_sign_one(team, network):
    before = register_calls(network)
    draft, job, _ = signed(team)
    job = run_job(job.pk)
    draft.refresh_from_db()
    assert job.status == Job.Status.FAILED
    assert job.error.startswith("No valid zelidauth to submit with")
    assert KEY.zelid in job.error
    assert draft.status == AppDraft.Status.AWAITING_SIGNATURE
    assert register_calls(network) == before
    client = Client()
    client.force_login(team.operator)
    html = client.get(reverse("builder:draft", args=[draft.pk]) + "?tab=sign").content.decode()
    assert reverse("wallets:app_owner") in html and 'data-role="sign-zelidauth"' in html
    # Once one is signed, the retry goes through.
    authorise_owner(team)
    retry = run_job(submit.retry_submit(membership=operator(team), draft=draft).pk)
    draft.refresh_from_db()
    assert retry.status == Job.Status.SUCCEEDED, retry.error
    assert draft.status == AppDraft.Status.AWAITING_PAYMENT


def test_it_a_retry_past_fluxos_hour_sends_the_draft_back(team, network):
    from django.core.exceptions import ValidationError

    draft, job, _ = signed(team)
    run_job(job.pk)  # no zelidauth: failed, retryable
    AppDraft.objects.filter(pk=draft.pk).update(message_timestamp=draft.message_timestamp - 3600 * 1000)
    draft.refresh_from_db()
    with pytest.raises(ValidationError, match="too old"):
        submit.retry_submit(membership=operator(team), draft=draft)
    draft.refresh_from_db()
    assert draft.status == AppDraft.Status.DRAFT and "signing again" in draft.reason
    assert "sealed" not in Job.objects.get(pk=job.pk).params


def test_it_viewer_cannot_retry(team, network):
    from django.core.exceptions import PermissionDenied

    draft, job, _ = signed(team)
    run_job(job.pk)
    draft.refresh_from_db()
    viewer = Membership.objects.get(user=team.viewer, team=team.team)
    with pytest.raises(PermissionDenied):
        submit.retry_submit(membership=viewer, draft=draft)
    assert AuditEntry.objects.filter(action="access.denied", actor=team.viewer).exists()


# --------------------------------------------------------------------------- the simulator


def post_register(fleet, index, body, key=KEY):
    phrase = fluxos_phrase(int(time.time() * 1000))
    auth = json.dumps({"zelid": key.zelid, "signature": key.sign(phrase), "loginPhrase": phrase})
    return requests.post(f"{fleet.url(index)}/apps/appregister", data=json.dumps(body), timeout=10,
                         headers={"zelidauth": auth, "Content-Type": "text/plain"}).json()


def message_body(timestamp, spec=None, key=KEY):
    spec = format_spec(spec or v8_spec(owner=key.zelid))
    signature = key.sign(message_to_sign("fluxappregister", spec, timestamp, 1))
    return {"type": "fluxappregister", "version": 1, "appSpecification": spec, "timestamp": timestamp,
            "signature": signature}


def test_it_sim_refuses_timestamps_outside_fluxos_window(network):
    now = int(time.time() * 1000)
    old = post_register(network, GOOD, message_body(now - 3601 * 1000))
    assert old == {"status": "error", "data": {"name": "Error", "message": (
        "Message timestamp is over 1 hour old, not valid. Check if your computer clock is synced and "
        "restart the registration process.")}}
    ahead = post_register(network, GOOD, message_body(now + 6 * 60 * 1000))
    assert ahead["status"] == "error"
    assert ahead["data"]["message"].startswith("Message timestamp from future, not valid.")
    as_text = message_body(now)
    as_text["version"] = "1"  # FluxOS compares with `!== 1`
    assert post_register(network, GOOD, as_text)["data"]["message"] == "Invalid version of message"


def test_it_sim_refuses_a_node_without_enough_peers(network):
    answer = post_register(network, 2, message_body(int(time.time() * 1000)))
    assert answer["status"] == "error"
    assert answer["data"]["message"] == ("Sorry, This Flux does not have enough incoming peers for safe "
                                         "application registration")


def test_it_sim_keeps_temporary_messages_for_their_hour_only(network):
    body = message_body(int(time.time() * 1000))
    answer = post_register(network, GOOD, body)
    assert answer["status"] == "success"
    digest = answer["data"]
    assert post_register(network, GOOD, body)["data"] == digest  # same message: same hash, stored once
    [message] = temporary(network, digest)
    assert set(message) == {"appSpecifications", "type", "version", "hash", "timestamp", "signature",
                            "receivedAt", "expireAt", "arcaneSender"}
    assert message["receivedAt"].endswith("Z") and message["arcaneSender"] is False
    by_query = requests.get(f"{network.url(GOOD)}/apps/temporarymessages?hash={digest}", timeout=10).json()
    assert [m["hash"] for m in by_query["data"]] == [digest]
    assert temporary(network, "0" * 64) == []

    def age(store):
        store[digest]["_received"] -= 3600 * 1000

    network.call(age, network.fleet.temporary)
    assert temporary(network, digest) == []


def test_it_submits_an_update_signed_by_the_owner_on_the_network(team, network):
    import copy

    from apps.deployments.models import TeamApp

    authorise_owner(team)
    name = next(n for n in network.app_names() if network.app(n).spec["owner"] == KEY.zelid
                and network.app(n).spec.get("version") == 8)
    live = {k: v for k, v in network.app(name).spec.items() if k not in ("hash", "height")}
    app = TeamApp.objects.create(team=team.team, name=name, name_key=name.lower(), owner=KEY.zelid,
                                 spec=live, message_height=network.app(name).spec.get("height") or 1)
    spec = copy.deepcopy(live)
    spec["description"] = "A new description"
    draft = create_draft(membership=operator(team), spec=spec, kind=AppDraft.Kind.UPDATE, app=app)
    signing_request = sign_actions.send_for_signing(membership=operator(team), draft=draft)
    opened = wallet_actions.open_next(membership=operator(team), request_id=signing_request.pk)
    signature = KEY.sign(opened.message)
    wallet_actions.sign(request=opened, actor=team.operator, address=KEY.zelid, message=opened.message,
                        signature=signature, via="test")
    draft.refresh_from_db()
    job = run_job(draft.submit_job_id)
    draft.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED, (job.error, lines(job))
    assert draft.message_type == "fluxappupdate" and draft.status == AppDraft.Status.AWAITING_PAYMENT
    assert draft.message_hash == fluxos_hash(draft, signature)
    [message] = temporary(network, draft.message_hash)
    assert message["type"] == "fluxappupdate" and message["appSpecifications"]["description"] == "A new description"


def test_it_submits_with_a_node_session_of_the_team(team, network):
    from datetime import timedelta

    from django.utils import timezone

    from apps.nodes.models import Node

    node = Node.objects.get(team=team.team, name="sim-1")
    phrase = fluxos_phrase(int(time.time() * 1000))
    wallet_actions.store_node_session(team=team.team, node=node, zelid=keys.USER.zelid, login_phrase=phrase,
                                      signature=keys.USER.sign(phrase), privilege="user",
                                      expires_at=timezone.now() + timedelta(days=14), actor=team.operator)
    draft, job, _ = signed(team)
    job = run_job(job.pk)
    draft.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED, job.error
    assert "node sim-0: no valid session of the team on it" in lines(job)
    assert draft.submitted_to.startswith("node sim-1")
    [*_, last] = [r for r in network.node(SPARE).requests if r[1] == "/apps/appregister"]
    assert keys.USER.zelid in last[3]  # sent with that session's zelidauth
