"""The alert outbox: the sweep records notices, a sender claims and sends them; a sender that dies
loses nothing and nothing goes out twice. Webhook sends are bounded (issue 10 F10)."""
from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from apps.accounts.models import Membership
from apps.nodes import actions
from apps.nodes.alerts import RECLAIM_AFTER, evaluate_alerts, post_webhook, send_pending_alerts
from apps.nodes.models import AlertDelivery, Node, NodeSnapshot
from tests.conftest import REPO, make_child_environment
from tests.integration.nodes.webhook_receiver import Receiver


@pytest.fixture
def receiver():
    receiver = Receiver()
    yield receiver
    receiver.close()


def down_node_with_rule(personas, settings, webhook_url, email=""):
    """A team with one node that the last sweep found down, and a node_down rule."""
    settings.ALLOW_PRIVATE_WEBHOOKS = True
    manager = Membership.objects.get(user=personas.manager, team=personas.team)
    actions.create_alert_rule(membership=manager, kind="node_down", webhook_url=webhook_url, email=email)
    node = Node.objects.create(team=personas.team, name="n1", address="93.184.216.7:16127",
                               base_url="http://93.184.216.7:16127")
    NodeSnapshot.objects.create(node=node, team=personas.team, state="down", reason="Unreachable: test")
    return node


def test_it_only_records_notices_during_evaluation(personas, settings, receiver):
    down_node_with_rule(personas, settings, receiver.url, email="ops@example.com")
    recorded = evaluate_alerts(personas.team.pk)
    assert [d.kind for d in recorded] == ["firing"]
    assert receiver.payloads == [] and mail.outbox == []
    delivery = AlertDelivery.objects.get()
    assert delivery.pending and delivery.claimed_at is None
    assert send_pending_alerts() == 1
    assert send_pending_alerts() == 0
    delivery.refresh_from_db()
    assert delivery.sent_at is not None and delivery.channels == {"email": "sent", "webhook": "sent"}
    assert receiver.answered == 1 and len(mail.outbox) == 1


@pytest.mark.django_db(transaction=True)  # the sender is a process of its own on the same database
def test_it_sends_a_notice_whose_sender_was_killed_exactly_once(personas, settings):
    receiver = Receiver("hang")  # the first sender gets stuck inside the webhook POST
    try:
        down_node_with_rule(personas, settings, receiver.url)
        evaluate_alerts(personas.team.pk)
        environment = make_child_environment(FLUXPANEL_ALLOW_PRIVATE_WEBHOOKS="true")
        code = "import django; django.setup(); from apps.nodes.alerts import send_pending_alerts; send_pending_alerts()"
        process = subprocess.Popen([sys.executable, "-c", code], cwd=REPO, env=environment)
        deadline = time.monotonic() + 30
        while not receiver.payloads:
            assert time.monotonic() < deadline and process.poll() is None, "the sender did not send"
            time.sleep(0.05)
        process.send_signal(signal.SIGKILL)
        process.wait()
        delivery = AlertDelivery.objects.get()
        assert delivery.claimed_at is not None and delivery.sent_at is None
        receiver.behaviour = "ok"
        # A fresh claim may belong to a live sender: leave it alone…
        assert send_pending_alerts() == 0
        # …until it is older than any send can take: then the next run sends it, once.
        AlertDelivery.objects.update(claimed_at=timezone.now() - RECLAIM_AFTER - timedelta(seconds=1))
        assert send_pending_alerts() == 1
        assert send_pending_alerts() == 0
        assert receiver.answered == 1
        delivery.refresh_from_db()
        assert delivery.sent_at is not None and delivery.channels == {"webhook": "sent"}
    finally:
        receiver.close()


def test_it_lets_only_one_of_two_senders_claim_a_notice(personas, settings, receiver):
    from apps.nodes.alerts import claim_delivery

    down_node_with_rule(personas, settings, receiver.url)
    evaluate_alerts(personas.team.pk)
    delivery = AlertDelivery.objects.get()
    now = timezone.now()
    assert claim_delivery(delivery.pk, None, now) is True
    assert claim_delivery(delivery.pk, None, now) is False  # what a second sender saw is stale


def test_it_does_not_wait_for_a_webhook_answer_that_trickles(settings):
    settings.ALLOW_PRIVATE_WEBHOOKS = True
    receiver = Receiver("trickle")
    try:
        outcome = {}
        thread = threading.Thread(target=lambda: outcome.update(result=post_webhook(receiver.url, {"k": 1})),
                                  daemon=True)
        thread.start()
        thread.join(8)
        assert not thread.is_alive(), "the webhook POST was still reading the answer"
        assert outcome["result"] == "sent"
    finally:
        receiver.close()


def test_it_does_not_follow_a_webhook_redirect(settings):
    settings.ALLOW_PRIVATE_WEBHOOKS = True
    receiver = Receiver("redirect")
    try:
        assert post_webhook(receiver.url, {"k": 1}) == "failed: HTTP redirect (redirects are not followed)"
    finally:
        receiver.close()


def test_it_refuses_at_send_time_an_address_that_became_private(personas, settings, receiver):
    """The connection itself is checked (and pinned): a rule saved while private webhooks were
    allowed is refused once they are not, without the receiver hearing anything."""
    down_node_with_rule(personas, settings, receiver.url)
    evaluate_alerts(personas.team.pk)
    settings.ALLOW_PRIVATE_WEBHOOKS = False
    assert send_pending_alerts() == 1
    assert AlertDelivery.objects.get().channels["webhook"].startswith("refused: 127.0.0.1")
    assert receiver.payloads == []
