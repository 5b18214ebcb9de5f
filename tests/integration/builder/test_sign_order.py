"""The key holder's queue gives a draft's app-owner authorisation before its app message: the submit
job starts as soon as the app message is signed (a worker picks it up at once), so the
authorisation it submits with must already be there. Against the simulated network over HTTP."""
from __future__ import annotations

import pytest

from apps.builder import sign_actions
from apps.builder.actions import create_draft
from apps.builder.models import AppDraft
from apps.jobs.models import Job
from apps.jobs.runner import run_job
from apps.wallets import actions as wallet_actions
from tests.integration.builder.test_submit import KEY, network, operator, team  # noqa: F401
from tests.unit.fluxos.spec_cases import v8_spec

pytestmark = pytest.mark.django_db


def test_it_queues_the_owner_authorisation_before_the_app_message(team):  # noqa: F811
    draft = create_draft(membership=operator(team), spec=v8_spec(owner=KEY.zelid))
    register = sign_actions.send_for_signing(membership=operator(team), draft=draft)
    kinds = []
    while (opened := wallet_actions.open_next(membership=operator(team), batch=register.batch)) is not None:
        kinds.append(opened.kind)
        wallet_actions.sign(request=opened, actor=team.operator, address=KEY.zelid, message=opened.message,
                            signature=KEY.sign(opened.message), via="test")
        if opened.kind == "app_register":
            # What a worker does the moment the job is queued: it finds the authorisation.
            draft.refresh_from_db()
            job = run_job(draft.submit_job_id)
            assert job.status == Job.Status.SUCCEEDED, job.error
    assert kinds == ["app_owner", "app_register"]
    draft.refresh_from_db()
    assert draft.status == AppDraft.Status.AWAITING_PAYMENT and draft.message_hash
