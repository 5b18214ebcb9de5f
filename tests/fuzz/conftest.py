"""The fuzz's hypothesis profile and the team-A world its requests aim at.

The profile is seeded (derandomize) and bounded so the whole fuzz fits a CI budget; set
FUZZ_EXAMPLES for a deeper run (e.g. FUZZ_EXAMPLES=300 uv run pytest -m fuzz).
"""
from __future__ import annotations

import os
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, Phase, settings

settings.register_profile(
    "fuzz",
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "10")),
    derandomize=True,  # the same examples on every run: a red CI run reproduces locally
    database=None,
    deadline=None,  # a request that talks to a dead node is slow but not a failure
    # Failures are collected per example and reported together (see test_no_server_errors), so
    # hypothesis never shrinks: shrinking a 500 would multiply the run time.
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
    print_blob=False,
)

DEAD_NODE = "http://127.0.0.1:1/n/0"  # nothing listens on port 1: refused at once


class World:
    """One object of every kind for team A, named by what the URL slots need."""

    def __init__(self, personas, engine_url: str):
        from django.utils import timezone

        from apps.accounts.models import Invitation, Membership, Role
        from apps.jobs.models import Job
        from apps.nodes.models import AlertRule, MaintenanceClaim, Node, NodeGroup, NodeSnapshot
        from apps.wallets.models import (
            AppOwnerAuthorisation,
            Challenge,
            NodeSession,
            SigningRequest,
            WalletIdentity,
        )
        from apps.worldstate.models import Engine
        from fluxpanel import vault
        from tests.sim import keys

        team = personas.team
        later = timezone.now() + timedelta(days=10)
        group = NodeGroup.objects.create(team=team, name="eu")
        node = Node.objects.create(team=team, name="n1", address="127.0.0.1:1/n/0",
                                   base_url=DEAD_NODE, group=group)
        NodeSnapshot.objects.create(node=node, team=team, state="online", height=1_000_000,
                                    last_confirmed_height=999_990, maintenance_blocks=470)
        MaintenanceClaim.objects.create(node=node, user=personas.operator,
                                        until=timezone.now() + timedelta(minutes=30))
        rule = AlertRule.objects.create(team=team, kind="node_down", email="ops@example.com")
        job = Job.objects.create(team=team, kind="check_connectivity", requested_by=personas.manager)
        invitation = Invitation.objects.create(team=team, role=Role.VIEWER)
        membership = Membership.objects.get(team=team, user=personas.viewer)
        sealed = vault.seal({"zelid": keys.OWNERS[0].zelid, "loginPhrase": "x", "signature": "y"},
                            purpose="wallets.sessions")
        session = NodeSession.objects.create(team=team, node=node, zelid=keys.OWNERS[0].zelid,
                                             privilege="admin", sealed=sealed, expires_at=later)
        authorisation = AppOwnerAuthorisation.objects.create(
            team=team, zelid=keys.OWNERS[1].zelid, sealed=sealed,
            expires_at=timezone.now() + timedelta(hours=1))
        request = SigningRequest.objects.create(
            team=team, kind="app_owner", zelid=keys.USER.zelid, zelid_key=keys.USER.zelid,
            purpose="fuzz", created_by=personas.manager, expires_at=later, node=node)
        identity = WalletIdentity.objects.create(user=personas.manager, zelid=keys.USER.zelid,
                                                 zelid_key=keys.USER.zelid, kind="btc")
        challenge = Challenge.objects.create(purpose="signin", message="fuzz " * 20,
                                             session_hash="0" * 64, expires_at=later)
        engine = Engine.objects.create(team=team, name="main", base_url=engine_url,
                                       namespace="team-a", bridge_enabled=True)
        self.pks = {"node": node.pk, "group": group.pk, "rule": rule.pk, "job": job.pk,
                    "invitation": invitation.pk, "membership": membership.pk,
                    "session": session.pk, "authorisation": authorisation.pk,
                    "request": request.pk, "identity": identity.pk, "engine": engine.pk,
                    "team": team.pk, "other_team": personas.other_team.pk}
        self.tokens = {"invitation": invitation.token, "challenge": challenge.token,
                       "request": request.token}
        self.zelid = keys.USER.zelid
        self.users = personas.users


@pytest.fixture
def world(personas, double, settings):
    # Dead nodes refuse at once; keep every outbound wait short so no example can stall the run.
    settings.SWEEP_TIMEOUT_SECONDS = 1
    settings.ALLOW_ANY_NODE_URL = True
    settings.CELERY_TASK_ALWAYS_EAGER = False
    double.seed({"team-a/x": {"status": "ok", "n": 1}, "team-a/y": {"status": "ok"}})
    return World(personas, double.url)
