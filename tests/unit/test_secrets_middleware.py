"""Any form of the panel refuses a pasted private key or seed phrase, and stores nothing."""
import logging

import pytest
from django.urls import reverse

from apps.accounts.models import AuditEntry
from apps.nodes.models import Node

HEX_KEY = "7f3c1e5a9b2d4c6e8f0a1b3c5d7e9f1a2b4c6d8e0f1a3b5c7d9e1f2a4b6c8d0e"
SEED = ("abandon ability able about above absent absorb abstract absurd abuse access accident "
        "account accuse")


@pytest.mark.parametrize("secret", [HEX_KEY, SEED])
def test_a_key_in_a_fleet_form_is_refused_and_not_stored(personas, client_as, caplog, secret):
    caplog.set_level(logging.DEBUG)
    audit_before = AuditEntry.objects.count()
    response = client_as("manager").post(reverse("nodes:register"), {"nodes": f"203.0.113.7\n{secret}"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "Never paste a private key, WIF or seed phrase" in html
    assert secret not in html
    assert Node.objects.count() == 0
    assert AuditEntry.objects.count() == audit_before
    assert secret not in caplog.text and "abandon ability" not in caplog.text


def test_ordinary_text_passes(personas, client_as):
    response = client_as("manager").post(reverse("nodes:register"), {"nodes": "203.0.113.7 a node we rent in Paris"})
    assert response.status_code == 302
    assert Node.objects.count() == 1
