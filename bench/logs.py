"""Merged logs at the size issue 15 pins.

    uv run python bench/logs.py [--lines 10000]

One app of 50 instances × 2 components on simulated nodes answering with 100 ms latency (the
simulator in its own process, every container logging 3 lines in the same millisecond every
100 ms). The app and its instances come from an app sync; the team holds the owner's
authorisation. The Logs page is followed through Django's test client, each poll a POST carrying
the signed cursor the previous answer gave, until `--lines` new lines arrived after the first
poll. Each line's `req=<n>` counter (consecutive per container) shows a line lost or repeated.
Last line: one JSON object.
"""
from __future__ import annotations

import argparse
import html
import json
import os
import re
import subprocess
import sys
import time
from collections import defaultdict
from datetime import timedelta

import _panel  # noqa: F401  (puts the repository on sys.path)
from _panel import REPO, manager_of_new_team, setup_django

INSTANCES, NODES, LATENCY_MS, SEED = 50, 60, 100, 1
LINE = re.compile(r'<div class="log-line" data-stream="([^"]+)" data-ts="([^"]+)">(.*?)</div>')
CURSOR = re.compile(r'name="cursor" value="([^"]*)"')
REQ = re.compile(r"req=(\d+)")


def start_sim() -> tuple[subprocess.Popen, str]:
    env = dict(os.environ, FLUXSIM_LOG_INTERVAL_MS="100", FLUXSIM_LOG_BURST="3")
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.sim.fluxnode", "--nodes", str(NODES), "--apps", "1",
         "--instances", str(INSTANCES), "--port", "0", "--seed", str(SEED), "--latency-ms", str(LATENCY_MS)],
        cwd=REPO, stdout=subprocess.PIPE, text=True, env=env)
    urls = [process.stdout.readline().strip() for _ in range(NODES)]
    if not all(urls):
        process.kill()
        raise RuntimeError("the simulator did not print its URLs")
    return process, urls[0]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=10_000)
    args = parser.parse_args()
    setup_django()
    from django.conf import settings
    from django.test import Client
    from django.urls import reverse
    from django.utils import timezone

    from apps.deployments.models import AppSyncSettings, TeamApp, WatchedOwner
    from apps.deployments.sync import run_app_sync
    from apps.nodes.models import Node, NodeSnapshot
    from apps.wallets.models import AppOwnerAuthorisation
    from apps.wallets.node_sessions import VAULT_PURPOSE
    from fluxpanel import vault
    from tests.sim import keys

    process, first_url = start_sim()
    try:
        settings.DEV_LOCATION_URL = first_url.split("/n/")[0] + "/loc/{location}"
        settings.ALLOW_ANY_NODE_URL = True
        settings.OPERATIONS_LOG_POLL_BUDGET_S = 0.9
        membership = manager_of_new_team("logs-bench")
        team = membership.team
        node = Node.objects.create(team=team, name="source", address="127.0.0.1:16127", base_url=first_url)
        NodeSnapshot.objects.create(node=node, team=team)
        AppSyncSettings.objects.create(team=team, source_node=node)
        WatchedOwner.objects.bulk_create(WatchedOwner(team=team, address=a) for a in keys.owner_zelids())
        sync = run_app_sync(team.pk)
        app = TeamApp.objects.get(team=team)
        key = keys.key_for_zelid(app.owner)
        AppOwnerAuthorisation.objects.create(
            team=team, zelid=key.zelid, sealed=vault.seal(key.auth(key.phrase()), purpose=VAULT_PURPOSE),
            created_by=membership.user, expires_at=timezone.now() + timedelta(hours=1))
        instances = app.instances.count()
        print(f"sync {sync.status}: {app.name}, {instances} instances × {app.components} components", flush=True)

        client = Client()
        client.force_login(membership.user)
        url = reverse("operations:logs", kwargs={"pk": app.pk})
        assert client.get(url).status_code == 200
        cursor, polls, followed, interrupted = "", [], [], 0
        per_stream = defaultdict(list)
        first = True
        while len(followed) < args.lines and len(polls) < 400:
            started = time.perf_counter()
            response = client.post(url, {"cursor": cursor})
            polls.append(time.perf_counter() - started)
            body = response.content.decode()
            assert response.status_code == 200, body[:300]
            cursor = html.unescape(CURSOR.search(body).group(1))
            interrupted += body.count('data-state="interrupted"')
            for stream, _stamp, text in LINE.findall(body):
                found = REQ.search(text)
                if found:
                    per_stream[stream].append(int(found.group(1)))
                    if not first:
                        followed.append(stream)
            first = False
            time.sleep(max(0.0, 0.5 - polls[-1]))  # the page polls every POLL_FAST_S
        repeated = sum(len(v) - len(set(v)) for v in per_stream.values())
        lost = sum(max(v) - min(v) + 1 - len(set(v)) for v in per_stream.values() if v)
        polls_sorted = sorted(polls)
        result = {
            "instances": instances, "components": app.components, "streams": len(per_stream),
            "node_latency_ms": LATENCY_MS, "polls": len(polls), "lines_followed": len(followed),
            "poll_max_s": round(polls_sorted[-1], 3), "poll_median_s": round(polls_sorted[len(polls) // 2], 3),
            "lost": lost, "repeated": repeated, "interrupted_marks": interrupted,
            "ok": polls_sorted[-1] <= 1.0 and lost == 0 and repeated == 0 and len(followed) >= args.lines,
        }
        print("polls (s):", " ".join(f"{p:.2f}" for p in polls), flush=True)
        print(json.dumps(result))
    finally:
        process.terminate()
        process.wait(10)


if __name__ == "__main__":
    main()
