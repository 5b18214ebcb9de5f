"""In a real browser: the live stream page shows an update published to the engine without a
reload, and again after the engine dropped the subscriber's WebSocket (the subscriber reconnects
and resyncs; the page only ever reads the panel)."""
import pytest
from playwright.sync_api import expect

from apps.worldstate.models import Engine
from tests.integration.worldstate.conftest import wait_for
from tests.integration.worldstate.live import RunningSubscriber, live_state, wait_live
from tests.sim.worldstate import loopback_client

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_it_live_stream_shows_updates_without_a_reload_and_after_a_dropped_connection(
        personas, double, page, sign_in, live_server, settings):
    double.configure(metrics_interval=0.2)
    settings.WORLDSTATE_LEASE_SECONDS = 3
    settings.WORLDSTATE_SILENCE_SECONDS = 2
    settings.WORLDSTATE_BACKOFF_MAX_SECONDS = 1
    engine = Engine.objects.create(team=personas.team, name="main", base_url=double.url,
                                   namespace="team-a")
    writer = loopback_client(double.url)
    with RunningSubscriber():
        wait_live(engine)
        sign_in("viewer", personas.password)
        page.goto(f"{live_server.url}/worldstate/{engine.pk}/live/")
        expect(page.locator('[data-live="on"]')).to_be_visible()
        page.evaluate("window.__sameDocument = 'yes'")

        writer.publish("sensors.temp", "test", "team-a/boiler", {"temp": 97.5})
        first = page.locator("#live-lines tr[data-kind=update]", has_text="team-a/boiler")
        expect(first).to_contain_text("97.5", timeout=5000)
        expect(first).to_contain_text("live")

        connected = live_state(engine).connected_at
        double.drop_connections("close")
        wait_for(lambda: live_state(engine).connected_at != connected and
                 live_state(engine).state == "live", timeout=15)
        writer.publish("sensors.temp", "test", "team-a/boiler", {"temp": 42})
        expect(page.locator("#live-lines tr[data-kind=update]").first).to_contain_text("42", timeout=5000)
        expect(page.locator("#live-lines tr[data-kind=update]").first).to_contain_text("97.5")  # old → new
        expect(page.locator("#live-lines tr[data-kind=resync]").first).to_be_attached()
        assert page.evaluate("window.__sameDocument") == "yes", "the page was reloaded"

        page.click("#live-pause")
        expect(page.locator("[data-paused]")).to_be_visible()
