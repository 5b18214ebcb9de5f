"""Shared steps of the builder's end-to-end browser tests (tests/e2e/test_builder_flow_browser.py):
the team on the simulated network, an in-process worker that runs the team's jobs as soon as they
are queued, and what the operator and the key holder do in their browsers."""
from __future__ import annotations

import threading
from contextlib import contextmanager

from django.db import connection
from django.urls import reverse
from playwright.sync_api import expect

from apps.accounts.models import Membership
from apps.jobs.models import HELD_FOR, Job
from apps.jobs.runner import run_job
from tests.integration.builder.test_payment import paying_team, sim_post
from tests.sim import fluxnode_register as register

LONG_WAIT = 60_000  # ms: a submit, a watcher poll and an app sync on a loaded 2-core machine
SOURCE = 0  # the team's source node: given the peers FluxOS needs to broadcast


def flow_team(personas, sim, settings):
    """Team A on the simulated network: node 0 (enough peers) as its source, fast polls."""
    settings.BUILDER_SUBMIT_DEADLINE_S = 20.0
    return paying_team(personas, sim, settings, poll_s=0.2, gateway=False)


@contextmanager
def healthy_network(sim):
    """FluxOS's peer rule on, the source node connected enough; undone afterwards."""
    world = sim.fleet
    previous = sim.call(register.connect_peers, world, SOURCE)
    sim.call(register.require_peers, world, True)
    try:
        yield sim
    finally:
        sim.call(register.require_peers, world, False)
        sim.call(register.restore_peers, world, SOURCE, previous)
        sim.call(world.temporary.clear)


class InlineWorker:
    """Runs every job the team queues, at once, each on its own thread and connection (what the
    Celery worker does; in-process, so the test's settings apply to the jobs too)."""

    def __init__(self, team):
        self.team = team
        self.stop = threading.Event()
        self.threads: list[threading.Thread] = []
        self.started: set[int] = set()
        self.errors: list[str] = []
        self.dispatcher = threading.Thread(target=self._dispatch, daemon=True)

    def __enter__(self):
        self.dispatcher.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.dispatcher.join(30)
        Job.objects.filter(pk__in=self.started).exclude(status__in=Job.FINISHED).update(cancel_requested=True)
        for thread in self.threads:
            thread.join(30)

    def _dispatch(self):
        try:
            while not self.stop.is_set():
                # A job held until a signature (HELD_FOR) is picked up once it is released.
                queued = Job.objects.filter(team=self.team, status=Job.Status.QUEUED).exclude(
                    pk__in=self.started).exclude(params__has_key=HELD_FOR).values_list("pk", flat=True)
                for pk in list(queued):
                    self.started.add(pk)
                    thread = threading.Thread(target=self._run, args=(pk,), daemon=True)
                    self.threads.append(thread)
                    thread.start()
                self.stop.wait(0.1)
        finally:
            connection.close()

    def _run(self, pk: int):
        try:
            run_job(pk, worker="e2e-inline")
        except Exception as exc:  # the job's own outcome is on its row; this is the runner's
            self.errors.append(f"job {pk}: {exc!r}")
        finally:
            connection.close()


def membership(personas, name: str) -> Membership:
    return Membership.objects.get(user=personas.users[name], team=personas.team)


def sign_in(page, live_server, username: str, password: str) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/accounts/login/" not in url)


def new_draft_in_browser(page, live_server) -> int:
    """The Drafts page's "New app": the draft page opens on its Build tab; returns the draft id."""
    page.goto(f"{live_server.url}{reverse('builder:list')}")
    page.click("button:has-text('New app')")
    page.wait_for_url(lambda url: "/drafts/" in url and url.rstrip("/").split("/")[-1].isdigit())
    expect(page.locator("[data-role=build-form]")).to_be_visible()
    return int(page.url.rstrip("/").split("/")[-1])


def fill_build_tab(page, fields: dict[str, str]) -> None:
    """Type `fields` (input name → text) in the Build tab, the last one while waiting for the
    autosave that carries all of them: it must answer 200 (saved, revision matched)."""
    form = page.locator("[data-role=build-form]")
    items = list(fields.items())
    for name, value in items[:-1]:
        form.locator(f"[name='{name}']").fill(value)
    last_name, last_value = items[-1]

    def carries_everything(response) -> bool:
        if "/save/" not in response.url or response.request.method != "POST":
            return False
        body = response.request.post_data or ""
        from urllib.parse import parse_qs

        posted = parse_qs(body, keep_blank_values=True)
        return all(posted.get(name, [None])[0] == value.replace("\r\n", "\n") for name, value in fields.items())

    with page.expect_response(carries_everything, timeout=LONG_WAIT) as answer:
        form.locator(f"[name='{last_name}']").fill(last_value)
    assert answer.value.status == 200, answer.value.text()


def send_for_signing(page, key) -> None:
    """Sign tab → "Send for signing": the request waits for `key`'s holder."""
    page.click("nav.tabs >> text=Sign")
    page.click("button:has-text('Send for signing')")
    expect(page.locator("[data-role=request-status]")).to_have_attribute("data-status", "pending")
    expect(page.locator("[data-role=signer]")).to_have_text(key.zelid)


NEW_ITEM = """previous => {
  if (document.querySelector('.sign-done')) return true;
  const message = document.querySelector('.sign-item:not(.sign-done) [data-role=message]');
  return !!(message && message.value && message.value !== previous);
}"""


def holder_signs_everything(page, live_server, wallet, path: str, key) -> list[str]:
    """The key holder's Wallet → "Review and sign": every message waiting for them, signed through
    `path` (ssp, evm, zelcore, paste), until nothing is left. Returns the messages signed."""
    page.goto(f"{live_server.url}{reverse('wallets:home')}")
    page.click("a.button:has-text('Review and sign')")
    signed: list[str] = []
    previous = ""
    while True:
        page.wait_for_function(NEW_ITEM, arg=previous, timeout=LONG_WAIT)
        if page.locator(".sign-done").count():
            break
        item = page.locator(".sign-item:not(.sign-done)")
        message = item.locator("[data-role=message]").input_value()
        assert len(signed) < 5, f"the queue does not end: {signed}"
        if path in ("ssp", "evm"):
            if not signed:  # the next messages go to the same wallet by themselves (chained)
                item.locator(f"button[data-method={path}]").click()
        elif path == "zelcore":
            uri = item.get_attribute("data-zel-uri")
            assert uri and len(uri) <= 1800
            if len(message) > 1800:
                assert uri.startswith("zel:?action=sign&message=FLUX_URL%3Dhttp")
            # ZelCore's in-app browser gets the link; the page polls for the signature it sends.
            item.locator("button[data-method=zelcore]").click()
            expect(item.locator("[data-role=waiting]").first).to_be_visible()
            assert wallet.zelcore_uris[-1] == uri
            answer = wallet.answer_zelcore(uri)
            assert answer.status_code == 200, answer.text
        else:
            item.locator("summary:has-text('Copy and paste')").click()
            item.locator("[data-role=paste-form] [name=address]").fill(key.zelid)
            item.locator("[data-role=paste-form] [name=signature]").fill(key.sign(message))
            item.locator("[data-role=paste-form] button[type=submit]").click()
        signed.append(message)
        previous = message
    expect(page.locator(".sign-done")).to_contain_text("Nothing to sign")
    return signed


def batch_signed(draft) -> None:
    """Every request of the draft's batch (the app message, an app-owner authorisation) is signed."""
    from apps.wallets.models import SigningRequest

    draft.refresh_from_db()
    batch = SigningRequest.objects.filter(batch=draft.signing_request.batch)
    assert set(batch.values_list("status", flat=True)) == {SigningRequest.Status.SIGNED}, list(
        batch.values_list("kind", "status", "outcome"))


def submitted_then_paid(page, sim, draft) -> None:
    """On the draft page: the submission succeeds (the page follows it), the Pay tab shows the
    amount, the memo and the QR code, the simulated payment arrives and the page turns live
    without a reload."""
    from apps.builder.models import AppDraft
    from apps.builder.pay_views import flux_amount

    page.goto(page.url.split("?")[0] + "?tab=sign")
    expect(page.locator("[data-role=submit]")).to_have_attribute("data-status", "succeeded", timeout=LONG_WAIT)
    draft.refresh_from_db()
    assert draft.status == AppDraft.Status.AWAITING_PAYMENT, (draft.status, draft.reason)
    expect(page.locator("[data-role=message-hash]")).to_have_text(draft.message_hash)
    page.click("nav.tabs >> text=Pay")
    expect(page.locator("[data-role=pay-qr] svg")).to_be_visible()
    expect(page.locator("[data-role=pay-amount]")).to_have_text(flux_amount(draft.price_flux))
    expect(page.locator("[data-role=pay-memo]")).to_have_text(draft.message_hash)
    href = page.locator("[data-role=zelcore-pay]").get_attribute("href")
    assert f"amount={flux_amount(draft.price_flux)}" in href and f"message={draft.message_hash}" in href
    expect(page.locator("[data-role=pay-status]")).to_have_attribute("data-status", "awaiting_payment")
    page.evaluate("window.__notReloaded = true")
    sim_post(sim, "payments", {"hash": draft.message_hash})  # the network sees the payment
    expect(page.locator("[data-role=pay-live]")).to_be_visible(timeout=LONG_WAIT)
    expect(page.locator("[data-role=pay-status]")).to_have_attribute("data-status", "live")
    assert page.evaluate("window.__notReloaded") is True
    draft.refresh_from_db()
    assert draft.status == AppDraft.Status.LIVE


def apps_list_expiry(page, live_server, name: str, expires_at) -> None:
    """The Apps list has `name` with that expiry date."""
    page.goto(f"{live_server.url}{reverse('deployments:list')}")
    row = page.locator("tr[data-app]", has_text=name)
    expect(row).to_have_count(1)
    expect(row).to_contain_text(expires_at.strftime("%Y-%m-%d"))
