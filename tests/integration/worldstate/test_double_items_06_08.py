"""The engine double against §15 of the reference, items 6–8, over bare HTTP."""
from __future__ import annotations

import json
import time

import pytest

from tests.integration.worldstate.conftest import ADMIN_TOKEN, event
from tests.sim.worldstate import WorldStateDouble


def ids(raw) -> list[str]:
    return sorted(item["id"] for item in raw.get("/api/state/entities").json())


# ---- 6. Delete ----------------------------------------------------------------------------------


def test_it_item06_delete_is_200_with_tombstone_even_when_missing(engine, raw):
    response = raw.delete("/api/state/entities/ghost")
    assert response.status_code == 200
    (tombstone,) = raw.get("/api/events", params={"entity": "ghost"}).json()
    assert tombstone["eventId"] == response.json()["eventId"]
    assert (tombstone["stream"], tombstone["source"], tombstone["key"]) == (
        "flux.events.deletions", "api", "ghost")
    properties = tombstone["payload"]["properties"]
    assert properties["__deleted__"] is True and isinstance(properties["__deleted_at__"], int)
    assert tombstone["payload"]["entity_id"] == "ghost"


def test_it_item06_batch_delete_three_filter_forms(engine, raw):
    engine.seed({name: {"v": 1} for name in
                 ["matt/a", "matt/b", "mattx/c", "tmp-1", "tmp-2", "keep"]})
    assert raw.post("/api/state/entities/delete", body={"namespace": "matt"}).json()[
        "deleted"] == 2
    assert raw.post("/api/state/entities/delete", body={"prefix": "tmp-"}).json()[
        "deleted"] == 2
    verbatim = raw.post("/api/state/entities/delete", body={"entity_ids": ["mattx/c", "nope"]})
    assert verbatim.json() == {"deleted": 2, "failed": 0, "errors": []}
    assert ids(raw) == ["keep"]


def test_it_item06_batch_delete_extra_keys_namespace_wins(engine, raw):
    engine.seed({"x/a": {"v": 1}, "y-a": {"v": 1}})
    raw.post("/api/state/entities/delete", body={"namespace": "x", "prefix": "y"})
    assert ids(raw) == ["y-a"]


def test_it_item06_batch_delete_empty_prefix_deletes_everything(engine, raw):
    engine.seed({"a": {"v": 1}, "b/c": {"v": 1}})
    assert raw.post("/api/state/entities/delete", body={"prefix": ""}).json()["deleted"] == 2
    assert ids(raw) == []


def test_it_item06_batch_delete_cap_is_400(engine, raw):
    engine.configure(max_batch_delete=2)
    engine.seed({f"e{i}": {"v": 1} for i in range(3)})
    response = raw.post("/api/state/entities/delete", body={"prefix": "e"})
    assert response.status_code == 400
    assert response.json() == {"error": "Batch too large: 3 entities requested, max is 2"}
    assert len(ids(raw)) == 3


def test_it_item06_batch_delete_default_cap_is_10000(engine, raw):
    response = raw.post("/api/state/entities/delete",
                        body={"entity_ids": [str(i) for i in range(10_001)]})
    assert response.json() == {"error": "Batch too large: 10001 entities requested, "
                                        "max is 10000"}


@pytest.mark.parametrize("body,headers,status,text", [
    ({"other": 1}, {}, 422, "data did not match any variant of untagged enum DeleteFilter"),
    ({"namespace": 5}, {}, 422, "data did not match any variant"),
    (None, {"Content-Type": "text/plain"}, 415, "Expected request with `Content-Type: "
                                                "application/json`"),
    ("{", {"Content-Type": "application/json"}, 400, "Failed to parse the request body as JSON"),
])
def test_it_item06_batch_delete_framework_rejections_are_plain_text(engine, raw, body, headers,
                                                                 status, text):
    if isinstance(body, dict):
        response = raw.post("/api/state/entities/delete", body=body)
    else:
        response = raw.post("/api/state/entities/delete", data=body or "{}", headers=headers)
    assert response.status_code == status
    assert response.headers["Content-Type"].startswith("text/plain")
    assert text in response.text


def test_it_item06_batch_delete_auth_is_all_or_nothing(auth_engine, raw):
    _id, token = auth_engine.register_namespace("matt")
    auth_engine.register_namespace("other")
    auth_engine.seed({"matt/a": {"v": 1}, "other/b": {"v": 1}})
    response = raw.post("/api/state/entities/delete", body={"entity_ids": ["matt/a", "other/b"]},
                        token=token)
    assert response.status_code == 403
    assert response.json() == {"error": "Token does not own namespace"}
    assert ids(raw) == ["matt/a", "other/b"]


def test_it_item06_batch_delete_empty_match_skips_auth(auth_engine, raw):
    response = raw.post("/api/state/entities/delete", body={"prefix": "nothing-here"})
    assert response.json() == {"deleted": 0, "failed": 0, "errors": []}


def test_it_item06_batch_delete_publish_errors_are_listed(engine, raw):
    engine.seed({"a": {"v": 1}})
    engine.configure(fail_publish=True)
    response = raw.post("/api/state/entities/delete", body={"entity_ids": ["a"]})
    assert response.json() == {"deleted": 0, "failed": 1, "errors": [
        "a: PublishError(\"Failed to publish event to subject "
        "'flux.events.flux.events.deletions'\")"]}


@pytest.mark.parametrize("entity_id,header,status,message", [
    ("matt/a", None, 401, "Missing Authorization header"),
    ("matt/a", "Token abc", 401, "Invalid Authorization format"),
    ("matt/a", "bearer {token}", 401, "Invalid Authorization format"),  # case-sensitive
    ("plain", "Bearer {token}", 401, "Entity has no namespace"),
    ("a/b/c", "Bearer {token}", 400, "InvalidFormat(\"Entity ID 'a/b/c' contains multiple '/' "
                                     "separators (expected at most one)\")"),
    ("ab/x", "Bearer {token}", 400, "InvalidNamespace(\"Invalid namespace 'ab': TooShort\")"),
    ("matt/a", "Bearer  {token}", 403, "Token does not own namespace"),  # no trimming
    ("other/a", "Bearer {token}", 403, "Token does not own namespace"),
    ("unknown/a", "Bearer {token}", 403, "Token does not own namespace"),
])
def test_it_item06_single_delete_auth_messages(auth_engine, raw, entity_id, header, status,
                                            message):
    _id, token = auth_engine.register_namespace("matt")
    auth_engine.register_namespace("other")
    headers = {} if header is None else {"Authorization": header.format(token=token)}
    response = raw.delete(f"/api/state/entities/{entity_id.replace('/', '%2F')}",
                          headers=headers)
    assert response.status_code == status
    assert response.json() == {"error": message}


def test_it_item06_single_delete_with_owner_token(auth_engine, raw):
    _id, token = auth_engine.register_namespace("matt")
    auth_engine.seed({"matt/a": {"v": 1}})
    assert raw.delete("/api/state/entities/matt%2Fa", token=token).status_code == 200
    assert ids(raw) == []


# ---- 7. Auth mode toggle ------------------------------------------------------------------------


@pytest.mark.parametrize("name,status,message", [
    ("ab", 400, "Namespace name too short (minimum 3 characters)"),
    ("a" * 33, 400, "Namespace name too long (maximum 32 characters)"),
    ("Matt@123", 400, "Invalid character 'M' (must be [a-z0-9-_])"),
    ("my.ns", 400, "Invalid character '.' (must be [a-z0-9-_])"),
    ("-under_score-", 200, None),
    ("a" * 32, 200, None),
])
def test_it_item07_namespace_name_rules(auth_engine, raw, name, status, message):
    response = raw.post("/api/namespaces", body={"name": name}, token=ADMIN_TOKEN)
    assert response.status_code == status
    if message:
        assert response.json() == {"error": message}


def test_it_item07_namespace_duplicate_409_and_token_shown_once(auth_engine, raw):
    created = raw.post("/api/namespaces", body={"name": "matt"}, token=ADMIN_TOKEN).json()
    duplicate = raw.post("/api/namespaces", body={"name": "matt"}, token=ADMIN_TOKEN)
    assert duplicate.status_code == 409
    assert duplicate.json() == {"error": "Namespace name already exists"}
    lookup = raw.get("/api/namespaces/matt")
    assert created["token"] not in lookup.text
    assert lookup.json()["entityCount"] == 0
    assert lookup.json()["namespaceId"] == created["namespaceId"]
    assert created["namespaceId"][:3] == "ns_" and created["namespaceId"][3:].isalnum()


def test_it_item07_entity_count_stays_zero(auth_engine, raw):
    _id, token = auth_engine.register_namespace("matt")
    raw.post("/api/events", body=event("matt/a"), token=token)
    assert raw.get("/api/namespaces/matt").json()["entityCount"] == 0


@pytest.mark.parametrize("header,status", [
    (f"Bearer {ADMIN_TOKEN}", 200),
    (None, 401),
    (f"bearer {ADMIN_TOKEN}", 401),
    (f"Bearer  {ADMIN_TOKEN}", 401),
    ("Bearer wrong", 401),
])
def test_it_item07_admin_token_exact_match(auth_engine, raw, header, status):
    headers = {} if header is None else {"Authorization": header}
    response = raw.post("/api/namespaces", body={"name": "matt"}, headers=headers)
    assert response.status_code == status
    if status == 401:
        assert response.json() == {"error": "Admin token required"}


def test_it_item07_admin_endpoints_open_when_no_admin_token(double_server, raw):
    double_server.reset(auth=True)
    assert raw.post("/api/namespaces", body={"name": "matt"}).status_code == 200
    assert raw.put("/api/admin/config", body={"rate_limit_enabled": False}).status_code == 200
    assert raw.delete("/api/namespaces/matt").status_code == 204


def test_it_item07_namespace_endpoints_404_when_auth_off(engine, raw):
    message = {"error": "Namespace registration not available (auth disabled)"}
    assert raw.post("/api/namespaces", body={"name": "matt"}).json() == message
    assert raw.get("/api/namespaces/matt").status_code == 404
    assert raw.get("/api/namespaces/matt").json() == message
    # DELETE does not look at the mode.
    assert raw.delete("/api/namespaces/matt").json() == {"error": "Namespace not found"}


def test_it_item07_namespace_lookup_unknown_404(auth_engine, raw):
    assert raw.get("/api/namespaces/nope").json() == {"error": "Namespace not found"}


def test_it_item07_namespace_delete_keeps_entities_and_revokes_writes(auth_engine, raw):
    _id, token = auth_engine.register_namespace("matt")
    raw.post("/api/events", body=event("matt/a"), token=token)
    assert raw.delete("/api/namespaces/matt", token="wrong").status_code == 401
    assert raw.delete("/api/namespaces/matt", token=ADMIN_TOKEN).status_code == 204
    assert ids(raw) == ["matt/a"]
    refused = raw.post("/api/events", body=event("matt/a"), token=token)
    assert refused.status_code == 401
    assert refused.json()["error"].startswith("Namespace 'matt' not found")
    again = raw.post("/api/namespaces", body={"name": "matt"}, token=ADMIN_TOKEN).json()
    assert again["token"] != token


@pytest.mark.parametrize("header,entity_id,status,message", [
    (None, "matt/a", 401, "Authorization token not provided"),
    ("Basic abc", "matt/a", 401, "Invalid authorization token format"),
    ("Bearer", "matt/a", 401, "Invalid authorization token format"),
    ("Bearer {token}", None, 401, "Missing 'entity_id' field in payload"),
    ("Bearer {token}", "a/b/c", 401, "Failed to parse entity_id 'a/b/c': InvalidFormat(\"Entity "
                                     "ID 'a/b/c' contains multiple '/' separators (expected at "
                                     "most one)\")"),
    ("Bearer {token}", "ab/x", 401, "Failed to parse entity_id 'ab/x': InvalidNamespace(\""
                                    "Invalid namespace 'ab': TooShort\")"),
    ("Bearer {token}", "A@b/x", 401, "Failed to parse entity_id 'A@b/x': InvalidNamespace(\""
                                     "Invalid namespace 'A@b': InvalidCharacters(\\\"Invalid "
                                     "character 'A' (must be [a-z0-9-_])\\\")\")"),
    ("Bearer {token}", "/x", 401, "Failed to parse entity_id '/x': InvalidFormat(\"Namespace "
                                  "part cannot be empty\")"),
    ("Bearer {token}", "matt/", 401, "Failed to parse entity_id 'matt/': InvalidFormat(\"Entity "
                                     "part cannot be empty\")"),
    ("Bearer {token}", "", 401, "Failed to parse entity_id '': Empty"),
    ("Bearer {token}", "plain", 401, "Entity ID 'plain' missing namespace prefix (expected "
                                     "'namespace/entity' format)"),
    ("Bearer {token}", "nobody/a", 401, "Namespace 'nobody' not found. Get a namespace at "
                                        "flux-universe.com"),
    ("Bearer {token}", "other/a", 403, "Token does not have permission to write to namespace "
                                       "'other'"),
    ("bEaReR   {token}  ", "matt/a", 200, None),  # any-case scheme, trimmed token
])
def test_it_item07_ingest_auth_messages(auth_engine, raw, header, entity_id, status, message):
    _id, token = auth_engine.register_namespace("matt")
    auth_engine.register_namespace("other")
    payload = {"properties": {"v": 1}}
    if entity_id is not None:
        payload["entity_id"] = entity_id
    headers = {} if header is None else {"Authorization": header.format(token=token)}
    response = raw.post("/api/events", body=event(payload=payload), headers=headers)
    assert response.status_code == status
    if message:
        assert response.json() == {"error": message}


def test_it_item07_empty_bearer_token_message():
    """HTTP strips trailing whitespace from header values, so only the parser can show this."""
    from tests.sim.worldstate_rules import parse_bearer
    with pytest.raises(ValueError, match="Authorization token is empty"):
        parse_bearer("Bearer    ")


def test_it_item07_internal_mode_accepts_any_id(engine, raw):
    for entity_id in ["a/b/c/d", "", "UPPER/x"]:
        assert raw.post("/api/events", body=event(entity_id)).status_code == 200
    assert ids(raw) == ["", "UPPER/x", "a/b/c/d"]


# ---- 8. Limits ----------------------------------------------------------------------------------

DEFAULTS = {"rate_limit_enabled": True, "rate_limit_per_namespace_per_minute": 10000,
            "body_size_limit_single_bytes": 1048576, "body_size_limit_batch_bytes": 10485760}


def test_it_item08_config_defaults_and_partial_update(auth_engine, raw):
    assert raw.get("/api/admin/config").json() == DEFAULTS
    updated = raw.put("/api/admin/config", token=ADMIN_TOKEN,
                      body={"rate_limit_per_namespace_per_minute": 5, "unknown": 1})
    assert updated.json() == {**DEFAULTS, "rate_limit_per_namespace_per_minute": 5}
    assert raw.get("/api/admin/config").json() == updated.json()


def test_it_item08_config_put_needs_admin_token_after_parsing(auth_engine, raw):
    wrong = raw.put("/api/admin/config", body={"rate_limit_enabled": False}, token="wrong")
    assert (wrong.status_code, wrong.json()) == (401, {"error": "Unauthorized"})
    assert raw.put("/api/admin/config", body={"rate_limit_enabled": False}).status_code == 401
    mistyped = raw.put("/api/admin/config", body={"rate_limit_enabled": "no"})  # no token
    assert mistyped.status_code == 422
    negative = raw.put("/api/admin/config", body={"body_size_limit_single_bytes": -1})
    assert negative.status_code == 422 and "expected usize" in negative.text


def test_it_item08_config_not_persisted_across_restart(engine):
    engine.set_config(rate_limit_per_namespace_per_minute=1)
    with WorldStateDouble() as fresh:
        import requests
        assert requests.get(fresh.url + "/api/admin/config", timeout=5).json() == DEFAULTS


def test_it_item08_single_and_batch_413_over_configured_limit(engine, raw):
    engine.set_config(body_size_limit_single_bytes=10, body_size_limit_batch_bytes=10)
    for path in ("/api/events", "/api/events/batch"):
        response = raw.post(path, data=b"x" * 11)
        assert (response.status_code, response.json()) == (413, {"error": "payload too large"})


def test_it_item08_size_zero_refuses_every_ingest(engine, raw):
    engine.set_config(body_size_limit_single_bytes=0)
    assert raw.post("/api/events", body=event()).status_code == 413


def test_it_item08_over_2_mib_is_axum_plain_text_413(engine, raw):
    engine.set_config(body_size_limit_batch_bytes=50_000_000)
    response = raw.post("/api/events/batch", data=b" " * (2 * 1024 * 1024 + 1))
    assert response.status_code == 413
    assert response.text == "Failed to buffer the request body: length limit exceeded"
    assert response.headers["Content-Type"].startswith("text/plain")


def test_it_item08_rate_limit_429_with_retry_after_60(auth_engine, raw):
    _id, token = auth_engine.register_namespace("matt")
    auth_engine.set_config(rate_limit_per_namespace_per_minute=1)
    assert raw.post("/api/events", body=event("matt/a"), token=token).status_code == 200
    limited = raw.post("/api/events", body=event("matt/a"), token=token)
    assert limited.status_code == 429
    assert limited.headers["Retry-After"] == "60"
    assert limited.json() == {"error": "rate limit exceeded"}


def test_it_item08_rate_limit_only_in_auth_mode(engine, raw):
    engine.set_config(rate_limit_per_namespace_per_minute=1)
    for _ in range(5):
        assert raw.post("/api/events", body=event("matt/a")).status_code == 200


def test_it_item08_rate_limit_buckets_per_namespace(auth_engine, raw):
    _id, matt = auth_engine.register_namespace("matt")
    _id, alice = auth_engine.register_namespace("alice")
    auth_engine.set_config(rate_limit_per_namespace_per_minute=1)
    assert raw.post("/api/events", body=event("matt/a"), token=matt).status_code == 200
    assert raw.post("/api/events", body=event("matt/a"), token=matt).status_code == 429
    assert raw.post("/api/events", body=event("alice/a"), token=alice).status_code == 200


def test_it_item08_rate_limit_enabled_flag_is_ignored(auth_engine, raw):
    _id, token = auth_engine.register_namespace("matt")
    auth_engine.set_config(rate_limit_enabled=False, rate_limit_per_namespace_per_minute=0)
    assert raw.post("/api/events", body=event("matt/a"), token=token).status_code == 429


def test_it_item08_rate_limit_bucket_refills(auth_engine, raw):
    _id, token = auth_engine.register_namespace("matt")
    auth_engine.set_config(rate_limit_per_namespace_per_minute=600)  # 10 tokens a second
    batch = {"events": [event("matt/a") for _ in range(601)]}
    results = raw.post("/api/events/batch", body=batch, token=token).json()
    assert results["successful"] in (600, 601)  # the bucket starts full
    time.sleep(0.25)
    assert raw.post("/api/events", body=event("matt/a"), token=token).status_code == 200


def test_it_item08_body_json_is_compact_utf8(engine, raw):
    raw.post("/api/events", body=event("ü", {"name": "naïve"}))
    assert json.loads(raw.get("/api/state/entities/%C3%BC").content)["properties"] == {
        "name": "naïve"}
