"""The one exception the spec code raises, carrying FluxOS's exact error text."""

from __future__ import annotations

FORMATTER = "specificationFormatter"
VALIDATOR = "verifyAppSpecifications"


class SpecError(ValueError):
    """A spec FluxOS would refuse.

    `str(error)` is FluxOS's `Error.message` verbatim, typos included ("in in", "whished",
    "accross", "selecteed", "submited"), and includes the messages of the JavaScript TypeErrors
    FluxOS itself would hit (e.g. "Cannot read properties of undefined (reading 'length')").
    `field` names the offending field path for the UI ("name", "instances", "compose[0].ports",
    "compose[1].cpu", ...) or is None when the message is not about one field. `stage` is the FluxOS
    function that produced it: "specificationFormatter" or "verifyAppSpecifications".
    """

    def __init__(self, message: str, field: str | None = None, stage: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        self.stage = stage

    def __str__(self) -> str:
        return self.message


def formatter_error(message: str, field: str | None = None) -> SpecError:
    """An error `specificationFormatter` throws."""
    return SpecError(message, field=field, stage=FORMATTER)


def validator_error(message: str, field: str | None = None) -> SpecError:
    """An error `verifyAppSpecifications` throws."""
    return SpecError(message, field=field, stage=VALIDATOR)
