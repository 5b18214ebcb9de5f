"""In a real browser: a hung node's live panel shows a spinner, then "no answer" with a Retry that
works; the open tab is marked with aria-current.

Robust on a loaded machine: every step waits on an element or attribute (Playwright's expect),
never on a fixed sleep, and the waits are generous; the node's hang is the simulator's own
`hang` fault, released when the test clears it.
"""
import pytest
from playwright.sync_api import expect

from apps.accounts.models import Membership
from apps.nodes import actions
from apps.nodes.sweep import run_sweep

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
WAIT_MS = 30_000


@pytest.fixture
def hung_node(personas, fleet, settings):
    settings.ALLOW_ANY_NODE_URL = True
    settings.SWEEP_TIMEOUT_SECONDS = 1
    manager = Membership.objects.get(user=personas.manager, team=personas.team)
    node = actions.register_nodes(membership=manager, text=fleet.urls[0])[0]
    run_sweep(personas.team.pk)
    fleet.inject(0, "hang")
    return node


def test_it_shows_a_spinner_then_no_answer_and_retry_works(personas, page, sign_in, live_server,
                                                            fleet, settings, hung_node):
    """The server gives up on the node after its deadline and says so; Retry asks again."""
    settings.NODE_LIVE_DEADLINE_SECONDS = 2
    sign_in("viewer", personas.password)
    page.goto(f"{live_server.url}/fleet/nodes/{hung_node.pk}/")
    panel = page.locator("#live-panel")
    expect(panel.locator(".spinner")).to_be_visible(timeout=WAIT_MS)
    expect(page.locator('[data-live-tab="daemon"]')).to_have_attribute("aria-current", "page")

    expect(panel).to_contain_text("No answer", timeout=WAIT_MS)
    expect(panel).to_contain_text("timed out after 2 s")
    retry = panel.locator("[data-live-retry]")
    expect(retry).to_be_visible()

    # Still hung: Retry shows the spinner again, then no answer again.
    retry.click()
    expect(panel.locator(".spinner")).to_be_visible(timeout=WAIT_MS)
    expect(panel.locator("[data-live-retry]")).to_be_visible(timeout=WAIT_MS)

    fleet.clear(0)
    panel.locator("[data-live-retry]").click()
    expect(panel).to_have_attribute("data-section", "daemon", timeout=WAIT_MS)
    expect(panel).not_to_have_attribute("data-live-error", "")
    expect(panel).to_contain_text("Block count", timeout=WAIT_MS)
    assert page.url.endswith(f"/fleet/nodes/{hung_node.pk}/")  # in place, no navigation

    page.click('[data-live-tab="peers"]')
    expect(panel).to_have_attribute("data-section", "peers", timeout=WAIT_MS)
    expect(page.locator('[data-live-tab="peers"]')).to_have_attribute("aria-current", "page")
    expect(page.locator('[data-live-tab="daemon"]')).not_to_have_attribute("aria-current", "page")


def test_it_gives_up_in_the_page_when_the_answer_takes_too_long(personas, page, sign_in, live_server,
                                                                fleet, settings, hung_node):
    """The page's own limit: when even the panel's answer is late, the browser stops waiting,
    says "No answer after N s" and offers Retry."""
    settings.NODE_LIVE_DEADLINE_SECONDS = 8
    settings.NODE_LIVE_PAGE_WAIT_SECONDS = 2
    sign_in("viewer", personas.password)
    page.goto(f"{live_server.url}/fleet/nodes/{hung_node.pk}/")
    panel = page.locator("#live-panel")
    expect(panel).to_contain_text("No answer after 2 s", timeout=WAIT_MS)
    expect(panel).to_have_attribute("data-live-error", "")
    fleet.clear(0)
    panel.locator("[data-live-retry]").click()
    expect(panel).to_contain_text("Block count", timeout=WAIT_MS)
    expect(page.locator('[data-live-tab="daemon"]')).to_have_attribute("aria-current", "page")
