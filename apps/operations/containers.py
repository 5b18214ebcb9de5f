"""docker inspect, top and changes of one container (an instance × component), made readable for
the Stats page (issue 15, item 5). Operators and above only: inspect carries the environment.

Nodes are untrusted: whatever they answer is read as plain data of the expected shape (anything
else is left out), every text is cut to MAX_TEXT characters and every list is capped (and the page
says so). Environment values whose name looks like a secret are shown as MASK, in the summary and
in the raw JSON alike.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field

from django.conf import settings

from apps.operations.operations import client_for, owner_auth, zelidauth_for_instance
from apps.wallets.secrets_guard import secret_name

MASK = "•••"
MAX_TEXT = 500
MAX_PROCESSES = 500
MAX_CHANGES = 2000
MAX_LIST = 200  # env entries, mounts, ports shown in the summary
MAX_RAW = 200_000  # characters of the raw inspect JSON shown
MAX_BODY = 8 * 1024 * 1024
KINDS = {0: "changed", 1: "added", 2: "deleted"}  # docker diff's Kind
PARTS = ("inspect", "top", "changes")


@dataclass
class Listing:
    rows: list
    total: int
    cap: int

    @property
    def cut(self) -> bool:
        return self.total > self.cap


@dataclass
class Summary:
    """The readable part of docker inspect."""

    fields: list[tuple[str, str]] = field(default_factory=list)
    ports: list[str] = field(default_factory=list)
    mounts: list[tuple[str, str, str]] = field(default_factory=list)  # (source, destination, mode)
    env: Listing = field(default_factory=lambda: Listing([], 0, MAX_LIST))
    raw: str = ""
    raw_cut: bool = False


def text(value) -> str:
    """A node's value as a short string ("" for containers and None)."""
    if value is None or isinstance(value, (dict, list)):
        return ""
    return str(value)[:MAX_TEXT]


def _dict(value) -> dict:
    return value if isinstance(value, dict) else {}


def _list(value) -> list:
    return value if isinstance(value, list) else []


def masked_env(entries) -> list[tuple[str, str]]:
    """(name, value) of `NAME=value` entries, the value masked when the name looks like a secret."""
    out = []
    for entry in _list(entries):
        name, _, value = str(entry).partition("=") if isinstance(entry, str) else ("", "", "")
        if name:
            out.append((name[:MAX_TEXT], MASK if secret_name(name) else value[:MAX_TEXT]))
    return out


def _masked_raw(inspect: dict) -> dict:
    raw = dict(inspect)
    config = _dict(raw.get("Config"))
    if "Env" in config:
        raw["Config"] = {**config, "Env": [f"{name}={value}" for name, value in masked_env(config["Env"])]}
    return raw


def _ports(inspect: dict) -> list[str]:
    published = _dict(_dict(inspect.get("NetworkSettings")).get("Ports")) or _dict(
        _dict(inspect.get("HostConfig")).get("PortBindings"))
    ports = []
    for inner, bindings in published.items():
        outer = [f"{text(_dict(b).get('HostIp')) or '*'}:{text(_dict(b).get('HostPort'))}" for b in _list(bindings)]
        ports.append(f"{text(inner)} → {', '.join(outer)}" if outer else text(inner))
    for inner in _dict(_dict(inspect.get("Config")).get("ExposedPorts")):
        if not any(port.startswith(text(inner)) for port in ports):
            ports.append(f"{text(inner)} (exposed)")
    return ports[:MAX_LIST]


def _resources(host: dict) -> list[tuple[str, str]]:
    from apps.operations.charts import figure

    out = []
    cpus, memory = host.get("NanoCpus"), host.get("Memory")
    if isinstance(cpus, int) and not isinstance(cpus, bool) and cpus > 0:
        out.append(("CPU limit", f"{cpus / 1e9:g} CPUs"))
    if isinstance(memory, int) and not isinstance(memory, bool) and memory > 0:
        out.append(("Memory limit", figure(memory, "bytes")))
    policy = text(_dict(host.get("RestartPolicy")).get("Name"))
    if policy:
        out.append(("Restart policy", policy))
    return out


def summary(inspect) -> Summary:
    inspect = _dict(inspect)
    state, config, host = _dict(inspect.get("State")), _dict(inspect.get("Config")), _dict(inspect.get("HostConfig"))
    fields = [("Image", text(config.get("Image")) or text(inspect.get("Image"))),
              ("Container", text(inspect.get("Name")).lstrip("/")),
              ("State", text(state.get("Status")) + (" (OOM killed)" if state.get("OOMKilled") is True else "")),
              ("Started", text(state.get("StartedAt"))),
              ("Finished", text(state.get("FinishedAt")) if state.get("Running") is not True else ""),
              ("Exit code", text(state.get("ExitCode")) if state.get("Running") is not True else ""),
              ("Error", text(state.get("Error"))),
              ("Restart count", text(inspect.get("RestartCount"))),
              ("Command", " ".join(text(part) for part in _list(config.get("Cmd"))[:50])[:MAX_TEXT])]
    fields += _resources(host)
    mounts = [(text(_dict(m).get("Source")), text(_dict(m).get("Destination")),
               "rw" if _dict(m).get("RW") is True else "ro") for m in _list(inspect.get("Mounts"))[:MAX_LIST]]
    env = masked_env(config.get("Env"))
    raw = json.dumps(_masked_raw(inspect), indent=2, ensure_ascii=False, default=str)
    return Summary([(name, value) for name, value in fields if value], _ports(inspect), mounts,
                   Listing(env[:MAX_LIST], len(env), MAX_LIST), raw[:MAX_RAW], len(raw) > MAX_RAW)


def processes(top) -> tuple[list[str], Listing]:
    """docker top's titles and rows (each cell a short string), at most MAX_PROCESSES rows."""
    top = _dict(top)
    titles = [text(title) for title in _list(top.get("Titles"))[:20]]
    rows = _list(top.get("Processes"))
    shown = [[text(cell) for cell in _list(row)[:len(titles) or 20]] for row in rows[:MAX_PROCESSES]]
    return titles, Listing(shown, len(rows), MAX_PROCESSES)


def changes(diff) -> Listing:
    """docker diff as (kind spelled out, path), at most MAX_CHANGES."""
    entries = _list(diff)
    rows = [(KINDS.get(_dict(e).get("Kind"), "unknown"), text(_dict(e).get("Path"))) for e in entries[:MAX_CHANGES]]
    return Listing(rows, len(entries), MAX_CHANGES)


def fetch(part: str, app, instance, component: str, membership) -> tuple[object, str, str]:
    """(the node's answer for `part` of one container, "", "") or (None, why not, the technical
    detail). Operator reads: the owner's authorisation, else the team's session on that node;
    bounded by the stats budget."""
    from fluxpanel.fluxos.client.reasons import explain

    auth = zelidauth_for_instance(membership, app, instance, owner_auth(membership, app))
    if auth is None:
        return None, "the team holds no app-owner authorisation and no session on this node", ""
    budget = float(settings.OPERATIONS_STATS_BUDGET_S)
    try:
        client = client_for(instance, auth, timeout=(3.05, budget), deadline_s=budget)
        call = {"inspect": client.app_inspect, "top": client.app_top, "changes": client.app_changes}[part]
        return call(app.name, component or None), "", ""
    except ValueError:
        return None, "not a node address", ""
    except Exception as exc:  # noqa: BLE001 - every failure of a node becomes its reason
        reason = explain(exc)
        return None, reason.short, reason.detail
