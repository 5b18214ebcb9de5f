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
    '{marks}{reason_line}</td><td>{version}</td><td>{lag}</td><td>{maintenance}</td><td>{apps}</td><td>{seen}</td></tr>'
)
REASON = '<div class="muted small"><details class="reason"><summary>{}</summary> <span class="mono reason-detail">{}</span></details></div>'
AS_OF = '<span class="as-of" title="as of its last answer, {}">{}</span>'


def _reason_line(snap):
    """The short reason, with the technical detail one click away (never cut: reasons are short)."""
    if not snap or not snap.reason:
        return ""
    from django.utils.html import format_html

    if snap.reason_detail:
        return format_html(REASON, snap.reason, snap.reason_detail)
    return format_html('<div class="muted small">{}</div>', snap.reason)


def _fact(value, as_of, suffix=""):
    """A fact of the last sweep, or of the last answer (marked "as of") when the node is silent."""
    from django.utils.html import format_html

    text = _dash(value, suffix)
    if as_of is None or text == "–":
        return text
    return format_html(AS_OF, as_of.strftime("%Y-%m-%d %H:%M UTC"), text)


def _marks(node, marks) -> str:
    from django.utils.html import format_html, format_html_join

    found = marks.get(node.pk) if marks else None
    if not found:
        return ""
    return format_html('<span class="row-marks">{}</span>', format_html_join(
        "", '<span class="row-mark" data-mark="{}" title="{}">{}</span>', found))


@register.simple_tag
def fleet_rows(page, marks=None):
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
        as_of = snap.as_of if snap else None
        facts = snap.facts if snap else {}
        rows.append(format_html(
            ROW, pk=node.pk, url=f"{detail_url}{node.pk}/", name=node.name,
            group=format_html(' <span class="muted">· {}</span>', node.group.name) if node.group_id else "",
            address=node.address, tier=_fact(facts.get("tier"), as_of), state=state, reason=reason,
            label=labels.get(state, state), marks=_marks(node, marks),
            reason_line=_reason_line(snap),
            version=_fact(facts.get("version"), as_of), lag=_dash(snap.height_lag if snap else None),
            maintenance=_dash(snap.maintenance_minutes if snap else None, " min"),
            apps=_fact(facts.get("apps_running"), as_of), seen=_ago(snap.last_seen if snap else None, now),
        ))
    return _safe("".join(rows))


def _safe(html: str):
    from django.utils.safestring import mark_safe

    return mark_safe(html)  # noqa: S308  (every piece above went through format_html)
