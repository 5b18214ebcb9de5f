"""Shared set-up for benches that need the panel: Django on a throw-away database, and the
simulated fleet as its own process (so it has its own core and never shares our GIL)."""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))


def setup_django() -> None:
    os.environ.setdefault("FLUXPANEL_DATA_DIR", tempfile.mkdtemp(prefix="fluxpanel-bench-"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fluxpanel.settings")
    os.environ.setdefault("FLUXPANEL_ALLOW_ANY_NODE_URL", "true")
    os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def start_sim(nodes: int, *, latency_ms: int = 0, seed: int = 1) -> tuple[subprocess.Popen, list[str]]:
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.sim.fluxnode", "--nodes", str(nodes), "--port", "0",
         "--seed", str(seed), "--latency-ms", str(latency_ms)],
        cwd=REPO, stdout=subprocess.PIPE, text=True,
    )
    urls = [process.stdout.readline().strip() for _ in range(nodes)]
    if not all(urls):
        process.kill()
        raise RuntimeError("the simulator did not print its URLs")
    return process, urls


def manager_of_new_team(name: str):
    from django.contrib.auth import get_user_model

    from apps.accounts.models import Membership, Role, Team

    user, _ = get_user_model().objects.get_or_create(username=f"bench-{name}")
    team = Team.objects.create(name=name)
    return Membership.objects.create(team=team, user=user, role=Role.MANAGER)
