"""World-state pages at scale: the entity browser over 10,000 entities, a 1,000-entity bridge
batch, and live updates through the subscriber.

    uv run python bench/worldstate.py [--entities 10000] [--rounds 20] [--nodes 900] [--apps 100]
                                      [--viewers 20] [--updates 1000] [--disconnects 5] [--quick]

The engine is the double (`python -m tests.sim.worldstate`) in its own process on loopback, as a
real engine would be: it does not share this process's interpreter lock. The panel runs in this
process on a throw-away test database (tests.settings, migrated by Django's test helpers).

- page_ms: server time of GET /worldstate/<id>/entities/ (the engine lists all 10,000 entities,
  the panel sorts them and renders one page), median of `--rounds` requests after a warm-up,
  measured around Django's test client, i.e. the whole request through middleware and template.
- bridge_batch_s: one bridge run publishing `--nodes` node entities and `--apps` app entities
  (1,000 by default) that the engine has never seen: reading the snapshots, diffing against the
  bridge's record, the one batch request, and writing the record.

Live updates (a second engine process, and the real `manage.py worldstate_subscribe` process
on the same test database):

- viewer_engine_rps: REST requests per second the engine receives while `--viewers` simulated
  viewers poll one entity page as the browser does (every POLL_FAST_S, with the fingerprint they
  were shown), counted by the double itself, after each viewer's page load; viewer_engine_rps_off
  is the same with the subscriber stopped (the pages read the engine, as before issue 18).
- update_ms_median / update_ms_p95: from the publish call until the update is in the panel's copy
  (LiveEntity), over `--updates` updates published one after the other.
- lost_updates: of updates published to distinct entities while the engine drops the WebSocket
  `--disconnects` times (closing or cutting it), how many are missing from the copy once the
  subscriber is live again; resynced_updates says how many only a resync recovered.

Targets: page_ms <= 300, bridge_batch_s <= 1, viewer_engine_rps <= 1, update_ms_median <= 200,
lost_updates == 0. The last line printed is one JSON object: {"page_ms": ..., "bridge_batch_s":
..., "viewer_engine_rps": ..., ...}.
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


# ---- live updates --------------------------------------------------------------------------------


def control(url: str, path: str, method: str = "POST") -> dict:
    """The double's own control routes (tests/sim/worldstate_control.py), not the engine API."""
    import requests

    return requests.request(method, url + path, timeout=10).json()


def start_subscriber() -> subprocess.Popen:
    from tests.conftest import make_child_environment

    environment = make_child_environment(FLUXPANEL_ALLOW_PRIVATE_ENGINES="true",
                                         WORLDSTATE_LEASE_SECONDS="6", WORLDSTATE_SILENCE_SECONDS="6",
                                         WORLDSTATE_BACKOFF_MAX_SECONDS="2", LOG_LEVEL="WARNING")
    return subprocess.Popen([sys.executable, "manage.py", "worldstate_subscribe"], cwd=REPO,
                            env=environment, stdout=subprocess.DEVNULL)


def wait_until(condition, timeout: float, step: float = 0.002):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(step)
    raise RuntimeError("timed out waiting")


def is_live(engine) -> bool:
    from apps.worldstate.models import EngineLive

    return EngineLive.objects.filter(engine=engine, state="live").exclude(holder="").exists()


def viewers_rps(url: str, engine_url: str, entity_page: str, users, window_s: float) -> float:
    """REST requests per second at the engine while every user polls the entity page."""
    import re
    import threading

    from fluxpanel.htmx import POLL_FAST_S

    clients = []
    for user in users:
        client = Client()
        client.force_login(user)
        html = client.get(entity_page, {"id": "team-a/watched"}).content.decode()  # reads history once
        fp = re.search(r'data-fingerprint="([0-9a-f]+)"', html).group(1)
        clients.append((client, fp))
    stop = threading.Event()

    def poll(client, fp):
        while not stop.is_set():
            response = client.get(entity_page, {"id": "team-a/watched", "fp": fp},
                                  HTTP_HX_REQUEST="true")
            assert response.status_code in (200, 304), response.status_code
            stop.wait(POLL_FAST_S)

    threads = [threading.Thread(target=poll, args=pair) for pair in clients]
    before = control(engine_url, "/_double/stats", "GET")["requests"]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    time.sleep(window_s)
    stop.set()
    for thread in threads:
        thread.join()
    after = control(engine_url, "/_double/stats", "GET")["requests"]
    return (after - before) / (time.monotonic() - started)


def bench_live(url: str, *, viewers: int, updates: int, disconnects: int, window_s: float) -> dict:
    import threading

    from django.contrib.auth import get_user_model
    from django.db import connections

    from apps.accounts.models import Membership, Role, Team
    from apps.worldstate.models import Engine, LiveEntity, LiveUpdate

    client = loopback_client(url, timeout=30)
    client.publish("bench.live", "bench", "team-a/watched", {"temp": 20, "status": "ok"})
    team = Team.objects.create(name="Live team")
    users = get_user_model().objects.bulk_create(
        get_user_model()(username=f"live-viewer-{i}") for i in range(viewers))
    Membership.objects.bulk_create(Membership(team=team, user=user, role=Role.VIEWER) for user in users)
    engine = Engine.objects.create(team=team, name="live", base_url=url, namespace="team-a")
    entity_page = reverse("worldstate:entity", args=[engine.pk])

    off_rps = viewers_rps(url, url, entity_page, users, window_s / 2)
    subscriber = start_subscriber()
    try:
        wait_until(lambda: is_live(engine), 60, 0.05)
        live_rps = viewers_rps(url, url, entity_page, users, window_s)
        print(f"{viewers} viewers on one entity page: the engine gets {off_rps:.1f} requests/s "
              f"reading it directly, {live_rps:.2f}/s with the subscriber ({window_s:g} s of polls)")

        def copy_value(entity_id: str):
            row = LiveEntity.objects.filter(engine=engine, entity_id=entity_id).values_list(
                "properties", flat=True).first()
            return row.get("n") if row else None

        latencies = []
        for n in range(updates):
            started = time.perf_counter()
            client.publish("bench.live", "bench", "team-a/latency", {"n": n})
            wait_until(lambda n=n: copy_value("team-a/latency") == n, 10)
            latencies.append((time.perf_counter() - started) * 1000)
        latencies.sort()
        median = statistics.median(latencies)
        p95 = latencies[int(len(latencies) * 0.95) - 1]
        print(f"publish → panel copy: median {median:.1f} ms, p95 {p95:.1f} ms, max "
              f"{latencies[-1]:.1f} ms over {updates} updates")

        accepted = control(url, "/_double/stats", "GET")["ws_accepted"]
        stop = threading.Event()
        published: list[int] = []

        def publish_steadily():
            writer = loopback_client(url, timeout=30)
            i = 0
            while not stop.is_set():
                writer.publish("bench.loss", "bench", f"team-a/loss-{i:05d}", {"n": i})
                published.append(i)
                i += 1
                time.sleep(0.005)
            connections.close_all()

        publisher = threading.Thread(target=publish_steadily)
        publisher.start()
        for number in range(disconnects):
            time.sleep(1.0)
            wait_until(lambda: is_live(engine), 30, 0.02)
            control(url, f"/_double/ws/drop?mode={'abort' if number % 2 else 'close'}")
            time.sleep(0.3)  # publishing goes on while the subscriber reconnects
        time.sleep(0.5)
        stop.set()
        publisher.join()
        wait_until(lambda: is_live(engine), 30, 0.02)
        expected = {f"team-a/loss-{i:05d}" for i in published}

        def missing() -> set[str]:
            return expected - set(LiveEntity.objects.filter(
                engine=engine, entity_id__startswith="team-a/loss-").values_list("entity_id", flat=True))

        try:
            wait_until(lambda: not missing(), 15, 0.05)
        except RuntimeError:
            pass
        lost = len(missing())
        reconnects = control(url, "/_double/stats", "GET")["ws_accepted"] - accepted
        resynced = LiveUpdate.objects.filter(engine=engine, via="resync",
                                             entity_id__startswith="team-a/loss-").count()
        print(f"{len(published)} updates published across {disconnects} forced disconnects "
              f"({reconnects} reconnects): {lost} lost, {resynced} recovered only by a resync")
    finally:
        subscriber.terminate()
        subscriber.wait(timeout=20)
    return {"viewer_engine_rps": round(live_rps, 2), "viewer_engine_rps_off": round(off_rps, 1),
            "update_ms_median": round(median, 1), "update_ms_p95": round(p95, 1),
            "lost_updates": lost, "forced_disconnects": disconnects,
            "resynced_updates": resynced}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entities", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--nodes", type=int, default=900)
    parser.add_argument("--apps", type=int, default=100)
    parser.add_argument("--viewers", type=int, default=20)
    parser.add_argument("--updates", type=int, default=1000)
    parser.add_argument("--disconnects", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="fewer entities, requests and updates")
    args = parser.parse_args()
    if args.quick:
        args.entities, args.rounds, args.updates = 2000, 5, 200

    setup_test_environment()
    databases = setup_databases(verbosity=0, interactive=False)
    engine, url = start_engine()
    live_engine, live_url = start_engine()
    try:
        page_ms = bench_page(url, args.entities, args.rounds)
        bridge_s = bench_bridge(url, args.nodes, args.apps)
        live = bench_live(live_url, viewers=args.viewers, updates=args.updates,
                          disconnects=args.disconnects, window_s=5 if args.quick else 10)
    finally:
        for process in (engine, live_engine):
            process.terminate()
            process.wait(timeout=10)
            process.stdout.close()
        teardown_databases(databases, verbosity=0)
        teardown_test_environment()
    print(json.dumps({"page_ms": round(page_ms, 1), "bridge_batch_s": round(bridge_s, 3), **live}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
