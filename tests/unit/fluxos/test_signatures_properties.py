"""Property tests: verification never crashes, signing round-trips for both kinds.

FluxOS-specific restrictions the properties respect:

* an empty message never verifies (FluxOS: "Missing parameters"), so messages are non-empty;
* ``kind="eth"`` signs FluxOS's own digest, so it round-trips for *any* message, but it is what
  a standard wallet (``personal_sign``) produces only when ``eth_message_is_standard`` holds,
  i.e. (essentially) printable ASCII; and FluxOS's unpadded-hex digest can collide for
  messages with control or non-ASCII characters ("\\x01#" and "\\x12\\x03"), so "another
  message fails" is only asserted for printable ASCII.
"""

from __future__ import annotations

import string

from coincurve import PrivateKey
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from fluxpanel.fluxos.crypto import keccak256
from fluxpanel.fluxos.identity import (
    LoginError,
    check_login,
    check_login_request,
    parse_zelidauth,
    verify_user_session,
)
from fluxpanel.fluxos.signatures import (
    address_from_private_key,
    eth_message_is_standard,
    fluxos_eth_message_hash,
    sign_message,
    verify_message,
)

CURVE_ORDER = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
BASE64_CHARS = string.ascii_letters + string.digits + "+/=-_ \n!"

private_keys = st.integers(min_value=1, max_value=CURVE_ORDER - 1).map(lambda k: f"{k:064x}")
any_text = st.text(st.characters(exclude_categories=()), max_size=200)  # with lone surrogates
messages = st.text(min_size=1, max_size=300)
printable_messages = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), min_size=1)
addresses = st.one_of(
    any_text,
    st.text("123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz", min_size=20, max_size=40),
    st.text(string.hexdigits, min_size=37, max_size=140),
    st.text(string.hexdigits, min_size=40, max_size=40).map(lambda h: "0x" + h),
)
signatures = st.one_of(
    any_text,
    st.text(BASE64_CHARS, min_size=80, max_size=100),
    st.text(string.hexdigits + "xX- ", min_size=120, max_size=140).map(lambda h: "0x" + h),
)
relaxed = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@relaxed
@given(message=any_text, address=addresses, signature=signatures)
def test_it_verify_message_never_raises(message, address, signature):
    assert verify_message(message, address, signature) in (True, False)


@relaxed
@given(message=any_text, signature=signatures, key=private_keys)
def test_it_random_signatures_do_not_verify_for_real_addresses(message, signature, key):
    assert not verify_message(message, address_from_private_key(key), signature)
    assert not verify_message(message, address_from_private_key(key, kind="eth"), signature)


@relaxed
@given(key=private_keys, message=messages, compressed=st.booleans())
def test_it_btc_sign_verify_round_trip(key, message, compressed):
    address = address_from_private_key(key, compressed=compressed)
    signature = sign_message(message, key, compressed=compressed)
    assert verify_message(message, address, signature)
    assert not verify_message(message + " ", address, signature)
    assert not verify_message(
        message, address_from_private_key(key, compressed=not compressed), signature
    )


@relaxed
@given(key=private_keys, message=messages)
def test_it_eth_sign_verify_round_trip_for_any_message(key, message):
    address = address_from_private_key(key, kind="eth")
    signature = sign_message(message, key, kind="eth")
    assert verify_message(message, address, signature)
    assert verify_message(message, address.lower(), signature)


@relaxed
@given(key=private_keys, message=printable_messages, other=printable_messages)
def test_it_eth_printable_ascii_is_standard_personal_sign(key, message, other):
    assert eth_message_is_standard(message)
    payload = message.encode()
    standard = keccak256(b"\x19Ethereum Signed Message:\n" + str(len(payload)).encode() + payload)
    assert fluxos_eth_message_hash(message) == standard
    raw = PrivateKey(bytes.fromhex(key)).sign_recoverable(standard, hasher=None)
    wallet_signature = "0x" + (raw[:64] + bytes([27 + raw[64]])).hex()
    assert sign_message(message, key, kind="eth") == wallet_signature
    assume(other != message)
    assert not verify_message(other, address_from_private_key(key, kind="eth"), wallet_signature)


@relaxed
@given(header=any_text)
def test_it_parse_zelidauth_never_raises(header):
    parsed = parse_zelidauth(header)
    assert isinstance(parsed, dict)
    assert verify_user_session(parsed, 1767225660000, logged_in_db=False) in (True, False)


@relaxed
@given(
    zelid=st.one_of(st.none(), addresses),
    phrase=st.one_of(st.none(), any_text),
    signature=st.one_of(st.none(), signatures),
    now_ms=st.integers(min_value=0, max_value=2**45),
)
def test_it_check_login_only_raises_login_error(zelid, phrase, signature, now_ms):
    try:
        check_login(zelid, phrase, signature, now_ms)
    except LoginError as error:
        assert str(error)
    try:
        check_login_request(phrase or "", now_ms)
    except LoginError:
        pass
