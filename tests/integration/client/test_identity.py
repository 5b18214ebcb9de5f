"""Login, sessions and logout against the simulator, with FluxOS's rules and texts (§1)."""

import json
import time

import pytest

from fluxpanel.fluxos.client import FluxError, NodeTimeout, Unauthorized
from tests.integration.client.conftest import (
    SimClient,
    admin_key,
    login,
    requests_seen,
    stateless_auth,
)
from tests.sim import keys


def test_it_login_phrase_has_fluxos_shape(client):
    phrase = client.login_phrase()
    assert phrase[:13].isdigit() and abs(int(phrase[:13]) - time.time() * 1000) < 60_000
    assert 40 <= len(phrase) <= 70


def test_it_verify_login_as_user_and_as_admin(fleet):
    user = SimClient(fleet.url(2))
    phrase = user.login_phrase()
    data = user.verify_login(keys.USER.zelid, phrase, keys.USER.sign(phrase))
    assert data["message"] == "Successfully logged in"
    assert data["privilage"] == "user"  # sic
    assert data["zelid"] == keys.USER.zelid and data["loginPhrase"] == phrase

    owner = admin_key(fleet, 2)
    phrase = user.login_phrase()
    assert user.verify_login(owner.zelid, phrase, owner.sign(phrase))["privilage"] == "admin"


def test_it_login_body_goes_out_as_text_plain(fleet):
    client = SimClient(fleet.url(3))
    phrase = client.login_phrase()
    client.verify_login(keys.USER.zelid, phrase, keys.USER.sign(phrase))
    method, path, content_type, *_ = requests_seen(fleet, 3)[-1]
    assert (method, path, content_type) == ("POST", "/id/verifylogin", "text/plain")


def test_it_json_content_type_makes_a_raw_body_route_hang_like_fluxos(fleet):
    """The trap the client avoids: with application/json FluxOS never answers these routes."""
    import requests

    with pytest.raises(requests.ReadTimeout):
        requests.post(fleet.url(3) + "/id/verifylogin", json={"zelid": "x"}, timeout=(2, 0.5))


@pytest.mark.parametrize(
    ("tamper", "message"),
    [
        ("bad_signature", "Invalid signature"),
        ("not_issued", "Signed message is no longer valid. Please request a new one."),
        ("bad_zelid", "Flux ID is not valid"),
        ("no_signature", "No signature is specified"),
        ("short_message", "Signed message is not valid"),
    ],
)
def test_it_login_errors_carry_fluxos_texts(fleet, tamper, message):
    client = SimClient(fleet.url(4))
    phrase = client.login_phrase()
    zelid, signature = keys.USER.zelid, keys.USER.sign(phrase)
    if tamper == "bad_signature":
        signature = keys.STRANGER.sign(phrase)
    elif tamper == "not_issued":
        phrase = keys.USER.phrase()
        signature = keys.USER.sign(phrase)
    elif tamper == "bad_zelid":
        zelid = "t1" + zelid[2:]
    elif tamper == "no_signature":
        signature = ""
    elif tamper == "short_message":
        phrase = phrase[:30]
    with pytest.raises(FluxError) as info:
        client.verify_login(zelid, phrase, signature)
    assert info.value.message == message
    assert not isinstance(info.value, Unauthorized)


def test_it_phrases_are_one_time_and_per_node(fleet):
    client = SimClient(fleet.url(5))
    phrase = client.login_phrase()
    signature = keys.USER.sign(phrase)
    client.verify_login(keys.USER.zelid, phrase, signature)
    with pytest.raises(FluxError, match="no longer valid"):
        client.verify_login(keys.USER.zelid, phrase, signature)
    other_phrase = SimClient(fleet.url(6)).login_phrase()
    with pytest.raises(FluxError, match="no longer valid"):
        client.verify_login(keys.USER.zelid, other_phrase, keys.USER.sign(other_phrase))


def test_it_sessions_listing_and_logouts(fleet):
    session = login(fleet, 7, keys.USER)
    listed = session.logged_sessions()
    assert [s["zelid"] for s in listed] == [keys.USER.zelid]
    second = login(fleet, 7, keys.USER)
    assert len(second.logged_sessions()) == 2
    assert second.logout() == "Successfully logged out"
    assert len(session.logged_sessions()) == 1
    assert session.logout_all_sessions() == "Successfully logged out all sessions"
    # the phrase is still < 16 h old, so the stateless user rule still lets it list (nothing)
    assert session.logged_sessions() == []


def test_it_logout_specific_session_handles_fluxos_double_reply(fleet):
    session = login(fleet, 8, keys.USER)
    other = login(fleet, 8, keys.USER)
    phrase = json.loads(other.zelidauth)["loginPhrase"]
    assert session.logout_specific_session(phrase) == "Session successfully logged out"
    # already gone: FluxOS writes a warning and then the success message in one reply
    assert session.logout_specific_session(phrase) == "Session successfully logged out"


def test_it_per_user_reads_bypass_the_url_cache(fleet):
    """apicache keys on the URL only: without the bypass header user B would see A's sessions."""
    alice = login(fleet, 9, keys.USER)
    bob = login(fleet, 9, keys.STRANGER)
    assert {s["zelid"] for s in alice.logged_sessions()} == {keys.USER.zelid}
    assert {s["zelid"] for s in bob.logged_sessions()} == {keys.STRANGER.zelid}
    assert requests_seen(fleet, 9)[-1][4] == "true"
    # the trap itself, shown with a raw request that does not bypass the cache
    import requests

    plain = requests.get(fleet.url(9) + "/id/loggedsessions", timeout=5,
                         headers={"zelidauth": alice.zelidauth}).json()
    leaked = requests.get(fleet.url(9) + "/id/loggedsessions", timeout=5,
                          headers={"zelidauth": bob.zelidauth}).json()
    assert leaked == plain


def test_it_check_privilege_reports_roles(fleet):
    client = SimClient(fleet.url(10))
    admin_session = login(fleet, 10, admin_key(fleet, 10))
    auth = json.loads(admin_session.zelidauth)
    assert client.check_privilege(auth["zelid"], auth["signature"], auth["loginPhrase"]) == "admin"
    fresh = stateless_auth(keys.USER)
    assert client.check_privilege(fresh["zelid"], fresh["signature"], fresh["loginPhrase"]) == "user"
    old = stateless_auth(keys.USER, age_ms=17 * 3600 * 1000)
    assert client.check_privilege(old["zelid"], old["signature"], old["loginPhrase"]) == "none"


def test_it_dos_node_refuses_login_phrases_with_code_and_name(fleet):
    fleet.inject(11, "dos", dosState=100, dosMessage="DOS: benchmarks failed")
    try:
        with pytest.raises(FluxError) as info:
            SimClient(fleet.url(11)).login_phrase()
        assert (info.value.code, info.value.name, info.value.message) == (100, "DOS", "DOS: benchmarks failed")
        assert SimClient(fleet.url(11)).emergency_phrase()  # skips the health checks
    finally:
        fleet.clear(11)


def test_it_slow_post_is_never_retried(fleet):
    fleet.inject(4, "slow", latency_ms=800)
    try:
        client = SimClient(fleet.url(4), timeout=(2, 0.3))
        before = len(requests_seen(fleet, 4))
        with pytest.raises(NodeTimeout):
            client.verify_login(keys.USER.zelid, "x" * 50, "sig")
        assert len(requests_seen(fleet, 4)) == before + 1
    finally:
        fleet.clear(4)
