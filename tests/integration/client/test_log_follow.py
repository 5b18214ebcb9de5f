"""Following a log through FluxOS's inclusive, millisecond `since` (dockerService.js)."""

from collections import Counter

import pytest

from fluxpanel.fluxos.client import LogFollower
from tests.integration.client.conftest import SimClient, node_with_app, owner_key, stateless_auth
from tests.sim.fluxnode_apps import docker_time, now_ms


@pytest.fixture
def quiet(fleet):
    """A stopped container (so it writes nothing by itself) and a way to write its log lines."""
    index, app = node_with_app(fleet)
    component = next(iter(fleet.node(index).apps[app].containers))
    client = SimClient(fleet.url(index), zelidauth=stateless_auth(owner_key(fleet, app)))
    container = fleet.node(index).apps[app].containers[component]
    if fleet.call(lambda: container.state) != "stopped":
        client.stop_app(app, component)
    base = now_ms() + 60_000  # after every line the container wrote so far

    def write(*entries):
        fleet.call(lambda: [container.say(base + offset, text) for offset, text in entries])

    yield client, app, component, write, base
    client.start_app(app, component)


def _line(base, offset, text):
    return f"{docker_time(base + offset)} {text}"


def test_it_yields_identical_lines_of_one_millisecond_across_polls_exactly_once_each(quiet):
    client, app, component, write, base = quiet
    write((0, "boot"), (5, "same"), (5, "same"))
    follower = LogFollower(docker_time(base))
    got = follower.fresh(client.poll_app_log(app, component, lines="all", since=follower.since).logs)
    assert got == [_line(base, 0, "boot"), _line(base, 5, "same"), _line(base, 5, "same")]
    # The same millisecond grows: a third identical line and another one (FluxOS sends the
    # whole millisecond again, since it truncates `since` and Docker's filter is inclusive).
    write((5, "same"), (5, "other"))
    poll = client.poll_app_log(app, component, lines="all", since=follower.since)
    assert Counter(poll.logs)[_line(base, 5, "same")] == 3  # the repeat is really there
    got += follower.fresh(poll.logs)
    write((9, "later"))
    got += follower.fresh(client.poll_app_log(app, component, lines="all", since=follower.since).logs)
    got += follower.fresh(client.poll_app_log(app, component, lines="all", since=follower.since).logs)
    assert got == [_line(base, 0, "boot"), _line(base, 5, "same"), _line(base, 5, "same"),
                   _line(base, 5, "same"), _line(base, 5, "other"), _line(base, 9, "later")]


def test_it_follows_through_the_client_method(quiet):
    client, app, component, write, base = quiet
    write((0, "a"), (0, "a"), (1, "b"))
    lines = list(client.follow_app_log(app, component, since=docker_time(base), interval_s=0.01,
                                       max_polls=3))
    assert lines == [_line(base, 0, "a"), _line(base, 0, "a"), _line(base, 1, "b")]


def test_it_keeps_the_sim_since_inclusive_at_millisecond_precision(quiet):
    client, app, component, write, base = quiet
    write((3, "x"), (4, "y"))
    # A nanosecond-precision `since` inside millisecond 3 still returns that millisecond's line.
    since = docker_time(base + 3).replace("000000Z", "999999Z")
    logs = client.poll_app_log(app, component, lines="all", since=since).logs
    assert logs == [_line(base, 3, "x"), _line(base, 4, "y")]
