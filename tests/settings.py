"""Settings for the test run: the project's settings with a throw-away data folder.

The database comes from FLUXPANEL_TEST_DB:
- `sqlite` (the default): an SQLite *file*, so that a real Celery worker process started by a test
  sees the same rows as the test itself;
- `postgres`: a real PostgreSQL server that tests/pg_server.py starts for the run (or reuses, when a
  parent process started it and exported FLUXPANEL_TEST_PG_URL).
A process started by a test (the `worker` fixture) drops FLUXPANEL_TEST_DB and gets DATABASE_URL
naming the test database itself, so it reads the project's own DATABASE_URL handling.

Under pytest-xdist each worker gets its own data folder (broker files, static root) below the run's
one; pytest-django gives each its own test database (suffix _gw0, _gw1, …).
"""
import os
import tempfile
from pathlib import Path

_run_folder = os.environ.setdefault("FLUXPANEL_DATA_DIR", tempfile.mkdtemp(prefix="fluxpanel-test-"))
_xdist_worker = os.environ.get("PYTEST_XDIST_WORKER")
if _xdist_worker and Path(_run_folder).name != _xdist_worker:
    os.environ["FLUXPANEL_DATA_DIR"] = str(Path(_run_folder) / _xdist_worker)
    Path(os.environ["FLUXPANEL_DATA_DIR"]).mkdir(parents=True, exist_ok=True)

from fluxpanel.settings import *  # noqa: E402,F403
from fluxpanel.settings import DATA_DIR, DATABASES  # noqa: E402

TEST_DB = os.environ.get("FLUXPANEL_TEST_DB", "sqlite").strip().lower() or "sqlite"
if TEST_DB == "postgres":
    from fluxpanel.env import database_from_url  # noqa: E402
    from tests.pg_server import ensure_server  # noqa: E402

    # Connections are not kept across requests in tests: a kept one would hold the test database
    # open when pytest-django drops it at the end.
    DATABASES = {"default": {**database_from_url(ensure_server()), "CONN_MAX_AGE": 0,
                             "CONN_HEALTH_CHECKS": False}}
elif TEST_DB == "sqlite":
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / "test-db.sqlite3")}
else:
    raise RuntimeError(f"FLUXPANEL_TEST_DB={TEST_DB!r}: expected sqlite or postgres")
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Tests never reach the public stats API: a documentation address, refused by netguard at once
# (tests that want figures point it at tests/sim/fluxstats.py).
FLUX_STATS_API_URL = "http://203.0.113.1"
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES = {
    **STORAGES,  # noqa: F405 - the backups storage (a folder under the test data folder) is kept
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

from fluxpanel.settings import STATIC_ROOT  # noqa: E402

STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise warns when it is missing

# The world-state engine double listens on loopback; the SSRF tests set this back to False.
ALLOW_PRIVATE_ENGINES = True
# The suite asks for many wallet messages from one address; the throttle's own test lowers this.
WALLET_CHALLENGES_PER_CLIENT = 100000
