"""Pure parts of the FluxOS client: numbers from untrusted nodes, log-follow bookkeeping, addresses."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fluxpanel.fluxos.client import BadResponse, LogFollower, parse_node_address, whole_number
from fluxpanel.fluxos.client.logs import millisecond_of


@pytest.mark.parametrize("value", [1e20, float("inf"), float("nan"), "abc", "²", -1, True, 2**63,
                                   "1" * 30, 1.5, None, [], {}])
def test_it_refuses_garbage_numbers(value):
    with pytest.raises(BadResponse):
        whole_number(value, url="u", what="height", maximum=2**31 - 1)


@pytest.mark.parametrize(("value", "expected"), [(0, 0), (1_234_567, 1_234_567), ("42", 42), (7.0, 7)])
def test_it_accepts_whole_numbers(value, expected):
    assert whole_number(value, url="u", what="height", maximum=2**31 - 1) == expected


@given(st.one_of(st.integers(), st.floats(), st.text(), st.booleans(), st.none()))
def test_it_never_raises_anything_but_bad_response(value):
    try:
        result = whole_number(value, url="u", what="n", maximum=2**63 - 1)
    except BadResponse:
        return
    assert isinstance(result, int) and 0 <= result <= 2**63 - 1


def test_it_cuts_timestamps_to_the_millisecond_like_fluxos():
    assert millisecond_of("2026-01-01T00:00:00.123456789Z") == "2026-01-01T00:00:00.123"
    assert millisecond_of("2026-01-01T00:00:00.1Z") == "2026-01-01T00:00:00.100"
    assert millisecond_of("2026-01-01T00:00:00Z") == "2026-01-01T00:00:00"


def test_it_tells_nanosecond_lines_of_one_millisecond_apart():
    follower = LogFollower("2026-01-01T00:00:00.000000000Z")
    first = ["2026-01-01T00:00:00.005000001Z a", "2026-01-01T00:00:00.005000001Z a"]
    assert follower.fresh(first) == first
    again = [*first, "2026-01-01T00:00:00.005000002Z a", "2026-01-01T00:00:00.005000001Z a"]
    assert follower.fresh(again) == again[2:]
    assert follower.since == "2026-01-01T00:00:00.005000001Z"
    assert follower.fresh([*again, "2026-01-01T00:00:00.006Z b"]) == ["2026-01-01T00:00:00.006Z b"]


@pytest.mark.parametrize("text", ["1.2.3.4:²", "1.2.3.4:99999999999999999999", "http://1.2.3.4:99999/"])
def test_it_gives_form_errors_for_odd_ports(text):
    with pytest.raises(ValueError, match="port"):
        parse_node_address(text)
