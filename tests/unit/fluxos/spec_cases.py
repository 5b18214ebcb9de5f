"""What the spec tests share: a valid v8 spec from the vectors to vary, and a verdict of one check."""
from fluxpanel.fluxos.specs import SpecError
from tests.vectors import load


def v8_spec(**changes) -> dict:
    """FluxOS's own valid single-component v8 spec (vectors), with `changes` applied."""
    spec = dict(next(c for c in load("specs") if c["id"] == "v8_valid_single_component")["spec"])
    spec.update(changes)
    return spec


def verdict(call):
    """("valid", None), or the SpecError's text and stage: what the vectors record."""
    try:
        call()
    except SpecError as error:
        return str(error), error.stage
    return "valid", None
