"""Image reference parsing against the FluxOS oracle (../shared/vectors/repotags.json)."""

import pytest

from fluxpanel.fluxos.repotag import parse_repotag
from tests.vectors import load

CASES = load("repotags")
FIELDS = ("parse_ok", "error", "provider", "namespace", "repository", "tag", "ambiguous", "useable")


@pytest.mark.parametrize("case", CASES, ids=[case["repotag"][:60] for case in CASES])
def test_it_parse_repotag(case):
    expected = {key: case[key] for key in FIELDS if key in case}
    assert parse_repotag(case["repotag"]).as_dict() == expected


def test_it_parsed_fields_are_attributes_too():
    parsed = parse_repotag("ghcr.io/org/sub/image:1.0")
    assert (parsed.provider, parsed.namespace, parsed.repository, parsed.tag) == ("ghcr.io", "org/sub", "image", "1.0")
    assert parsed.useable and not parsed.ambiguous


@pytest.mark.parametrize(
    ("repotag", "error"),
    [
        (None, "Invalid Docker Image Tag"),
        ("nginx:\u00a0latest", 'Image tag: "nginx:\u00a0latest" should not contain space characters.'),
        ("nginx:\tlatest", 'Image tag: "nginx:\tlatest" should not contain space characters.'),
    ],
)
def test_it_parse_errors(repotag, error):
    parsed = parse_repotag(repotag)
    assert not parsed.parse_ok and parsed.error == error


def test_it_registry_without_tag_is_ambiguous_with_an_empty_tag():
    parsed = parse_repotag("ghcr.io/org/image")
    assert parsed.as_dict() == {
        "parse_ok": True, "provider": "ghcr.io", "namespace": "org", "repository": "image", "tag": "",
        "ambiguous": True, "useable": False,
    }
