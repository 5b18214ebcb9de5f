"""In a real browser: a node failing a benchmark shows which figure and why, and the newer tabs
(syncthing, services, payments) load in place with the open tab marked.

Every step waits on an element or attribute (Playwright's expect), never on a fixed sleep; the
failing benchmark is the simulator's `bench_fail` fault (fluxbench reports the figure low).
"""
import pytest
from playwright.sync_api import expect

from apps.accounts.models import Membership
from apps.nodes import actions
from apps.nodes.sweep import run_sweep

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
WAIT_MS = 30_000


@pytest.fixture
def failing_node(personas, fleet, settings):
    settings.ALLOW_ANY_NODE_URL = True
    manager = Membership.objects.get(user=personas.manager, team=personas.team)
    node = actions.register_nodes(membership=manager, text=fleet.urls[1])[0]  # CUMULUS, new collateral
    run_sweep(personas.team.pk)
    fleet.inject(1, "bench_fail", figure="ram", value=1.5)
    return node


def test_it_shows_which_benchmark_figure_fails_and_why(personas, page, sign_in, live_server, failing_node):
    sign_in("viewer", personas.password)
    page.goto(f"{live_server.url}/fleet/nodes/{failing_node.pk}/")
    panel = page.locator("#live-panel")
    expect(panel).to_have_attribute("data-section", "daemon", timeout=WAIT_MS)

    page.click('[data-live-tab="benchmarks"]')
    expect(panel).to_have_attribute("data-section", "benchmarks", timeout=WAIT_MS)
    expect(page.locator('[data-live-tab="benchmarks"]')).to_have_attribute("aria-current", "page")
    expect(panel.locator('[data-bench="failed"]')).to_contain_text("Failed")
    expect(panel.locator("[data-bench-reason]")).to_have_text("Minimum ram requirement for CUMULUS not met (1.5)")
    ram = panel.locator('[data-check="RAM"]')
    expect(ram).to_have_attribute("data-verdict", "fail")
    expect(ram).to_contain_text("1.5 GB")
    expect(ram).to_contain_text("≥ 3 GB")
    expect(ram).to_contain_text("below the 3 GB FluxOS needs")
    expect(panel.locator('[data-check="CPU threads"]')).to_have_attribute("data-verdict", "pass")
    expect(panel.locator("[data-bench-failed]")).to_contain_text("RAM 1.5 GB")


def test_it_loads_the_newer_tabs_in_place(personas, page, sign_in, live_server, failing_node):
    sign_in("viewer", personas.password)
    page.goto(f"{live_server.url}/fleet/nodes/{failing_node.pk}/")
    panel = page.locator("#live-panel")
    expect(panel).to_have_attribute("data-section", "daemon", timeout=WAIT_MS)
    for section, text in (("syncthing", "Replication healthy"), ("services", "FluxOS"),
                          ("payments", "Payment address")):
        page.click(f'[data-live-tab="{section}"]')
        expect(panel).to_have_attribute("data-section", section, timeout=WAIT_MS)
        expect(panel).to_contain_text(text)
        expect(page.locator(f'[data-live-tab="{section}"]')).to_have_attribute("aria-current", "page")
    expect(page.locator('[data-live-tab="daemon"]')).not_to_have_attribute("aria-current", "page")
    assert page.url.endswith(f"/fleet/nodes/{failing_node.pk}/")
