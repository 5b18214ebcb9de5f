"""Workers and beat write a heartbeat row every few seconds from a background thread.

Each process has its own identity (`process_identity()`: node name, pid and a random part made at
process start). Jobs record the identity of the process that runs them, so `reap_stale_jobs` can
tell that a job's process is gone even when a new worker with the same node name is alive.
/healthz shows the rows.
"""
from __future__ import annotations

import logging
import os
import threading
import uuid
from datetime import timedelta

from celery.signals import beat_init, worker_ready, worker_shutdown
from django.conf import settings
from django.db import close_old_connections
from django.utils import timezone

log = logging.getLogger(__name__)
_stop = threading.Event()
_identity: dict[int, str] = {}  # pid -> identity (a forked child gets a fresh one)
# Rows of processes silent for this long are deleted (they only matter while jobs may name them).
FORGET_AFTER = timedelta(days=7)


def process_identity(hostname: str = "") -> str:
    """The identity of this process; the first call (with the Celery node name) fixes it."""
    pid = os.getpid()
    if pid not in _identity:
        name = hostname or f"process@{os.uname().nodename}"
        _identity[pid] = f"{name}/{pid}/{uuid.uuid4().hex[:12]}"[:200]
    return _identity[pid]


def beat_once(identity: str, role: str, hostname: str = "") -> None:
    from apps.jobs.models import ProcessHeartbeat

    now = timezone.now()
    updated = ProcessHeartbeat.objects.filter(identity=identity).update(last_seen=now)
    if not updated:
        ProcessHeartbeat.objects.update_or_create(
            identity=identity,
            defaults={"hostname": hostname or identity.split("/", 1)[0], "pid": os.getpid(),
                      "role": role, "last_seen": now, "started_at": now},
        )


def forget_old(now=None) -> int:
    from apps.jobs.models import ProcessHeartbeat

    now = now or timezone.now()
    deleted, _ = ProcessHeartbeat.objects.filter(last_seen__lt=now - FORGET_AFTER).delete()
    return deleted


def process_status(role: str) -> dict:
    """The /healthz report of the newest heartbeat of `role` (worker or beat)."""
    from apps.jobs.models import ProcessHeartbeat

    latest = ProcessHeartbeat.objects.filter(role=role).order_by("-last_seen").first()
    if latest is None:
        return {"status": "never seen"}
    age = (timezone.now() - latest.last_seen).total_seconds()
    return {
        "status": "ok" if age <= settings.WORKER_STALE_SECONDS else "stale",
        "hostname": latest.hostname,
        "last_seen_seconds_ago": round(age, 1),
    }


def _loop(identity: str, role: str, hostname: str) -> None:
    try:
        beat_once(identity, role, hostname)
    except Exception:
        log.warning("first heartbeat write failed", exc_info=True)
    while not _stop.wait(settings.WORKER_HEARTBEAT_SECONDS):
        try:
            close_old_connections()
            beat_once(identity, role, hostname)
        except Exception:  # a busy database must not kill the heartbeat thread
            log.warning("heartbeat write failed", exc_info=True)


def start(hostname: str, role: str) -> threading.Thread:
    identity = process_identity(hostname)
    thread = threading.Thread(target=_loop, args=(identity, role, hostname), daemon=True,
                              name="heartbeat")
    thread.start()
    return thread


@worker_ready.connect
def _worker_ready(sender=None, **kwargs):
    start(sender.hostname, "worker")


@worker_shutdown.connect
def _worker_shutdown(sender=None, **kwargs):
    _stop.set()


@beat_init.connect
def _beat_init(sender=None, **kwargs):
    import socket

    start(f"beat@{socket.gethostname()}", "beat")
