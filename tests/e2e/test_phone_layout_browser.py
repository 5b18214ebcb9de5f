"""On a phone (390 px wide) every main page fits the screen: tables scroll inside themselves, long
words break, and the navigation folds behind a Menu button that reaches every section."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from apps.accounts.models import Membership
from apps.builder import actions as builder_actions
from apps.builder.draft_views import blank_spec
from apps.deployments.models import AppSyncSettings, TeamApp
from apps.deployments.sync import run_app_sync
from apps.nodes import actions as node_actions
from apps.nodes.sweep import run_sweep
from tests.e2e.conftest import browser_page
from tests.sim import keys
from tests.sim.fluxnode import SimFleet
from tests.sim.wallet import link

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
# The elements that stick out past the screen's right edge, deepest first: the failure says where.
OVERFLOW = """() => {
  const width = document.documentElement.clientWidth;
  const out = [];
  for (const el of document.querySelectorAll('body *')) {
    const box = el.getBoundingClientRect();
    if (box.width && box.right > width + 1 && !el.closest('table')) {
      out.push(el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
               (el.className && typeof el.className === 'string' ? '.' + el.className.split(' ').join('.') : '') +
               ' right=' + Math.round(box.right));
    }
  }
  return {scroll: document.documentElement.scrollWidth, width: width, out: out.slice(-8)};
}"""


@pytest.fixture(scope="module")
def sim():
    with SimFleet(nodes=8, seed=7) as fleet:
        yield fleet


@pytest.fixture
def phone(browser):
    with browser_page(browser, viewport=PHONE, is_mobile=True, has_touch=True) as opened:
        yield opened


def furnished_team(personas, sim):
    """A team with nodes (one down), its apps synced, a draft and an audit trail."""
    manager = Membership.objects.get(user=personas.manager, team=personas.team)
    lines = "\n".join(f"{url} a-rather-long-node-label-{i:02d}" for i, url in enumerate(sim.urls[:6]))
    nodes = node_actions.register_nodes(membership=manager, text=lines)
    sim.inject(3, "down")
    run_sweep(personas.team.pk)
    name = next(n for n in sim.app_names() if len(sim.app(n).nodes) >= 2)
    link(personas.manager, keys.key_for_zelid(sim.app(name).spec["owner"]))
    AppSyncSettings.objects.create(team=personas.team, gateway_url=sim.url(0))
    assert run_app_sync(personas.team.pk).status == "done"
    draft = builder_actions.create_draft(membership=manager, spec=blank_spec(personas.team))
    return nodes[0], TeamApp.objects.get(team=personas.team, name=name), draft


def test_it_every_main_page_fits_a_phone_and_the_menu_reaches_every_section(
        personas, phone, live_server, sim, settings):
    settings.ALLOW_ANY_NODE_URL = True
    settings.DEV_LOCATION_URL = sim.location_base
    settings.SWEEP_TIMEOUT_SECONDS = 1
    settings.APP_SYNC_TIMEOUT_SECONDS = 2
    node, app, draft = furnished_team(personas, sim)

    phone.goto(f"{live_server.url}/accounts/login/")
    phone.fill("#id_username", "manager")
    phone.fill("#id_password", personas.password)
    phone.click("button[type=submit]")
    phone.wait_for_url(lambda url: "/accounts/login/" not in url)

    pages = ["/fleet/", f"/fleet/nodes/{node.pk}/", "/apps/", f"/apps/{app.pk}/", "/pricing/",
             "/pricing/renewals/", "/worldstate/", "/accounts/team/", "/accounts/audit/", "/jobs/",
             "/wallet/", "/drafts/", f"/drafts/{draft.pk}/", "/fleet/register/"]
    wide = {}
    for path in pages:
        response = phone.goto(live_server.url + path)
        assert response.status == 200, path
        phone.wait_for_load_state("networkidle")
        found = phone.evaluate(OVERFLOW)
        if found["scroll"] > found["width"]:
            wide[path] = found
    assert not wide, wide

    # The folded navigation: hidden until Menu is pressed, then every section is one tap away.
    phone.goto(f"{live_server.url}/fleet/")
    jobs = phone.locator("nav.mainnav a", has_text="Jobs")
    expect(jobs).to_be_hidden()
    phone.click("[data-nav-toggle]")
    expect(phone.locator("[data-nav-toggle]")).to_have_attribute("aria-expanded", "true")
    for label in ("Fleet", "Apps", "Pricing", "World state", "Team", "Audit", "Jobs", "Wallet"):
        expect(phone.locator("nav.mainnav a", has_text=label)).to_be_visible()
    jobs.click()
    phone.wait_for_url("**/jobs/")
