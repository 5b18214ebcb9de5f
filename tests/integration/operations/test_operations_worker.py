"""A rolling restart run by a real Celery worker that is killed halfway: the job ends failed and
its page still says which instances were done, which one was being restarted, and which were not
reached (issue 15, "a worker killed mid-operation")."""
from __future__ import annotations

import time

import pytest

from apps.jobs.models import Job
from apps.jobs.runner import reap_stale_jobs
from apps.operations import actions
from tests.integration.operations.test_operations import authorise, operator, setup  # noqa: F401 - fixture
from tests.sim import fluxnode_lifecycle as lifecycle

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.redis]
RESTART_S = 1.5


@pytest.fixture
def worker_env(fleet):
    # The worker process reaches the simulated nodes on loopback, as the test process does.
    return {"FLUXPANEL_ALLOW_ANY_NODE_URL": "1", "FLUXPANEL_DEV_LOCATION_URL": fleet.location_base}


def wait_until(check, timeout_s: float, what: str):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.1)
    pytest.fail(f"timed out waiting for {what}")


def test_it_says_which_instances_were_done_when_the_worker_dies(setup, fleet, worker, settings,  # noqa: F811
                                                                client_as):
    personas, app, entry = setup
    authorise(personas, app)
    for index in entry.nodes:
        fleet.call(lifecycle.set_restart_time, fleet.fleet, index, RESTART_S)
    job = actions.start_operation(membership=operator(personas), app=app, operation="restart", mode="rolling")

    def first_done():
        job.refresh_from_db()
        return job.outcome and job.outcome[0][1] == "done" and job.status == Job.Status.RUNNING

    wait_until(first_done, 60, "the first instance to be restarted by the worker")
    worker.kill()  # SIGKILL while the second instance restarts
    worker.wait()
    settings.WORKER_STALE_SECONDS = 2
    wait_until(lambda: reap_stale_jobs() or Job.objects.get(pk=job.pk).is_finished, 30, "the reaper")
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED and "stopped before it finished" in job.error
    kinds = [kind for _, _, kind in job.outcome_rows]
    assert kinds[0] == "done"
    assert "done" not in kinds[2:] and len(kinds) == len(entry.nodes)
    assert set(kinds[1:]) <= {"interrupted", "waiting", "done"}
    page = client_as("viewer").get(f"/jobs/{job.pk}/").content.decode()
    assert "Outcome per target" in page
    assert f'data-target="{job.outcome[0][0]}"' in page and "not reached" in page
