"""Read settings from the environment, with one clear line (never a traceback) for a bad value.

Settings are imported by every process (web, worker, beat, manage.py); a typo in one variable
should tell the user which variable and what it expects, then stop.
"""
from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"0", "false", "no", "off", ""}


class SettingError(SystemExit):
    """A bad environment value: exits with a message naming the variable."""

    def __init__(self, name: str, value: str, expected: str):
        super().__init__(f"fluxpanel: bad setting {name}={value!r}: {expected}")


def get_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    word = raw.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise SettingError(name, raw, "expected true or false (1/0, yes/no, on/off)")


def get_int(name: str, default: int, *, minimum: int | None = None, maximum: int | None = None) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        raise SettingError(name, raw, "expected a whole number") from None
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        raise SettingError(name, raw, f"expected a number from {minimum} to {maximum}")
    return value


def get_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def get_str(name: str, default: str) -> str:
    return os.environ.get(name, default)


def private_dir(path: Path) -> Path:
    """Create `path` (and missing parents) readable by this user only (0700), and tighten an
    existing one that group or others can read: it holds the database, the broker's queued
    messages and the generated keys. A folder owned by someone else is left as it is."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        if path.stat().st_mode & 0o077:
            os.chmod(path, 0o700)
    except PermissionError:
        pass
    return path


def private_file(path: Path) -> Path:
    """Create `path` empty with mode 0600 if it does not exist (SQLite would create its database
    file 0644 under the usual umask, and its journal/WAL files copy the database file's mode)."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        try:
            if path.stat().st_mode & 0o077:
                os.chmod(path, 0o600)  # a database created by an older version
        except PermissionError:
            pass
    return path


def persistent_secret(name: str, path: Path, *, length: int = 50) -> str:
    """Return the variable `name`, else a secret kept in `path` (created once, mode 0600).

    So a first run needs no configuration and creates nothing secret inside the repository.
    """
    value = os.environ.get(name, "").strip()
    if value:
        return value
    if path.exists():
        return path.read_text().strip()
    private_dir(path.parent)
    value = secrets.token_urlsafe(length)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(value)
    return value


def database_from_url(url: str, *, name: str = "DATABASE_URL") -> dict:
    """Translate postgres://user:pass@host:port/db or sqlite:///path into a Django DATABASES entry."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme == "sqlite":
        path = unquote(parts.path)
        if path.startswith("//"):  # sqlite:////abs/path
            path = path[1:]
        elif path.startswith("/"):
            path = path[1:] if not Path(path).is_absolute() else path
        if not path:
            raise SettingError(name, url, "sqlite URL needs a file path, e.g. sqlite:///var/db.sqlite3")
        return {"ENGINE": "django.db.backends.sqlite3", "NAME": path}
    if scheme in {"postgres", "postgresql", "pgsql"}:
        database = unquote(parts.path.lstrip("/"))
        if not database:
            raise SettingError(name, url, "a PostgreSQL URL needs a database name")
        try:
            port = parts.port
        except ValueError:
            raise SettingError(name, url, "the port must be a number") from None
        options = {key: values[-1] for key, values in parse_qs(parts.query).items()}
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": database,
            "USER": unquote(parts.username or ""),
            "PASSWORD": unquote(parts.password or ""),
            "HOST": parts.hostname or "",
            "PORT": str(port or ""),
            "OPTIONS": options,
            "CONN_MAX_AGE": 60,
            "CONN_HEALTH_CHECKS": True,
        }
    raise SettingError(name, url, "expected postgres://user:password@host:port/name or sqlite:///path")


def check_redis_url(url: str, name: str = "REDIS_URL") -> str:
    parts = urlsplit(url)
    if parts.scheme not in {"redis", "rediss", "unix"} or not (parts.hostname or parts.path):
        raise SettingError(name, url, "expected redis://host:port/db")
    return url


def fail(message: str) -> None:
    print(f"fluxpanel: {message}", file=sys.stderr)
    raise SystemExit(2)
