"""The app register/update message and its signature check (../shared/vectors/messages.json)."""

import pytest

from fluxpanel.fluxos.jsjson import json_parse
from fluxpanel.fluxos.signatures import sign_message
from fluxpanel.fluxos.specs import (
    SpecError,
    format_spec,
    message_hash,
    message_to_sign,
    spec_json,
    verify_register_signature,
    verify_update_signature,
)
from tests.vectors import case_ids, load

CASES = load("messages")
REGISTER_CASES = [case for case in CASES if "expected_register_verdict" in case]
UPDATE_CASES = [case for case in CASES if "expected_update_verdict" in case]


def _submitted_spec(case):
    """What the client sent: the raw JSON text when it matters (1.0-style numbers, escapes)."""
    if "app_specification_input_text" in case:
        return json_parse(case["app_specification_input_text"])
    return case["app_specification_input"]


def _verdict(call):
    try:
        return call()
    except SpecError as error:
        return str(error)


@pytest.mark.parametrize("case", CASES, ids=case_ids(CASES))
def test_it_formatted_spec(case):
    formatted = format_spec(_submitted_spec(case))
    assert json_parse(spec_json(formatted)) == case["app_specification_formatted"]


@pytest.mark.parametrize("case", CASES, ids=case_ids(CASES))
def test_it_message_to_sign_is_byte_identical(case):
    formatted = format_spec(_submitted_spec(case))
    message = message_to_sign(case["type"], formatted, case["timestamp"], case["version"])
    assert message == case["message_to_sign"]
    assert message.encode("utf-8") == case["message_to_sign"].encode("utf-8")


@pytest.mark.parametrize("case", CASES, ids=case_ids(CASES))
def test_it_message_hash(case):
    formatted = format_spec(_submitted_spec(case))
    assert message_hash(case["type"], formatted, case["timestamp"], case["signature"], case["version"]) == (
        case["message_hash"]
    )


@pytest.mark.parametrize("case", REGISTER_CASES, ids=case_ids(REGISTER_CASES))
def test_it_register_verdict(case):
    formatted = format_spec(_submitted_spec(case))
    timestamp = case.get("timestamp_argument_passed_to_verifier", case["timestamp"])
    verdict = _verdict(lambda: verify_register_signature(case["type"], case["version"], formatted, timestamp, case["signature"]))
    assert verdict == case["expected_register_verdict"]


@pytest.mark.parametrize("case", UPDATE_CASES, ids=case_ids(UPDATE_CASES))
def test_it_update_verdict(case):
    formatted = format_spec(_submitted_spec(case))
    verdict = _verdict(
        lambda: verify_update_signature(
            case["type"], case["version"], formatted, case["timestamp"], case["signature"],
            case["update_owner"], case["update_height"],
        )
    )
    assert verdict == case["expected_update_verdict"]


def test_it_update_must_be_signed_by_the_previous_owner():
    case = next(c for c in UPDATE_CASES if c["id"] == "update_v8_owner_transfer")
    formatted = format_spec(_submitted_spec(case))
    new_owner = formatted["owner"]
    assert new_owner != case["update_owner"]
    verdict = _verdict(
        lambda: verify_update_signature(case["type"], 1, formatted, case["timestamp"], case["signature"], new_owner, 2_200_000)
    )
    assert verdict == (
        "Received signature does not correspond with Flux App owner or Flux App specifications are not properly formatted"
    )


def test_it_v3_spec_signed_with_the_legacy_repotag_owner_order_is_accepted():
    case = next(c for c in REGISTER_CASES if c["id"] == "register_v3_current_order")
    formatted = format_spec(_submitted_spec(case))
    legacy = {key: formatted[key] for key in ("version", "name", "description", "repotag", "owner")}
    legacy.update((key, value) for key, value in formatted.items() if key not in legacy)
    legacy_message = message_to_sign(case["type"], legacy, case["timestamp"])
    assert legacy_message != case["message_to_sign"]
    signature = sign_message(legacy_message, case["signer_private_key_hex"])
    assert verify_register_signature(case["type"], 1, formatted, case["timestamp"], signature) is True
    assert verify_update_signature(
        "fluxappupdate", 1, formatted, case["timestamp"],
        sign_message(message_to_sign("fluxappupdate", legacy, case["timestamp"]), case["signer_private_key_hex"]),
        formatted["owner"], 2_200_000,
    ) is True


def test_it_message_specification_types_are_checked_first():
    case = REGISTER_CASES[0]
    formatted = format_spec(_submitted_spec(case))
    for args in (
        (case["type"], "1", formatted, case["timestamp"], case["signature"]),
        (case["type"], 1, [], case["timestamp"], case["signature"]),
        (case["type"], 1, formatted, case["timestamp"], 12),
        (case["type"], 1, formatted, True, case["signature"]),
    ):
        assert _verdict(lambda args=args: verify_register_signature(*args)) == "Invalid Flux App message specifications"


def test_it_serialisation_traps():
    case = next(c for c in CASES if c["id"] == "register_v8_serialization_traps")
    text = spec_json(format_spec(_submitted_spec(case)))
    assert '"cpu":1,' in text and '"ports":[36001]' in text
    assert "🚀" in text and "café über" in text and "<b>&amp;</b>" in text and "slash/" in text
    assert '\\t' in text and ": " not in text


def test_it_expire_only_update_ignores_expire_height_hash_and_enterprise():
    from fluxpanel.fluxos.specs import is_expire_only_update

    stored = {**CASES[0]["app_specification_formatted"], "expire": 88000, "height": 2_100_000, "hash": "ab"}
    extended = {**CASES[0]["app_specification_formatted"], "expire": 176000}
    assert is_expire_only_update(extended, stored)
    assert not is_expire_only_update({**extended, "instances": 4}, stored)
