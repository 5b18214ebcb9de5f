"""App operations as jobs against the simulated fleet over loopback HTTP: one instance, global,
rolling in order (each waits until its node lists it running again), the first failure stops it
with a human reason (an error inside HTTP 200, a node that hangs), a claimed node or a closing
maintenance window is waited for, cancel between instances, no authorisation, viewers refused."""
from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from apps.accounts.models import AuditEntry, Membership
from apps.jobs.models import Job
from apps.jobs.runner import run_job
from apps.nodes.models import MaintenanceClaim, NodeSnapshot
from apps.operations import actions
from apps.wallets import actions as wallet_actions
from apps.wallets.models import SigningRequest
from tests.integration.wallets.test_node_sessions import sign_queue
from tests.sim import fluxnode_lifecycle as lifecycle
from tests.sim import keys
from tests.sim.fluxnode_auth import fluxos_phrase
from tests.sim.wallet import link
from tests.sim_apps import team_app_on_sim_nodes

pytestmark = pytest.mark.django_db(transaction=True)
APP = "wiki2"  # on simulated nodes 2, 3, 7, 8, 11 (seed 3), components app and db


@pytest.fixture
def setup(personas, fleet, settings):
    settings.ALLOW_ANY_NODE_URL = True
    settings.DEV_LOCATION_URL = fleet.location_base
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.OPERATIONS_RUN_POLL_S = 0.05
    settings.OPERATIONS_BLOCKED_POLL_S = 0.05
    settings.OPERATIONS_RUN_TIMEOUT_S = 5
    settings.OPERATIONS_BLOCKED_WAIT_S = 5
    app, entry = team_app_on_sim_nodes(personas.team, fleet, APP)
    yield personas, app, entry
    for index in entry.nodes:
        fleet.call(lifecycle.set_restart_time, fleet.fleet, index, None)
        fleet.call(lifecycle.set_lifecycle_failure, fleet.fleet, index, None)
        fleet.start_instance(APP, index)


def authorise(personas, app):
    key = next(k for k in keys.OWNERS if k.zelid == app.owner)
    phrase = fluxos_phrase(int(time.time() * 1000))
    wallet_actions.store_app_owner_authorisation(team=personas.team, zelid=key.zelid, login_phrase=phrase,
                                                 signature=key.sign(phrase), actor=personas.operator)


def operator(personas):
    return Membership.objects.get(user=personas.operator, team=personas.team)


def restarts(fleet, index):
    node = fleet.node(index)
    return sum(c.restarts for c in node.app(APP).containers.values())


def output(job) -> list[str]:
    return list(job.lines.order_by("seq").values_list("text", flat=True))


def run(job) -> Job:
    run_job(job.pk)
    job.refresh_from_db()
    return job


def test_it_restarts_one_instance_from_the_page(setup, fleet, client_as):
    personas, app, entry = setup
    authorise(personas, app)
    instance = app.instances.order_by("location").first()
    index = next(i for i in entry.nodes if fleet.fleet.identity(i).location == instance.location)
    before = {i: restarts(fleet, i) for i in entry.nodes}
    page = client_as("operator").get(reverse("operations:operate", args=[app.pk])).content.decode()
    assert 'data-role="operate-form"' in page and "no-authorisation" not in page
    answer = client_as("operator").post(reverse("operations:operate", args=[app.pk]),
                                        {"operation": "restart", "mode": "one", "instances": [instance.pk]})
    job = Job.objects.get(kind="app_operation")
    assert answer.status_code == 302 and answer.url == reverse("jobs:detail", args=[job.pk])
    assert AuditEntry.objects.filter(action="operations.start", team=personas.team).count() == 1
    assert "zelidauth" not in str(job.params) and "signature" not in str(job.params)
    job = run(job)
    assert job.status == Job.Status.SUCCEEDED, job.error
    assert restarts(fleet, index) == before[index] + 2  # both components
    assert all(restarts(fleet, i) == before[i] for i in entry.nodes if i != index)
    assert any("Application wiki2 restarted" in line for line in output(job))


def test_it_restarts_everywhere_through_the_global_route(setup, fleet):
    personas, app, entry = setup
    authorise(personas, app)
    before = {i: restarts(fleet, i) for i in entry.nodes}
    job = run(actions.start_operation(membership=operator(personas), app=app, operation="restart", mode="global"))
    assert job.status == Job.Status.SUCCEEDED, job.error
    assert any("queried for global restart" in line for line in output(job))
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and not all(restarts(fleet, i) > before[i] for i in entry.nodes):
        time.sleep(0.05)
    assert all(restarts(fleet, i) > before[i] for i in entry.nodes)


def test_it_rolls_in_order_waiting_for_each_to_run_again(setup, fleet):
    personas, app, entry = setup
    authorise(personas, app)
    for index in entry.nodes:
        fleet.call(lifecycle.set_restart_time, fleet.fleet, index, 0.3)
    started = time.monotonic()
    job = run(actions.start_operation(membership=operator(personas), app=app, operation="restart", mode="rolling"))
    elapsed = time.monotonic() - started
    assert job.status == Job.Status.SUCCEEDED, job.error
    lines = output(job)
    locations = [i.location for i in app.instances.order_by("location")]
    running_again = [next(n for n, line in enumerate(lines) if line.startswith(f"{loc} ") and "running again" in line)
                     for loc in locations]
    asked = [next(n for n, line in enumerate(lines) if line.startswith(f"{loc} ") and line.endswith("restart…"))
             for loc in locations]
    assert running_again == sorted(running_again)
    assert all(running_again[k] < asked[k + 1] for k in range(len(locations) - 1))
    assert elapsed >= 0.3 * len(locations)  # it really waited for each
    assert job.progress == 100


@pytest.mark.parametrize("fault", ["error", "hang", "malformed", "down"])
def test_it_stops_at_the_first_failure_with_a_reason(setup, fleet, fault, settings):
    personas, app, entry = setup
    authorise(personas, app)
    settings.OPERATIONS_RUN_TIMEOUT_S = 2
    second = sorted(app.instances.values_list("location", flat=True))[1]
    index = next(i for i in entry.nodes if fleet.fleet.identity(i).location == second)
    if fault == "error":
        fleet.call(lifecycle.set_lifecycle_failure, fleet.fleet, index, "Flux App wiki2 not found")
    else:
        fleet.inject(index, fault)
    before = {i: restarts(fleet, i) for i in entry.nodes}
    settings.OPERATIONS_READ_TIMEOUT_S = 1.5
    job = run(actions.start_operation(membership=operator(personas), app=app, operation="restart", mode="rolling"))
    assert job.status == Job.Status.FAILED
    assert "1 of 5 instance(s) failed (stopped at the first failure)" in job.error
    reason = {"error": "FluxOS answered an error: Flux App wiki2 not found", "hang": "did not answer",
              "malformed": "the node failed (not a FluxOS answer", "down": "the node failed ("}[fault]
    assert reason in job.error
    changed = [i for i in entry.nodes if restarts(fleet, i) != before[i]]
    assert len(changed) == 1  # only the first; nothing after the failure
    assert any(line.strip().endswith("not reached") for line in output(job))


def test_it_skips_a_failure_when_asked(setup, fleet):
    personas, app, entry = setup
    authorise(personas, app)
    first = sorted(app.instances.values_list("location", flat=True))[0]
    index = next(i for i in entry.nodes if fleet.fleet.identity(i).location == first)
    fleet.call(lifecycle.set_lifecycle_failure, fleet.fleet, index, "Docker is down")
    before = {i: restarts(fleet, i) for i in entry.nodes}
    job = run(actions.start_operation(membership=operator(personas), app=app, operation="restart",
                                      mode="rolling", skip_failures=True))
    assert job.status == Job.Status.FAILED and "(skipped)" in job.error
    assert all(restarts(fleet, i) > before[i] for i in entry.nodes if i != index)


@pytest.mark.parametrize("block", ["claim", "window"])
def test_it_waits_for_a_claimed_node_or_a_closing_window(setup, fleet, block):
    personas, app, entry = setup
    authorise(personas, app)
    instance = app.instances.order_by("location").first()
    if block == "claim":
        MaintenanceClaim.objects.create(node=instance.node, user=personas.manager,
                                        until=timezone.now() + timedelta(hours=1))
    else:
        NodeSnapshot.objects.filter(node=instance.node).update(maintenance_blocks=10)
    index = next(i for i in entry.nodes if fleet.fleet.identity(i).location == instance.location)
    before = restarts(fleet, index)

    def lift():
        time.sleep(0.6)
        MaintenanceClaim.objects.update(released_at=timezone.now())
        NodeSnapshot.objects.update(maintenance_blocks=400)

    lifter = threading.Thread(target=lift)
    lifter.start()
    job = run(actions.start_operation(membership=operator(personas), app=app, operation="restart",
                                      mode="one", instance_ids=[instance.pk]))
    lifter.join()
    lines = output(job)
    assert job.status == Job.Status.SUCCEEDED, job.error
    word = "holds node" if block == "claim" else "maintenance window"
    waiting = next(n for n, line in enumerate(lines) if "waiting —" in line and word in line)
    assert waiting < next(n for n, line in enumerate(lines) if "no longer blocked" in line)
    assert restarts(fleet, index) == before + 2


def test_it_fails_when_the_block_outlasts_the_wait(setup, fleet, settings):
    personas, app, entry = setup
    authorise(personas, app)
    settings.OPERATIONS_BLOCKED_WAIT_S = 0.3
    instance = app.instances.order_by("location").first()
    MaintenanceClaim.objects.create(node=instance.node, user=personas.manager, until=timezone.now() + timedelta(hours=1))
    job = run(actions.start_operation(membership=operator(personas), app=app, operation="restart",
                                      mode="one", instance_ids=[instance.pk]))
    assert job.status == Job.Status.FAILED and "still blocked after waiting" in job.error


def test_it_cancels_between_instances(setup, fleet):
    personas, app, entry = setup
    authorise(personas, app)
    for index in entry.nodes:
        fleet.call(lifecycle.set_restart_time, fleet.fleet, index, 0.4)
    job = actions.start_operation(membership=operator(personas), app=app, operation="restart", mode="rolling")
    before = {i: restarts(fleet, i) for i in entry.nodes}

    def cancel_soon():
        time.sleep(0.2)
        Job.objects.filter(pk=job.pk).update(cancel_requested=True)

    canceller = threading.Thread(target=cancel_soon)
    canceller.start()
    job = run(job)
    canceller.join()
    assert job.status == Job.Status.CANCELLED
    changed = [i for i in entry.nodes if restarts(fleet, i) != before[i]]
    assert len(changed) == 1
    # The record of what was done outlives the cancel, which stops the output's own summary.
    assert [(text, kind) for _, text, kind in job.outcome_rows] == [("done", "done")] + [
        ("not reached", "waiting")] * (len(entry.nodes) - 1)


def test_it_says_so_without_authorisation(setup, fleet, client_as):
    personas, app, entry = setup
    page = client_as("operator").get(reverse("operations:operate", args=[app.pk])).content.decode()
    assert 'data-role="no-authorisation"' in page and "No valid authorisation" in page
    assert reverse("wallets:app_owner") in page and app.owner in page
    job = run(actions.start_operation(membership=operator(personas), app=app, operation="restart", mode="global"))
    assert job.status == Job.Status.FAILED and "app-owner authorisation" in job.error
    instance = app.instances.first()
    job = run(actions.start_operation(membership=operator(personas), app=app, operation="restart",
                                      mode="one", instance_ids=[instance.pk]))
    assert job.status == Job.Status.FAILED and "no valid authorisation" in job.error


def test_it_refuses_a_hard_redeploy_without_the_typed_name(setup):
    personas, app, entry = setup
    with pytest.raises(ValidationError, match="type the app name"):
        actions.start_operation(membership=operator(personas), app=app, operation="hard_redeploy", mode="global",
                                confirm_name="wiki")
    assert not Job.objects.exists()


def test_it_refuses_viewers(setup, client_as):
    personas, app, entry = setup
    detail = client_as("viewer").get(reverse("deployments:detail", args=[app.pk])).content.decode()
    assert 'data-role="operate-link"' not in detail
    assert 'data-role="operate-link"' in client_as("operator").get(
        reverse("deployments:detail", args=[app.pk])).content.decode()
    answer = client_as("viewer").post(reverse("operations:operate", args=[app.pk]),
                                      {"operation": "restart", "mode": "global"})
    assert answer.status_code == 403 and not Job.objects.exists()
    viewer = Membership.objects.get(user=personas.viewer, team=personas.team)
    with pytest.raises(PermissionDenied):
        actions.start_operation(membership=viewer, app=app, operation="restart", mode="global")
    assert AuditEntry.objects.filter(action="access.denied", team=personas.team).exists()


def test_it_soft_redeploys_one_component_streaming_its_steps(setup, fleet):
    personas, app, entry = setup
    authorise(personas, app)
    instance = app.instances.order_by("location").first()
    job = run(actions.start_operation(membership=operator(personas), app=app, operation="soft_redeploy",
                                      mode="one", component="db", instance_ids=[instance.pk]))
    assert job.status == Job.Status.SUCCEEDED, job.error
    lines = output(job)
    assert any(line.endswith("Starting Flux App db_wiki2...") for line in lines)
    assert any("Component db of wiki2 redeployed successfully" in line for line in lines)


def test_it_swaps_the_form_for_the_chosen_operation(setup, client_as):
    personas, app, entry = setup
    authorise(personas, app)
    url = reverse("operations:operate", args=[app.pk])
    part = client_as("operator").get(url, {"part": "form", "operation": "hard_redeploy", "mode": "selected"},
                                     HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in part and 'data-role="confirm-name"' in part and 'data-role="operate-instances"' in part
    refused = client_as("operator").post(url, {"operation": "hard_redeploy", "mode": "global", "confirm_name": "x"},
                                         HTTP_HX_REQUEST="true")
    assert refused.status_code == 200 and "type the app name" in refused.content.decode()
    assert not Job.objects.exists()
    started = client_as("operator").post(url, {"operation": "hard_redeploy", "mode": "global", "confirm_name": APP},
                                         HTTP_HX_REQUEST="true")
    assert started.status_code == 204 and started["HX-Redirect"].startswith("/jobs/")
    assert Job.objects.get().params["operation"] == "hard_redeploy"


def _hold_restart(personas, app, client):
    """An operator asks, with no authorisation yet, for a restart of the first instance once the
    key holder signs; returns the held job."""
    first = app.instances.order_by("location").first()
    response = client.post(reverse("operations:operate", args=[app.pk]),
                           {"operation": "restart", "mode": "one", "instances": [first.pk], "when_signed": "1"})
    assert response.status_code == 302
    return Job.objects.filter(kind="app_operation").latest("pk"), first


def test_it_starts_once_the_key_holder_signs(setup, fleet, client_as):
    personas, app, entry = setup
    key = next(k for k in keys.OWNERS if k.zelid == app.owner)
    link(personas.manager, key)
    operator_client = Client()  # client_as has one client, which signs in as the last persona asked
    operator_client.force_login(personas.operator)
    page = operator_client.get(reverse("operations:operate", args=[app.pk])).content.decode()
    assert 'data-role="start-when-signed"' in page
    before = {i: restarts(fleet, i) for i in entry.nodes}
    job, first = _hold_restart(personas, app, operator_client)
    request = SigningRequest.objects.get(kind="app_owner", zelid=app.owner)
    assert job.held_for_request == request.pk and request.status == SigningRequest.Status.PENDING
    assert f"job #{job.pk}" in request.purpose
    assert run_job(job.pk) is None  # held: no worker may take it before the signature
    assert "waiting for the key holder to sign" in operator_client.get(f"/jobs/{job.pk}/").content.decode()
    manager = client_as("manager")
    items, _ = sign_queue(manager, reverse("wallets:sign_next"), key)
    assert [item["answer"]["ok"] for item in items] == [True]
    job.refresh_from_db()
    assert job.held_for_request is None and job.status == Job.Status.QUEUED
    job = run(job)
    assert job.status == Job.Status.SUCCEEDED, job.error
    index = next(i for i in entry.nodes if fleet.fleet.identity(i).location == first.location)
    assert [i for i in entry.nodes if restarts(fleet, i) != before[i]] == [index]
    assert AuditEntry.objects.filter(action="operations.start", detail__held_for_request=request.pk).exists()


def test_it_cancels_a_held_operation_when_the_key_holder_declines(setup, fleet):
    personas, app, entry = setup
    key = next(k for k in keys.OWNERS if k.zelid == app.owner)
    link(personas.manager, key)
    client = Client()
    client.force_login(personas.operator)
    job, _ = _hold_restart(personas, app, client)
    second, _ = _hold_restart(personas, app, client)
    request = SigningRequest.objects.get(kind="app_owner")  # the open request is reused
    assert request.payload["release_jobs"] == [job.pk, second.pk]
    manager = Membership.objects.get(user=personas.manager, team=personas.team)
    wallet_actions.decline(membership=manager, request=request)
    for held in (job, second):
        held.refresh_from_db()
        assert held.status == Job.Status.CANCELLED
        assert "Declined by the key holder" in held.error and held.lines.last().text == held.error
        assert run_job(held.pk) is None
