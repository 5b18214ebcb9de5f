"""App sync and the Apps page, at the sizes issue 13 pins.

    uv run python bench/apps.py [--quick]

1. A sync of 1,000 apps × 3 instances against simulated nodes answering with 100 ms latency
   (the simulator in its own process; specs, locations and height from one source node, each
   instance's `/apps/listrunningapps` through the bounded pool).
2. The Apps page at 1,000 and 10,000 apps (rows inserted directly; 10,000 skipped with --quick):
   median of 20 requests through Django's test client, and its SQL query count.
Last line: one JSON object.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time

import _panel  # noqa: F401  (puts the repository on sys.path)
from _panel import REPO, manager_of_new_team, setup_django
from fleet_page import measure

APPS = 1000
INSTANCES = 3
LATENCY_MS = 100
NODES = 1000


def sim_options() -> list[str]:
    """`--apps/--instances` when the simulator has them; else enough nodes for ~1,000 apps."""
    help_text = subprocess.run([sys.executable, "-m", "tests.sim.fluxnode", "--help"], cwd=REPO,
                               capture_output=True, text=True).stdout
    if "--apps" in help_text and "--instances" in help_text:
        # 1,000 nodes each hosting about three instances, as real nodes host several apps.
        return ["--nodes", str(NODES), "--apps", str(APPS), "--instances", str(INSTANCES)]
    return ["--nodes", str(APPS * INSTANCES)]  # one app per three nodes, 1–5 instances each


def start_sim() -> tuple[subprocess.Popen, list[str]]:
    options = sim_options()
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.sim.fluxnode", *options, "--port", "0", "--seed", "1",
         "--latency-ms", str(LATENCY_MS)], cwd=REPO, stdout=subprocess.PIPE, text=True)
    count = int(options[1])
    first = process.stdout.readline().strip()
    for _ in range(count - 1):
        process.stdout.readline()
    if not first:
        process.kill()
        raise RuntimeError("the simulator did not print its URLs")
    return process, [first]


def bench_sync() -> dict:
    from django.conf import settings

    from apps.deployments.models import AppInstance, AppSyncSettings, TeamApp, WatchedOwner
    from apps.deployments.sync import run_app_sync
    from apps.nodes.models import Node, NodeSnapshot
    from tests.sim.keys import owner_zelids

    process, urls = start_sim()
    try:
        base = urls[0].split("/n/")[0]
        settings.DEV_LOCATION_URL = base + "/loc/{location}"
        settings.ALLOW_ANY_NODE_URL = True
        membership = manager_of_new_team("apps-sync")
        team = membership.team
        node = Node.objects.create(team=team, name="source", address="127.0.0.1:16127", base_url=urls[0])
        NodeSnapshot.objects.create(node=node, team=team)
        AppSyncSettings.objects.create(team=team, source_node=node)
        WatchedOwner.objects.bulk_create(WatchedOwner(team=team, address=a) for a in owner_zelids())
        timings = []
        # The first sync of a team formats, prices and inserts everything; the next ones (every
        # minute from beat) ask every instance's node again but write and price only what changed.
        for label in ("first", "again"):
            started = time.perf_counter()
            sync = run_app_sync(team.pk)
            seconds = time.perf_counter() - started
            timings.append(seconds)
            running = AppInstance.objects.filter(team=team, state="running").count()
            print(f"sync ({label}): {sync.status} {sync.apps} apps, {sync.instances} instances ({running} running), "
                  f"{sync.nodes_checked} nodes checked, {sync.nodes_failed} failed, {seconds:.2f} s "
                  f"{sync.reason[:200]}", flush=True)
        return {"apps": TeamApp.objects.filter(team=team).count(), "instances": sync.instances,
                "running": running, "sync_seconds": round(timings[0], 2),
                "sync_again_seconds": round(timings[1], 2), "status": sync.status}
    finally:
        process.terminate()
        process.wait(10)


def fill_apps(team, count: int) -> None:
    from datetime import timedelta
    from decimal import Decimal

    from django.utils import timezone

    from apps.deployments.models import AppStatus, TeamApp

    now = timezone.now()
    statuses = [AppStatus.HEALTHY] * 7 + [AppStatus.DEGRADED, AppStatus.DOWN, AppStatus.EXPIRED]
    TeamApp.objects.bulk_create(
        (TeamApp(team=team, name=f"app{i:05d}", name_key=f"app{i:05d}", owner="1OwnerZelId",
                 spec={"version": 8, "name": f"app{i:05d}", "compose": [{"name": "web"}]}, spec_version=8,
                 components=1, message_height=2_200_000, expire=88000, expiry_height=2_288_000,
                 expires_at=now + timedelta(days=i % 60), instances_wanted=3,
                 instances_running=3 if i % 10 < 7 else 1, status=statuses[i % 10],
                 monthly_usd=Decimal("1.11"), renewal_usd=Decimal("1.11"), renewal_flux=Decimal("2.00"),
                 synced_at=now) for i in range(count)), batch_size=1000)


def bench_page(sizes: list[int]) -> dict:
    from django.test import Client
    from django.urls import reverse

    results = {}
    for size in sizes:
        membership = manager_of_new_team(f"apps-page-{size}")
        fill_apps(membership.team, size)
        client = Client()
        client.force_login(membership.user)
        results[str(size)] = measure(client, reverse("deployments:list"), {})
        print(f"{size} apps: page {results[str(size)]}", flush=True)
    return results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="skip the 10,000-app page")
    parser.add_argument("--no-sync", action="store_true", help="time only the page")
    args = parser.parse_args()
    setup_django()
    sync = ({"apps": 0, "instances": 0, "sync_seconds": None, "sync_again_seconds": None} if args.no_sync
            else bench_sync())
    page = bench_page([1000] if args.quick else [1000, 10_000])
    print(json.dumps({"apps": sync["apps"], "instances": sync["instances"],
                      "sync_seconds": sync["sync_seconds"], "sync_again_seconds": sync["sync_again_seconds"],
                      "page": page}))


if __name__ == "__main__":
    main()
