from urllib.parse import urlencode

from django import template

register = template.Library()


@register.simple_tag
def query_string(query, **override):
    """The fleet query's parameters with some replaced, URL-encoded."""
    return urlencode(query.as_params(**override))


@register.filter
def get(mapping, key):
    return mapping.get(key, 0)


@register.filter
def flip(current_sort, key):
    """Clicking the sorted column again reverses it."""
    return f"-{key}" if current_sort == key else key


def _ago(moment, now) -> str:
    if moment is None:
        return "never"
    seconds = max(0, int((now - moment).total_seconds()))
    for size, unit in ((86400, "d"), (3600, "h"), (60, "min")):
        if seconds >= size:
            return f"{seconds // size} {unit} ago"
    return f"{seconds} s ago"


def _dash(value, suffix=""):
    return "–" if value is None or value == "" else f"{value}{suffix}"


ROW = (
    '<tr data-node="{pk}"><td><a href="{url}">{name}</a>{group}</td><td class="mono">{address}</td>'
    '<td>{tier}</td><td><span class="badge state-{state}" data-state="{state}" title="{reason}">{label}</span>'
    '{reason_line}</td><td>{version}</td><td>{lag}</td><td>{maintenance}</td><td>{apps}</td><td>{seen}</td></tr>'
)


@register.simple_tag
def fleet_rows(page):
    """The fleet table's rows, built in Python: with 50 rows of nine cells, the template engine's
    per-node tags were most of the page's server time. Every value is escaped by format_html."""
    from django.urls import reverse
    from django.utils import timezone
    from django.utils.html import format_html

    from apps.nodes.models import NodeState

    now = timezone.now()
    labels = dict(NodeState.choices)
    detail_url = reverse("nodes:detail", args=[0])[:-2]  # ".../nodes/" + pk + "/"
    rows = []
    for node in page:
        snap = getattr(node, "snapshot", None)
        state = snap.state if snap else "unknown"
        reason = snap.reason if snap else ""
        rows.append(format_html(
            ROW, pk=node.pk, url=f"{detail_url}{node.pk}/", name=node.name,
            group=format_html(' <span class="muted">· {}</span>', node.group.name) if node.group_id else "",
            address=node.address, tier=_dash(snap and snap.tier), state=state, reason=reason,
            label=labels.get(state, state),
            reason_line=format_html('<div class="muted small">{}</div>', reason[:60]) if reason else "",
            version=_dash(snap and snap.version), lag=_dash(snap.height_lag if snap else None),
            maintenance=_dash(snap.maintenance_minutes if snap else None, " min"),
            apps=_dash(snap.apps_running if snap else None), seen=_ago(snap.last_seen if snap else None, now),
        ))
    return _safe("".join(rows))


def _safe(html: str):
    from django.utils.safestring import mark_safe

    return mark_safe(html)  # noqa: S308  (every piece above went through format_html)
