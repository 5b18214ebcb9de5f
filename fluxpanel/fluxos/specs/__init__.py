"""FluxOS-exact app specifications (v1-v8): canonical form, validation, the message to sign.

The pipeline every FluxOS register/update/verify path runs is
`specificationFormatter(spec)` then `verifyAppSpecifications(formatted, height, false)`;
`check_spec` is that pipeline, `format_spec` and `validate_spec` are its two halves. Errors are
`SpecError` whose text is FluxOS's verbatim (see `errors`). Nothing here imports Django.

Modules: `format` (the formatter), `validate` (the validator's order of stages) over
`type_checks`, `restriction_checks`, `key_checks`, `hardware_checks`; `helpers` (FluxOS's
coercions and JS property reads), `errors`, `messages` (the signed register/update message).

    formatted = check_spec(spec, height)                 # or raises SpecError
    message = message_to_sign("fluxappregister", formatted, timestamp_ms)
    # ... the owner signs `message`, then the panel submits spec + timestamp + signature.
"""

from __future__ import annotations

from typing import Any

from .errors import FORMATTER, VALIDATOR, SpecError
from .format import format_spec
from .messages import (
    MessageSignatureError,
    is_expire_only_update,
    message_hash,
    message_to_sign,
    spec_json,
    verify_register_signature,
    verify_update_signature,
)
from .validate import validate_spec

__all__ = [
    "FORMATTER",
    "VALIDATOR",
    "MessageSignatureError",
    "SpecError",
    "check_spec",
    "format_spec",
    "is_expire_only_update",
    "message_hash",
    "message_to_sign",
    "spec_json",
    "validate_spec",
    "verify_register_signature",
    "verify_update_signature",
]


def check_spec(spec: Any, height: int, *, enterprise_owners: tuple[str, ...] | list[str] | None = None) -> dict:
    """Format then validate, as FluxOS does before accepting a spec; returns the formatted spec."""
    formatted = format_spec(spec)
    validate_spec(formatted, height, enterprise_owners=enterprise_owners)
    return formatted
