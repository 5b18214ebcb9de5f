"""The double is fast enough for the panel's benches: 10,000 entities and 1,000-event batches."""
from __future__ import annotations

import time

import requests

from tests.sim.worldstate import loopback_client


def best_of(runs: int, action) -> float:
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        timings.append(time.perf_counter() - started)
    return min(timings)


def test_it_batch_of_1000_events_under_a_second(engine, capsys):
    ws_client = loopback_client(engine.url)
    events = [{"stream": "fleet.nodes", "source": "bench", "entity_id": f"fleet/node-{n:04d}",
               "properties": {"status": "CONFIRMED", "tier": "CUMULUS", "ip": f"10.0.{n // 256}."
                              f"{n % 256}", "height": 1_700_000 + n, "cpu_percent": n % 100}}
              for n in range(1000)]
    results = []
    seconds = best_of(3, lambda: results.append(ws_client.publish_batch(events)))
    assert results[-1].successful == 1000
    with capsys.disabled():
        print(f"\n[worldstate double] publish_batch(1,000 events): {seconds * 1000:.0f} ms")
    assert seconds < 1.0


def test_it_listing_10000_entities_quickly(engine, capsys):
    engine.seed({f"fleet/node-{n:05d}": {
        "status": "CONFIRMED", "tier": "STRATUS", "ip": f"10.{n // 65536}.{n // 256 % 256}."
        f"{n % 256}", "height": 1_700_000 + n, "cpu_percent": n % 100, "apps": ["a", "b"]}
        for n in range(10_000)})
    ws_client = loopback_client(engine.url)
    entities = []
    client_seconds = best_of(3, lambda: entities.append(ws_client.entities()))
    assert len(entities[-1]) == 10_000
    session = requests.Session()
    server_seconds = best_of(3, lambda: session.get(engine.url + "/api/state/entities",
                                                    timeout=10).content)
    with capsys.disabled():
        print(f"\n[worldstate double] GET /api/state/entities (10,000): {server_seconds * 1000:.0f}"
              f" ms raw, ws_client.entities() {client_seconds * 1000:.0f} ms")
    assert server_seconds < 0.3
    assert client_seconds < 1.0
