"""FluxOS routes of a simulated node (reference §1, §3, §7, §8, §9), in FluxOS's shapes.

Handlers take a Ctx and return either a Python value (sent as JSON) or, for streamed replies, an
aiohttp response they wrote themselves. Shapes follow FluxOS: the envelope with HTTP 200 errors,
`privilage`, the 401 envelope, `applogpolling`'s own object, concatenated JSON objects for removal
and redeploys, plain-text lines for backup tasks. Where the reference gives no exact text (progress
lines of removals/redeploys, volume errors) the sim uses plain descriptive ones.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from urllib.parse import parse_qsl

from aiohttp import web

from fluxpanel.fluxos import identity
from tests.sim.fluxnode_apps import DockerError, docker_time, now_ms, parse_since_ms

UNAUTHORIZED = {"status": "error",
                "data": {"code": 401, "name": "Unauthorized", "message": "Unauthorized. Access denied."}}
HANG_FOREVER_S = 3600


def ok(data):
    return {"status": "success", "data": data}


def msg(message: str):
    """messageHelper.createSuccessMessage with code/name undefined (absent in JSON)."""
    return {"status": "success", "data": {"message": message}}


def err(message: str, name=None, code=None):
    data = {}
    if code is not None:
        data["code"] = code
    if name is not None:
        data["name"] = name
    data["message"] = message or "Unknown error"
    return {"status": "error", "data": data}


def dumps(value) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


class Ctx:
    __slots__ = ("fleet", "node", "request", "method", "segments", "query", "now", "_body")

    def __init__(self, fleet, node, request, method, segments, query):
        self.fleet, self.node, self.request = fleet, node, request
        self.method, self.segments, self.query = method, segments, query
        self.now = now_ms()
        self._body = None

    def param(self, position: int, name: str, default=None):
        """`req.params.x || req.query.x`: path parameter after the two route segments, else query."""
        index = position + 2
        if index < len(self.segments) and self.segments[index] != "":
            return self.segments[index]
        return self.query.get(name, default)

    @property
    def zelidauth(self):
        return self.request.headers.get("zelidauth")

    def allowed(self, privilege: str, appname: str | None = None) -> bool:
        owner = None
        if appname is not None:
            owner = self.node.app_owner(appname)
        return self.node.auth.authorize(self.zelidauth, privilege, self.now, app_owner=owner)

    async def raw_body(self) -> str:
        if self._body is None:
            self._body = (await self.request.read()).decode("utf-8", "replace")
        return self._body

    async def stream_object(self) -> dict:
        """serviceHelper.ensureObject on a raw-stream body: JSON first, querystring fallback.

        FluxOS's express.json() eats application/json bodies before these handlers read the
        stream, so the request then never gets an answer: the sim does the same.
        """
        if self.request.content_type == "application/json":
            await asyncio.sleep(HANG_FOREVER_S)
        return ensure_object(await self.raw_body())

    async def json_body(self) -> dict:
        """`req.body` handlers: parsed only when sent as application/json, else {}."""
        if self.request.content_type != "application/json":
            return {}
        try:
            body = json.loads(await self.raw_body())
        except ValueError:
            return {}
        return body if isinstance(body, dict) else {}


def ensure_object(text):
    value = text
    for _ in range(2):  # a JSON-encoded JSON string is accepted too
        if isinstance(value, dict):
            return value
        if not isinstance(value, str):
            return {}
        try:
            value = json.loads(value)
        except ValueError:
            return dict(parse_qsl(value, keep_blank_values=True))
    return value if isinstance(value, dict) else {}


def ensure_bool(value):
    if value in ("true", "1", 1, True):
        return True
    if value in ("false", "0", 0, False):
        return False
    return None


# --------------------------------------------------------------------------- node / health


def flux_version(ctx):
    return ok(ctx.node.id.version)


def flux_info(ctx):
    return ok(ctx.node.flux_info())


def flux_isarcaneos(ctx):
    return ok(ctx.node.id.arcane)


def flux_nodetier(ctx):
    return ok(ctx.node.id.node_tier)


def flux_uptime(ctx):
    return ok(ctx.node.reported_uptime())


def flux_id(ctx):
    return ok(ctx.node.id.owner)


def flux_fluxids(ctx):
    team = ctx.fleet.team_ids
    return ok({"fluxTeamFluxID": team[0], "fluxSupportTeamFluxID": team[1 % len(team)]})


def flux_ip(ctx):
    return ok(ctx.node.id.location)


def flux_apiport(ctx):
    return ok(str(ctx.node.id.api_port))


def flux_dosstate(ctx):
    return ok(ctx.node.dos_state())


def flux_geolocation(ctx):
    return ok(ctx.node.geolocation())


def flux_connectedpeers(ctx):
    return ok(ctx.node.peers(ctx.node.id.peers_out))


def flux_incomingconnections(ctx):
    return ok(ctx.node.peers(ctx.node.id.peers_in))


def flux_checkcommunication(ctx):
    out, inc = len(ctx.node.id.peers_out), len(ctx.node.id.peers_in)
    if out < 8:
        return err(f"Not enough outgoing connections established to Flux network. Minimum required 8 found {out}")
    if inc < 4:
        return err(f"Not enough incoming connections established to Flux network. Minimum required 4 found {inc}")
    return msg("Communication to Flux network is properly established")


def benchmark_getbenchmarks(ctx):
    return ok(ctx.node.benchmarks())


def benchmark_getstatus(ctx):
    return ok(ctx.node.bench_status())


def benchmark_getinfo(ctx):
    return ok({"version": ctx.node.benchmarks()["bench_version"], "rpcport": 16224})


def daemon_getfluxnodestatus(ctx):
    return ok(ctx.node.fluxnode_status())


def daemon_getblockcount(ctx):
    return ok(ctx.node.reported_height())


def daemon_getinfo(ctx):
    return ok(ctx.node.daemon_info())


def daemon_getblockchaininfo(ctx):
    height = ctx.node.height()
    return ok({"chain": "main", "blocks": height, "headers": ctx.fleet.chain.height(),
               "bestblockhash": hashlib.sha256(str(height).encode()).hexdigest(),
               "difficulty": 48_213.5, "verificationprogress": 1, "pruned": False})


def daemon_nodelist(ctx):
    """viewdeterministicfluxnodelist: fluxd's filter is a substring of txhash, IP or payee."""
    needle = ctx.param(0, "filter") or ""
    listing = []
    for index in range(ctx.fleet.count):
        entry = ctx.fleet.node(index).fluxnode_status()
        if needle and not any(needle in entry[key] for key in ("txhash", "ip", "payment_address")):
            continue
        listing.append(entry)
    return ok(listing)


def explorer_scannedheight(ctx):
    return ok({"generalScannedHeight": ctx.node.height()})


# --------------------------------------------------------------------------- apps: queries


def apps_listrunningapps(ctx):
    return ok(ctx.node.running_apps())


def apps_listallapps(ctx):
    return ok(ctx.node.all_containers())


def apps_installedapps(ctx):
    return ok(ctx.node.installed_specs(ctx.param(0, "appname")))


def apps_fluxusage(ctx):
    return ok(ctx.node.flux_usage())


def apps_appsresources(ctx):
    return ok(ctx.node.apps_resources())


def apps_globalappsspecifications(ctx):
    wanted = {"hash": ctx.param(0, "hash"), "owner": ctx.param(1, "owner"),
              "name": ctx.param(2, "appname")}
    specs = [entry.spec for entry in ctx.fleet.catalogue.values()
             if all(value in (None, "") or entry.spec.get(key) == value
                    for key, value in wanted.items())]
    return ok(specs)


def apps_permanentmessages(ctx):
    """messageVerifier.getAppsPermanentMessages: exact (case-sensitive) hash / owner / appname."""
    hash_, owner, name = ctx.param(0, "hash"), ctx.param(1, "owner"), ctx.param(2, "appname")
    out = []
    for entry in ctx.fleet.catalogue.values():
        if owner and entry.spec["owner"] != owner or name and entry.spec["name"] != name:
            continue
        out.extend(m for m in entry.messages() if not hash_ or m["hash"] == hash_)
    return ok(out)


def apps_appspecifications(ctx):
    name = ctx.param(0, "appname")
    if not name:
        return err("No Application Name specified")
    entry = ctx.fleet.find_app(name)
    if entry is None:
        local = ctx.node.installed_specs(name)
        if not local:
            return err("Application not found")
        return ok(local[0])
    return ok(entry.spec)


def apps_appowner(ctx):
    name = ctx.param(0, "appname")
    entry = ctx.fleet.find_app(name or "")
    return ok(entry.spec["owner"] if entry else None)


def _location_records(ctx, entry):
    at = ctx.now
    return [{"name": entry.name, "hash": entry.spec["hash"],
             "ip": ctx.fleet.identity(index).location, "broadcastedAt": _iso(at - 600_000),
             "expireAt": _iso(at + 7_200_000), "runningSince": _iso(at - 86_400_000),
             "osUptime": 864_000, "staticIp": False} for index in entry.nodes]


def apps_location(ctx):
    entry = ctx.fleet.find_app(ctx.param(0, "appname") or "")
    return ok(_location_records(ctx, entry) if entry else [])


def apps_locations(ctx):
    return ok([record for entry in ctx.fleet.catalogue.values()
               for record in _location_records(ctx, entry)])


def apps_latestspecificationversion(ctx):
    return ok(8)


def apps_deploymentinformation(ctx):
    return ok({
        "price": [{"height": -1, "cpu": 3, "ram": 1, "hdd": 0.5, "minPrice": 1, "port": 2,
                   "scope": 6, "staticip": 3},
                  {"height": 1597156, "cpu": 0.03, "ram": 0.01, "hdd": 0.004, "minPrice": 0.01,
                   "port": 0.4, "scope": 0.8, "staticip": 0.4}],
        "appSpecsEnforcementHeights": {"1": 0, "2": 0, "3": 983000, "4": 1004000, "5": 1142000,
                                       "6": 1300000, "7": 1420000, "8": 1932380},
        "address": "t3NryfAQLGeFs9jEoeqsxmBN2QLRaRKFLUX", "portMin": 1, "portMax": 65535,
        "enterprisePorts": ["0-1023", 8080, 8081, 8443, 6667],
        "bannedPorts": ["16100-16299", "26100-26299", "30000-30099", 8384, 27017, 22, 23, 25,
                        3389, 5900, 5800, 161, 512, 513, 5901, 3388, 4444, 123, 53],
        "maxImageSize": 5000000000, "minimumInstances": 3, "maximumInstances": 100,
        "blocksLasting": 22000, "minBlocksAllowance": 100, "maxBlocksAllowance": 1056000,
        "blocksAllowanceInterval": 1000,
    })


# --------------------------------------------------------------------------- identity


def id_loginphrase(ctx):
    if ctx.node.dos:
        state, message = ctx.node.dos
        return err(message, "DOS", state)
    return ok(ctx.node.auth.issue_phrase(ctx.now))


def id_emergencyphrase(ctx):
    return ok(ctx.node.auth.issue_phrase(ctx.now))


async def id_verifylogin(ctx):
    body = await ctx.stream_object()
    try:
        data = ctx.node.auth.verify_login(body, ctx.now)
    except identity.LoginError as exc:
        return err(str(exc))
    return ok(data)


async def id_checkprivilege(ctx):
    body = await ctx.stream_object()
    for key, text in (("zelid", "No user Flux ID specificed"),
                      ("loginPhrase", "No user loginPhrase specificed"),
                      ("signature", "No user Flux ID signature specificed")):
        if not body.get(key):
            return err(text)
    role = ctx.node.auth.check_privilege_body(body, ctx.now)
    return err("none") if role == "none" else msg(role)


def _caller(ctx):
    return ctx.node.auth.credentials(ctx.zelidauth)


def id_loggedsessions(ctx):
    if not ctx.allowed("user"):
        return UNAUTHORIZED
    return ok(ctx.node.auth.sessions_of(_caller(ctx)[0], ctx.now))


def id_logoutcurrentsession(ctx):
    if not ctx.allowed("user"):
        return UNAUTHORIZED
    zelid, _, phrase = _caller(ctx)
    ctx.node.auth.logout(zelid, phrase)
    return msg("Successfully logged out")


def id_logoutallsessions(ctx):
    if not ctx.allowed("user"):
        return UNAUTHORIZED
    ctx.node.auth.logout_all(_caller(ctx)[0])
    return msg("Successfully logged out all sessions")


async def id_logoutspecificsession(ctx):
    body = await ctx.stream_object()
    if not ctx.allowed("user"):
        return UNAUTHORIZED
    zelid = _caller(ctx)[0]
    if not ctx.node.auth.logout(zelid, body.get("loginPhrase", "")):
        # FluxOS writes this warning and then the success message into the same reply.
        raw = dumps({"status": "warning", "data": {"message": "Specified user was already logged out"}})
        raw += dumps(msg("Session successfully logged out"))
        return web.Response(body=raw, content_type="application/json")
    return msg("Session successfully logged out")


def id_loggedusers(ctx):
    if not ctx.allowed("admin"):
        return UNAUTHORIZED
    return ok([{"zelid": s["zelid"], "loginPhrase": s["loginPhrase"], "createdAt": _iso(s["createdAt"]),
                "expireAt": _iso(s["expireAt"])} for s in ctx.node.auth.sessions.values()])


def id_activeloginphrases(ctx):
    if not ctx.allowed("admin"):
        return UNAUTHORIZED
    return ok([{"loginPhrase": p, "createdAt": _iso(t), "expireAt": _iso(t + 900_000)}
               for p, t in ctx.node.auth.phrases.items()])


def id_logoutallusers(ctx):
    if not ctx.allowed("admin"):
        return UNAUTHORIZED
    ctx.node.auth.sessions.clear()
    return msg("Successfully logged out all users")


def _iso(ms):
    from tests.sim.fluxnode_apps import iso_time

    return iso_time(ms)


# --------------------------------------------------------------------------- observability


def _observed(ctx, privilege="appownerabove"):
    appname = ctx.param(0, "appname")
    if not appname:
        return None, err("No Flux App specified")
    if not ctx.allowed(privilege, appname):
        return None, UNAUTHORIZED
    try:
        return ctx.node.container_for(appname), None
    except DockerError as exc:
        return None, err(str(exc))


def apps_applog(ctx):
    container, failure = _observed(ctx)
    if failure:
        return failure
    lines = ctx.param(1, "lines", "all")
    entries = container.log_lines()
    if lines != "all":
        try:
            entries = entries[-int(lines):] if int(lines) > 0 else []
        except ValueError:
            pass
    return ok("".join(f"{text}\n" for _, text in entries))


async def apps_applogpolling(ctx):
    container, failure = _observed(ctx)
    if failure:
        return failure
    lines = ctx.param(1, "lines") or ctx.query.get("lineCount") or "all"
    since = ctx.param(2, "since", "") or ""
    count = "all" if lines == "all" else (_int(lines) or 100)
    await asyncio.sleep(ctx.fleet.logpoll_s)  # FluxOS collects for ~1.5 s
    entries = container.log_lines(parse_since_ms(since) if since else None)
    if count != "all":
        entries = entries[-count:]
    logs = [f"{docker_time(ms)} {text}" for ms, text in entries]
    return {"logs": logs, "lineCount": count, "logCount": len(logs), "sinceTimestamp": since,
            "truncated": False if count == "all" else len(logs) >= count, "status": "success"}


def _int(text):
    try:
        return int(text)
    except (TypeError, ValueError):
        return None


def apps_appinspect(ctx):
    container, failure = _observed(ctx)
    return failure or ok(container.inspect())


def apps_appstats(ctx):
    container, failure = _observed(ctx)
    return failure or ok(container.stats(ctx.now))


def apps_apptop(ctx):
    container, failure = _observed(ctx)
    if failure:
        return failure
    try:
        return ok(container.top())
    except DockerError as exc:
        return err(str(exc))


def apps_appchanges(ctx):
    container, failure = _observed(ctx)
    return failure or ok(container.changes())
