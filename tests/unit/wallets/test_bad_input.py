"""Whatever arrives at the wallet views is a clear 4xx, never a server error (issue 10, F9): odd
ids in query strings and paths, and anonymous ZelCore callbacks with bodies of any shape."""
import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from apps.wallets.models import Challenge, SigningRequest
from tests.sim import keys

pytestmark = pytest.mark.django_db
NESTED = b"[" * 100_000 + b"]" * 100_000
BAD_BODIES = [
    ("application/json", NESTED),
    ("application/json", b'{"address": ' * 50_000),
    ("application/json", b'["address", "message", "signature"]'),
    ("application/json", b'{"address": ["1abc"], "message": {"a": 1}, "signature": 5}'),
    ("application/json", b"\xff\xfe not utf-8"),
    ("multipart/form-data", b"--x\r\nbroken"),  # no boundary at all
    ("multipart/form-data; boundary=x", b"--x\r\nContent-Disposition: form-data; name=\"a\r\n"),
]


@pytest.mark.parametrize("raw", ["²", "١", "1e3", "-1", "99999999999999999999999", "0x10"])
def test_it_refuses_a_request_filter_that_is_not_an_id(personas, client_as, raw):
    response = client_as("operator").post(reverse("wallets:sign_next") + f"?request={raw}")
    assert response.status_code == 400
    assert "must be the number of a signing request" in response.json()["error"]


def test_it_answers_404_for_a_huge_id_in_a_path(client_as):
    operator = client_as("operator")
    for path in ("/wallet/requests/99999999999999999999/", "/wallet/requests/99999999999999999999/sign/",
                 "/wallet/sessions/99999999999999999999/logout/"):
        response = operator.post(path) if path.endswith(("sign/", "logout/")) else operator.get(path)
        assert response.status_code == 404, path


def _challenge():
    now = timezone.now()
    return Challenge.objects.create(purpose="signin", message="Sign in " + "x" * 80, session_hash="h",
                                    expires_at=now + Challenge.LIFE)


def _request(personas):
    return SigningRequest.objects.create(
        team=personas.team, kind="app_owner", zelid=keys.USER.zelid, zelid_key=keys.USER.zelid,
        purpose="test", created_by=personas.manager, expires_at=timezone.now() + Challenge.LIFE,
        message="1700000000000" + "a" * 40)


@pytest.mark.parametrize(("content_type", "body"), BAD_BODIES,
                         ids=["deep", "unfinished", "list", "not-text", "not-utf8", "no-boundary", "cut"])
def test_it_answers_a_challenge_callback_of_any_shape_with_400(content_type, body):
    url = reverse("wallets:challenge_callback", args=[_challenge().token])
    response = Client().generic("POST", url, body, content_type=content_type)
    assert response.status_code == 400, response.content[:300]
    assert Challenge.objects.get().proven_zelid == ""


@pytest.mark.parametrize(("content_type", "body"), BAD_BODIES,
                         ids=["deep", "unfinished", "list", "not-text", "not-utf8", "no-boundary", "cut"])
def test_it_answers_a_request_callback_of_any_shape_with_400(personas, content_type, body):
    url = reverse("wallets:request_callback", args=[_request(personas).token])
    response = Client().generic("POST", url, body, content_type=content_type)
    assert response.status_code == 400, response.content[:300]
    assert SigningRequest.objects.get().status == "pending"


def test_it_says_what_a_callback_body_must_be():
    url = reverse("wallets:challenge_callback", args=[_challenge().token])
    response = Client().generic("POST", url, NESTED, content_type="application/json")
    assert response.json() == {"status": "error", "data": {"message": (
        "The body must be a form, or a JSON object, with address (or zelid), message (or "
        "loginPhrase) and signature as text.")}}


def test_it_answers_a_broken_upload_to_any_page_with_400(client_as):
    response = client_as("manager").generic("POST", reverse("nodes:register"), b"--x\r\nbroken",
                                            content_type="multipart/form-data")
    assert response.status_code == 400
    assert b"could not be read" in response.content
