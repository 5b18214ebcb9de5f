"""The audit page's entries: rows of one flow (see AuditEntry.flow) grouped into one entry.

Pages are counted in entries, not rows, so a flow is never split across two pages: the page's
entries are the groups with the newest last step, then every row of those groups is fetched.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from django.core.paginator import Page, Paginator
from django.db.models import Case, CharField, F, Max, QuerySet, Value, When
from django.db.models.functions import Cast, Concat

from apps.accounts.models import AuditEntry

ENTRIES_PER_PAGE = 50


@dataclass
class AuditGroup:
    steps: list[AuditEntry]  # oldest first

    @property
    def last(self) -> AuditEntry:
        return self.steps[-1]

    @property
    def first(self) -> AuditEntry:
        return self.steps[0]

    @property
    def actors(self) -> list[str]:
        return list(dict.fromkeys(step.actor_name for step in self.steps))

    @property
    def target_repr(self) -> str:
        return next((step.target_repr for step in self.steps if step.target_repr), "")


def _keyed(entries: QuerySet) -> QuerySet:
    own_row = Concat(Value("row:"), Cast("id", CharField()), output_field=CharField())
    return entries.annotate(group_key=Case(When(flow="", then=own_row), default=F("flow"),
                                           output_field=CharField()))


def audit_page(entries: QuerySet, number) -> Page:
    """The requested page of grouped entries; `page.object_list` holds AuditGroup objects."""
    keyed = _keyed(entries)
    heads = (keyed.order_by().values("group_key")
             .annotate(last_at=Max("created_at"), last_id=Max("id")).order_by("-last_at", "-last_id"))
    page = Paginator(heads, ENTRIES_PER_PAGE).get_page(number)
    keys = [head["group_key"] for head in page.object_list]
    steps: dict[str, list[AuditEntry]] = defaultdict(list)
    for row in keyed.filter(group_key__in=keys).order_by("created_at", "id"):
        steps[row.group_key].append(row)
    page.object_list = [AuditGroup(steps=steps[key]) for key in keys if steps[key]]
    return page
