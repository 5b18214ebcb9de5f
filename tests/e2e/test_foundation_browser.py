"""In a real browser: sign in, switch team, start the demo job, watch it reach 100 %."""
import pytest
from playwright.sync_api import expect

from apps.accounts.models import Membership, Role

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_it_sign_in_switch_team_and_follow_demo_job(personas, worker, page, sign_in, live_server):
    Membership.objects.create(team=personas.other_team, user=personas.operator, role=Role.OPERATOR)
    sign_in("operator", personas.password)
    expect(page.locator("#team-switch")).to_have_value(str(personas.team.pk))

    page.select_option("#team-switch", str(personas.other_team.pk))
    expect(page.locator(".messages")).to_contain_text("Now working in Team B")
    expect(page.locator("#team-switch")).to_have_value(str(personas.other_team.pk))

    page.click("nav.mainnav >> text=Jobs")
    page.click("button:has-text('Check connectivity')")
    page.wait_for_url("**/jobs/*/")
    expect(page.locator("#job-log")).to_contain_text("Checking the database")
    progress = page.locator("[role=progressbar]")
    expect(progress).to_have_attribute("aria-valuenow", "100", timeout=30_000)
    expect(page.locator("#job-status [data-status]")).to_have_text("Succeeded")
    log = page.locator("#job-log .line")
    texts = log.all_inner_texts()
    assert texts[-1].endswith("Done.")
    seqs = [int(s) for s in log.evaluate_all("lines => lines.map(l => l.dataset.seq)")]
    assert seqs == list(range(1, len(seqs) + 1)), "a line was shown twice or lost"
    # The job ran in Team B, the team the user switched to.
    assert personas.other_team.jobs.count() == 1 and personas.team.jobs.count() == 0
