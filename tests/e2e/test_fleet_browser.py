"""In a real browser: a pasted list with a bad line, and a node going down without a reload."""
import pytest
from playwright.sync_api import expect

from apps.nodes.sweep import run_sweep

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_it_bad_line_is_named_and_nothing_imported(personas, page, sign_in, live_server):
    sign_in("manager", personas.password)
    page.goto(f"{live_server.url}/fleet/register/")
    page.fill("#id_nodes", "93.184.216.7\n93.184.216.8:16137 second\n93.184.216.9:9999\n93.184.216.10")
    page.click("button:has-text('Register')")
    errors = page.locator(".line-errors li")
    expect(errors).to_have_count(1)
    expect(errors.first).to_contain_text("Line 3")
    expect(errors.first).to_contain_text("Port 9999 is not a FluxOS API port")
    expect(page.locator("#id_nodes")).to_have_value("93.184.216.7\n93.184.216.8:16137 second\n93.184.216.9:9999\n93.184.216.10")
    assert personas.team.nodes.count() == 0


def test_it_fleet_page_shows_a_node_going_down_live(personas, page, sign_in, live_server, fleet, settings):
    settings.ALLOW_ANY_NODE_URL = True
    settings.SWEEP_TIMEOUT_SECONDS = 1
    sign_in("manager", personas.password)
    page.goto(f"{live_server.url}/fleet/register/")
    lines = "\n".join(f"{url} sim-{i:02d}" for i, url in enumerate(fleet.urls[:5]))
    page.fill("#id_nodes", lines)
    page.click("button:has-text('Register')")
    page.wait_for_url("**/fleet/")
    run_sweep(personas.team.pk)  # what beat does every interval
    page.reload()
    expect(page.locator('[data-count="confirmed"]')).to_have_text("5")
    row = page.locator("tr", has_text="sim-02")
    expect(row.locator("[data-state]")).to_have_attribute("data-state", "confirmed")

    fleet.inject(2, "down")
    run_sweep(personas.team.pk)
    # No reload: the htmx poll brings the change.
    expect(row.locator("[data-state]")).to_have_attribute("data-state", "down", timeout=10_000)
    expect(page.locator('[data-count="down"]')).to_have_text("1")
    expect(row).to_contain_text("connection reset")


def test_it_node_page_tabs_load_in_place(personas, page, sign_in, live_server, fleet, settings):
    """The node page loads its daemon tab by itself and swaps another tab in on a click (htmx on
    the page's own URL, `?section=`)."""
    from apps.accounts.models import Membership
    from apps.nodes import actions

    settings.ALLOW_ANY_NODE_URL = True
    manager = Membership.objects.get(user=personas.manager, team=personas.team)
    node = actions.register_nodes(membership=manager, text=fleet.urls[0])[0]
    sign_in("manager", personas.password)
    page.goto(f"{live_server.url}/fleet/nodes/{node.pk}/")
    expect(page.locator("#live-panel")).to_have_attribute("data-section", "daemon", timeout=10_000)
    page.click(".tabs a:has-text('Peers')")
    expect(page.locator("#live-panel")).to_have_attribute("data-section", "peers", timeout=10_000)
    expect(page.locator("#live-panel")).to_contain_text("outgoing")
    assert page.url.endswith(f"/fleet/nodes/{node.pk}/")  # swapped in place, no navigation
