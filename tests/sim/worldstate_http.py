"""REST surface of the double apart from ingest: state, deletion, namespaces, admin config,
connectors (§4.4–4.10), and the app factory that wires every route of §2.
"""
from __future__ import annotations

from aiohttp import web

from tests.sim import worldstate_control as control
from tests.sim import worldstate_rules as rules
from tests.sim.worldstate_control import count_requests
from tests.sim.worldstate_engine import Engine, PublishError
from tests.sim.worldstate_faults import hostile_faults
from tests.sim.worldstate_ingest import get_events, publish_batch, publish_event
from tests.sim.worldstate_serde import (
    U64_MAX,
    SerdeError,
    expect_int,
    expect_object,
    expect_str,
    invalid_type,
)
from tests.sim.worldstate_web import (
    ENGINE_KEY,
    Rejection,
    admin_ok,
    empty,
    engine_of,
    error,
    framework_rejections,
    json_body,
    raw_json,
    typed_json,
)
from tests.sim.worldstate_ws import Hub

# ---- state ------------------------------------------------------------------------------------


def _single_id(request: web.Request) -> str:
    """The decoded `:id`; the literal segment `delete` belongs to the static POST route (§3.3)."""
    if request.raw_path.split("?", 1)[0] == "/api/state/entities/delete":
        raise web.HTTPMethodNotAllowed(request.method, ["POST"])
    return request.match_info["id"]


async def list_entities(request: web.Request) -> web.Response:
    return raw_json(engine_of(request).list_json(namespace=request.query.get("namespace"),
                                                 prefix=request.query.get("prefix")))


async def get_entity(request: web.Request) -> web.Response:
    record = engine_of(request).entities.get(_single_id(request))
    if record is None:
        return error(404, "Entity not found")
    return raw_json(record.as_json())


# ---- deletion ---------------------------------------------------------------------------------


def authorize_deletion(engine: Engine, header: str | None, entity_id: str) -> None:
    """The stricter delete-side check of §4.6; raises Rejection."""
    if header is None:
        raise Rejection(error(401, "Missing Authorization header"))
    if not rules.is_header_text(header):
        raise Rejection(error(401, "Invalid Authorization header"))
    if not header.startswith("Bearer "):
        raise Rejection(error(401, "Invalid Authorization format"))
    token = header[len("Bearer "):]
    try:
        namespace = rules.parse_entity_id(entity_id)
    except rules.EntityIdError as problem:
        raise Rejection(error(400, problem.debug)) from None
    if namespace is None:
        raise Rejection(error(401, "Entity has no namespace"))
    if not engine.token_owns(token, namespace):
        raise Rejection(error(403, "Token does not own namespace"))


async def delete_entity(request: web.Request) -> web.Response:
    engine = engine_of(request)
    entity_id = _single_id(request)
    if engine.options.auth:
        authorize_deletion(engine, request.headers.get("Authorization"), entity_id)
    try:
        event_id = engine.tombstone(entity_id)
    except PublishError as failure:
        return error(500, str(failure))
    return json_body({"entity_id": entity_id, "eventId": event_id})


def _decode_delete_filter(value) -> tuple[str, object]:
    """The untagged DeleteFilter: namespace, then prefix, then entity_ids; extra keys ignored."""
    if not isinstance(value, dict):
        raise invalid_type(value, "struct BatchDeleteRequest")
    if isinstance(value.get("namespace"), str):
        return "namespace", value["namespace"]
    if isinstance(value.get("prefix"), str):
        return "prefix", value["prefix"]
    ids = value.get("entity_ids")
    if isinstance(ids, list) and all(isinstance(item, str) for item in ids):
        return "entity_ids", ids
    raise SerdeError("data did not match any variant of untagged enum DeleteFilter")


async def delete_batch(request: web.Request) -> web.Response:
    engine = engine_of(request)
    kind, argument = await typed_json(request, _decode_delete_filter)
    if kind == "entity_ids":
        ids = list(argument)
    else:
        ids = engine.matching_ids(**{kind: argument})
    if len(ids) > engine.options.max_batch_delete:
        return error(400, f"Batch too large: {len(ids)} entities requested, "
                          f"max is {engine.options.max_batch_delete}")
    if engine.options.auth:
        header = request.headers.get("Authorization")
        for entity_id in ids:  # all-or-nothing: the first failure rejects the request
            authorize_deletion(engine, header, entity_id)
    deleted, errors = 0, []
    for entity_id in ids:
        try:
            engine.tombstone(entity_id)
            deleted += 1
        except PublishError as failure:
            errors.append(f"{entity_id}: PublishError({rules.rust_debug(str(failure))})")
    return json_body({"deleted": deleted, "failed": len(errors), "errors": errors})


# ---- namespaces -------------------------------------------------------------------------------

AUTH_DISABLED = "Namespace registration not available (auth disabled)"


def _decode_register(value) -> str:
    raw = expect_object(value, "RegisterRequest")
    if "name" not in raw:
        raise SerdeError("missing field `name`")
    return expect_str(raw["name"], "name")


async def register_namespace(request: web.Request) -> web.Response:
    engine = engine_of(request)
    name = await typed_json(request, _decode_register)
    if not engine.options.auth:
        return error(404, AUTH_DISABLED)
    if not admin_ok(request):
        return error(401, "Admin token required")
    problem = rules.namespace_name_error(name)
    if problem:
        return error(400, problem[1])
    if name in engine.namespaces:
        return error(409, "Namespace name already exists")
    namespace = engine.register_namespace(name)
    return json_body({"namespaceId": namespace.namespace_id, "name": namespace.name,
                      "token": namespace.token})


async def lookup_namespace(request: web.Request) -> web.Response:
    engine = engine_of(request)
    if not engine.options.auth:
        return error(404, AUTH_DISABLED)
    namespace = engine.namespaces.get(request.match_info["name"])
    if namespace is None:
        return error(404, "Namespace not found")
    return json_body({"namespaceId": namespace.namespace_id, "name": namespace.name,
                      "createdAt": rules.rfc3339(namespace.created_ns), "entityCount": 0})


async def delete_namespace(request: web.Request) -> web.Response:
    """Does not look at the auth mode; leaves the namespace's entities in place (§4.8)."""
    engine = engine_of(request)
    if not admin_ok(request):
        return error(401, "Admin token required")
    if engine.namespaces.pop(request.match_info["name"], None) is None:
        return error(404, "Namespace not found")
    return empty(204)


# ---- admin config -----------------------------------------------------------------------------

_CONFIG_TYPES = {
    "rate_limit_enabled": None,
    "rate_limit_per_namespace_per_minute": "u64",
    "body_size_limit_single_bytes": "usize",
    "body_size_limit_batch_bytes": "usize",
}


def _decode_config_update(value) -> dict:
    raw = expect_object(value, "RuntimeConfigUpdate")
    update = {}
    for name, kind in _CONFIG_TYPES.items():
        field_value = raw.get(name)
        if field_value is None:
            continue
        if kind is None:
            if not isinstance(field_value, bool):
                raise invalid_type(field_value, "a boolean", name)
            update[name] = field_value
        else:
            update[name] = expect_int(field_value, name, low=0, high=U64_MAX, expected=kind)
    return update


async def get_config(request: web.Request) -> web.Response:
    return json_body(engine_of(request).config)


async def put_config(request: web.Request) -> web.Response:
    """Parse first, then the admin token, then a partial in-memory update (§4.9)."""
    engine = engine_of(request)
    update = await typed_json(request, _decode_config_update)
    if not admin_ok(request):
        return error(401, "Unauthorized")
    engine.config.update(update)
    return json_body(engine.config)


# ---- connectors -------------------------------------------------------------------------------

STORE_MISSING = "Credential storage not available (FLUX_ENCRYPTION_KEY not set)"


def _owner(request: web.Request) -> str:
    """Auth off: "default"; auth on: the bearer string itself, not checked further (§4.10)."""
    if not engine_of(request).options.auth:
        return "default"
    try:
        return rules.parse_bearer(request.headers.get("Authorization"))
    except ValueError as problem:
        raise Rejection(error(401, f"Invalid token: {problem}")) from None


def _known_connector(request: web.Request) -> str:
    name = request.match_info["name"]
    if name not in rules.CONNECTORS:
        raise Rejection(error(404, f"Connector '{name}' not found"))
    return name


def _require_store(engine: Engine) -> None:
    if not engine.options.credentials:
        raise Rejection(error(500, STORE_MISSING))


async def list_connectors(request: web.Request) -> web.Response:
    engine = engine_of(request)
    owner = _owner(request)
    connectors = []
    for name in rules.CONNECTORS:
        stored = engine.options.credentials and (owner, name) in engine.credentials
        connectors.append({"name": name, "enabled": stored,
                           "status": "configured" if stored else "not_configured"})
    return json_body({"connectors": connectors})


async def get_connector(request: web.Request) -> web.Response:
    """Reports `not_configured` whenever auth is off, even if the list says configured."""
    engine = engine_of(request)
    name = _known_connector(request)
    owner = _owner(request)
    stored = (engine.options.auth and engine.options.credentials
              and (owner, name) in engine.credentials)
    return json_body({"name": name, "enabled": stored,
                      "status": "configured" if stored else "not_configured",
                      "poll_interval_seconds": rules.CONNECTORS[name]})


def _decode_token(value) -> str:
    raw = expect_object(value, "TokenRequest")
    if "token" not in raw:
        raise SerdeError("missing field `token`")
    return expect_str(raw["token"], "token")


async def store_connector_token(request: web.Request) -> web.Response:
    engine = engine_of(request)
    await typed_json(request, _decode_token)
    name = _known_connector(request)
    _require_store(engine)
    engine.credentials.add((_owner(request), name))
    return json_body({"success": True})


async def delete_connector_token(request: web.Request) -> web.Response:
    engine = engine_of(request)
    name = _known_connector(request)
    _require_store(engine)
    owner = _owner(request)
    if (owner, name) not in engine.credentials:
        return error(404, f"No credentials found for connector '{name}'")
    engine.credentials.discard((owner, name))
    return json_body({"success": True})


# ---- app --------------------------------------------------------------------------------------


def create_app(engine: Engine) -> web.Application:
    # Bodies are read in full and size-checked by hand, so lift aiohttp's own 1 MiB cap.
    app = web.Application(middlewares=[count_requests, hostile_faults, framework_rejections],
                          client_max_size=64 * 1024 * 1024)
    app[ENGINE_KEY] = engine
    hub = Hub(engine)
    app.on_startup.append(hub.start)
    app.on_shutdown.append(hub.stop)
    route = app.router
    route.add_post("/api/events", publish_event)
    route.add_get("/api/events", get_events, allow_head=False)
    route.add_post("/api/events/batch", publish_batch)
    route.add_post("/api/state/entities/delete", delete_batch)
    route.add_get("/api/state/entities", list_entities, allow_head=False)
    route.add_get("/api/state/entities/{id}", get_entity, allow_head=False)
    route.add_delete("/api/state/entities/{id}", delete_entity)
    route.add_post("/api/namespaces", register_namespace)
    route.add_get("/api/namespaces/{name}", lookup_namespace, allow_head=False)
    route.add_delete("/api/namespaces/{name}", delete_namespace)
    route.add_get("/api/admin/config", get_config, allow_head=False)
    route.add_put("/api/admin/config", put_config)
    route.add_get("/api/connectors", list_connectors, allow_head=False)
    route.add_get("/api/connectors/{name}", get_connector, allow_head=False)
    route.add_post("/api/connectors/{name}/token", store_connector_token)
    route.add_delete("/api/connectors/{name}/token", delete_connector_token)
    route.add_get("/api/ws", hub.handle, allow_head=False)
    control.add_routes(app)
    return app
