"""After a whole register flow (app-owner authorisation, signed app message, submit) the database
holds no signature, zelidauth or key in clear: every table is dumped and searched."""
from __future__ import annotations

import io
import time

import pytest
from django.core.management import call_command

from apps.builder.models import AppDraft
from apps.jobs.runner import run_job
from apps.wallets import actions as wallet_actions
from tests.integration.builder.test_submit import KEY, network, signed, team  # noqa: F401 - fixtures
from tests.sim.fluxnode_auth import fluxos_phrase

pytestmark = pytest.mark.django_db


def whole_database() -> str:
    dump = io.StringIO()
    call_command("dumpdata", stdout=dump)  # every installed app's every row
    return dump.getvalue()


def test_it_keeps_no_signature_or_key_in_clear_after_a_register_flow(team):  # noqa: F811
    phrase = fluxos_phrase(int(time.time() * 1000))
    owner_signature = KEY.sign(phrase)
    wallet_actions.store_app_owner_authorisation(team=team.team, zelid=KEY.zelid, login_phrase=phrase,
                                                 signature=owner_signature, actor=team.operator)
    draft, job, app_signature = signed(team)
    run_job(job.pk)
    draft.refresh_from_db()
    assert draft.status == AppDraft.Status.AWAITING_PAYMENT  # the flow really went through

    stored = whole_database()
    assert KEY.zelid in stored  # the dump is searchable: public facts are there
    for secret in (owner_signature, app_signature, KEY.private_key_hex):
        assert secret not in stored
