"""Login checks, zelidauth sessions and header parsing against FluxOS's own results
(vectors/signatures.json and vectors/zelidauth.json) and the rules behind them."""

from __future__ import annotations

import json

import pytest

from fluxpanel.fluxos.identity import (
    APP_OWNER_SESSION_MAX_AGE_MS,
    FLUX_SUPPORT_TEAM_ZELID,
    FLUX_TEAM_ZELID,
    USER_SESSION_MAX_AGE_MS,
    LoginError,
    check_login,
    check_login_request,
    check_session_phrase,
    format_zelidauth,
    login_privilege,
    make_login_phrase,
    parse_zelidauth,
    phrase_timestamp,
    verify_user_session,
)
from fluxpanel.fluxos.signatures import address_from_private_key, sign_message
from tests.vectors import case_ids, load

SIGNATURE_CASES = load("signatures")
ZELIDAUTH_CASES = load("zelidauth")
KEY = "9dbcbf986c5345df7f0c2ac48fd0e92e284ecb464b194b77143295c6510843b8"  # a vector's test key
NOW = 1767225660000
MINUTE = 60_000


def login_outcome(zelid, phrase, signature, now_ms):
    try:
        check_login(zelid, phrase, signature, now_ms)
    except LoginError as error:
        return "error", str(error)
    return "success", "Successfully logged in"


def signed_login(phrase: str, *, kind: str = "btc") -> tuple[str, str, str]:
    zelid = address_from_private_key(KEY, kind=kind)
    return zelid, phrase, sign_message(phrase, KEY, kind=kind)


# --- the oracle vectors --------------------------------------------------------------------


@pytest.mark.parametrize("case", SIGNATURE_CASES, ids=case_ids(SIGNATURE_CASES))
def test_it_check_login_matches_fluxos_verify_login(case):
    expected = case["verify_login"]
    outcome = login_outcome(case["address"], case["message"], case["signature"], expected["now_ms"])
    assert outcome == (expected["status"], expected["message"])
    if expected["status"] == "success":
        assert login_privilege(case["address"]) == expected["privilage"]


@pytest.mark.parametrize("case", SIGNATURE_CASES, ids=case_ids(SIGNATURE_CASES))
@pytest.mark.parametrize("logged_in_db", [True, False], ids=["logged_in_db", "not_in_db"])
def test_it_verify_user_session_matches_fluxos(case, logged_in_db):
    expected = case["user_session"]
    auth = {
        "zelid": case["address"],
        "signature": case["signature"],
        "loginPhrase": case["message"],
    }
    key = "logged_in_db" if logged_in_db else "not_in_db"
    assert verify_user_session(auth, expected["now_ms"], logged_in_db=logged_in_db) is expected[key]


@pytest.mark.parametrize("case", ZELIDAUTH_CASES, ids=case_ids(ZELIDAUTH_CASES))
def test_it_parse_zelidauth_matches_fluxos_ensure_object(case):
    assert parse_zelidauth(case["zelidauth_header"]) == case["parsed_by_fluxos"]


@pytest.mark.parametrize("case", ZELIDAUTH_CASES, ids=case_ids(ZELIDAUTH_CASES))
@pytest.mark.parametrize("logged_in_db", [True, False], ids=["logged_in_db", "not_in_db"])
def test_it_zelidauth_user_session_matches_fluxos(case, logged_in_db):
    auth = parse_zelidauth(case["zelidauth_header"])
    key = "user_session_logged_in_db" if logged_in_db else "user_session_not_in_db"
    assert verify_user_session(auth, case["now_ms"], logged_in_db=logged_in_db) is case[key]


@pytest.mark.parametrize("case", ZELIDAUTH_CASES, ids=case_ids(ZELIDAUTH_CASES))
def test_it_zelidauth_string_as_verify_login_body_matches_fluxos(case):
    try:
        check_login_request(case["zelidauth_header"], case["now_ms"])
        outcome = "Successfully logged in"
    except LoginError as error:
        outcome = f"error: {error}"
    assert outcome == case["verify_login_with_same_string_as_body"]


# --- verifyLogin rules ---------------------------------------------------------------------


def test_it_login_timestamp_window_is_inclusive_and_now_itself_is_no_longer_valid():
    zelid, phrase, signature = signed_login(make_login_phrase(NOW))
    assert login_outcome(zelid, phrase, signature, NOW + 15 * MINUTE)[0] == "success"
    assert login_outcome(zelid, phrase, signature, NOW + 15 * MINUTE + 1) == (
        "error",
        "Signed message is not valid",
    )
    assert login_outcome(zelid, phrase, signature, NOW - 1) == (
        "error",
        "Signed message is not valid",
    )
    # the first check allows ts == now, the later `ts < now` does not
    assert login_outcome(zelid, phrase, signature, NOW) == (
        "error",
        "Signed message is no longer valid. Please request a new one.",
    )


def test_it_login_nan_timestamp_slips_through_then_is_no_longer_valid():
    zelid, phrase, signature = signed_login("not a timestamp at all, but long enough for the check")
    assert phrase_timestamp(phrase) != phrase_timestamp(phrase)  # NaN
    assert login_outcome(zelid, phrase, signature, NOW) == (
        "error",
        "Signed message is no longer valid. Please request a new one.",
    )
    # an invalid signature is not even looked at
    assert login_outcome(zelid, phrase, "bad", NOW)[1].startswith("Signed message is no longer")


def test_it_login_timestamp_is_js_number_of_13_characters():
    assert phrase_timestamp("1767225600000abc") == 1767225600000
    assert phrase_timestamp(" 176722560000x") == 176722560000  # JS trims whitespace
    assert phrase_timestamp("0x1234567890a") == 0x1234567890A
    assert phrase_timestamp("1.7672256e+12") == 1.7672256e12
    assert phrase_timestamp("             rest") == 0  # blank -> 0
    assert phrase_timestamp("Infinity12345") != phrase_timestamp("Infinity12345")  # NaN
    assert phrase_timestamp("1_767_225_600") != phrase_timestamp("1_767_225_600")  # NaN


def test_it_login_order_of_checks():
    zelid, phrase, signature = signed_login(make_login_phrase(NOW - MINUTE))
    assert login_outcome(None, None, None, NOW) == ("error", "No Flux ID is specified")
    assert login_outcome("", phrase, signature, NOW) == ("error", "No Flux ID is specified")
    assert login_outcome("t1abc", None, None, NOW) == ("error", "Flux ID is not valid")
    assert login_outcome(zelid, "", None, NOW) == ("error", "No message is specified")
    assert login_outcome(zelid, "1767225600000 short", None, NOW) == (
        "error",
        "Signed message is not valid",
    )
    assert login_outcome(zelid, phrase, "", NOW) == ("error", "No signature is specified")
    assert login_outcome(zelid, phrase, signature[::-1], NOW) == ("error", "Invalid signature")
    assert login_outcome(zelid, phrase, signature, NOW) == ("success", "Successfully logged in")


@pytest.mark.parametrize(
    "zelid, valid",
    [
        ("1P3L2Fgx2M4Mp54chgrLZM5eAUPXhLTbnd", True),
        ("1" + "a" * 23, False),  # 24 characters
        ("1" + "a" * 24, True),
        ("1" + "a" * 33, True),
        ("1" + "a" * 34, False),  # 35 characters
        ("1P3L2Fgx2M4Mp54chgrLZM5eAUPXhLTbn0", False),  # '0' is not base58
        ("1P3L2Fgx2M4Mp54chgrLZM5eAUPXhLTbnd\n", False),  # JS $ is the true end
        ("0x" + "aB" * 20, True),
        ("0x" + "a" * 39, False),
        ("0X" + "a" * 40, False),
        ("3" + "a" * 33, False),
        ("bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq", False),
        ("t1fuw2b75zfqxQi7We7fThABZR8acWZrHeg", False),
        (["1P3L2Fgx2M4Mp54chgrLZM5eAUPXhLTbnd"], False),
    ],
)
def test_it_login_id_forms(zelid, valid):
    status, message = login_outcome(zelid, make_login_phrase(NOW - MINUTE), "sig", NOW)
    assert (message != "Flux ID is not valid") is valid


def test_it_login_lengths_count_utf16_units():
    phrase = str(NOW - MINUTE) + "😀" * 13  # 13 + 26 units = 39
    assert login_outcome("1P3L2Fgx2M4Mp54chgrLZM5eAUPXhLTbnd", phrase, "x", NOW)[1] == (
        "Signed message is not valid"
    )
    phrase += "a"  # 40 units
    assert login_outcome("1P3L2Fgx2M4Mp54chgrLZM5eAUPXhLTbnd", phrase, "x", NOW)[1] == (
        "Invalid signature"
    )


def test_it_login_request_field_aliases():
    zelid, phrase, signature = signed_login(make_login_phrase(NOW - MINUTE), kind="eth")
    body = json.dumps({"address": zelid, "message": phrase, "signature": signature})
    check_login_request(body, NOW)
    query = f"zelid=&address={zelid}&loginPhrase={phrase}&signature={signature}"
    check_login_request(query, NOW)
    for body in (json.dumps({"zelid": None, "signature": signature}), "[1]", "", "zelid="):
        with pytest.raises(LoginError, match="^No Flux ID is specified$"):
            check_login_request(body, NOW)


def test_it_login_privilege():
    assert login_privilege(FLUX_TEAM_ZELID) == "fluxteam"
    assert (
        login_privilege(FLUX_SUPPORT_TEAM_ZELID, admin_zelid=FLUX_SUPPORT_TEAM_ZELID) == "fluxteam"
    )
    assert (
        login_privilege(
            "1CbErtneaX2QVyUfwU7JGB7VzvPgrgc3uC", admin_zelid="1CbErtneaX2QVyUfwU7JGB7VzvPgrgc3uC"
        )
        == "admin"
    )
    assert login_privilege("1CbErtneaX2QVyUfwU7JGB7VzvPgrgc3uC") == "user"


# --- sessions ------------------------------------------------------------------------------


def test_it_session_phrase_rule_ages_and_lengths():
    phrase = make_login_phrase(NOW)
    assert check_session_phrase(phrase, NOW, max_age_ms=USER_SESSION_MAX_AGE_MS)
    assert check_session_phrase(
        phrase, NOW + USER_SESSION_MAX_AGE_MS, max_age_ms=USER_SESSION_MAX_AGE_MS
    )
    assert not check_session_phrase(
        phrase, NOW + USER_SESSION_MAX_AGE_MS + 1, max_age_ms=USER_SESSION_MAX_AGE_MS
    )
    assert not check_session_phrase(phrase, NOW - 1, max_age_ms=USER_SESSION_MAX_AGE_MS)
    assert check_session_phrase(
        phrase, NOW + APP_OWNER_SESSION_MAX_AGE_MS, max_age_ms=APP_OWNER_SESSION_MAX_AGE_MS
    )
    assert not check_session_phrase(
        phrase, NOW + 3 * 3600_000, max_age_ms=APP_OWNER_SESSION_MAX_AGE_MS
    )
    stamp = str(NOW)
    assert not check_session_phrase(stamp + "a" * 26, NOW, max_age_ms=USER_SESSION_MAX_AGE_MS)  # 39
    assert check_session_phrase(stamp + "a" * 27, NOW, max_age_ms=USER_SESSION_MAX_AGE_MS)  # 40
    assert check_session_phrase(stamp + "a" * 57, NOW, max_age_ms=USER_SESSION_MAX_AGE_MS)  # 70
    assert not check_session_phrase(stamp + "a" * 58, NOW, max_age_ms=USER_SESSION_MAX_AGE_MS)  # 71
    # NaN timestamps are not rejected by this rule
    assert check_session_phrase("x" * 50, NOW, max_age_ms=USER_SESSION_MAX_AGE_MS)
    assert not check_session_phrase(None, NOW, max_age_ms=USER_SESSION_MAX_AGE_MS)


def test_it_user_session_does_not_check_the_address_form():
    phrase = make_login_phrase(NOW)
    signature = sign_message(phrase, KEY)
    p2sh_like = "39zu2foqxuQSiGnFfW5kZfw5BKG7mBHTUN"  # version 5, P2PKH hash of another vector key
    auth = {"zelid": address_from_private_key(KEY), "signature": signature, "loginPhrase": phrase}
    assert verify_user_session(auth, NOW, logged_in_db=False)
    assert not verify_user_session({**auth, "zelid": p2sh_like}, NOW, logged_in_db=False)
    assert not verify_user_session({**auth, "signature": ""}, NOW, logged_in_db=True)
    assert not verify_user_session({**auth, "loginPhrase": [phrase]}, NOW, logged_in_db=False)
    assert not verify_user_session([], NOW, logged_in_db=True)


# --- header --------------------------------------------------------------------------------


def test_it_format_and_parse_round_trip():
    zelid, phrase, signature = signed_login(make_login_phrase(NOW))
    header = format_zelidauth(zelid, signature, phrase)
    assert list(json.loads(header)) == ["zelid", "signature", "loginPhrase"]
    assert parse_zelidauth(header) == {
        "zelid": zelid,
        "signature": signature,
        "loginPhrase": phrase,
    }
    assert verify_user_session(parse_zelidauth(header), NOW, logged_in_db=False)


def test_it_query_string_plus_becomes_space_and_breaks_the_signature():
    phrase = make_login_phrase(NOW)
    for attempt in range(100):  # find a signature with a '+' in it
        signature = sign_message(f"{phrase[:-2]}{attempt:02d}", KEY)
        if "+" in signature:
            phrase = f"{phrase[:-2]}{attempt:02d}"
            break
    zelid = address_from_private_key(KEY)
    raw = parse_zelidauth(f"zelid={zelid}&signature={signature}&loginPhrase={phrase}")
    assert raw["signature"] == signature.replace("+", " ")
    assert not verify_user_session(raw, NOW, logged_in_db=True)
    encoded = signature.replace("+", "%2B").replace("/", "%2F").replace("=", "%3D")
    assert verify_user_session(
        parse_zelidauth(f"zelid={zelid}&signature={encoded}&loginPhrase={phrase}"),
        NOW,
        logged_in_db=True,
    )


@pytest.mark.parametrize(
    "header, parsed",
    [
        ("", {}),
        ("null", {}),
        ("[1, 2]", {}),
        ("123", {}),
        ('"zelid=1"', {}),
        ("zelid=a&zelid=b", {"zelid": ["a", "b"]}),
        ("zelid", {"zelid": ""}),
        ("a=%E2%82%AC+%2B", {"a": "€ +"}),
        ("a=100%+b", {"a": "100% b"}),  # malformed escape: whole value kept, '+' still a space
        ("=x&&b=1", {"b": "1"}),
        ("toString=1&constructor=2&ok=3", {"ok": "3"}),
        ("a[b]=1&a[c]=2", {"a": {"b": "1", "c": "2"}}),
        ("a%5Bb%5D=1", {"a": {"b": "1"}}),
        ("a[]=1&a[]=2", {"a": ["1", "2"]}),
        ("a[1]=x&a[0]=y", {"a": ["y", "x"]}),
        ("a[21]=x", {"a": {"21": "x"}}),
        ("a[b]]=c=d", {"a": {"b": "c=d"}}),  # split at "]=", the stray "]" is dropped
        ("a[b][c][d][e][f][g]=1", {"a": {"b": {"c": {"d": {"e": {"f": {"[g]": "1"}}}}}}}),
        ("{broken json", {"{broken json": ""}),
        ('{"zelid": NaN}', {'{"zelid": NaN}': ""}),
        ("[" * 100_000, {"[" * 100_000: ""}),  # too deep (and invalid) JSON -> qs
    ],
)
def test_it_parse_zelidauth_json_then_qs(header, parsed):
    assert parse_zelidauth(header) == parsed


# --- phrases -------------------------------------------------------------------------------


def test_it_make_login_phrase():
    phrase = make_login_phrase(NOW)
    assert phrase.startswith(str(NOW)) and len(phrase) == 53
    assert make_login_phrase(NOW) != phrase
    assert make_login_phrase(NOW, "ab" * 14) == f"{NOW}{'ab' * 14}"
    zelid, phrase, signature = signed_login(make_login_phrase(NOW - MINUTE))
    check_login(zelid, phrase, signature, NOW)
    assert check_session_phrase(phrase, NOW, max_age_ms=APP_OWNER_SESSION_MAX_AGE_MS)
    for bad_time in (176722566000, 17672256600000, "1767225660000", True):
        with pytest.raises(ValueError):
            make_login_phrase(bad_time)
    for bad_random in ("a" * 26, "a" * 58, "XYZ" * 10):
        with pytest.raises(ValueError):
            make_login_phrase(NOW, bad_random)
