"""The audit page reads well: a signing flow is one entry with its steps, never split by pages."""
import re

import pytest
from django.urls import reverse

from apps.accounts import audit
from apps.accounts.audit import AuditEvent
from apps.accounts.audit_page import ENTRIES_PER_PAGE
from apps.accounts.models import AuditEntry
from tests.sim.wallet import link
from tests.unit.wallets.test_requests import KEY, open_item, prepare, sign

pytestmark = pytest.mark.django_db
ROW = re.compile(r'<tr data-steps="(\d+)">')


def test_it_shows_a_signed_request_as_one_entry_with_every_step(personas, client_as):
    link(personas.manager, KEY)
    holder = client_as("manager")
    signing_request = prepare(personas)
    assert sign(holder, open_item(holder, signing_request)).json()["ok"] is True
    rows = list(AuditEntry.objects.filter(team=personas.team).order_by("id"))
    flow = [row for row in rows if row.flow == f"signing:{signing_request.pk}"]
    # Created, opened, the authorisation the signature stored (its own target), signed.
    assert [row.action for row in flow] == ["signing.create", "signing.open",
                                            "app_owner.authorise", "signing.sign"]

    page = holder.get(reverse("accounts:audit")).content.decode()
    steps = [int(n) for n in ROW.findall(page)]
    assert steps.count(len(flow)) == 1  # one entry for the flow...
    assert len(steps) == len(rows) - len(flow) + 1  # ...and every other row on its own
    assert "4 steps" in page and "after 3 steps" in page


def test_it_never_splits_a_flow_across_pages(personas, client_as):
    for number in range(ENTRIES_PER_PAGE + 5):
        with audit.within_flow(f"test-flow:{number}"):
            for _ in range(3):
                audit.record(team=personas.team, actor=personas.manager,
                             action=AuditEvent.JOB_START, target=None, n=number)
    client = client_as("viewer")
    first = [int(n) for n in ROW.findall(client.get(reverse("accounts:audit")).content.decode())]
    second = client.get(reverse("accounts:audit"), {"page": 2}).content.decode()
    assert first == [3] * ENTRIES_PER_PAGE
    assert [int(n) for n in ROW.findall(second)] == [3] * 5
    assert "Page 2 of 2" in second
    # Filters apply to rows: a flow shows the rows that match.
    filtered = client.get(reverse("accounts:audit"), {"actor": "manager"}).content.decode()
    assert ROW.findall(filtered)[:1] == ["3"]
