"""The Pay tab and the payment watcher against the simulated network over loopback HTTP: the tab
shows where and how much to pay, a simulated payment (POST /_sim/payments) turns the draft live and
puts the app in the Apps list with its expiry, an unpaid message fails after its hour, and hostile
answers (a deployment address that is not one, a huge answer, a node that lies) are refused."""
from __future__ import annotations

import json
import time
import urllib.request
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from apps.accounts.models import AuditEntry, Membership
from apps.builder import pay_views, watch
from apps.builder.actions import create_draft
from apps.builder.models import AppDraft, DraftEvent
from apps.builder.watch import start_watch
from apps.deployments.models import AppSyncSettings, TeamApp, WatchedOwner
from apps.deployments.sources import team_sources
from apps.jobs.models import Job
from apps.jobs.runner import run_job
from apps.nodes import actions as node_actions
from apps.nodes.clients import node_client
from fluxpanel.fluxos.specs import format_spec, message_hash, message_to_sign
from tests.sim import keys
from tests.unit.fluxos.spec_cases import v8_spec

ADDRESS = "t3NryfAQLGeFs9jEoeqsxmBN2QLRaRKFLUX"  # what the simulated nodes answer


def sim_post(fleet, path: str, body: dict) -> dict:
    request = urllib.request.Request(f"{fleet.base}/_sim/{path}", data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.loads(answer.read())


def temporary_message(fleet, name: str, key=keys.OWNERS[0], *, age_ms: int = 0) -> tuple[dict, int, str]:
    """A register message signed by `key` held by the network as FluxOS holds it after
    /apps/appregister (the simulator's temporary messages): (formatted spec, timestamp, hash)."""
    formatted = format_spec(v8_spec(owner=key.zelid, name=name))
    now = int(time.time() * 1000) - age_ms
    signature = key.sign(message_to_sign("fluxappregister", formatted, now))
    digest = message_hash("fluxappregister", formatted, now, signature)
    message = {"appSpecifications": formatted, "type": "fluxappregister", "version": 1, "hash": digest,
               "timestamp": now, "signature": signature, "arcaneSender": False, "_received": now}
    fleet.call(lambda: fleet.fleet.temporary.__setitem__(digest, message))
    return formatted, now, digest


def paying_team(personas, fleet, settings, *, poll_s: float, gateway: bool = True):
    """Team A with simulated node 0 as its source (and node 1 as its gateway), fast polls."""
    settings.ALLOW_ANY_NODE_URL = True
    settings.DEV_LOCATION_URL = fleet.base + "/loc/{location}"
    settings.APP_SYNC_TIMEOUT_SECONDS = 2
    settings.BUILDER_PAYMENT_POLL_SECONDS = poll_s
    settings.BUILDER_PAYMENT_NODE_TIMEOUT_S = 1.0
    cache.clear()
    manager = Membership.objects.get(user=personas.manager, team=personas.team)
    [node] = node_actions.register_nodes(membership=manager, text=fleet.url(0))
    AppSyncSettings.objects.create(team=personas.team, source_node=node,
                                   gateway_url=fleet.url(1) if gateway else "")
    return personas.team


@pytest.fixture
def team(personas, fleet, settings):
    yield paying_team(personas, fleet, settings, poll_s=0.05)
    for index in (0, 1):
        for route in ("deploymentinformation", "appspecifications"):
            sim_post(fleet, "payments/plant", {"node": index, "route": route})


def awaiting(personas, fleet, name: str, *, age: timedelta = timedelta(0)) -> AppDraft:
    """A draft whose register message FluxOS accepted `age` ago: awaiting payment."""
    operator = Membership.objects.get(user=personas.operator, team=personas.team)
    formatted, timestamp, digest = temporary_message(fleet, name, age_ms=int(age.total_seconds() * 1000))
    draft = create_draft(membership=operator, spec=dict(formatted))
    AppDraft.objects.filter(pk=draft.pk).update(
        status=AppDraft.Status.AWAITING_PAYMENT, message_type="fluxappregister", message_timestamp=timestamp,
        message_spec=formatted, message_hash=digest, price_flux=Decimal("1.66"), price_usd=Decimal("0.99"),
        submitted_to="node n0", submitted_at=timezone.now() - age)
    draft.refresh_from_db()
    return draft


def test_it_the_pay_tab_shows_address_amount_memo_qr_and_wallet_links(personas, fleet, team, client_as):
    draft = awaiting(personas, fleet, "paytab1")
    start_watch(draft=draft, actor=personas.operator)
    page = client_as("viewer").get(reverse("builder:draft", args=[draft.pk]))  # opens on Pay
    html = page.content.decode()
    assert page.status_code == 200
    assert f'data-role="pay-address">{ADDRESS}<' in html
    assert 'data-role="pay-amount">1.66<' in html
    assert f'data-role="pay-memo">{draft.message_hash}<' in html
    assert 'data-role="pay-qr"><svg' in html
    uri = f"zel:?action=pay&amp;coin=zelcash&amp;address={ADDRESS}&amp;amount=1.66&amp;message={draft.message_hash}"
    assert f'href="{uri}"' in html
    assert f'data-address="{ADDRESS}" data-amount="1.66" data-message="{draft.message_hash}" data-chain="flux"' in html
    assert 'data-role="pay-time-left"' in html and "js/builder-pay.js" in html
    assert 'data-role="pay-hurry"' not in html
    status = client_as("viewer").get(reverse("builder:pay_status", args=[draft.pk]))
    assert status.status_code == 200 and b'hx-trigger="every' in status.content
    assert b'data-role="watch-status" data-status="queued"' in status.content


def test_it_a_draft_not_yet_submitted_has_nothing_to_pay(personas, fleet, team, client_as):
    operator = Membership.objects.get(user=personas.operator, team=personas.team)
    draft = create_draft(membership=operator, spec=v8_spec(owner=keys.OWNERS[0].zelid, name="notyet1"))
    html = client_as("viewer").get(reverse("builder:draft", args=[draft.pk]) + "?tab=pay").content.decode()
    assert 'data-role="pay-not-yet"' in html and "zel:?action=pay" not in html
    status = client_as("viewer").get(reverse("builder:pay_status", args=[draft.pk]))
    assert status.status_code == 286  # nothing will change here: no polling


def test_it_starts_one_watcher_per_draft(personas, fleet, team):
    draft = awaiting(personas, fleet, "once1")
    first = start_watch(draft=draft, actor=personas.operator)
    assert start_watch(draft=draft, actor=None) == first
    assert Job.objects.filter(kind="app_payment_watch").count() == 1
    assert AuditEntry.objects.filter(action="job.start", target_id=str(first.pk)).count() == 1
    draft.refresh_from_db()
    assert draft.watch_job_id == first.pk and first.params == {"draft": draft.pk}


def test_it_warns_when_under_15_minutes_of_the_hour_remain(personas, fleet, team, client_as):
    draft = awaiting(personas, fleet, "hurry1", age=timedelta(minutes=50))
    html = client_as("viewer").get(reverse("builder:pay_status", args=[draft.pk])).content.decode()
    assert 'data-role="pay-hurry"' in html
    seconds = int(html.split('data-seconds="')[1].split('"')[0])
    assert 9 * 60 < seconds <= 10 * 60


def test_it_paid_turns_the_draft_live_and_the_app_appears_with_its_expiry(personas, fleet, team, client_as):
    WatchedOwner.objects.create(team=personas.team, address=keys.OWNERS[0].zelid)
    draft = awaiting(personas, fleet, "paidapp1")
    job = start_watch(draft=draft, actor=personas.operator)
    paid = sim_post(fleet, "payments", {"hash": draft.message_hash})
    assert paid["app"] == "paidapp1" and paid["nodes"]
    job = run_job(job.pk)
    assert job.status == Job.Status.SUCCEEDED, list(job.lines.values_list("text", flat=True))
    draft.refresh_from_db()
    assert draft.status == AppDraft.Status.LIVE and draft.live_at is not None
    assert DraftEvent.objects.filter(draft=draft, status="live", text__contains=f"block {paid['height']}").exists()
    entry = AuditEntry.objects.get(action="builder.payment", target_id=str(draft.pk))
    assert entry.outcome == "success" and entry.detail["hash"] == draft.message_hash
    assert entry.detail["txid"] == paid["txid"]
    app = TeamApp.objects.get(team=personas.team, name_key="paidapp1")
    assert app.message_hash == draft.message_hash
    assert app.expiry_height == paid["height"] + draft.message_spec["expire"]
    assert app.expires_at > timezone.now() and draft.app_id == app.pk
    listing = client_as("viewer").get(reverse("deployments:list")).content.decode()
    assert "paidapp1" in listing
    status = client_as("viewer").get(reverse("builder:pay_status", args=[draft.pk]))
    assert status.status_code == 286 and b'data-role="pay-live"' in status.content
    tab = client_as("viewer").get(reverse("builder:draft", args=[draft.pk])).content.decode()  # opens on Pay
    assert "Paid: this message is in force." in tab and 'data-role="pay-qr"' not in tab
    assert reverse("deployments:detail", args=[app.pk]) in tab
    # FluxOS's permanent messages now hold it, with the payment's txid.
    fleet.call(lambda: fleet.fleet.node(2).cache.clear())
    messages = node_client(fleet.url(2)).app_permanent_messages("paidapp1")
    assert [m["hash"] for m in messages] == [draft.message_hash] and messages[0]["txid"] == paid["txid"]


def test_it_a_new_app_whose_owner_nobody_watches_is_added_by_name(personas, fleet, team):
    draft = awaiting(personas, fleet, "addedapp1")
    job = start_watch(draft=draft, actor=personas.operator)
    sim_post(fleet, "payments", {"hash": draft.message_hash})
    assert run_job(job.pk).status == Job.Status.SUCCEEDED
    app = TeamApp.objects.get(team=personas.team, name_key="addedapp1")
    assert app.origin == TeamApp.Origin.ADDED and app.message_hash == draft.message_hash


def test_it_unpaid_past_the_hour_fails_with_the_reason(personas, fleet, team, client_as):
    draft = awaiting(personas, fleet, "unpaid1", age=timedelta(minutes=61))
    job = run_job(start_watch(draft=draft, actor=personas.operator).pk)
    assert job.status == Job.Status.SUCCEEDED, job.error
    draft.refresh_from_db()
    assert draft.status == AppDraft.Status.FAILED
    assert draft.reason.startswith("Not paid within the temporary message's hour")
    assert AuditEntry.objects.get(action="builder.payment", target_id=str(draft.pk)).outcome == "failure"
    assert not TeamApp.objects.filter(team=personas.team, name_key="unpaid1").exists()
    html = client_as("viewer").get(reverse("builder:pay_status", args=[draft.pk])).content.decode()
    assert 'data-role="pay-reason">Not paid within' in html


def test_it_a_lying_or_broken_source_does_not_end_the_watch(personas, fleet, team):
    draft = awaiting(personas, fleet, "liar1")
    job = start_watch(draft=draft, actor=personas.operator)
    sim_post(fleet, "payments", {"hash": draft.message_hash})
    fleet.inject(0, "malformed")  # the source node answers garbage; the gateway (node 1) is fine
    job = run_job(job.pk)
    assert job.status == Job.Status.SUCCEEDED, job.error
    draft.refresh_from_db()
    assert draft.status == AppDraft.Status.LIVE
    lines = "\n".join(job.lines.values_list("text", flat=True))
    assert "No usable answer from node" in lines and "gateway" in lines


def test_it_a_hung_source_costs_its_timeout_and_the_next_one_answers(personas, fleet, team):
    draft = awaiting(personas, fleet, "hung1")
    job = start_watch(draft=draft, actor=personas.operator)
    sim_post(fleet, "payments", {"hash": draft.message_hash})
    fleet.inject(0, "hang")
    job = run_job(job.pk)  # (the app sync after it waits on the hung node by its own bounds)
    assert job.status == Job.Status.SUCCEEDED, job.error
    draft.refresh_from_db()
    assert draft.status == AppDraft.Status.LIVE
    lines = list(job.lines.all())
    live = next(line for line in lines if "in force since block" in line.text)
    assert live.text.startswith("gateway")
    assert (live.at - lines[0].at).total_seconds() < 5  # one hung node cost its 1 s bound
    assert any(line.text.startswith("No usable answer from node") for line in lines)


@pytest.mark.parametrize("lie", [
    {"name": "someotherapp", "hash": "ab" * 32, "height": 5},  # another app's spec
    {"name": "{name}", "hash": "{hash}", "height": "soon"},  # "in force", with a height that is none
    {"name": "{name}", "hash": "not a hash", "height": 5},
    ["not", "a", "spec"],
])
def test_it_a_lie_about_the_spec_is_not_believed(personas, fleet, team, lie):
    """Node 0 lies while nothing is paid: the lie is refused, the gateway says not yet."""
    draft = awaiting(personas, fleet, "liar2")
    if isinstance(lie, dict):
        lie = {key: value.format(name="liar2", hash=draft.message_hash) if isinstance(value, str) else value
               for key, value in lie.items()}
    sim_post(fleet, "payments/plant", {"node": 0, "route": "appspecifications", "data": lie})
    seen, reasons = watch.look(team_sources(personas.team), "liar2", draft.message_hash, 0)
    assert len(reasons) == 1 and reasons[0].startswith("node")
    assert seen is not None and not seen.live and seen.source.startswith("gateway")


def test_it_a_node_that_keeps_saying_not_yet_does_not_hide_the_payment(personas, fleet, team):
    """Node 0 (asked first) says another message is in force for ever; the watcher turns to the
    gateway at the next poll and sees the payment."""
    draft = awaiting(personas, fleet, "liar3")
    sim_post(fleet, "payments", {"hash": draft.message_hash})
    sim_post(fleet, "payments/plant", {"node": 0, "route": "appspecifications",
                                       "data": {"name": "liar3", "hash": "cd" * 32, "height": 5}})
    job = run_job(start_watch(draft=draft, actor=personas.operator).pk)
    assert job.status == Job.Status.SUCCEEDED, job.error
    draft.refresh_from_db()
    assert draft.status == AppDraft.Status.LIVE
    lines = "\n".join(job.lines.values_list("text", flat=True))
    assert "not in force yet (another message of the app is in force)" in lines
    assert "gateway" in lines and "in force since block" in lines


def test_it_a_paid_message_the_watcher_sees_only_later(personas, fleet, team):
    """Not paid at the first polls: the watcher keeps going; the draft stays awaiting payment."""
    draft = awaiting(personas, fleet, "later1")
    seen, reasons = watch.look(team_sources(personas.team), "later1", draft.message_hash, 0)
    assert seen is not None and not seen.live and reasons == []
    sim_post(fleet, "payments", {"hash": draft.message_hash})
    seen, _ = watch.look(team_sources(personas.team), "later1", draft.message_hash, 1)
    assert seen.live and seen.source.startswith("gateway")


@pytest.mark.parametrize("hostile", [
    {"address": "not-an-address"},
    {"address": "t1" + "1" * 33},  # the shape, without a valid checksum
    {"address": "1CbErtneaX2QVyUfwU7JGB7VzvPgrgc3uC"},  # a bitcoin address, not a Flux one
    {"address": ["t3NryfAQLGeFs9jEoeqsxmBN2QLRaRKFLUX"]},
    "t3NryfAQLGeFs9jEoeqsxmBN2QLRaRKFLUX",
])
def test_it_a_hostile_deployment_address_is_refused(personas, fleet, team, client_as, hostile):
    draft = awaiting(personas, fleet, "hostile1")
    for index in (0, 1):
        sim_post(fleet, "payments/plant", {"node": index, "route": "deploymentinformation", "data": hostile})
    html = client_as("viewer").get(reverse("builder:draft", args=[draft.pk]) + "?tab=pay").content.decode()
    assert 'data-role="pay-address-problem">No valid deployment address' in html
    assert "is not a Flux address" in html
    assert 'data-role="pay-qr"' not in html and "zel:?action=pay" not in html


def test_it_a_huge_deployment_information_is_refused_and_the_next_source_used(personas, fleet, team, client_as):
    draft = awaiting(personas, fleet, "huge1")
    fleet.inject(0, "huge", mb=20)
    started = time.monotonic()
    html = client_as("viewer").get(reverse("builder:draft", args=[draft.pk]) + "?tab=pay").content.decode()
    assert time.monotonic() - started < 10
    assert f'data-role="pay-address">{ADDRESS}<' in html  # from the gateway
    fleet.inject(1, "huge", mb=20)
    cache.clear()
    html = client_as("viewer").get(reverse("builder:draft", args=[draft.pk]) + "?tab=pay").content.decode()
    assert 'data-role="pay-address-problem">No valid deployment address' in html


def test_it_the_simulated_payment_route_refuses_unknown_hashes(fleet):
    with pytest.raises(urllib.error.HTTPError) as refused:
        sim_post(fleet, "payments", {"hash": "0" * 64})
    assert refused.value.code == 404
    with pytest.raises(urllib.error.HTTPError) as bad:
        sim_post(fleet, "payments", {"hash": "nothex"})
    assert bad.value.code == 400


def foreign_flux_address() -> str:
    """A well-formed t3 address (valid checksum, Flux version bytes) that FluxOS never uses."""
    from fluxpanel.fluxos.crypto import base58check_encode

    return base58check_encode(b"\x1c\xbd" + bytes(range(20)))


def test_it_a_node_naming_another_payment_address_is_not_believed_alone(personas, fleet, team, client_as):
    draft = awaiting(personas, fleet, "foreign1")
    foreign = foreign_flux_address()
    assert pay_views.is_flux_address(foreign) and foreign != ADDRESS
    url = reverse("builder:draft", args=[draft.pk]) + "?tab=pay"
    sim_post(fleet, "payments/plant", {"node": 0, "route": "deploymentinformation", "data": {"address": foreign}})
    html = client_as("viewer").get(url).content.decode()
    assert f'data-role="pay-address">{ADDRESS}<' in html  # the gateway's, FluxOS's own
    assert foreign not in html.split('data-role="pay-address">')[1][:200]
    # Both sources now name it (FluxOS moved to a new address): then it is shown.
    sim_post(fleet, "payments/plant", {"node": 1, "route": "deploymentinformation", "data": {"address": foreign}})
    cache.clear()
    html = client_as("viewer").get(url).content.decode()
    assert f'data-role="pay-address">{foreign}<' in html
