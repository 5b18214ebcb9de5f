"""In a real browser: a key holder links a ZelID, the team's apps appear with their instances and
expiry, an instance stops on the simulated network and the app turns degraded without a reload, and
the expiry alert fires once."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from apps.deployments.models import AppSyncSettings, TeamApp
from apps.deployments.sync import run_app_sync
from apps.nodes.models import AlertDelivery, AlertRule
from tests.sim import keys
from tests.sim.fluxnode import SimFleet
from tests.sim.wallet import TestWallet

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module")
def sim():
    with SimFleet(nodes=12, seed=7) as fleet:
        yield fleet


def test_it_linked_zelid_brings_its_apps_and_a_stopped_instance_shows_live(
        personas, page, live_server, sign_in, sim, settings, mailoutbox):
    settings.ALLOW_ANY_NODE_URL = True  # the simulated network listens on loopback
    settings.DEV_LOCATION_URL = sim.location_base
    settings.APP_SYNC_TIMEOUT_SECONDS = 2
    # An app with at least two instances, and the key of its owner.
    name = next(n for n in sim.app_names() if len(sim.app(n).nodes) >= 2)
    owner = keys.key_for_zelid(sim.app(name).spec["owner"])
    owned = {n for n in sim.app_names() if sim.app(n).spec["owner"] == owner.zelid}
    AppSyncSettings.objects.create(team=personas.team, gateway_url=sim.url(0))
    AlertRule.objects.create(team=personas.team, kind=AlertRule.Kind.APP_EXPIRES, threshold=365,
                             email="ops@example.com")

    wallet = TestWallet(owner, other_key=keys.STRANGER)
    wallet.install(page)
    sign_in("manager", personas.password)
    page.click("nav.mainnav >> text=Wallet")
    page.click("text=Link a ZelID")
    expect(page.locator(".sign-item [data-role=message]")).not_to_have_value("")
    page.click("button[data-method=ssp]")
    page.wait_for_url(f"{live_server.url}/wallet/")

    assert run_app_sync(personas.team.pk).status == "done"  # what beat does every interval
    page.click("nav.mainnav >> text=Apps")
    row = page.locator("tr[data-app]", has_text=name)
    expect(row.locator("[data-status]")).to_have_attribute("data-status", "healthy")
    wanted = len(sim.app(name).nodes)
    expect(row).to_contain_text(f"{wanted} / {wanted}")
    expect(page.locator("tr[data-app]")).to_have_count(len(owned))
    expiry = TeamApp.objects.get(team=personas.team, name=name).expires_at
    expect(row).to_contain_text(expiry.strftime("%Y-%m-%d"))

    # The expiry rule fired once per app, on the first sync.
    firing = AlertDelivery.objects.filter(rule__kind=AlertRule.Kind.APP_EXPIRES, kind="firing")
    assert firing.count() == len(owned)

    sim.stop_instance(name, sim.app(name).nodes[0])
    assert run_app_sync(personas.team.pk).status == "done"
    # No reload: the page's own poll brings the change.
    expect(row.locator("[data-status]")).to_have_attribute("data-status", "degraded", timeout=20_000)
    expect(row).to_contain_text(f"{wanted - 1} / {wanted}")
    assert firing.count() == len(owned)  # still firing: no second notice

    row.locator("a", has_text=name).click()
    page.click("nav.tabs >> text=Instances")
    expect(page.locator("body")).to_contain_text("Not running")
