"""The Apps table's rows, built in Python without per-row queries (the fleet_rows pattern)."""
from __future__ import annotations

from urllib.parse import urlencode

from django import template
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import mark_safe

register = template.Library()


@register.simple_tag
def app_query_string(query, **override):
    return urlencode(query.as_params(**override))


@register.filter
def count_of(mapping, key):
    return mapping.get(key, 0)


@register.filter
def flip_sort(current_sort, key):
    return f"-{key}" if current_sort == key else key


# The panel's existing badge colours (panel.css state-*) for app statuses.
STATUS_CLASS = {"healthy": "state-confirmed", "degraded": "state-dos", "down": "state-down",
                "expired": "state-down", "missing": "state-error", "unknown": ""}


@register.filter
def status_class(status):
    return f"app-{status} {STATUS_CLASS.get(status, '')}".strip()


def short_owner(owner: str) -> str:
    return owner if len(owner) <= 14 else f"{owner[:6]}…{owner[-6:]}"


def days_left(moment, now=None):
    if moment is None:
        return None
    now = now or timezone.now()
    return int((moment - now).total_seconds() // 86400)


@register.filter
def days_until(moment):
    return days_left(moment)


def days_left_words(days: int) -> str:
    if days < 0:
        return f"expired {-days} day{'s' if days != -1 else ''} ago"
    return f"{days} day{'s' if days != 1 else ''} left"


ROW = (
    '<tr data-app="{pk}"><td><a href="{url}">{name}</a></td><td class="mono" title="{owner}">{owner_short}</td>'
    '<td>{components}</td><td>{instances}</td>'
    '<td><span class="badge {status_class}" data-status="{status}" title="{reason}">{label}</span>{stale}</td>'
    '<td{expiry_class}>{expiry}</td><td>{price}</td></tr>'
)


@register.simple_tag
def app_rows(page):
    from apps.deployments.models import AppStatus

    now = timezone.now()
    labels = dict(AppStatus.choices)
    detail_url = reverse("deployments:detail", args=[0])[:-2]
    rows = []
    for app in page:
        left = days_left(app.expires_at, now)
        if app.expires_at:
            expiry = format_html('{} <span class="muted small">({})</span>',
                                 app.expires_at.date().isoformat(), days_left_words(left))
        else:
            expiry = "–"
        running = "–" if app.instances_running is None else app.instances_running
        rows.append(format_html(
            ROW, pk=app.pk, url=f"{detail_url}{app.pk}/", name=app.name, owner=app.owner or "",
            owner_short=short_owner(app.owner) if app.owner else "–", components=app.components,
            instances=f"{running} / {app.instances_wanted}", status=app.status, status_class=status_class(app.status), reason=app.reason,
            label=labels.get(app.status, app.status),
            stale=format_html(' <span class="badge state-unconfirmed" title="{}">stale</span>', app.stale_reason)
            if app.stale else "",
            expiry_class=mark_safe(' class="expiring state-down"') if left is not None and left < 7 else "",  # noqa: S308
            expiry=expiry,
            price="–" if app.monthly_usd is None else f"${app.monthly_usd}",
        ))
    return mark_safe("".join(rows))  # noqa: S308  (every piece went through format_html)
