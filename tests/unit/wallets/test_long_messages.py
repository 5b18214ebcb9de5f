"""ZelCore's long messages: the 1800-character link rule, `FLUX_URL=`, the served text, the callback."""
from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from apps.accounts.models import Membership
from apps.wallets import actions, long_messages
from apps.wallets.handoff import ZELCORE_MESSAGE_LIMIT, zelcore_uri
from apps.wallets.models import SigningRequest
from tests.sim import keys
from tests.sim.wallet import item_fields, link

KEY = keys.OWNERS[0]
CALLBACK = "https://panel.example/wallet/requests/zelcore/tok/"
ICON = "https://panel.example/wallet/icon.svg"
URL = "https://panel.example/wallet/requests/zelcore/tok/" + "a" * 64 + ".txt"


def query(uri):
    return parse_qs(urlsplit(uri.replace("zel:", "http://zel/", 1)).query)


def test_it_a_short_message_goes_in_the_link_itself():
    uri = zelcore_uri("hello", callback_url=CALLBACK, icon_url=ICON, message_url=URL)
    assert query(uri)["message"] == ["hello"]


@pytest.mark.parametrize("message", ["x" * (ZELCORE_MESSAGE_LIMIT + 1), '{"a":"' + "é" * 400 + '"}'])
def test_it_a_link_over_1800_characters_carries_the_message_url(message):
    inline = zelcore_uri(message, callback_url=CALLBACK, icon_url=ICON)
    assert inline is None  # without a URL to fetch from, no ZelCore link at all
    uri = zelcore_uri(message, callback_url=CALLBACK, icon_url=ICON, message_url=URL)
    assert len(uri) <= ZELCORE_MESSAGE_LIMIT
    assert query(uri)["message"] == ["FLUX_URL=" + URL]
    assert query(uri)["callback"] == [CALLBACK]


def test_it_the_longest_inline_link_is_exactly_at_the_limit():
    base = len(zelcore_uri("", callback_url=CALLBACK, icon_url=ICON))
    fits = "x" * (ZELCORE_MESSAGE_LIMIT - base)
    assert len(zelcore_uri(fits, callback_url=CALLBACK, icon_url=ICON)) == ZELCORE_MESSAGE_LIMIT
    assert zelcore_uri(fits + "x", callback_url=CALLBACK, icon_url=ICON) is None


@pytest.fixture
def long_request(personas):
    link(personas.operator, KEY)
    membership = Membership.objects.get(team=personas.team, user=personas.operator)
    signing_request = actions.create_request(membership=membership, kind="app_owner", zelid=KEY.zelid,
                                             purpose="long")
    message = "1" * 13 + "ü€" * 1500  # not a real app message: the bytes are what matters
    SigningRequest.objects.filter(pk=signing_request.pk).update(
        message=message, message_at=timezone.now(), opened_by=personas.operator)
    signing_request.refresh_from_db()
    return signing_request


@pytest.mark.django_db
def test_it_serves_the_exact_bytes_publicly_as_plain_text(long_request):
    response = Client().get(long_messages.message_path(long_request))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response.content == long_request.message.encode("utf-8")
    assert response["Cache-Control"] == "no-store"


@pytest.mark.django_db
def test_it_refuses_a_wrong_key_an_old_message_and_a_closed_request(long_request):
    client = Client()
    path = long_messages.message_path(long_request)
    assert client.get(path.replace(long_messages.digest(long_request), "b" * 64)).status_code == 404
    assert client.post(path).status_code == 405
    # A newer preparation changes the URL: the old one is dead.
    SigningRequest.objects.filter(pk=long_request.pk).update(message_at=timezone.now())
    assert client.get(path).status_code == 404
    long_request.refresh_from_db()
    fresh = long_messages.message_path(long_request)
    assert client.get(fresh).status_code == 200
    # Too old to sign.
    SigningRequest.objects.filter(pk=long_request.pk).update(
        message_at=timezone.now() - timezone.timedelta(hours=1))
    long_request.refresh_from_db()
    assert client.get(long_messages.message_path(long_request)).status_code == 404


@pytest.mark.django_db
def test_it_the_sign_item_links_to_the_served_message(client, long_request, personas):
    client.force_login(personas.operator)
    data = client.post(reverse("wallets:sign_next") + f"?request={long_request.pk}").json()
    fields = item_fields(data["html"])
    uri = fields["zel-uri"] if "zel-uri" in fields else fields.get("zelUri")
    assert uri, fields
    served = query(uri)["message"][0]
    assert served.startswith("FLUX_URL=http")
    assert len(uri) <= ZELCORE_MESSAGE_LIMIT
    assert Client().get(urlsplit(served.removeprefix("FLUX_URL=")).path).content == \
        long_request.message.encode("utf-8")
    assert "ZelCore fetches it from this panel" in data["html"]


@pytest.mark.django_db
def test_it_the_callback_accepts_the_full_long_message(client, long_request, personas):
    callback = reverse("wallets:request_callback", args=[long_request.token])
    response = Client().post(callback, {"address": KEY.zelid, "message": long_request.message,
                                        "signature": KEY.sign(long_request.message)})
    assert response.status_code == 200, response.content
    long_request.refresh_from_db()
    assert long_request.status == SigningRequest.Status.SIGNED
