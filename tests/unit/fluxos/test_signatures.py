"""verify_message / sign_message against FluxOS's own results (vectors/signatures.json) and the
rules those vectors show."""

from __future__ import annotations

import base64

import pytest

from fluxpanel.fluxos.crypto import (
    base58check_decode,
    base58check_encode,
    hash160,
    keccak256,
    node_base64_decode,
)
from fluxpanel.fluxos.signatures import (
    address_from_private_key,
    eth_message_is_standard,
    fluxos_eth_message_hash,
    sign_message,
    verify_message,
)
from tests.vectors import case_ids, load

CASES = load("signatures")
CURVE_ORDER = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
KEY = "c5157829d220371641e73ca2fcce098cfe33afc841112f2b9ce77beb73bf570c"  # a vector's test key
PHRASE = "1767229200000lhgbnbbplglnnjmdaolblmpdomglimfnjeafjgof"


def standard_eip191_hash(message: str) -> bytes:
    payload = message.encode("utf-8")
    return keccak256(b"\x19Ethereum Signed Message:\n" + str(len(payload)).encode() + payload)


def cases_with(predicate):
    chosen = [case for case in CASES if predicate(case)]
    return pytest.mark.parametrize("case", chosen, ids=case_ids(chosen))


# --- the oracle vectors --------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=case_ids(CASES))
def test_it_verify_message_matches_fluxos(case):
    assert verify_message(case["message"], case["address"], case["signature"]) is case["expected"]


@cases_with(lambda case: case.get("fluxos_message_hash"))
def test_it_fluxos_eth_hash_matches_fluxos(case):
    assert "0x" + fluxos_eth_message_hash(case["message"]).hex() == case["fluxos_message_hash"]
    assert "0x" + standard_eip191_hash(case["message"]).hex() == case["standard_eip191_hash"]
    assert eth_message_is_standard(case["message"]) is False


@cases_with(lambda case: case["kind"] == "btc" and case["expected"] and "compressed" in case)
def test_it_btc_signing_is_byte_identical_to_bitcoinjs_message(case):
    ours = sign_message(case["message"], case["private_key_hex"], compressed=case["compressed"])
    # Some vectors decorate the same signature (whitespace, junk): compare the decoded bytes.
    assert base64.b64decode(ours) == node_base64_decode(case["signature"])


@cases_with(lambda case: case["kind"] == "eth" and case["expected"] and case.get("private_key_hex"))
def test_it_eth_signing_reproduces_r_and_s(case):
    ours = sign_message(case["message"], case["private_key_hex"], kind="eth")
    assert ours[:130] == case["signature"][:130]  # r, s; the vectors vary v on purpose
    assert verify_message(case["message"], case["address"], ours)


@cases_with(lambda case: case.get("private_key_hex") and case["address"].startswith(("1", "0x")))
def test_it_address_from_private_key(case):
    if case["kind"] == "eth":
        derived = address_from_private_key(case["private_key_hex"], kind="eth")
        assert derived.lower() == case["address"].lower()
    elif case["expected"]:
        compressed = case.get("compressed", True)
        assert address_from_private_key(case["private_key_hex"], compressed=compressed) in (
            case["address"],
            address_from_private_key(case["private_key_hex"], compressed=not compressed),
        )


# --- bitcoin rules -------------------------------------------------------------------------


def with_version(address: str, version: bytes) -> str:
    return base58check_encode(version + base58check_decode(address)[1:])


def test_it_version_byte_is_ignored_but_two_byte_versions_never_verify():
    address = address_from_private_key(KEY)
    signature = sign_message(PHRASE, KEY)
    assert verify_message(PHRASE, with_version(address, b"\x05"), signature)  # a "3..." address
    assert verify_message(PHRASE, with_version(address, b"\x30"), signature)  # Litecoin "L..."
    t1_address = with_version(address, b"\x1c\xb8")
    assert t1_address.startswith("t1")
    assert not verify_message(PHRASE, t1_address, signature)


def test_it_header_ranges():
    raw = base64.b64decode(sign_message(PHRASE, KEY))  # compressed, header 31..32
    recid = raw[0] - 31
    address = address_from_private_key(KEY)
    redeem_hash = hash160(b"\x00\x14" + base58check_decode(address)[1:])
    p2sh_address = base58check_encode(b"\x05" + redeem_hash)

    def signed(header: int) -> str:
        return base64.b64encode(bytes([header]) + raw[1:]).decode()

    assert verify_message(PHRASE, address, signed(31 + recid))
    assert not verify_message(PHRASE, address, signed(27 + recid))  # uncompressed key's hash
    assert not verify_message(PHRASE, address, signed(35 + recid))  # P2SH-P2WPKH vs a 1...
    assert verify_message(PHRASE, p2sh_address, signed(35 + recid))
    assert not verify_message(PHRASE, p2sh_address, signed(31 + recid))
    for header in (39 + recid, 26, 43, 0, 255):  # P2WPKH never, out of range never
        assert not verify_message(PHRASE, address, signed(header))


def test_it_lenient_base64():
    signature = sign_message(PHRASE, KEY)
    address = address_from_private_key(KEY)
    urlsafe = signature.replace("+", "-").replace("/", "_")
    assert verify_message(PHRASE, address, signature.rstrip("="))
    assert verify_message(PHRASE, address, urlsafe)
    assert verify_message(PHRASE, address, " \n".join([signature[:10], signature[10:]]))
    assert verify_message(PHRASE, address, signature[:5] + "!*é" + signature[5:])
    assert verify_message(PHRASE, address, signature + "=garbage after the padding")
    assert not verify_message(PHRASE, address, signature[:-4])  # 64 bytes
    assert not verify_message(PHRASE, address, signature[:5] + "=" + signature[5:])
    assert not verify_message(PHRASE, address, base64.b64encode(b"\x1f" * 66).decode())


def test_it_public_key_hex_as_address():
    for compressed in (True, False):
        signature = sign_message(PHRASE, KEY, compressed=compressed)
        from coincurve import PrivateKey

        public_key = PrivateKey(bytes.fromhex(KEY)).public_key.format(compressed=compressed).hex()
        assert verify_message(PHRASE, public_key, signature)
        assert verify_message(PHRASE, public_key.upper(), signature)
        assert not verify_message(
            PHRASE, public_key, sign_message(PHRASE, KEY, compressed=not compressed)
        )


def test_it_bech32_and_capital_0x_addresses_never_verify():
    signature = sign_message(PHRASE, KEY)
    assert not verify_message(PHRASE, "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq", signature)
    eth_signature = sign_message(PHRASE, KEY, kind="eth")
    eth_address = address_from_private_key(KEY, kind="eth")
    assert verify_message(PHRASE, eth_address, eth_signature)
    assert not verify_message(PHRASE, "0X" + eth_address[2:], eth_signature)


def test_it_long_unicode_message_uses_utf8_and_a_three_byte_varint():
    message = "fluxappregister1" + "é€😀" * 100
    signature = sign_message(message, KEY)
    assert verify_message(message, address_from_private_key(KEY), signature)
    assert not verify_message(message[:-1], address_from_private_key(KEY), signature)


# --- ethereum rules ------------------------------------------------------------------------


def split_eth(signature: str) -> tuple[int, int, int]:
    return int(signature[2:66], 16), int(signature[66:130], 16), int(signature[130:], 16)


def eth_signature(r: int, s: int, v_hex: str) -> str:
    return "0x" + r.to_bytes(32, "big").hex() + s.to_bytes(32, "big").hex() + v_hex


def test_it_eth_v_forms_and_no_low_s_rule():
    address = address_from_private_key(KEY, kind="eth")
    r, s, v = split_eth(sign_message(PHRASE, KEY, kind="eth"))
    recid = v - 27
    for v_hex in (f"{27 + recid:x}", f"{recid:02x}", f"{37 + recid:x}", f"0x{27 + recid:x}"):
        assert verify_message(PHRASE, address, eth_signature(r, s, v_hex)), v_hex
    assert not verify_message(PHRASE, address, eth_signature(r, s, f"{28 - recid:x}"))
    assert not verify_message(PHRASE, address, eth_signature(r, s, ""))  # 64-byte signature
    # v is every byte after s: 0x1b00 / 0x1c00 are even, so recovery id 1 whatever came first
    assert verify_message(PHRASE, address, eth_signature(r, s, f"{27 + recid:x}00")) is (recid == 1)
    # high s with the other recovery id: elliptic has no low-s rule
    assert verify_message(PHRASE, address, eth_signature(r, CURVE_ORDER - s, f"{28 - recid:x}"))


def test_it_eth_r_and_s_are_parsed_by_a_lenient_bignum():
    address = address_from_private_key(KEY, kind="eth")
    for attempt in range(200):  # find a signature whose s fits in 63 hex digits
        message = f"{PHRASE}{attempt}"
        r, s, v = split_eth(sign_message(message, KEY, kind="eth"))
        if s < 16**63 and "7" in f"{r:064x}":
            break
    r_hex = f"{r:064x}"
    # old bn.js reads any character as the nibble (code - 48) & 15: 'g' and 'w' count as 7
    for stand_in in ("g", "w"):
        mangled = "0x" + r_hex.replace("7", stand_in, 1) + f"{s:064x}" + f"{v:x}"
        assert verify_message(message, address, mangled)
    # a leading "-" makes s negative and elliptic reduces it mod n: -s is the high-s twin n - s,
    # which recovers the key with the other recovery id
    flipped_v = f"{55 - v:x}"
    assert verify_message(message, address, "0x" + r_hex + "-" + f"{s:063x}" + flipped_v)
    assert not verify_message(message, address, "0x" + r_hex + "-" + f"{s:063x}" + f"{v:x}")
    # a negative r is refused
    assert not verify_message(message, address, "0x-" + r_hex[1:] + f"{s:064x}" + f"{v:x}")


def test_it_eth_address_compared_case_insensitively():
    address = address_from_private_key(KEY, kind="eth")
    signature = sign_message(PHRASE, KEY, kind="eth")
    assert verify_message(PHRASE, address.lower(), signature)
    assert verify_message(PHRASE, "0x" + address[2:].upper(), signature)
    assert not verify_message(PHRASE, address + " ", signature)


def test_it_eth_digest_is_standard_only_for_printable_ascii():
    # (a single control character at the very end happens to come out right: "\t" -> 0x09)
    assert eth_message_is_standard("tab\t")
    for message in (PHRASE, '{"a":"b"}', "testmessage123", "~ !\x10\x7f"):
        assert eth_message_is_standard(message)
        assert fluxos_eth_message_hash(message) == standard_eip191_hash(message)
    for message in ("café", "line\nbreak", "\ttab", "€", "😀", "\x0fx"):
        assert not eth_message_is_standard(message)
        assert fluxos_eth_message_hash(message) != standard_eip191_hash(message)


def test_it_fluxos_unit_test_vector():
    # FluxOS tests/unit/ethereumHelper.test.js
    expected = "518ae699da3f6dfe9b2109ec808b3054055e599e20594fd5370b2b018332bd6c"
    assert fluxos_eth_message_hash("testmessage123").hex() == expected


def test_it_wallet_signature_over_non_ascii_message_is_rejected():
    from coincurve import PrivateKey

    message = "héllo " + PHRASE
    raw = PrivateKey(bytes.fromhex(KEY)).sign_recoverable(
        standard_eip191_hash(message), hasher=None
    )
    wallet_signature = "0x" + (raw[:64] + bytes([27 + raw[64]])).hex()
    address = address_from_private_key(KEY, kind="eth")
    assert not verify_message(message, address, wallet_signature)
    assert verify_message(message, address, sign_message(message, KEY, kind="eth"))


def test_it_fluxos_eth_bytes_can_collide():
    # "\x01" + "#" is hex "1"+"23", "\x12" + "\x03" is "12"+"3": both read back as 12 03.
    assert fluxos_eth_message_hash("\x01#") == fluxos_eth_message_hash("\x12\x03")
    signature = sign_message("\x01#", KEY, kind="eth")
    assert verify_message("\x12\x03", address_from_private_key(KEY, kind="eth"), signature)


# --- robustness ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        (None, "1P3L2Fgx2M4Mp54chgrLZM5eAUPXhLTbnd", "x"),
        (PHRASE, None, "x"),
        (PHRASE, "1P3L2Fgx2M4Mp54chgrLZM5eAUPXhLTbnd", None),
        (PHRASE, ["1P3L2Fgx2M4Mp54chgrLZM5eAUPXhLTbnd"], "x"),
        (123, 456, 789),
        ("", "", ""),
        (PHRASE, "0x", "0x"),
        (PHRASE, "0x" + "0" * 40, "0x" + "f" * 130),
        (PHRASE, "0x" + "0" * 40, "0x" + "0" * 128 + "1b"),
        (PHRASE, "0x" + "0" * 40, "0x" + "-" + "1" * 127 + "1b"),
        (PHRASE, "0x" + "0" * 40, "0x" + "1" * 130 + "f" * 400),
        (PHRASE, "\ud800" * 40, "\udfff" * 88),
        (PHRASE, "1" * 30, "A" * 88),
    ],
)
def test_it_garbage_is_false_never_an_exception(args):
    assert verify_message(*args) is False


def test_it_sign_message_rejects_bad_input():
    with pytest.raises(ValueError):
        sign_message(PHRASE, "00" * 31)
    with pytest.raises(ValueError):
        sign_message(PHRASE, KEY, kind="ltc")
    with pytest.raises(ValueError):
        address_from_private_key(KEY, kind="ltc")


def test_it_lone_surrogates_are_hashed_as_node_does():
    # Buffer.from(text, "utf8") turns any lone surrogate into U+FFFD, so these collide
    address = address_from_private_key(KEY)
    signature = sign_message("\ud800 " + PHRASE, KEY)
    assert verify_message("\ud800 " + PHRASE, address, signature)
    assert verify_message("\udfff " + PHRASE, address, signature)
    assert verify_message("\ufffd " + PHRASE, address, signature)
    # a surrogate pair held as two code points is one character, as in JS
    assert sign_message("\ud83d\ude00", KEY) == sign_message("😀", KEY)
    assert fluxos_eth_message_hash("\ud83d\ude00") == fluxos_eth_message_hash("😀")
