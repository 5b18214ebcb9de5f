"""Fixtures for the node-client tests: a simulated fleet on loopback and signing helpers.

Everything goes over real HTTP to tests.sim.fluxnode; nothing is mocked. Streams and log polls are
sped up (a few ms between chunks) so the whole suite stays fast.
"""

from __future__ import annotations

import json
import time

import pytest

from fluxpanel.fluxos.client import NodeClient
from tests.sim import keys
from tests.sim.fluxnode import SimFleet


class SimClient(NodeClient):
    """A NodeClient allowed to call loopback, where the simulator listens (a real client refuses
    private addresses unless told otherwise)."""

    def __init__(self, base_url: str, **options):
        options.setdefault("allow_private", True)
        super().__init__(base_url, **options)

    def login_phrase(self) -> str:
        """The node's phrase, handed over once its millisecond has passed: FluxOS answers "no
        longer valid" to a phrase verified in the very millisecond it was issued, which a test
        signing at once on a fast machine can hit (a person never does)."""
        phrase = super().login_phrase()
        issued = int(phrase[:13]) if phrase[:13].isdigit() else 0
        while time.time() * 1000 < issued + 1:
            time.sleep(0.001)
        return phrase


FAST = {"stream_delay_ms": 5, "logpoll_ms": 20, "global_cmd_delay_ms": 2}


@pytest.fixture(scope="module")
def fleet():
    """A small fleet per test module; tests that disturb a node clean up after themselves."""
    with SimFleet(nodes=12, seed=7, **FAST) as sim:
        yield sim


@pytest.fixture
def client(fleet):
    return SimClient(fleet.url(1), timeout=(2, 5))


def node_with_app(fleet, min_components: int = 1):
    """(node index, app name) of some installed app with enough components."""
    for index in range(fleet.fleet.count):
        node = fleet.node(index)
        for name, app in node.apps.items():
            if len(app.containers) >= min_components:
                return index, name
    raise LookupError("no such app in the fleet")


def owner_key(fleet, app_name: str) -> keys.TestKey:
    return keys.key_for_zelid(fleet.app(app_name).spec["owner"])


def admin_key(fleet, index: int) -> keys.TestKey:
    return keys.key_for_zelid(fleet.node(index).id.owner)


def stateless_auth(key: keys.TestKey, *, age_ms: int = 0) -> dict:
    """A self-issued phrase signed by the key (the stateless 2 h / 16 h rules)."""
    return key.auth(key.phrase(age_ms=age_ms))


def login(fleet, index: int, key: keys.TestKey, **client_options) -> NodeClient:
    """A real login on one node: phrase from the node, signed, verified; returns a client using it."""
    plain = SimClient(fleet.url(index), **client_options)
    phrase = plain.login_phrase()
    signature = key.sign(phrase)
    plain.verify_login(key.zelid, phrase, signature)
    return plain.with_auth({"zelid": key.zelid, "signature": signature, "loginPhrase": phrase})


def sign_app_message(key: keys.TestKey, message_type: str, spec: dict, timestamp: int) -> str:
    return key.sign(f"{message_type}1{json.dumps(spec, separators=(',', ':'))}{timestamp}")


def requests_seen(fleet, index: int) -> list:
    """(method, path, content type, zelidauth, bypass header) of the node's recent requests."""
    return fleet.call(lambda: list(fleet.fleet.node(index).requests))
