"""Fixtures for the world-state client and engine double: one real server per session, reset
before each test, reached over real HTTP on loopback."""
from __future__ import annotations

import json
import time
from collections.abc import Callable

import pytest
import requests

from apps.worldstate.client import WorldStateClient
from tests.sim.worldstate import WorldStateDouble, loopback_client

ADMIN_TOKEN = "admin-secret"


@pytest.fixture(scope="session")
def double_server():
    with WorldStateDouble(metrics_interval=0.2) as server:
        yield server


@pytest.fixture
def engine(double_server) -> WorldStateDouble:
    """The double in internal mode (FLUX_AUTH_ENABLED=false, no admin token)."""
    double_server.reset()
    return double_server


@pytest.fixture
def auth_engine(double_server) -> WorldStateDouble:
    """The double in public mode, with an admin token."""
    double_server.reset(auth=True, admin_token=ADMIN_TOKEN)
    return double_server


@pytest.fixture
def internal_service():
    from tests.integration.worldstate.pages import InternalService

    service = InternalService()
    yield service
    service.close()


@pytest.fixture
def auth_double(double):
    """The page tests' double (tests/conftest.py) in public mode with an admin token."""
    from tests.integration.worldstate.pages import ADMIN

    double.reset(auth=True, admin_token=ADMIN)
    return double


@pytest.fixture
def ws_client(engine) -> WorldStateClient:
    return loopback_client(engine.url, timeout=5)


@pytest.fixture
def admin_client(auth_engine) -> WorldStateClient:
    return loopback_client(auth_engine.url, admin_token=ADMIN_TOKEN, timeout=5)


class Raw:
    """Bare HTTP against the double, to check exact statuses, headers and bodies."""

    def __init__(self, base_url: str):
        self.base_url = base_url
        self.session = requests.Session()

    def request(self, method: str, path: str, *, body=None, data=None, token=None,
                headers=None, **kwargs) -> requests.Response:
        all_headers = dict(headers or {})
        if body is not None:
            data = json.dumps(body)
            all_headers.setdefault("Content-Type", "application/json")
        if token is not None:
            all_headers["Authorization"] = f"Bearer {token}"
        return self.session.request(method, self.base_url + path, data=data,
                                    headers=all_headers, timeout=10, **kwargs)

    def get(self, path, **kwargs):
        return self.request("GET", path, **kwargs)

    def post(self, path, **kwargs):
        return self.request("POST", path, **kwargs)

    def put(self, path, **kwargs):
        return self.request("PUT", path, **kwargs)

    def delete(self, path, **kwargs):
        return self.request("DELETE", path, **kwargs)


@pytest.fixture
def raw(double_server) -> Raw:
    return Raw(double_server.url)


def event(entity_id: str = "sensor-01", properties: dict | None = None, **overrides) -> dict:
    """A valid envelope for a state event."""
    envelope = {"stream": "sensors.temp", "source": "test", "timestamp": 1_700_000_000_000,
                "payload": {"entity_id": entity_id,
                            "properties": {"temp": 21} if properties is None else properties}}
    envelope.update(overrides)
    return envelope


def wait_for(condition: Callable[[], object], timeout: float = 3.0, step: float = 0.01):
    """Poll until `condition()` is truthy; returns its value."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(step)
