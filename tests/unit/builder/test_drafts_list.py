"""The drafts list, a new blank draft (owner from a linked ZelID), the log tab, and the draft
actions' rules (stale revision, locked draft, coalesced audit)."""
from __future__ import annotations

import pytest
from django.urls import reverse

from apps.accounts.models import AuditEntry, Membership
from apps.builder.actions import DraftLocked, StaleDraft, abandon_draft, save_draft
from apps.builder.models import AppDraft
from apps.wallets.models import WalletIdentity

ZELID = "1CbErtneaX2QVyUfwU7JGB7VzvPgrgc3uC"


def test_it_a_new_draft_starts_blank_with_a_linked_owner(personas, client_as):
    WalletIdentity.objects.create(user=personas.manager, zelid=ZELID, zelid_key=ZELID, kind="btc")
    response = client_as("operator").post(reverse("builder:new"))
    draft = AppDraft.objects.get(team=personas.team)
    assert response.status_code == 302 and response["Location"] == reverse("builder:draft", args=[draft.pk])
    assert draft.spec["version"] == 8 and draft.spec["owner"] == ZELID and len(draft.spec["compose"]) == 1
    assert draft.created_by == personas.operator and draft.status == AppDraft.Status.DRAFT
    assert AuditEntry.objects.filter(action="builder.draft_create", target_id=str(draft.pk)).count() == 1
    page = client_as("viewer").get(reverse("builder:draft", args=[draft.pk]), {"tab": "log"}).content.decode()
    assert "Created (blank)" in page and 'aria-current="page"' in page


def test_it_lists_only_the_team_drafts(personas, client_as):
    AppDraft.objects.create(team=personas.team, name="mine")
    AppDraft.objects.create(team=personas.other_team, name="theirs")
    text = client_as("viewer").get(reverse("builder:list")).content.decode()
    assert ">mine<" in text and "theirs" not in text
    new_form = f'action="{reverse("builder:new")}"'
    assert new_form not in text  # a viewer cannot start one
    assert new_form in client_as("operator").get(reverse("builder:list")).content.decode()


def test_it_refuses_a_stale_or_locked_save_and_coalesces_audit(personas):
    operator = Membership.objects.get(team=personas.team, user=personas.operator)
    draft = AppDraft.objects.create(team=personas.team, spec={"version": 8, "name": "a"})
    draft = save_draft(membership=operator, draft=draft, spec={"version": 8, "name": "ab"}, revision=1)
    draft = save_draft(membership=operator, draft=draft, spec={"version": 8, "name": "abc"}, revision=2)
    assert draft.revision == 3 and draft.name == "abc"
    [entry] = AuditEntry.objects.filter(action="builder.draft_save")
    assert entry.detail["saves"] == 2 and entry.detail["revision"] == 3
    with pytest.raises(StaleDraft):
        save_draft(membership=operator, draft=draft, spec={"version": 8, "name": "x"}, revision=2)
    abandon_draft(membership=operator, draft=draft)
    with pytest.raises(DraftLocked):
        save_draft(membership=operator, draft=draft, spec={"version": 8, "name": "x"}, revision=3)
    assert AppDraft.objects.get(pk=draft.pk).name == "abc"
