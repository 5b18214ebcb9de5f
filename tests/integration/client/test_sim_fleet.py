"""The simulator itself: determinism, scale, the command line and its admin API, the reply cache."""

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from fluxpanel.fluxos.client import NodeUnreachable
from tests.integration.client.conftest import SimClient
from tests.sim import keys
from tests.sim.fluxnode import SimFleet
from tests.sim.fluxnode_apps import now_ms

REPO = Path(__file__).resolve().parents[3]


def _fingerprint(sim):
    nodes = [sim.summary(i) for i in range(sim.fleet.count)]
    return [(n["tier"], n["version"], n["owner"], n["ip"], sorted(n["apps"])) for n in nodes], \
        {name: (sim.app(name).spec["owner"], sim.app(name).nodes) for name in sim.app_names()}


def test_it_same_seed_same_fleet_other_seed_other_fleet():
    with SimFleet(nodes=30, seed=4) as a, SimFleet(nodes=30, seed=4) as b, SimFleet(nodes=30, seed=5) as c:
        assert _fingerprint(a) == _fingerprint(b)
        assert _fingerprint(a) != _fingerprint(c)
        assert SimClient(a.url(3)).benchmarks() == SimClient(b.url(3)).benchmarks()


def test_it_fleet_draws_owners_from_the_test_keys_and_shares_apps():
    with SimFleet(nodes=60, seed=2) as sim:
        owners = set(keys.owner_zelids())
        assert {sim.node(i).id.owner for i in range(60)} <= owners
        assert {sim.app(n).spec["owner"] for n in sim.app_names()} <= owners
        assert any(len(sim.app(n).nodes) > 1 for n in sim.app_names())
        tiers = {sim.node(i).id.tier for i in range(60)}
        assert tiers == {"CUMULUS", "NIMBUS", "STRATUS"}


def test_it_ten_thousand_nodes_start_fast():
    started = time.monotonic()
    with SimFleet(nodes=10_000, seed=1) as sim:
        assert time.monotonic() - started < 10
        assert SimClient(sim.url(9_999)).flux_node_status()["status"] == "CONFIRMED"
        assert len(sim.urls) == 10_000


def test_it_logs_keep_growing_while_running():
    with SimFleet(nodes=4, seed=3) as sim:
        index = next(i for i in range(4) if sim.node(i).apps)
        container = next(iter(next(iter(sim.node(index).apps.values())).containers.values()))
        before = len(container.log_lines())
        later = sim.call(lambda: (container.catch_up(now_ms() + 20_000), len(container.log))[1])
        assert later >= before + 9


def test_it_reply_cache_is_per_url_and_bypassable():
    with SimFleet(nodes=3, seed=3) as sim:
        url = sim.url(1) + "/daemon/getblockcount"
        first = requests.get(url, timeout=5).json()["data"]
        sim.call(lambda: sim.fleet.chain.advance(5))
        assert requests.get(url, timeout=5).json()["data"] == first
        assert requests.get(url, headers={"x-apicache-bypass": "true"}, timeout=5).json()["data"] == first + 5
        assert requests.get(url + "?_=1", timeout=5).json()["data"] == first + 5


@pytest.fixture
def cli_sim():
    proc = subprocess.Popen([sys.executable, "-m", "tests.sim.fluxnode", "--nodes", "300",
                             "--port", "0", "--seed", "9"], cwd=REPO, stdout=subprocess.PIPE, text=True)
    try:
        urls = [proc.stdout.readline().strip() for _ in range(300)]
        yield urls
    finally:
        proc.terminate()
        proc.wait(10)


def test_it_command_line_prints_urls_and_takes_faults_over_http(cli_sim):
    urls = cli_sim
    assert urls[0].endswith("/n/0") and urls[-1].endswith("/n/299")
    base = urls[0].rsplit("/n/", 1)[0]
    client = SimClient(urls[42], timeout=(1, 1))
    assert client.version()
    reply = requests.post(f"{base}/_sim/nodes/42/fault", data=json.dumps({"kind": "down"}), timeout=5)
    assert reply.json()["faults"] == ["down"]
    with pytest.raises(NodeUnreachable):
        client.version()
    requests.delete(f"{base}/_sim/nodes/42/fault", timeout=5)
    assert client.version()
    height = client.block_count()
    assert requests.post(f"{base}/_sim/chain/advance", json={"blocks": 10}, timeout=5).json()["height"] >= height + 10
    assert client.block_count() >= height + 10  # world events flush the node's reply cache
    stats = requests.get(f"{base}/_sim/stats", timeout=5).json()
    assert stats["served"] >= 4 and stats["cpu_s"] >= 0 and stats["nodes"] == 300
    state = requests.get(f"{base}/_sim/nodes/42/state", timeout=5).json()
    assert state["index"] == 42 and state["faults"] == []
    assert requests.post(f"{base}/_sim/nodes/42/fault", json={"kind": "nope"}, timeout=5).status_code == 400
