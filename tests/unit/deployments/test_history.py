"""history.py on plain data: validation of the sources' messages and the field-by-field diff."""
from __future__ import annotations

import pytest

from apps.deployments import history


def message(height, **spec):
    return {"type": "fluxappupdate", "version": 1, "hash": f"{height:064x}", "timestamp": 1_700_000_000_000 + height,
            "height": height, "appSpecifications": {"version": 8, "name": "web", **spec}}


def test_it_flattens_compose_components_by_name():
    flat = history.flatten_spec({"name": "web", "instances": 3,
                                 "compose": [{"name": "front", "cpu": 1, "ports": [80]}, {"name": "db", "ram": 500}]})
    assert flat == {"name": "web", "instances": "3", "compose[front].cpu": "1", "compose[front].ports": "[80]",
                    "compose[front].name": "front", "compose[db].name": "db", "compose[db].ram": "500"}


def test_it_diffs_consecutive_versions_field_by_field():
    old = {"name": "web", "instances": 3, "compose": [{"name": "web", "cpu": 1, "hdd": 5}, {"name": "old", "cpu": 1}]}
    new = {"name": "web", "instances": 5, "compose": [{"name": "web", "cpu": 2, "hdd": 5, "ram": 300}]}
    assert history.diff_specs(old, new) == [
        "instances: 3 → 5", "compose[web].cpu: 1 → 2", "compose[web].ram: (none) → 300",
        "compose[old].name: old → (none)", "compose[old].cpu: 1 → (none)",
    ]
    assert history.diff_specs(new, new) == []


def test_it_sorts_by_height_and_diffs_each_version_against_the_one_before():
    answer = [message(300, instances=5), message(100, instances=3), message(200, instances=4)]
    messages, skipped = history.validate_messages(answer, "web")
    assert skipped == 0 and [m["height"] for m in messages] == [100, 200, 300]
    versions = history.versions_with_diffs(messages)
    assert [v["height"] for v in versions] == [300, 200, 100]  # newest first
    assert versions[0]["diff"] == [{"path": "instances", "old": "4", "new": "5"}]
    assert versions[-1]["first"] and versions[-1]["diff"] == []
    assert versions[0]["timestamp"].year == 2023


@pytest.mark.parametrize("bad", [
    "garbage", {"height": 1}, [1, 2], None,
])
def test_it_refuses_or_skips_what_is_not_a_message(bad):
    if not isinstance(bad, list):
        with pytest.raises(ValueError, match="not a FluxOS answer"):
            history.validate_messages(bad, "web")
    else:
        assert history.validate_messages(bad, "web") == ([], 2)


def test_it_skips_messages_with_bad_heights_specs_or_another_apps_name():
    answer = [message(10), {**message(11), "height": 10**20}, {**message(12), "height": True},
              {**message(13), "height": "13"}, {**message(14), "appSpecifications": "x"},
              {**message(15), "appSpecifications": {"name": "other"}}, {**message(16), "timestamp": "soon"}]
    messages, skipped = history.validate_messages(answer, "WEB")
    assert [m["height"] for m in messages] == [10, 16] and skipped == 5
    assert messages[1]["timestamp"] is None


def test_it_cuts_long_values():
    flat = history.flatten_spec({"description": "x" * 1000})
    assert len(flat["description"]) == history.VALUE_CHARS
