"""The Apps page's query: search, filters, sort and a page, in a constant number of queries."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.core.paginator import Paginator
from django.db.models import Count, Max, Q
from django.utils import timezone

from apps.deployments.models import AppStatus, AppSync, TeamApp

PAGE_SIZE = 50
EXPIRING_CHOICES = ("7", "30")
# Sort keys → (column, tie-breaker) going the same way, so the (team, column, id) indexes serve them.
_COLUMNS = {"status": "status", "expiry": "expires_at", "price": "monthly_usd", "instances": "instances_running"}
SORTS = {"name": ("name_key", "id"), "-name": ("-name_key", "-id")}
for _key, _column in _COLUMNS.items():
    SORTS[_key] = (_column, "id")
    SORTS[f"-{_key}"] = (f"-{_column}", "-id")


def _clean(text: str, limit: int) -> str:
    return text.replace("\x00", "").strip()[:limit]


@dataclass
class AppQuery:
    search: str = ""
    status: str = ""
    expiring: str = ""
    owner: str = ""
    dropped: str = ""  # "1": the apps a manager dropped from the team, instead of the others
    sort: str = "name"
    page: str = "1"

    @classmethod
    def from_request(cls, params) -> AppQuery:
        query = cls(
            search=_clean(params.get("q", ""), 100),
            status=params.get("status", ""),
            expiring=params.get("expiring", ""),
            owner=_clean(params.get("owner", ""), 64),
            dropped="1" if params.get("dropped") == "1" else "",
            sort=params.get("sort", "name"),
            page=params.get("page", "1")[:12],
        )
        if query.sort not in SORTS:
            query.sort = "name"
        if query.status and query.status not in AppStatus.values:
            query.status = ""
        if query.expiring not in EXPIRING_CHOICES:
            query.expiring = ""
        return query

    def as_params(self, **override) -> dict:
        values = {"q": self.search, "status": self.status, "expiring": self.expiring, "owner": self.owner,
                  "dropped": self.dropped, "sort": self.sort, "page": self.page}
        values.update(override)
        return {k: v for k, v in values.items() if v not in ("", None)}


def _filtered(team, query: AppQuery, *, with_status=True):
    apps = TeamApp.objects.filter(team=team, dropped=bool(query.dropped))
    if query.search:
        apps = apps.filter(Q(name_key__contains=query.search.lower()) | Q(owner__icontains=query.search))
    if query.owner:
        apps = apps.filter(owner=query.owner)
    if query.expiring:
        apps = apps.filter(expires_at__lte=timezone.now() + timedelta(days=int(query.expiring)))
    if with_status and query.status:
        apps = apps.filter(status=query.status)
    return apps


def status_counts(team, query: AppQuery) -> dict:
    """Apps per status under the page's filters (except the status filter itself), plus "total"."""
    totals = dict.fromkeys(AppStatus.values, 0)
    rows = _filtered(team, query, with_status=False).values_list("status").annotate(n=Count("pk")).order_by()
    for status, count in rows:
        totals[status] = count
    totals["total"] = sum(totals.values())
    return totals


def app_page(team, query: AppQuery, counts: dict | None = None):
    apps = _filtered(team, query).defer("spec").order_by(*SORTS[query.sort])
    paginator = Paginator(apps, PAGE_SIZE)
    if counts is not None:
        paginator.__dict__["count"] = counts[query.status] if query.status else counts["total"]
    return paginator.get_page(query.page)


def last_sync(team):
    return AppSync.objects.filter(team=team).exclude(status=AppSync.Status.RUNNING).first()


def app_fingerprint(team, sync) -> str:
    """Changes whenever the table could look different: an app added/removed, a sync finished."""
    agg = TeamApp.objects.filter(team=team, dropped=False).aggregate(total=Count("pk"), last=Max("pk"))
    # `sync` is the team's last sync that is not running (listing.last_sync): a new finished one
    # changes it. Without one, nothing has finished yet.
    finished = sync.finished_at if sync else None
    return f"{agg['total']}-{agg['last'] or 0}-{finished.timestamp() if finished else 0:.3f}"
