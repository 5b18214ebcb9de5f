"""The simulated fleet's HTTP server: one aiohttp loop serving every node under `/n/<i>/…`.

One process and one asyncio loop serve hundreds to thousands of nodes so that a bench measures
the client, not the simulator. Routing is a dict lookup on the first two path segments of the raw
path (segments are URL-decoded one by one, so `%2F` stays inside a parameter as Express does).

Per node it also reproduces FluxOS's apicache (replies cached by URL whatever the caller, bypassed
by `x-apicache-bypass` / `x-apicache-force-fetch`) and the injected faults:
down (connection reset), hang, slow, HTTP 500, malformed JSON, huge (a 300 MB answer), drip (one
byte every 2 s, in the body or the headers), garbage (numbers no column holds), DOS, stopped
confirming, behind. Replies are compressed like FluxOS's (fluxnode_http).
Admin endpoints under `/_sim/` drive faults, the chain and app instances (`POST
/_sim/apps/<name>/instances/<i> {"state": "stopped"|"running"}`) from outside the process.
`POST /_sim/nodes/<i>/volume-archive {"app", "component", "path"}` makes a tar.gz on disk a
component's appdata (fluxnode_files.set_volume_archive), for a benchmark's big archive.
Payments: `POST /_sim/payments {"hash": …}` puts a paid temporary message in force (fluxnode_payments).
`/loc/<ip[:port]>/…` serves the node at that location exactly as `/n/<i>/…` does.
"""

from __future__ import annotations

import asyncio
import bisect
import inspect
import json
import logging
import socket
import struct
import time
from urllib.parse import parse_qsl, unquote

from aiohttp import web

from tests.sim import fluxnode_admin as admin
from tests.sim import fluxnode_exec as execs
from tests.sim import fluxnode_explorer as explorer
from tests.sim import fluxnode_faults as faults
from tests.sim import fluxnode_files as files
from tests.sim import fluxnode_lifecycle as lifecycle
from tests.sim import fluxnode_payments as payments
from tests.sim import fluxnode_register as register
from tests.sim import fluxnode_routes as r
from tests.sim import fluxnode_testinstall as testinstall
from tests.sim.fluxnode_http import finish
from tests.sim.fluxnode_node import SimNode
from tests.sim.fluxnode_world import TEAM_IDS, Chain, make_catalogue, make_identity

log = logging.getLogger("fluxnode-sim")

JSON_TYPE = "application/json; charset=utf-8"

# (first segment, second segment) -> (handler, apicache TTL seconds or 0), reference §3
ROUTES = {
    ("flux", "version"): (r.flux_version, 30), ("flux", "info"): (r.flux_info, 60),
    ("flux", "isarcaneos"): (r.flux_isarcaneos, 86400), ("flux", "nodetier"): (r.flux_nodetier, 30),
    ("flux", "uptime"): (r.flux_uptime, 30), ("flux", "id"): (r.flux_id, 30),
    ("flux", "zelid"): (r.flux_id, 30), ("flux", "fluxids"): (r.flux_fluxids, 30),
    ("flux", "ip"): (r.flux_ip, 30), ("flux", "apiport"): (r.flux_apiport, 86400),
    ("flux", "dosstate"): (r.flux_dosstate, 30), ("flux", "geolocation"): (r.flux_geolocation, 30),
    ("flux", "connectedpeers"): (r.flux_connectedpeers, 30),
    ("flux", "incomingconnections"): (r.flux_incomingconnections, 30),
    ("flux", "checkcommunication"): (r.flux_checkcommunication, 0),
    ("benchmark", "getbenchmarks"): (r.benchmark_getbenchmarks, 30),
    ("benchmark", "getstatus"): (r.benchmark_getstatus, 30),
    ("benchmark", "getinfo"): (r.benchmark_getinfo, 30),
    ("daemon", "getbenchmarks"): (r.benchmark_getbenchmarks, 30),
    ("daemon", "getbenchstatus"): (r.benchmark_getstatus, 30),
    ("daemon", "getfluxnodestatus"): (r.daemon_getfluxnodestatus, 60),
    ("daemon", "getzelnodestatus"): (r.daemon_getfluxnodestatus, 60),
    ("daemon", "getblockcount"): (r.daemon_getblockcount, 30),
    ("daemon", "getinfo"): (r.daemon_getinfo, 30),
    ("daemon", "getblockchaininfo"): (r.daemon_getblockchaininfo, 30),
    ("daemon", "listfluxnodes"): (r.daemon_nodelist, 30),
    ("daemon", "listzelnodes"): (r.daemon_nodelist, 30),
    ("daemon", "viewdeterministicfluxnodelist"): (r.daemon_nodelist, 30),
    ("daemon", "viewdeterministiczelnodelist"): (r.daemon_nodelist, 30),
    ("explorer", "scannedheight"): (r.explorer_scannedheight, 30),
    ("apps", "listrunningapps"): (r.apps_listrunningapps, 15),
    ("apps", "listallapps"): (r.apps_listallapps, 30),
    ("apps", "installedapps"): (r.apps_installedapps, 30),
    ("apps", "fluxusage"): (r.apps_fluxusage, 30),
    ("apps", "appsresources"): (r.apps_appsresources, 30),
    ("apps", "globalappsspecifications"): (r.apps_globalappsspecifications, 30),
    ("apps", "permanentmessages"): (r.apps_permanentmessages, 120),
    ("apps", "appspecifications"): (r.apps_appspecifications, 0),
    ("apps", "appowner"): (r.apps_appowner, 30),
    ("apps", "location"): (r.apps_location, 30), ("apps", "locations"): (r.apps_locations, 30),
    ("apps", "latestspecificationversion"): (r.apps_latestspecificationversion, 300),
    ("apps", "deploymentinformation"): (r.apps_deploymentinformation, 30),
    ("apps", "verifyappregistrationspecifications"): (register.apps_verifyregistration, 0),
    ("apps", "verifyappupdatespecifications"): (register.apps_verifyupdate, 0),
    ("apps", "calculatefiatandfluxprice"): (register.apps_calculateprice, 0),
    ("apps", "calculateprice"): (register.apps_calculateprice, 0),
    ("apps", "appregister"): (register.apps_submit, 0), ("apps", "appupdate"): (register.apps_submit, 0),
    ("apps", "temporarymessages"): (register.apps_temporarymessages, 5),
    ("apps", "testappinstall"): (testinstall.apps_testappinstall, 0),
    ("id", "loginphrase"): (r.id_loginphrase, 0), ("id", "emergencyphrase"): (r.id_emergencyphrase, 0),
    ("id", "verifylogin"): (r.id_verifylogin, 0), ("id", "checkprivilege"): (r.id_checkprivilege, 0),
    ("id", "loggedsessions"): (r.id_loggedsessions, 30),
    ("id", "logoutcurrentsession"): (r.id_logoutcurrentsession, 30),
    ("id", "logoutallsessions"): (r.id_logoutallsessions, 30),
    ("id", "logoutspecificsession"): (r.id_logoutspecificsession, 0),
    ("id", "loggedusers"): (r.id_loggedusers, 0),
    ("id", "activeloginphrases"): (r.id_activeloginphrases, 0),
    ("id", "logoutallusers"): (r.id_logoutallusers, 0),
    ("apps", "appstart"): (lifecycle.apps_lifecycle, 0), ("apps", "appstop"): (lifecycle.apps_lifecycle, 0),
    ("apps", "apprestart"): (lifecycle.apps_lifecycle, 0), ("apps", "apppause"): (lifecycle.apps_lifecycle, 0),
    ("apps", "appunpause"): (lifecycle.apps_lifecycle, 0),
    ("apps", "appremove"): (lifecycle.apps_appremove, 0), ("apps", "redeploy"): (lifecycle.apps_redeploy, 0),
    ("apps", "redeploycomponent"): (lifecycle.apps_redeploycomponent, 0),
    ("apps", "applog"): (r.apps_applog, 0), ("apps", "applogpolling"): (r.apps_applogpolling, 0),
    ("apps", "appinspect"): (r.apps_appinspect, 0), ("apps", "appstats"): (r.apps_appstats, 0),
    ("apps", "apptop"): (r.apps_apptop, 0), ("apps", "appchanges"): (r.apps_appchanges, 0),
    ("apps", "getfolderinfo"): (files.apps_getfolderinfo, 0),
    ("apps", "createfolder"): (files.apps_createfolder, 0),
    ("apps", "renameobject"): (files.apps_renameobject, 0),
    ("apps", "removeobject"): (files.apps_removeobject, 0),
    ("apps", "downloadfile"): (files.apps_downloadfile, 0),
    ("apps", "downloadfolder"): (files.apps_downloadfolder, 0),
    ("backup", "getvolumedataofcomponent"): (files.backup_getvolumedataofcomponent, 0),
    ("backup", "getremotefilesize"): (files.backup_getremotefilesize, 0),
    ("backup", "getlocalbackuplist"): (files.backup_getlocalbackuplist, 0),
    ("backup", "removebackupfile"): (files.backup_removebackupfile, 0),
    ("backup", "downloadlocalfile"): (files.backup_downloadlocalfile, 0),
    ("apps", "appendbackuptask"): (files.apps_appendbackuptask, 0),
    ("apps", "appendrestoretask"): (files.apps_appendrestoretask, 0),
    ("ioutils", "fileupload"): (files.ioutils_fileupload, 0),
    ("apps", "appexec"): (execs.apps_appexec, 0),
}
ROUTES.update(explorer.ROUTES)  # explorer, syncthing (fluxnode_explorer)
ROUTES.update(payments.ROUTES)  # deploymentinformation, with the answer a test planted
ROUTES.update(admin.ROUTES)  # node admin: restarts, log tails; daemon/benchmark answers while restarting
POST_ROUTES = {("id", "verifylogin"), ("id", "checkprivilege"), ("id", "logoutspecificsession"),
               ("apps", "verifyappregistrationspecifications"), ("apps", "verifyappupdatespecifications"),
               ("apps", "calculatefiatandfluxprice"), ("apps", "calculateprice"),
               ("apps", "appregister"), ("apps", "appupdate"), ("apps", "appendbackuptask"),
               ("apps", "appendrestoretask"), ("ioutils", "fileupload"), ("apps", "appexec")}
MALFORMED = b'{"status":"success","data":{"version":'


class Fleet:
    """All simulated nodes and the shared world; lives on the server's event loop."""

    def __init__(self, nodes: int, seed: int = 1, latency_ms: float = 0, *,
                 team_ids: tuple[str, ...] = TEAM_IDS, stream_delay_ms: float = 20,
                 logpoll_ms: float = 150, global_cmd_delay_ms: float = 20,
                 block_seconds: float = 30, apps: int | None = None,
                 instances: int | None = None, vary_expiry: bool = False):
        self.count, self.seed = nodes, seed
        self.latency_s = latency_ms / 1000
        self.team_ids = tuple(team_ids)
        self.stream_delay_s = stream_delay_ms / 1000
        self.logpoll_s = logpoll_ms / 1000
        self.global_delay_s = global_cmd_delay_ms / 1000
        self.chain = Chain(seed, block_seconds)
        self.catalogue = make_catalogue(seed, nodes, self.chain.base, apps=apps, instances=instances,
                                        vary_expiry=vary_expiry)
        self._by_lower = {name.lower(): entry for name, entry in self.catalogue.items()}
        self._node_apps: dict[int, list[str]] = {}
        for name, entry in self.catalogue.items():
            for index in entry.nodes:
                self._node_apps.setdefault(index, []).append(name)
        self._identities: dict = {}
        self._nodes: dict[int, SimNode] = {}
        self.temporary: dict[str, dict] = {}
        self.served = 0
        self.started = time.monotonic()
        self.cpu_started = time.process_time()
        self.background: set = set()

    # ------------------------------------------------------------------ world access

    def identity(self, index: int):
        ident = self._identities.get(index)
        if ident is None:
            ident = self._identities[index] = make_identity(self.seed, index, self.count, self.chain.base)
        return ident

    def node(self, index: int) -> SimNode:
        node = self._nodes.get(index)
        if node is None:
            if not 0 <= index < self.count:
                raise KeyError(index)
            node = self._nodes[index] = SimNode(self, self.identity(index))
        return node

    def node_at(self, location: str) -> SimNode | None:
        """The node whose identity.location is `ip` or `ip:port` (ip 10.a.b.c encodes the index)."""
        ip, _, port = location.partition(":")
        parts = ip.split(".")
        if len(parts) != 4 or parts[0] != "10" or not all(p.isdigit() for p in parts[1:]):
            return None
        a, b, c = (int(p) for p in parts[1:])
        if max(a, b, c) > 255:
            return None
        index = (a << 16) | (b << 8) | c
        if not 0 <= index < self.count:
            return None
        ident = self.identity(index)
        if location != ident.location and not (port == "16127" and ident.api_port == 16127):
            return None
        return self.node(index)

    def set_instance_state(self, name: str, index: int, state: str) -> dict:
        """Stop or start every container of app `name` on node `index` (admin/test helper)."""
        if state not in ("running", "stopped"):
            raise ValueError("state must be 'running' or 'stopped'")
        node = self.node(index)
        app = node.app(name)
        at = int(time.time() * 1000)
        for container in app.containers.values():
            if state == "stopped" and container.state != "stopped":
                container.stop(at)
            elif state == "running" and container.state == "stopped":
                container.start(at)
            elif state == "running" and container.state == "paused":
                container.unpause(at)
        node.cache.clear()
        return {c.name: c.state for c in app.containers.values()}

    def apps_on_node(self, index: int) -> list[str]:
        return list(self._node_apps.get(index, ()))

    def find_app(self, name: str):
        return self._by_lower.get((name or "").lower())

    def drop_location(self, name: str, index: int) -> None:
        entry = self.find_app(name)
        if entry and index in entry.nodes:
            entry.nodes.remove(index)

    def add_location(self, name: str, index: int) -> None:
        entry = self.find_app(name)
        if entry and index not in entry.nodes:
            bisect.insort(entry.nodes, index)

    def stats(self) -> dict:
        wall = time.monotonic() - self.started
        cpu = time.process_time() - self.cpu_started
        return {"nodes": self.count, "served": self.served, "wall_s": round(wall, 3),
                "cpu_s": round(cpu, 3), "cpu_share": round(cpu / wall, 4) if wall else 0.0,
                "height": self.chain.height()}

    # ------------------------------------------------------------------ global commands

    def fan_out(self, origin: SimNode, appname: str, command: str, header, param=None) -> None:
        """FluxOS's executeAppGlobalCommand: the same GET to every location, zelidauth forwarded,
        a delay apart, without waiting for or reporting results."""
        task = asyncio.get_running_loop().create_task(self._fan_out(appname, command, header, param))
        self.background.add(task)
        task.add_done_callback(self.background.discard)

    async def _fan_out(self, appname, command, header, param):
        entry = self.find_app(appname.split("_")[1] if "_" in appname else appname)
        if entry is None:
            return
        for index in list(entry.nodes):
            await asyncio.sleep(self.global_delay_s)
            target = self.node(index)
            if target.transport_fault in ("down", "hang", "http500", "malformed", "huge", "drip"):
                continue
            if not target.auth.authorize(header, "appownerabove", int(time.time() * 1000),
                                         app_owner=entry.spec["owner"]):
                continue
            try:
                if command == "appremove":
                    target.remove_app(entry.name)
                    target.reinstall_app(entry.name)
                elif command == "redeploy":
                    self.redeploy_local(target, entry.name, param == "true")
                else:
                    target.lifecycle(command, appname)
            except Exception as exc:  # one instance failing does not stop the others (as FluxOS)
                log.debug("global %s on node %s failed: %s", command, index, exc)

    def redeploy_local(self, node: SimNode, name: str, hard: bool) -> None:
        if hard:
            node.remove_app(name)
            node.reinstall_app(name)
            return
        for container in node.app(name).containers.values():
            container.restart(int(time.time() * 1000))

    @staticmethod
    def drop_connection(request) -> None:
        """Reset the TCP connection (RST, not FIN) so the client sees a connection error."""
        transport = request.transport
        if transport is None:
            return
        sock = transport.get_extra_info("socket")
        if sock is not None:
            try:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            except OSError:
                pass
        transport.abort()

    # ------------------------------------------------------------------ HTTP

    async def handle(self, request: web.BaseRequest):
        raw = request.raw_path
        path, _, query_text = raw.partition("?")
        if path.startswith("/n/"):
            head, _, rest = path[3:].partition("/")
            try:
                node = self.node(int(head))
            except (ValueError, KeyError):
                return web.Response(status=404, text=f"Cannot {request.method} {path}")
            return await self._node_request(request, node, rest, query_text, f"/n/{head}")
        if path.startswith("/loc/"):
            head, _, rest = path[5:].partition("/")
            node = self.node_at(unquote(head))
            if node is None:
                return web.Response(status=404, text=f"No simulated node at {unquote(head)}")
            return await self._node_request(request, node, rest, query_text, f"/loc/{head}")
        if path.startswith("/_sim/"):
            return await self._admin(request, path[6:])
        return web.Response(status=404, text=f"Cannot {request.method} {path}")

    async def _node_request(self, request, node: SimNode, rest: str, query_text: str,
                            prefix: str):
        self.served += 1
        node.served += 1
        headers = request.headers
        node.requests.append((request.method, "/" + rest, headers.get("Content-Type"),
                              headers.get("zelidauth"), headers.get("x-apicache-bypass")))
        fault = node.transport_fault
        if fault is not None:
            if fault == "down":
                self.drop_connection(request)
                return web.Response(status=204)  # never reaches the client
            if fault == "hang":
                try:
                    await asyncio.wait_for(node.release.wait(), r.HANG_FOREVER_S)
                except TimeoutError:
                    pass
                self.drop_connection(request)
                return web.Response(status=204)
            if fault == "http500":
                return web.Response(status=500, text="Internal Server Error")
            if fault == "malformed":
                return web.Response(body=MALFORMED, content_type="application/json")
            if fault == "slow":
                await asyncio.sleep(node.slow_ms / 1000)
            if fault in faults.BODY_FAULTS:
                return await faults.serve(fault, request, node)
        if self.latency_s:
            await asyncio.sleep(self.latency_s)

        segments = [unquote(s) for s in rest.split("/")]
        while len(segments) > 2 and segments[-1] == "":
            segments.pop()
        if segments and segments[0] == "zelid":
            segments[0] = "id"
        key = (segments[0], segments[1]) if len(segments) > 1 else None
        route = ROUTES.get(key)
        expected = "POST" if key in POST_ROUTES else "GET"
        if route is None or request.method != expected:
            return web.Response(status=404, text=f"Cannot {request.method} /{rest}",
                                content_type="text/html")
        handler, ttl = route

        cache_key = None
        if ttl and not (headers.get("x-apicache-bypass") == "true"
                        or headers.get("x-apicache-force-fetch") == "true"):
            cache_key = request.raw_path[len(prefix):]
            hit = node.cache.get(cache_key)
            if hit is not None and hit[0] > time.monotonic():
                return await finish(request, web.Response(body=hit[1], content_type="application/json",
                                                          charset="utf-8"))

        query = dict(parse_qsl(query_text, keep_blank_values=True)) if query_text else {}
        ctx = r.Ctx(self, node, request, request.method, segments, query)
        try:
            result = handler(ctx)
            if inspect.isawaitable(result):
                result = await result
        except Exception as exc:  # FluxOS handlers catch and answer an error envelope
            log.exception("handler failed")
            result = r.err(str(exc), type(exc).__name__)
        if result is None:
            return web.Response(status=204)
        if isinstance(result, web.StreamResponse):
            return await finish(request, result)
        body = r.dumps(result)
        if cache_key is not None:
            node.cache[cache_key] = (time.monotonic() + ttl, body)
        return await finish(request, web.Response(body=body, content_type="application/json",
                                                  charset="utf-8"))

    # ------------------------------------------------------------------ admin API

    async def _admin(self, request, path: str):
        parts = [p for p in path.split("/") if p]
        if parts[:1] == ["payments"]:  # a simulated payment (fluxnode_payments)
            answer = await payments.admin(self, request, parts, _json)
            if answer is not None:
                return answer
        if parts == ["stats"]:
            return web.json_response(self.stats())
        if parts == ["urls"]:
            base = f"http://{request.host}"
            return web.Response(text="\n".join(f"{base}/n/{i}" for i in range(self.count)) + "\n")
        if parts == ["chain", "advance"] and request.method == "POST":
            body = await _json(request)
            self.chain.advance(int(body.get("blocks", 1)))
            for node in self._nodes.values():
                node.cache.clear()
            return web.json_response({"height": self.chain.height()})
        if len(parts) >= 3 and parts[0] == "nodes":
            try:
                node = self.node(int(parts[1]))
            except (ValueError, KeyError):
                return web.json_response({"error": "no such node"}, status=404)
            if parts[2] == "fault":
                if request.method == "DELETE":
                    node.clear_faults()
                else:
                    body = await _json(request)
                    kind = body.pop("kind", None)
                    try:
                        if kind in faults.TRANSFER_FAULTS:
                            faults.set_transfer_fault(node, kind, **body)
                        else:
                            node.set_fault(str(kind), **body)
                    except (ValueError, TypeError) as exc:
                        return web.json_response({"error": str(exc)}, status=400)
                return web.json_response({"node": node.index, "faults": node.faults})
            if parts[2] == "state":
                return web.json_response(node_summary(node))
            if parts[2] == "volume-archive" and request.method == "POST":
                body = await _json(request)
                try:
                    mount = files.set_volume_archive(node, str(body.get("app")),
                                                     str(body.get("component")), str(body.get("path")))
                except ValueError as exc:
                    return web.json_response({"error": str(exc)}, status=400)
                except Exception as exc:  # DockerError: app not on that node
                    return web.json_response({"error": str(exc)}, status=404)
                return web.json_response({"mount": mount})
        if (len(parts) == 4 and parts[0] == "apps" and parts[2] == "instances"
                and request.method == "POST"):
            body = await _json(request)
            try:
                states = self.set_instance_state(unquote(parts[1]), int(parts[3]), str(body.get("state")))
            except (ValueError, KeyError) as exc:
                return web.json_response({"error": f"bad request: {exc}"}, status=400)
            except Exception as exc:  # DockerError: app not on that node
                return web.json_response({"error": str(exc)}, status=404)
            return web.json_response({"app": unquote(parts[1]), "node": int(parts[3]), "containers": states})
        return web.json_response({"error": "unknown admin path"}, status=404)


async def _json(request) -> dict:
    try:
        body = json.loads(await request.read() or b"{}")
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def node_summary(node: SimNode) -> dict:
    return {"index": node.index, "ip": node.id.location, "tier": node.id.tier,
            "version": node.id.version, "owner": node.id.owner, "faults": node.faults,
            "height": node.height(), "served": node.served,
            "apps": {name: {c.name: c.state for c in app.containers.values()}
                     for name, app in node.apps.items()}}


async def start_server(fleet: Fleet, host: str = "127.0.0.1", port: int = 0, ssl_context=None):
    """Start serving (HTTPS when given an ssl_context); returns (runner, bound port)."""
    server = web.Server(fleet.handle, access_log=None)
    runner = web.ServerRunner(server, shutdown_timeout=1.0, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port, backlog=4096, reuse_address=True, ssl_context=ssl_context)
    await site.start()
    bound = site._server.sockets[0].getsockname()[1]
    return runner, bound
