"""The app_register / app_update signing kinds against the simulated network: sending a draft for
signing, the exact message, the price-change and spec refusals, FluxOS's own signature check, the
decline/expiry hook, and the served long message."""
from __future__ import annotations

import time
from decimal import Decimal

import pytest
import requests
from django.test import Client
from django.urls import reverse

from apps.accounts.models import AuditEntry, Membership
from apps.builder import sign_actions
from apps.builder import signing as kinds
from apps.builder.actions import create_draft
from apps.builder.models import AppDraft
from apps.deployments.models import AppSyncSettings
from apps.nodes import actions as node_actions
from apps.wallets import actions as wallet_actions
from apps.wallets import long_messages
from apps.wallets.kinds import SigningFailed, get_kind
from apps.wallets.models import SigningRequest
from fluxpanel.fluxos.specs import format_spec, message_to_sign, verify_register_signature
from tests.sim import keys
from tests.sim.wallet import link
from tests.unit.fluxos.spec_cases import v8_spec

pytestmark = pytest.mark.django_db
KEY = keys.OWNERS[0]


@pytest.fixture
def team(personas, fleet, settings):
    settings.ALLOW_ANY_NODE_URL = True
    manager = Membership.objects.get(user=personas.manager, team=personas.team)
    [node] = node_actions.register_nodes(membership=manager, text=fleet.url(0))
    AppSyncSettings.objects.create(team=personas.team, source_node=node)
    link(personas.operator, KEY)
    return personas


def operator(personas):
    return Membership.objects.get(user=personas.operator, team=personas.team)


def new_draft(personas, **changes):
    spec = v8_spec(owner=KEY.zelid, **changes)
    return create_draft(membership=operator(personas), spec=spec)


def sent(personas, **changes):
    draft = new_draft(personas, **changes)
    signing_request = sign_actions.send_for_signing(membership=operator(personas), draft=draft)
    draft.refresh_from_db()
    return draft, signing_request


def test_it_sends_a_valid_draft_with_its_price_and_an_app_owner_request(team):
    draft, signing_request = sent(team)
    assert draft.status == AppDraft.Status.AWAITING_SIGNATURE
    assert draft.signing_request_id == signing_request.pk
    assert signing_request.kind == "app_register" and signing_request.zelid == KEY.zelid
    assert draft.price_flux is not None and draft.price_flux > 0
    batch = SigningRequest.objects.filter(batch=signing_request.batch).exclude(pk=signing_request.pk)
    assert [r.kind for r in batch] == ["app_owner"]
    assert AuditEntry.objects.filter(action="builder.sign_request", target_id=str(draft.pk)).count() == 1


def test_it_refuses_a_draft_failing_the_core_check_with_fluxos_text(team):
    from django.core.exceptions import ValidationError

    from fluxpanel.fluxos.specs import SpecError, check_spec

    draft = new_draft(team, name="bad name!")
    with pytest.raises(SpecError) as expected:
        check_spec(draft.spec, team_height(team))
    with pytest.raises(ValidationError) as refused:
        sign_actions.send_for_signing(membership=operator(team), draft=draft)
    assert refused.value.messages[0] == str(expected.value)
    draft.refresh_from_db()
    assert draft.status == AppDraft.Status.DRAFT and not SigningRequest.objects.exists()


def team_height(personas) -> int:
    return kinds.network_now(personas.team).height


def test_it_prepares_fluxos_exact_message_and_keeps_its_parts(team):
    draft, signing_request = sent(team)
    before = int(time.time() * 1000)
    opened = wallet_actions.open_next(membership=operator(team), request_id=signing_request.pk)
    draft.refresh_from_db()
    assert draft.message_type == "fluxappregister"
    assert before <= draft.message_timestamp <= int(time.time() * 1000)
    # format_spec: the stored copy comes back from PostgreSQL's jsonb in its own key order
    assert opened.message == message_to_sign("fluxappregister", format_spec(draft.message_spec),
                                             draft.message_timestamp, 1)
    assert opened.message.startswith("fluxappregister1{") and opened.message.endswith(str(draft.message_timestamp))
    # FluxOS accepts the owner's signature of it.
    assert verify_register_signature("fluxappregister", 1, format_spec(draft.message_spec), draft.message_timestamp,
                                     KEY.sign(opened.message))
    # FluxOS refuses messages over 1 hour old: the panel's window ends before.
    assert get_kind("app_register").message_life < kinds.FLUXOS_MAX_AGE


def test_it_a_changed_price_fails_the_request_and_returns_the_draft(team):
    draft, signing_request = sent(team)
    AppDraft.objects.filter(pk=draft.pk).update(price_flux=draft.price_flux + Decimal("1.00"))
    assert wallet_actions.open_next(membership=operator(team), request_id=signing_request.pk) is None
    signing_request.refresh_from_db()
    draft.refresh_from_db()
    assert signing_request.status == SigningRequest.Status.FAILED
    assert "the price changed from" in signing_request.outcome.lower()
    assert "review it again" in signing_request.outcome
    assert draft.status == AppDraft.Status.DRAFT and "price changed" in draft.reason


def test_it_a_declined_request_returns_the_draft_with_the_reason(team):
    draft, signing_request = sent(team)
    wallet_actions.decline(membership=operator(team), request=signing_request)
    draft.refresh_from_db()
    assert draft.status == AppDraft.Status.DRAFT
    assert "declined" in draft.reason.lower()


def test_it_an_expired_request_returns_the_draft(team):
    from django.utils import timezone

    draft, signing_request = sent(team)
    SigningRequest.objects.filter(pk=signing_request.pk).update(expires_at=timezone.now())
    assert wallet_actions.expire_overdue() >= 1
    draft.refresh_from_db()
    assert draft.status == AppDraft.Status.DRAFT and "expired" in draft.reason.lower()


def test_it_complete_checks_the_signature_as_fluxos_then_calls_submit(team):
    draft, signing_request = sent(team)
    opened = wallet_actions.open_next(membership=operator(team), request_id=signing_request.pk)
    draft.refresh_from_db()
    # Another key's signature of the same message: refused by FluxOS's check, before submit.
    with pytest.raises(SigningFailed) as refused:
        kinds.verify(draft, keys.OWNERS[1].sign(opened.message))
    assert str(refused.value) == ("Received signature is invalid or Flux App specifications are not "
                                  "properly formatted")
    # A message too old for FluxOS.
    stale = AppDraft.objects.get(pk=draft.pk)
    stale.message_timestamp -= 3600 * 1000
    with pytest.raises(SigningFailed, match="too old"):
        kinds.verify(stale, KEY.sign(opened.message))
    kinds.verify(draft, KEY.sign(opened.message))  # the owner's: accepted
    # The real path: the signature goes to start_submit, which queues the submit job.
    outcome = wallet_actions.sign(request=opened, actor=team.operator, address=KEY.zelid,
                                  message=opened.message, signature=KEY.sign(opened.message), via="test")
    assert "submitting" in outcome.lower()
    opened.refresh_from_db()
    draft.refresh_from_db()
    assert opened.status == SigningRequest.Status.SIGNED
    assert draft.status == AppDraft.Status.SUBMITTED
    assert draft.submit_job.kind == "app_submit" and f"job #{draft.submit_job_id}" in outcome


def test_it_update_is_signed_by_the_owner_stored_on_the_network(team):
    from apps.deployments.models import TeamApp

    spec = v8_spec(owner=keys.OWNERS[1].zelid)
    app = TeamApp.objects.create(team=team.team, name=spec["name"], name_key=spec["name"].lower(),
                                 owner=KEY.zelid, spec=spec, message_height=team_height(team) - 10)
    draft = create_draft(membership=operator(team), spec=spec, kind=AppDraft.Kind.UPDATE, app=app)
    assert kinds.signer_zelid(draft) == KEY.zelid  # not the owner typed in the draft


def test_it_serves_a_long_message_exactly_and_only_while_it_may_be_signed(team, live_server):
    draft, signing_request = sent(team)
    opened = wallet_actions.open_next(membership=operator(team), request_id=signing_request.pk)
    url = live_server.url + long_messages.message_path(opened)
    answer = requests.get(url, timeout=10)
    assert answer.status_code == 200 and answer.headers["Content-Type"].startswith("text/plain")
    assert answer.content == opened.message.encode("utf-8")
    assert answer.headers["Cache-Control"] == "no-store"
    assert requests.post(url, timeout=10).status_code in (403, 405)
    wrong = url.replace(long_messages.digest(opened), "0" * 64)
    assert requests.get(wrong, timeout=10).status_code == 404
    wallet_actions.decline(membership=operator(team), request=opened)
    assert requests.get(url, timeout=10).status_code == 404


def test_it_sign_tab_shows_signer_holders_and_request(team):
    draft, signing_request = sent(team)
    client = Client()
    client.force_login(team.operator)
    html = client.get(reverse("builder:draft", args=[draft.pk]) + "?tab=sign").content.decode()
    assert KEY.zelid in html and "operator" in html
    assert f"#{signing_request.pk}" in html and 'data-status="pending"' in html
