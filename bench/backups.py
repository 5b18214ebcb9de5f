"""A 1 GiB backup from a simulated node into the panel's storage (issue 16).

    uv run python bench/backups.py [--mib N]

The simulator runs in its own process with one node whose component's archive is a 1 GiB tar.gz
on disk (random data, so gzip cannot shrink it, like a volume of media or database files). Then:
1. A bare `requests` streamed copy of that archive's download to a file (1 MiB pieces): once before
   the job (which also warms the page cache) and twice after; the median run counts (all are printed).
2. The panel's backup job, run by a real Celery worker process (solo pool, filesystem broker): the
   node's task, the download into the storage (SHA-256, sealed chunks), the verification. Its
   transfer throughput is compared with the faster bare copy (≥ 80 %), and the worker's peak RSS
   (VmHWM) is read from /proc (≤ 150 MB).
3. The time to read the stored archive back (`read_plain`, what a download does) against the
   job's verification time (≤ 2 ×).
Last line: one JSON object.
"""
from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

import _panel  # noqa: F401  (puts the repository on sys.path)
from _panel import REPO, manager_of_new_team, setup_django

MIB = 1024 * 1024
ARCHIVE_CACHE = Path(tempfile.gettempdir()) / "fluxpanel-bench-backup-{mib}m.tar.gz"


def build_archive(mib: int) -> Path:
    """A tar.gz of random members, made once per size and kept in the temp folder."""
    path = Path(str(ARCHIVE_CACHE).format(mib=mib))
    if path.exists() and path.stat().st_size > mib * MIB:
        return path
    partial = path.with_suffix(".partial")
    member = 64 * MIB
    with tarfile.open(partial, "w:gz", compresslevel=6) as archive:
        left = mib * MIB
        number = 0
        while left > 0:
            size = min(member, left)
            info = tarfile.TarInfo(f"data/part-{number:03}.bin")
            info.size = size
            archive.addfile(info, io.BytesIO(os.urandom(size)))
            left -= size
            number += 1
    partial.rename(path)
    return path


def start_sim():
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.sim.fluxnode", "--nodes", "1", "--apps", "1", "--instances", "1",
         "--port", "0", "--seed", "1", "--stream-delay-ms", "0"],
        cwd=REPO, stdout=subprocess.PIPE, text=True)
    url = process.stdout.readline().strip()
    if not url:
        process.kill()
        raise RuntimeError("the simulator did not print its URL")
    return process, url


def start_worker(env: dict) -> subprocess.Popen:
    log = open(Path(env["FLUXPANEL_DATA_DIR"]) / "worker.log", "wb")  # noqa: SIM115 - lives as long as the worker
    return subprocess.Popen([sys.executable, "-m", "celery", "-A", "fluxpanel", "worker", "--pool", "solo",
                             "--loglevel", "WARNING", "--hostname", "benchworker@%h"],
                            cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM")


def bare_copy(url: str, headers: dict, dest: Path) -> tuple[int, float]:
    import requests

    started = time.perf_counter()
    size = 0
    with requests.get(url, headers=headers, stream=True, timeout=(5, 60)) as response, open(dest, "wb") as out:
        response.raise_for_status()
        for chunk in response.iter_content(MIB):
            out.write(chunk)
            size += len(chunk)
    seconds = time.perf_counter() - started
    dest.unlink()
    return size, seconds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mib", type=int, default=1024)
    args = parser.parse_args()
    setup_django()
    from django.conf import settings

    from apps.backups import actions, storage
    from apps.backups.models import Backup
    from apps.deployments.models import AppInstance, TeamApp
    from apps.jobs.models import Job
    from apps.nodes.models import Node
    from apps.wallets import actions as wallet_actions
    from fluxpanel.fluxos.client.backups import local_archive_path
    from tests.sim import keys
    from tests.sim.fluxnode_auth import fluxos_phrase
    from tests.sim.fluxnode_server import Fleet

    archive = build_archive(args.mib)
    twin = Fleet(1, seed=1, apps=1, instances=1)
    entry = twin.find_app(sorted(twin.catalogue)[0])
    component = entry.spec["compose"][0]["name"]
    process, url = start_sim()
    worker = None
    try:
        import requests

        base = url.split("/n/")[0]
        placed = requests.post(f"{base}/_sim/nodes/0/volume-archive", timeout=10,
                               json={"app": entry.name, "component": component, "path": str(archive)})
        placed.raise_for_status()
        mount = placed.json()["mount"]
        location = twin.identity(0).location
        membership = manager_of_new_team(f"backups-{int(time.time())}")
        team = membership.team
        app = TeamApp.objects.create(team=team, name=entry.name, owner=entry.spec["owner"], spec=entry.spec,
                                     instances_wanted=1)
        node = Node.objects.create(team=team, name="sim0", address=location, base_url=url)
        instance = AppInstance.objects.create(app=app, team=team, location=location, node=node, state="running")
        key = next(k for k in keys.OWNERS if k.zelid == app.owner)
        phrase = fluxos_phrase(int(time.time() * 1000))
        signature = key.sign(phrase)
        wallet_actions.store_app_owner_authorisation(team=team, zelid=key.zelid, login_phrase=phrase,
                                                     signature=signature, actor=membership.user)

        # The bare copy of the same download; the first one also brings the archive into the page
        # cache, so the panel's transfer does not pay a cold read the bare copies would not.
        file_url = f"{base}/loc/{location}/backup/downloadlocalfile/" + requests.utils.quote(
            local_archive_path(mount, component), safe="") + f"/{app.name}"
        headers = {"zelidauth": key.auth_header(phrase)}
        task = requests.post(f"{base}/loc/{location}/apps/appendbackuptask", data=json.dumps(
            {"appname": app.name, "backup": [{"component": component, "backup": True}]}),
            headers={**headers, "Content-Type": "application/json"}, timeout=60)
        print(f"the node's backup task: {task.text.strip().splitlines()[-1:]}", flush=True)
        bare = [bare_copy(file_url, headers, Path(settings.DATA_DIR) / "bare.tar.gz")]

        env = dict(os.environ, FLUXPANEL_DEV_LOCATION_URL=base + "/loc/{location}",
                   FLUXPANEL_ALLOW_ANY_NODE_URL="true", WORKER_HEARTBEAT_SECONDS="1")
        worker = start_worker(env)
        job = actions.start_backup(membership=membership, app=app, instance=instance, components=[component],
                                   remove_from_node=False)
        deadline = time.monotonic() + 1800
        while not Job.objects.get(pk=job.pk).is_finished and time.monotonic() < deadline:
            time.sleep(0.5)
        job.refresh_from_db()
        rss = peak_rss_mb(worker.pid)
        backup = Backup.objects.get(job=job)
        print(f"panel backup job: {job.status}, {backup.status} {backup.failure}", flush=True)

        # Bare copies after the job too (the archive stays on the node: remove_from_node=False).
        bare += [bare_copy(file_url, headers, Path(settings.DATA_DIR) / "bare.tar.gz") for _ in range(2)]
        # The median run: a copy whose file is deleted before the kernel writes it back finishes in
        # the page cache, others wait for the disk; the median is the copy to disk this run could do.
        bare_size, bare_s = sorted(bare, key=lambda item: item[1])[len(bare) // 2]
        bare_rate = bare_size / bare_s / MIB
        panel_rate = backup.size / backup.transfer_seconds / MIB if backup.transfer_seconds else 0.0
        print(f"bare requests copy (median): {bare_size / MIB:.0f} MiB at {bare_rate:.0f} MiB/s "
              f"(runs: {', '.join(f'{s:.2f} s' for _, s in bare)}); panel: {panel_rate:.0f} MiB/s "
              f"in {backup.transfer_seconds or 0:.2f} s; worker peak RSS {rss:.0f} MB", flush=True)

        started = time.perf_counter()
        read = sum(len(chunk) for chunk in storage.read_plain(backup.storage_name, context=f"backup:{backup.pk}"))
        read_s = time.perf_counter() - started
        print(f"read back {read / MIB:.0f} MiB in {read_s:.2f} s; the job's verification took "
              f"{backup.verify_seconds or 0:.2f} s", flush=True)
    finally:
        if worker is not None:
            worker.terminate()
            worker.wait(30)
        process.terminate()
        process.wait(10)
    ratio = panel_rate / bare_rate if bare_rate else 0.0
    verify_ratio = (backup.verify_seconds or 0) / read_s if read_s else None
    result = {"archive_mib": round(backup.size / MIB) if backup.size else None, "status": backup.status,
              "panel_mib_s": round(panel_rate, 1), "bare_requests_mib_s": round(bare_rate, 1),
              "bare_runs_s": [round(seconds, 2) for _, seconds in bare],
              "throughput_ratio": round(ratio, 3), "throughput_ok": ratio >= 0.8,
              "worker_peak_rss_mb": round(rss, 1), "rss_ok": rss <= 150,
              "verify_s": round(backup.verify_seconds or 0, 2), "read_s": round(read_s, 2),
              "verify_ratio": round(verify_ratio, 2) if verify_ratio else None,
              "verify_ok": backup.status == Backup.Status.VERIFIED and verify_ratio is not None and verify_ratio <= 2}
    print(json.dumps(result))
    sys.exit(0 if result["throughput_ok"] and result["rss_ok"] and result["verify_ok"] else 1)


if __name__ == "__main__":
    main()
