"""In a real browser: the merged Logs page follows two instances of an app; one instance's node goes
down (its part says interrupted, the other keeps flowing) and comes back (it resumes), and no line
is lost or shown twice on the page."""
from __future__ import annotations

import re
from collections import defaultdict

import pytest
from playwright.sync_api import expect

from tests.integration.operations.test_logs import make_app
from tests.sim import fluxnode_apps
from tests.sim.fluxnode import SimFleet

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module")
def sim():
    previous = fluxnode_apps.set_log_rate(250, 2)
    with SimFleet(nodes=12, seed=3) as fleet:
        yield fleet
    fluxnode_apps.set_log_rate(*previous)


def wait_for_more(page, locator, than: int, timeout_s: float = 15.0) -> None:
    """Until the page shows more than `than` of these lines (no eval: the CSP forbids it)."""
    for _ in range(int(timeout_s * 10)):
        if locator.count() > than:
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"still {locator.count()} lines, expected more than {than}")


def req_numbers(page):
    per_stream = defaultdict(list)
    for stream, text in page.eval_on_selector_all(
            ".log-line", "els => els.map(e => [e.dataset.stream, e.textContent])"):
        found = re.search(r"req=(\d+)", text)
        if found:
            per_stream[stream].append(int(found.group(1)))
    return per_stream


def test_it_follows_two_instances_while_one_goes_down_and_comes_back(personas, page, live_server, sign_in,
                                                                     sim, settings):
    settings.ALLOW_ANY_NODE_URL = True
    settings.DEV_LOCATION_URL = sim.location_base
    settings.OPERATIONS_LOG_POLL_BUDGET_S = 1.5
    app, nodes = make_app(personas.team, sim, user=personas.operator)
    first, second = app.instances.order_by("location")
    down_index = next(i for i in nodes if sim.call(lambda i=i: sim.fleet.identity(i).location) == first.location)

    sign_in("viewer", personas.password)
    page.goto(f"{live_server.url}/operate/{app.pk}/logs/")
    first_lines = page.locator(f'.log-line[data-stream^="{first.pk}:"]')
    second_lines = page.locator(f'.log-line[data-stream^="{second.pk}:"]')
    expect(first_lines.first).to_be_visible()
    expect(second_lines.first).to_be_visible()
    expect(first_lines.first).to_contain_text(f"[{first.location}/")
    first_state = page.locator(f'#log-streams li[data-stream^="{first.pk}:"]').first

    sim.inject(down_index, "down")
    expect(first_state).to_have_attribute("data-state", "interrupted")
    expect(first_state).to_contain_text("interrupted")
    count = second_lines.count()
    wait_for_more(page, second_lines, count)
    held = first_lines.count()
    wait_for_more(page, second_lines, second_lines.count())
    assert first_lines.count() == held  # nothing from the down node meanwhile

    sim.clear(down_index)
    expect(first_state).to_have_attribute("data-state", "following")
    wait_for_more(page, first_lines, held + 4)

    stamps = page.eval_on_selector_all(".log-line", "els => els.map(e => e.dataset.ts)")
    assert stamps == sorted(stamps)  # the lines the node brought back took their place in time
    for stream, numbers in req_numbers(page).items():
        assert len(numbers) == len(set(numbers)), f"{stream}: a line shown twice"
        assert sorted(numbers) == list(range(min(numbers), max(numbers) + 1)), f"{stream}: a line lost"
