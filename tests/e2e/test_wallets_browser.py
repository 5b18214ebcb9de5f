"""In a real browser, with test wallets injected into the page (tests/sim/wallet.py): sign in with
SSP, an EVM wallet, ZelCore (its callback posted by the test, as the app does) and copy/paste; link
a ZelID; log in to every node an owner has on the simulated fleet, one after another; and the
refusals: declined, legacy error, timeout with retry, cancel, wrong address, changed message,
pasted private key."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from apps.nodes.models import Node
from apps.wallets.models import Challenge, NodeSession, SigningRequest, WalletIdentity
from tests.sim import keys
from tests.sim.fluxnode import SimFleet
from tests.sim.wallet import TestWallet, link

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
NODES = 6


@pytest.fixture(scope="module")
def sim():
    with SimFleet(nodes=NODES, seed=5) as fleet:
        yield fleet


def wait_for_message(page):
    expect(page.locator(".sign-item [data-role=message]")).not_to_have_value("")
    return page.locator(".sign-item [data-role=message]").input_value()


def error(page):
    return page.locator("[data-role=error]")


# --------------------------------------------------------------------------- signing in


def test_it_sign_in_with_ssp(personas, page, live_server):
    link(personas.operator, keys.USER)
    wallet = TestWallet(keys.USER)
    wallet.install(page)
    page.goto(f"{live_server.url}/accounts/login/")
    page.click("text=Sign in with a wallet")
    message = wait_for_message(page)
    page.click("button[data-method=ssp]")
    page.wait_for_url(f"{live_server.url}/fleet/")
    expect(page.locator(".session .who")).to_have_text("operator")
    assert wallet.calls == [("sspwid_sign_message", {"message": message})]


def test_it_sign_in_with_an_evm_wallet(personas, page, live_server):
    link(personas.viewer, keys.ETH_USER)
    wallet = TestWallet(keys.USER, evm_key=keys.ETH_USER)
    wallet.install(page)
    page.goto(f"{live_server.url}/wallet/signin/")
    message = wait_for_message(page)
    page.click("button[data-method=evm]")
    page.wait_for_url(f"{live_server.url}/fleet/")
    expect(page.locator(".session .who")).to_have_text("viewer")
    method, (hex_message, address) = wallet.calls[-1]
    assert method == "personal_sign" and address == keys.ETH_USER.zelid.lower()
    assert bytes.fromhex(hex_message[2:]).decode() == message  # hex of the UTF-8 message


@pytest.mark.parametrize("provider", ["zelcore-app", "deep-link"])
def test_it_sign_in_with_zelcore_callback(personas, page, live_server, provider):
    link(personas.manager, keys.USER)
    wallet = TestWallet(keys.USER)
    wallet.install(page, zelcore=provider == "zelcore-app")
    page.goto(f"{live_server.url}/wallet/signin/")
    wait_for_message(page)
    # The QR code is drawn by the server on its own request, when "scan the QR code" opens.
    page.click("[data-role=zelcore-more] summary")
    expect(page.locator(".wallet-qr img")).to_have_count(1)
    expect(page.locator(".wallet-qr img")).to_have_js_property("complete", True)
    assert page.locator(".wallet-qr img").evaluate("img => img.naturalWidth") > 0  # it drew
    page.click("button[data-method=zelcore]")
    expect(page.locator("[data-role=waiting-text]")).to_contain_text("Approve the request in ZelCore")
    uri = wallet.zelcore_uris[-1] if wallet.zelcore_uris else page.locator(".sign-item").get_attribute("data-zel-uri")
    assert uri.startswith("zel:?action=sign&message=Sign%20in%20to%20fluxpanel")
    answer = wallet.answer_zelcore(uri)  # the app posts to the callback, not the browser
    assert answer.status_code == 200, answer.text
    page.wait_for_url(f"{live_server.url}/fleet/")
    expect(page.locator(".session .who")).to_have_text("manager")
    assert wallet.answer_zelcore(uri).status_code == 409  # replayed callback


def test_it_copy_paste_refuses_a_private_key_then_signs_in(personas, page, live_server):
    link(personas.operator, keys.USER)
    page.goto(f"{live_server.url}/wallet/signin/")
    message = wait_for_message(page)
    page.click("summary:has-text('Copy and paste')")
    page.fill("[data-role=paste-form] [name=address]", keys.USER.zelid)
    page.fill("[data-role=paste-form] [name=signature]", keys.USER.private_key_hex)
    page.click("[data-role=paste-form] button[type=submit]")
    expect(error(page)).to_contain_text("This looks like a private key")
    expect(page.locator("[data-role=paste-form] [name=signature]")).to_have_value("")
    assert Challenge.objects.get().used_at is None

    page.fill("[data-role=paste-form] [name=signature]", keys.USER.sign(message))
    page.click("[data-role=paste-form] button[type=submit]")
    page.wait_for_url(f"{live_server.url}/fleet/")


def test_it_pasted_seed_phrase_refused_even_past_the_page_check(personas, page, live_server):
    """The server refuses it too (a page without the script, or a tampered one)."""
    from mnemonic import Mnemonic

    page.goto(f"{live_server.url}/wallet/signin/")
    wait_for_message(page)
    page.click("summary:has-text('Copy and paste')")
    seed = Mnemonic("english").generate(128)
    page.evaluate("() => { document.querySelector('[data-wallet-sign]').walletSigner.onSubmit = () => {}; }")
    page.fill("[data-role=paste-form] [name=address]", keys.USER.zelid)
    page.fill("[data-role=paste-form] [name=signature]", "x")
    page.evaluate("""seed => { const sign = document.querySelector('[data-wallet-sign]').walletSigner;
        sign.submit({address: '1abc', signature: seed, message: sign.message()}, sign.begin('…')); }""", seed)
    expect(error(page)).to_contain_text("This looks like a seed phrase")


def test_it_changed_message_is_refused(personas, page, live_server):
    link(personas.operator, keys.USER)
    page.goto(f"{live_server.url}/wallet/signin/")
    message = wait_for_message(page)
    page.click("summary:has-text('Copy and paste')")
    page.evaluate("() => { document.querySelector('[data-role=paste-form] [name=message]').value += ' '; }")
    page.fill("[data-role=paste-form] [name=address]", keys.USER.zelid)
    page.fill("[data-role=paste-form] [name=signature]", keys.USER.sign(message))
    page.click("[data-role=paste-form] button[type=submit]")
    expect(error(page)).to_contain_text("The message was changed")
    assert Challenge.objects.get().used_at is None


def test_it_ssp_refusals_timeout_retry_and_cancel(personas, page, live_server):
    link(personas.operator, keys.USER)
    wallet = TestWallet(keys.USER)
    wallet.install(page)
    page.goto(f"{live_server.url}/wallet/signin/")
    wait_for_message(page)

    wallet.ssp_mode = "legacy_error"  # older SSP: resolves {status: 'ERROR'}
    page.click("button[data-method=ssp]")
    expect(error(page)).to_have_text("You declined in SSP Wallet. Nothing was signed.")

    wallet.ssp_mode = "reject"  # current SSP: rejects with code 4001
    page.click("button[data-action=retry]")
    expect(error(page)).to_have_text("You declined in SSP Wallet. Nothing was signed.")

    wallet.ssp_mode = "hang"
    page.evaluate("() => { document.querySelector('[data-wallet-sign]').dataset.timeoutMs = '800'; }")
    page.click("button[data-action=retry]")
    expect(page.locator("button[data-method=evm]")).to_be_disabled()  # one request at a time
    expect(error(page)).to_contain_text("No answer from SSP Wallet in time")

    page.click("button[data-action=retry]")
    expect(page.locator("[data-role=waiting]")).to_be_visible()
    page.click("button[data-action=cancel]")
    expect(page.locator("[data-role=status]")).to_contain_text("Cancelled")
    expect(page.locator("button[data-method=ssp]")).to_be_enabled()

    wallet.ssp_mode = "ok"
    page.click("button[data-method=ssp]")
    page.wait_for_url(f"{live_server.url}/fleet/")


def test_it_unlinked_zelid_gets_a_clear_message(personas, page, live_server):
    wallet = TestWallet(keys.STRANGER)
    wallet.install(page)
    page.goto(f"{live_server.url}/wallet/signin/")
    wait_for_message(page)
    page.click("button[data-method=ssp]")
    expect(error(page)).to_contain_text(f"No account is linked to {keys.STRANGER.zelid}")


def test_it_expired_message_offers_a_new_one(personas, page, live_server):
    link(personas.operator, keys.USER)
    wallet = TestWallet(keys.USER)
    wallet.install(page)
    page.goto(f"{live_server.url}/wallet/signin/")
    first = wait_for_message(page)
    page.evaluate("() => { document.querySelector('.sign-item').dataset.expiresMs = String(Date.now() - 1); }")
    expect(error(page)).to_contain_text("This message expired")
    page.click("button[data-action=new-message]")
    expect(page.locator(".sign-item [data-role=message]")).not_to_have_value(first)
    page.click("button[data-method=ssp]")
    page.wait_for_url(f"{live_server.url}/fleet/")


# --------------------------------------------------------------------------- linking and node sessions


def test_it_link_a_zelid_then_log_in_to_every_node_it_owns(personas, page, live_server, sign_in, sim,
                                                        settings):
    settings.ALLOW_ANY_NODE_URL = True  # the simulated fleet listens on loopback
    owner = keys.key_for_zelid(sim.node(0).id.owner)
    owned = {f"node-{i}" for i in range(NODES) if sim.node(i).id.owner == owner.zelid}
    for i in range(NODES):
        Node.objects.create(team=personas.team, name=f"node-{i}", address=f"sim:{i}", base_url=sim.url(i))
    wallet = TestWallet(owner, other_key=keys.STRANGER)
    wallet.install(page)
    sign_in("manager", personas.password)

    page.click("nav.mainnav >> text=Wallet")
    page.click("text=Link a ZelID")
    wait_for_message(page)
    page.click("button[data-method=ssp]")
    page.wait_for_url(f"{live_server.url}/wallet/")
    expect(page.locator(f"tr[data-identity='{owner.zelid}']")).to_be_visible()
    assert WalletIdentity.objects.get().user == personas.manager

    page.click("nav.tabs >> text=Node sessions")
    page.fill("#id_zelid", owner.zelid)
    page.click("button:has-text('Prepare the login')")
    page.wait_for_url("**/wallet/sign/?batch=*")
    wait_for_message(page)
    expect(page.locator("[data-role=progress-text]")).to_have_text(f"1 of {len(owned)}")

    wallet.ssp_mode = "wrong_key"  # the wallet signs with another identity
    page.click("button[data-method=ssp]")
    expect(error(page)).to_contain_text(f"Wrong address: this must be signed by {owner.zelid}")
    assert SigningRequest.objects.filter(status="pending").count() == len(owned)

    wallet.ssp_mode = "ok"
    page.click("button[data-action=retry]")  # then every next node follows by itself
    expect(page.locator("[data-role=progress-text]")).to_have_text("All done.", timeout=30_000)
    expect(page.locator(".sign-done [data-status=signed]")).to_contain_text(f"{len(owned)} signed")
    assert set(NodeSession.objects.values_list("node__name", flat=True)) == owned

    page.click("nav.tabs >> text=Node sessions")
    rows = page.locator("#sessions-table tr[data-session]")
    expect(rows).to_have_count(len(owned))
    expect(rows.first).to_contain_text("admin")
    html = page.content()
    for call in wallet.calls:
        assert owner.sign(call[1]["message"]) not in html

    # Log out of one: gone from the panel and from the node.
    node_name = rows.first.get_attribute("data-node")
    rows.first.locator("button:has-text('Log out')").click()
    expect(page.locator(".messages")).to_contain_text("was ended on the node")
    expect(page.locator("#sessions-table tr[data-session]")).to_have_count(len(owned) - 1)
    index = int(node_name.split("-")[1])
    assert not sim.call(lambda: [s for s in sim.fleet.node(index).auth.sessions if s[0] == owner.zelid])


def test_it_operator_prepares_key_holder_reviews_signs_with_evm_and_declines(personas, page, live_server, sign_in, sim):
    from apps.accounts.models import Membership
    from apps.wallets import actions

    link(personas.manager, keys.ETH_USER)
    operator = Membership.objects.get(team=personas.team, user=personas.operator)
    kept = actions.create_request(membership=operator, kind="app_owner", zelid=keys.ETH_USER.zelid,
                                  purpose="Restart the team's apps on every node tonight")
    declined = actions.create_request(membership=operator, kind="app_owner", zelid=keys.ETH_USER.zelid,
                                      purpose="Something the key holder does not want")
    wallet = TestWallet(keys.USER, evm_key=keys.ETH_USER)
    wallet.install(page)
    sign_in("manager", personas.password)
    expect(page.locator("[data-role=wallet-badge]")).to_have_text("2")

    page.goto(f"{live_server.url}/wallet/requests/{kept.pk}/")
    expect(page.locator("dl.facts")).to_contain_text("Restart the team's apps on every node tonight")
    page.click("text=Review the message and sign")
    wait_for_message(page)
    page.click("button[data-method=evm]")
    expect(page.locator(".sign-done")).to_contain_text("Authorised app-owner operations")

    page.goto(f"{live_server.url}/wallet/requests/{declined.pk}/")
    page.click("text=Review the message and sign")
    wait_for_message(page)
    page.click("button[data-action=decline]")
    expect(page.locator(".sign-done")).to_contain_text("Declined")
    kept.refresh_from_db()
    declined.refresh_from_db()
    assert (kept.status, declined.status) == ("signed", "declined")
