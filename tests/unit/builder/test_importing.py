"""Import of pasted JSON of every spec version (v1–v8), upgraded to v8 as FluxOS's
updateToLatestAppSpecifications maps it (its caveats fixed); refusals keep the paste."""
import json

import pytest
from django.urls import reverse

from apps.accounts.models import AuditEntry, Membership
from apps.builder.actions import DraftRefused, import_draft
from apps.builder.importing import ImportRefused, import_spec, parse_paste, upgrade_to_v8
from apps.builder.models import AppDraft
from fluxpanel.fluxos import pricing
from fluxpanel.fluxos.specs import check_spec
from tests.vectors import load

VECTORS = load("specs")
# One valid vector of every version, the richest first (two components for v4, tiers for v7).
PICKED = ["v1_valid", "v2_valid", "v3_valid", "v4_valid_two_components", "v5_valid", "v6_valid",
          "v7_valid_tiered_component", "v8_valid_three_components"]
BY_ID = {v["id"]: v for v in VECTORS}


@pytest.mark.parametrize("vector_id", PICKED)
def test_it_upgrades_every_version_to_a_valid_v8_spec(vector_id):
    vector = BY_ID[vector_id]
    original, height = vector["spec"], vector["height"]
    spec, version = import_spec(json.dumps(original), height)
    assert version == original["version"]
    assert spec["version"] == 8 and spec == check_spec(spec, height)  # canonical and valid
    assert spec["name"] == original["name"] and spec["owner"] == original["owner"]  # owner kept (v4–v7 too)
    assert "istances" not in spec and "hash" not in spec and "height" not in spec
    assert spec["instances"] == original.get("instances", 3)
    month = pricing.default_expire(height)
    assert spec["expire"] == (original["expire"] if original["version"] >= 6 else month)
    assert spec["enterprise"] == "" and spec["nodes"] == []
    if original["version"] <= 3:
        [component] = spec["compose"]
        assert component["name"] == original["name"]
        assert component["environmentParameters"] == original["enviromentParameters"]
        assert all(isinstance(p, int) for p in component["ports"] + component["containerPorts"])
        assert len(component["domains"]) == len(component["ports"]) == len(component["containerPorts"])
        expected_ports = [original["port"]] if original["version"] == 1 else [int(p) for p in original["ports"]]
        assert component["ports"] == expected_ports
    else:
        assert [c["name"] for c in spec["compose"]] == [c["name"] for c in original["compose"]]
        assert all("tiered" not in c and "secrets" not in c and "cpubasic" not in c for c in spec["compose"])
        assert [c["cpu"] for c in spec["compose"]] == [c["cpu"] for c in original["compose"]]
    if original["version"] >= 5:
        assert spec["contacts"] == original["contacts"]


def test_it_reads_fluxos_answer_and_message_wrappers():
    spec = BY_ID["v6_valid"]["spec"]
    assert parse_paste(json.dumps({"status": "success", "data": spec})) == spec
    assert parse_paste(json.dumps({"type": "fluxappregister", "appSpecification": spec})) == spec


@pytest.mark.parametrize("text,reason", [
    ("", "Paste an app specification"),
    ("{not json", "This is not JSON"),
    ("[1, 2]", "is a JSON object"),
    ('{"version": 9, "name": "x"}', "Unknown specification version 9"),
    ('{"name": "x"}', "Unknown specification version None"),
    ("[" * 50 + "]" * 50, "nested too deeply"),
])
def test_it_refuses_what_is_not_a_spec(text, reason):
    with pytest.raises(ImportRefused, match=reason):
        import_spec(text, 2_200_000)


@pytest.mark.parametrize("vector_id", ["v1_banned_port", "v3_duplicate_ports", "v7_instances_1"])
def test_it_refuses_with_fluxos_text(vector_id):
    vector = BY_ID[vector_id]
    with pytest.raises(ImportRefused) as error:
        import_spec(json.dumps(vector["spec"]), vector["height"])
    assert vector["expected"] in str(error.value) and f"v{vector['version']}" in str(error.value)


def test_it_refuses_what_only_the_upgrade_breaks():
    # A v7 private repository needs `nodes`; v8 has no such rule but wants repoauth '' unless enterprise.
    vector = BY_ID["v7_valid_single_component"]
    spec = json.loads(json.dumps(vector["spec"]))
    spec["nodes"] = ["a" * 64 + ":0"]
    spec["compose"][0]["repoauth"] = "user:secret"
    check_spec(spec, vector["height"])  # valid as v7
    with pytest.raises(ImportRefused, match="After the upgrade to v8"):
        import_spec(json.dumps(spec), vector["height"])


def test_it_keeps_a_v8_spec_as_it_is():
    spec = BY_ID["v8_valid_single_component"]["spec"]
    assert upgrade_to_v8({**spec, "hash": "ab", "height": 5}, 2_200_000) == spec


def test_it_imports_from_the_drafts_page_and_keeps_a_refused_paste(personas, client_as):
    client = client_as("operator")
    bad = json.dumps(BY_ID["v3_duplicate_ports"]["spec"])
    response = client.post(reverse("builder:import"), {"spec": bad})
    text = response.content.decode()
    assert response.status_code == 200 and not AppDraft.objects.exists()
    assert "Flux App oracleapp must have unique ports specified" in text
    assert "&quot;enviromentParameters&quot;" in text  # the paste is back in the form
    good = json.dumps(BY_ID["v2_valid"]["spec"])
    response = client.post(reverse("builder:import"), {"spec": good})
    draft = AppDraft.objects.get(team=personas.team)
    assert response.status_code == 302 and response["Location"] == reverse("builder:draft", args=[draft.pk])
    assert draft.spec["version"] == 8 and draft.kind == AppDraft.Kind.NEW and draft.name == "oracleapp"
    entry = AuditEntry.objects.get(action="builder.draft_create", target_id=str(draft.pk))
    assert entry.detail["origin"] == "import of a v2 spec"


def test_it_import_action_needs_an_operator(personas):
    from django.core.exceptions import PermissionDenied

    viewer = Membership.objects.get(user=personas.viewer, team=personas.team)
    with pytest.raises(PermissionDenied):
        import_draft(membership=viewer, text=json.dumps(BY_ID["v2_valid"]["spec"]))
    operator = Membership.objects.get(user=personas.operator, team=personas.team)
    with pytest.raises(DraftRefused):
        import_draft(membership=operator, text="nope")
    assert not AppDraft.objects.exists()
