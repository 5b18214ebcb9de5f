"""Settings from the environment: defaults, URLs, and one clear line for a bad value."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

from fluxpanel import env

REPO = Path(__file__).resolve().parents[3]


def test_it_postgres_url_is_parsed():
    db = env.database_from_url("postgres://flux:s%40cret@db.example:5433/panel?sslmode=require")
    assert db["ENGINE"] == "django.db.backends.postgresql"
    assert (db["NAME"], db["USER"], db["PASSWORD"], db["HOST"], db["PORT"]) == (
        "panel", "flux", "s@cret", "db.example", "5433"
    )
    assert db["OPTIONS"] == {"sslmode": "require"}


def test_it_sqlite_url_is_parsed():
    assert env.database_from_url("sqlite:////tmp/x.sqlite3")["NAME"] == "/tmp/x.sqlite3"


@pytest.mark.parametrize("url", ["mysql://x/y", "postgres://host:port/db", "postgres://host/"])
def test_it_bad_database_url_names_the_variable(url):
    with pytest.raises(SystemExit, match="bad setting DATABASE_URL"):
        env.database_from_url(url)


def test_it_persistent_secret_is_created_once(tmp_path, monkeypatch):
    monkeypatch.delenv("SOME_SECRET", raising=False)
    path = tmp_path / "secret"
    first = env.persistent_secret("SOME_SECRET", path)
    assert env.persistent_secret("SOME_SECRET", path) == first
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    monkeypatch.setenv("SOME_SECRET", "given")
    assert env.persistent_secret("SOME_SECRET", path) == "given"


def _manage(args, tmp_path, **extra):
    environment = {k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE")}
    environment.update(FLUXPANEL_DATA_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="fluxpanel.settings", **extra)
    return subprocess.run([sys.executable, "manage.py", *args], cwd=REPO, env=environment,
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("name,value,expected", [
    ("DEBUG", "maybe", "bad setting DEBUG='maybe': expected true or false"),
    ("PORT", "eighty", "bad setting PORT='eighty': expected a whole number"),
    ("PORT", "70000", "bad setting PORT='70000': expected a number from 1 to 65535"),
    ("REDIS_URL", "localhost:6379", "bad setting REDIS_URL='localhost:6379': expected redis://host:port/db"),
])
def test_it_bad_value_gives_one_clear_line(tmp_path, name, value, expected):
    result = _manage(["check"], tmp_path, **{name: value})
    assert result.returncode != 0
    assert expected in result.stderr
    assert "Traceback" not in result.stderr


def test_it_check_deploy_passes_with_production_settings(tmp_path):
    result = _manage(["check", "--deploy", "--fail-level", "WARNING"], tmp_path,
                     DEBUG="false", SECURE_HTTPS="true", ALLOWED_HOSTS="panel.example.com",
                     SECRET_KEY="x" * 20 + "production-secret-key-with-enough-entropy-1234567890")
    assert result.returncode == 0, result.stderr + result.stdout
    # The first run kept its generated secrets in the data folder, not in the repository.
    assert (tmp_path / "encryption_key").exists()
    assert not (REPO / "secret_key").exists()
