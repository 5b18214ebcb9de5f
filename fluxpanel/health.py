"""`GET /healthz`: is the database up, is the broker up, are worker and beat alive.

200 when the database and the broker both work, 503 naming the failing part otherwise. Worker and
beat are reported (with the age of their last heartbeat) but do not fail the check: a web server
without a worker is still serving pages.
"""
from __future__ import annotations

from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache


def check_database() -> str | None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


def check_broker() -> str | None:
    from fluxpanel.celery import app

    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
            if conn.transport_cls == "filesystem" or conn.transport.driver_type == "filesystem":
                _check_broker_folder()
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


def _check_broker_folder() -> None:
    folder = settings.CELERY_BROKER_TRANSPORT_OPTIONS["data_folder_in"]
    from pathlib import Path

    path = Path(folder)
    path.mkdir(parents=True, exist_ok=True)
    probe = path / ".healthz"
    probe.write_text("ok")
    probe.unlink()


def process_status(role: str) -> dict:
    from apps.jobs.models import ProcessHeartbeat

    try:
        latest = ProcessHeartbeat.objects.filter(role=role).order_by("-last_seen").first()
    except Exception:
        return {"status": "unknown"}
    if latest is None:
        return {"status": "never seen"}
    age = (timezone.now() - latest.last_seen).total_seconds()
    alive = age <= settings.WORKER_STALE_SECONDS
    return {
        "status": "ok" if alive else "stale",
        "hostname": latest.hostname,
        "last_seen_seconds_ago": round(age, 1),
    }


@never_cache
def healthz(request):
    problems = {}
    database = check_database()
    if database:
        problems["database"] = database
    broker = check_broker()
    if broker:
        problems["broker"] = broker
    body = {
        "status": "ok" if not problems else "error",
        "database": "ok" if not database else database,
        "broker": "ok" if not broker else broker,
        "worker": process_status("worker") if not database else {"status": "unknown"},
        "beat": process_status("beat") if not database else {"status": "unknown"},
    }
    if problems:
        body["failing"] = sorted(problems)
    return JsonResponse(body, status=200 if not problems else 503)
