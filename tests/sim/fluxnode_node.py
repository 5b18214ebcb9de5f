"""One simulated FluxOS node: its identity, apps, auth state, faults, and the read-outs FluxOS
builds from them (flux/info, getfluxnodestatus, benchmarks, …) in FluxOS's shapes (§9)."""

from __future__ import annotations

import asyncio
import time
from collections import deque

from tests.sim.fluxnode_apps import DockerError, InstalledApp, now_ms
from tests.sim.fluxnode_auth import NodeAuth
from tests.sim.fluxnode_explorer import BENCH_VERSION, failing_bench_status, failing_benchmarks
from tests.sim.fluxnode_world import (
    CONFIRM_INTERVAL,
    EXPIRE_AFTER,
    LATEST_VERSION,
    NodeIdentity,
)

TRANSPORT_FAULTS = ("down", "hang", "slow", "http500", "malformed", "huge", "drip")
DATA_FAULTS = ("dos", "unconfirmed", "behind", "garbage")
# Faults of fluxnode_explorer (a failing benchmark, explorer nonsense, a syncthing folder in error).
EXTRA_FAULTS = ("bench_fail", "explorer_garbage", "syncthing_error")


class SimNode:
    def __init__(self, fleet, identity: NodeIdentity):
        self.fleet = fleet
        self.id = identity
        self.index = identity.index
        self.started = time.monotonic()
        self.auth = NodeAuth(identity.owner, fleet.team_ids)
        self.apps: dict[str, InstalledApp] = {}
        for name in fleet.apps_on_node(self.index):
            self.apps[name] = InstalledApp(fleet.catalogue[name].spec, fleet.seed, self.index)
        self.cache: dict[str, tuple[float, bytes]] = {}
        self.requests: deque = deque(maxlen=200)
        self.served = 0
        # faults
        self.transport_fault: str | None = None
        self.slow_ms = 0
        self.release = asyncio.Event()  # set when a hang is cleared
        self.dos: tuple[int, str] | None = None
        self.frozen_confirm: int | None = None
        self.behind = 0
        self.fault_params: dict = {}
        self.garbage = None  # what the node reports as height and uptime ("garbage" fault)
        self.extra_faults: dict[str, dict] = {}  # EXTRA_FAULTS kind -> its parameters
        # Knobs for stream outcomes: another removal running; why the next install fails;
        # images used by containers outside the simulated apps (the removal's 409).
        self.removal_in_progress = False
        self.install_failure: str | None = None
        self.pinned_images: dict[str, str] = {}

    # ------------------------------------------------------------------ faults

    def set_fault(self, kind: str, **params) -> None:
        if kind == "clear":
            self.clear_faults()
            return
        if kind in TRANSPORT_FAULTS:
            self.transport_fault = kind
            self.slow_ms = int(params.get("latency_ms", params.get("ms", 2000))) if kind == "slow" else 0
            self.fault_params = dict(params)
            if kind in ("hang", "drip"):
                self.release = asyncio.Event()
        elif kind == "dos":
            self.dos = (int(params.get("dosState", 100)),
                        str(params.get("dosMessage", "Node is in DOS state: too many failed checks")))
        elif kind == "unconfirmed":
            self.frozen_confirm = self.last_confirmed_height(ignore_freeze=True)
        elif kind == "behind":
            self.behind = int(params.get("blocks", 50))
        elif kind == "garbage":
            self.garbage = params.get("value", 1e20)
        elif kind in EXTRA_FAULTS:
            self.extra_faults[kind] = dict(params)
        else:
            raise ValueError(f"unknown fault kind {kind!r}")
        self.cache.clear()  # a world event, not a request: make it visible at once

    def clear_faults(self) -> None:
        self.transport_fault = None
        self.slow_ms = 0
        self.fault_params = {}
        self.garbage = None
        self.release.set()
        self.dos = None
        self.frozen_confirm = None
        self.behind = 0
        self.extra_faults = {}
        self.cache.clear()

    @property
    def faults(self) -> list[str]:
        active = [self.transport_fault] if self.transport_fault else []
        if self.dos:
            active.append("dos")
        if self.frozen_confirm is not None:
            active.append("unconfirmed")
        if self.behind:
            active.append("behind")
        if self.garbage is not None:
            active.append("garbage")
        active.extend(self.extra_faults)
        return active

    # ------------------------------------------------------------------ chain view

    def height(self) -> int:
        return self.fleet.chain.height() - self.behind

    def last_confirmed_height(self, *, ignore_freeze: bool = False) -> int:
        tip = self.fleet.chain.height()
        normal = tip - (tip + self.index * 7) % CONFIRM_INTERVAL
        if self.frozen_confirm is not None and not ignore_freeze:
            return min(normal, self.frozen_confirm)
        return normal

    def node_status_word(self) -> str:
        if self.dos:
            return "DOS"
        if self.fleet.chain.height() - self.last_confirmed_height() > EXPIRE_AFTER:
            return "EXPIRED"
        return "CONFIRMED"

    def uptime(self) -> int:
        return self.id.uptime_offset_s + int(time.monotonic() - self.started)

    def reported_height(self):
        """The height the node tells (the garbage fault makes it a number no column holds)."""
        return self.height() if self.garbage is None else self.garbage

    def reported_uptime(self):
        return self.uptime() if self.garbage is None else self.garbage

    # ------------------------------------------------------------------ read-outs (FluxOS shapes)

    def fluxnode_status(self) -> dict:
        ident = self.id
        tip = self.fleet.chain.height()
        last_paid = tip - (self.index * 13) % 900 - 1
        return {
            "status": self.node_status_word(),
            "collateral": f"COutPoint({ident.txhash[:10]}, 0)",
            "txhash": ident.txhash, "outidx": 0, "ip": ident.location, "network": "ipv4",
            "added_height": ident.added_height, "confirmed_height": ident.added_height + 2,
            "last_confirmed_height": self.last_confirmed_height(), "last_paid_height": last_paid,
            "tier": ident.tier, "payment_address": ident.payment_address, "pubkey": ident.pubkey,
            "activesince": str(1_700_000_000 + ident.added_height % 10_000_000),
            "lastpaid": str(int(time.time()) - (tip - last_paid) * 30),
            "amount": f"{ident.collateral_amount:.2f}", "rank": self.index % 900,
        }

    def daemon_info(self) -> dict:
        return {"version": 9000150, "protocolversion": 170021, "walletversion": 60000,
                "blocks": self.reported_height(), "timeoffset": 0,
                "connections": len(self.id.peers_out) + len(self.id.peers_in), "proxy": "",
                "difficulty": 48_213.5, "testnet": False, "keypoololdest": 0, "keypoolsize": 0,
                "paytxfee": 0, "relayfee": 1e-06, "errors": ""}

    def benchmarks(self) -> dict:
        ident = self.id
        # fluxbench's `cores` counts threads (what FluxOS's tier check counts), real_cores cores.
        return failing_benchmarks(self, {
            "status": ident.tier, "time": 1_700_000_000 + self.index, "ipaddress": ident.location,
            "cores": ident.cores * 2, "real_cores": ident.cores, "ram": round(ident.ram_mb / 1000, 2),
            "ssd": ident.ssd_gb, "hdd": 0, "ddwrite": round(ident.eps * 0.9, 2),
            "totalstorage": ident.ssd_gb,
            "disksinfo": [{"disk": "sda", "size": ident.ssd_gb, "writespeed": round(ident.eps, 2)}],
            "eps": ident.eps, "ping": ident.ping, "download_speed": ident.download,
            "upload_speed": ident.upload, "speed_version": "2.1", "error": "",
            "bench_version": BENCH_VERSION, "flux_version": ident.version, "architecture": "amd64",
            "thunder": False, "systemsecure": ident.arcane, "speed": ident.download,
        })

    def bench_status(self) -> dict:
        return failing_bench_status(self, {"status": "online", "benchmarking": "complete", "flux": True})

    def geolocation(self) -> dict:
        cont, cont_code, country, cc, region, region_name, lat, lon, org = self.id.geo
        return {"ip": self.id.ip, "continent": cont, "continentCode": cont_code,
                "country": country, "countryCode": cc, "region": region,
                "regionName": region_name, "lat": lat, "lon": lon, "org": org,
                "static": self.index % 3 == 0, "dataCenter": True}

    def peers(self, indexes) -> list[str]:
        return [self.fleet.identity(i).location for i in indexes]

    def dos_state(self) -> dict:
        state, message = self.dos if self.dos else (0, None)
        return {"dosState": state, "dosMessage": message}

    def running_apps(self) -> list[dict]:
        at = now_ms()
        return [c.list_entry(at) for app in self.apps.values() for c in app.containers.values()
                if c.state in ("running", "paused")]

    def all_containers(self) -> list[dict]:
        at = now_ms()
        return [c.list_entry(at) for app in self.apps.values() for c in app.containers.values()]

    def installed_specs(self, name: str | None = None) -> list[dict]:
        return [app.spec for app in self.apps.values()
                if name is None or app.name.lower() == name.lower()]

    def flux_usage(self) -> dict:
        containers = [c for app in self.apps.values() for c in app.containers.values()]
        running = sum(1 for c in containers if c.state == "running")
        return {"totalApps": len(containers), "runningApps": running,
                "stoppedApps": len(containers) - running,
                "nodeSpecs": {"cpuCores": self.id.cores, "ram": self.id.ram_mb,
                              "ssdStorage": self.id.ssd_gb}}

    def apps_resources(self) -> dict:
        comps = [c.spec for app in self.apps.values() for c in app.containers.values()]
        return {"appsCpusLocked": round(sum(c["cpu"] for c in comps), 2),
                "appsRamLocked": sum(c["ram"] for c in comps),
                "appsHddLocked": sum(c["hdd"] + 12 for c in comps)}

    def flux_info(self) -> dict:
        ident = self.id
        flux = {
            "version": ident.version, "nodeJsVersion": "v20.18.1", "syncthingVersion": "v1.27.12",
            "dockerVersion": "27.3.1", "mongoDbVersion": "7.0.15", "os": "linux",
            "osVersion": "6.8.0-48-generic", "osPrettyName": "Ubuntu 24.04.1 LTS",
            "ip": ident.location, "staticIp": self.index % 3 == 0, "upnp": ident.api_port != 16127,
            "maxNumberOfIpChanges": 2, "zelid": ident.owner, "timezone": "UTC",
            "dos": self.dos_state(), "appsDos": {"dosState": 0, "dosMessage": None},
            "development": False, "explorerScannedHeigth": self.height(),
            "numberOfConnectionsOut": len(ident.peers_out),
            "numberOfConnectionsIn": len(ident.peers_in),
        }
        if ident.arcane:
            flux["arcaneVersion"] = "1.4.2"
            flux["arcaneHumanVersion"] = "ArcaneOS 1.4.2"
        daemon_info = self.daemon_info()
        return {
            "daemon": {"info": daemon_info, "zmqEnabled": False},
            "node": {"status": self.fluxnode_status()},
            "benchmark": {"info": {"version": BENCH_VERSION, "rpcport": 16224},
                          "status": self.bench_status(), "bench": self.benchmarks()},
            "flux": flux,
            "apps": {"fluxusage": self.flux_usage(), "runningapps": self.running_apps(),
                     "resources": self.apps_resources()},
            "geolocation": self.geolocation(),
            "appsHashesTotal": len(self.fleet.catalogue), "hashesPresent": len(self.fleet.catalogue),
        }

    @property
    def is_latest(self) -> bool:
        return self.id.version == LATEST_VERSION

    # ------------------------------------------------------------------ app lifecycle

    def app(self, appname: str) -> InstalledApp:
        main = appname.split("_")[1] if "_" in appname else appname
        for app in self.apps.values():
            if app.name.lower() == main.lower():
                return app
        raise DockerError("Application not found")

    def app_owner(self, appname: str) -> str | None:
        main = appname.split("_")[1] if "_" in appname else appname
        entry = self.fleet.find_app(main)
        if entry is not None:
            return entry.spec["owner"]
        local = next((a for a in self.apps.values() if a.name.lower() == main.lower()), None)
        return local.spec["owner"] if local else None

    def container_for(self, appname: str):
        """The container FluxOS would address: `component_app`, or `/flux<app>` for v1–3 names."""
        app = self.app(appname)
        if "_" in appname:
            container = app.container(appname)
            if container is not None:
                return container
        raise DockerError(f"(HTTP code 404) no such container - No such container: flux{appname}")

    def lifecycle(self, command: str, appname: str) -> str:
        """Local start/stop/restart/pause/unpause with FluxOS's reply texts."""
        at = now_ms()
        app = self.app(appname)
        verbs = {"appstart": ("start", "started"), "appstop": ("stop", "stopped"),
                 "apprestart": ("restart", "restarted"), "apppause": ("pause", "paused"),
                 "appunpause": ("unpause", "unpaused")}
        method, past = verbs[command]
        if "_" in appname:
            container = app.container(appname)
            if container is None:
                raise DockerError(f"(HTTP code 404) no such container - No such container: flux{appname}")
            getattr(container, method)(at)
            return f"Flux App {appname} successfully {past}."
        order = list(app.containers.values())
        if command in ("appstop", "apppause"):
            order.reverse()
        for container in order:
            getattr(container, method)(at)
        return f"Application {app.name} {past}"

    def image_user(self, repotag: str, except_app: str) -> str | None:
        """Id of another container on this node using the image, if any (docker's 409)."""
        if repotag in self.pinned_images:
            return self.pinned_images[repotag]
        for app in self.apps.values():
            if app.name == except_app:
                continue
            for container in app.containers.values():
                if container.spec["repotag"] == repotag:
                    return container.id
        return None

    def remove_app(self, appname: str) -> None:
        app = self.app(appname)
        del self.apps[app.name]
        self.fleet.drop_location(app.name, self.index)

    def reinstall_app(self, appname: str) -> None:
        entry = self.fleet.find_app(appname)
        if entry is not None:
            self.apps[entry.name] = InstalledApp(entry.spec, self.fleet.seed, self.index, now_ms())
            self.fleet.add_location(entry.name, self.index)
