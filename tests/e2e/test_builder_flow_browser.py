"""Issue 14 end to end, in real browsers against the simulated network over real HTTP: the operator
builds a new app on the Drafts page and sends it for signing; the key holder (the manager, who
linked the owner ZelID; the operator holds no key and cannot sign) signs it through each of the
four wallet paths; the submit job sends it to a node with the peers FluxOS needs; the Pay tab
shows amount, memo and QR; the simulated payment turns the page live without a reload and the app
is in the Apps list with its expiry. Also a declined request, and an update and a renewal from
the app page (Edit / Renew) through one wallet path, each showing the new expiry."""
from __future__ import annotations

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from apps.builder.models import AppDraft
from apps.deployments.models import TeamApp
from apps.deployments.sync import run_app_sync
from apps.wallets.models import SigningRequest
from tests.e2e import builder_flow as flow
from tests.e2e.conftest import browser_page
from tests.integration.builder.test_payment import sim_post, temporary_message
from tests.sim import keys
from tests.sim.fluxnode import SimFleet
from tests.sim.wallet import TestWallet, link

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
OWNER = keys.OWNERS[1]  # not an owner of the simulator's catalogue apps' fixed names


@pytest.fixture(scope="module")
def sim():
    with SimFleet(nodes=4, seed=11) as fleet:
        yield fleet


@pytest.fixture
def network(sim):
    with flow.healthy_network(sim):
        yield sim


@pytest.fixture
def team(personas, network, settings):
    return flow.flow_team(personas, network, settings)


@pytest.fixture
def inline_worker(team):
    with flow.InlineWorker(team) as running:
        yield running
    assert not running.errors, running.errors


@pytest.fixture
def holder_page(browser):
    """The key holder's own browser (another persona, another context)."""
    with browser_page(browser) as opened:
        yield opened


def app_fields(name: str, owner: str, port: int, *, long_env: bool = False) -> dict[str, str]:
    env = "FOO=bar"
    if long_env:  # a message over ZelCore's link limit: ZelCore fetches it (FLUX_URL=)
        env = "\n".join(f"VARIABLE_NUMBER_{i}=the-value-of-the-variable-number-{i}-xxxxxxxxxxxx"
                        for i in range(20))
    return {"owner": owner, "description": f"{name} made in the browser", "c0-name": "web",
            "c0-repotag": "nginx:1.25.3", "c0-ports": str(port), "c0-containerPorts": "80",
            "c0-containerData": "/data", "c0-environmentParameters": env, "name": name}


def operator_cannot_sign(page, live_server, signing_request) -> None:
    """The operator prepared it but holds no key: no signing on the request page, nothing waits
    on their Sign page, and a posted signature is refused."""
    page.goto(f"{live_server.url}{reverse('wallets:request_detail', args=[signing_request.pk])}")
    expect(page.locator("[data-status]").first).to_have_attribute("data-status", "pending")
    expect(page.locator("text=Review the message and sign")).to_have_count(0)
    page.goto(f"{live_server.url}{reverse('wallets:sign')}")
    expect(page.locator("body")).to_contain_text("You have not linked a ZelID yet")
    # Asking for the message as the signing component would: nothing is opened for them.
    csrf = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")
    headers = {"X-CSRFToken": csrf, "Referer": live_server.url + "/"}
    answer = page.request.post(f"{live_server.url}{reverse('wallets:sign_next')}?request={signing_request.pk}",
                               headers=headers)
    assert answer.ok and answer.json()["done"] is True, answer.text()
    signing_request.refresh_from_db()
    assert signing_request.status == SigningRequest.Status.PENDING and not signing_request.message


@pytest.mark.parametrize("path", ["ssp", "evm", "zelcore", "paste"])
def test_it_registers_and_pays_a_new_app_through_each_wallet_path(personas, page, holder_page, live_server,
                                                                  network, team, inline_worker, path):
    key = keys.ETH_USER if path == "evm" else OWNER
    link(personas.manager, key)  # the manager is the key holder; the operator holds no key
    name = f"flow{path}1"
    flow.sign_in(page, live_server, "operator", personas.password)
    draft_id = flow.new_draft_in_browser(page, live_server)
    flow.fill_build_tab(page, app_fields(name, key.zelid, 31000 + len(path), long_env=path == "zelcore"))
    draft = AppDraft.objects.get(pk=draft_id)
    assert draft.name == name and draft.spec["owner"] == key.zelid  # the autosave saved it
    assert draft.spec["compose"][0]["repotag"] == "nginx:1.25.3" and draft.updated_by == personas.operator
    expect(page.locator("[data-role=price-expire]")).to_contain_text("FLUX")
    flow.send_for_signing(page, key)
    draft.refresh_from_db()
    assert draft.status == AppDraft.Status.AWAITING_SIGNATURE
    operator_cannot_sign(page, live_server, draft.signing_request)

    wallet = TestWallet(OWNER, evm_key=keys.ETH_USER)
    wallet.install(holder_page)
    flow.sign_in(holder_page, live_server, "manager", personas.password)
    signed = flow.holder_signs_everything(holder_page, live_server, wallet, path, key)
    assert any(message.startswith("fluxappregister1{") for message in signed)
    flow.batch_signed(draft)
    if path == "zelcore":
        assert max(len(message) for message in signed) > 1800

    page.goto(f"{live_server.url}{reverse('builder:draft', args=[draft_id])}")
    flow.submitted_then_paid(page, network, draft)
    app = TeamApp.objects.get(team=personas.team, name_key=name)
    assert app.expires_at is not None and app.owner == key.zelid
    flow.apps_list_expiry(page, live_server, name, app.expires_at)


def test_it_a_declined_request_puts_the_draft_back_with_the_reason(personas, page, holder_page, live_server,
                                                                  team):
    link(personas.manager, OWNER)
    flow.sign_in(page, live_server, "operator", personas.password)
    draft_id = flow.new_draft_in_browser(page, live_server)
    flow.fill_build_tab(page, app_fields("flowdecline1", OWNER.zelid, 31100))
    flow.send_for_signing(page, OWNER)
    draft = AppDraft.objects.get(pk=draft_id)

    flow.sign_in(holder_page, live_server, "manager", personas.password)
    holder_page.goto(f"{live_server.url}{reverse('wallets:request_detail', args=[draft.signing_request_id])}")
    holder_page.click("text=Review the message and sign")
    expect(holder_page.locator(".sign-item [data-role=message]")).not_to_have_value("")
    message = holder_page.locator(".sign-item [data-role=message]").input_value()

    # Even with the message and a valid signature of the owner's key, the operator cannot sign.
    csrf = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")
    answer = page.request.post(
        f"{live_server.url}{reverse('wallets:request_sign', args=[draft.signing_request_id])}",
        form={"address": OWNER.zelid, "message": message, "signature": OWNER.sign(message), "via": "paste"},
        headers={"X-CSRFToken": csrf, "Referer": live_server.url + "/"})
    assert answer.status == 403 and answer.json()["code"] == "not_key_holder", answer.text()

    holder_page.click("[data-action=decline]")
    expect(holder_page.locator(".sign-done")).to_contain_text("Declined")

    page.goto(f"{live_server.url}{reverse('builder:draft', args=[draft_id])}?tab=sign")
    expect(page.locator("h1 [data-draft-status]")).to_have_attribute("data-draft-status", "draft")
    expect(page.locator("[data-role=draft-reason]")).to_contain_text("declined")
    expect(page.locator("[data-role=draft-reason]")).to_contain_text("Declined by the key holder.")
    draft.refresh_from_db()
    assert draft.status == AppDraft.Status.DRAFT and draft.signing_request_id is None
    assert not draft.submit_job_id
    expect(page.locator("button:has-text('Send for signing')")).to_be_visible()  # it can go again


def live_app(personas, sim, name: str) -> TeamApp:
    """An app of OWNER registered and paid on the network, synced into the team's apps."""
    _, _, digest = temporary_message(sim, name, key=OWNER)
    sim_post(sim, "payments", {"hash": digest})
    assert run_app_sync(personas.team.pk).status == "done"
    return TeamApp.objects.get(team=personas.team, name_key=name)


def update_through_ssp(page, holder_page, live_server, sim, wallet, draft_id: int) -> TeamApp:
    flow.send_for_signing(page, OWNER)
    signed = flow.holder_signs_everything(holder_page, live_server, wallet, "ssp", OWNER)
    assert any(message.startswith("fluxappupdate1{") for message in signed)
    page.goto(f"{live_server.url}{reverse('builder:draft', args=[draft_id])}")
    draft = AppDraft.objects.get(pk=draft_id)
    flow.batch_signed(draft)
    flow.submitted_then_paid(page, sim, draft)
    return TeamApp.objects.get(pk=draft.app_id)


def test_it_updates_then_renews_an_app_from_its_page(personas, page, holder_page, live_server, network,
                                                     team, inline_worker):
    link(personas.manager, OWNER)
    app = live_app(personas, network, "flowupdate1")
    first_expiry = app.expires_at
    wallet = TestWallet(OWNER)
    wallet.install(holder_page)
    flow.sign_in(holder_page, live_server, "manager", personas.password)
    flow.sign_in(page, live_server, "operator", personas.password)
    flow.apps_list_expiry(page, live_server, app.name, first_expiry)

    # Edit: a new description and twice the expire.
    page.goto(f"{live_server.url}{reverse('deployments:detail', args=[app.pk])}")
    page.click("[data-role=app-edit]")
    page.wait_for_url(lambda url: "/drafts/" in url)
    draft = AppDraft.objects.get(team=personas.team, app=app, kind=AppDraft.Kind.UPDATE)
    flow.fill_build_tab(page, {"description": "updated in the browser", "expire": "176000"})
    updated = update_through_ssp(page, holder_page, live_server, network, wallet, draft.pk)
    assert updated.spec["description"] == "updated in the browser" and updated.expire == 176000
    assert (updated.expires_at - first_expiry).days >= 29
    flow.apps_list_expiry(page, live_server, app.name, updated.expires_at)

    # Renew for 3 months from the app page: only the expiry changes.
    page.goto(f"{live_server.url}{reverse('deployments:detail', args=[app.pk])}")
    page.select_option("[data-role=app-draft-buttons] select[name=months]", "3")
    page.click("[data-role=app-renew]")
    page.wait_for_url(lambda url: "/drafts/" in url)
    renewal = AppDraft.objects.get(team=personas.team, app=app, kind=AppDraft.Kind.RENEW)
    expect(page.locator("[data-role=review] [data-role=diff]")).to_have_attribute("data-kind", "renew")
    renewed = update_through_ssp(page, holder_page, live_server, network, wallet, renewal.pk)
    assert renewed.spec["description"] == "updated in the browser"
    assert (renewed.expires_at - updated.expires_at).days >= 85
    flow.apps_list_expiry(page, live_server, app.name, renewed.expires_at)
