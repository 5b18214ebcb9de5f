"""Workers and beat write a heartbeat row every few seconds from a background thread.

/healthz shows them, and `reap_stale_jobs` uses the workers' rows to tell a dead worker's jobs.
"""
import logging
import threading

from celery.signals import beat_init, worker_ready, worker_shutdown
from django.conf import settings
from django.db import close_old_connections
from django.utils import timezone

log = logging.getLogger(__name__)
_stop = threading.Event()


def beat_once(hostname: str, role: str) -> None:
    from apps.jobs.models import ProcessHeartbeat

    ProcessHeartbeat.objects.update_or_create(
        hostname=hostname, defaults={"role": role, "last_seen": timezone.now()}
    )


def _loop(hostname: str, role: str) -> None:
    from apps.jobs.models import ProcessHeartbeat

    ProcessHeartbeat.objects.update_or_create(
        hostname=hostname,
        defaults={"role": role, "last_seen": timezone.now(), "started_at": timezone.now()},
    )
    while not _stop.wait(settings.WORKER_HEARTBEAT_SECONDS):
        try:
            close_old_connections()
            beat_once(hostname, role)
        except Exception:  # a busy database must not kill the heartbeat thread
            log.warning("heartbeat write failed", exc_info=True)


def start(hostname: str, role: str) -> threading.Thread:
    thread = threading.Thread(target=_loop, args=(hostname, role), daemon=True, name="heartbeat")
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
