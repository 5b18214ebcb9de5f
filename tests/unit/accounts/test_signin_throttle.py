"""Password sign-in is throttled per account and per client address (issue 10 F8, django-axes)."""
import pytest
from django.urls import reverse

LIMIT = 5


@pytest.fixture
def limit(settings):
    settings.AXES_FAILURE_LIMIT = LIMIT
    return LIMIT


def _sign_in(client, username, password, address="198.51.100.7"):
    return client.post(reverse("accounts:login"), {"username": username, "password": password},
                       REMOTE_ADDR=address)


def _fail(client, username, times, address="198.51.100.7"):
    """`times` wrong passwords: the form says so until the limit's failure, which locks (429)."""
    for _ in range(times):
        assert _sign_in(client, username, "wrong password", address).status_code in (200, 429)


def test_it_refuses_the_right_password_after_too_many_wrong_ones(personas, client, limit):
    _fail(client, "viewer", limit)
    response = _sign_in(client, "viewer", personas.password)
    assert response.status_code == 429
    page = response.content.decode()
    assert "Too many sign-in attempts" in page and "15 minutes" in page
    assert "_auth_user_id" not in client.session


def test_it_locks_the_account_from_every_address(personas, client, limit):
    _fail(client, "viewer", limit, address="198.51.100.7")
    assert _sign_in(client, "viewer", personas.password, address="203.0.113.99").status_code == 429


def test_it_locks_the_address_for_every_account(personas, client, limit):
    """Spreading guesses over many accounts from one address is limited by the address rule."""
    for username in ("viewer", "operator", "manager", "nobody", "ghost"):
        _fail(client, username, 1)
    response = _sign_in(client, "outsider", personas.password)
    assert response.status_code == 429
    # Another address signs in to that account normally.
    ok = _sign_in(client, "outsider", personas.password, address="203.0.113.99")
    assert ok.status_code == 302


def test_it_lets_a_few_typos_through(personas, client, limit):
    _fail(client, "viewer", limit - 1)
    response = _sign_in(client, "viewer", personas.password)
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(personas.viewer.pk)


def test_it_counts_the_address_behind_a_trusted_proxy(personas, client, limit, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    for spoofed in range(limit):
        client.post(reverse("accounts:login"), {"username": "viewer", "password": "x"},
                    REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=f"1.2.3.{spoofed}, 198.51.100.7")
    response = client.post(reverse("accounts:login"), {"username": "operator", "password": personas.password},
                           REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="9.9.9.9, 198.51.100.7")
    assert response.status_code == 429  # the client-written left part does not make new addresses
