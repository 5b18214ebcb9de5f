"""The app register/update message: what is signed, its hash, and how FluxOS checks the signature.

Reproduces `messageVerifier.verifyAppMessageSignature` and `verifyAppMessageUpdateSignature`
(RunOnFlux/flux `ZelBack/src/services/appMessaging/messageVerifier.js`):

    message = type + version + JSON.stringify(formattedSpec) + timestamp
    hash    = sha256_hex(message + signature)

Legacy fallbacks FluxOS still accepts, reproduced here: specs of version <= 3 signed with
`repotag` before `owner` (the pre-2021 key order); v7 components signed with `secrets` before
`repoauth`; register messages with a timestamp <= 1688947200000 are checked with the bitcoin
verifier only (an Ethereum owner fails); updates may also be signed by the team support address
for "marketplace" apps (a number > Date.parse('2020-01-01') in the name) and by `usersToExtend`
for expire-only changes.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from .. import fluxconfig
from ..jsjson import (
    UNDEFINED,
    get,
    is_number,
    js_add,
    js_ge,
    js_gt,
    js_to_string,
    js_truthy,
    json_parse,
    json_stringify,
    to_js_value,
)
from ..signatures import verify_message
from .errors import SpecError

REGISTER_INVALID = "Received signature is invalid or Flux App specifications are not properly formatted"
UPDATE_INVALID = (
    "Received signature does not correspond with Flux App owner or Flux App specifications are not properly formatted"
)
MESSAGE_SPEC_INVALID = "Invalid Flux App message specifications"


class MessageSignatureError(SpecError):
    """The signed app message was refused; `str()` is FluxOS's exact error text."""


def spec_json(formatted: Any) -> str:
    """`JSON.stringify(formatted)`, byte for byte (key order as given, JS number form, no spaces)."""
    text = json_stringify(to_js_value(formatted))
    return "undefined" if text is UNDEFINED else text


def message_to_sign(type: str, formatted: Any, timestamp: Any, version: Any = 1) -> str:  # noqa: A002 - FluxOS's name
    """`type + version + JSON.stringify(formatted) + timestamp`, the string the owner signs."""
    return js_add(js_add(js_add(type, to_js_value(version)), spec_json(formatted)), to_js_value(timestamp))


def message_hash(type: str, formatted: Any, timestamp: Any, signature: str, version: Any = 1) -> str:  # noqa: A002
    """sha256 hex of message + signature: the hash that goes into the payment's OP_RETURN."""
    text = js_add(message_to_sign(type, formatted, timestamp, version), signature)
    return hashlib.sha256(_node_utf8(text)).hexdigest()


def _node_utf8(text: str) -> bytes:
    """UTF-8 as Node encodes a JS string: lone surrogates become U+FFFD."""
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace").encode("utf-8")


# --- signature checks ----------------------------------------------------------------------------


def _verify(message: str, address: Any, signature: str) -> bool:
    """signatureVerifier.verifySignature: bitcoin message or, for a `0x` address, Ethereum."""
    if not isinstance(address, str):
        return False
    try:
        return verify_message(message, address, signature) is True
    except Exception:  # FluxOS's verifier logs and answers false, it never throws
        return False


def _verify_bitcoin_only(message: str, address: Any, signature: str) -> bool:
    """verificationHelper.verifyMessage: the bitcoin verifier alone (no Ethereum routing)."""
    if not isinstance(address, str) or address.startswith("0x"):
        return False  # "0x..." is not base58: the bitcoin verifier cannot accept it
    return _verify(message, address, signature)


def _check_message_types(type: Any, version: Any, spec: Any, timestamp: Any, signature: Any) -> None:  # noqa: A002
    if (
        not isinstance(spec, dict)
        or not js_truthy(spec)
        or not is_number(timestamp)
        or not isinstance(signature, str)
        or not is_number(version)
        or not isinstance(type, str)
    ):
        raise MessageSignatureError(MESSAGE_SPEC_INVALID)


def _json_copy(value: Any) -> Any:
    """JSON.parse(JSON.stringify(value)): drops undefined, turns NaN into null."""
    return json_parse(json_stringify(value))


def _legacy_owner_order(spec: dict) -> dict:
    """v<=3 specs used to be signed as version, name, description, repotag, owner, ...rest."""
    rest = _json_copy(spec)
    for key in ("version", "name", "description", "repotag", "owner"):
        rest.pop(key, None)
    head = {key: get(spec, key) for key in ("version", "name", "description", "repotag", "owner")}
    return {**head, **rest}


def _legacy_secrets_order(spec: dict) -> dict:
    """v7 components used to be signed with secrets before repoauth."""
    clone = _json_copy(spec)
    for component in get(clone, "compose") if isinstance(get(clone, "compose"), list) else []:
        if isinstance(component, dict):
            secrets, repoauth = component.pop("secrets", UNDEFINED), component.pop("repoauth", UNDEFINED)
            component["secrets"] = secrets
            component["repoauth"] = repoauth
    return clone


def _message(type: str, version: Any, spec: Any, timestamp: Any) -> str:  # noqa: A002
    return js_add(js_add(js_add(type, version), json_stringify(spec)), timestamp)


def verify_register_signature(type: str, version: Any, formatted: Any, timestamp: Any, signature: Any) -> bool:  # noqa: A002
    """verifyAppMessageSignature: True, or MessageSignatureError with FluxOS's text. Owner = formatted.owner."""
    spec, version, timestamp = to_js_value(formatted), to_js_value(version), to_js_value(timestamp)
    _check_message_types(type, version, spec, timestamp, signature)
    owner = get(spec, "owner")
    modern_verifier = js_gt(timestamp, fluxconfig.BTC_ONLY_SIGNATURE_TIMESTAMP_MS)

    def check(candidate: Any) -> bool:
        message = _message(type, version, candidate, timestamp)
        if modern_verifier:
            return _verify(message, owner, signature)
        return _verify_bitcoin_only(message, owner, signature)

    valid = check(spec)
    spec_version = get(spec, "version")
    if not valid and is_number(spec_version) and spec_version <= 3:
        valid = check(_legacy_owner_order(spec))
    elif not valid and spec_version == 7 and is_number(spec_version):
        # v7 specs appeared after Ethereum support, so FluxOS uses the full verifier here.
        valid = _verify(_message(type, version, _legacy_secrets_order(spec), timestamp), owner, signature)
    if not valid:
        raise MessageSignatureError(REGISTER_INVALID)
    return True


def _team_support_address(height: Any) -> str | None:
    active = [row for row in fluxconfig.TEAM_SUPPORT_ADDRESSES if js_ge(height, row["height"])]
    return active[-1]["address"] if active else None


def _is_marketplace_name(name: Any) -> bool:
    numbers = re.findall(r"[0-9]+", js_to_string(name))
    return any(float(number) > fluxconfig.MARKETPLACE_NAME_TIMESTAMP_MS for number in numbers)


def verify_update_signature(
    type: str,  # noqa: A002
    version: Any,
    formatted: Any,
    timestamp: Any,
    signature: Any,
    previous_owner: Any,
    height: int,
    previous_app_spec: dict | None = None,
) -> bool:
    """verifyAppMessageUpdateSignature: the *current* (previous) owner must sign an update.

    `previous_app_spec` is the stored spec, needed only for the usersToExtend expire-only rule.
    Returns True or raises MessageSignatureError with FluxOS's text.
    """
    spec, version, timestamp = to_js_value(formatted), to_js_value(version), to_js_value(timestamp)
    _check_message_types(type, version, spec, timestamp, signature)
    message = _message(type, version, spec, timestamp)
    valid = _verify(message, previous_owner, signature)

    support_address = None
    if not valid:
        address = _team_support_address(height)
        if address and _is_marketplace_name(get(spec, "name")):
            support_address = address
            valid = _verify(message, support_address, signature)

    def check_legacy(candidate: dict) -> bool:
        legacy_message = _message(type, version, candidate, timestamp)
        ok = _verify(legacy_message, previous_owner, signature)
        if not ok and support_address:
            ok = _verify(legacy_message, support_address, signature)
        return ok

    spec_version = get(spec, "version")
    if not valid and is_number(spec_version) and spec_version <= 3:
        valid = check_legacy(_legacy_owner_order(spec))
    elif not valid and is_number(spec_version) and spec_version == 7:
        valid = check_legacy(_legacy_secrets_order(spec))

    if not valid and fluxconfig.USERS_TO_EXTEND and previous_app_spec:
        valid = _signed_by_user_to_extend(message, spec, signature, to_js_value(previous_app_spec))
    if not valid:
        raise MessageSignatureError(UPDATE_INVALID)
    return True


def _signed_by_user_to_extend(message: str, spec: dict, signature: str, previous: Any) -> bool:
    # Enterprise v8 specs are encrypted; only an Arcane node can compare them, and a node that
    # cannot compare accepts any usersToExtend signature. The panel is such a node.
    can_compare = not (js_ge(get(spec, "version"), 8) and js_truthy(get(spec, "enterprise")))
    for user in fluxconfig.USERS_TO_EXTEND:
        if _verify(message, user, signature) and (not can_compare or is_expire_only_update(spec, previous)):
            return True
    return False


def is_expire_only_update(new_spec: Any, existing_spec: Any) -> bool:
    """messageVerifier.isExpireOnlyUpdate: equal once expire/height/hash/enterprise are removed."""
    if not js_truthy(existing_spec) or not js_truthy(new_spec):
        return False
    new_copy, existing_copy = _json_copy(new_spec), _json_copy(existing_spec)
    for key in ("expire", "height", "hash", "enterprise"):
        if isinstance(new_copy, dict):
            new_copy.pop(key, None)
        if isinstance(existing_copy, dict):
            existing_copy.pop(key, None)
    return _deep_equal(new_copy, existing_copy)


def _deep_equal(a: Any, b: Any) -> bool:
    if isinstance(a, list) or isinstance(b, list):
        return isinstance(a, list) and isinstance(b, list) and len(a) == len(b) and all(
            _deep_equal(x, y) for x, y in zip(a, b, strict=True)
        )
    if isinstance(a, dict) or isinstance(b, dict):
        return (
            isinstance(a, dict) and isinstance(b, dict) and len(a) == len(b)
            and all(key in b and _deep_equal(a[key], b[key]) for key in a)
        )
    if is_number(a) and is_number(b):
        return a == b
    return type(a) is type(b) and a == b  # keeps true apart from 1, as === does
