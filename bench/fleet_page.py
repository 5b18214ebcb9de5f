"""Server time and SQL query count of the fleet page and its poll fragment, by fleet size.

    uv run python bench/fleet_page.py [--quick]

Fleets of 10, 1,000 and 10,000 nodes (the last skipped with --quick) with a snapshot each; every
figure is the median of 20 requests through Django's test client (the whole server side: URL
routing, middleware, access check, queries, template). Last line: one JSON object.
"""
from __future__ import annotations

import argparse
import json
import statistics
import time

import _panel  # noqa: F401  (puts the repository on sys.path)
from _panel import manager_of_new_team, setup_django

REPEATS = 20


def fill(team, count: int) -> None:
    from django.utils import timezone

    from apps.nodes.models import Node, NodeSnapshot

    nodes = Node.objects.bulk_create(
        (Node(team=team, name=f"node-{i:05d}", address=f"10.{i // 65536}.{i // 256 % 256}.{i % 256}:16127",
              base_url=f"http://10.{i // 65536}.{i // 256 % 256}.{i % 256}:16127") for i in range(count)),
        batch_size=1000)
    states = ["confirmed"] * 17 + ["down", "unconfirmed", "dos"]
    NodeSnapshot.objects.bulk_create(
        (NodeSnapshot(node=n, team=team, state=states[i % 20], version="8.17.0", tier="NIMBUS",
                      height=2_200_000 - i % 4, height_lag=i % 4, maintenance_blocks=480 - i % 480,
                      apps_running=i % 6, checked_at=timezone.now(), last_seen=timezone.now())
         for i, n in enumerate(nodes)), batch_size=1000)


# The fleet page answers its own poll: an htmx request aimed at its live part.
POLL_HEADERS = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "fleet-live"}


def measure(client, url: str, params: dict, **headers) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get(url, params, **headers)  # warm caches and the session
    times = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        response = client.get(url, params, **headers)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.status_code
    with CaptureQueriesContext(connection) as captured:
        client.get(url, params, **headers)
    return {"median_ms": round(statistics.median(times), 1), "queries": len(captured)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="skip the 10,000-node fleet")
    args = parser.parse_args()
    setup_django()
    from django.test import Client
    from django.urls import reverse

    sizes = [10, 1000] if args.quick else [10, 1000, 10_000]
    results, poll = {}, {}
    for size in sizes:
        membership = manager_of_new_team(f"fleet-{size}")
        fill(membership.team, size)
        client = Client()
        client.force_login(membership.user)
        # The usual view: sorted by height lag, filtered, one page.
        params = {"sort": "-lag", "state": "confirmed"}
        results[str(size)] = measure(client, reverse("nodes:fleet"), params)
        poll[str(size)] = measure(client, reverse("nodes:fleet"), params, **POLL_HEADERS)
        print(f"{size} nodes: page {results[str(size)]}, poll {poll[str(size)]}", flush=True)
    results["poll"] = poll
    print(json.dumps(results))


if __name__ == "__main__":
    main()
