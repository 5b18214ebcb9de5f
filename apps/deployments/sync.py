"""App sync: the team's apps from the network, their instances' state, prices; written in bulk.

Modelled on the fleet sweep (`apps/nodes/sweep.py`): an `AppSync` row with a fresh heartbeat is the
team's lock, a stale one is marked abandoned and taken over, and a sync that was abandoned while it
waited writes nothing when it finishes late.

Specs, locations, the height and the price table come from one source (`team_sources`): the first
that answers all of them wins; a failing source costs its own bounds and its reason is kept. No
source answering leaves every app's data in place, marked stale with the reasons.

Instance state is `/apps/listrunningapps` of each location's node, in a bounded pool with the
sweep's per-node bounds; a node the team registered whose sweep snapshot is fresh is not asked
again. Every peer is untrusted: records are validated one by one and garbage is skipped, never
fatal; one node's failure is that instance's reason.
"""
from __future__ import annotations

import hashlib
import json
import logging
import math
import re
import time
from concurrent.futures import ALL_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from apps.deployments.costs import app_costs, price_tables
from apps.deployments.models import AppInstance, AppStateChange, AppStatus, AppSync, TeamApp
from apps.deployments.owners import owner_key, team_owner_addresses
from apps.deployments.signals import apps_synced
from apps.deployments.sources import location_url, team_sources
from apps.nodes.clients import node_client
from apps.nodes.models import BLOCK_SECONDS, MAX_COLUMN_INT, Node, SweepSettings
from apps.nodes.probe import DETAIL_APPS_MAX
from fluxpanel.fluxos.client import FluxClientError, NodeTimeout
from fluxpanel.fluxos.client.addresses import parse_node_address
from fluxpanel.fluxos.client.reasons import explain
from fluxpanel.fluxos.pricing import expiration_height, fresh_price_era
from fluxpanel.fluxos.specs import format_spec

log = logging.getLogger(__name__)

HEARTBEAT_EVERY_S = 2.0
SYNC_GRACE_S = 5.0
NODE_MAX_BYTES = 2 * 1024 * 1024
# Above this many owners + added names, one unfiltered global specs call is cheaper than many.
MAX_FILTERED_QUERIES = 20
MAX_HEIGHT = 100_000_000
MAX_EXPIRE = 100_000_000
APP_NAME = re.compile(r"[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?")  # FluxOS APP_NAME_REGEX
NO_SOURCE = "No source: register a confirmed node or set a gateway URL"
NOT_ON_NETWORK = "No app of that name on the network"
GONE_FROM_NETWORK = "No longer on the network"
APP_FIELDS = [
    "name", "owner", "spec", "spec_version", "components", "message_height", "message_hash",
    "expire", "expiry_height", "expires_at", "instances_wanted", "instances_running", "status",
    "reason", "monthly_usd", "renewal_usd", "renewal_flux", "price_key", "synced_at", "stale", "stale_reason",
    "changed_at",
]
INSTANCE_FIELDS = ["team", "node", "broadcast_at", "expire_at", "running_since", "state", "reason",
                   "country", "region", "checked_at"]
EXISTING_FIELDS = ["pk", "name", "name_key", "origin", "status", "instances_running", "owner", "spec",
                   "message_height", "message_hash", "expire", "expiry_height", "expires_at", "instances_wanted",
                   "reason", "stale", "price_key", "monthly_usd", "renewal_usd", "renewal_flux"]
# Fields of an app row compared to tell whether a sync changed it (expires_at apart: an estimate
# from the height, it moves a little every sync and counts only beyond EXPIRY_DRIFT).
COMPARED_FIELDS = ("name", "owner", "message_height", "message_hash", "expire", "expiry_height",
                   "instances_wanted", "instances_running", "status", "reason", "price_key")
EXPIRY_DRIFT = timedelta(minutes=30)


class SourceFailed(Exception):
    pass


# ------------------------------------------------------------------------------ bounds and lock


def node_timeout() -> tuple[float, float]:
    seconds = float(settings.APP_SYNC_TIMEOUT_SECONDS)
    return (min(3.0, seconds), seconds)


def node_deadline_s() -> float:
    connect, read = node_timeout()
    return connect + read


def sync_limit_s(node_count: int, workers: int) -> float:
    waves = math.ceil(node_count / max(1, workers)) if node_count else 0
    return waves * node_deadline_s() + SYNC_GRACE_S


def claim_sync(team_id: int) -> AppSync | None:
    """Start a sync unless one is alive for this team; a stale one is marked abandoned."""
    now = timezone.now()
    stale_before = now - timedelta(seconds=settings.APP_SYNC_STALE_SECONDS)
    with transaction.atomic():
        running = list(AppSync.objects.select_for_update().filter(team_id=team_id, status=AppSync.Status.RUNNING))
        if any(s.heartbeat_at >= stale_before for s in running):
            return None
        for dead in running:
            dead.status = AppSync.Status.ABANDONED
            dead.finished_at = now
            dead.save(update_fields=["status", "finished_at"])
            log.warning("app sync %s of team %s died; taking over", dead.pk, team_id)
        return AppSync.objects.create(team_id=team_id)


def _beat(sync: AppSync) -> None:
    AppSync.objects.filter(pk=sync.pk, status=AppSync.Status.RUNNING).update(heartbeat_at=timezone.now())


# ------------------------------------------------------------------------------ the network's answers


@dataclass
class Network:
    source: str
    height: int
    specs: dict[str, dict]  # name_key -> validated record
    locations: dict[str, list[dict]]  # name_key -> location records
    flux_table: object = None
    usd_table: object = None


def _human(exc: Exception) -> str:
    if isinstance(exc, FluxClientError):
        return exc.message
    return f"panel error: {type(exc).__name__}"


def _int_in(value, low: int, high: int) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if isinstance(value, float) and (not math.isfinite(value) or value != int(value)):
        return None
    value = int(value)
    return value if low <= value <= high else None


def valid_spec(record) -> dict | None:
    """The record when it has the shape of a global spec, else None (skipped)."""
    if not isinstance(record, dict):
        return None
    name, owner = record.get("name"), record.get("owner")
    if not isinstance(name, str) or not APP_NAME.fullmatch(name):
        return None
    if not isinstance(owner, str) or not 0 < len(owner) <= 64:
        return None
    if _int_in(record.get("height"), 0, MAX_HEIGHT) is None:
        return None
    if "expire" in record and _int_in(record.get("expire"), 1, MAX_EXPIRE) is None:
        return None
    if _int_in(record.get("version"), 1, 99) is None:
        return None
    return record


def _records(answer, what: str) -> list:
    if not isinstance(answer, list):
        raise SourceFailed(f"{what} is not a list (not a FluxOS answer)")
    return answer


SOURCE_PARALLEL = 8  # calls in flight to one source at once


def _source_calls(client, owners: list[str], added: list[str]) -> dict:
    """The calls to make to a source: name → (function, kwargs)."""
    calls: dict = {}
    if len(owners) + len(added) > MAX_FILTERED_QUERIES:
        calls["specs"] = (client.global_app_specs, {})
    else:
        for number, owner in enumerate(owners):
            calls[f"specs-owner-{number}"] = (client.global_app_specs, {"owner": owner})
        for number, name in enumerate(added):
            calls[f"specs-app-{number}"] = (client.global_app_specs, {"app": name})
    calls["locations"] = (client.app_locations, {})
    calls["height"] = (client.block_count, {})
    calls["prices"] = (client.deployment_information, {})
    return calls


def _ask_all(sync: AppSync, calls: dict) -> dict:
    """Run the calls a few at a time (each under the client's own deadline), beating meanwhile.
    Answers are values, failures are the exceptions themselves."""
    answers: dict = {}
    with ThreadPoolExecutor(max_workers=min(SOURCE_PARALLEL, len(calls)),
                            thread_name_prefix=f"appsource-{sync.team_id}") as pool:
        futures = {pool.submit(fn, **kwargs): name for name, (fn, kwargs) in calls.items()}
        pending = set(futures)
        while pending:
            done, pending = wait(pending, timeout=HEARTBEAT_EVERY_S, return_when=ALL_COMPLETED)
            for future in done:
                exc = future.exception()
                answers[futures[future]] = exc if exc is not None else future.result()
            _beat(sync)
    return answers


def ask_source(source, owners: list[str], added: list[str], names_known: set[str], sync: AppSync) -> Network:
    """Every network answer from one source; raises SourceFailed/FluxClientError when it fails."""
    answers = _ask_all(sync, _source_calls(source.client(), owners, added))
    for name in sorted(answers):
        if name != "prices" and isinstance(answers[name], Exception):
            raise answers[name]
    owner_keys = {owner_key(o) for o in owners}
    added_keys = {n.lower() for n in added}
    raw: list = []
    for name in sorted(answers):
        if name.startswith("specs"):
            raw.extend(_records(answers[name], "the global specs answer"))
    specs: dict[str, dict] = {}
    any_valid = False
    for record in raw:
        record = valid_spec(record)
        if record is None:
            continue
        any_valid = True
        key = record["name"].lower()
        if owner_key(record["owner"]) in owner_keys or key in added_keys:
            previous = specs.get(key)
            if previous is None or record["height"] >= previous["height"]:
                specs[key] = record
    if raw and not any_valid:
        raise SourceFailed("answered global specs that are not FluxOS app specs")
    wanted = set(specs) | names_known
    locations: dict[str, list[dict]] = {}
    for record in _records(answers["locations"], "the locations answer"):
        if not isinstance(record, dict) or not isinstance(record.get("name"), str):
            continue
        key = record["name"].lower()
        if key in wanted:
            locations.setdefault(key, []).append(record)
    height = answers["height"]
    if isinstance(height, bool) or not isinstance(height, int) or not 0 < height <= MAX_HEIGHT:
        raise SourceFailed("answered a block height that is not a number of blocks")
    information = answers["prices"]
    if isinstance(information, Exception):
        log.info("source %s gave no price table: %s", source.label, information)
        information = None
    flux_table, usd_table = price_tables(information)
    return Network(source.label, height, specs, locations, flux_table, usd_table)


# ------------------------------------------------------------------------------ instance checks


def _when(value) -> datetime | None:
    if isinstance(value, bool):
        return None
    try:
        if isinstance(value, int | float) and math.isfinite(value) and 0 < value < 10**14:
            return datetime.fromtimestamp(value / 1000, tz=timezone.utc)
        if isinstance(value, str) and len(value) <= 40:
            parsed = parse_datetime(value)
            if parsed is not None:
                return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)
    except (ValueError, OverflowError, OSError):
        return None
    return None


def running_components(containers) -> dict[str, set]:
    """`/apps/listrunningapps` → {app name_key: {component name (None for old single apps)}}."""
    running: dict[str, set] = {}
    if not isinstance(containers, list):
        return running
    for container in containers[:5000]:
        if not isinstance(container, dict):
            continue
        state = container.get("State")
        if isinstance(state, str) and state.lower() != "running":
            continue
        names = container.get("Names")
        name = names[0] if isinstance(names, list) and names and isinstance(names[0], str) else ""
        name = name.lstrip("/")[:200]
        for prefix in ("flux", "zel"):
            if name.startswith(prefix):
                name = name[len(prefix):]
                break
        else:
            continue
        component, _, app = name.partition("_")
        if not app:
            component, app = None, component
        if app:
            running.setdefault(app.lower(), set()).add(component)
    return running


@dataclass
class NodeAnswer:
    ok: bool
    reason: str = ""
    running: dict[str, set] = field(default_factory=dict)
    names_only: bool = False  # from a sweep snapshot: app names, no components


def _check_node(location: str, options: dict) -> NodeAnswer:
    try:
        url = location_url(location)
    except ValueError as exc:
        return NodeAnswer(False, f"not a node address: {exc}"[:300])
    try:
        containers = node_client(url, **options).running_apps()
    except NodeTimeout as exc:  # the short reason a person reads (fluxpanel.fluxos.client.reasons)
        return NodeAnswer(False, f"Node did not answer: {explain(exc).short}"[:300])
    except FluxClientError as exc:
        return NodeAnswer(False, f"Node failed: {explain(exc).short}"[:300])
    except Exception as exc:  # one node's surprise never fails the sync
        log.exception("instance check of %s crashed", location)
        return NodeAnswer(False, f"Panel error while checking: {type(exc).__name__}")
    return NodeAnswer(True, running=running_components(containers))


def check_nodes(sync: AppSync, locations: list[str], while_waiting=None) -> dict[str, NodeAnswer]:
    """Ask every location's node in the pool; `while_waiting()` runs here meanwhile (CPU work
    that overlaps the network waits)."""
    connect, read = node_timeout()
    options = {"timeout": (connect, read), "deadline_s": node_deadline_s(), "max_body": NODE_MAX_BYTES}
    workers = max(1, min(settings.APP_SYNC_CONCURRENCY, len(locations) or 1))
    limit_s = sync_limit_s(len(locations), workers)
    give_up_at = time.monotonic() + limit_s
    results: dict[str, NodeAnswer] = {}
    last_beat = time.monotonic()
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"appsync-{sync.team_id}")
    try:
        futures = {pool.submit(_check_node, loc, options): loc for loc in locations}
        pending = set(futures)
        if while_waiting is not None:
            while_waiting()
        while pending:
            remaining = give_up_at - time.monotonic()
            if remaining <= 0:
                break
            done, pending = wait(pending, timeout=min(HEARTBEAT_EVERY_S, remaining), return_when=ALL_COMPLETED)
            for future in done:
                results[futures[future]] = future.result()
            if time.monotonic() - last_beat >= HEARTBEAT_EVERY_S:
                last_beat = time.monotonic()
                _beat(sync)
        for future in pending:
            results[futures[future]] = NodeAnswer(False, f"Node did not answer within the sync's limit of {limit_s:g} s")
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    return results


def _place(node: tuple | None) -> tuple[str, str]:
    """(country, region) of an instance's node, as the team's last sweep of it geolocated it."""
    detail = (node[2] or {}) if node else {}
    return str(detail.get("country") or "")[:80], str(detail.get("region") or "")[:80]


def team_node_map(team_id: int) -> dict[str, tuple]:
    """location form → (node pk, snapshot checked_at, snapshot detail) of the team's nodes."""
    nodes = {}
    for pk, address, checked, detail in Node.objects.filter(team_id=team_id).values_list(
            "pk", "address", "snapshot__checked_at", "snapshot__detail"):
        try:
            location = parse_node_address(address).location
        except ValueError:
            continue
        nodes[location] = (pk, checked, detail if isinstance(detail, dict) else {})
    return nodes


def _snapshot_answer(checked, detail, fresh_after) -> NodeAnswer | None:
    if checked is None or checked < fresh_after:
        return None
    names = detail.get("apps")
    if not isinstance(names, list) or len(names) >= DETAIL_APPS_MAX:
        return None  # no names, or capped: ask the node itself
    return NodeAnswer(True, running={str(n).lower(): {None} for n in names}, names_only=True)


# ------------------------------------------------------------------------------ status


def component_names(spec: dict) -> list[str]:
    compose = spec.get("compose")
    if isinstance(compose, list) and compose:
        return [c.get("name") for c in compose if isinstance(c, dict) and isinstance(c.get("name"), str)]
    return []


def instance_state(answer: NodeAnswer, key: str, components: list[str]) -> tuple[str, str]:
    if not answer.ok:
        return AppInstance.State.UNREACHABLE, answer.reason
    present = answer.running.get(key)
    if not present:
        return AppInstance.State.STOPPED, "The node does not run the app"
    if answer.names_only or not components or None in present:
        return AppInstance.State.RUNNING, ""
    missing = [c for c in components if c not in present]
    if missing:
        return AppInstance.State.STOPPED, f"Not running: {', '.join(missing)}"[:300]
    return AppInstance.State.RUNNING, ""


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def app_status(running: int, wanted: int, states: list[str], expired: bool) -> tuple[str, str]:
    if expired:
        return AppStatus.EXPIRED, "The subscription ended"
    if wanted and running >= wanted:
        status = AppStatus.HEALTHY
    elif running > 0:
        status = AppStatus.DEGRADED
    else:
        status = AppStatus.DOWN
    parts = [f"{running} of {_plural(wanted, 'instance')} run" if wanted != 1 else f"{running} of 1 instance runs"]
    unreachable = states.count(AppInstance.State.UNREACHABLE)
    stopped = states.count(AppInstance.State.STOPPED)
    if unreachable:
        parts.append(f"{_plural(unreachable, 'node')} did not answer")
    if stopped:
        parts.append(f"{stopped} stopped")
    if len(states) < wanted:
        parts.append(f"{_plural(len(states), 'location')} on the network")
    return status, "; ".join(parts)[:300]


# ------------------------------------------------------------------------------ the sync


def run_app_sync(team_id: int) -> AppSync | None:
    """Sync every app of the team. Returns the AppSync (done, failed, or abandoned when a newer sync
    took over while this one waited), or None when another sync is running."""
    sync = claim_sync(team_id)
    if sync is None:
        return None
    try:
        return _run(sync, team_id)
    except Exception as exc:
        log.exception("app sync %s of team %s crashed", sync.pk, team_id)
        AppSync.objects.filter(pk=sync.pk, status=AppSync.Status.RUNNING).update(
            status=AppSync.Status.FAILED, finished_at=timezone.now(),
            reason=f"Panel error during the sync: {type(exc).__name__}")
        sync.refresh_from_db()
        return sync


def _fail(sync: AppSync, team_id: int, reason: str) -> AppSync:
    reason = reason[:300]
    with transaction.atomic():
        if not AppSync.objects.select_for_update().filter(pk=sync.pk, status=AppSync.Status.RUNNING).exists():
            sync.refresh_from_db()
            return sync
        TeamApp.objects.filter(team_id=team_id).update(stale=True, stale_reason=reason)
        AppSync.objects.filter(pk=sync.pk).update(status=AppSync.Status.FAILED, finished_at=timezone.now(),
                                                 reason=reason)
    sync.refresh_from_db()
    return sync


def _run(sync: AppSync, team_id: int) -> AppSync:
    from apps.accounts.models import Team

    started = time.monotonic()
    team = Team.objects.get(pk=team_id)
    owners = team_owner_addresses(team)
    existing = {row["name_key"]: row for row in TeamApp.objects.filter(team_id=team_id).values(*EXISTING_FIELDS)}
    added = [row["name"] for row in existing.values() if row["origin"] == TeamApp.Origin.ADDED]
    sources = team_sources(team)
    if not sources:
        return _fail(sync, team_id, NO_SOURCE)
    reasons: list[str] = []
    network = None
    began = time.monotonic()
    for source in sources:
        try:
            network = ask_source(source, owners, added, set(existing), sync)
            break
        except (FluxClientError, SourceFailed) as exc:
            reasons.append(f"{source.label}: {_human(exc)}")
        except Exception as exc:
            log.exception("source %s crashed", source.label)
            reasons.append(f"{source.label}: {_human(exc)}")
        _beat(sync)
    if network is None:
        return _fail(sync, team_id, "No source answered. " + "; ".join(reasons))
    AppSync.objects.filter(pk=sync.pk).update(source=network.source[:300], heartbeat_at=timezone.now())
    asked = time.monotonic()

    now = timezone.now()
    nodes = team_node_map(team_id)
    sweep_interval = (SweepSettings.objects.filter(team_id=team_id).values_list("interval_seconds", flat=True)
                      .first() or 60)
    fresh_after = now - timedelta(seconds=2 * sweep_interval)
    answers: dict[str, NodeAnswer] = {}
    to_ask: list[str] = []
    all_locations = {r.get("ip") for records in network.locations.values() for r in records
                     if isinstance(r.get("ip"), str) and len(r.get("ip")) <= 80}
    for location in sorted(all_locations):
        try:
            canonical = parse_node_address(location).location
        except ValueError:
            answers[location] = NodeAnswer(False, "The location is not a node address")
            continue
        mine = nodes.get(canonical)
        cached = _snapshot_answer(mine[1], mine[2], fresh_after) if mine else None
        if cached is not None:
            answers[location] = cached
        else:
            to_ask.append(location)
    prepared: dict[str, tuple] = {}
    pricing_s = [0.0]

    def prepare_while_waiting():
        begun = time.monotonic()
        prepared.update(prepare_specs(network, existing))
        pricing_s[0] = time.monotonic() - begun

    answers.update(check_nodes(sync, to_ask, while_waiting=prepare_while_waiting))
    checked = time.monotonic()
    changed = write_results(sync, team_id, network, existing, nodes, answers, prepared)
    log.info("app sync %s: %d apps, %d nodes asked; setup %.2f s, source %.2f s, nodes and prices %.2f s "
             "(specs and prices %.2f s of it), writes %.2f s", sync.pk, len(prepared), len(to_ask),
             began - started, asked - began, checked - asked, pricing_s[0], time.monotonic() - checked)
    if changed is None:
        sync.refresh_from_db()
        return sync
    changed_ids, app_count, instance_count, change_count = changed
    AppSync.objects.filter(pk=sync.pk, status=AppSync.Status.RUNNING).update(
        status=AppSync.Status.DONE, finished_at=timezone.now(), apps=app_count, instances=instance_count,
        nodes_checked=len(answers), nodes_failed=sum(1 for a in answers.values() if not a.ok),
        changes=change_count, reason="; ".join(reasons)[:300])
    sync.refresh_from_db()
    apps_synced.send(sender=AppSync, sync=sync, team_id=team_id, changed_app_ids=changed_ids)
    return sync


def _canonical(record: dict) -> dict | None:
    try:
        spec = format_spec({k: v for k, v in record.items() if k not in ("hash", "height")})
    except Exception:  # the formatter refuses it: not a spec the panel can show
        return None
    if not isinstance(spec, dict):
        return None
    spec.pop("hash", None)
    spec.pop("height", None)
    return spec


# Top-level fields FluxOS's prices never read (the name only for marketplace apps, none here).
NOT_PRICED = ("name", "description", "owner", "contacts")
COST_FIELDS = ("monthly_usd", "renewal_usd", "renewal_flux")


def price_key(spec: dict, era: tuple) -> str | None:
    """Digest of everything the app's prices depend on (None when the spec is not JSON-able)."""
    try:
        priced = json.dumps([{k: v for k, v in spec.items() if k not in NOT_PRICED}, repr(era)], sort_keys=True)
    except (TypeError, ValueError):
        return None
    return hashlib.sha256(priced.encode()).hexdigest()


def _same_message(record: dict, old: dict | None) -> bool:
    hash_text = record.get("hash") if isinstance(record.get("hash"), str) else ""
    return (old is not None and bool(old["spec"]) and bool(hash_text) and old["message_hash"] == hash_text[:64]
            and old["message_height"] == record["height"])


def prepare_specs(network: Network, existing: dict | None = None) -> dict[str, tuple[dict, dict, str]]:
    """name_key → (canonical spec, costs, price key); specs the formatter refuses are left out.

    Work is skipped where nothing changed since the last sync: the spec of a message already
    stored (same hash and height) is the stored one, and an app whose price key is unchanged keeps
    its stored prices. What is priced is priced once per distinct priced content."""
    existing = existing or {}
    prepared: dict[str, tuple[dict, dict, str]] = {}
    cache: dict[str, dict] = {}
    try:
        era = fresh_price_era(network.height, network.usd_table, network.flux_table)
    except (TypeError, ValueError, ArithmeticError):
        era = None
    for key, record in network.specs.items():
        old = existing.get(key)
        spec = old["spec"] if _same_message(record, old) else _canonical(record)
        if spec is None:
            continue
        digest = price_key(spec, era) if era is not None and network.flux_table is not None else None
        if digest is not None and old is not None and old["price_key"] == digest:
            prepared[key] = (spec, {f: old[f] for f in COST_FIELDS}, digest)
            continue
        costs = cache.get(digest) if digest is not None else None
        if costs is None:
            costs = app_costs(spec, network.height, network.flux_table, network.usd_table)
            if digest is not None:
                cache[digest] = costs
        prepared[key] = (spec, dict(costs), digest or "")
    return prepared


def write_results(sync, team_id, network: Network, existing, nodes, answers, prepared=None):
    """Upsert apps and instances, record flips; None when the sync was taken over meanwhile."""
    now = timezone.now()
    height = network.height
    rows: list[TeamApp] = []
    same_rows: list[int] = []  # pks of apps this sync found as they were: only synced_at moves
    instance_plan: dict[str, list[tuple]] = {}
    changes: list[tuple[str, AppStateChange]] = []
    if prepared is None:
        prepared = prepare_specs(network)
    for key, record in network.specs.items():
        if key not in prepared:
            continue
        spec, costs, digest = prepared[key]
        old = existing.get(key)
        version = _int_in(spec.get("version"), 1, 99)
        message_height = record["height"]
        expire = _int_in(record.get("expire"), 1, MAX_EXPIRE)
        try:
            expiry = int(expiration_height(message_height, expire))
        except (TypeError, ValueError, ArithmeticError):
            expiry = None
        if expiry is not None and not 0 <= expiry <= MAX_COLUMN_INT:
            expiry = None
        expires_at = now + timedelta(seconds=(expiry - height) * BLOCK_SECONDS) if expiry is not None else None
        wanted = _int_in(spec.get("instances", 1), 0, 10_000) or 0
        components = component_names(spec)
        instances = []
        states = []
        for loc in network.locations.get(key, []):
            location = loc.get("ip")
            if not isinstance(location, str) or not location or len(location) > 80:
                continue
            answer = answers.get(location) or NodeAnswer(False, "Not checked")
            state, reason = instance_state(answer, key, components)
            try:
                node = nodes.get(parse_node_address(location).location)
            except ValueError:
                node = None
            instances.append((location, state, reason, node[0] if node else None,
                              _when(loc.get("broadcastedAt")), _when(loc.get("expireAt")),
                              _when(loc.get("runningSince")), *_place(node)))
            states.append(state)
        # one row per location (a node listed twice counts once)
        seen_locations, unique = set(), []
        for item in instances:
            if item[0] not in seen_locations:
                seen_locations.add(item[0])
                unique.append(item)
        instances = unique
        states = [item[1] for item in instances]
        running = states.count(AppInstance.State.RUNNING)
        status, reason = app_status(running, wanted, states, expiry is not None and expiry <= height)
        hash_text = record.get("hash") if isinstance(record.get("hash"), str) else ""
        flipped = old is None or old["status"] != status or old["instances_running"] != running
        row = TeamApp(
            team_id=team_id, name=record["name"], name_key=key, origin=TeamApp.Origin.OWNER,
            owner=record["owner"], spec=spec, spec_version=version,
            components=len(components) or 1, message_height=message_height,
            message_hash=hash_text[:64], expire=expire, expiry_height=expiry, expires_at=expires_at,
            instances_wanted=wanted, instances_running=running, status=status, reason=reason,
            synced_at=now, stale=False, stale_reason="", changed_at=now, created_at=now, price_key=digest, **costs)
        if _unchanged_app(row, old):
            row.expires_at = old["expires_at"]
            same_rows.append(old["pk"])
        rows.append(row)
        instance_plan[key] = instances
        if flipped:
            changes.append((key, AppStateChange(
                team_id=team_id, old_status=old["status"] if old else AppStatus.UNKNOWN, new_status=status,
                old_running=old["instances_running"] if old else None, new_running=running,
                wanted=wanted, reason=reason, at=now)))
    missing_added, missing_owned = [], []
    written = {r.name_key for r in rows}
    for key, old in existing.items():
        if key in written or key in network.specs:
            continue  # refreshed, or on the network with a spec the formatter refuses: left as it was
        if old["origin"] == TeamApp.Origin.ADDED:
            missing_added.append(old)
        else:
            missing_owned.append(old)

    with transaction.atomic():
        if not AppSync.objects.select_for_update().filter(pk=sync.pk, status=AppSync.Status.RUNNING).exists():
            log.warning("app sync %s was taken over; its late results are dropped", sync.pk)
            return None
        flipped_keys = {key for key, _ in changes}
        same = set(same_rows)
        changed_rows = [r for r in rows if existing.get(r.name_key, {}).get("pk") not in same]
        _upsert_apps([r for r in changed_rows if r.name_key not in flipped_keys],
                     [f for f in APP_FIELDS if f != "changed_at"])
        _upsert_apps([r for r in changed_rows if r.name_key in flipped_keys], APP_FIELDS)
        for start in range(0, len(same_rows), 500):
            TeamApp.objects.filter(pk__in=same_rows[start:start + 500]).update(
                synced_at=now, stale=False, stale_reason="")
        ids = dict(TeamApp.objects.filter(team_id=team_id).values_list("name_key", "pk"))
        # Missing apps: status MISSING, instances gone.
        missing_changes = []
        for old, reason in [*[(o, NOT_ON_NETWORK) for o in missing_added], *[(o, GONE_FROM_NETWORK) for o in missing_owned]]:
            fields = {"status": AppStatus.MISSING, "reason": reason, "instances_running": 0,
                      "synced_at": now, "stale": False, "stale_reason": ""}
            if old["status"] != AppStatus.MISSING or old["instances_running"] != 0:
                fields["changed_at"] = now
                missing_changes.append(AppStateChange(
                    app_id=old["pk"], team_id=team_id, old_status=old["status"], new_status=AppStatus.MISSING,
                    old_running=old["instances_running"], new_running=0, wanted=0, reason=reason, at=now))
            TeamApp.objects.filter(pk=old["pk"]).update(**fields)
        state_changes = list(missing_changes)
        for key, change in changes:
            change.app_id = ids[key]
            state_changes.append(change)
        AppStateChange.objects.bulk_create(state_changes, batch_size=500)

        stored = {(row[1], row[2]): row for row in AppInstance.objects.filter(team_id=team_id).values_list(
            "pk", "app_id", "location", "node_id", "broadcast_at", "expire_at", "running_since", "state",
            "reason", "country", "region")}
        instance_rows, same_instances, instance_count = [], [], 0
        keep: set[tuple[int, str]] = set()
        for key, instances in instance_plan.items():
            app_id = ids[key]
            for location, state, reason, node_id, broadcast, expire_at, since, country, region in instances:
                keep.add((app_id, location))
                instance_count += 1
                old = stored.get((app_id, location))
                if old is not None and old[3:] == (node_id, broadcast, expire_at, since, state, reason[:300], country,
                                                   region):
                    same_instances.append(old[0])
                    continue
                instance_rows.append(AppInstance(
                    app_id=app_id, team_id=team_id, location=location, node_id=node_id,
                    broadcast_at=broadcast, expire_at=expire_at, running_since=since, state=state,
                    reason=reason[:300], country=country, region=region, checked_at=now))
        gone = [row[0] for place, row in stored.items() if place not in keep]
        for start in range(0, len(gone), 500):
            AppInstance.objects.filter(pk__in=gone[start:start + 500]).delete()
        for start in range(0, len(same_instances), 500):
            AppInstance.objects.filter(pk__in=same_instances[start:start + 500]).update(checked_at=now)
        if instance_rows:
            AppInstance.objects.bulk_create(instance_rows, batch_size=500, update_conflicts=True,
                                            unique_fields=["app", "location"], update_fields=INSTANCE_FIELDS)
    changed_ids = sorted(c.app_id for c in state_changes)
    return changed_ids, len(rows), instance_count, len(state_changes)


def _unchanged_app(row: TeamApp, old: dict | None) -> bool:
    """The sync found the app as it was stored (its spec too: same message), expiry estimate aside."""
    if old is None or old["stale"] or any(getattr(row, f) != old[f] for f in COMPARED_FIELDS):
        return False
    if any(getattr(row, f) != old[f] for f in COST_FIELDS):
        return False
    if (row.expires_at is None) != (old["expires_at"] is None):
        return False
    return row.expires_at is None or abs(row.expires_at - old["expires_at"]) <= EXPIRY_DRIFT


def _upsert_apps(rows: list[TeamApp], fields: list[str]) -> None:
    if rows:
        TeamApp.objects.bulk_create(rows, batch_size=500, update_conflicts=True,
                                    unique_fields=["team", "name_key"], update_fields=fields)
