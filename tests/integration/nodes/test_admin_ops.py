"""Node admin operations as jobs against the simulated fleet over loopback HTTP, with sessions
really signed on the simulated nodes: each operation on one node, selected nodes, a rolling
restart waiting for (or skipping) the node inside its maintenance window, no session → no call,
managers only, typed confirmation, a node that goes down mid-way, an error envelope at HTTP 200,
and FluxOS's log tails with and without the privilege."""
from __future__ import annotations

import math
import time
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from apps.accounts.models import AuditEntry, Membership
from apps.jobs.models import Job
from apps.jobs.runner import run_job
from apps.nodes import admin_actions
from apps.nodes.models import MaintenanceClaim, Node, NodeSnapshot
from apps.wallets import actions as wallet_actions
from fluxpanel.fluxos.client import FluxError, NodeClient
from tests.sim import fluxnode_admin as sim_admin
from tests.sim import keys
from tests.sim.fluxnode_world import TEAM_IDS

pytestmark = pytest.mark.django_db(transaction=True)
INDEXES = (0, 1, 2)


@pytest.fixture(scope="module")
def sim_fleet():
    """The usual fleet (12 nodes, seed 3) whose Flux team ID is a key the tests hold (fluxteam)."""
    from tests.sim.fluxnode import SimFleet

    with SimFleet(nodes=12, seed=3, team_ids=(keys.TEAM.zelid, TEAM_IDS[1])) as fleet:
        yield fleet


@pytest.fixture
def nodes(personas, fleet, settings):
    settings.ALLOW_ANY_NODE_URL = True
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.NODE_ADMIN_POLL_S = 0.05
    settings.NODE_ADMIN_BACK_TIMEOUT_S = 5
    settings.OPERATIONS_BLOCKED_POLL_S = 0.05
    settings.OPERATIONS_BLOCKED_WAIT_S = 1
    made = []
    for index in INDEXES:
        node = Node.objects.create(team=personas.team, name=f"n{index}", address=f"sim:{index}",
                                   base_url=fleet.url(index))
        NodeSnapshot.objects.create(node=node, team=personas.team, maintenance_blocks=400)
        made.append(node)
    yield made
    for index in INDEXES:
        fleet.call(sim_admin.reset, fleet.fleet, index)


def sign_session(personas, fleet, node, index, key=None):
    """Log in on the simulated node as its owner (admin) or as `key`, and store the session."""
    key = key or keys.key_for_zelid(fleet.node(index).id.owner)
    client = NodeClient(fleet.url(index), allow_private=True)
    for attempt in range(3):  # a loaded CI machine can let a phrase lapse between asking and verifying
        phrase = client.login_phrase()
        signature = key.sign(phrase)
        try:
            answer = client.verify_login(key.zelid, phrase, signature)
            break
        except FluxError as exc:
            if "no longer valid" not in exc.message or attempt == 2:
                raise
    privilege = answer.get("privilage") if isinstance(answer, dict) else None
    wallet_actions.store_node_session(team=personas.team, node=node, zelid=key.zelid, login_phrase=phrase,
                                      signature=signature, privilege=privilege or "user",
                                      expires_at=timezone.now() + timedelta(days=13), actor=personas.manager)
    return privilege


def manager(personas):
    return Membership.objects.get(user=personas.manager, team=personas.team)


def run(job) -> Job:
    run_job(job.pk)
    job.refresh_from_db()
    return job


def output(job) -> str:
    return "\n".join(job.lines.order_by("seq").values_list("text", flat=True))


def acted(fleet, index) -> list[str]:
    return fleet.call(sim_admin.calls, fleet.fleet, index)


def start(personas, operation, nodes, *, mode="one", confirm=None, skip=False):
    if confirm is None:
        confirm = nodes[0].name if len(nodes) == 1 else f"{len(nodes)} nodes"
    return admin_actions.start_node_admin(membership=manager(personas), operation=operation, mode=mode,
                                          node_ids=[n.pk for n in nodes], confirm=confirm, skip_failures=skip)


@pytest.mark.parametrize("operation, route, said", [
    ("restart_fluxos", "flux/restart", "Restarting FluxOS"),
    ("restart_daemon", "daemon/restart", "Daemon successfully restarted"),
    ("restart_benchmark", "benchmark/restart", "Benchmark successfully restarted"),
])
def test_it_runs_each_operation_on_one_node(personas, fleet, nodes, client_as, operation, route, said):
    assert sign_session(personas, fleet, nodes[0], 0) == "admin"
    page = client_as("manager").get(reverse("nodes:ops"))
    assert page.status_code == 200 and 'data-role="ops-form"' in page.content.decode()
    answer = client_as("manager").post(reverse("nodes:ops"), {"operation": operation, "mode": "one",
                                                              "nodes": [nodes[0].pk], "confirm": "n0"})
    job = Job.objects.get(kind="node_admin")
    assert answer.status_code == 302 and answer.url == reverse("jobs:detail", args=[job.pk])
    entry = AuditEntry.objects.get(action="nodes.admin_start", team=personas.team)
    assert entry.detail["operation"] == operation and entry.detail["nodes"] == 1
    assert "zelidauth" not in str(job.params) and "signature" not in str(job.params)
    job = run(job)
    assert job.status == Job.Status.SUCCEEDED, job.error
    assert acted(fleet, 0) == [route] and acted(fleet, 1) == [] and acted(fleet, 2) == []
    assert f"n0: FluxOS answered: {said}" in output(job)
    assert job.outcome == [["n0", f"done: {said}"]]


def test_it_starts_a_stopped_daemon_and_reports_fluxos_error_when_it_runs(personas, fleet, nodes):
    sign_session(personas, fleet, nodes[0], 0)
    job = run(start(personas, "start_daemon", nodes[:1]))
    assert job.status == Job.Status.FAILED
    assert "FluxOS answered an error: Error starting Daemon" in job.error and "already running" in job.error
    assert acted(fleet, 0) == []  # FluxOS did not act
    fleet.call(sim_admin.stop_daemon, fleet.fleet, 0)
    job = run(start(personas, "start_daemon", nodes[:1], mode="rolling"))
    assert job.status == Job.Status.SUCCEEDED, job.error
    assert acted(fleet, 0) == ["daemon/start"]
    assert "n0: the daemon answers again (height" in output(job)


def test_it_acts_on_selected_nodes_with_a_fluxteam_session(personas, fleet, nodes):
    sign_session(personas, fleet, nodes[0], 0)
    assert sign_session(personas, fleet, nodes[2], 2, key=keys.TEAM) == "fluxteam"
    job = run(start(personas, "restart_benchmark", [nodes[0], nodes[2]], mode="selected"))
    assert job.status == Job.Status.SUCCEEDED, job.error
    assert acted(fleet, 0) == ["benchmark/restart"] and acted(fleet, 2) == ["benchmark/restart"]
    assert acted(fleet, 1) == []
    assert [name for name, _ in job.outcome] == ["n0", "n2"]


def test_it_needs_an_admin_session_for_a_fluxos_restart(personas, fleet, nodes):
    sign_session(personas, fleet, nodes[0], 0, key=keys.TEAM)  # fluxteam: not enough for /flux/restart
    with pytest.raises(ValidationError, match="needs a valid admin session"):
        start(personas, "restart_fluxos", nodes[:1])
    assert acted(fleet, 0) == [] and not Job.objects.exists()


def test_it_rolls_across_three_nodes_waiting_for_each_to_answer_again(personas, fleet, nodes):
    for index, node in zip(INDEXES, nodes, strict=True):
        sign_session(personas, fleet, node, index)
        fleet.call(sim_admin.set_restart_time, fleet.fleet, index, 0.4)
    started = time.monotonic()
    job = run(start(personas, "restart_fluxos", [], mode="rolling", confirm="3 nodes"))
    assert job.status == Job.Status.SUCCEEDED, job.error
    assert time.monotonic() - started >= 3 * 0.4  # it waited for each
    lines = job.lines.order_by("seq").values_list("text", flat=True)
    text = list(lines)
    back = [next(k for k, line in enumerate(text) if line.startswith(f"n{i}: FluxOS answers again (version"))
            for i in INDEXES]
    asked = [next(k for k, line in enumerate(text) if line == f"n{i}: restart fluxos…") for i in INDEXES]
    assert all(back[k] < asked[k + 1] for k in range(2))
    assert [text for _, text in job.outcome] == ["done: FluxOS answers again (version "
                                                 f"{fleet.node(i).id.version})" for i in INDEXES]


@pytest.mark.parametrize("skip", [True, False])
def test_it_never_touches_the_node_inside_its_maintenance_window(personas, fleet, nodes, skip):
    for index, node in zip(INDEXES, nodes, strict=True):
        sign_session(personas, fleet, node, index)
    NodeSnapshot.objects.filter(node=nodes[1]).update(maintenance_blocks=10)  # 5 min left
    job = run(start(personas, "restart_fluxos", nodes, mode="rolling", skip=skip))
    assert acted(fleet, 1) == []
    assert acted(fleet, 0) == ["flux/restart"]
    outcome = dict(job.outcome)
    if skip:
        assert job.status == Job.Status.SUCCEEDED, job.error
        assert outcome["n1"].startswith("skipped: node n1 is inside its FluxOS maintenance window")
        assert acted(fleet, 2) == ["flux/restart"] and outcome["n2"].startswith("done")
        assert "done on 2 of 3 node(s), 1 skipped" in output(job)
    else:
        assert job.status == Job.Status.FAILED
        assert "still blocked after waiting" in job.error and "maintenance window" in job.error
        assert acted(fleet, 2) == [] and outcome["n2"] == "not reached"


def test_it_waits_for_a_claim_released_mid_way(personas, fleet, nodes, settings):
    settings.OPERATIONS_BLOCKED_WAIT_S = 10
    sign_session(personas, fleet, nodes[0], 0)
    claim = MaintenanceClaim.objects.create(node=nodes[0], user=personas.operator,
                                            until=timezone.now() + timedelta(seconds=0.6))
    job = run(start(personas, "restart_daemon", nodes[:1]))
    assert job.status == Job.Status.SUCCEEDED, job.error
    assert f"waiting — {claim.user.username} holds node n0 for maintenance" in output(job)
    assert acted(fleet, 0) == ["daemon/restart"]


def test_it_fails_a_node_without_session_with_a_clear_message_and_no_call(personas, fleet, nodes, client_as):
    sign_session(personas, fleet, nodes[0], 0)
    page = client_as("manager").get(reverse("nodes:ops")).content.decode()
    assert page.count('data-role="no-session"') == 2 and page.count('data-role="sign-form"') == 2
    assert f'action="{reverse("wallets:prepare_login")}"' in page
    job = run(start(personas, "restart_daemon", nodes[:2], mode="selected", skip=True))
    assert job.status == Job.Status.FAILED
    assert dict(job.outcome)["n1"].startswith("failed: no valid admin or fluxteam session on node n1")
    assert acted(fleet, 1) == [] and acted(fleet, 0) == ["daemon/restart"]
    with pytest.raises(ValidationError, match="holds none for the chosen node"):
        start(personas, "restart_daemon", nodes[1:2])


@pytest.mark.parametrize("persona", ["operator", "viewer"])
def test_it_refuses_operators_and_viewers(personas, fleet, nodes, client_as, persona):
    sign_session(personas, fleet, nodes[0], 0)
    answer = client_as(persona).post(reverse("nodes:ops"), {"operation": "restart_daemon", "mode": "one",
                                                            "nodes": [nodes[0].pk], "confirm": "n0"})
    assert answer.status_code == 403
    membership = Membership.objects.get(user=personas.users[persona], team=personas.team)
    with pytest.raises(PermissionDenied):
        admin_actions.start_node_admin(membership=membership, operation="restart_daemon", mode="one",
                                       node_ids=[nodes[0].pk], confirm="n0")
    assert not Job.objects.exists() and acted(fleet, 0) == []
    assert AuditEntry.objects.filter(action="access.denied", detail__view="nodes.admin_actions.start_node_admin").exists()


def test_it_enforces_the_typed_confirmation(personas, fleet, nodes, client_as):
    sign_session(personas, fleet, nodes[0], 0)
    answer = client_as("manager").post(reverse("nodes:ops"), {"operation": "restart_fluxos", "mode": "one",
                                                              "nodes": [nodes[0].pk], "confirm": "N0"})
    assert answer.status_code == 200 and "type “n0” to confirm" in answer.content.decode()
    with pytest.raises(ValidationError, match="type “2 nodes” to confirm"):
        start(personas, "restart_benchmark", nodes[:2], mode="selected", confirm="n0")
    assert not Job.objects.exists()
    # Starting a stopped daemon cannot cost a confirmation: no typing asked.
    fleet.call(sim_admin.stop_daemon, fleet.fleet, 0)
    job = run(start(personas, "start_daemon", nodes[:1], confirm=""))
    assert job.status == Job.Status.SUCCEEDED, job.error


def test_it_fails_a_node_that_goes_down_mid_way_and_retries_nothing(personas, fleet, nodes):
    for index, node in zip(INDEXES, nodes, strict=True):
        sign_session(personas, fleet, node, index)
    fleet.call(sim_admin.set_restart_time, fleet.fleet, 1, math.inf)  # n1 never comes back
    job = run(start(personas, "restart_fluxos", nodes, mode="rolling", confirm="3 nodes"))
    assert job.status == Job.Status.FAILED
    outcome = dict(job.outcome)
    assert outcome["n0"].startswith("done")
    assert outcome["n1"].startswith("failed: it does not answer (cannot reach node") and "after 5 s" in outcome["n1"]
    assert outcome["n2"] == "not reached"
    assert "stopped at the first failure" in job.error
    assert acted(fleet, 1) == ["flux/restart"] and acted(fleet, 2) == []  # asked once, never again


def test_it_fails_with_fluxos_message_on_an_error_envelope(personas, fleet, nodes):
    sign_session(personas, fleet, nodes[0], 0)
    fleet.call(sim_admin.set_failure, fleet.fleet, 0, "Error restarting Daemon: Command failed: bash restartDaemon.sh")
    job = run(start(personas, "restart_daemon", nodes[:1]))
    assert job.status == Job.Status.FAILED
    assert dict(job.outcome)["n0"] == ("failed: FluxOS answered an error: Error restarting Daemon: "
                                       "Command failed: bash restartDaemon.sh")
    assert acted(fleet, 0) == []


def test_it_fails_when_the_node_refuses_the_session(personas, fleet, nodes):
    sign_session(personas, fleet, nodes[0], 0)
    fleet.call(lambda: fleet.fleet.node(0).auth.sessions.clear())  # the node forgot its logins
    job = run(start(personas, "restart_daemon", nodes[:1]))
    assert job.status == Job.Status.FAILED
    assert "FluxOS refused the authorisation: Unauthorized. Access denied." in job.error


def test_it_reads_the_logs_with_the_privilege_and_says_why_not_without(personas, fleet, nodes, client_as):
    sign_session(personas, fleet, nodes[0], 0)
    sign_session(personas, fleet, nodes[1], 1, key=keys.USER)  # user level: FluxOS refuses its logs
    manager_client = client_as("manager")
    url = reverse("nodes:ops")
    answer = manager_client.get(url, {"part": "logs", "node": nodes[0].pk, "log": "error"}, HTTP_HX_REQUEST="true")
    body = answer.content.decode()
    assert answer.status_code == 200 and "node 0 simulated error line 4" in body and "<html" not in body
    warn = manager_client.get(url, {"part": "logs", "node": nodes[0].pk, "log": "warn"}).content.decode()
    assert "node 0 simulated warn line 0" in warn and 'data-role="ops-form"' in warn
    refused = manager_client.get(url, {"part": "logs", "node": nodes[1].pk, "log": "error"},
                                 HTTP_HX_REQUEST="true").content.decode()
    assert "no valid admin or fluxteam session on node n1" in refused and "simulated" not in refused
    requests = fleet.call(lambda: [r[1] for r in fleet.fleet.node(1).requests])
    assert not any("tailerrorlog" in path for path in requests)  # no call without the privilege
    assert manager_client.get(url, {"part": "logs", "node": nodes[0].pk, "log": "debug"}).status_code == 404
    assert manager_client.get(url, {"part": "logs", "node": 10**30, "log": "error"}).status_code == 404
