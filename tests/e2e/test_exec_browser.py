"""In a real browser: an operator runs a command in one component of an app on the Exec page and
watches its output arrive on the job's page to the end; an environment line named like a secret is
refused inside the form (htmx), and the refused value is not shown back."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from apps.jobs.models import Job
from tests.e2e.builder_flow import InlineWorker
from tests.integration.operations.test_logs import make_app

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def exec_app(personas, fleet, settings):
    settings.ALLOW_ANY_NODE_URL = True
    settings.DEV_LOCATION_URL = fleet.location_base
    settings.CELERY_TASK_ALWAYS_EAGER = False
    app, _ = make_app(personas.team, fleet, user=personas.operator)
    return app


@pytest.fixture
def worker(personas):
    with InlineWorker(personas.team) as running:
        yield running
    assert not running.errors, running.errors


def test_it_runs_a_command_and_shows_its_output_on_the_job_page(personas, exec_app, page, live_server, sign_in,
                                                                 worker):
    app = exec_app
    component = app.spec["compose"][-1]["name"]
    sign_in("operator", personas.password)
    page.goto(f"{live_server.url}/apps/{app.pk}/")
    page.locator('[data-role="exec-link"]').click()
    page.wait_for_url(f"**/operate/{app.pk}/exec/")
    page.select_option("select[name=component]", component)
    page.locator('[data-role="exec-command"]').fill("seq 1 1200")
    page.get_by_role("button", name="Run").click()
    page.wait_for_url("**/jobs/*/")
    log = page.locator("#job-log")
    expect(page.locator("[data-status]")).to_have_attribute("data-status", "succeeded", timeout=30_000)
    expect(log).to_contain_text("FluxOS reports no exit code")
    texts = page.eval_on_selector_all("#job-log .line", "els => els.map(e => e.lastChild.textContent)")
    assert [int(text) for text in texts if text.isdigit()] == list(range(1, 1201))  # in order, none lost
    assert Job.objects.get().params["component"] == component
    page.goto(f"{live_server.url}/operate/{app.pk}/exec/")
    expect(page.locator('[data-role="exec-jobs"]')).to_contain_text("seq 1 1200")


def test_it_refuses_a_secret_name_inside_the_form(personas, exec_app, page, live_server, sign_in):
    app = exec_app
    sign_in("operator", personas.password)
    page.goto(f"{live_server.url}/operate/{app.pk}/exec/")
    page.locator('[data-role="exec-command"]').fill("env")
    page.locator('[data-role="exec-env"]').fill("DB_PASSWORD=hunter2")
    page.get_by_role("button", name="Run").click()
    expect(page.locator('[data-role="exec-error"]')).to_contain_text("named like a secret")
    expect(page.locator('[data-role="exec-env"]')).to_have_value("")
    assert "hunter2" not in page.content()
    assert page.url.endswith(f"/operate/{app.pk}/exec/") and not Job.objects.exists()
