"""Signing requests (with the app-owner kind, which needs no node): the queue, every refusal by
name, the ZelCore callback, decline/withdraw, expiry, and second-team isolation."""
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from mnemonic import Mnemonic

from apps.accounts.models import AuditEntry, Membership
from apps.wallets import actions, node_sessions
from apps.wallets.models import AppOwnerAuthorisation, SigningRequest
from fluxpanel.fluxos.crypto import base58check_encode
from fluxpanel.fluxos.identity import check_session_phrase, parse_zelidauth
from fluxpanel.fluxos.signatures import verify_message
from tests.access import database_fingerprint
from tests.sim import keys
from tests.sim.wallet import item_fields, link

pytestmark = pytest.mark.django_db
KEY = keys.OWNERS[0]


def prepare(personas, *, by="operator", key=KEY):
    membership = Membership.objects.get(team=personas.team, user=personas.users[by])
    return actions.create_request(membership=membership, kind="app_owner", zelid=key.zelid,
                                  purpose="Restart my apps everywhere")


def open_item(client, signing_request):
    response = client.post(reverse("wallets:sign_next") + f"?request={signing_request.pk}")
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["done"] is False, data
    return item_fields(data["html"])


def sign(client, item, key=KEY, **change):
    fields = {"address": key.zelid, "message": item["message"],
              "signature": key.sign(item["message"]), "via": "ssp"}
    fields.update(change)
    return client.post(item["submit-url"], fields)


def state():
    """Everything a refused signature must leave as it was."""
    return (database_fingerprint(),
            list(SigningRequest.objects.values_list("status", "message", "decided_at")))


@pytest.fixture
def holder(personas, client_as):
    """The manager holds KEY; returns their signed-in client."""
    link(personas.manager, KEY)
    return client_as("manager")


def test_it_key_holder_signs_an_app_owner_authorisation(personas, holder):
    signing_request = prepare(personas)
    item = open_item(holder, signing_request)
    message = item["message"]
    now_ms = int(timezone.now().timestamp() * 1000)
    # A self-issued FluxOS phrase: nodes accept its signature for 2 hours.
    assert check_session_phrase(message, now_ms, max_age_ms=2 * 3600 * 1000)
    assert item["expected"] == KEY.zelid
    response = sign(holder, item)
    assert response.status_code == 200, response.content
    assert response.json()["ok"] is True
    signing_request.refresh_from_db()
    assert signing_request.status == "signed" and signing_request.decided_by == personas.manager
    authorisation = AppOwnerAuthorisation.objects.get()
    assert timedelta(hours=1, minutes=59) < authorisation.expires_at - timezone.now() <= timedelta(hours=2)
    operator = Membership.objects.get(team=personas.team, user=personas.operator)
    header = node_sessions.app_owner_zelidauth(operator, KEY.zelid)
    triple = parse_zelidauth(header)
    assert triple["zelid"] == KEY.zelid and triple["loginPhrase"] == message
    assert verify_message(message, KEY.zelid, triple["signature"])
    recorded = list(AuditEntry.objects.filter(team=personas.team).values_list("action", flat=True))
    assert {"signing.create", "signing.open", "signing.sign", "app_owner.authorise"} <= set(recorded)


def test_it_queue_walks_through_every_request_then_says_done(personas, holder):
    first, second = prepare(personas), prepare(personas)
    for expected in (first, second):
        response = holder.post(reverse("wallets:sign_next"))
        item = item_fields(response.json()["html"])
        assert item["submit-url"] == reverse("wallets:request_sign", args=[expected.pk])
        assert sign(holder, item).json()["ok"] is True
    done = holder.post(reverse("wallets:sign_next")).json()
    assert done["done"] is True and "Nothing to sign" in done["html"]


@pytest.mark.parametrize(
    ("change", "status", "code", "text"),
    [
        ("wrong_address", 400, "wrong_address", "Wrong address: this must be signed by"),
        ("tampered", 400, "message_changed", "The message was changed"),
        ("bad_signature", 400, "bad_signature", "The signature is not valid"),
        ("private_key", 400, "secret", "looks like a private key"),
        ("wif", 400, "secret", "a private key in WIF format"),
        ("seed", 400, "secret", "a seed phrase"),
    ],
)
def test_it_refusals_have_their_own_message_and_change_nothing(personas, holder, change, status, code, text):
    signing_request = prepare(personas)
    item = open_item(holder, signing_request)
    other = keys.OWNERS[1]
    fields = {
        "wrong_address": {"address": other.zelid, "signature": other.sign(item["message"])},
        "tampered": {"message": item["message"] + " "},
        "bad_signature": {"signature": other.sign(item["message"])},
        "private_key": {"signature": KEY.private_key_hex},
        "wif": {"address": base58check_encode(b"\x80" + bytes.fromhex(KEY.private_key_hex) + b"\x01")},
        "seed": {"signature": Mnemonic("english").generate(256)},
    }[change]
    before = state()
    response = sign(holder, item, **fields)
    assert response.status_code == status
    assert response.json()["code"] == code
    assert text in response.json()["error"]
    assert state() == before
    for secret in fields.values():
        if code == "secret":
            assert secret not in response.content.decode()
            assert not AuditEntry.objects.filter(detail__icontains=secret[:40]).exists()
    assert sign(holder, item).json()["ok"] is True  # the request still works


def test_it_expired_request_and_expired_message(personas, holder):
    signing_request = prepare(personas)
    item = open_item(holder, signing_request)
    SigningRequest.objects.update(message_at=timezone.now() - timedelta(minutes=16))
    before = state()
    response = sign(holder, item)
    assert (response.status_code, response.json()["code"]) == (410, "expired")
    assert state() == before
    fresh = open_item(holder, signing_request)  # a new message replaces the stale one
    assert fresh["message"] != item["message"]
    SigningRequest.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    response = sign(holder, fresh)
    assert (response.status_code, response.json()["code"]) == (410, "expired")
    assert "This request expired" in response.json()["error"]
    assert actions.expire_overdue() == 1
    assert SigningRequest.objects.get().status == "expired"
    assert AuditEntry.objects.filter(action="signing.expire").count() == 1


def test_it_a_request_is_signed_once(personas, holder):
    item = open_item(holder, prepare(personas))
    assert sign(holder, item).json()["ok"] is True
    before = state()
    replay = sign(holder, item)
    assert (replay.status_code, replay.json()["code"]) == (409, "used")
    assert state() == before


def test_it_only_the_key_holder_signs(personas, holder, client_as):
    item = open_item(holder, prepare(personas))
    operator = client_as("operator")
    before = state()
    response = sign(operator, item)
    assert (response.status_code, response.json()["code"]) == (403, "not_key_holder")
    assert state() == before
    assert operator.post(reverse("wallets:sign_next")).json()["done"] is True


def test_it_zelcore_callback_signs_as_the_opener_once(personas, holder):
    signing_request = prepare(personas)
    item = open_item(holder, signing_request)
    zelcore = Client(enforce_csrf_checks=True)
    callback = reverse("wallets:request_callback", args=[signing_request.token])
    assert item["zel-uri"].endswith("callback=" + "http%3A%2F%2Ftestserver" + callback.replace("/", "%2F"))
    assert holder.post(item["poll-url"]).json() == {"status": "pending"}

    tampered = zelcore.post(callback, {"address": KEY.zelid, "message": item["message"] + "x",
                                       "signature": KEY.sign(item["message"])})
    assert tampered.status_code == 400 and "The message was changed" in tampered.json()["data"]["message"]
    waiting = holder.post(item["poll-url"]).json()
    assert waiting["status"] == "error" and "The message was changed" in waiting["message"]

    good = {"address": KEY.zelid, "message": item["message"], "signature": KEY.sign(item["message"])}
    answer = zelcore.post(callback, good)
    assert answer.status_code == 200 and answer.json()["status"] == "success"
    assert holder.post(item["poll-url"]).json()["status"] == "done"
    signing_request.refresh_from_db()
    assert signing_request.decided_by == personas.manager
    assert AuditEntry.objects.get(action="signing.sign").detail["via"] == "zelcore"

    before = state()
    replay = zelcore.post(callback, good)
    assert replay.status_code == 409 and "already signed" in replay.json()["data"]["message"]
    assert state() == before


def test_it_zelcore_callback_needs_an_opened_request(personas):
    signing_request = prepare(personas)
    response = Client().post(reverse("wallets:request_callback", args=[signing_request.token]),
                             {"address": KEY.zelid, "message": "x" * 60, "signature": "y"})
    assert response.status_code == 409
    assert Client().post(reverse("wallets:request_callback", args=["nope"]), {}).status_code == 404


def test_it_decline_and_withdraw(personas, holder, client_as):
    declined = prepare(personas)
    response = holder.post(reverse("wallets:request_decline", args=[declined.pk]),
                           HTTP_ACCEPT="application/json")
    assert response.json()["ok"] is True
    declined.refresh_from_db()
    assert declined.status == "declined" and declined.decided_by == personas.manager

    withdrawn = prepare(personas)
    operator = client_as("operator")  # who prepared it
    operator.post(reverse("wallets:request_decline", args=[withdrawn.pk]))  # not a key holder
    withdrawn.refresh_from_db()
    assert withdrawn.status == "pending"
    operator.post(reverse("wallets:request_cancel", args=[withdrawn.pk]))
    withdrawn.refresh_from_db()
    assert withdrawn.status == "cancelled"
    page = operator.get(reverse("wallets:requests")).content.decode()
    assert 'data-status="declined"' in page and 'data-status="cancelled"' in page


def test_it_second_team_cannot_see_or_use_the_first_teams_requests(personas, holder, client_as):
    signing_request = prepare(personas)
    open_item(holder, signing_request)
    link(personas.outsider, keys.OWNERS[1])
    outsider = client_as("outsider")
    for name in ("wallets:request_detail",):
        assert outsider.get(reverse(name, args=[signing_request.pk])).status_code == 404
    for name in ("wallets:request_sign", "wallets:request_poll", "wallets:request_decline",
                 "wallets:request_cancel"):
        assert outsider.post(reverse(name, args=[signing_request.pk])).status_code == 404
    assert outsider.post(reverse("wallets:sign_next") + f"?request={signing_request.pk}").json()["done"]
    page = outsider.get(reverse("wallets:requests")).content.decode()
    assert f'data-request="{signing_request.pk}"' not in page and "Restart my apps" not in page


def test_it_second_team_cannot_use_the_first_teams_authorisation(personas, holder):
    item = open_item(holder, prepare(personas))
    sign(holder, item)
    outsider = Membership.objects.get(user=personas.outsider)
    assert node_sessions.app_owner_zelidauth(outsider, KEY.zelid) is None
    viewer = Membership.objects.get(team=personas.team, user=personas.viewer)
    with pytest.raises(PermissionDenied):
        node_sessions.app_owner_zelidauth(viewer, KEY.zelid)


def test_it_authorisations_are_kept_only_for_their_two_hours(personas, holder):
    sign(holder, open_item(holder, prepare(personas)))
    operator = Membership.objects.get(team=personas.team, user=personas.operator)
    AppOwnerAuthorisation.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert node_sessions.app_owner_zelidauth(operator, KEY.zelid) is None
    actions.housekeeping()
    assert not AppOwnerAuthorisation.objects.exists()


def test_it_request_page_shows_what_and_why_never_the_signature(personas, holder):
    signing_request = prepare(personas)
    page = holder.get(reverse("wallets:request_detail", args=[signing_request.pk])).content.decode()
    assert "Restart my apps everywhere" in page and KEY.zelid in page
    assert "data-wallet-sign" in page  # the key holder can sign from here
    item = open_item(holder, signing_request)
    signature = KEY.sign(item["message"])
    sign(holder, item)
    for url in (reverse("wallets:request_detail", args=[signing_request.pk]),
                reverse("wallets:requests"), reverse("wallets:sessions"), reverse("wallets:home")):
        assert signature not in holder.get(url).content.decode()


def test_it_nav_badge_counts_what_waits(personas, holder, client_as):
    assert holder.get(reverse("wallets:nav_badge")).content.strip() == b""
    prepare(personas)
    assert 'data-role="wallet-badge"' in holder.get(reverse("wallets:nav_badge")).content.decode()
    assert client_as("viewer").get(reverse("wallets:nav_badge")).content.strip() == b""
