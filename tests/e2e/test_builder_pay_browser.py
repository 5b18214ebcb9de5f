"""In a real browser: a draft awaiting payment shows the QR code and the wallet links; the SSP pay
request reaches the (test) wallet with the exact address, amount and memo; the simulated payment
arrives on the network and the page turns live without a reload (the watcher runs meanwhile)."""
from __future__ import annotations

import threading

import pytest
from django.db import connection
from django.urls import reverse
from playwright.sync_api import expect

from apps.builder.models import AppDraft
from apps.builder.watch import start_watch
from apps.deployments.models import WatchedOwner
from apps.jobs.models import Job
from apps.jobs.runner import run_job
from tests.integration.builder.test_payment import ADDRESS, awaiting, paying_team, sim_post
from tests.sim import keys
from tests.sim.fluxnode import SimFleet

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# A stand-in SSP Wallet: records the pay request it gets and answers as SSP does.
FAKE_SSP = """
window.ssp = {request: async function (method, params) {
  window.__sspCalls = (window.__sspCalls || []).concat([[method, params]]);
  return {status: 'SUCCESS', txid: 'f'.repeat(64)};
}};
"""


@pytest.fixture(scope="module")
def sim():
    with SimFleet(nodes=4, seed=7) as fleet:
        yield fleet


@pytest.fixture
def team(personas, sim, settings):
    team = paying_team(personas, sim, settings, poll_s=0.2, gateway=False)
    WatchedOwner.objects.create(team=team, address=keys.OWNERS[0].zelid)
    return team


def watching(job_id: int) -> threading.Thread:
    """The watch job running as a worker would run it, on its own thread and connection."""
    def run():
        try:
            run_job(job_id, worker="e2e")
        finally:
            connection.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def test_it_the_page_shows_the_payment_and_turns_live_without_reload(personas, page, live_server, sign_in,
                                                                     sim, team):
    draft = awaiting(personas, sim, "browserpay1")
    job = start_watch(draft=draft, actor=personas.operator)
    thread = watching(job.pk)
    try:
        page.add_init_script(FAKE_SSP)
        sign_in("operator", personas.password)
        page.goto(f"{live_server.url}{reverse('builder:draft', args=[draft.pk])}")
        expect(page.locator("[data-role=pay-qr] svg")).to_be_visible()
        expect(page.locator("[data-role=pay-address]")).to_have_text(ADDRESS)
        expect(page.locator("[data-role=pay-amount]")).to_have_text("1.66")
        expect(page.locator("[data-role=pay-memo]")).to_have_text(draft.message_hash)
        href = page.locator("[data-role=zelcore-pay]").get_attribute("href")
        assert href == (f"zel:?action=pay&coin=zelcash&address={ADDRESS}&amount=1.66"
                        f"&message={draft.message_hash}")
        expect(page.locator("[data-role=pay-status]")).to_have_attribute("data-status", "awaiting_payment")
        page.evaluate("window.__notReloaded = true")

        page.click("[data-role=ssp-pay]")
        expect(page.locator("[data-role=ssp-pay-result]")).to_contain_text("Sent (transaction fff")
        calls = page.evaluate("window.__sspCalls")
        assert calls == [["pay", {"address": ADDRESS, "amount": "1.66", "chain": "flux",
                                  "message": draft.message_hash}]]

        sim_post(sim, "payments", {"hash": draft.message_hash})  # the network sees the payment
        expect(page.locator("[data-role=pay-live]")).to_be_visible(timeout=30_000)
        expect(page.locator("[data-role=pay-status]")).to_have_attribute("data-status", "live")
        assert page.evaluate("window.__notReloaded") is True
        thread.join(30)
        draft.refresh_from_db()
        assert draft.status == AppDraft.Status.LIVE
        page.click("[data-role=pay-live] a")
        expect(page.locator("body")).to_contain_text("browserpay1")
    finally:
        Job.objects.filter(pk=job.pk).update(cancel_requested=True)
        thread.join(30)
