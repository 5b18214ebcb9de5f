"""The diff of a draft (field by field, per component, lists as items; price and expiry before and
after), and the expire arithmetic of update / renew / cancel drafts made from a team app."""
import copy
import json
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.accounts.models import AuditEntry, Membership
from apps.builder import diff
from apps.builder.actions import DraftRefused, create_draft, draft_from_app, duplicate_app
from apps.builder.models import AppDraft
from apps.deployments.models import TeamApp
from apps.nodes.models import BLOCK_SECONDS
from fluxpanel.fluxos import pricing
from fluxpanel.fluxos.specs import format_spec
from tests.vectors import load

VECTORS = {v["id"]: v for v in load("specs")}
LIVE = format_spec(VECTORS["v8_valid_three_components"]["spec"])
HEIGHT = 2_200_000  # the chain now, in these tests (post PON: 88000 blocks a month)
MONTH = pricing.default_expire(HEIGHT)


def operator(personas):
    return Membership.objects.get(user=personas.operator, team=personas.team)


def team_app(personas, *, spec=None, message_height=HEIGHT - 10_000, expire=88_000):
    spec = copy.deepcopy(spec or LIVE)
    spec["expire"] = expire
    expiry = message_height + expire
    return TeamApp.objects.create(
        team=personas.team, name=spec["name"], owner=spec["owner"], spec=spec, spec_version=spec["version"],
        message_height=message_height, expire=expire, expiry_height=expiry,
        expires_at=timezone.now() + timedelta(seconds=(expiry - HEIGHT) * BLOCK_SECONDS))


def test_it_diffs_fields_components_and_list_items():
    after = copy.deepcopy(LIVE)
    after["instances"] = 7
    after["contacts"] = ["new@example.com"]
    first, second = after["compose"][0], after["compose"][1]
    first["ports"] = first["ports"] + [36010]
    first["containerPorts"] = first["containerPorts"] + [8080]
    first["domains"] = first["domains"] + [""]
    first["environmentParameters"] = ["NEW=1"]
    first["cpu"] = 1.0
    removed = second["name"]
    after["compose"].remove(second)
    after["compose"].append({**copy.deepcopy(first), "name": "cache", "ports": [36020]})
    result = diff.spec_diff(LIVE, after)
    fields = {row["field"]: row for row in result["fields"]}
    assert set(fields) == {"instances", "contacts"}
    assert fields["instances"]["before"] == "5" and fields["instances"]["after"] == "7"
    assert fields["contacts"]["added"] == ["new@example.com"] and fields["contacts"]["removed"] == ["ops@example.com"]
    assert result["removed"] == [removed] and [c["name"] for c in result["added"]] == ["cache"]
    [changed] = [c for c in result["changed"] if c["name"] == first["name"]]
    rows = {row["field"]: row for row in changed["rows"]}
    assert rows["ports"]["added"] == ["36010"] and rows["ports"]["removed"] == []
    old_env = LIVE["compose"][0]["environmentParameters"]
    assert rows["environmentParameters"]["added"] == ["NEW=1"] and rows["environmentParameters"]["removed"] == old_env
    assert rows["cpu"]["before"] == json.dumps(LIVE["compose"][0]["cpu"]) and rows["cpu"]["after"] == "1.0"
    assert "name" not in rows and not result["empty"]
    assert diff.spec_diff(LIVE, copy.deepcopy(LIVE))["empty"]


def test_it_never_shows_a_repoauth_value():
    after = copy.deepcopy(LIVE)
    after["compose"][0]["repoauth"] = "user:hunter2"
    [changed] = diff.spec_diff(LIVE, after)["changed"]
    assert changed["rows"][0]["after"] == "(set)" and "hunter2" not in json.dumps(changed)


@pytest.mark.parametrize("height,minimum", [(1_600_000, 5000), (1_700_000, 100), (1_964_447, 1), (HEIGHT, 1)])
def test_it_knows_fluxos_minimum_expire(height, minimum):
    assert diff.minimum_expire(height) == minimum


def test_it_renews_from_the_blocks_left_within_the_maximum():
    assert diff.renew_expire(50_000, 1, HEIGHT) == 50_000 + MONTH
    assert diff.renew_expire(0, 3, HEIGHT) == 3 * MONTH
    assert diff.renew_expire(-500, 1, HEIGHT) == MONTH  # an ended app counts from the update
    assert diff.renew_expire(1_000_000, 12, HEIGHT) == 1_056_000  # FluxOS's maximum after PON
    assert diff.renew_expire(123_456, 1, 1_600_000) == 146_000  # before 1625000: a multiple of 1000
    assert diff.renew_expire(100_000, 12, 1_700_000) == 264_000  # the pre-PON maximum


def test_it_reads_the_height_now_from_the_app_sync(personas):
    app = team_app(personas)
    assert abs(diff.app_height_now(app) - HEIGHT) <= 1
    assert abs(diff.team_height(personas.team, app) - HEIGHT) <= 1
    assert diff.blocks_left(app, HEIGHT) == 78_000


def test_it_makes_renew_and_cancel_drafts_that_only_move_expire(personas):
    app = team_app(personas)
    renewal = draft_from_app(membership=operator(personas), app=app, kind="renew", months=3)
    left = app.expiry_height - diff.team_height(personas.team, app)
    assert renewal.kind == "renew" and renewal.base_spec == app.spec and renewal.base_height == app.message_height
    assert renewal.spec["expire"] == left + 3 * MONTH
    assert {k: v for k, v in renewal.spec.items() if k != "expire"} == {k: v for k, v in app.spec.items() if k != "expire"}
    cancel = draft_from_app(membership=operator(personas), app=app, kind="cancel")
    assert cancel.spec["expire"] == 1 and cancel.kind == "cancel"
    context = diff.draft_diff(cancel)["diff"]
    assert context["only_expiry"] and context["expire_only"]
    now = timezone.now()
    assert abs((context["expiry_after"] - now).total_seconds() - BLOCK_SECONDS) < 120  # one block after the update
    assert abs((context["expiry_before"] - app.expires_at).total_seconds()) < 120
    renewed = diff.draft_diff(renewal)["diff"]
    assert abs((renewed["expiry_after"] - app.expires_at).total_seconds() - 3 * MONTH * BLOCK_SECONDS) < 120
    assert renewed["price_after"]["usd"] > 0 and renewed["price_before"]["usd"] > 0
    origins = list(AuditEntry.objects.filter(action="builder.draft_create").values_list("detail__origin", flat=True))
    assert sorted(origins) == ["cancellation of " + app.name, "renewal of " + app.name + " for 3 months"]
    with pytest.raises(DraftRefused):
        draft_from_app(membership=operator(personas), app=app, kind="renew", months=2)


def test_it_upgrades_an_old_live_spec_for_an_update(personas):
    v6 = format_spec(VECTORS["v6_valid"]["spec"])
    app = team_app(personas, spec=v6, expire=22_000, message_height=2_019_000)
    draft = draft_from_app(membership=operator(personas), app=app, kind="update")
    assert draft.spec["version"] == 8 and draft.spec["owner"] == v6["owner"] and draft.spec["expire"] == 22_000
    context = diff.draft_diff(draft)["diff"]
    version_row = next(row for row in context["changes"]["fields"] if row["field"] == "version")
    assert version_row["before"] == "6" and version_row["after"] == "8"


def test_it_shows_a_new_app_whole_with_its_price(personas):
    draft = create_draft(membership=operator(personas), spec=copy.deepcopy(LIVE))
    context = diff.draft_diff(draft)["diff"]
    assert context["is_new"] and json.loads(context["whole_spec"]) == LIVE
    expected = pricing.fiat_and_flux_price(LIVE, context["height"], None)
    assert context["price_after"]["usd"] == expected["usd"] and context["price_after"]["flux"] == expected["flux"]


def test_it_duplicates_under_a_new_name_with_the_owner(personas, client_as):
    app = team_app(personas)
    with pytest.raises(DraftRefused, match="new name"):
        duplicate_app(membership=operator(personas), app=app, name=" ")
    with pytest.raises(DraftRefused, match="already has an app"):
        duplicate_app(membership=operator(personas), app=app, name=app.name.upper())
    response = client_as("operator").post(reverse("builder:duplicate", args=[app.pk]), {"name": ""})
    assert response.status_code == 200 and "A duplicate needs a new name." in response.content.decode()
    response = client_as("operator").post(reverse("builder:duplicate", args=[app.pk]), {"name": "copyapp"})
    draft = AppDraft.objects.get(team=personas.team)
    assert response["Location"] == reverse("builder:draft", args=[draft.pk])
    assert draft.kind == "new" and draft.spec["name"] == "copyapp" and draft.spec["owner"] == app.owner
    assert draft.app is None and draft.base_spec is None


def test_it_shows_the_update_diff_on_the_build_tab_and_abandons(personas, client_as):
    app = team_app(personas)
    response = client_as("operator").post(reverse("builder:from_app", args=[app.pk]), {"kind": "update"})
    draft = AppDraft.objects.get(team=personas.team)
    assert response["Location"] == reverse("builder:draft", args=[draft.pk]) and draft.kind == "update"
    spec = copy.deepcopy(draft.spec)
    spec["instances"] = 6
    AppDraft.objects.filter(pk=draft.pk).update(spec=spec)
    page = client_as("viewer").get(reverse("builder:draft", args=[draft.pk]), {"tab": "build"}).content.decode()
    assert 'data-role="review"' in page and 'data-field="instances"' in page
    assert 'data-role="price-before"' in page and 'data-role="price-after"' in page
    assert reverse("builder:abandon", args=[draft.pk]) not in page  # a viewer cannot abandon
    response = client_as("operator").post(reverse("builder:abandon", args=[draft.pk]), {"reason": "not now"})
    draft.refresh_from_db()
    assert response.status_code == 302 and draft.status == "abandoned" and draft.reason == "not now"
    assert AuditEntry.objects.filter(action="builder.draft_abandon", target_id=str(draft.pk)).count() == 1


def test_it_shows_the_key_holder_the_same_diff_on_the_signing_page(personas, client_as):
    from apps.wallets.models import SigningRequest

    app = team_app(personas)
    draft = draft_from_app(membership=operator(personas), app=app, kind="renew", months=1)
    signing_request = SigningRequest.objects.create(
        team=personas.team, kind="app_update", zelid=app.owner, zelid_key=app.owner, purpose="Renew",
        payload={"draft": draft.pk}, expires_at=timezone.now() + timedelta(hours=1))
    page = client_as("viewer").get(reverse("wallets:request_detail", args=[signing_request.pk])).content.decode()
    assert 'data-kind="renew"' in page and 'data-role="expiry-after"' in page and 'data-role="price-after"' in page
    assert 'data-role="field-changes"' not in page and 'data-role="canonical-json"' not in page
    build = client_as("viewer").get(reverse("builder:draft", args=[draft.pk]), {"tab": "build"}).content.decode()
    expiry = diff.draft_diff(draft)["diff"]["expiry_after"].strftime("%Y-%m-%d")
    assert expiry in page and expiry in build


def test_it_refuses_a_renewal_without_a_known_expiry_and_shows_buttons_to_operators(personas, client_as):
    app = team_app(personas)
    TeamApp.objects.filter(pk=app.pk).update(expiry_height=None, expires_at=None)
    response = client_as("operator").post(reverse("builder:from_app", args=[app.pk]), {"kind": "renew", "months": "1"})
    assert response.status_code == 200 and "expires yet: sync the apps first" in response.content.decode()
    assert not AppDraft.objects.exists()
    url = reverse("deployments:detail", args=[app.pk])
    assert 'data-role="app-renew"' in client_as("operator").get(url).content.decode()
    assert 'data-role="app-renew"' not in client_as("viewer").get(url).content.decode()
    listing = client_as("operator").get(reverse("builder:list")).content.decode()
    assert f'action="{reverse("builder:duplicate", args=[app.pk])}"' in listing and 'data-role="import-form"' in listing


def test_it_does_not_abandon_a_draft_whose_signature_is_pending(personas, client_as):
    from apps.wallets.models import SigningRequest

    app = team_app(personas)
    draft = draft_from_app(membership=operator(personas), app=app, kind="cancel")
    signing_request = SigningRequest.objects.create(
        team=personas.team, kind="app_update", zelid=app.owner, zelid_key=app.owner, purpose="Cancel",
        payload={"draft": draft.pk}, expires_at=timezone.now() + timedelta(hours=1))
    AppDraft.objects.filter(pk=draft.pk).update(status="awaiting_signature", signing_request=signing_request)
    response = client_as("operator").post(reverse("builder:abandon", args=[draft.pk]), {"reason": "x"})
    assert response.status_code == 200 and "withdraw its signing request first" in response.content.decode()
    assert AppDraft.objects.get(pk=draft.pk).status == "awaiting_signature"


def test_it_survives_absurd_numbers_and_unknown_versions(personas, client_as):
    app = team_app(personas)
    draft = draft_from_app(membership=operator(personas), app=app, kind="update")
    AppDraft.objects.filter(pk=draft.pk).update(
        spec=dict(draft.spec, expire=2 * 10**8),
        base_spec=dict(app.spec, version=42))
    response = client_as("viewer").get(reverse("builder:draft", args=[draft.pk]), {"tab": "build"})
    assert response.status_code == 200 and 'data-role="diff"' in response.content.decode()
    TeamApp.objects.filter(pk=app.pk).update(spec=dict(app.spec, version=42))
    response = client_as("operator").post(reverse("builder:from_app", args=[app.pk]), {"kind": "update"})
    assert response.status_code == 200 and "Unknown specification version 42" in response.content.decode()


def test_it_prices_the_diff_with_the_teams_price_table(personas):
    from django.core.cache import cache

    from apps.pricing.tables import PriceContext
    from fluxpanel.fluxos import fluxconfig
    from fluxpanel.fluxos.pricing import PriceTable

    spec = copy.deepcopy(LIVE)
    draft = create_draft(membership=operator(personas), spec=spec)
    # The team's source publishes FLUX prices far above FluxOS's defaults (then FluxOS asks those).
    dear = [{k: (v * 100 if k in ("cpu", "ram", "hdd", "minPrice") else v) for k, v in row.items()}
               for row in fluxconfig.FLUX_PRICE_TABLE]
    tables = PriceContext(HEIGHT, PriceTable.from_rows(dear), PriceTable.usd_default(), "node n1 (1.2.3.4:16127)")
    cache.set(f"pricing:context:{personas.team.pk}", tables, 60)
    try:
        shown = diff.draft_diff(draft)["diff"]
    finally:
        cache.delete(f"pricing:context:{personas.team.pk}")
    expected = pricing.fiat_and_flux_price(spec, shown["height"], None, usd_table=tables.usd_table,
                                           flux_table=tables.flux_table)
    assert shown["price_after"]["flux"] == expected["flux"]
    assert expected["flux"] != pricing.fiat_and_flux_price(spec, shown["height"], None)["flux"]
    assert shown["price_source"] == "the price table of node n1 (1.2.3.4:16127)"
