"""In a real browser: a manager starts a rolling FluxOS restart of three nodes with "skip" chosen;
the one inside its maintenance window is skipped (never touched), the others restart in turn, and
the job's outcome table says so."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from apps.nodes.models import NodeSnapshot
from tests.e2e.builder_flow import InlineWorker
from tests.integration.nodes.test_admin_ops import acted, nodes, sign_session, sim_fleet  # noqa: F401 - fixtures
from tests.sim import fluxnode_admin as sim_admin

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def worker(personas):
    with InlineWorker(personas.team) as running:
        yield running
    assert not running.errors, running.errors


def test_it_skips_the_node_inside_its_maintenance_window_in_a_rolling_fluxos_restart(
        personas, fleet, nodes, page, live_server, sign_in, worker):  # noqa: F811
    for index, node in enumerate(nodes):
        sign_session(personas, fleet, node, index)
        fleet.call(sim_admin.set_restart_time, fleet.fleet, index, 0.5)
    NodeSnapshot.objects.filter(node=nodes[1]).update(maintenance_blocks=10)  # 5 min left to confirm
    sign_in("manager", personas.password)
    page.goto(f"{live_server.url}/fleet/")
    page.locator('[data-role="node-ops-link"]').click()
    page.wait_for_url("**/fleet/ops/")
    expect(page.locator('tr[data-node="n1"] [data-role="in-window"]')).to_be_visible()
    expect(page.locator("input[name=mode][value=rolling]")).to_be_checked()
    for node in nodes:
        page.get_by_label(node.name, exact=True).check()
    page.locator('[data-role="skip-failures"]').check()
    page.locator('[data-role="ops-confirm"]').fill("3 nodes")
    page.locator('[data-role="ops-start"]').click()
    page.wait_for_url("**/jobs/*/")
    expect(page.locator("[data-status]")).to_have_attribute("data-status", "succeeded", timeout=30_000)
    expect(page.locator('tr[data-target="n1"]')).to_contain_text("skipped: node n1 is inside its FluxOS maintenance window")
    for name in ("n0", "n2"):
        expect(page.locator(f'tr[data-target="{name}"]')).to_contain_text("done: FluxOS answers again")
    expect(page.locator("#job-log")).to_contain_text("done on 2 of 3 node(s), 1 skipped")
    assert acted(fleet, 1) == [] and acted(fleet, 0) == ["flux/restart"] == acted(fleet, 2)
