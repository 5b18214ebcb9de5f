"""Reading docker's one-shot stats (as FluxOS answers them) into StatsSample figures."""
from __future__ import annotations

import copy

import pytest

from apps.operations import stats

ANSWER = {
    "cpu_stats": {"cpu_usage": {"total_usage": 2_400_000_000}, "system_cpu_usage": 100_000_000_000,
                  "online_cpus": 4},
    "precpu_stats": {"cpu_usage": {"total_usage": 2_000_000_000}, "system_cpu_usage": 96_000_000_000,
                     "online_cpus": 4},
    "memory_stats": {"usage": 300 * 2**20, "limit": 2**30, "stats": {"inactive_file": 50 * 2**20}},
    "networks": {"eth0": {"rx_bytes": 1000, "tx_bytes": 10}, "eth1": {"rx_bytes": 24, "tx_bytes": 5}},
    "blkio_stats": {"io_service_bytes_recursive": [
        {"major": 8, "minor": 0, "op": "Read", "value": 4096}, {"major": 8, "minor": 0, "op": "Write", "value": 512},
        {"major": 8, "minor": 16, "op": "read", "value": 4096}, {"major": 8, "minor": 0, "op": "Total", "value": 9}]},
    "disk_stats": {"bind": 1000, "volume": 0, "rootfs": 5000, "used": 6000, "status": "success"},
    "nanoCpus": 500_000_000,
}


def answer(**changes):
    data = copy.deepcopy(ANSWER)
    for path, value in changes.items():
        *parents, last = path.split("__")
        target = data
        for name in parents:
            target = target[name]
        target[last] = value
    return data


def test_it_reads_every_figure_docker_s_way():
    assert stats.parse(ANSWER) == {
        # (2.4e9 - 2.0e9) / (100e9 - 96e9) * 4 CPUs * 100
        "cpu_percent": 40.0, "memory_used": 250 * 2**20, "memory_limit": 2**30,
        "net_rx": 1024, "net_tx": 15, "disk_read": 8192, "disk_write": 512, "disk_used": 6000}


def test_it_takes_the_page_cache_off_memory_on_cgroup_v1_too():
    v1 = answer(memory_stats__stats={"total_inactive_file": 100 * 2**20, "cache": 200 * 2**20})
    assert stats.parse(v1)["memory_used"] == 200 * 2**20
    old = answer(memory_stats__stats={"cache": 200 * 2**20})
    assert stats.parse(old)["memory_used"] == 100 * 2**20
    assert stats.parse(answer(memory_stats__stats={}))["memory_used"] == 300 * 2**20


def test_it_cpu_is_none_when_it_cannot_be_computed():
    assert stats.parse(answer(precpu_stats__system_cpu_usage=100_000_000_000))["cpu_percent"] is None  # no time
    assert stats.parse(answer(precpu_stats={}))["cpu_percent"] is None  # the first reading
    assert stats.parse(answer(cpu_stats__cpu_usage__total_usage=1))["cpu_percent"] is None  # went back
    assert stats.parse(answer(cpu_stats__online_cpus=0))["cpu_percent"] is None
    per_cpu = answer(cpu_stats__online_cpus=None, cpu_stats__cpu_usage__percpu_usage=[1, 2])
    assert stats.parse(per_cpu)["cpu_percent"] == 20.0  # older engines: the length of percpu_usage
    # More CPU time than the host had: a lie, not a figure.
    assert stats.parse(answer(cpu_stats__cpu_usage__total_usage=90_000_000_000))["cpu_percent"] is None


@pytest.mark.parametrize("bad", [-1, "100", True, None, float("nan"), float("inf"), 2**70, [1], {"a": 1}])
def test_it_stores_none_for_a_figure_that_is_not_a_sane_number(bad):
    parsed = stats.parse(answer(memory_stats__usage=bad, networks__eth0__rx_bytes=bad, disk_stats__used=bad,
                                blkio_stats__io_service_bytes_recursive=[{"op": "read", "value": bad}]))
    assert parsed["memory_used"] is None and parsed["net_rx"] is None and parsed["disk_used"] is None
    assert parsed["disk_read"] is None
    assert parsed["net_tx"] == 15 and parsed["cpu_percent"] == 40.0  # the others still count


@pytest.mark.parametrize("garbage", [None, [], "stats", 42, {"cpu_stats": "x", "networks": [1], "blkio_stats": 7,
                                                            "memory_stats": [], "disk_stats": None}])
def test_it_never_crashes_on_an_answer_of_the_wrong_shape(garbage):
    assert set(stats.parse(garbage).values()) == {None}


def test_it_treats_docker_s_no_limit_and_a_stopped_container_as_unknown():
    assert stats.parse(answer(memory_stats__limit=9_223_372_036_854_771_712))["memory_limit"] is None
    stopped = {"memory_stats": {}, "blkio_stats": {"io_service_bytes_recursive": None},
               "cpu_stats": {"cpu_usage": {"total_usage": 0}}, "precpu_stats": {"cpu_usage": {"total_usage": 0}}}
    assert set(stats.parse(stopped).values()) == {None}
