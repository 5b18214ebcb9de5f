"""World-state pages at scale: the entity browser over 10,000 entities, and a 1,000-entity bridge
batch.

    uv run python bench/worldstate.py [--entities 10000] [--rounds 20] [--nodes 900] [--apps 100]

The engine is the double (`python -m tests.sim.worldstate`) in its own process on loopback, as a
real engine would be: it does not share this process's interpreter lock. The panel runs in this
process on a throw-away test database (tests.settings, migrated by Django's test helpers).

- page_ms: server time of GET /worldstate/<id>/entities/ (the engine lists all 10,000 entities,
  the panel sorts them and renders one page), median of `--rounds` requests after a warm-up,
  measured around Django's test client, i.e. the whole request through middleware and template.
- bridge_batch_s: one bridge run publishing `--nodes` node entities and `--apps` app entities
  (1,000 by default) that the engine has never seen: reading the snapshots, diffing against the
  bridge's record, the one batch request, and writing the record.

Targets: page_ms <= 300, bridge_batch_s <= 1. The last line printed is one JSON object:
{"page_ms": ..., "bridge_batch_s": ...}.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))
os.environ["DJANGO_SETTINGS_MODULE"] = "tests.settings"

import django  # noqa: E402

django.setup()

from django.test import Client  # noqa: E402
from django.test.utils import (  # noqa: E402
    setup_databases,
    setup_test_environment,
    teardown_databases,
    teardown_test_environment,
)
from django.urls import reverse  # noqa: E402

from tests.sim.worldstate import loopback_client  # noqa: E402


def start_engine() -> tuple[subprocess.Popen, str]:
    process = subprocess.Popen([sys.executable, "-m", "tests.sim.worldstate", "--port", "0"],
                               cwd=REPO, stdout=subprocess.PIPE, text=True)
    url = process.stdout.readline().strip()
    if not url.startswith("http://"):
        process.kill()
        raise RuntimeError("the engine double did not start")
    return process, url


def seed(url: str, entities: int) -> None:
    client = loopback_client(url, timeout=60)
    items = [{"stream": "bench.seed", "source": "bench", "entity_id": f"team-a/sensor-{i:05d}",
              "properties": {"temp": 20 + i % 15, "status": "ok" if i % 9 else "warn",
                             "zone": f"z{i % 12}", "battery": 100 - i % 100}}
             for i in range(entities)]
    for start in range(0, entities, 1000):
        result = client.publish_batch(items[start:start + 1000])
        assert result.failed == 0, result.results[:3]


def bench_page(url: str, entities: int, rounds: int) -> float:
    from django.contrib.auth import get_user_model

    from apps.accounts.models import Membership, Role, Team
    from apps.worldstate.models import Engine

    seed(url, entities)
    team = Team.objects.create(name="Bench team")
    user = get_user_model().objects.create_user(username="bench-viewer", password="x")
    Membership.objects.create(team=team, user=user, role=Role.VIEWER)
    engine = Engine.objects.create(team=team, name="bench", base_url=url, namespace="team-a")
    client = Client()
    client.force_login(user)
    url = reverse("worldstate:entities", args=[engine.pk])
    for _ in range(3):  # warm-up: session, template loading, connection pool
        response = client.get(url)
    assert response.status_code == 200 and f'data-total="{entities}"' in response.content.decode()
    timings = []
    for round_number in range(rounds):
        started = time.perf_counter()
        response = client.get(url, {"page": 1 + round_number * 7 % 200})
        timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200
    print(f"entity browser, {entities:,} entities: median {statistics.median(timings):.1f} ms, "
          f"min {min(timings):.1f}, max {max(timings):.1f} ({rounds} requests, "
          f"{len(response.content):,} bytes each)")
    return statistics.median(timings)


def bench_bridge(url: str, nodes: int, apps: int) -> float:
    from django.utils import timezone

    from apps.accounts.models import Team
    from apps.nodes.models import Node, NodeSnapshot
    from apps.worldstate.bridge import publish_fleet
    from apps.worldstate.models import Engine

    team = Team.objects.create(name="Bridge team")
    rows = Node.objects.bulk_create(
        Node(team=team, name=f"node-{i:05d}", address=f"198.51.100.{i % 250}:16127/{i}",
             base_url=f"http://198.51.100.{i % 250}:16127") for i in range(nodes))
    now = timezone.now()
    NodeSnapshot.objects.bulk_create(
        NodeSnapshot(node=node, team=team, state="confirmed" if i % 11 else "down",
                     version="8.17.0", tier=("CUMULUS", "NIMBUS", "STRATUS")[i % 3],
                     height=2_200_000, height_lag=i % 4, maintenance_blocks=300, apps_running=3,
                     detail={"apps": [f"app-{(i + k) % apps}" for k in range(3)]},
                     checked_at=now, last_seen=now)
        for i, node in enumerate(rows))
    engine = Engine.objects.create(team=team, name="bridge", base_url=url,
                                   namespace="bridge", bridge_enabled=True)
    started = time.perf_counter()
    run = publish_fleet(engine)
    seconds = time.perf_counter() - started
    assert not run.error, run.error
    assert run.published == nodes + apps and run.requests == 1, run
    assert len(loopback_client(url).entities(namespace="bridge")) == nodes + apps
    started = time.perf_counter()
    again = publish_fleet(engine)
    unchanged_s = time.perf_counter() - started
    assert again.published == 0 and again.requests == 0
    print(f"bridge: {run.published:,} entities in {run.requests} batch: {seconds:.3f} s; "
          f"the next run with nothing changed: {unchanged_s * 1000:.0f} ms, no request")
    return seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entities", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--nodes", type=int, default=900)
    parser.add_argument("--apps", type=int, default=100)
    args = parser.parse_args()

    setup_test_environment()
    databases = setup_databases(verbosity=0, interactive=False)
    engine, url = start_engine()
    try:
        page_ms = bench_page(url, args.entities, args.rounds)
        bridge_s = bench_bridge(url, args.nodes, args.apps)
    finally:
        engine.terminate()
        engine.wait(timeout=10)
        engine.stdout.close()
        teardown_databases(databases, verbosity=0)
        teardown_test_environment()
    print(json.dumps({"page_ms": round(page_ms, 1), "bridge_batch_s": round(bridge_s, 3)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
