"""The bridge's pure rules: entity names, digests, what counts as a change, batch splitting."""
from types import SimpleNamespace

from apps.worldstate.bridge import DELETED, changes, chunks, digest, entity_name


def test_it_entity_names_keep_one_slash_only():
    assert entity_name("127.0.0.1:16127/n/3") == "127.0.0.1:16127_n_3"
    assert entity_name("alpha") == "alpha"


def test_it_digest_ignores_key_order():
    assert digest({"a": 1, "b": [1, 2]}) == digest({"b": [1, 2], "a": 1})
    assert digest({"a": 1}) != digest({"a": 2})


def test_it_changes_are_new_changed_gone_and_idle():
    engine = SimpleNamespace(namespace="ns")
    desired = {"ns/node-a": {"state": "confirmed"}, "ns/node-b": {"state": "down"},
               "ns/app-web": {"instances": 1}}
    records = {"ns/node-a": digest({"state": "confirmed"}), "ns/node-b": digest({"state": "confirmed"}),
               "ns/node-gone": digest({"state": "confirmed"}), "ns/app-db": digest({"instances": 2}),
               "ns/app-idle": digest({"instances": 0})}
    found = {entity_id: (properties, value) for entity_id, properties, value
             in changes(engine, desired, records, force=False)}
    assert set(found) == {"ns/node-b", "ns/app-web", "ns/node-gone", "ns/app-db"}
    assert found["ns/node-gone"] == ({"__deleted__": True}, DELETED)
    assert found["ns/app-db"][0] == {"instances": 0}
    forced = {entity_id for entity_id, _, _ in changes(engine, desired, records, force=True)}
    assert forced == set(desired) | {"ns/node-gone", "ns/app-db", "ns/app-idle"}


def test_it_one_chunk_unless_over_the_engines_body_cap():
    small = [{"entity_id": f"ns/node-{i}", "properties": {"state": "confirmed"}} for i in range(5000)]
    assert len(chunks(small)) == 1
    big = [{"entity_id": f"ns/node-{i}", "properties": {"blob": "x" * 1000}} for i in range(3000)]
    parts = chunks(big)
    assert len(parts) == 2 and sum(len(p) for p in parts) == 3000
    assert [e["entity_id"] for p in parts for e in p] == [e["entity_id"] for e in big]
    assert chunks([]) == []
