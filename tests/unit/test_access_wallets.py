"""Access matrix of the wallet pages (see tests/access.py for the rules).

Team B's manager (the outsider) gets 404 for every one of team A's sessions, authorisations and
signing requests, and nothing changes.
"""
from datetime import timedelta

import pytest
from django.utils import timezone

from apps.accounts.models import Role
from apps.nodes.models import Node
from apps.wallets.models import AppOwnerAuthorisation, NodeSession, SigningRequest
from apps.wallets.node_sessions import VAULT_PURPOSE
from fluxpanel import vault
from tests.access import PERSONAS, Case, check_case
from tests.sim import keys

# Public or personal, each tested on its own: the sign-in page and its challenge endpoints
# (bound to the browser) in tests/unit/wallets/test_challenges.py and test_challenge_limits.py,
# ZelCore's callbacks there and in test_requests.py, the icon below, and unlinking one's own ZelID
# in test_challenges.py.
NOT_TEAM_VIEWS = {
    "wallets:icon", "wallets:signin", "wallets:signin_next", "wallets:challenge_submit",
    "wallets:challenge_poll", "wallets:challenge_callback", "wallets:challenge_qr",
    "wallets:request_callback", "wallets:identity_remove",
}

DEAD_NODE = "http://127.0.0.1:1/n/0"  # refuses at once: a logout there fails fast


def objects(personas):
    node = Node.objects.create(team=personas.team, name="n1", address="127.0.0.1:1/n/0",
                               base_url=DEAD_NODE)
    later = timezone.now() + timedelta(days=10)
    sealed = vault.seal({"zelid": keys.OWNERS[0].zelid, "loginPhrase": "x", "signature": "y"}, purpose=VAULT_PURPOSE)
    session = NodeSession.objects.create(team=personas.team, node=node, zelid=keys.OWNERS[0].zelid,
                                         privilege="admin", sealed=sealed, expires_at=later)
    authorisation = AppOwnerAuthorisation.objects.create(
        team=personas.team, zelid=keys.OWNERS[1].zelid, sealed=sealed,
        expires_at=timezone.now() + timedelta(hours=1))
    request = SigningRequest.objects.create(
        team=personas.team, kind="app_owner", zelid=keys.USER.zelid, zelid_key=keys.USER.zelid,
        purpose="test", created_by=personas.manager, expires_at=later,
        message="1700000000000" + "a" * 40, message_at=timezone.now())
    return {"node": node.pk, "session": session.pk, "authorisation": authorisation.pk,
            "request": request.pk}


CASES = [
    Case("wallets:home", "get", Role.VIEWER),
    Case("wallets:nav_badge", "get", Role.VIEWER),
    Case("wallets:bind", "get", Role.VIEWER),
    Case("wallets:bind_next", "post", Role.VIEWER),
    Case("wallets:sessions", "get", Role.VIEWER),
    Case("wallets:prepare_login", "post", Role.OPERATOR, data={"zelid": keys.USER.zelid}),
    Case("wallets:renew_all", "post", Role.OPERATOR),
    Case("wallets:session_logout", "post", Role.OPERATOR, lambda o: {"pk": o["session"]}),
    Case("wallets:app_owner", "post", Role.OPERATOR, data={"zelid": keys.USER.zelid}),
    Case("wallets:authorisation_revoke", "post", Role.OPERATOR, lambda o: {"pk": o["authorisation"]}),
    Case("wallets:requests", "get", Role.VIEWER),
    Case("wallets:request_detail", "get", Role.VIEWER, lambda o: {"pk": o["request"]}),
    # No fields posted: a member who may sign gets "all three fields are needed".
    Case("wallets:request_sign", "post", Role.OPERATOR, lambda o: {"pk": o["request"]},
         ok_statuses=(400,)),
    Case("wallets:request_poll", "post", Role.OPERATOR, lambda o: {"pk": o["request"]}),
    Case("wallets:request_qr", "get", Role.OPERATOR, lambda o: {"pk": o["request"]}),
    Case("wallets:request_decline", "post", Role.OPERATOR, lambda o: {"pk": o["request"]}),
    Case("wallets:request_cancel", "post", Role.OPERATOR, lambda o: {"pk": o["request"]}),
    Case("wallets:sign", "get", Role.OPERATOR),
    Case("wallets:sign_next", "post", Role.OPERATOR),
]


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_it_access(case, persona, personas, client_as):
    check_case(case, persona, client_as(persona), objects(personas))


def test_it_icon_is_public_svg(client):
    from django.urls import reverse

    response = client.get(reverse("wallets:icon"))
    assert response.status_code == 200 and response["Content-Type"] == "image/svg+xml"
