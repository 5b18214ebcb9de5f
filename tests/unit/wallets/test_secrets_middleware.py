"""Any form of the panel refuses a pasted private key or seed phrase, and stores nothing."""
import logging

import pytest
from django.urls import reverse

from apps.accounts.models import AuditEntry
from apps.nodes.models import Node

HEX_KEY = "7f3c1e5a9b2d4c6e8f0a1b3c5d7e9f1a2b4c6d8e0f1a3b5c7d9e1f2a4b6c8d0e"
SEED = ("abandon ability able about above absent absorb abstract absurd abuse access accident "
        "account accuse")


@pytest.mark.parametrize("secret", [f"key:{HEX_KEY}", SEED])
def test_it_a_key_in_a_fleet_form_is_refused_and_not_stored(personas, client_as, caplog, secret):
    caplog.set_level(logging.DEBUG)
    audit_before = AuditEntry.objects.count()
    response = client_as("manager").post(reverse("nodes:register"), {"nodes": f"88.99.10.7\n{secret}"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "Never paste a private key, WIF or seed phrase" in html
    assert secret not in html
    assert Node.objects.count() == 0
    assert AuditEntry.objects.count() == audit_before
    assert secret not in caplog.text and "abandon ability" not in caplog.text


def test_it_ordinary_text_passes(personas, client_as):
    response = client_as("manager").post(reverse("nodes:register"), {"nodes": "88.99.10.7 a node we rent in Paris"})
    assert response.status_code == 302
    assert Node.objects.count() == 1


WIF = "KyL927pfsyZnJhFq5gQGy5eWq9tRYuAppRGiLjvBJGMvMwCqWYmv"  # FluxOS's test-suite key


@pytest.mark.parametrize("path", ["/", "/fleet/", "/wallet/", "/wallet/sign/", "/wallet/signin/"])
@pytest.mark.parametrize("secret", [WIF, f"key:{HEX_KEY}", SEED])
def test_it_refuses_a_secret_in_any_query_string_without_logging_it(client_as, caplog, path, secret):
    caplog.set_level(logging.DEBUG)
    response = client_as("operator").get(path, {"q": secret})
    assert response.status_code == 400
    assert b"Never paste a private key" in response.content
    assert secret not in caplog.text and secret[:20] not in caplog.text
    assert "query string field 'q'" in caplog.text


@pytest.mark.parametrize(("name", "data"), [
    ("wallets:renew_all", {"note": WIF}),
    ("wallets:session_logout", {"next": f"/wallet/?privkey={HEX_KEY}"}),
    ("wallets:request_decline", {"why": SEED}),
])
def test_it_guards_the_wallet_views_without_a_form_of_their_own(personas, client_as, name, data):
    kwargs = {"pk": 1} if name != "wallets:renew_all" else {}
    audit_before = AuditEntry.objects.count()
    response = client_as("manager").post(reverse(name, kwargs=kwargs), data)
    assert response.status_code == 400
    assert AuditEntry.objects.count() == audit_before


def test_it_guards_every_field_a_zelcore_callback_carries(db):
    from django.test import Client
    from django.utils import timezone

    from apps.wallets.models import Challenge

    challenge = Challenge.objects.create(purpose="signin", message="Sign in " + "x" * 80,
                                         session_hash="h", expires_at=timezone.now() + Challenge.LIFE)
    response = Client().post(reverse("wallets:challenge_callback", args=[challenge.token]),
                             {"address": "1abc", "message": challenge.message, "signature": "x",
                              "privkey": WIF})
    assert response.status_code == 400 and b"Never paste a private key" in response.content
    assert Challenge.objects.get().callback_error == ""


def test_it_answers_the_signing_component_in_json(client_as):
    response = client_as("operator").post(reverse("wallets:sign_next") + f"?x={WIF}",
                                          HTTP_ACCEPT="application/json")
    assert response.status_code == 400 and response.json()["code"] == "secret"
