"""What a draft changes: the live spec against the draft, its price and its expiry (issue 14, item 4).

For an update the diff is field by field and per component (components matched by name: added,
removed, changed); list fields (ports, domains, environment, commands, contacts, …) show the
items added and removed. A renewal or cancellation shows only expiry and price. A new app shows
its whole spec and its price.

Expiry, as FluxOS counts it: an app ends at `message height + expire` of the message in force
(`pricing.expiration_height`, a pre-PON subscription stretched past the fork), and an update's
`expire` counts from the update's own height. So a renewal's expire is the blocks left plus the
added period, and a cancellation is FluxOS's minimum expire at the height (5000 blocks before
1630040, 100 before 1964447, then 1: `appValidator.verifyAppSpecifications`), ending the app
that many blocks after the update lands.
"""
from __future__ import annotations

import copy
import json
from datetime import timedelta
from typing import Any

from django.utils import timezone

from apps.builder.importing import ImportRefused, upgrade_to_v8
from apps.builder.live_check import DEFAULT_HEIGHT
from apps.nodes.models import ANSWERED_STATES, BLOCK_SECONDS, NodeSnapshot
from apps.pricing.tables import PriceContext, price_context
from fluxpanel.fluxos import fluxconfig, pricing
from fluxpanel.fluxos.specs import format_spec

HEIGHT_FRESH = timedelta(hours=1)
MAX_DATE_BLOCKS = 100 * 1_056_000  # far beyond any expire FluxOS accepts
TOP_FIELDS = ("version", "name", "description", "owner", "instances", "contacts", "geolocation",
              "expire", "nodes", "staticip", "datacenter", "enterprise")
COMPONENT_FIELDS = ("description", "repotag", "ports", "domains", "environmentParameters", "commands",
                    "containerPorts", "containerData", "cpu", "ram", "hdd", "repoauth")
SECRET_FIELDS = ("repoauth", "enterprise")  # shown as "changed", never their values


# --- heights and expire arithmetic -----------------------------------------------------------

def minimum_expire(height: int) -> int:
    """FluxOS's smallest accepted `expire` at `height` (what a cancellation uses)."""
    if height < fluxconfig.NEW_MIN_BLOCKS_ALLOWANCE_BLOCK:
        return fluxconfig.MIN_BLOCKS_ALLOWANCE
    if height < fluxconfig.CANCEL_1_BLOCK_MIN_BLOCKS_ALLOWANCE_BLOCK:
        return fluxconfig.NEW_MIN_BLOCKS_ALLOWANCE
    return fluxconfig.CANCEL_1_BLOCK_MIN_BLOCKS_ALLOWANCE


def maximum_expire(height: int) -> int:
    if height >= fluxconfig.DAEMON_PON_FORK:
        return fluxconfig.POST_PON_MAX_BLOCKS_ALLOWANCE
    return fluxconfig.MAX_BLOCKS_ALLOWANCE


def renew_expire(blocks_left: int, months: int, height: int) -> int:
    """The `expire` of an update at `height` that keeps the blocks left and adds `months`
    (FluxOS months: `pricing.default_expire`), within FluxOS's maximum; before
    1625000 a multiple of 1000."""
    expire = max(blocks_left, 0) + months * pricing.default_expire(height)
    if height < fluxconfig.REMOVE_BLOCKS_ALLOWANCE_INTERVAL_BLOCK:
        interval = fluxconfig.BLOCKS_ALLOWANCE_INTERVAL
        expire = -(-expire // interval) * interval
    return max(minimum_expire(height), min(expire, maximum_expire(height)))


def app_height_now(app, now=None) -> int | None:
    """The chain's height now, from the app's last sync (its expiry height and date)."""
    if app is None or app.expiry_height is None or app.expires_at is None:
        return None
    now = now or timezone.now()
    return int(app.expiry_height - round((app.expires_at - now).total_seconds() / BLOCK_SECONDS))


def team_height(team, app=None, now=None) -> int:
    """Best known height: the app's sync, else the highest a team node answered lately, else the
    builder's default."""
    now = now or timezone.now()
    height = app_height_now(app, now)
    if height is not None and height > 0:
        return height
    snapshot = (NodeSnapshot.objects.filter(team_id=getattr(team, "pk", team), state__in=ANSWERED_STATES, height__isnull=False,
                                            last_seen__gte=now - HEIGHT_FRESH)
                .order_by("-height").values_list("height", "last_seen").first())
    if snapshot:
        height, seen = snapshot
        return int(height + (now - seen).total_seconds() // BLOCK_SECONDS)
    return DEFAULT_HEIGHT


def blocks_left(app, height: int) -> int:
    """Blocks until the app's subscription ends (0 when it has ended or is unknown)."""
    if app is None or app.expiry_height is None:
        return 0
    return max(int(app.expiry_height) - height, 0)


def base_expiry_height(draft) -> int | None:
    if draft.app is not None and draft.app.expiry_height is not None:
        return draft.app.expiry_height
    if isinstance(draft.base_spec, dict) and draft.base_height is not None:
        expire = draft.base_spec.get("expire")
        return int(pricing.expiration_height(draft.base_height, expire if isinstance(expire, int) else None))
    return None


def _date_at(height_now: int, height: int | None, now):
    """The date a block is reached (None when unknown or absurd: a draft may hold any number)."""
    if height is None or abs(height - height_now) > MAX_DATE_BLOCKS:
        return None
    return now + timedelta(seconds=(height - height_now) * BLOCK_SECONDS)


# --- the diff ------------------------------------------------------------------------------

def _shown(key: str, value: Any) -> str:
    if key in SECRET_FIELDS and value:
        return "(set)"
    if isinstance(value, str):
        return value if value != "" else "(empty)"
    if value is None:
        return "(none)"
    return json.dumps(value, ensure_ascii=False)


def _change(key: str, before: Any, after: Any) -> dict | None:
    if before == after and type(before) is type(after):
        return None
    row = {"field": key, "before": _shown(key, before), "after": _shown(key, after), "added": [], "removed": []}
    if isinstance(before, list) or isinstance(after, list):
        old = before if isinstance(before, list) else []
        new = after if isinstance(after, list) else []
        row["is_list"] = True
        row["added"] = [_shown(key, item) for item in new if item not in old]
        row["removed"] = [_shown(key, item) for item in old if item not in new]
        if not row["added"] and not row["removed"]:
            row["reordered"] = True
    if key in SECRET_FIELDS and (before or after):
        row["before"], row["after"] = ("(set)" if before else "(empty)"), ("(set)" if after else "(empty)")
        row["added"] = row["removed"] = []
        row.pop("is_list", None)
    return row


def _components(spec: dict) -> list[dict]:
    compose = spec.get("compose") if isinstance(spec, dict) else None
    return [c for c in compose if isinstance(c, dict)] if isinstance(compose, list) else []


def spec_diff(before: dict, after: dict) -> dict:
    """{"fields": [...], "added": [...], "removed": [...], "changed": [...], "order": bool}."""
    fields = [row for key in TOP_FIELDS
              if (row := _change(key, before.get(key), after.get(key))) is not None]
    old = {str(c.get("name")): c for c in _components(before)}
    new = {str(c.get("name")): c for c in _components(after)}
    added = [{"name": name, "rows": [{"field": k, "value": _shown(k, c.get(k))} for k in COMPONENT_FIELDS]}
             for name, c in new.items() if name not in old]
    removed = [name for name in old if name not in new]
    changed = []
    for name, component in new.items():
        if name in old:
            rows = [row for key in COMPONENT_FIELDS
                    if (row := _change(key, old[name].get(key), component.get(key))) is not None]
            if rows:
                changed.append({"name": name, "rows": rows})
    kept_old = [n for n in old if n in new]
    kept_new = [n for n in new if n in old]
    return {"fields": fields, "added": added, "removed": removed, "changed": changed,
            "reordered": kept_old != kept_new,
            "empty": not (fields or added or removed or changed or kept_old != kept_new)}


def _canonical(spec: Any) -> dict:
    """FluxOS's canonical order when the spec formats; else as it is (a draft may be invalid)."""
    try:
        return format_spec(copy.deepcopy(spec))
    except Exception:  # noqa: BLE001 - an invalid draft is shown as typed
        return spec if isinstance(spec, dict) else {}


def _price(spec: dict, height: int, tables: PriceContext, existing: dict | None = None) -> dict | None:
    """FluxOS's price at `height` with the team's price tables (those the Build tab shows)."""
    kwargs = {"usd_table": tables.usd_table, "flux_table": tables.flux_table}
    try:
        result = pricing.fiat_and_flux_price(copy.deepcopy(spec), height, None, existing, **kwargs)
        month = pricing.fiat_and_flux_price(dict(copy.deepcopy(spec), expire=pricing.default_expire(height)),
                                            height, None, **kwargs)
    except Exception:  # noqa: BLE001 - an invalid draft has no price
        return None
    if not isinstance(result, dict) or "error" in result:
        return {"error": (result or {}).get("error", "no price")} if isinstance(result, dict) else None
    return {"usd": result.get("usd"), "flux": result.get("flux"),
            "month_usd": month.get("usd") if isinstance(month, dict) else None,
            "month_flux": month.get("flux") if isinstance(month, dict) else None}


def draft_diff(draft, now=None) -> dict:
    """The context of builder/_diff.html for one draft: {"diff": {...}}."""
    return {"diff": _draft_diff(draft, now)}


def _draft_diff(draft, now=None) -> dict:
    now = now or timezone.now()
    spec = draft.message_spec if isinstance(draft.message_spec, dict) else draft.spec
    spec = spec if isinstance(spec, dict) else {}
    height = team_height(draft.team_id, draft.app, now)
    tables = price_context(draft.team)
    expire = spec.get("expire")
    after_height = height + expire if isinstance(expire, int) and not isinstance(expire, bool) else None
    context: dict[str, Any] = {
        "diff_kind": draft.kind, "is_new": draft.kind == draft.Kind.NEW,
        "only_expiry": draft.kind in (draft.Kind.RENEW, draft.Kind.CANCEL),
        "height": height, "price_source": "FluxOS's default price tables" if tables.error
        else f"the price table of {tables.source_label}",
        "expiry_after": _date_at(height, after_height, now), "expire_after": expire,
    }
    if draft.kind == draft.Kind.NEW or not isinstance(draft.base_spec, dict):
        context["whole_spec"] = json.dumps(_canonical(spec), indent=2, ensure_ascii=False)
        context["price_after"] = _price(spec, height, tables)
        return context
    base = draft.base_spec
    try:
        before_v8 = upgrade_to_v8(base, draft.base_height or height)
    except ImportRefused:  # a live spec of a version FluxOS does not know: compared as it is
        before_v8 = copy.deepcopy(base)
    before_v8["version"] = base.get("version")  # the upgrade itself is a change to show
    if not isinstance(base.get("expire"), int):
        before_v8["expire"] = pricing.default_expire(draft.base_height or height)
    before_height = base_expiry_height(draft)
    existing = {**base, "height": draft.base_height} if draft.base_height is not None else None
    context.update(
        changes=spec_diff(before_v8, spec), base_version=base.get("version"),
        expire_before=base.get("expire"), expiry_before=_date_at(height, before_height, now),
        price_before=_price(base, draft.base_height or height, tables),
        price_after=_price(spec, height, tables, existing),
        expire_only=_expire_only(before_v8, spec))
    return context


def _expire_only(before: dict, after: dict) -> bool:
    strip = ("expire", "height", "hash", "version")
    return {k: v for k, v in before.items() if k not in strip} == {k: v for k, v in after.items() if k not in strip}
