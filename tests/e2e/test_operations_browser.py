"""In a real browser: an operator starts a rolling restart of a five-instance app and watches it
live to the end on the job's page; a hard redeploy is refused until the app's name is typed."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from apps.jobs.models import Job
from tests.e2e.builder_flow import InlineWorker
from tests.integration.operations.test_operations import authorise, restarts, setup  # noqa: F401 - fixture
from tests.sim import fluxnode_lifecycle as lifecycle

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
RESTART_S = 1.0  # five in turn: the page is watched for 5 s or more


@pytest.fixture
def worker(personas):
    with InlineWorker(personas.team) as running:
        yield running
    assert not running.errors, running.errors


def test_it_watches_a_rolling_restart_live_to_the_end(setup, fleet, page, live_server, sign_in,  # noqa: F811
                                                      worker, settings):
    personas, app, entry = setup
    settings.OPERATIONS_RUN_POLL_S = 0.1
    authorise(personas, app)
    for index in entry.nodes:
        fleet.call(lifecycle.set_restart_time, fleet.fleet, index, RESTART_S)
    before = {i: restarts(fleet, i) for i in entry.nodes}
    sign_in("operator", personas.password)
    page.goto(f"{live_server.url}/operate/{app.pk}/")
    expect(page.locator('input[name=mode][value=rolling]')).to_be_checked()
    page.get_by_role("button", name="Restart").click()
    page.wait_for_url("**/jobs/*/")
    # Live: the first instance's lines arrive while later ones are still waiting their turn.
    first, *_, last = sorted(app.instances.values_list("location", flat=True))
    expect(page.locator("#job-log")).to_contain_text(f"{first} (node ", timeout=15_000)
    expect(page.locator(f'tr[data-target="{last}"]')).to_contain_text("not reached")
    expect(page.locator("[data-status]")).to_have_attribute("data-status", "succeeded", timeout=60_000)
    expect(page.locator("#job-log")).to_contain_text("done on 5 instance(s)")
    for location in (first, last):
        expect(page.locator(f'tr[data-target="{location}"]')).to_contain_text("done")
    assert page.locator("#job-log").inner_text().count("running again.") == len(entry.nodes)
    assert all(restarts(fleet, i) > before[i] for i in entry.nodes)


def test_it_refuses_a_hard_redeploy_until_the_name_is_typed(setup, fleet, page, live_server, sign_in,  # noqa: F811
                                                            worker):
    personas, app, entry = setup
    authorise(personas, app)
    sign_in("operator", personas.password)
    page.goto(f"{live_server.url}/operate/{app.pk}/")
    page.select_option("select[name=operation]", "hard_redeploy")
    confirm = page.locator('[data-role="confirm-name"]')
    expect(confirm).to_be_visible()  # htmx swapped in the form of a hard redeploy
    button = page.get_by_role("button", name="Hard redeploy")
    button.click()
    expect(page.locator('[data-role="operate-error"]')).to_contain_text(f"type the app name “{app.name}”")
    page.locator('[data-role="confirm-name"]').fill(app.name.upper())
    page.get_by_role("button", name="Hard redeploy").click()
    expect(page.locator('[data-role="operate-error"]')).to_contain_text("wipes the app's data")
    assert not Job.objects.filter(kind="app_operation").exists()
    assert page.url.endswith(f"/operate/{app.pk}/")
