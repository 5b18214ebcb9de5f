"""How long a full fleet sweep takes, against simulated nodes answering with 100 ms latency.

    uv run python bench/sweep.py [--nodes 1000] [--quick] [--no-workers] [--profile]

Measures: a sweep of N nodes (probe + bulk write), the same with 5 % of the nodes hanging (they
cost one per-node timeout, in parallel), a sweep of 10,000 nodes (skipped with --quick), and the
peak resident memory of this process, which does the sweeping. Then (skipped with --quick or
--no-workers) the 10,000-node sweep as production runs it: `nodes.sweep_team` sent through a real
Redis to 1, then 2, real Celery worker processes (sharded across them when there are 2), timed
from the send until the Sweep row is done, with each worker's peak RSS. --profile prints where one
in-process 10,000-node sweep spends its time (phases, CPU of this process and of the simulator).
Every sweep starts from "not swept yet", so each one writes the same rows. Last line: one JSON
object.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import _panel  # noqa: F401  (puts the repository on sys.path)
import requests
from _panel import REPO, manager_of_new_team, setup_django, start_sim


def timed_sweep(team_id: int) -> tuple[float, object]:
    from apps.nodes.sweep import run_sweep

    started = time.perf_counter()
    sweep = run_sweep(team_id)
    return time.perf_counter() - started, sweep


def register(urls: list[str], name: str):
    from apps.nodes.actions import register_nodes

    membership = manager_of_new_team(name)
    register_nodes(membership=membership, text="\n".join(urls))
    return membership.team


def sim_admin_url(node_url: str) -> str:
    return node_url.split("/n/")[0]


def not_swept_yet(team_id: int) -> None:
    """Back to the state after registration, so every timed sweep writes the same rows."""
    from apps.nodes.models import NodeSnapshot, StatusChange

    NodeSnapshot.objects.filter(team_id=team_id).update(state="unknown", checked_at=None)
    StatusChange.objects.filter(team_id=team_id).delete()


def cpu_seconds(pid: int | None = None) -> float:
    if pid is None:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return usage.ru_utime + usage.ru_stime
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def profiled_sweep(team_id: int, sim_pid: int) -> dict:
    """Where one in-process sweep's time goes: probing vs writing, and whose CPU."""
    from apps.nodes import sweep as sweeping

    phases = {}

    def timed(name, fn):
        def wrapper(*args, **kwargs):
            started = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                phases[name] = round(time.perf_counter() - started, 2)
        return wrapper

    probe_all, write_results = sweeping.probe_all, sweeping.write_results
    sweeping.probe_all, sweeping.write_results = timed("probe_s", probe_all), timed("write_s", write_results)
    own, sim = cpu_seconds(), cpu_seconds(sim_pid)
    try:
        seconds, _ = timed_sweep(team_id)
    finally:
        sweeping.probe_all, sweeping.write_results = probe_all, write_results
    return {"seconds": round(seconds, 2), **phases, "sweeper_cpu_s": round(cpu_seconds() - own, 2),
            "simulator_cpu_s": round(cpu_seconds(sim_pid) - sim, 2)}


def start_redis() -> tuple[subprocess.Popen, str, str]:
    binary = shutil.which("redis-server")
    if binary is None:
        raise SystemExit("redis-server is not installed (the worker figures need it); use --no-workers")
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    folder = tempfile.mkdtemp(prefix="fluxpanel-bench-redis-")
    process = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                "--appendonly", "no", "--dir", folder],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                break
        except OSError:
            time.sleep(0.05)
    return process, f"redis://127.0.0.1:{port}/0", folder


def start_workers(count: int) -> list[subprocess.Popen]:
    """`count` Celery worker processes on this bench's database and broker; waits for their heartbeats."""
    from apps.jobs.models import ProcessHeartbeat

    ProcessHeartbeat.objects.all().delete()  # earlier runs' workers are not alive
    environment = dict(os.environ, WORKER_HEARTBEAT_SECONDS="1")
    workers = [subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "fluxpanel", "worker", "--loglevel", "WARNING",
         "--pool", "threads", "--concurrency", "2", "--hostname", f"bench{index}@%h",
         "--without-gossip", "--without-mingle", "--without-heartbeat"],
        cwd=REPO, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    ) for index in range(count)]
    deadline = time.monotonic() + 120
    while ProcessHeartbeat.objects.filter(role="worker").count() < count:
        if time.monotonic() > deadline or any(w.poll() is not None for w in workers):
            stop(workers)
            raise RuntimeError("the workers did not start")
        time.sleep(0.2)
    return workers


def peak_rss_mb(pid: int) -> float:
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def stop(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


def sweep_by_workers(team_id: int, count: int, sim_pid: int) -> tuple[float, object, dict]:
    """One sweep through `count` real worker processes: seconds, the Sweep, and what it cost (each
    worker's peak RSS and CPU seconds, the simulator's CPU seconds, the shards)."""
    from apps.nodes.models import Sweep
    from apps.nodes.tasks import sweep_team_task

    workers = start_workers(count)
    try:
        not_swept_yet(team_id)
        before = set(Sweep.objects.filter(team_id=team_id).values_list("pk", flat=True))
        cpu_before = [cpu_seconds(w.pid) for w in workers] + [cpu_seconds(sim_pid)]
        started = time.perf_counter()
        sweep_team_task.delay(team_id)
        deadline = time.monotonic() + 300
        while True:
            sweep = Sweep.objects.filter(team_id=team_id).exclude(pk__in=before).first()
            if sweep is not None and sweep.status != Sweep.Status.RUNNING:
                break
            if time.monotonic() > deadline:
                raise RuntimeError("the workers' sweep did not finish")
            time.sleep(0.05)
        seconds = time.perf_counter() - started
        pids = [w.pid for w in workers] + [sim_pid]
        cpu = [round(cpu_seconds(pid) - was, 1) for pid, was in zip(pids, cpu_before, strict=True)]
        return seconds, sweep, {"rss_mb": [peak_rss_mb(w.pid) for w in workers], "worker_cpu_s": cpu[:-1],
                                "simulator_cpu_s": cpu[-1], "shards": sweep.shards.count(),
                                "load": os.getloadavg()[0]}
    finally:
        stop(workers)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--nodes", type=int, default=1000)
    parser.add_argument("--latency-ms", type=int, default=100)
    parser.add_argument("--quick", action="store_true", help="skip the 10,000-node sweeps")
    parser.add_argument("--no-workers", action="store_true", help="skip the sweeps through Celery workers")
    parser.add_argument("--profile", action="store_true", help="print where a 10,000-node sweep spends its time")
    args = parser.parse_args()
    with_workers = not (args.quick or args.no_workers)
    redis = None
    if with_workers:  # before Django reads its settings: the broker comes from REDIS_URL
        redis = start_redis()
        os.environ["REDIS_URL"] = redis[1]
    setup_django()
    from django.conf import settings

    results = {"nodes": args.nodes}
    sim, urls = start_sim(args.nodes, latency_ms=args.latency_ms)
    try:
        team = register(urls, "bench-1k")
        seconds, sweep = timed_sweep(team.pk)
        assert sweep.done == args.nodes and sweep.failed == 0, (sweep.done, sweep.failed)
        results["seconds"] = round(seconds, 2)
        print(f"{args.nodes} nodes: {seconds:.2f} s", flush=True)

        hung = list(range(0, args.nodes, 20))  # 5 %
        admin = sim_admin_url(urls[0])
        for index in hung:
            requests.post(f"{admin}/_sim/nodes/{index}/fault", json={"kind": "hang"}, timeout=5)
        seconds, sweep = timed_sweep(team.pk)
        assert sweep.failed == len(hung), sweep.failed
        results["hung_seconds"] = round(seconds, 2)
        results["timeout_seconds"] = settings.SWEEP_TIMEOUT_SECONDS
        print(f"{args.nodes} nodes, {len(hung)} hanging: {seconds:.2f} s "
              f"(per-node timeout {settings.SWEEP_TIMEOUT_SECONDS} s)", flush=True)
    finally:
        sim.kill()
        sim.wait()

    if not args.quick:
        sim, urls = start_sim(10_000, latency_ms=args.latency_ms, seed=2)
        try:
            team = register(urls, "bench-10k")
            seconds, sweep = timed_sweep(team.pk)
            assert sweep.done == 10_000, sweep.done
            results["seconds_10000"] = round(seconds, 2)
            print(f"10000 nodes: {seconds:.2f} s", flush=True)
            if args.profile:
                not_swept_yet(team.pk)
                print("10000 nodes, where the time goes:", json.dumps(profiled_sweep(team.pk, sim.pid)), flush=True)
            results["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
            for count in (1, 2) if with_workers else ():
                seconds, sweep, cost = sweep_by_workers(team.pk, count, sim.pid)
                assert (sweep.status, sweep.done, sweep.failed) == ("done", 10_000, 0), (
                    sweep.status, sweep.done, sweep.failed)
                label = "worker" if count == 1 else "workers"
                results[f"seconds_10000_{count}_{label}"] = round(seconds, 2)
                results[f"peak_rss_mb_per_worker_{count}_{label}"] = max(cost["rss_mb"])
                print(f"10000 nodes, {count} worker process(es), {cost['shards'] or 1} shard(s): {seconds:.2f} s, "
                      f"peak RSS per worker {cost['rss_mb']} MB, CPU s per worker {cost['worker_cpu_s']}, "
                      f"simulator CPU {cost['simulator_cpu_s']} s, load average {cost['load']:.1f}", flush=True)
        finally:
            sim.kill()
            sim.wait()
            if redis is not None:
                redis[0].terminate()
                redis[0].wait()
                shutil.rmtree(redis[2], ignore_errors=True)
    results.setdefault("peak_rss_mb", round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1))
    print(json.dumps(results))


if __name__ == "__main__":
    main()
