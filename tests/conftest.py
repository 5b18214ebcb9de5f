"""Shared fixtures: the four personas of every view test, a real Redis server, a real worker.

The database (SQLite file or a real PostgreSQL server) is chosen in tests/settings.py."""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def redis_url():
    """A real redis-server on a free loopback port, for the whole run."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail("redis-server is not installed: run `make test` (it installs it) or apt-get install redis-server")
    port = free_port()
    folder = tempfile.mkdtemp(prefix="fluxpanel-redis-")
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", folder],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2) as conn:
                conn.sendall(b"PING\r\n")
                if conn.recv(16).startswith(b"+PONG"):
                    break
        except OSError:
            time.sleep(0.05)
    else:
        process.kill()
        pytest.fail("redis-server did not start")
    yield f"redis://127.0.0.1:{port}/0"
    process.terminate()
    process.wait(timeout=10)
    shutil.rmtree(folder, ignore_errors=True)

def use_broker(app, url: str) -> None:
    """Point the Celery app at `url`, dropping pooled connections to the previous broker (a
    producer pool made by an earlier `.delay()` would otherwise keep sending there)."""
    from kombu import pools

    app.conf.broker_url = url
    pools.reset()  # kombu's global producer pools are keyed by connection
    app._pool = None
    app.amqp._producer_pool = None


@pytest.fixture
def redis_broker(redis_url):
    """Point the panel's Celery app at the test Redis for one test."""
    from fluxpanel.celery import app as celery_app

    old = celery_app.conf.broker_url
    use_broker(celery_app, redis_url)
    yield redis_url
    use_broker(celery_app, old)


def database_url_of(settings_dict: dict) -> str:
    """The URL of a connection's database (during a test: pytest-django's test_* one)."""
    from urllib.parse import quote

    if settings_dict["ENGINE"] == "django.db.backends.sqlite3":
        return f"sqlite:///{settings_dict['NAME']}"
    credentials = quote(settings_dict["USER"], safe="")
    if settings_dict.get("PASSWORD"):
        credentials += ":" + quote(settings_dict["PASSWORD"], safe="")
    return (f"postgres://{credentials}@{settings_dict['HOST']}:{settings_dict['PORT']}/"
            f"{quote(settings_dict['NAME'], safe='')}")


def make_child_environment(**extra: str) -> dict:
    """Environment for a process a test starts (worker, sweep…) so it sees the test's rows: the
    same data folder and the test database by DATABASE_URL, on SQLite and PostgreSQL alike."""
    from django.conf import settings
    from django.db import connection

    environment = dict(
        os.environ,
        DJANGO_SETTINGS_MODULE="tests.settings",
        FLUXPANEL_DATA_DIR=str(settings.DATA_DIR),
        DATABASE_URL=database_url_of(connection.settings_dict),
        **extra,
    )
    environment.pop("FLUXPANEL_TEST_DB", None)  # so tests/settings.py takes DATABASE_URL as it is
    return environment


@pytest.fixture
def child_environment(db):
    """child_environment(NAME="value", ...) -> the environment of a process a test starts."""
    return make_child_environment


@pytest.fixture
def worker_env() -> dict:
    """More environment for the `worker` fixture's process; a module overrides it (e.g. to let the
    worker reach the simulated nodes)."""
    return {}


def start_worker_process(broker_url: str, name: str = "testworker", *, wait: bool = True,
                         **environment: str) -> subprocess.Popen:
    """`celery worker` as its own process on the test database, named `<name>@<host>`; with `wait`,
    returned once its heartbeat row shows it is up."""
    from apps.jobs.models import ProcessHeartbeat

    child = make_child_environment(REDIS_URL=broker_url, WORKER_HEARTBEAT_SECONDS="1", **environment)
    output = tempfile.TemporaryFile()  # not a pipe: nobody reads it, and a full pipe blocks the worker
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "fluxpanel", "worker", "--loglevel", "INFO",
         "--pool", "threads", "--concurrency", "2", "--hostname", f"{name}@%h"],
        cwd=REPO, env=child, stdout=output, stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 120  # a loaded 2-core CI machine runs two suites side by side
    while wait and not ProcessHeartbeat.objects.filter(role="worker", hostname__startswith=f"{name}@").exists():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            output.seek(0)
            pytest.fail(f"worker {name} did not start:\n" + output.read().decode(errors="replace")[-5000:])
        time.sleep(0.2)
    return process


def stop_process(process: subprocess.Popen, timeout: float = 20) -> None:
    """A warm shutdown (SIGTERM), then SIGKILL after `timeout`; nothing for one already gone."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def worker(redis_broker, worker_env):
    """A worker process (start_worker_process) for the test; stopped after it."""
    process = start_worker_process(redis_broker, **worker_env)
    yield process
    stop_process(process)



class Personas:
    """Team A with a manager, an operator and a viewer; an outsider who manages team B."""

    def __init__(self, django_user_model):
        from apps.accounts.models import Membership, Role, Team

        self.team = Team.objects.create(name="Team A")
        self.other_team = Team.objects.create(name="Team B")
        self.password = "correct horse battery staple"
        self.users = {}
        for role in (Role.MANAGER, Role.OPERATOR, Role.VIEWER):
            user = django_user_model.objects.create_user(username=role.value, password=self.password)
            Membership.objects.create(team=self.team, user=user, role=role)
            self.users[role.value] = user
        outsider = django_user_model.objects.create_user(username="outsider", password=self.password)
        Membership.objects.create(team=self.other_team, user=outsider, role=Role.MANAGER)
        self.users["outsider"] = outsider

    def __getattr__(self, name):
        try:
            return self.users[name]
        except KeyError:
            raise AttributeError(name) from None


@pytest.fixture
def personas(db, django_user_model):
    return Personas(django_user_model)


@pytest.fixture
def client_as(client, personas):
    """client_as("operator") -> a Django test client signed in as that persona."""

    def sign_in(name: str):
        client.force_login(personas.users[name])
        return client

    return sign_in


@pytest.fixture(scope="module")
def sim_fleet():
    """A simulated fleet of 12 FluxOS nodes over real HTTP on loopback, per test module."""
    from tests.sim.fluxnode import SimFleet

    with SimFleet(nodes=12, seed=3) as fleet:
        yield fleet


@pytest.fixture
def fleet(sim_fleet):
    """The module's simulated fleet, with every fault cleared after the test."""
    yield sim_fleet
    for index in range(len(sim_fleet.urls)):
        sim_fleet.clear(index)


@pytest.fixture(scope="module")
def ws_double():
    """A world-state engine double over real HTTP on loopback, per test module."""
    from tests.sim.worldstate import WorldStateDouble

    with WorldStateDouble() as server:
        yield server


@pytest.fixture(scope="module")
def stats_double():
    """A Flux stats API double over real HTTP on loopback, per test module."""
    from tests.sim.fluxstats import StatsDouble

    with StatsDouble() as server:
        yield server


@pytest.fixture
def stats_api(stats_double, settings):
    """The module's stats double, reset, with the panel pointed at it (private URL allowed)."""
    stats_double.reset()
    settings.FLUX_STATS_API_URL = stats_double.url
    settings.ALLOW_PRIVATE_STATS_API = True
    return stats_double


@pytest.fixture
def double(ws_double):
    """The module's engine double, emptied (and back in open mode) for this test."""
    ws_double.reset()
    return ws_double


@pytest.fixture(scope="session")
def s3_server():
    """moto's standalone S3-compatible server on a free loopback port, for the whole run: its
    endpoint URL. Output goes to a file (an unread pipe would block it)."""
    import requests

    port = free_port()
    output = tempfile.TemporaryFile()
    process = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                               stdout=output, stderr=subprocess.STDOUT, cwd=REPO)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            if requests.get(f"{url}/moto-api/", timeout=1).status_code < 500:
                break
        except requests.RequestException:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            stop_process(process)
            output.seek(0)
            pytest.fail("moto server did not start:\n" + output.read().decode(errors="replace")[-5000:])
        time.sleep(0.2)
    yield url
    stop_process(process)
    output.close()


@pytest.fixture
def s3_backup_storage(s3_server, settings):
    """A fresh bucket on the moto server, with STORAGES["backups"] pointed at it for one test
    (Django's setting_changed receiver drops the cached storages, then and when the settings are
    restored after the test). Yields the bucket, the endpoint and a boto3 client."""
    import uuid
    from types import SimpleNamespace

    import boto3

    bucket = f"backups-{uuid.uuid4().hex[:12]}"
    credentials = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing",
                   "region_name": "us-east-1"}
    client = boto3.client("s3", endpoint_url=s3_server, **credentials)
    client.create_bucket(Bucket=bucket)
    settings.STORAGES = {**settings.STORAGES, "backups": {
        "BACKEND": "apps.backups.s3.BackupS3Storage",
        "OPTIONS": {"bucket_name": bucket, "endpoint_url": s3_server, "region_name": "us-east-1",
                    "access_key": "testing", "secret_key": "testing", "location": "panel",
                    "addressing_style": "path", "allow_private": True, "default_acl": None,
                    "querystring_auth": False},
    }}
    yield SimpleNamespace(bucket=bucket, endpoint=s3_server, client=client, prefix="panel")
