"""Sign in with a wallet and link ZelIDs: the panel's own challenges, every refusal by name."""
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.accounts.models import AuditEntry
from apps.wallets.models import Challenge, WalletIdentity
from fluxpanel.fluxos.identity import check_session_phrase
from fluxpanel.fluxos.signatures import eth_message_is_standard
from tests.sim import keys
from tests.sim.wallet import item_fields, link

pytestmark = pytest.mark.django_db


def new_item(client, url_name="wallets:signin_next"):
    response = client.post(reverse(url_name))
    assert response.status_code == 200
    data = response.json()
    assert data["done"] is False
    return item_fields(data["html"])


def submit(client, item, key, *, message=None, address=None, signature=None):
    message_signed = item["message"]
    return client.post(item["submit-url"], {
        "address": address if address is not None else key.zelid,
        "message": message if message is not None else message_signed,
        "signature": signature if signature is not None else key.sign(message_signed),
        "via": "paste",
    })


def wallet_state():
    return (list(WalletIdentity.objects.values_list("user_id", "zelid_key")),
            list(Challenge.objects.values_list("used_at", "proven_zelid")))


# --------------------------------------------------------------------------- the message


def test_it_challenge_is_timestamped_and_cannot_be_used_as_a_flux_session(client):
    item = new_item(client)
    message = item["message"]
    now_ms = int(timezone.now().timestamp() * 1000)
    assert "Sign in to fluxpanel at testserver" in message
    assert str(now_ms)[:8] in message  # its milliseconds timestamp
    assert eth_message_is_standard(message)  # EVM wallets sign it the way FluxOS checks it
    # Longer than FluxOS's 70-character limit: a signature over it opens no node.
    assert not check_session_phrase(message, now_ms, max_age_ms=16 * 3600 * 1000)
    challenge = Challenge.objects.get()
    assert challenge.expires_at - challenge.created_at == timedelta(minutes=15)
    assert item["zel-uri"].startswith("zel:?action=sign&message=Sign%20in%20to%20fluxpanel")
    assert "callback=http%3A%2F%2Ftestserver%2Fwallet%2Fchallenges%2F" in item["zel-uri"]


# --------------------------------------------------------------------------- signing in


@pytest.mark.parametrize("key", [keys.USER, keys.ETH_USER], ids=["btc", "eth"])
def test_it_sign_in_binds_the_user_by_proven_zelid(client, personas, key):
    link(personas.operator, key)
    item = new_item(client)
    response = submit(client, item, key)
    assert response.status_code == 200, response.content
    assert response.json()["ok"] is True
    assert "Signed in as operator" in response.json()["message"]
    assert client.get(reverse("wallets:home")).status_code == 200
    assert int(client.session["_auth_user_id"]) == personas.operator.pk
    assert AuditEntry.objects.filter(action="wallet.signin", actor=personas.operator).exists()


def test_it_eth_zelid_in_any_letter_case_signs_in(client, personas):
    link(personas.viewer, keys.ETH_USER)  # stored EIP-55; MetaMask answers lowercase
    item = new_item(client)
    response = submit(client, item, keys.ETH_USER, address=keys.ETH_USER.zelid.lower())
    assert response.json()["ok"] is True


def test_it_unknown_zelid_is_refused_clearly_and_nothing_changes(client, personas):
    item = new_item(client)
    before = wallet_state()
    response = submit(client, item, keys.STRANGER)
    assert response.status_code == 403
    assert response.json()["code"] == "unknown_zelid"
    assert f"No account is linked to {keys.STRANGER.zelid}" in response.json()["error"]
    assert wallet_state() == before
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize(
    ("change", "code", "text"),
    [
        ({"message": "tampered"}, "message_changed", "The message was changed"),
        ({"signature": "bad"}, "bad_signature", "The signature is not valid for this message"),
        ({"address": keys.STRANGER.zelid}, "bad_signature", "The signature is not valid"),
        ({"address": "t1aZV3Ac1UBnHJVvKUM6fXwzBTh8aB6zJJa"}, "not_zelid", "That is not a ZelID"),
    ],
    ids=["tampered-message", "bad-signature", "other-address", "flux-t1-address"],
)
def test_it_each_refusal_has_its_own_message_and_changes_nothing(client, personas, change, code, text):
    link(personas.operator, keys.USER)
    item = new_item(client)
    if change.get("message") == "tampered":
        change = {"message": item["message"].replace("Sign in", "Sign up")}
    before = wallet_state()
    response = submit(client, item, keys.USER, **change)
    assert response.status_code == 400
    assert response.json()["code"] == code
    assert text in response.json()["error"]
    assert wallet_state() == before
    assert "_auth_user_id" not in client.session
    # The right signature still works afterwards: a refusal did not burn the message.
    assert submit(client, item, keys.USER).json()["ok"] is True


def test_it_expired_challenge_is_refused(client, personas):
    link(personas.operator, keys.USER)
    item = new_item(client)
    Challenge.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    before = wallet_state()
    response = submit(client, item, keys.USER)
    assert response.status_code == 410
    assert response.json()["code"] == "expired"
    assert "This message expired" in response.json()["error"]
    assert wallet_state() == before


def test_it_a_challenge_signs_in_once(client, personas):
    link(personas.operator, keys.USER)
    item = new_item(client)
    assert submit(client, item, keys.USER).json()["ok"] is True
    replay = submit(client, item, keys.USER)
    # Signing in rotated the session: the message is not this browser's any more, and even its own
    # browser could not use it twice.
    assert replay.status_code in (404, 409)
    challenge = Challenge.objects.get()
    assert challenge.used_at is not None


def test_it_another_browser_cannot_use_the_challenge(client, personas, django_user_model):
    from django.test import Client

    link(personas.operator, keys.USER)
    item = new_item(client)
    response = submit(Client(), item, keys.USER)
    assert response.status_code == 404
    assert response.json()["code"] == "unknown"
    assert Challenge.objects.get().used_at is None


def test_it_pasted_private_key_is_refused_and_never_kept(client, personas, caplog):
    link(personas.operator, keys.USER)
    item = new_item(client)
    secret = keys.USER.private_key_hex
    caplog.set_level("DEBUG")
    response = submit(client, item, keys.USER, signature=secret)
    assert response.status_code == 400
    body = response.content.decode()
    assert response.json()["code"] == "secret"
    assert "looks like a private key" in response.json()["error"]
    assert secret not in body
    assert secret not in caplog.text
    assert not AuditEntry.objects.filter(detail__icontains=secret).exists()
    assert Challenge.objects.get().used_at is None


# --------------------------------------------------------------------------- ZelCore callback


def zelcore_post(client, item, key, **fields):
    from urllib.parse import parse_qs, unquote, urlsplit

    query = parse_qs(urlsplit(item["zel-uri"].replace("zel:", "http://zel/", 1)).query)
    callback = urlsplit(unquote(query["callback"][0])).path
    data = {"address": key.zelid, "message": query["message"][0],
            "signature": key.sign(query["message"][0])}
    data.update(fields)
    return client.post(callback, data)


def test_it_zelcore_callback_then_poll_signs_the_browser_in(client, personas):
    from django.test import Client

    link(personas.manager, keys.USER)
    item = new_item(client)
    assert client.post(item["poll-url"]).json() == {"status": "pending"}
    zelcore = Client(enforce_csrf_checks=True)  # the app is not a browser: no CSRF token
    answer = zelcore_post(zelcore, item, keys.USER)
    assert answer.status_code == 200, answer.content
    assert answer.json()["status"] == "success"
    assert "_auth_user_id" not in zelcore.session  # the app signs nobody in
    polled = client.post(item["poll-url"]).json()
    assert polled["status"] == "done" and polled["redirect"] == reverse("home")
    assert int(client.session["_auth_user_id"]) == personas.manager.pk


def test_it_replayed_zelcore_callback_is_refused(client, personas):
    from django.test import Client

    link(personas.manager, keys.USER)
    item = new_item(client)
    zelcore = Client(enforce_csrf_checks=True)
    assert zelcore_post(zelcore, item, keys.USER).status_code == 200
    before = wallet_state()
    replay = zelcore_post(zelcore, item, keys.USER)
    assert replay.status_code == 409
    assert replay.json() == {"status": "error", "data": {
        "message": "This message was already used: each message is accepted once. Get a new message."}}
    assert wallet_state() == before


def test_it_zelcore_callback_refusal_reaches_the_waiting_page(client, personas):
    from django.test import Client

    link(personas.manager, keys.USER)
    item = new_item(client)
    answer = zelcore_post(Client(), item, keys.STRANGER)
    assert answer.status_code == 403
    polled = client.post(item["poll-url"]).json()
    assert polled["status"] == "error" and "No account is linked" in polled["message"]
    assert "_auth_user_id" not in client.session


# --------------------------------------------------------------------------- linking ZelIDs


def test_it_link_more_zelids_makes_a_key_holder(client_as, personas):
    client = client_as("viewer")
    for key in (keys.USER, keys.ETH_USER):
        item = new_item(client, "wallets:bind_next")
        assert f"account {personas.viewer.username}" in item["message"]
        response = submit(client, item, key)
        assert response.json()["ok"] is True, response.content
        assert response.json()["redirect"] == reverse("wallets:home")
    held = set(WalletIdentity.objects.filter(user=personas.viewer).values_list("zelid", flat=True))
    assert held == {keys.USER.zelid, keys.ETH_USER.zelid}  # kept as the wallet spelled it
    page = client.get(reverse("wallets:home")).content.decode()
    assert keys.USER.zelid in page and "Key holders in Team A" in page
    assert AuditEntry.objects.filter(action="wallet.bind", team=personas.team).count() == 2


def test_it_a_zelid_links_to_one_account_only(client_as, personas):
    link(personas.manager, keys.USER)
    client = client_as("operator")
    item = new_item(client, "wallets:bind_next")
    response = submit(client, item, keys.USER)
    assert response.status_code == 409
    assert response.json()["code"] == "linked_elsewhere"
    assert WalletIdentity.objects.get().user == personas.manager


def test_it_unlink_only_your_own(client_as, personas):
    mine = link(personas.operator, keys.USER)
    theirs = link(personas.manager, keys.ETH_USER)
    client = client_as("operator")
    assert client.post(reverse("wallets:identity_remove", args=[theirs.pk])).status_code == 404
    assert client.post(reverse("wallets:identity_remove", args=[mine.pk])).status_code == 302
    assert list(WalletIdentity.objects.values_list("pk", flat=True)) == [theirs.pk]


def test_it_login_page_links_to_wallet_sign_in(client):
    page = client.get(reverse("accounts:login")).content.decode()
    assert reverse("wallets:signin") in page
    assert client.get(reverse("wallets:signin")).status_code == 200


def test_it_does_not_offer_a_sign_in_to_someone_signed_in(client_as):
    client = client_as("viewer")
    for name in ("wallets:signin", "accounts:login"):
        response = client.get(reverse(name) + "?next=/jobs/")
        assert response.status_code == 302 and response["Location"] == "/jobs/", name
        assert client.get(reverse(name) + "?next=https://evil.example/").status_code == 302
        assert "evil" not in client.get(reverse(name) + "?next=https://evil.example/")["Location"]
