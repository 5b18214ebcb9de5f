"""FluxOS-exact app specifications (v1-v8): canonical form, validation, the message to sign.

The pipeline every FluxOS register/update/verify path runs is
`specificationFormatter(spec)` then `verifyAppSpecifications(formatted, height, false)`;
`check_spec` is that pipeline, `format_spec` and `validate_spec` are its two halves. Errors are
`SpecError` whose text is FluxOS's verbatim (see `spec_errors`). Nothing here imports Django.

    formatted = check_spec(spec, height)                 # or raises SpecError
    message = message_to_sign("fluxappregister", formatted, timestamp_ms)
    # ... the owner signs `message`, then the panel submits spec + timestamp + signature.
"""

from __future__ import annotations

from typing import Any

from .app_messages import (
    MessageSignatureError,
    message_hash,
    message_to_sign,
    spec_json,
    verify_register_signature,
    verify_update_signature,
)
from .spec_errors import FORMATTER, VALIDATOR, SpecError
from .spec_format import format_spec
from .spec_validate import validate_spec

__all__ = [
    "FORMATTER",
    "VALIDATOR",
    "MessageSignatureError",
    "SpecError",
    "check_spec",
    "format_spec",
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
