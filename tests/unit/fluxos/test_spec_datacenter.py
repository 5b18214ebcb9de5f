"""The v8 `datacenter` flag, as FluxOS formats and verifies it (RunOnFlux/flux 845aa9b).

Two FluxOS functions decide, and they disagree on purpose:

* `appUtilities.specificationFormatter` only does `if (datacenter !== undefined)
  appSpecFormatted.datacenter = serviceHelper.ensureBoolean(datacenter)`: "true"/1/"1" become true,
  "false"/0/"0" false, anything else becomes undefined (dropped by JSON.stringify), never an error;
* `appValidator.verifyTypeCorrectnessOfApp` (the validator's *first* stage) refuses any present
  non-boolean with "Invalid datacenter value obtained. Only undefined, true, or false allowed." and
  refuses `datacenter === true` unless the owner is in `enterpriseConfig.getEnterpriseAppOwners()`.

So the full pipeline (format then verify) accepts what verify-only refuses.
"""

import pytest

from fluxpanel.fluxos import fluxconfig
from fluxpanel.fluxos.specs import (
    FORMATTER,
    VALIDATOR,
    check_spec,
    format_spec,
    spec_json,
    validate_spec,
)
from tests.unit.fluxos.spec_cases import v8_spec, verdict

HEIGHT = 2_200_000
NOT_ENTERPRISE = "1P3L2Fgx2M4Mp54chgrLZM5eAUPXhLTbnd"
INVALID_TYPE = "Invalid datacenter value obtained. Only undefined, true, or false allowed."
OWNER_ONLY = "Datacenter requirement is only available for enterprise app owners."


# --- specificationFormatter: ensureBoolean and nothing else --------------------------------------


@pytest.mark.parametrize(
    ("given", "formatted"),
    [("true", True), ("1", True), (1, True), (1.0, True), ("false", False), ("0", False), (0, False)],
)
def test_it_formats_what_ensure_boolean_knows_into_a_boolean(given, formatted):
    # specificationFormatter: appSpecFormatted.datacenter = serviceHelper.ensureBoolean(datacenter)
    spec = format_spec(v8_spec(owner=fluxconfig.ENTERPRISE_APP_OWNERS[0], datacenter=given))
    assert spec["datacenter"] is formatted
    assert f'"staticip":false,"datacenter":{str(formatted).lower()},"enterprise":""' in spec_json(spec)


@pytest.mark.parametrize("given", [None, "yes", "TRUE", "", 2, -1, 0.5, {}, {"a": 1}, [], [True]])
def test_it_drops_any_other_value_without_an_error(given):
    # specificationFormatter: ensureBoolean returns undefined, so JSON.stringify leaves the key out.
    spec = format_spec(v8_spec(datacenter=given))
    assert "datacenter" not in spec
    assert '"datacenter"' not in spec_json(spec)
    assert spec_json(spec) == spec_json(format_spec(v8_spec()))  # the same signed message as no flag


def test_it_leaves_an_absent_flag_absent():
    # specificationFormatter: `if (datacenter !== undefined)` - nothing is written when it is absent.
    assert "datacenter" not in format_spec(v8_spec())


# --- format then verify (every FluxOS register/update/verify path) -------------------------------


@pytest.mark.parametrize("given", [None, "yes", 2, {}, [], "", False, "false", 0, "0"])
def test_it_accepts_in_the_pipeline_what_formats_to_false_or_nothing(given):
    assert verdict(lambda: check_spec(v8_spec(datacenter=given), HEIGHT)) == ("valid", None)


@pytest.mark.parametrize("given", [True, "true", "1", 1])
def test_it_refuses_true_in_the_pipeline_for_an_ordinary_owner(given):
    # verifyTypeCorrectnessOfApp: datacenter === true and owner not in getEnterpriseAppOwners().
    assert verdict(lambda: check_spec(v8_spec(datacenter=given), HEIGHT)) == (OWNER_ONLY, VALIDATOR)


@pytest.mark.parametrize("owner", fluxconfig.ENTERPRISE_APP_OWNERS)
@pytest.mark.parametrize("given", [True, "true", "1", 1])
def test_it_accepts_true_in_the_pipeline_for_every_enterprise_owner(owner, given):
    formatted = check_spec(v8_spec(owner=owner, datacenter=given), HEIGHT)
    assert formatted["datacenter"] is True


# --- verifyAppSpecifications alone, on the raw spec ----------------------------------------------


@pytest.mark.parametrize("given", ["true", "false", "1", "0", 1, 0, None, {}, [], "", 2])
def test_it_refuses_any_present_non_boolean_when_verifying_only(given):
    # verifyTypeCorrectnessOfApp: datacenter !== undefined && typeof datacenter !== 'boolean'
    assert verdict(lambda: validate_spec(v8_spec(datacenter=given), HEIGHT)) == (INVALID_TYPE, VALIDATOR)


def test_it_accepts_false_and_enterprise_true_when_verifying_only():
    assert verdict(lambda: validate_spec(v8_spec(datacenter=False), HEIGHT))[0] == "valid"
    owner = fluxconfig.ENTERPRISE_APP_OWNERS[-1]
    assert verdict(lambda: validate_spec(v8_spec(owner=owner, datacenter=True), HEIGHT))[0] == "valid"
    assert verdict(lambda: validate_spec(v8_spec(datacenter=True), HEIGHT))[0] == OWNER_ONLY


def test_it_checks_the_owner_among_the_type_checks_before_any_restriction():
    # verifyTypeCorrectnessOfApp runs the owner rule; verifyRestrictionCorrectnessOfApp (name
    # length, ports, ...) only runs after it, so the datacenter error wins over a bad name.
    spec = v8_spec(name="x" * 64, datacenter=True)
    assert verdict(lambda: validate_spec(spec, HEIGHT))[0] == OWNER_ONLY
    assert verdict(lambda: check_spec(spec, HEIGHT))[0] == OWNER_ONLY
    spec = v8_spec(compose=[{**v8_spec()["compose"][0], "ports": [22]}], datacenter="yes")
    assert verdict(lambda: validate_spec(spec, HEIGHT))[0] == INVALID_TYPE
    assert verdict(lambda: check_spec(spec, HEIGHT))[0] == "Assigned port 22 is not allowed for Flux Apps"


def test_it_ignores_the_flag_before_v8_except_as_an_unknown_key():
    v7 = {**v8_spec(version=7), "compose": [{**v8_spec()["compose"][0], "tiered": False, "secrets": ""}]}
    v7.pop("enterprise")
    assert verdict(lambda: check_spec({**v7, "datacenter": "yes"}, HEIGHT))[0] == "valid"  # formatter drops it
    assert verdict(lambda: validate_spec({**v7, "datacenter": True}, HEIGHT))[0] == (
        "Unsupported parameter for v7 app specifications"
    )


def test_it_takes_a_fresher_owner_list():
    assert verdict(lambda: check_spec(v8_spec(datacenter=True), HEIGHT, enterprise_owners=[NOT_ENTERPRISE]))[0] == "valid"
    owner = fluxconfig.ENTERPRISE_APP_OWNERS[0]
    assert verdict(lambda: check_spec(v8_spec(owner=owner, datacenter=True), HEIGHT, enterprise_owners=()))[0] == (
        OWNER_ONLY
    )


# --- enterpriseConfig.getEnterpriseAppOwners -----------------------------------------------------


def test_it_derives_the_owners_from_every_enterprise_node():
    # helpers/enterprisenodes.json at 845aa9b lists three owners under two nodes.
    assert set(fluxconfig.ENTERPRISE_APP_OWNERS) == {
        "15ULw4JU6wqGESRYU3z3MjFETqLN3sA9Gn",
        "16FPpesA783sYXXSUf9grXKaj3KN3EeLK3",
        "1GM41a9A4rH8CCkCyzDRahHUccuTRLhoDe",
    }


def test_it_unions_and_deduplicates_a_node_owner_map():
    owners = fluxconfig.enterprise_app_owners({"node1": ["a", "b"], "node2": ["b", "c"], "node3": []})
    assert owners == ("a", "b", "c")


@pytest.mark.parametrize("bad", [[], "x", {"node": "a"}, {"node": ["a", 5]}, {"node": None}])
def test_it_refuses_a_malformed_node_owner_map_wholesale(bad):
    # enterpriseConfig.isValidNodeOwnerMap: FluxOS keeps its previous map instead.
    with pytest.raises(ValueError):
        fluxconfig.enterprise_app_owners(bad)


def test_it_names_the_formatter_stage_nowhere_for_datacenter():
    for given in (None, "yes", 2, {}, [], "true", 1):
        message, stage = verdict(lambda given=given: check_spec(v8_spec(datacenter=given), HEIGHT))
        assert stage != FORMATTER, (given, message)
