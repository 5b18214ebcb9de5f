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
import re
from urllib.parse import parse_qsl

from aiohttp import web

from fluxpanel.fluxos import identity
from tests.sim.fluxnode_apps import DockerError, docker_time, now_ms, parse_since_ms
from tests.sim.fluxnode_auth import signature_ok
from tests.sim.fluxnode_http import NodeStream

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
    return ok({"version": "5.2.0", "rpcport": 16224})


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


# --------------------------------------------------------------------------- apps: register


SPEC_KEYS = ("version", "name", "description", "owner", "compose", "instances", "contacts",
             "geolocation", "expire", "nodes", "staticip", "datacenter", "enterprise")
COMPONENT_KEYS = ("name", "description", "repotag", "ports", "domains", "environmentParameters",
                  "commands", "containerPorts", "containerData", "cpu", "ram", "hdd", "repoauth")
APP_NAME = re.compile(r"^[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?$")


# The enterprise app owners of FluxOS's helpers/enterprisenodes.json (845aa9b), written out here
# rather than imported so the simulator does not share the panel's reading of that file.
SIM_ENTERPRISE_OWNERS = frozenset({
    "15ULw4JU6wqGESRYU3z3MjFETqLN3sA9Gn", "16FPpesA783sYXXSUf9grXKaj3KN3EeLK3",
    "1GM41a9A4rH8CCkCyzDRahHUccuTRLhoDe",
})


def _js_boolean(value):
    """serviceHelper.ensureBoolean, independently: None stands for `undefined`."""
    if value in ("true", "1") or value is True or (type(value) in (int, float) and value == 1):
        return True
    if value in ("false", "0") or value is False or (type(value) in (int, float) and value == 0):
        return False
    return None


def format_spec(spec: dict) -> dict:
    """A light stand-in for specificationFormatter (v8 key order, unknown keys dropped)."""
    if not isinstance(spec, dict) or spec.get("version") != 8:
        raise ValueError("The simulator only validates version 8 specifications")
    missing = [key for key in SPEC_KEYS if key not in spec and key != "datacenter"]
    if missing:
        raise ValueError(f"Missing Flux App specification parameter {missing[0]}")
    out = {key: spec[key] for key in SPEC_KEYS if key in spec}
    # FluxOS runs serviceHelper.ensureBoolean on datacenter and leaves out what is not a boolean.
    datacenter = _js_boolean(spec.get("datacenter"))
    out.pop("datacenter", None)
    if datacenter is not None:
        if datacenter and spec.get("owner") not in SIM_ENTERPRISE_OWNERS:
            raise ValueError("Datacenter requirement is only available for enterprise app owners.")
        out = {key: (datacenter if key == "datacenter" else out[key])
               for key in SPEC_KEYS if key in out or key == "datacenter"}
    out["compose"] = [{key: component.get(key) for key in COMPONENT_KEYS}
                      for component in spec["compose"]]
    name = out["name"]
    if not isinstance(name, str) or not APP_NAME.match(name) or len(name) > 63:
        raise ValueError("Flux App name contains special characters. Only a-z, A-Z and 0-9 are allowed")
    return out


async def apps_verifyregistration(ctx):
    spec = ensure_object(await ctx.stream_object())
    try:
        formatted = format_spec(spec)
    except ValueError as exc:
        return err(str(exc))
    if ctx.fleet.find_app(formatted["name"]) is not None:
        return err(f"Flux App {formatted['name']} already registered. Flux App has to be "
                   "registered under different name.")
    return ok(formatted)


async def apps_verifyupdate(ctx):
    spec = ensure_object(await ctx.stream_object())
    try:
        formatted = format_spec(spec)
    except ValueError as exc:
        return err(str(exc))
    if ctx.fleet.find_app(formatted["name"]) is None:
        return err(f"Flux App {formatted['name']} does not exist and cannot be updated")
    return ok(formatted)


async def apps_calculateprice(ctx):
    """A simplified price (not FluxOS's full algorithm, which fluxpanel.fluxos.pricing owns)."""
    spec = await ctx.stream_object()
    try:
        formatted = format_spec(spec)
    except ValueError as exc:
        return err(str(exc))
    compose = formatted["compose"]
    per_month = (sum(c["cpu"] for c in compose) * 0.15 * 10 + sum(c["ram"] for c in compose) * 0.05 / 100
                 + sum(c["hdd"] for c in compose) * 0.02) / 3 * formatted["instances"]
    usd = max(0.99, round(per_month * (formatted["expire"] or 88000) / 88000, 2))
    return ok({"usd": usd, "flux": round(usd / 0.6 * 0.95, 2), "fluxDiscount": 5})


async def apps_submit(ctx):
    route = ctx.segments[1]
    body = await ctx.stream_object()
    if not ctx.allowed("user"):
        return UNAUTHORIZED
    fields = ("appSpecification", "type", "version", "timestamp", "signature")
    if any(body.get(key) in (None, "") for key in fields):
        return err("Incomplete message received. Check if appSpecification, type, version, "
                   "timestamp and signature are provided.")
    wanted = "fluxappregister" if route == "appregister" else "fluxappupdate"
    if body["type"] not in (wanted, wanted.replace("flux", "zel", 1)):
        return err("Invalid type of message")
    if str(body["version"]) != "1":
        return err("Invalid version of message")
    try:
        spec = format_spec(ensure_object(body["appSpecification"]))
    except ValueError as exc:
        return err(str(exc))
    existing = ctx.fleet.find_app(spec["name"])
    if route == "appregister" and existing is not None:
        return err(f"Flux App {spec['name']} already registered. Flux App has to be registered "
                   "under different name.")
    if route == "appupdate" and existing is None:
        return err(f"Flux App {spec['name']} does not exist and cannot be updated")
    signer = spec["owner"] if route == "appregister" else existing.spec["owner"]
    message = f"{body['type']}1{json.dumps(spec, separators=(',', ':'), ensure_ascii=False)}{body['timestamp']}"
    if not signature_ok(message, signer, str(body["signature"])):
        if route == "appregister":
            return err("Received signature is invalid or Flux App specifications are not properly formatted")
        return err("Received signature does not correspond with Flux App owner or Flux App "
                   "specifications are not properly formatted")
    digest = hashlib.sha256((message + str(body["signature"])).encode()).hexdigest()
    ctx.fleet.temporary[digest] = {"type": body["type"], "appSpecifications": spec,
                                   "timestamp": body["timestamp"], "signature": body["signature"]}
    return ok(digest)


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


# --------------------------------------------------------------------------- lifecycle

GLOBAL_WORDS = {"appstart": "start", "appstop": "stop", "apprestart": "restart",
                "apppause": "pause", "appunpause": "unpase"}  # sic, FluxOS's typo


def apps_lifecycle(ctx):
    command = ctx.segments[1]
    appname = ctx.param(0, "appname")
    if not appname:
        return err("No Flux App specified")
    if not ctx.allowed("appownerabove", appname):
        return UNAUTHORIZED
    if ensure_bool(ctx.param(1, "global", False)):
        ctx.fleet.fan_out(ctx.node, appname, command, ctx.zelidauth)
        return msg(f"{appname} queried for global {GLOBAL_WORDS[command]}")
    try:
        return ok(ctx.node.lifecycle(command, appname))
    except DockerError as exc:
        return err(str(exc))


async def _stream_json(ctx, steps, final=None):
    """FluxOS's streamed JSON: objects back to back, each flushed (and gzipped) as written."""
    stream = await NodeStream(ctx.request, "application/json").start()
    for step in steps:
        await stream.write(dumps(step))
        await asyncio.sleep(ctx.fleet.stream_delay_s)
    if final is not None:
        await stream.write(dumps(final))
    return await stream.end()


def _image_error(repotag: str, user_id: str) -> dict:
    """What dockerode throws when the image is still used by another container (HTTP 409)."""
    return err(f'(HTTP code 409) conflict - conflict: unable to remove repository reference '
               f'"{repotag}" (must force) - container {user_id[:12]} is using its referenced '
               f'image {hashlib.sha256(repotag.encode()).hexdigest()[:12]} ', "Error")


def removal_steps(node, app, *, cleanup: bool = False) -> list:
    """appUninstaller.removeAppLocally → hardUninstallComponent per component (reversed), with the
    non-fatal image error where another container on the node uses the same image."""
    steps = []
    for container in reversed(list(app.containers.values())):
        c = f"component {container.spec['name']}"
        name = container.spec["name"]
        steps += [{"status": f"Stopping Flux App Component {name}..."},
                  {"status": f"Flux App Component {name} stopped"},
                  {"status": f"Removing Flux App component {name} container..."},
                  {"status": f"Flux App component {name} container removed"},
                  {"status": f"Denying {c} ports..."}, {"status": f"Ports of {c} denied"},
                  {"status": f"Unmounting volume of {c}..."}, {"status": f"Volume of {c} unmounted"},
                  {"status": f"Cleaning up {c} data..."}, {"status": f"Data of {c} cleaned"},
                  {"status": "Adjusting crontab..."}, {"status": "Crontab Adjusted."},
                  {"status": f"Cleaning up data volume of {c}..."}, {"status": f"Volume of {c} cleaned"},
                  {"status": f"Removing Flux App component {name} image..."}]
        user = node.image_user(container.spec["repotag"], app.name)
        if user is not None:
            steps.append(_image_error(container.spec["repotag"], user))
        steps += [{"status": f"Flux App component {name} image operations done"},
                  {"status": f"Flux App component {name} of {app.name} was successfully removed"}]
    steps += [{"status": "Cleaning up docker network..."}, {"status": "Docker network cleaned"},
              {"status": "Cleaning up database..."}, {"status": "Database cleaned"},
              msg(f"Removal step done. Result: Flux App {app.name} was successfuly removed")]
    return steps


def _busy(node):
    if node.removal_in_progress:
        return {"status": "warning",
                "data": {"message": "Another application is undergoing removal. Removal not possible."}}
    return None


async def apps_appremove(ctx):
    appname = ctx.param(0, "appname")
    if not appname:
        return err("No App specified")
    if "_" in appname:
        return err("Components cannot be removed manually")
    if not ctx.allowed("appownerabove", appname):
        return UNAUTHORIZED
    force = ensure_bool(ctx.param(1, "force", False)) or False
    if ensure_bool(ctx.param(2, "global", False)):
        ctx.fleet.fan_out(ctx.node, appname, "appremove", ctx.zelidauth, "true" if force else "false")
        return msg(f"{appname} queried for global reinstallation")
    busy = None if force else _busy(ctx.node)
    if busy:
        return await _stream_json(ctx, [busy])
    try:
        app = ctx.node.app(appname)
    except DockerError as exc:
        return await _stream_json(ctx, [err(str(exc), "Error")])
    steps = removal_steps(ctx.node, app)
    ctx.node.remove_app(app.name)
    return await _stream_json(ctx, steps)


async def apps_redeploy(ctx):
    appname = ctx.param(0, "appname")
    if not appname:
        return err("No Flux App specified")
    if not ctx.allowed("appownerabove", appname):
        return UNAUTHORIZED
    force = ensure_bool(ctx.param(1, "force", False)) or False
    mode = "hard" if force else "soft"
    if ensure_bool(ctx.param(2, "global", False)):
        ctx.fleet.fan_out(ctx.node, appname, "redeploy", ctx.zelidauth, "true" if force else "false")
        return msg(f"{appname} queried for global {mode} redeploy")
    try:
        app = ctx.node.app(appname)
    except DockerError as exc:
        return err(str(exc))
    if app.restore_running:
        await asyncio.sleep(HANG_FOREVER_S)  # FluxOS returns without ever answering
    busy = _busy(ctx.node)
    if busy:
        return await _stream_json(ctx, [{"status": "warning",
                                         "data": {"message": "Another application is undergoing removal"}}])
    steps = []
    for container in app.containers.values():
        steps += [{"status": f"Stopping Flux App Component {container.spec['name']}..."},
                  {"status": f"Removing Flux App component {container.spec['name']} container..."}]
    steps.append(msg("Application removed. Awaiting installation..." if force
                     else "Application softly removed. Awaiting installation..."))
    failure = ctx.node.install_failure
    if failure:
        # appInstaller.registerAppLocally's catch: the error, the removal notice, then the
        # clean-up removal, whose own success closes the stream.
        steps += [{"status": f"Pulling component {c.spec['name']} image..."} for c in app.containers.values()]
        steps += [err(failure, "Error"), err(f"Error occured. Initiating Flux App {app.name} removal")]
        steps += removal_steps(ctx.node, app)
        ctx.node.remove_app(app.name)
        return await _stream_json(ctx, steps)
    for container in app.containers.values():
        steps += [{"status": f"Creating Flux App component {container.spec['name']} container..."},
                  {"status": f"Starting Flux App component {container.spec['name']}..."}]
    ctx.fleet.redeploy_local(ctx.node, app.name, force)
    return await _stream_json(ctx, steps, msg(f"Flux App {app.name} successfully installed and launched"))


async def apps_redeploycomponent(ctx):
    appname = ctx.param(0, "appname")
    component = ctx.param(1, "component")
    if not appname or not component:
        return err("No Flux App or component specified")
    if "_" in appname:
        return err("Application name must not contain a component")
    if not ctx.allowed("appownerabove", appname):
        return UNAUTHORIZED
    try:
        container = ctx.node.app(appname).container(component)
        if container is None:
            raise DockerError(f"Component {component} not found in {appname}")
    except DockerError as exc:
        return err(str(exc))
    steps = [{"status": f"Stopping Flux App {container.name}..."},
             {"status": f"Removing Flux App {container.name} container..."},
             {"status": f"Starting Flux App {container.name}..."}]
    container.restart(now_ms())
    return await _stream_json(ctx, steps, msg(f"Component {component} of {appname} redeployed successfully"))


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
