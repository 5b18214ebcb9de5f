"""App spec formatting and validation against the FluxOS oracle (../shared/vectors/specs.json)."""

import math

import pytest

from fluxpanel.fluxos.jsjson import (
    UNDEFINED,
    js_number_to_string,
    json_parse,
    json_stringify,
    to_number,
)
from fluxpanel.fluxos.specs import SpecError, check_spec, format_spec, spec_json, validate_spec
from tests.unit.fluxos.spec_cases import v8_spec, verdict
from tests.vectors import case_ids, load

CASES = load("specs")
FORMATTED_CASES = [case for case in CASES if case.get("formatted") is not None]
VERIFY_ONLY_CASES = [case for case in CASES if case.get("expected_verify_only") is not None]


@pytest.mark.parametrize("case", CASES, ids=case_ids(CASES))
def test_it_formatter_then_validator_matches_fluxos(case):
    message, stage = verdict(lambda: check_spec(case["spec"], case["height"]))
    assert message == case["expected"]
    assert stage == case["expected_stage"]


@pytest.mark.parametrize("case", FORMATTED_CASES, ids=case_ids(FORMATTED_CASES))
def test_it_formatter_output_and_its_json(case):
    formatted = format_spec(case["spec"])
    assert spec_json(formatted) == case["formatted_json"]
    # NaN from Number() coercion is kept as NaN (the validator needs it) but serialises as null.
    assert json_parse(spec_json(formatted)) == case["formatted"]


@pytest.mark.parametrize("case", VERIFY_ONLY_CASES, ids=case_ids(VERIFY_ONLY_CASES))
def test_it_validator_on_raw_spec(case):
    message, _stage = verdict(lambda: validate_spec(case["spec"], case["height"]))
    assert message == case["expected_verify_only"]


def test_it_check_spec_returns_the_formatted_spec():
    case = next(c for c in CASES if c["id"] == "v8_instances_string")
    formatted = check_spec(case["spec"], case["height"])
    assert formatted["instances"] == 5
    assert list(formatted) == list(case["formatted"])


def test_it_formatting_is_idempotent_for_every_formattable_vector():
    for case in FORMATTED_CASES:
        once = format_spec(case["spec"])
        assert spec_json(format_spec(once)) == spec_json(once), case["id"]


def test_it_error_names_the_field_for_the_ui():
    base = next(c for c in CASES if c["id"] == "v8_valid_three_components")["spec"]
    spec = {**base, "compose": [dict(base["compose"][0]), {**base["compose"][1], "ports": [22]}]}
    with pytest.raises(SpecError) as raised:
        check_spec(spec, 2_200_000)
    assert str(raised.value) == "Assigned port 22 is not allowed for Flux Apps"
    assert raised.value.field == "compose[1].ports"

    with pytest.raises(SpecError) as raised:
        check_spec({**base, "instances": 101}, 2_200_000)
    assert raised.value.field == "instances"
    assert str(raised.value) == "Maximum number of instances is 100"


def _component(**changes):
    component = dict(v8_spec()["compose"][0])
    component.update(changes)
    return component


@pytest.mark.parametrize(
    ("spec", "height", "expected"),
    [
        # v8 may run one instance only once the chain passed minimumInstancesV8Block.
        (v8_spec(instances=1), 2_100_000, "Minimum number of instances is 3"),
        (v8_spec(name="watchtower"), 2_200_000, "Flux App name is conflicting with another application"),
        (v8_spec(name="WatchTower"), 2_200_000, "Flux App name is conflicting with another application"),
        (v8_spec(compose=[_component(name="a-b")]), 2_200_000,
         "Flux App component name contains special characters. Only a-z, A-Z and 0-9 are allowed"),
        (v8_spec(compose=[_component(repotag=None)]), 2_200_000, "valid"),  # ensureString(null) is "null"
        (v8_spec(compose=[{k: v for k, v in _component().items() if k != "repotag"}]), 2_200_000,
         "Cannot read properties of undefined (reading 'length')"),
        (v8_spec(compose=[None]), 2_200_000, "Cannot read properties of null (reading 'name')"),
        (v8_spec(compose='[{"name": "web", "ports": [], "domains": []}]'), 2_200_000,
         "Environmental parameters for Flux App component web are invalid"),  # compose given as JSON text
        (v8_spec(compose=[_component(containerPorts=["80"])]), 2_200_000,
         "Container Ports for Flux App component web are invalid"),  # v4+ containerPorts are not coerced
        (v8_spec(expire=1_056_001), 2_200_000, "Maximum expiration of application is 1056000 blocks ~ 1 year"),
        (v8_spec(expire=-5), 2_200_000, "Minimum expiration of application is 1 blocks"),
        (v8_spec(contacts="nope"), 2_200_000, "Contacts for Flux App are invalid"),
        (v8_spec(geolocation=["x" * 51]), 2_200_000, f"Geolocation {'x' * 51} is not valid."),
        (v8_spec(compose=[_component(cpu=15.1)]), 2_200_000, "Too much CPU resources assigned for oracleapp"),
        (v8_spec(compose=[_component(hdd=821)]), 2_200_000, "Too much SSD resources assigned for oracleapp"),
        (v8_spec(compose=[_component(domains=["d" * 254])]), 2_200_000,
         f"App component web domain {'d' * 254} is too long. Maximum of 253 characters is allowed"),
        (v8_spec(compose=[_component(ports=[36001, 36002], containerPorts=[80], domains=["", ""])]), 2_200_000,
         "Ports specifications in web do not match"),
        (v8_spec(description="🚀" * 128 + "x"), 2_200_000, "Description is too long. Maximum of 256 characters is allowed"),
        (v8_spec(staticip="yes"), 2_200_000, "Invalid staticip specification. Only boolean as true or false allowed."),
        (v8_spec(version="8"), 2_200_000, "valid"),
        (v8_spec(version="eight"), 2_200_000, "Missing Flux App specification parameter version"),
        (v8_spec(enterprise="ENCRYPTEDBLOB", nodes=["a" * 64 + ":0"]), 2_200_000, "valid"),
    ],
)
def test_it_more_rules(spec, height, expected):
    message, _stage = verdict(lambda: check_spec(spec, height))
    assert message == expected


def test_it_legacy_versions_use_their_own_limits():
    v3 = dict(next(c for c in CASES if c["id"] == "v3_valid")["spec"])
    assert verdict(lambda: check_spec({**v3, "ports": ["30000"]}, 1_000_000))[0] == (
        "Assigned port 30000 is not within Flux Apps range 31000-39999"
    )
    assert verdict(lambda: check_spec({**v3, "instances": 2}, 2_200_000))[0] == "Minimum number of instances is 3"
    assert verdict(lambda: check_spec({**v3, "foo": 1}, 2_200_000))[0] == "valid"  # formatter drops it
    assert verdict(lambda: validate_spec({**v3, "foo": 1}, 2_200_000))[0] == (
        "Unsupported parameter for v3 app specifications"
    )
    assert verdict(lambda: check_spec(v3, 900_000))[0] == "Flux apps specifications of version 3 not yet supported"


def test_it_validator_refuses_non_objects():
    for value in (None, [], "spec", 5):
        assert verdict(lambda value=value: validate_spec(value, 2_200_000))[0] == "Invalid Flux App Specifications"
    assert verdict(lambda: check_spec(None, 2_200_000))[0] == (
        "Cannot destructure property 'version' of 'appSpecification' as it is null."
    )


# --- the JavaScript semantics the port depends on ------------------------------------------------


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (1.0, "1"), (0.1, "0.1"), (1e-7, "1e-7"), (1.5e-7, "1.5e-7"), (123e-20, "1.23e-18"), (1e21, "1e+21"),
        (1e20, "100000000000000000000"), (12345678901234567890, "12345678901234567000"), (-0.0, "0"),
        (0.000001, "0.000001"), (2**53 + 2, "9007199254740994"), (math.inf, "Infinity"), (math.nan, "NaN"),
        (0.1 + 0.2, "0.30000000000000004"), (-1.5, "-1.5"), (36001.0, "36001"),
    ],
)
def test_it_number_to_string_is_javascripts(value, text):
    assert js_number_to_string(value) == text


@pytest.mark.parametrize(
    ("value", "number"),
    [
        ("5", 5), (" 5\n", 5), ("", 0), ("0x1f", 31), ("0b11", 3), ("0o17", 15), (".5", 0.5), ("5.", 5),
        ("1e3", 1000), ("-Infinity", -math.inf), (None, 0), (True, 1), ([7], 7), (["7"], 7), ([], 0),
    ],
)
def test_it_number_coercion_is_javascripts(value, number):
    assert to_number(value) == number


@pytest.mark.parametrize("value", ["abc", "1_000", "-0x10", "1e", "infinity", "nan", [1, 2], {}, UNDEFINED])
def test_it_number_coercion_nan(value):
    assert math.isnan(to_number(value))


def test_it_json_stringify_is_javascripts():
    assert json_stringify({"b": 1, "2": 2, "a": [1.0, None, math.nan, "é/<&>\u2028"], "u": UNDEFINED, "1": True}) == (
        '{"1":true,"2":2,"b":1,"a":[1,null,null,"é/<&>\u2028"]}'
    )
    assert json_stringify("\ud83d") == '"\\ud83d"'
    assert json_stringify("\x00\x1f\t\"\\") == '"\\u0000\\u001f\\t\\"\\\\"'
    assert json_stringify(UNDEFINED) is UNDEFINED
