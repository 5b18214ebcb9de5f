"""`python -m tests.sim.worldstate` starts the double and prints its base URL when ready."""
from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parents[3]


def test_it_cli_prints_url_and_serves_until_terminated():
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.sim.worldstate", "--port", "0", "--auth",
         "--admin-token", "cli-secret"],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        url = process.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        assert requests.get(url + "/api/admin/config", timeout=5).status_code == 200
        refused = requests.post(url + "/api/namespaces", json={"name": "team"}, timeout=5)
        assert refused.json() == {"error": "Admin token required"}
        created = requests.post(url + "/api/namespaces", json={"name": "team"}, timeout=5,
                                headers={"Authorization": "Bearer cli-secret"})
        assert created.status_code == 200
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
        process.stdout.close()
        process.stderr.close()
