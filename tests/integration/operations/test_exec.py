"""Exec (`POST /apps/appexec`) as a job against the simulated fleet over loopback HTTP: the output
streams into the job in order, bounded; secrets in the command or its environment are refused
before any node is asked and kept out of the audit log; viewers are refused; without the owner's
authorisation nothing is called; a node that is down, hangs or answers FluxOS's error envelope
fails the job with a human reason."""
from __future__ import annotations

import logging
import time

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from apps.accounts.models import AuditEntry, Membership
from apps.jobs.models import Job
from apps.operations import exec_actions, exec_runs
from apps.wallets.models import AppOwnerAuthorisation
from tests.integration.operations.test_logs import make_app
from tests.integration.operations.test_operations import output, run

HEX_KEY = "7f3c1e5a9b2d4c6e8f0a1b3c5d7e9f1a2b4c6d8e0f1a3b5c7d9e1f2a4b6c8d0e"
SEED = ("abandon ability able about above absent absorb abstract absurd abuse access accident "
        "account accuse")
WIF = "KyL927pfsyZnJhFq5gQGy5eWq9tRYuAppRGiLjvBJGMvMwCqWYmv"


@pytest.fixture
def setup(personas, fleet, settings):
    settings.ALLOW_ANY_NODE_URL = True
    settings.DEV_LOCATION_URL = fleet.base + "/loc/{location}"
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.OPERATIONS_EXEC_TIMEOUT_S = 5
    app, nodes = make_app(personas.team, fleet, user=personas.operator)
    instance = app.instances.order_by("location").first()
    index = next(i for i in nodes if fleet.call(lambda i=i: fleet.fleet.identity(i).location) == instance.location)
    component = app.spec["compose"][0]["name"]
    return app, instance, index, component, nodes


def operator(personas):
    return Membership.objects.get(user=personas.operator, team=personas.team)


def execs_seen(fleet, nodes) -> int:
    """How many appexec requests the app's nodes received."""
    return sum(1 for index in nodes
               for request in fleet.call(lambda i=index: list(fleet.fleet.node(i).requests))
               if request[1] == "/apps/appexec")


def start(personas, app, instance, component, command, env=""):
    return exec_actions.start_exec(membership=operator(personas), app=app, instance_id=instance.pk,
                                   component=component, command=command, env_text=env)


def test_it_streams_the_output_into_the_job_in_order(setup, personas, fleet, client_as):
    app, instance, index, component, nodes = setup
    answer = client_as("operator").post(reverse("operations:exec", args=[app.pk]), {
        "instance": instance.pk, "component": component, "command": "seq 1 1200"})
    job = Job.objects.get(kind=exec_runs.JOB_KIND)
    assert answer.status_code == 302 and answer.url == reverse("jobs:detail", args=[job.pk])
    entry = AuditEntry.objects.get(action="operations.exec")
    assert entry.detail["command"] == "seq 1 1200" and entry.detail["instance"] == instance.location
    assert "zelidauth" not in str(job.params) and "signature" not in str(job.params)
    job = run(job)
    assert job.status == Job.Status.SUCCEEDED, job.error
    lines = job.lines.order_by("seq")
    numbers = [line for line in lines if line.text.isdigit()]
    assert [int(line.text) for line in numbers] == list(range(1, 1201))
    # Written as the chunks came (the simulated node writes 500 lines at a time, 20 ms apart).
    assert len({line.at for line in numbers}) >= 2
    assert "FluxOS reports no exit code" in output(job)[-2]
    method, path, content_type, zelidauth, _ = fleet.call(lambda: list(fleet.fleet.node(index).requests))[-1]
    assert (method, path, content_type) == ("POST", "/apps/appexec", "text/plain")
    assert app.owner in zelidauth  # the owner's authorisation, looked up when it ran


def test_it_passes_the_environment_and_argv_without_a_shell(setup, personas):
    app, instance, _, component, _ = setup
    job = run(start(personas, app, instance, component, "env", env="MODE=test\n\nLEVEL=2"))
    assert job.status == Job.Status.SUCCEEDED, job.error
    assert {"MODE=test", "LEVEL=2"} <= set(output(job))
    assert "environment: MODE, LEVEL" in output(job)[0]
    job = run(start(personas, app, instance, component, "echo 'two words' $HOME;ls"))
    assert "two words $HOME;ls" in output(job)  # quotes parsed, nothing expanded or chained


@pytest.mark.parametrize("secret", [f"echo privkey={HEX_KEY}", f"echo {SEED}", f"import-key {WIF}"])
def test_it_refuses_a_secret_looking_command_before_any_node_call(setup, personas, fleet, client_as, caplog,
                                                                 secret):
    app, instance, _, component, nodes = setup
    caplog.set_level(logging.DEBUG)
    before = execs_seen(fleet, nodes)
    with pytest.raises(ValidationError, match="Never paste a private key"):
        start(personas, app, instance, component, secret)
    page = client_as("operator").post(reverse("operations:exec", args=[app.pk]), {
        "instance": instance.pk, "component": component, "command": secret})
    assert page.status_code == 400 and secret not in page.content.decode()
    assert not Job.objects.exists()
    assert execs_seen(fleet, nodes) == before
    refused = AuditEntry.objects.get(action="operations.exec")
    assert refused.outcome == AuditEntry.Outcome.DENIED and refused.detail == {"refused": "secret in the command"}
    stored = " ".join(str(e.detail) + e.target_repr for e in AuditEntry.objects.all())
    assert secret.split()[-1] not in stored and "abandon ability" not in stored
    assert secret.split()[-1] not in caplog.text and "abandon ability" not in caplog.text


@pytest.mark.parametrize(("command", "env", "field"), [
    ("env", "DB_PASSWORD=hunter2", "env"),
    ("env", "API_TOKEN=hunter2", "env"),
    ("env", f"WALLET={WIF}", "env"),
    ("mysql --password=hunter2", "", "command"),
])
def test_it_refuses_secret_names_in_the_environment_or_command(setup, personas, fleet, client_as, command, env,
                                                              field):
    app, instance, _, component, nodes = setup
    before = execs_seen(fleet, nodes)
    page = client_as("operator").post(reverse("operations:exec", args=[app.pk]), {
        "instance": instance.pk, "component": component, "command": command, "env": env},
        HTTP_HX_REQUEST="true")
    body = page.content.decode()
    if WIF in env:  # a key: the panel-wide guard answers before the view
        assert page.status_code == 400
    else:
        assert page.status_code == 200 and 'data-role="exec-error"' in body and "<html" not in body
        assert "secret" in body
    assert "hunter2" not in body and WIF not in body
    assert not Job.objects.exists() and execs_seen(fleet, nodes) == before
    with pytest.raises(ValidationError):
        start(personas, app, instance, component, command, env)
    refused = AuditEntry.objects.filter(action="operations.exec").last()
    assert refused.detail == {"refused": f"secret in the {field}"}
    assert "hunter2" not in str(refused.detail) and WIF not in str(refused.detail)


def test_it_refuses_an_unreadable_command_line(setup, personas):
    app, instance, _, component, _ = setup
    with pytest.raises(ValidationError, match="cannot be read"):
        start(personas, app, instance, component, 'echo "unclosed')
    with pytest.raises(ValidationError, match="Type a command"):
        start(personas, app, instance, component, "   ")
    with pytest.raises(ValidationError, match="not NAME=value"):
        start(personas, app, instance, component, "env", env="1BAD=x")
    with pytest.raises(ValidationError, match="control characters"):
        start(personas, app, instance, component, "echo a\x00b")
    assert not Job.objects.exists()


def test_it_refuses_viewers(setup, personas, client_as, fleet):
    app, instance, _, component, nodes = setup
    before = execs_seen(fleet, nodes)
    detail = client_as("viewer").get(reverse("deployments:detail", args=[app.pk])).content.decode()
    assert 'data-role="exec-link"' not in detail
    assert 'data-role="exec-link"' in client_as("operator").get(
        reverse("deployments:detail", args=[app.pk])).content.decode()
    assert client_as("viewer").get(reverse("operations:exec", args=[app.pk])).status_code == 403
    answer = client_as("viewer").post(reverse("operations:exec", args=[app.pk]), {
        "instance": instance.pk, "component": component, "command": "echo hi"})
    assert answer.status_code == 403 and not Job.objects.exists()
    viewer = Membership.objects.get(user=personas.viewer, team=personas.team)
    with pytest.raises(PermissionDenied):
        exec_actions.start_exec(membership=viewer, app=app, instance_id=instance.pk, component=component,
                                command="echo hi")
    denied = AuditEntry.objects.filter(action="access.denied", team=personas.team)
    assert {e.detail.get("view") for e in denied} >= {"operations:exec", "operations.exec_actions.start_exec"}
    assert execs_seen(fleet, nodes) == before


def test_it_says_so_without_the_owner_authorisation_and_calls_nothing(setup, personas, fleet, client_as):
    app, instance, _, component, nodes = setup
    job = start(personas, app, instance, component, "echo late")  # authorised when it was started
    AppOwnerAuthorisation.objects.all().delete()
    before = execs_seen(fleet, nodes)
    page = client_as("operator").get(reverse("operations:exec", args=[app.pk])).content.decode()
    assert 'data-role="no-authorisation"' in page and "lets only the app" in page
    assert "node admin" in page and reverse("wallets:app_owner") in page and app.owner in page
    answer = client_as("operator").post(reverse("operations:exec", args=[app.pk]), {
        "instance": instance.pk, "component": component, "command": "echo hi"})
    refusal = answer.content.decode()
    assert answer.status_code == 200 and 'data-role="exec-error"' in refusal and "app-owner authorisation" in refusal
    assert Job.objects.count() == 1
    job = run(job)
    assert job.status == Job.Status.FAILED and "Wallet page" in job.error and "node admin" in job.error
    assert execs_seen(fleet, nodes) == before


@pytest.mark.parametrize("fault", ["down", "hang", "silent"])
def test_it_fails_cleanly_when_the_node_is_down_or_slow(setup, personas, fleet, settings, fault):
    app, instance, index, component, _ = setup
    settings.OPERATIONS_EXEC_TIMEOUT_S = 1
    if fault in ("down", "hang"):
        fleet.inject(index, fault)
    command = "sleep 30" if fault == "silent" else "echo hi"
    started = time.monotonic()
    job = run(start(personas, app, instance, component, command))
    assert time.monotonic() - started < 10  # bounded, never hangs
    assert job.status == Job.Status.FAILED
    assert job.error.startswith(instance.location)
    reason = "the node failed" if fault == "down" else "the node did not answer in time"
    assert reason in job.error


def test_it_fails_with_fluxos_message_on_an_error_envelope(setup, personas):
    app, instance, _, _, _ = setup
    # The panel's copy of the spec has a component the node does not run (it changed since).
    app.spec = {**app.spec, "compose": [*app.spec["compose"], {"name": "ghost"}]}
    app.save(update_fields=["spec"])
    job = run(start(personas, app, instance, "ghost", "echo hi"))
    assert job.status == Job.Status.FAILED
    assert "FluxOS answered an error: Cannot read properties of undefined (reading 'Id')" in job.error
    assert not any(line == "hi" for line in output(job))


def test_it_fails_when_the_command_cannot_start_in_the_container(setup, personas):
    app, instance, _, component, _ = setup
    job = run(start(personas, app, instance, component, "no-such-program --help"))
    assert job.status == Job.Status.FAILED
    assert "the command could not start in the container: OCI runtime exec failed" in job.error
    assert '"no-such-program": executable file not found' in job.error


def test_it_cuts_the_output_at_the_cap(setup, personas):
    app, instance, _, component, _ = setup
    job = run(start(personas, app, instance, component, "seq 1 5000"))
    assert job.status == Job.Status.SUCCEEDED, job.error
    lines = output(job)
    numbers = [int(line) for line in lines if line.isdigit()]
    assert numbers == list(range(1, exec_runs.MAX_OUTPUT_LINES + 1))
    assert any(f"output cut at {exec_runs.MAX_OUTPUT_LINES} lines" in line for line in lines)
    assert "output cut after" in lines[-2]


def test_it_lists_the_recent_commands_on_the_page(setup, personas, client_as):
    app, instance, _, component, _ = setup
    job = run(start(personas, app, instance, component, "echo listed"))
    page = client_as("operator").get(reverse("operations:exec", args=[app.pk])).content.decode()
    assert 'data-role="exec-form"' in page and "no-authorisation" not in page
    assert reverse("jobs:detail", args=[job.pk]) in page and "echo listed" in page
    assert instance.location in page
