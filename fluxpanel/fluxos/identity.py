"""FluxOS login and ``zelidauth`` session rules, without the database.

Reproduces, from FluxOS v8.17.0:

* ``idService.verifyLogin`` (POST ``/id/verifylogin``): :func:`check_login` and
  :func:`check_login_request`, raising :class:`LoginError` with FluxOS's exact texts;
* ``verificationHelperUtils.verifyUserSession``: :func:`verify_user_session` and its phrase
  rule :func:`check_session_phrase` (also used with 2 h by the app-owner checks);
* ``serviceHelper.ensureObject`` for the ``zelidauth`` header and request bodies:
  :func:`parse_zelidauth` (``JSON.parse`` first, then the ``qs`` query-string parser).

Quirks reproduced on purpose:

* the phrase timestamp is ``Number(phrase.substring(0, 13))``; a non-numeric prefix gives NaN,
  which passes every "too old / in the future" comparison (JS NaN comparisons are false).
  ``verifyLogin`` then still fails with "no longer valid", because its second check is
  ``timestamp < now`` (also false for NaN, and for a timestamp exactly equal to now);
* lengths and the 13-character prefix count UTF-16 code units, like JS;
* ``verifyLogin`` only admits ``1...`` (base58 characters, 25-34 long) and ``0x`` + 40 hex
  IDs, but ``verifyUserSession`` checks no address form at all (only the signature, which
  never verifies for ``t1...``);
* ``qs`` turns ``+`` into a space, so a raw ``+`` of a base64 signature in the query-string
  form of the header is lost (Node's base64 decoder then skips the space).

Which phrases are active or logged in is the caller's business (FluxOS keeps them in MongoDB).
"""

from __future__ import annotations

import json
import math
import re
import secrets
import string

from .crypto import JS_WHITESPACE, js_length, utf16_units
from .signatures import verify_message

__all__ = [
    "APP_OWNER_SESSION_MAX_AGE_MS",
    "EXPIRED_MESSAGE",
    "INVALID_MESSAGE",
    "INVALID_SIGNATURE",
    "INVALID_ZELID",
    "NO_MESSAGE",
    "NO_SIGNATURE",
    "NO_ZELID",
    "FLUX_SUPPORT_TEAM_ZELID",
    "FLUX_TEAM_ZELID",
    "LOGIN_PHRASE_MAX_AGE_MS",
    "USER_SESSION_MAX_AGE_MS",
    "LoginError",
    "check_login",
    "check_login_request",
    "check_session_phrase",
    "format_zelidauth",
    "login_privilege",
    "make_login_phrase",
    "node_phrase_problem",
    "parse_zelidauth",
    "phrase_timestamp",
    "verify_user_session",
]

LOGIN_PHRASE_MAX_AGE_MS = 15 * 60 * 1000  # verifyLogin: 900000 ms
USER_SESSION_MAX_AGE_MS = 16 * 60 * 60 * 1000  # verifyUserSession, phrase not logged in
APP_OWNER_SESSION_MAX_AGE_MS = 2 * 60 * 60 * 1000  # verifyAppOwner(OrHigher)Session
SESSION_PHRASE_MIN_LENGTH = 40
SESSION_PHRASE_MAX_LENGTH = 70
TIMESTAMP_LENGTH = 13

# idService.loginPhrase / emergencyPhrase build a phrase as String(Date.now()) followed by four
# Math.random().toString(36).substring(2, 15): 13 ms digits, then 0..52 characters of [0-9a-z].
# Fewer than 27 random characters would make a phrase verifyLogin refuses (under 40), so a node
# phrase the panel accepts is 40..65 characters: never longer than 70, never starting with a
# letter (the panel's own messages are both: see apps.wallets.phrases).
NODE_PHRASE_RANDOM_MIN = SESSION_PHRASE_MIN_LENGTH - TIMESTAMP_LENGTH
NODE_PHRASE_RANDOM_MAX = 4 * 13
NODE_PHRASE_SHAPE = re.compile(
    rf"[0-9]{{{TIMESTAMP_LENGTH}}}[0-9a-z]{{{NODE_PHRASE_RANDOM_MIN},{NODE_PHRASE_RANDOM_MAX}}}"
)
# The node's clock against ours: a phrase may look this much younger (or older) than it is.
NODE_PHRASE_CLOCK_SKEW_MS = 2 * 60 * 1000

FLUX_TEAM_ZELID = "1hjy4bCYBJr4mny4zCE85J94RXa8W6q37"  # config.fluxTeamFluxID
FLUX_SUPPORT_TEAM_ZELID = "16iJqiVbHptCx87q6XQwNpKdgEZnFtKcyP"  # config.fluxSupportTeamFluxID

# FluxOS's error texts, verbatim
NO_ZELID = "No Flux ID is specified"
INVALID_ZELID = "Flux ID is not valid"
NO_MESSAGE = "No message is specified"
INVALID_MESSAGE = "Signed message is not valid"
NO_SIGNATURE = "No signature is specified"
EXPIRED_MESSAGE = "Signed message is no longer valid. Please request a new one."
INVALID_SIGNATURE = "Invalid signature"
MESSAGE_NOT_A_STRING = "message.substring is not a function"  # JS TypeError text

_BASE58_ZELID = re.compile(r"[1-9a-km-zA-HJ-NP-Z]+")  # idService goodchars, used with fullmatch
_ETH_ZELID = re.compile(r"0x[a-fA-F0-9]{40}")


class LoginError(Exception):
    """A refused login; ``str(error)`` is FluxOS's exact error message."""


# --- POST /id/verifylogin ------------------------------------------------------------------


def check_login(zelid, login_phrase, signature, now_ms: int) -> None:
    """The checks of FluxOS ``verifyLogin`` in FluxOS order, for a phrase the caller has
    already found among the node's active login phrases. Raises :class:`LoginError`.

    Order: ID present, ID form (``1...`` base58 25-34 chars, or ``0x`` + 40 hex), message
    present, length >= 40, 13-char ms timestamp within [now - 15 min, now] (NaN slips through),
    signature present, then the stored phrase's timestamp must be strictly before now (NaN or
    == now -> "no longer valid"), and only then the signature itself.
    """
    if zelid is None or zelid == "":
        raise LoginError(NO_ZELID)
    if not _is_login_zelid(zelid):
        raise LoginError(INVALID_ZELID)
    if login_phrase is None or login_phrase == "":
        raise LoginError(NO_MESSAGE)
    if not isinstance(login_phrase, str):
        if isinstance(login_phrase, list) and len(login_phrase) < SESSION_PHRASE_MIN_LENGTH:
            raise LoginError(INVALID_MESSAGE)
        raise LoginError(MESSAGE_NOT_A_STRING)
    if js_length(login_phrase) < SESSION_PHRASE_MIN_LENGTH:
        raise LoginError(INVALID_MESSAGE)
    phrase_time = phrase_timestamp(login_phrase)
    if phrase_time < now_ms - LOGIN_PHRASE_MAX_AGE_MS or phrase_time > now_ms:
        raise LoginError(INVALID_MESSAGE)
    if signature is None or signature == "":
        raise LoginError(NO_SIGNATURE)
    if not phrase_time < now_ms:
        raise LoginError(EXPIRED_MESSAGE)
    if not verify_message(login_phrase, zelid, signature):
        raise LoginError(INVALID_SIGNATURE)


def check_login_request(body: str, now_ms: int) -> None:
    """``verifyLogin`` fed a raw POST body (JSON or query string, FluxOS accepts both): the
    fields are ``zelid`` or ``address``, ``loginPhrase`` or ``message``, and ``signature``."""
    fields = _ensure_object(body)
    if fields is None:
        raise LoginError("Cannot read properties of null (reading 'zelid')")  # JS TypeError
    if isinstance(fields, list):
        fields = {}  # a JSON array has no such properties: every field is undefined
    zelid = _js_or(fields.get("zelid"), fields.get("address"))
    login_phrase = _js_or(fields.get("loginPhrase"), fields.get("message"))
    check_login(zelid, login_phrase, fields.get("signature"), now_ms)


def login_privilege(zelid: str, *, admin_zelid: str | None = None) -> str:
    """The ``privilage`` verifyLogin reports: 'fluxteam', 'admin' (the node owner) or 'user'."""
    if zelid in (FLUX_TEAM_ZELID, FLUX_SUPPORT_TEAM_ZELID):
        return "fluxteam"
    if admin_zelid is not None and zelid == admin_zelid:
        return "admin"
    return "user"


def _is_login_zelid(zelid) -> bool:
    if not isinstance(zelid, str):
        return False  # FluxOS: address[0] of a non-string is never a lone '1' or '0' ID
    if zelid.startswith("1"):
        return bool(_BASE58_ZELID.fullmatch(zelid)) and 25 <= len(zelid) <= 34
    if zelid.startswith("0"):
        return bool(_ETH_ZELID.fullmatch(zelid))
    return False


# --- zelidauth sessions --------------------------------------------------------------------


def check_session_phrase(login_phrase: str, now_ms: int, *, max_age_ms: int) -> bool:
    """The phrase rule FluxOS applies to a ``zelidauth`` whose phrase is not a logged-in
    session: 40 <= length <= 70 and the 13-char timestamp within [now - max_age, now]
    (NaN passes). ``max_age_ms`` is 16 h for users, 2 h for app owners."""
    if not isinstance(login_phrase, str):
        return False  # FluxOS throws a TypeError, i.e. refuses
    phrase_time = phrase_timestamp(login_phrase)
    length = js_length(login_phrase)
    too_old = phrase_time < now_ms - max_age_ms
    in_future = phrase_time > now_ms
    bad_length = length > SESSION_PHRASE_MAX_LENGTH or length < SESSION_PHRASE_MIN_LENGTH
    return not (too_old or in_future or bad_length)


def verify_user_session(auth: dict, now_ms: int, *, logged_in_db: bool) -> bool:
    """FluxOS ``verifyUserSession`` for an already parsed ``zelidauth`` (see
    :func:`parse_zelidauth`). ``logged_in_db``: the node has a logged-in record for this
    ``{loginPhrase, zelid}``; without one the phrase must pass :func:`check_session_phrase`
    with 16 h. No address-form check here, unlike login."""
    if not isinstance(auth, dict):
        return False
    zelid, signature, login_phrase = (
        auth.get("zelid"),
        auth.get("signature"),
        auth.get("loginPhrase"),
    )
    if not (_js_truthy(zelid) and _js_truthy(signature) and _js_truthy(login_phrase)):
        return False
    if not logged_in_db and not check_session_phrase(
        login_phrase, now_ms, max_age_ms=USER_SESSION_MAX_AGE_MS
    ):
        return False
    return verify_message(login_phrase, zelid, signature)


def phrase_timestamp(login_phrase: str) -> float:
    """JS ``Number(phrase.substring(0, 13))``: a float, NaN when the prefix is not a number."""
    return _js_number(utf16_units(login_phrase)[:TIMESTAMP_LENGTH])


def make_login_phrase(now_ms: int, random_hex: str | None = None) -> str:
    """A login phrase in FluxOS's shape: the 13-digit ms timestamp followed by random
    characters (FluxOS uses base36, any lowercase hex works the same). The default 40 random
    hex characters make 53 in all, inside both 40..70 rules."""
    if (
        isinstance(now_ms, bool)
        or not isinstance(now_ms, int)
        or len(str(now_ms)) != TIMESTAMP_LENGTH
    ):
        raise ValueError("now_ms must be a 13-digit millisecond timestamp")
    if random_hex is None:
        random_hex = secrets.token_hex(20)
    if not re.fullmatch(r"[0-9a-f]*", random_hex):
        raise ValueError("random_hex must be lowercase hex")
    phrase = f"{now_ms}{random_hex}"
    if not SESSION_PHRASE_MIN_LENGTH <= len(phrase) <= SESSION_PHRASE_MAX_LENGTH:
        raise ValueError("a login phrase must be 40..70 characters (27..57 random)")
    return phrase


def node_phrase_problem(phrase, now_ms: int, *, skew_ms: int = NODE_PHRASE_CLOCK_SKEW_MS) -> str | None:
    """Why `phrase` cannot be a login phrase a FluxOS node issued just now, or None when it can.

    The shape is FluxOS's exactly (NODE_PHRASE_SHAPE, ASCII only); its timestamp must be no
    older than a login phrase lives (15 minutes) and not in the future, each give or take
    `skew_ms` of clock difference between the node and us.
    """
    if not isinstance(phrase, str) or not NODE_PHRASE_SHAPE.fullmatch(phrase):
        return ("it is not shaped like a FluxOS login phrase (13 digits of milliseconds, then "
                f"{NODE_PHRASE_RANDOM_MIN}-{NODE_PHRASE_RANDOM_MAX} lowercase letters or digits)")
    issued = int(phrase[:TIMESTAMP_LENGTH])
    if issued > now_ms + skew_ms:
        return "its timestamp is in the future"
    if issued < now_ms - LOGIN_PHRASE_MAX_AGE_MS - skew_ms:
        return "its timestamp is older than the 15 minutes a login phrase lives"
    return None


# --- the zelidauth header ------------------------------------------------------------------


def format_zelidauth(zelid: str, signature: str, login_phrase: str) -> str:
    """The JSON form of the header, ``{"zelid","signature","loginPhrase"}``; unlike the query
    string form it needs no percent-encoding of ``+``/``/``/``=``."""
    return json.dumps(
        {"zelid": zelid, "signature": signature, "loginPhrase": login_phrase}, separators=(",", ":")
    )


def parse_zelidauth(header: str) -> dict:
    """FluxOS ``serviceHelper.ensureObject`` of a header value: ``{}`` for an empty value,
    ``JSON.parse`` if it parses, else ``qs.parse`` (``+`` -> space, percent-decoding, bracket
    keys, repeated keys -> lists).

    FluxOS returns a JSON array or ``null`` as is (and then fails every check); we return
    ``{}`` for them, which fails the same checks."""
    parsed = _ensure_object(header)
    return parsed if isinstance(parsed, dict) else {}


def _ensure_object(value):
    if isinstance(value, (dict, list)):
        return value
    if not value:
        return {}
    try:
        parsed = json.loads(value, parse_constant=_reject_json_constant)
    except (ValueError, TypeError, RecursionError):
        # RecursionError: nesting too deep for Python's parser. V8 would either refuse it too
        # (then qs parses it, as here) or return a deep array/object without usable fields.
        return _qs_parse(value)
    if parsed is None or isinstance(parsed, (dict, list)):
        return parsed
    return {}  # a JSON number, string or boolean


def _reject_json_constant(name: str):
    raise ValueError(f"JSON.parse does not accept {name}")


# --- JS value semantics ------------------------------------------------------------------

_JS_DECIMAL = re.compile(r"[+-]?(?:Infinity|(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)")
_JS_RADIX_LITERAL = re.compile(
    r"0(?:[xX](?P<hex>[0-9a-fA-F]+)|[oO](?P<oct>[0-7]+)|[bB](?P<bin>[01]+))"
)


def _js_number(text: str) -> float:
    """JS ``Number(text)`` for a string (also the unary ``+``)."""
    text = text.strip(JS_WHITESPACE)
    if not text:
        return 0.0
    if _JS_DECIMAL.fullmatch(text):
        return float(text.replace("Infinity", "inf"))
    radix = _JS_RADIX_LITERAL.fullmatch(text)
    if radix:
        for group, base in (("hex", 16), ("oct", 8), ("bin", 2)):
            if radix.group(group):
                try:
                    return float(int(radix.group(group), base))
                except OverflowError:
                    return math.inf
    return math.nan


def _js_truthy(value) -> bool:
    if isinstance(value, float) and math.isnan(value):
        return False
    if isinstance(value, (dict, list)):
        return True  # objects and arrays are truthy in JS, even empty ones
    return bool(value)


def _js_or(first, second):
    return first if _js_truthy(first) else second


# --- qs 6.14 parse (default options) -------------------------------------------------------

_QS_PARAMETER_LIMIT = 1000
_QS_DEPTH = 5
_QS_ARRAY_LIMIT = 20
_QS_FIRST_BRACKET = re.compile(r"\[[^[\]]*]")
_OBJECT_PROTOTYPE_KEYS = frozenset(
    {
        "constructor", "hasOwnProperty", "isPrototypeOf", "propertyIsEnumerable", "toString",
        "valueOf", "toLocaleString", "__proto__", "__defineGetter__", "__defineSetter__",
        "__lookupGetter__", "__lookupSetter__",
    }
)  # fmt: skip
_HEX_DIGITS = frozenset(string.hexdigits)


class _Hole:
    """A missing index of a sparse JS array (removed by qs's final compact)."""


_HOLE = _Hole()


def _qs_parse(text: str) -> dict:
    text = re.sub("%5B", "[", text, flags=re.IGNORECASE)
    text = re.sub("%5D", "]", text, flags=re.IGNORECASE)
    values: dict = {}
    for part in text.split("&")[:_QS_PARAMETER_LIMIT]:
        bracket_equals = part.find("]=")
        split_at = part.find("=") if bracket_equals == -1 else bracket_equals + 1
        if split_at == -1:
            key, value = _qs_decode(part), ""
        else:
            key, value = _qs_decode(part[:split_at]), _qs_decode(part[split_at + 1 :])
        values[key] = _qs_combine(values[key], value) if key in values else value
    result: dict = {}
    for key in _js_key_order(values):
        nested = _qs_parse_key(key, values[key])
        if nested is not None:
            result = _qs_merge(result, nested)
    return _qs_compact(result)


def _qs_decode(text: str) -> str:
    text = text.replace("+", " ")
    try:
        return _decode_uri_component(text)
    except ValueError:
        return text  # qs keeps the text (with '+' already turned into spaces) on URIError


def _decode_uri_component(text: str) -> str:
    if "%" not in text:
        return text
    pieces, index = [], 0
    while index < len(text):
        if text[index] != "%":
            pieces.append(text[index])
            index += 1
            continue
        run = bytearray()
        while index < len(text) and text[index] == "%":
            pair = text[index + 1 : index + 3]
            if len(pair) != 2 or not set(pair) <= _HEX_DIGITS:
                raise ValueError("URIError: malformed URI sequence")
            run.append(int(pair, 16))
            index += 3
        pieces.append(run.decode("utf-8"))  # strict, as decodeURIComponent
    return "".join(pieces)


def _qs_combine(first, second) -> list:
    combined = list(first) if isinstance(first, list) else [first]
    combined.extend(second if isinstance(second, list) else [second])
    return combined


def _js_key_order(obj: dict) -> list:
    """``Object.keys`` order: array-index keys ascending first, then insertion order."""
    indexes = [key for key in obj if _is_array_index(key)]
    others = [key for key in obj if not _is_array_index(key)]
    return sorted(indexes, key=int) + others


def _is_array_index(key: str) -> bool:
    return key.isascii() and key.isdigit() and str(int(key)) == key and int(key) < 2**32 - 1


def _qs_parse_key(given_key: str, value):
    if not given_key:
        return None
    first = _QS_FIRST_BRACKET.search(given_key)
    parent = given_key[: first.start()] if first else given_key
    chain = []
    if parent:
        if parent in _OBJECT_PROTOTYPE_KEYS:
            return None
        chain.append(parent)
    segments = list(_QS_FIRST_BRACKET.finditer(given_key))
    for segment in segments[:_QS_DEPTH]:
        if segment.group()[1:-1] in _OBJECT_PROTOTYPE_KEYS:
            return None
        chain.append(segment.group())
    if len(segments) > _QS_DEPTH:  # deeper brackets stay one literal key
        chain.append("[" + given_key[segments[_QS_DEPTH].start() :] + "]")
    return _qs_parse_object(chain, value)


def _qs_parse_object(chain: list, value):
    leaf = value
    for root in reversed(chain):
        if root == "[]":
            leaf = _qs_combine([], leaf)
            continue
        clean = root[1:-1] if len(root) >= 2 and root[0] == "[" and root[-1] == "]" else root
        if root != clean and _is_array_index(clean) and int(clean) <= _QS_ARRAY_LIMIT:
            leaf = [_HOLE] * int(clean) + [leaf]
        elif clean != "__proto__":
            leaf = {clean: leaf}
        else:
            leaf = {}
    return leaf


def _qs_merge(target, source):
    """qs ``utils.merge`` for the shapes qs.parse produces."""
    if source is None or source == "":
        return target
    if not isinstance(source, (dict, list)):
        if isinstance(target, list):
            target.append(source)
        elif isinstance(target, dict):
            if source not in _OBJECT_PROTOTYPE_KEYS:
                target[source] = True
        else:
            return [target, source]
        return target
    if not isinstance(target, (dict, list)):
        return [target, *source] if isinstance(source, list) else [target, source]
    if isinstance(target, list) and isinstance(source, list):
        for index, item in enumerate(source):
            if item is _HOLE:
                continue
            if index < len(target) and target[index] is not _HOLE:
                if isinstance(target[index], (dict, list)) and isinstance(item, (dict, list)):
                    target[index] = _qs_merge(target[index], item)
                else:
                    target.append(item)
            else:
                target.extend([_HOLE] * (index + 1 - len(target)))
                target[index] = item
        return target
    merged = target if isinstance(target, dict) else _array_to_object(target)
    source_items = source.items() if isinstance(source, dict) else _array_items(source)
    for key, item in source_items:
        merged[key] = _qs_merge(merged[key], item) if key in merged else item
    return merged


def _array_items(array: list):
    return ((str(index), item) for index, item in enumerate(array) if item is not _HOLE)


def _array_to_object(array: list) -> dict:
    return dict(_array_items(array))


def _qs_compact(value):
    if isinstance(value, list):
        return [_qs_compact(item) for item in value if item is not _HOLE]
    if isinstance(value, dict):
        return {key: _qs_compact(item) for key, item in value.items()}
    return value
