"""The fleet bridge, end to end: real sweeps of the simulated fleet over HTTP, the sweep_finished
signal, and the engine double behind a small counting proxy (so "one batch" is counted on the
wire, not assumed)."""
from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
from django.urls import reverse

from apps.accounts.models import Membership
from apps.nodes import actions as node_actions
from apps.nodes.models import Node, NodeSnapshot, Sweep
from apps.nodes.sweep import run_sweep
from apps.worldstate.bridge import entity_name
from apps.worldstate.models import BridgeRecord, Engine
from tests.sim.worldstate import loopback_client

DEAD_URL = "http://127.0.0.1:9"


class CountingProxy:
    """Forwards every request to the engine and remembers (method, path) of each."""

    def __init__(self, target: str):
        self.requests: list[tuple[str, str]] = []
        proxy = self
        session = requests.Session()

        class Handler(BaseHTTPRequestHandler):
            def _forward(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                proxy.requests.append((self.command, self.path))
                headers = {k: v for k, v in self.headers.items()
                           if k.lower() in ("content-type", "authorization", "accept")}
                answer = session.request(self.command, target + self.path, data=body,
                                         headers=headers, timeout=30)
                self.send_response(answer.status_code)
                self.send_header("Content-Type", answer.headers.get("Content-Type", "text/plain"))
                self.send_header("Content-Length", str(len(answer.content)))
                self.end_headers()
                self.wfile.write(answer.content)

            do_GET = do_POST = do_PUT = do_DELETE = _forward

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def batches(self) -> int:
        return sum(1 for method, path in self.requests if (method, path) == ("POST", "/api/events/batch"))

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def proxy(double):
    with CountingProxy(double.url) as counting:
        yield counting


@pytest.fixture
def team_fleet(personas, fleet, settings):
    settings.ALLOW_ANY_NODE_URL = True
    settings.SWEEP_TIMEOUT_SECONDS = 1
    manager = Membership.objects.get(user=personas.manager, team=personas.team)
    nodes = node_actions.register_nodes(membership=manager, text="\n".join(fleet.urls[:6]))
    return personas.team, sorted(nodes, key=lambda n: n.pk), fleet


def bridge_engine(team, url, **fields) -> Engine:
    return Engine.objects.create(team=team, name=fields.pop("name", "bridge"), base_url=url,
                                 namespace="team-a", bridge_enabled=True, **fields)


def expected_apps(team) -> dict[str, int]:
    counts: dict[str, int] = {}
    for detail in NodeSnapshot.objects.filter(team=team).values_list("detail", flat=True):
        for app in set(detail.get("apps") or []):
            counts[app] = counts.get(app, 0) + 1
    return counts


def test_it_sweep_publishes_the_fleet_in_one_batch_then_only_changes(team_fleet, double, proxy):
    team, nodes, fleet = team_fleet
    engine = bridge_engine(team, proxy.url)
    run_sweep(team.pk)
    assert proxy.batches() == 1 and len(proxy.requests) == 1

    reader = loopback_client(double.url)
    published = {e.id: e.properties for e in reader.entities(namespace="team-a")}
    node_ids = {f"team-a/node-{entity_name(n.name)}" for n in nodes}
    apps = expected_apps(team)
    assert apps, "the simulated nodes run apps"
    assert node_ids <= published.keys()
    assert {f"team-a/app-{entity_name(a)}" for a in apps} == published.keys() - node_ids
    first = published[f"team-a/node-{entity_name(nodes[0].name)}"]
    snapshot = NodeSnapshot.objects.get(node=nodes[0])
    assert first == {"state": "confirmed", "reason": "", "version": snapshot.version,
                     "tier": snapshot.tier, "height_lag": snapshot.height_lag,
                     "apps_running": snapshot.apps_running}
    for app, count in apps.items():
        assert published[f"team-a/app-{entity_name(app)}"] == {"instances": count}
    assert BridgeRecord.objects.filter(engine=engine).count() == len(published)

    # Nothing changed: the second sweep sends nothing at all.
    run_sweep(team.pk)
    assert proxy.batches() == 1 and len(proxy.requests) == 1

    # One node goes down: one batch with that node, and the apps it no longer counts for.
    lost_apps = set(NodeSnapshot.objects.get(node=nodes[2]).detail.get("apps") or [])
    fleet.inject(2, "down")
    run_sweep(team.pk)
    assert proxy.batches() == 2
    history = {entity_id: reader.history(entity_id) for entity_id in published}
    resent = {entity_id for entity_id, events in history.items() if len(events) == 2}
    assert resent == {f"team-a/node-{entity_name(nodes[2].name)}"} | {
        f"team-a/app-{entity_name(a)}" for a in lost_apps}
    down = reader.entity(f"team-a/node-{entity_name(nodes[2].name)}").properties
    assert down["state"] == "down" and down["reason"]
    for app, count in expected_apps(team).items():
        assert reader.entity(f"team-a/app-{entity_name(app)}").properties == {"instances": count}
    engine.refresh_from_db()
    assert engine.bridge_last_error == "" and engine.bridge_last_run_at is not None


def test_it_a_node_that_leaves_gets_a_tombstone_and_an_idle_app_zero(personas, client_as, double, proxy):
    team = personas.team
    node_a = Node.objects.create(team=team, name="alpha", address="a:1", base_url="http://a")
    node_b = Node.objects.create(team=team, name="beta/2", address="b:1", base_url="http://b")
    NodeSnapshot.objects.create(node=node_a, team=team, state="confirmed", detail={"apps": ["web"]})
    NodeSnapshot.objects.create(node=node_b, team=team, state="confirmed", detail={"apps": ["web", "db"]})
    engine = bridge_engine(team, proxy.url)
    from apps.nodes.sweep import sweep_finished

    sweep_finished.send(sender=Sweep, sweep=None, team_id=team.pk, changed_node_ids=[])
    reader = loopback_client(double.url)
    assert reader.entity("team-a/node-beta_2").properties["state"] == "confirmed"
    assert reader.entity("team-a/app-web").properties == {"instances": 2}

    node_b.delete()
    sweep_finished.send(sender=Sweep, sweep=None, team_id=team.pk, changed_node_ids=[])
    assert proxy.batches() == 2
    assert reader.entity("team-a/node-beta_2") is None
    assert reader.entity("team-a/app-web").properties == {"instances": 1}
    assert reader.entity("team-a/app-db").properties == {"instances": 0}
    assert not BridgeRecord.objects.filter(engine=engine, entity_id="team-a/node-beta_2").exists()
    sweep_finished.send(sender=Sweep, sweep=None, team_id=team.pk, changed_node_ids=[])
    assert proxy.batches() == 2  # an app at zero is not re-sent

    # "Publish now" sends everything again, in one batch, and is audited.
    response = client_as("manager").post(reverse("worldstate:bridge_publish", args=[engine.pk]), follow=True)
    assert "Published 3 fleet entities." in response.content.decode()  # alpha, web, db at 0
    assert proxy.batches() == 3


def test_it_engine_failures_never_break_the_sweep(team_fleet, client_as):
    team, nodes, _fleet = team_fleet
    engine = bridge_engine(team, DEAD_URL)
    off = bridge_engine(team, DEAD_URL, name="off")
    Engine.objects.filter(pk=off.pk).update(bridge_enabled=False)
    sweep = run_sweep(team.pk)
    assert sweep.status == "done" and sweep.done == len(nodes)
    engine.refresh_from_db()
    assert "cannot be reached" in engine.bridge_last_error and engine.bridge_last_error_at
    assert not BridgeRecord.objects.filter(engine=engine).exists()
    assert Engine.objects.get(pk=off.pk).bridge_last_run_at is None
    html = client_as("viewer").get(reverse("worldstate:engine", args=[engine.pk])).content.decode()
    assert "data-bridge-error" in html and "cannot be reached" in html


def test_it_refused_events_are_kept_as_the_last_error_and_retried(team_fleet, double, proxy):
    team, nodes, _fleet = team_fleet
    double.configure(auth=True)  # no token stored yet: every event is refused
    engine = bridge_engine(team, proxy.url)
    run_sweep(team.pk)
    engine.refresh_from_db()
    assert "event(s) refused; first:" in engine.bridge_last_error
    assert "Authorization token not provided" in engine.bridge_last_error
    assert not BridgeRecord.objects.filter(engine=engine).exists()
    # Once the namespace exists and its token is stored, the next sweep publishes everything.
    _id, token = double.register_namespace("team-a")
    engine.set_token(token)
    engine.save()
    run_sweep(team.pk)
    assert proxy.batches() == 2
    assert len(loopback_client(double.url).entities(namespace="team-a")) == \
        BridgeRecord.objects.filter(engine=engine).count() > len(nodes)
