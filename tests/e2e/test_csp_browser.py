"""In a real browser, under the Content-Security-Policy: pages run without a single violation, and
the behaviour that moved out of inline handlers (panel.js) still works."""
import pytest
from playwright.sync_api import expect

from apps.accounts.models import Membership

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_it_runs_the_pages_without_csp_violations_and_asks_before_removing(personas, page, sign_in, live_server):
    problems = []
    page.on("console", lambda message: problems.append(message.text)
            if "Content Security Policy" in message.text or message.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    sign_in("manager", personas.password)
    for path in ("/fleet/", "/jobs/", "/accounts/audit/", "/wallet/", "/accounts/team/"):
        page.goto(f"{live_server.url}{path}")
        page.wait_for_load_state("networkidle")
    assert page.evaluate("htmx.config.allowEval") is False
    # data-confirm: dismissing the question keeps the member, accepting removes them.
    viewer = Membership.objects.get(team=personas.team, user=personas.viewer)
    remove = page.locator(f"form[action$='/members/{viewer.pk}/remove/'] button")
    page.once("dialog", lambda dialog: dialog.dismiss())
    remove.click()
    page.wait_for_timeout(300)
    assert Membership.objects.filter(pk=viewer.pk).exists()
    page.once("dialog", lambda dialog: dialog.accept())
    remove.click()
    expect(page.locator(".messages")).to_contain_text("viewer was removed from the team")
    assert not Membership.objects.filter(pk=viewer.pk).exists()
    assert problems == [], problems
