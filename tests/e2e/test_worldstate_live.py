"""In a real browser: an event published by another process shows up on the open entity page
within one poll interval (fluxpanel.htmx.POLL_FAST_S) plus the request, without a reload; a bad
JSON body in the publish form is explained under the field."""
import os
import subprocess
import sys
import time

import pytest
from playwright.sync_api import expect

from apps.worldstate.models import Engine
from fluxpanel.htmx import POLL_FAST_S
from tests.conftest import REPO
from tests.sim.worldstate import loopback_client

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PUBLISHER = """
import sys
from tests.sim.worldstate import loopback_client
loopback_client(sys.argv[1]).publish("sensors.temp", "other-process", "team-a/boiler",
                                      {"temp": 97.5, "status": "hot"})
"""


def test_it_event_from_another_process_appears_without_reload(personas, double, page, sign_in, live_server):

    loopback_client(double.url).publish("sensors.temp", "test", "team-a/boiler",
                                         {"temp": 60, "status": "ok"})
    engine = Engine.objects.create(team=personas.team, name="main", base_url=double.url,
                                   namespace="team-a")
    sign_in("viewer", personas.password)
    page.goto(f"{live_server.url}/worldstate/{engine.pk}/entity/?id=team-a%2Fboiler")
    temp = page.locator('#entity-properties [data-property="temp"]')
    expect(temp).to_contain_text("60")
    page.evaluate("window.__sameDocument = 'yes'")

    environment = dict(os.environ, PYTHONPATH=str(REPO))
    subprocess.run([sys.executable, "-c", PUBLISHER, double.url], cwd=REPO, env=environment,
                   check=True, timeout=30)
    published_at = time.monotonic()
    budget_s = POLL_FAST_S + 0.75  # one poll interval, plus the poll's own round trip
    expect(temp).to_contain_text("97.5", timeout=budget_s * 1000)
    assert time.monotonic() - published_at < budget_s
    expect(page.locator('#entity-properties [data-property="status"]')).to_contain_text("hot")
    assert page.evaluate("window.__sameDocument") == "yes", "the page was reloaded"
    expect(page.locator("#entity-history tr[data-event]")).to_have_count(2)
    expect(page.locator("#entity-history")).to_contain_text("other-process")


def test_it_bad_json_in_the_publish_form_is_shown_under_the_field(personas, double, page, sign_in, live_server):
    engine = Engine.objects.create(team=personas.team, name="main", base_url=double.url,
                                   namespace="team-a")
    sign_in("operator", personas.password)
    page.goto(f"{live_server.url}/worldstate/{engine.pk}/entity/?id=team-a%2Fpump")
    page.click("text=Publish an event")
    expect(page.locator("#id_entity_id")).to_have_value("team-a/pump")
    page.fill("#id_properties", '{"on": true,, "rpm": 1200}')
    page.click("#publish-form button[type=submit]")
    field = page.locator(".field", has=page.locator("#id_properties"))
    expect(field.locator(".errorlist")).to_contain_text(
        "Not valid JSON: Expecting property name enclosed in double quotes (line 1, column 13).")
    expect(page.locator("#id_properties")).to_have_value('{"on": true,, "rpm": 1200}')
    assert double.entity_count() == 0

    page.fill("#id_properties", '{"on": true, "rpm": 1200}')
    page.click("#publish-form button[type=submit]")
    page.wait_for_url("**/entity/?id=team-a%2Fpump")
    expect(page.locator('#entity-properties [data-property="rpm"]')).to_contain_text("1200")


def test_it_runs_the_pages_behaviour_from_the_static_script_under_the_csp(personas, double, page,
                                                                        sign_in, live_server):
    """No inline handlers (the Content-Security-Policy would block them): through static/js/panel.js
    the history window select submits itself, and removing an engine asks first (declined keeps
    it)."""
    engine = Engine.objects.create(team=personas.team, name="main", base_url=double.url,
                                   namespace="team-a")
    sign_in("manager", personas.password)
    page.goto(f"{live_server.url}/worldstate/{engine.pk}/entity/?id=team-a%2Fx")
    page.select_option("#window", "1h")
    page.wait_for_url("**window=1h**")
    page.goto(f"{live_server.url}/worldstate/{engine.pk}/settings/")
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.click("text=Remove engine")
    assert Engine.objects.filter(pk=engine.pk).exists()
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("text=Remove engine")
    page.wait_for_url(f"{live_server.url}/worldstate/")
    assert not Engine.objects.filter(pk=engine.pk).exists()
