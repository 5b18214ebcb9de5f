"""`GET /healthz`: is the database up, is the broker up, and what the apps report (worker, beat).

200 when the database and the broker both work, 503 naming the failing part otherwise. Parts that
apps register with `register_report` (the jobs app: worker and beat heartbeats) are shown but do
not fail the check: a web server without a worker is still serving pages. This module imports no
app: apps fill the registry from their AppConfig.ready().
"""
from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache

# name -> function returning a JSON-able dict (it needs the database, so it runs only when the
# database check passed).
REPORTS: dict[str, Callable[[], dict]] = {}


def register_report(name: str, report: Callable[[], dict]) -> None:
    REPORTS[name] = report


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
    }
    for name, report in REPORTS.items():
        body[name] = _report(report) if not database else {"status": "unknown"}
    if problems:
        body["failing"] = sorted(problems)
    return JsonResponse(body, status=200 if not problems else 503)


def _report(report: Callable[[], dict]) -> dict:
    try:
        return report()
    except Exception:  # a report must never turn the health answer into a 500
        return {"status": "unknown"}
