"""Anonymous wallet challenges are bounded (issue 10, F8): per client address, in all, with no
session row per visitor, purged when expired, and with the QR code off the answer's hot path."""
from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from apps.wallets.actions import housekeeping
from apps.wallets.models import Challenge
from tests.sim.wallet import item_fields

pytestmark = pytest.mark.django_db
LIMIT = 5


@pytest.fixture(autouse=True)
def limits(settings):
    settings.WALLET_CHALLENGES_PER_CLIENT = LIMIT
    cache.clear()
    yield settings
    cache.clear()


def ask(client, address="198.51.100.7"):
    return client.post(reverse("wallets:signin_next"), REMOTE_ADDR=address)


def test_it_refuses_the_next_challenge_from_one_address_with_a_clear_429():
    for _ in range(LIMIT):
        assert ask(Client()).status_code == 200  # a fresh browser each time: no cookie helps
    refused = ask(Client())
    assert refused.status_code == 429
    assert refused.json()["code"] == "throttled"
    assert "Too many wallet messages" in refused.json()["error"]
    assert 0 < int(refused["Retry-After"]) <= 601
    assert Challenge.objects.count() == LIMIT
    assert ask(Client(), address="203.0.113.9").status_code == 200  # another client is not held up


def test_it_counts_an_ipv6_client_by_its_slash_64():
    for host in range(LIMIT):
        assert ask(Client(), address=f"2001:db8:1:2::{host + 1}").status_code == 200
    assert ask(Client(), address="2001:db8:1:2:ffff::1").status_code == 429
    assert ask(Client(), address="2001:db8:1:3::1").status_code == 200


def test_it_bounds_the_unexpired_challenges_of_everyone(limits):
    limits.WALLET_CHALLENGES_LIVE_MAX = 3
    answers = [ask(Client(), address=f"198.51.100.{n}").status_code for n in range(1, 6)]
    assert answers == [200, 200, 200, 429, 429]
    assert Challenge.objects.count() == 3


def test_it_makes_no_session_row_for_an_anonymous_visitor():
    for n in range(LIMIT):
        assert ask(Client(), address=f"198.51.100.{n + 1}").status_code == 200
    assert Session.objects.count() == 0
    assert Challenge.objects.count() == LIMIT


def test_it_binds_the_challenge_to_the_browser_by_its_own_cookie():
    browser = Client()
    response = ask(browser)
    cookie = response.cookies["fluxpanel_wallet"]
    assert cookie["httponly"] and cookie["samesite"] == "Lax" and cookie["path"] == "/wallet/"
    item = item_fields(response.json()["html"])
    assert browser.post(item["poll-url"]).json()["status"] == "pending"
    assert Client().post(item["poll-url"]).status_code == 404  # another browser
    ask(browser)
    assert "fluxpanel_wallet" not in browser.cookies or browser.cookies["fluxpanel_wallet"].value == cookie.value


def test_it_purges_old_challenges_and_expired_sessions():
    for n in range(3):
        ask(Client(), address=f"198.51.100.{n + 1}")
    Challenge.objects.update(expires_at=timezone.now() - timedelta(hours=2))
    ask(Client(), address="198.51.100.99")  # issuing clears what expired long ago
    assert Challenge.objects.count() == 1
    Session.objects.create(session_key="x" * 32, session_data="", expire_date=timezone.now() - timedelta(days=1))
    Challenge.objects.update(expires_at=timezone.now() - timedelta(hours=2))
    assert housekeeping()["challenges"] == 1
    assert not Session.objects.exists() and not Challenge.objects.exists()


def test_it_draws_the_qr_code_only_on_its_own_request():
    browser = Client()
    answer = ask(browser).json()["html"]
    assert "<svg" not in answer
    qr_url = reverse("wallets:challenge_qr", args=[Challenge.objects.get().token])
    assert f'<img src="{qr_url}"' in answer
    image = browser.get(qr_url)
    assert image.status_code == 200 and image["Content-Type"] == "image/svg+xml"
    assert image.content.startswith(b"<svg") and b'aria-label="QR code of the ZelCore link"' in image.content
    assert Client().get(qr_url).status_code == 404  # not this browser's message
