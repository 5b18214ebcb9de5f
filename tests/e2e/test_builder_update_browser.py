"""In a real browser: from an app's page, Renew → a renewal draft whose Review shows only the
expiry (before and after, as dates) and the price — no field or component changes — and follows
an edit of the expire after its autosave."""
from __future__ import annotations

import copy
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from apps.builder.models import AppDraft
from apps.deployments.models import TeamApp
from apps.nodes.models import BLOCK_SECONDS
from fluxpanel.fluxos import pricing
from fluxpanel.fluxos.specs import format_spec
from tests.unit.fluxos.spec_cases import v8_spec

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
HEIGHT = 2_200_000


def test_it_renews_from_the_app_page_and_shows_only_expiry_and_price(personas, page, live_server, sign_in):
    spec = format_spec(copy.deepcopy(v8_spec(owner="1CbErtneaX2QVyUfwU7JGB7VzvPgrgc3uC")))
    spec["expire"] = 88_000
    message_height = HEIGHT - 8_000
    expires_at = timezone.now() + timedelta(seconds=(message_height + 88_000 - HEIGHT) * BLOCK_SECONDS)
    app = TeamApp.objects.create(
        team=personas.team, name=spec["name"], owner=spec["owner"], spec=spec, spec_version=8,
        message_height=message_height, expire=88_000, expiry_height=message_height + 88_000,
        expires_at=expires_at)

    sign_in("operator", personas.password)
    page.goto(f"{live_server.url}/apps/{app.pk}/")
    page.select_option("[data-role=app-draft-buttons] select[name=months]", "3")
    page.click("[data-role=app-renew]")
    page.wait_for_url(lambda url: "/drafts/" in url)

    draft = AppDraft.objects.get(team=personas.team)
    assert draft.kind == "renew" and draft.app_id == app.pk
    review = page.locator("[data-role=review]")
    expect(review.locator("[data-role=diff]")).to_have_attribute("data-kind", "renew")
    expect(review.locator("[data-role=expiry-before]")).to_contain_text(expires_at.strftime("%Y-%m-%d"))
    after = expires_at + timedelta(seconds=3 * pricing.default_expire(HEIGHT) * BLOCK_SECONDS)
    expect(review.locator("[data-role=expiry-after]")).to_contain_text(after.strftime("%Y-%m-%d"))
    expect(review.locator("[data-role=price-after]")).to_contain_text("FLUX to pay")
    expect(review.locator("[data-role=price-before]")).to_contain_text("USD")
    # Only expiry and price: no field table, no component change, no "more than the expiry" warning.
    expect(review.locator("[data-role=field-changes]")).to_have_count(0)
    expect(review.locator("[data-role=component-changed]")).to_have_count(0)
    expect(review.locator("[data-role=more-than-expiry]")).to_have_count(0)

    # Editing the expire on the Build tab autosaves, and the Review follows: one month from the update.
    month = pricing.default_expire(HEIGHT)
    page.fill("#build-form input[name=expire]", str(month))
    one_month = timezone.now() + timedelta(seconds=month * BLOCK_SECONDS)
    expect(page.locator("[data-role=review] [data-role=expiry-after]")).to_contain_text(one_month.strftime("%Y-%m-%d"))
    expect(page.locator("[data-role=review] [data-role=diff]")).to_have_attribute("data-kind", "renew")
