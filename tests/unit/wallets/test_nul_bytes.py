"""A NUL byte from the URL never reaches a query: PostgreSQL refuses it in text (a 500 there),
SQLite does not, so these fail on the old code only in the PostgreSQL run of the suite."""
from django.urls import reverse


def test_it_answers_404_for_a_nul_byte_in_a_challenge_token(client):
    for name in ("challenge_poll", "challenge_submit", "challenge_callback", "challenge_qr"):
        url = reverse(f"wallets:{name}", kwargs={"token": "abc"}).replace("/abc/", "/%00/")
        response = client.post(url) if name != "challenge_qr" else client.get(url)
        assert response.status_code == 404, (name, response.status_code)


def test_it_answers_404_for_a_nul_byte_in_a_request_callback_token(db, client):
    url = reverse("wallets:request_callback", kwargs={"token": "abc"}).replace("/abc/", "/%00/")
    assert client.post(url, {"signature": "x"}).status_code == 404


def test_it_ignores_a_batch_that_is_no_batch(personas, client_as):
    client = client_as("operator")
    page = client.get(reverse("wallets:sign"), {"batch": "\x00"})
    assert page.status_code == 200
    assert "batch=%00" not in page.content.decode() and "batch=\x00" not in page.content.decode()
    assert client.post(reverse("wallets:sign_next") + "?batch=%00").status_code in (200, 204)
