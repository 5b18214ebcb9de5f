"""App specs, locations, price, deployment information, register and update (§4.5, §5)."""

import copy
import time

import pytest

from fluxpanel.fluxos.client import FluxError, Unauthorized
from tests.integration.client.conftest import (
    FAST,
    SimClient,
    requests_seen,
    sign_app_message,
    stateless_auth,
)
from tests.sim import keys
from tests.sim.fluxnode import SimFleet


@pytest.fixture
def sim():
    with SimFleet(nodes=6, seed=21, **FAST) as fleet:
        yield fleet


def _new_spec(owner: str, name: str = "newapp1") -> dict:
    return {
        "version": 8, "name": name, "description": "a new app", "owner": owner,
        "compose": [{"name": "web", "description": "", "repotag": "nginx:1.27", "ports": [32001],
                     "domains": [""], "environmentParameters": [], "commands": [],
                     "containerPorts": [80], "containerData": "/data", "cpu": 0.5, "ram": 500,
                     "hdd": 5, "repoauth": "", "extra": "dropped"}],
        "instances": 3, "contacts": [], "geolocation": [], "expire": 88000, "nodes": [],
        "staticip": False, "enterprise": "",
    }


def test_it_global_specs_filters_and_one_spec(sim):
    client = SimClient(sim.url(0))
    specs = client.global_app_specs()
    assert sorted(s["name"] for s in specs) == sim.app_names()
    name = specs[0]["name"]
    owner = specs[0]["owner"]
    assert [s["name"] for s in client.global_app_specs(app=name)] == [name]
    assert all(s["owner"] == owner for s in client.global_app_specs(owner=owner))
    assert client.global_app_specs(hash=specs[0]["hash"])[0]["name"] == name
    spec = client.app_spec(name)
    assert list(spec)[:5] == ["version", "name", "description", "owner", "compose"]
    assert {"hash", "height"} <= set(spec)
    assert client.app_owner(name) == owner


def test_it_locations(sim):
    client = SimClient(sim.url(0))
    name = sim.app_names()[0]
    records = client.app_location(name)
    assert [r["ip"] for r in records] == [sim.fleet.identity(i).location for i in sim.app(name).nodes]
    assert set(records[0]) == {"name", "hash", "ip", "broadcastedAt", "expireAt", "runningSince",
                               "osUptime", "staticIp"}
    assert len(client.app_locations()) == sum(len(sim.app(n).nodes) for n in sim.app_names())


def test_it_verify_specs_price_and_deployment_information(sim):
    client = SimClient(sim.url(0))
    spec = _new_spec(keys.OWNERS[0].zelid)
    formatted = client.verify_registration_spec(spec)
    assert "extra" not in formatted["compose"][0]
    assert list(formatted) == ["version", "name", "description", "owner", "compose", "instances",
                               "contacts", "geolocation", "expire", "nodes", "staticip", "enterprise"]
    assert requests_seen(sim, 0)[-1][2] == "text/plain"
    existing = copy.deepcopy(sim.app(sim.app_names()[0]).spec)
    with pytest.raises(FluxError, match="already registered"):
        client.verify_registration_spec(existing)
    assert client.verify_update_spec(existing)["name"] == existing["name"]
    with pytest.raises(FluxError, match="does not exist and cannot be updated"):
        client.verify_update_spec(spec)
    price = client.calculate_price(spec)
    assert set(price) == {"usd", "flux", "fluxDiscount"} and price["usd"] >= 0.99
    info = client.deployment_information()
    assert info["address"] == "t3NryfAQLGeFs9jEoeqsxmBN2QLRaRKFLUX"
    assert {"price", "portMin", "portMax", "bannedPorts", "maximumInstances"} <= set(info)


def test_it_register_signed_by_the_owner(sim):
    owner = keys.OWNERS[1]
    client = SimClient(sim.url(0), zelidauth=stateless_auth(keys.USER))  # any user may submit
    formatted = client.verify_registration_spec(_new_spec(owner.zelid))
    timestamp = int(time.time() * 1000)
    signature = sign_app_message(owner, "fluxappregister", formatted, timestamp)
    digest = client.register_app(formatted, timestamp, signature)
    assert len(digest) == 64 and int(digest, 16) >= 0
    with pytest.raises(FluxError, match="signature is invalid"):
        client.register_app(formatted, timestamp, sign_app_message(keys.STRANGER, "fluxappregister",
                                                                   formatted, timestamp))
    with pytest.raises(Unauthorized):
        SimClient(sim.url(0)).with_auth(stateless_auth(keys.USER, age_ms=17 * 3600_000)).register_app(
            formatted, timestamp, signature)


def test_it_update_must_be_signed_by_the_current_owner(sim):
    name = sim.app_names()[0]
    current = sim.app(name).spec
    owner = keys.key_for_zelid(current["owner"])
    spec = {key: value for key, value in copy.deepcopy(current).items() if key not in ("hash", "height")}
    spec["description"] = "updated"
    spec["owner"] = keys.STRANGER.zelid  # an owner transfer is signed by the old owner
    client = SimClient(sim.url(0), zelidauth=stateless_auth(owner))
    formatted = client.verify_update_spec(spec)
    timestamp = int(time.time() * 1000)
    assert len(client.update_app(formatted, timestamp,
                                 sign_app_message(owner, "fluxappupdate", formatted, timestamp))) == 64
    with pytest.raises(FluxError, match="does not correspond with Flux App owner"):
        client.update_app(formatted, timestamp,
                          sign_app_message(keys.STRANGER, "fluxappupdate", formatted, timestamp))


@pytest.mark.parametrize(("given", "expected"), [
    ("false", False), (0, False), ("0", False), (False, False), ("yes", None), (None, None), (2, None),
])
def test_it_formats_datacenter_the_way_fluxos_does(sim, given, expected):
    """specificationFormatter runs ensureBoolean on datacenter: what it cannot read is left out."""
    spec = {**_new_spec(keys.OWNERS[0].zelid), "datacenter": given}
    formatted = SimClient(sim.url(0)).verify_registration_spec(spec)
    assert formatted.get("datacenter", None) == expected
    assert ("datacenter" in formatted) == (expected is not None)


def test_it_refuses_datacenter_for_an_owner_who_is_not_an_enterprise_owner(sim):
    spec = {**_new_spec(keys.OWNERS[0].zelid), "datacenter": "true"}
    with pytest.raises(FluxError, match="only available for enterprise app owners"):
        SimClient(sim.url(0)).verify_registration_spec(spec)
