"""fluxpanel.params: ids and numbers from URLs and forms never become server errors."""
from __future__ import annotations

import pytest
from django.urls import resolve
from django.urls.exceptions import Resolver404

from fluxpanel.params import MAX_ID, IdConverter, parse_id, parse_int


@pytest.mark.parametrize("text", ["", " ", "0", "-1", "²", "١٢", "1.5", "1e3", "abc", str(MAX_ID + 1),
                                  "9" * 40, None, True, [], "0x10"])
def test_it_refuses_what_is_not_a_database_id(text):
    assert parse_id(text) is None


@pytest.mark.parametrize(("text", "value"), [("1", 1), (" 42 ", 42), (str(MAX_ID), MAX_ID), (7, 7)])
def test_it_reads_database_ids(text, value):
    assert parse_id(text) == value


def test_it_bounds_integers():
    assert parse_int("-5", minimum=-10, maximum=10) == -5
    assert parse_int("11", minimum=-10, maximum=10) is None
    assert parse_int("²", minimum=0, maximum=10) is None
    assert parse_int("1" * 400, minimum=0, maximum=10) is None


def test_it_answers_404_for_a_huge_id_in_a_url():
    with pytest.raises(ValueError):
        IdConverter().to_python("99999999999999999999")
    with pytest.raises(Resolver404):
        resolve("/jobs/99999999999999999999999/")


def _patterns(resolver, prefix=""):
    for entry in resolver.url_patterns:
        if hasattr(entry, "url_patterns"):
            yield from _patterns(entry, prefix + str(entry.pattern))
        else:
            yield prefix + str(entry.pattern), entry


def test_it_uses_the_bounded_converter_for_every_id_in_the_panels_urls():
    """`<int:…>` accepts 10**30, which overflows the database: every panel URL uses `<id:…>`."""
    from django.urls import get_resolver
    from django.urls.converters import IntConverter

    unbounded = [route for route, entry in _patterns(get_resolver())
                 if not route.startswith("admin/")
                 and any(isinstance(c, IntConverter) for c in entry.pattern.converters.values())]
    assert unbounded == []
