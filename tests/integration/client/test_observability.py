"""Logs, log polling, inspect, stats, top and changes (§7.3)."""

import threading
import time

import pytest

from fluxpanel.fluxos.client import FluxError, LogPoll
from tests.integration.client.conftest import SimClient, node_with_app, owner_key, stateless_auth


@pytest.fixture
def target(fleet):
    index, app = node_with_app(fleet)
    component = next(iter(fleet.node(index).apps[app].containers))
    client = SimClient(fleet.url(index), zelidauth=stateless_auth(owner_key(fleet, app)))
    return client, app, component


def test_it_app_log_is_plain_text_and_tails(target):
    client, app, component = target
    everything = client.app_log(app, component)
    assert everything.endswith("\n") and "starting" in everything
    assert len(client.app_log(app, component, lines=3).splitlines()) == 3


def test_it_v4_apps_need_the_component_form(target):
    client, app, _ = target
    with pytest.raises(FluxError, match="No such container"):
        client.app_log(app)


def test_it_log_polling_has_its_own_shape_and_since(target):
    client, app, component = target
    poll = client.poll_app_log(app, component, lines=5)
    assert isinstance(poll, LogPoll)
    assert (poll.line_count, poll.log_count, poll.since) == (5, 5, "")
    assert poll.truncated is True
    stamp, text = LogPoll.split_timestamp(poll.logs[-1])
    assert stamp.endswith("Z") and len(stamp) == 30 and text
    since = poll.last_timestamp
    later = client.poll_app_log(app, component, lines="all", since=since)
    assert later.since == since and later.truncated is False
    assert later.logs and all(LogPoll.split_timestamp(line)[0] >= since for line in later.logs)


def test_it_follow_yields_new_lines_once(fleet, target):
    client, app, component = target
    start = client.poll_app_log(app, component, lines=1).last_timestamp
    stop = threading.Event()
    seen = []

    def follow():
        for line in client.follow_app_log(app, component, since=start, interval_s=0.1, stop=stop):
            seen.append(line)

    worker = threading.Thread(target=follow)
    worker.start()
    time.sleep(0.3)
    client.restart_app(app, component)  # writes lines into the log
    time.sleep(0.5)
    stop.set()
    worker.join(5)
    assert len(seen) == len(set(seen))
    assert any("SIGTERM" in line for line in seen)


def test_it_inspect_stats_top_changes(target):
    client, app, component = target
    inspect = client.app_inspect(app, component)
    assert inspect["Name"] == f"/flux{component}_{app}" and inspect["State"]["Running"] is True
    stats = client.app_stats(app, component)
    assert {"cpu_stats", "precpu_stats", "memory_stats", "networks", "disk_stats", "nanoCpus"} <= set(stats)
    assert set(stats["disk_stats"]) == {"bind", "volume", "rootfs", "used", "status"}
    assert client.app_top(app, component)["Titles"][:2] == ["UID", "PID"]
    assert {"Path", "Kind"} == set(client.app_changes(app, component)[0])


def test_it_top_of_a_stopped_container_is_a_flux_error(target):
    client, app, component = target
    client.stop_app(app, component)
    try:
        with pytest.raises(FluxError, match="is not running"):
            client.app_top(app, component)
    finally:
        client.start_app(app, component)
