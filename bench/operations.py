"""App operations at the sizes issue 15 pins.

    uv run python bench/operations.py [--quick]

The simulator runs in its own process: 100 nodes, one app with 100 instances, 20 ms latency, and
every node's own restart time (FLUXSIM_RESTART_MS, 1–3 s spread; `--quick` 0.3–0.9 s).
1. A global restart across the 100 instances: what it costs the panel (the job's wall time: one
   call to one node, which forwards it), ≤ 2 s.
2. A rolling restart of 20 of them: the job's wall time against the sum of those instances' own
   restart times, ≤ 1.2 ×.
Last line: one JSON object.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

import _panel  # noqa: F401  (puts the repository on sys.path)
from _panel import REPO, manager_of_new_team, setup_django

NODES = 100
ROLLING = 20
LATENCY_MS = 20


def start_sim(restart_ms: str):
    env = dict(os.environ, FLUXSIM_RESTART_MS=restart_ms)
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.sim.fluxnode", "--nodes", str(NODES), "--apps", "1", "--instances",
         str(NODES), "--port", "0", "--seed", "1", "--latency-ms", str(LATENCY_MS)],
        cwd=REPO, stdout=subprocess.PIPE, text=True, env=env)
    urls = [process.stdout.readline().strip() for _ in range(NODES)]
    if not all(urls):
        process.kill()
        raise RuntimeError("the simulator did not print its URLs")
    return process, urls


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    restart_ms = "300-900" if args.quick else "1000-3000"
    os.environ["FLUXSIM_RESTART_MS"] = restart_ms
    setup_django()
    from django.conf import settings

    from apps.deployments.models import AppInstance, TeamApp
    from apps.jobs.models import Job
    from apps.jobs.runner import run_job
    from apps.nodes.models import Node, NodeSnapshot
    from apps.operations import actions
    from apps.wallets import actions as wallet_actions
    from tests.sim import keys
    from tests.sim.fluxnode_auth import fluxos_phrase
    from tests.sim.fluxnode_lifecycle import env_restart_seconds
    from tests.sim.fluxnode_server import Fleet

    # The same catalogue and identities as the simulator process (same arguments, same seed).
    twin = Fleet(NODES, seed=1, apps=1, instances=NODES)
    entry = twin.find_app(sorted(twin.catalogue)[0])
    process, urls = start_sim(restart_ms)
    try:
        base = urls[0].split("/n/")[0]
        settings.DEV_LOCATION_URL = base + "/loc/{location}"
        settings.ALLOW_ANY_NODE_URL = True
        membership = manager_of_new_team(f"operations-{int(time.time())}")
        team = membership.team
        app = TeamApp.objects.create(team=team, name=entry.name, owner=entry.spec["owner"], spec=entry.spec,
                                     instances_wanted=len(entry.nodes))
        by_index = {}
        for index in entry.nodes:
            location = twin.identity(index).location
            node = Node.objects.create(team=team, name=f"sim{index}", address=location, base_url=urls[index])
            NodeSnapshot.objects.create(node=node, team=team, maintenance_blocks=400)
            by_index[index] = AppInstance.objects.create(app=app, team=team, location=location, node=node)
        key = next(k for k in keys.OWNERS if k.zelid == app.owner)
        phrase = fluxos_phrase(int(time.time() * 1000))
        wallet_actions.store_app_owner_authorisation(team=team, zelid=key.zelid, login_phrase=phrase,
                                                     signature=key.sign(phrase), actor=membership.user)

        job = actions.start_operation(membership=membership, app=app, operation="restart", mode="global")
        started, cpu = time.perf_counter(), time.process_time()
        run_job(job.pk)
        global_s, global_cpu = time.perf_counter() - started, time.process_time() - cpu
        job.refresh_from_db()
        print(f"global restart of {len(entry.nodes)} instances: {job.status} in {global_s:.3f} s "
              f"({global_cpu:.3f} s CPU) {job.error[:200]}", flush=True)
        global_ok = job.status == Job.Status.SUCCEEDED
        time.sleep(max(env_restart_seconds(i) for i in entry.nodes) + 1)  # let the global restart settle

        chosen = sorted(by_index, key=lambda i: by_index[i].location)[:ROLLING]
        own = sum(env_restart_seconds(i) for i in chosen)
        job = actions.start_operation(membership=membership, app=app, operation="restart", mode="rolling",
                                      instance_ids=[by_index[i].pk for i in chosen])
        started = time.perf_counter()
        run_job(job.pk)
        rolling_s = time.perf_counter() - started
        job.refresh_from_db()
        ratio = rolling_s / own if own else None
        print(f"rolling restart of {len(chosen)} instances: {job.status} in {rolling_s:.2f} s; their own restart "
              f"times sum to {own:.2f} s (×{ratio:.3f}) {job.error[:200]}", flush=True)
        rolling_ok = job.status == Job.Status.SUCCEEDED
    finally:
        process.terminate()
        process.wait(10)
    result = {"global_instances": len(entry.nodes), "global_panel_s": round(global_s, 3),
              "global_panel_cpu_s": round(global_cpu, 3), "global_ok": global_ok and global_s <= 2.0,
              "rolling_instances": len(chosen), "rolling_s": round(rolling_s, 2),
              "rolling_own_restart_sum_s": round(own, 2), "rolling_ratio": round(ratio, 3) if ratio else None,
              "rolling_ok": rolling_ok and ratio is not None and ratio <= 1.2, "restart_ms": restart_ms,
              "latency_ms": LATENCY_MS}
    print(json.dumps(result))
    sys.exit(0 if result["global_ok"] and result["rolling_ok"] else 1)


if __name__ == "__main__":
    main()
