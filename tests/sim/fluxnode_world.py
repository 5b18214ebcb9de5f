"""Deterministic world of the simulated Flux fleet: chain clock, node identities, app catalogue.

Everything here is a pure function of (seed, node count): the same seed always gives the same
tiers, versions, owners, benchmarks, geolocation, peers and app placement, so tests can assert on
them and two runs of a bench hit the same fleet. Mutable run-time state (app states, logs,
sessions, faults) lives in fluxnode_node / fluxnode_apps.
"""

from __future__ import annotations

import base64
import hashlib
import json
import random
import time
from dataclasses import dataclass, field

from tests.sim import keys

FLUX_VERSIONS = ("8.17.0", "8.17.0", "8.17.0", "8.16.1", "8.15.0")
LATEST_VERSION = "8.17.0"
TEAM_IDS = ("1hjy4bCYBJr4mny4zCE85J94RXa8W6q37", "16iJqiVbHptCx87q6XQwNpKdgEZnFtKcyP")

# tier → (weight, new collateral, old collateral, cores, ram MB, ssd GB, eps)
TIERS = {
    "CUMULUS": (60, 1000, 10000, 2, 8000, 220, 240),
    "NIMBUS": (25, 12500, 25000, 4, 32000, 440, 640),
    "STRATUS": (15, 40000, 100000, 8, 64000, 880, 1520),
}

GEO = (
    ("Europe", "EU", "Germany", "DE", "HE", "Hesse", 50.11, 8.68, "Hetzner Online GmbH"),
    ("Europe", "EU", "France", "FR", "IDF", "Ile-de-France", 48.85, 2.35, "OVH SAS"),
    ("Europe", "EU", "Finland", "FI", "18", "Uusimaa", 60.17, 24.94, "Hetzner Online GmbH"),
    ("North America", "NA", "United States", "US", "VA", "Virginia", 38.9, -77.4, "Contabo Inc."),
    ("North America", "NA", "Canada", "CA", "QC", "Quebec", 45.5, -73.6, "OVH Hosting"),
    ("Asia", "AS", "Singapore", "SG", "01", "Central Singapore", 1.29, 103.85, "Contabo Asia"),
    ("Oceania", "OC", "Australia", "AU", "NSW", "New South Wales", -33.87, 151.2, "Vultr"),
)

APP_WORDS = ("web", "shop", "wiki", "chat", "relay", "game", "docs", "api", "vault", "feed",
             "minecraft", "nostr", "kadena", "ghost", "matrix", "status")
COMPONENT_SETS = (
    (("web", "nginx:1.27-alpine", 80),),
    (("app", "ghost:5.96", 2368), ("db", "mysql:8.4", 3306)),
    (("api", "node:22-alpine", 3000), ("cache", "redis:7.4-alpine", 6379)),
    (("server", "itzg/minecraft-server:2024.10.1", 25565),),
    (("front", "caddy:2.8", 80), ("back", "python:3.12-slim", 8000), ("db", "postgres:16", 5432)),
)

BASE_HEIGHT = 2_250_000
BLOCK_SECONDS = 30  # after the PON fork
CONFIRM_INTERVAL = 60  # blocks between a node's confirmations in the sim
EXPIRE_AFTER = 320  # blocks without confirmation before the sim calls a node EXPIRED


def now_ms() -> int:
    return int(time.time() * 1000)


def _rng(seed: int, *parts) -> random.Random:
    return random.Random(f"{seed}:" + ":".join(str(p) for p in parts))


def hex_id(*parts, length: int = 64) -> str:
    text = ":".join(str(p) for p in parts)
    out = ""
    counter = 0
    while len(out) < length:
        out += hashlib.sha256(f"{text}:{counter}".encode()).hexdigest()
        counter += 1
    return out[:length]


class Chain:
    """The shared chain tip: advances with wall time (one block per BLOCK_SECONDS) and on demand."""

    def __init__(self, seed: int, block_seconds: float = BLOCK_SECONDS):
        self.base = BASE_HEIGHT + _rng(seed, "chain").randrange(0, 50_000)
        self.block_seconds = block_seconds
        self.started = time.monotonic()
        self.extra = 0

    def height(self) -> int:
        return self.base + self.extra + int((time.monotonic() - self.started) / self.block_seconds)

    def advance(self, blocks: int) -> None:
        self.extra += blocks


@dataclass
class NodeIdentity:
    """What never changes about a simulated node."""

    index: int
    ip: str
    api_port: int
    tier: str
    new_collateral: bool
    version: str
    owner: str
    txhash: str
    payment_address: str
    pubkey: str
    added_height: int
    uptime_offset_s: int
    geo: tuple
    cores: int
    ram_mb: int
    ssd_gb: int
    eps: float
    download: float
    upload: float
    ping: float
    arcane: bool
    peers_out: list = field(default_factory=list)
    peers_in: list = field(default_factory=list)

    @property
    def location(self) -> str:
        return self.ip if self.api_port == 16127 else f"{self.ip}:{self.api_port}"

    @property
    def collateral_amount(self) -> int:
        weights = TIERS[self.tier]
        return weights[1] if self.new_collateral else weights[2]

    @property
    def node_tier(self) -> str:
        return self.tier.lower() + ("_new" if self.new_collateral else "")


def make_identity(seed: int, index: int, count: int, chain_base: int) -> NodeIdentity:
    rng = _rng(seed, "node", index)
    tier = rng.choices(list(TIERS), weights=[t[0] for t in TIERS.values()])[0]
    _, _, _, cores, ram, ssd, eps = TIERS[tier]
    # UPnP nodes share one public IP on different API ports.
    upnp = rng.random() < 0.15
    ip = f"10.{(index >> 16) & 255}.{(index >> 8) & 255}.{index & 255}"
    api_port = rng.choice((16137, 16147, 16157)) if upnp else 16127
    owners = keys.owner_zelids()
    identity = NodeIdentity(
        index=index, ip=ip, api_port=api_port, tier=tier,
        new_collateral=rng.random() < 0.8,
        version=rng.choice(FLUX_VERSIONS),
        owner=owners[index % len(owners)] if rng.random() < 0.9 else rng.choice(owners),
        txhash=hex_id(seed, "tx", index),
        payment_address="t1" + _base58(hex_id(seed, "pay", index), 33),
        pubkey="02" + hex_id(seed, "pub", index),
        added_height=chain_base - rng.randrange(1_000, 400_000),
        uptime_offset_s=rng.randrange(3_600, 30 * 86_400),
        geo=rng.choice(GEO),
        cores=cores + rng.choice((0, 0, 2)), ram_mb=ram + rng.choice((0, 0, 4000)),
        ssd_gb=ssd + rng.choice((0, 40, 120)), eps=round(eps * rng.uniform(1.0, 1.6), 2),
        download=round(rng.uniform(200, 900), 2), upload=round(rng.uniform(100, 800), 2),
        ping=round(rng.uniform(2, 40), 2), arcane=rng.random() < 0.4,
    )
    if count > 1:
        others = [i for i in rng.sample(range(count), min(count, 20)) if i != index]
        identity.peers_out = others[: min(len(others), rng.randrange(8, 14))]
        identity.peers_in = others[len(identity.peers_out):][:rng.randrange(4, 8)]
    return identity


def _base58(hex_text: str, length: int) -> str:
    alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
    number = int(hex_text, 16)
    out = ""
    while len(out) < length:
        number, rem = divmod(number, 58)
        out += alphabet[rem]
    return out


@dataclass
class CatalogueApp:
    """A globally registered app and the nodes that run an instance of it."""

    spec: dict
    nodes: list
    seed: int = 0
    _messages: list | None = None

    @property
    def name(self) -> str:
        return self.spec["name"]

    def messages(self) -> list[dict]:
        """The app's permanent messages, oldest first (FluxOS storeAppPermanentMessage shape)."""
        if self._messages is None:
            self._messages = make_messages(self.seed, self.spec)
        return self._messages


def _message(kind: str, spec: dict, hash_: str, height: int, rng) -> dict:
    return {"type": kind, "version": 1, "appSpecifications": spec, "hash": hash_,
            "timestamp": 1_600_000_000_000 + height * BLOCK_SECONDS * 1000 + rng.randrange(0, 30_000),
            "signature": _b64(hex_id("sig", hash_, length=130)),
            "txid": hex_id("txid", hash_), "height": height,
            "valueSat": rng.randrange(1, 400) * 10_000_000}


def _b64(hex_text: str) -> str:
    return base64.b64encode(bytes.fromhex(hex_text)).decode()


def make_messages(seed: int, current: dict) -> list[dict]:
    """A registration and 0–3 updates; the last carries the current spec, its hash and height,
    earlier ones differ in cpu, instances, repotag or expire."""
    rng = _rng(seed, "messages", current["name"])
    spec = {k: v for k, v in current.items() if k not in ("hash", "height")}
    updates = rng.randrange(0, 4)
    height = current["height"]
    history = [(spec, current["hash"], height)]
    for step in range(updates):
        older = json_copy(history[-1][0])
        field_name = rng.choice(("cpu", "instances", "repotag", "expire"))
        component = older["compose"][0]
        # each change moves away from the current spec, so no older message equals it
        if field_name == "cpu":
            component["cpu"] = round(component["cpu"] + 0.5, 1)
        elif field_name == "instances":
            older["instances"] += rng.choice((1, 2))
        elif field_name == "repotag":
            image, _, tag = component["repotag"].rpartition(":")
            component["repotag"] = f"{image}:{tag}-old{step}" if image else f"{tag}:old{step}"
        else:
            older["expire"] = rng.choice([e for e in EXPIRE_CHOICES
                                          if e not in (older.get("expire"), current.get("expire"))])
        height -= rng.randrange(500, 20_000)
        history.append((older, hex_id(seed, "msghash", current["name"], step), height))
    history.reverse()
    return [_message("fluxappregister" if position == 0 else "fluxappupdate", spec_, hash_, h, rng)
            for position, (spec_, hash_, h) in enumerate(history)]


def json_copy(value):
    return json.loads(json.dumps(value))


# 1 week to 1 year of post-PON blocks (FluxOS allows up to 1,056,000), so a calendar has spread.
EXPIRE_CHOICES = (22000, 44000, 88000, 132000, 264000, 528000, 1056000)
WEEK_BLOCKS = 7 * 24 * 3600 // BLOCK_SECONDS


def varied_expiry(seed: int, number: int, name: str, chain_base: int) -> tuple[int, int]:
    """(expire, height) with expiry = height + expire (post-PON): every 7th app expires within a
    week of chain_base, app number 2 has already expired, the rest later."""
    rng = _rng(seed, "expiry", name)
    expire = rng.choice(EXPIRE_CHOICES)
    if number == 2:
        remaining = -rng.randrange(10, 500)
    elif number % 7 == 5:
        remaining = rng.randrange(200, WEEK_BLOCKS)
    else:
        remaining = rng.randrange(WEEK_BLOCKS, expire - 100)
    return expire, chain_base + remaining - expire


def make_catalogue(seed: int, count: int, chain_base: int, *, apps: int | None = None,
                   instances: int | None = None, vary_expiry: bool = False) -> dict[str, CatalogueApp]:
    """Apps shared across nodes as instances (about one app per three nodes, 1–5 instances).

    `apps` fixes the number of apps, `instances` the instance count of every app (capped at the
    node count); by default both follow the seed as before. `vary_expiry` gives the apps varied
    `expire` and heights (see varied_expiry) instead of 88000 blocks each."""
    rng = _rng(seed, "catalogue")
    owners = keys.owner_zelids()
    catalogue: dict[str, CatalogueApp] = {}
    total = max(3, count // 3) if apps is None else max(0, apps)
    for number in range(total):
        name = f"{APP_WORDS[number % len(APP_WORDS)]}{number}"
        components = COMPONENT_SETS[rng.randrange(len(COMPONENT_SETS))]
        drawn = rng.randrange(1, 6)
        wanted = min(count, drawn if instances is None else max(1, instances))
        base_port = 31000 + number * 8
        compose = []
        for position, (cname, repotag, container_port) in enumerate(components):
            compose.append({
                "name": cname, "description": f"{cname} of {name}", "repotag": repotag,
                "ports": [base_port + position], "domains": [""], "environmentParameters": [],
                "commands": [], "containerPorts": [container_port], "containerData": "/data",
                "cpu": rng.choice((0.5, 1, 2)), "ram": rng.choice((500, 1000, 2000)),
                "hdd": rng.choice((5, 10, 20)), "repoauth": "",
            })
        spec = {
            "version": 8, "name": name, "description": f"Simulated app {name}",
            "owner": owners[number % len(owners)], "compose": compose, "instances": wanted,
            "contacts": [], "geolocation": [], "expire": 88000, "nodes": [], "staticip": False,
            "enterprise": "",
        }
        spec["hash"] = hex_id(seed, "apphash", name)
        spec["height"] = chain_base - rng.randrange(100, 80_000)
        if vary_expiry:
            spec["expire"], spec["height"] = varied_expiry(seed, number, name, chain_base)
        catalogue[name] = CatalogueApp(spec=spec, nodes=sorted(rng.sample(range(count), wanted)),
                                       seed=seed)
    return catalogue
