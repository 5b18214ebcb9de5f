"""`make run`: migrate, then run the web server, a Celery worker, beat and the world-state
subscriber (live updates from the engines) in the foreground.

Ctrl-C (or SIGTERM) stops all four; if one of them exits, the others are stopped too, so the
panel never keeps running half-alive.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path


def _settings():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fluxpanel.settings")
    import django

    django.setup()
    from django.conf import settings

    return settings


def prepare(settings) -> None:
    from django.core.management import call_command

    from fluxpanel.env import private_dir

    private_dir(settings.DATA_DIR)  # settings did this already; kept so the rule reads here too
    options = getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", {})
    for key in ("data_folder_in", "data_folder_out", "control_folder"):
        if key in options:
            private_dir(Path(options[key]))
    call_command("migrate", interactive=False, verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)


def first_run_hint() -> None:
    from django.contrib.auth import get_user_model

    if not get_user_model().objects.exists():
        print(
            "\nfluxpanel: no account yet. Open the panel in your browser to create the first one "
            "(it manages your first team),\n"
            "or run: uv run python manage.py createsuperuser\n",
            flush=True,
        )


def commands(settings) -> list[tuple[str, list[str]]]:
    python = sys.executable
    host = os.environ.get("HOST", "127.0.0.1")
    worker = [python, "-m", "celery", "-A", "fluxpanel", "worker", "--loglevel", "INFO",
              "--pool", "threads", "--concurrency", os.environ.get("WORKER_CONCURRENCY", "8"),
              "--hostname", "worker@%h"]
    if not settings.REDIS_URL:
        # The filesystem broker has no broadcast channel for these worker-to-worker chats.
        worker += ["--without-gossip", "--without-mingle", "--without-heartbeat"]
    return [
        ("web", [python, "-m", "gunicorn", "fluxpanel.wsgi:application",
                 "--bind", f"{host}:{settings.PORT}", "--workers", os.environ.get("WEB_WORKERS", "2"),
                 "--threads", "4", "--access-logfile", "-", "--graceful-timeout", "5"]),
        ("worker", worker),
        ("beat", [python, "-m", "celery", "-A", "fluxpanel", "beat", "--loglevel", "INFO",
                  "--pidfile", ""]),
        # Needs only the database (no broker): one WebSocket per registered engine.
        ("subscriber", [python, str(Path(__file__).resolve().parent.parent / "manage.py"),
                        "worldstate_subscribe"]),
    ]


def main(before_start=None, banner: str = "") -> int:
    """Run the panel; `before_start(settings)` runs after migrations (the demo seeds there)."""
    settings = _settings()
    prepare(settings)
    if before_start is not None:
        before_start(settings)
    first_run_hint()
    processes: dict[str, subprocess.Popen] = {}
    for name, argv in commands(settings):
        processes[name] = subprocess.Popen(argv, start_new_session=True)
    host = os.environ.get("HOST", "127.0.0.1")
    print(f"fluxpanel: serving on http://{host}:{settings.PORT}/ (Ctrl-C stops everything)", flush=True)
    if banner:
        print(banner, flush=True)

    stopping = False

    def stop(*_):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    exit_code = 0
    while not stopping:
        for name, process in processes.items():
            if process.poll() is not None:
                print(f"fluxpanel: {name} exited with code {process.returncode}; stopping.", flush=True)
                exit_code = process.returncode or 1
                stopping = True
                break
        time.sleep(0.3)
    for process in processes.values():
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 15
    for process in processes.values():
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
