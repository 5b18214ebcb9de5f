"""The simulator's apps half: fixed catalogue sizes, /loc/ routing, instances that stop and start."""

import io

import pytest
import requests
from django.core.management import CommandError, call_command

from tests.sim import keys
from tests.sim.fluxnode import SimFleet


def _running_names(url: str) -> set[str]:
    reply = requests.get(f"{url}/apps/listrunningapps", timeout=5).json()
    assert reply["status"] == "success"
    return {entry["Names"][0].lstrip("/").split("_", 1)[-1] for entry in reply["data"]}


def test_it_fixes_the_number_of_apps_and_instances():
    with SimFleet(nodes=40, seed=3, apps=25, instances=3) as sim:
        names = sim.app_names()
        assert len(names) == 25
        assert all(len(sim.app(n).nodes) == 3 and sim.app(n).spec["instances"] == 3 for n in names)
        placed = sum(len(sim.fleet.apps_on_node(i)) for i in range(40))
        assert placed == 75


def test_it_keeps_the_default_catalogue_without_options():
    with SimFleet(nodes=30, seed=4) as a, SimFleet(nodes=30, seed=4, apps=None, instances=None) as b:
        assert {n: a.app(n).nodes for n in a.app_names()} == {n: b.app(n).nodes for n in b.app_names()}
        assert len(a.app_names()) == 10


def test_it_routes_loc_paths_to_the_node_at_that_location():
    with SimFleet(nodes=60, seed=2) as sim:
        for index in (0, 7, 59):
            location = sim.fleet.identity(index).location
            by_loc = requests.get(f"{sim.base}/loc/{location}/daemon/getfluxnodestatus", timeout=5).json()
            by_index = requests.get(f"{sim.url(index)}/daemon/getfluxnodestatus", timeout=5).json()
            assert by_loc == by_index
            assert sim.loc_url(index) == f"{sim.base}/loc/{location}"
        upnp = next((i for i in range(60) if sim.fleet.identity(i).api_port != 16127), None)
        assert upnp is not None
        ip = sim.fleet.identity(upnp).ip
        assert requests.get(f"{sim.base}/loc/{ip}/flux/version", timeout=5).status_code == 404
        assert requests.get(f"{sim.base}/loc/{ip}:{sim.fleet.identity(upnp).api_port}/flux/version",
                            timeout=5).json()["status"] == "success"
        served = sim.node(0).served
        assert served >= 2


def test_it_answers_404_for_an_unknown_location():
    with SimFleet(nodes=5, seed=1) as sim:
        for location in ("10.0.0.99", "1.2.3.4", "nonsense", "10.0.0.1:9"):
            reply = requests.get(f"{sim.base}/loc/{location}/flux/version", timeout=5)
            assert reply.status_code == 404
            assert reply.headers["Content-Type"].startswith("text/plain")


def test_it_stops_and_starts_an_instance():
    with SimFleet(nodes=20, seed=5, apps=6, instances=2) as sim:
        name = sim.app_names()[0]
        index, other = sim.app(name).nodes
        url = sim.url(index)
        assert name in _running_names(url)  # also primes the node's 15 s reply cache
        states = sim.stop_instance(name, index)
        assert set(states.values()) == {"stopped"}
        assert name not in _running_names(url)
        assert name not in _running_names(sim.loc_url(index))
        assert name in _running_names(sim.url(other))
        sim.start_instance(name, index)
        assert name in _running_names(url)


def test_it_stops_and_starts_an_instance_through_the_admin_api():
    with SimFleet(nodes=20, seed=5, apps=6, instances=2) as sim:
        name = sim.app_names()[1]
        index = sim.app(name).nodes[0]
        admin = f"{sim.base}/_sim/apps/{name}/instances/{index}"
        reply = requests.post(admin, json={"state": "stopped"}, timeout=5)
        assert reply.status_code == 200 and set(reply.json()["containers"].values()) == {"stopped"}
        assert name not in _running_names(sim.url(index))
        assert requests.post(admin, json={"state": "running"}, timeout=5).status_code == 200
        assert name in _running_names(sim.url(index))
        assert requests.post(admin, json={"state": "sleeping"}, timeout=5).status_code == 400
        absent = next(i for i in range(20) if i not in sim.app(name).nodes)
        missing = f"{sim.base}/_sim/apps/{name}/instances/{absent}"
        assert requests.post(missing, json={"state": "stopped"}, timeout=5).status_code == 404


def _get(url: str):
    reply = requests.get(url, timeout=5).json()
    assert reply["status"] == "success"
    return reply["data"]


MESSAGE_FIELDS = {"type", "version", "appSpecifications", "hash", "timestamp", "signature", "txid",
                  "height", "valueSat"}


def test_it_keeps_a_message_history_ending_in_the_current_spec():
    with SimFleet(nodes=30, seed=6) as sim:
        messages = _get(f"{sim.url(0)}/apps/permanentmessages")
        assert messages and all(set(m) == MESSAGE_FIELDS for m in messages)
        by_app: dict[str, list] = {}
        for message in messages:
            by_app.setdefault(message["appSpecifications"]["name"], []).append(message)
        assert set(by_app) == set(sim.app_names())
        assert any(len(history) > 1 for history in by_app.values())
        for name, history in by_app.items():
            spec = sim.app(name).spec
            assert history[0]["type"] == "fluxappregister"
            assert all(m["type"] == "fluxappupdate" and m["version"] == 1 for m in history[1:])
            assert [m["height"] for m in history] == sorted(m["height"] for m in history)
            last = history[-1]
            assert last["hash"] == spec["hash"] and last["height"] == spec["height"]
            assert last["appSpecifications"] == {k: v for k, v in spec.items() if k not in ("hash", "height")}
            for older in history[:-1]:
                assert older["appSpecifications"] != last["appSpecifications"]


def test_it_filters_messages_and_specs_exactly_as_fluxos():
    with SimFleet(nodes=30, seed=6) as sim:
        base = sim.url(1)
        name = sim.app_names()[0]
        spec = sim.app(name).spec
        by_path = _get(f"{base}/apps/permanentmessages//{spec['owner']}/{name}")
        by_query = _get(f"{base}/apps/permanentmessages?appname={name}&owner={spec['owner']}")
        assert by_path == by_query and {m["appSpecifications"]["name"] for m in by_path} == {name}
        assert _get(f"{base}/apps/permanentmessages?appname={name.upper()}") == []
        assert [m["hash"] for m in _get(f"{base}/apps/permanentmessages/{spec['hash']}")] == [spec["hash"]]
        owned = _get(f"{base}/apps/permanentmessages?owner={spec['owner']}")
        assert {m["appSpecifications"]["owner"] for m in owned} == {spec["owner"]}
        [record] = _get(f"{base}/apps/globalappsspecifications?appname={name}")
        assert record == spec and "hash" in record and "height" in record
        assert _get(f"{base}/apps/globalappsspecifications?appname={name.upper()}") == []
        assert _get(f"{base}/apps/globalappsspecifications/{spec['hash']}") == [spec]
        assert all(r["owner"] == spec["owner"]
                   for r in _get(f"{base}/apps/globalappsspecifications//{spec['owner']}"))


def test_it_varies_expiry_when_asked():
    with SimFleet(nodes=60, seed=8, vary_expiry=True) as sim:
        base = sim.fleet.chain.base
        left = {n: sim.app(n).spec["height"] + sim.app(n).spec["expire"] - base for n in sim.app_names()}
        expires = {sim.app(n).spec["expire"] for n in sim.app_names()}
        assert len(expires) >= 3 and min(expires) >= 22000 and max(expires) <= 1056000
        assert any(v > 60 * 2880 for v in left.values())  # some beyond two months (2,880 blocks a day)
        assert sum(1 for v in left.values() if v < 0) == 1
        assert any(0 < v < 20160 for v in left.values())
        assert all(sim.app(n).spec["height"] < base for n in sim.app_names())
    with SimFleet(nodes=30, seed=8) as sim:
        assert {sim.app(n).spec["expire"] for n in sim.app_names()} == {88000}


@pytest.mark.django_db
def test_it_seeds_the_demo_team_with_the_sim_owners_and_syncs_their_apps(settings):
    from apps.accounts.models import Membership
    from apps.deployments.models import TeamApp, WatchedOwner
    from apps.wallets.models import AppOwnerAuthorisation
    from apps.wallets.node_sessions import app_owner_zelidauth
    from fluxpanel import demo

    with SimFleet(nodes=12, seed=42, vary_expiry=True) as sim:
        settings.ALLOW_ANY_NODE_URL = True
        settings.DEV_LOCATION_URL = demo.location_template(sim.urls)
        assert settings.DEV_LOCATION_URL == f"{sim.base}/loc/{{location}}"
        call_command("seed_demo_fleet", *sim.urls, user="demo", password="pw-demo-xyz", team="Demo")
        for _ in range(2):
            call_command("seed_demo_apps", *demo.sim_owner_zelids(), user="demo", team="Demo")
        owners = {sim.app(n).spec["owner"] for n in sim.app_names()}
        assert owners <= set(WatchedOwner.objects.filter(team__name="Demo").values_list("address", flat=True))
        call_command("sync_apps", team="Demo", stdout=io.StringIO())
        assert set(TeamApp.objects.filter(team__name="Demo").values_list("name", flat=True)) == set(sim.app_names())
        # The demo launcher signs, as the owners' wallets would, and the panel stores what verifies.
        call_command("seed_demo_authorisations", *demo.sim_owner_authorisations(), user="demo", team="Demo",
                     stdout=io.StringIO())
        held = set(AppOwnerAuthorisation.objects.filter(team__name="Demo").values_list("zelid", flat=True))
        assert held == set(demo.sim_owner_zelids())
        app = TeamApp.objects.filter(team__name="Demo").first()
        member = Membership.objects.get(team__name="Demo", user__username="demo")
        assert app_owner_zelidauth(member, app.owner) is not None  # the Operate page can act at once
        zelid, phrase, signature = demo.sim_owner_authorisations()[0].split(" ")
        forged = signature[:-4] + ("AAAA" if not signature.endswith("AAAA") else "BBBB")
        with pytest.raises(CommandError, match="does not verify"):
            call_command("seed_demo_authorisations", f"{zelid} {phrase} {forged}", user="demo", team="Demo")
        stale = keys.OWNERS[0].phrase(age_ms=3 * 3600 * 1000)
        with pytest.raises(CommandError, match="older than FluxOS accepts"):
            call_command("seed_demo_authorisations", f"{keys.OWNERS[0].zelid} {stale} {keys.OWNERS[0].sign(stale)}",
                         user="demo", team="Demo")
