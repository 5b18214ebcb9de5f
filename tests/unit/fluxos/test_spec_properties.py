"""Property tests: whatever a client submits, the spec code answers with SpecError or a spec."""

import copy
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fluxpanel.fluxos.pricing import (
    app_price_per_month,
    fiat_and_flux_price,
    flux_onchain_price_text,
)
from fluxpanel.fluxos.specs import (
    SpecError,
    check_spec,
    format_spec,
    message_to_sign,
    spec_json,
    validate_spec,
)
from tests.vectors import load

SPECS = [case["spec"] for case in load("specs")]
VALID_SPECS = [case["spec"] for case in load("specs") if case["expected"] == "valid"]
HEIGHTS = st.sampled_from([0, 1_000_000, 1_400_000, 1_600_000, 1_700_000, 1_950_000, 2_100_000, 2_200_000])
KEYS = st.sampled_from([
    "version", "name", "description", "owner", "compose", "instances", "contacts", "geolocation", "expire", "nodes",
    "staticip", "enterprise", "datacenter", "repotag", "port", "ports", "containerPort", "containerPorts", "domains",
    "enviromentParameters", "environmentParameters", "commands", "containerData", "cpu", "ram", "hdd", "tiered",
    "cpubasic", "cpusuper", "cpubamf", "rambasic", "ramsuper", "rambamf", "hddbasic", "hddsuper", "hddbamf",
    "repoauth", "secrets", "length", "0", "foo",
])
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.sampled_from(["", "0", "1", "true", "false", "8", "abc", "[]", "{}", '["a"]', "[1,2]", "null", "0x10", " 5 "])
    | st.text(max_size=20)
)
JSONISH = st.recursive(
    SCALARS,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8) | KEYS, children, max_size=4),
    max_leaves=12,
)


def _outcome(call):
    try:
        return call()
    except SpecError as error:
        assert str(error)
        return error


@st.composite
def mutated_specs(draw):
    spec = copy.deepcopy(draw(st.sampled_from(SPECS)))
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        target = spec
        components = spec.get("compose")
        if isinstance(components, list) and components and draw(st.booleans()):
            index = draw(st.integers(min_value=0, max_value=len(components) - 1))
            if not isinstance(components[index], dict) or draw(st.integers(0, 9)) == 0:
                components[index] = draw(JSONISH)
                continue
            target = components[index]
        action = draw(st.sampled_from(["set", "delete", "stringify"]))
        key = draw(KEYS)
        if action == "set":
            target[key] = draw(JSONISH)
        elif action == "delete":
            target.pop(key, None)
        elif key in target:
            target[key] = json.dumps(target[key])  # FluxOS accepts arrays given as JSON text
    return spec


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spec=mutated_specs(), height=HEIGHTS)
def test_it_mutated_specs_never_crash(spec, height):
    result = _outcome(lambda: check_spec(spec, height))
    _outcome(lambda: validate_spec(spec, height))
    if isinstance(result, dict):
        text = spec_json(result)
        assert spec_json(format_spec(result)) == text  # formatting is idempotent
        assert message_to_sign("fluxappregister", result, 1767225600000).endswith("1767225600000")


@settings(max_examples=300, deadline=None)
@given(spec=st.dictionaries(KEYS | st.text(max_size=6), JSONISH, max_size=8), height=HEIGHTS)
def test_it_random_dicts_never_crash(spec, height):
    _outcome(lambda: check_spec(spec, height))
    _outcome(lambda: validate_spec(spec, height))


@settings(max_examples=150, deadline=None)
@given(
    spec=st.sampled_from(VALID_SPECS),
    instances=st.integers(min_value=1, max_value=100),
    expire=st.integers(min_value=1, max_value=1_056_000),
    height=st.sampled_from([1_950_000, 2_200_000]),
)
def test_it_prices_of_valid_specs_are_computable(spec, instances, expire, height):
    spec = dict(spec)
    if spec["version"] >= 3:
        spec["instances"] = max(instances, 3 if spec["version"] < 8 else 1)
    if spec["version"] >= 6:
        spec["expire"] = expire
    monthly = app_price_per_month(spec, height)
    assert float(monthly) > 0
    chain = flux_onchain_price_text(spec, height)
    assert float(chain) >= 0.01 and chain == f"{float(chain):.2f}"
    priced = fiat_and_flux_price(spec, height, 0.5)
    assert set(priced) == {"usd", "flux", "fluxDiscount"} or "error" in priced
