"""In a real browser with the test wallets (tests/sim/wallet.py): an app_register request of a
draft signed through each of the four wallet paths (SSP, EVM, ZelCore with its long-message URL,
copy and paste) reaches the kind's complete(): FluxOS's own signature check passes and the
signature is handed to apps.builder.submit.start_submit."""
from __future__ import annotations

import copy

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from apps.accounts.models import Membership
from apps.builder import sign_actions
from apps.builder.actions import create_draft
from apps.builder.models import AppDraft
from apps.deployments.models import AppSyncSettings
from apps.nodes import actions as node_actions
from apps.wallets.models import SigningRequest
from tests.sim import keys
from tests.sim.fluxnode import SimFleet
from tests.sim.wallet import TestWallet, link
from tests.unit.fluxos.spec_cases import v8_spec

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
# What apps.wallets.actions.sign says when complete() raised something else than SigningFailed:
# while start_submit is the stub (NotImplementedError), this proves the signature passed FluxOS's
# check in complete() and reached the call.
NOT_BUILT = "The action failed unexpectedly after the signature was checked; nothing more was done."


@pytest.fixture(scope="module")
def sim():
    with SimFleet(nodes=2, seed=7) as fleet:
        yield fleet


def long_spec(owner: str) -> dict:
    """A valid spec whose message is over 1800 characters: ZelCore must fetch it (FLUX_URL=)."""
    spec = v8_spec(owner=owner)
    spec["compose"] = copy.deepcopy(spec["compose"])
    spec["compose"][0]["environmentParameters"] = [
        f"VARIABLE_NUMBER_{i}=the-value-of-the-variable-number-{i}-xxxxxxxxxxxx" for i in range(20)]
    return spec


def sent_request(personas, sim, settings, key, spec=None):
    settings.ALLOW_ANY_NODE_URL = True
    manager = Membership.objects.get(user=personas.manager, team=personas.team)
    [node] = node_actions.register_nodes(membership=manager, text=sim.url(0))
    AppSyncSettings.objects.create(team=personas.team, source_node=node)
    link(personas.operator, key)
    operator = Membership.objects.get(user=personas.operator, team=personas.team)
    draft = create_draft(membership=operator, spec=spec or v8_spec(owner=key.zelid))
    return draft, sign_actions.send_for_signing(membership=operator, draft=draft)


def reached_complete(signing_request, draft):
    signing_request.refresh_from_db()
    draft.refresh_from_db()
    if signing_request.status == SigningRequest.Status.SIGNED:
        assert draft.status != AppDraft.Status.AWAITING_SIGNATURE
        return
    assert (signing_request.status, signing_request.outcome) == ("failed", NOT_BUILT)
    assert draft.message_type == "fluxappregister" and draft.message_timestamp


@pytest.mark.parametrize("path", ["ssp", "evm", "zelcore", "paste"])
def test_it_app_register_signed_through_each_wallet_path(personas, page, live_server, sign_in, sim,
                                                         settings, path):
    key = keys.ETH_USER if path == "evm" else keys.OWNERS[0]
    spec = long_spec(key.zelid) if path == "zelcore" else None
    draft, signing_request = sent_request(personas, sim, settings, key, spec)
    wallet = TestWallet(keys.OWNERS[0], evm_key=keys.ETH_USER)
    wallet.install(page)
    sign_in("operator", personas.password)
    page.goto(f"{live_server.url}{reverse('builder:draft', args=[draft.pk])}?tab=sign")
    expect(page.locator("[data-role=signer]")).to_have_text(key.zelid)
    expect(page.locator("[data-role=request-status]")).to_have_attribute("data-status", "pending")
    page.goto(f"{live_server.url}/wallet/requests/{signing_request.pk}/")
    expect(page.locator("[data-role=canonical-json], .diff").first).to_be_visible()
    page.click("text=Review the message and sign")
    expect(page.locator(".sign-item [data-role=message]")).not_to_have_value("")
    message = page.locator(".sign-item [data-role=message]").input_value()
    assert message.startswith("fluxappregister1{")
    if path in ("ssp", "evm"):
        page.click(f"button[data-method={path}]")
        expect(page.locator(".sign-done, [data-role=error]").first).to_be_visible(timeout=30_000)
    elif path == "zelcore":
        uri = page.locator(".sign-item").get_attribute("data-zel-uri")
        assert len(message) > 1800 and len(uri) <= 1800
        assert uri.startswith("zel:?action=sign&message=FLUX_URL%3Dhttp")
        expect(page.locator("[data-role=zelcore-fetch]")).to_contain_text("ZelCore fetches it")
        answer = wallet.answer_zelcore(uri)
        assert answer.status_code in (200, 502), answer.text
    else:
        page.click("summary:has-text('Copy and paste')")
        page.fill("[data-role=paste-form] [name=address]", key.zelid)
        page.fill("[data-role=paste-form] [name=signature]", key.sign(message))
        page.click("[data-role=paste-form] button[type=submit]")
        expect(page.locator(".sign-done, [data-role=error]").first).to_be_visible(timeout=30_000)
    reached_complete(signing_request, draft)
