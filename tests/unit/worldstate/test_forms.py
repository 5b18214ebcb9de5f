"""The world-state forms check JSON, streams and names like the engine does, before sending."""
import pytest

from apps.worldstate.forms import (
    BatchForm,
    EngineForm,
    EngineSettingsForm,
    NamespaceForm,
    PublishForm,
    RuntimeConfigForm,
    namespace_error,
)


def publish(properties, **overrides):
    data = {"entity_id": "team-a/x", "properties": properties, "stream": "panel.manual",
            "source": "fluxpanel", **overrides}
    return PublishForm(data)


def test_it_publish_accepts_an_object():
    form = publish('{"temp": 21.5, "nested": {"a": [1, null]}}')
    assert form.is_valid(), form.errors
    assert form.cleaned_data["properties"] == {"temp": 21.5, "nested": {"a": [1, None]}}


@pytest.mark.parametrize("text,message", [
    ("{", "Not valid JSON: Expecting property name enclosed in double quotes (line 1, column 2)."),
    ('{"a": 1}\n{"b": 2}', "Not valid JSON: Extra data (line 2, column 1)."),
    ('"text"', "Properties must be a JSON object ({...}), not a string."),
    ("null", "Properties must be a JSON object ({...}), not null."),
    ("3", "Properties must be a JSON object ({...}), not a number."),
    ("{}", "Give at least one property: an empty object changes nothing."),
])
def test_it_publish_refuses_what_the_engine_would_not_turn_into_state(text, message):
    form = publish(text)
    assert not form.is_valid()
    assert form.errors["properties"] == [message]


def test_it_publish_refuses_an_oversized_event():
    form = publish('{"blob": "' + "x" * 1_048_576 + '"}')
    assert not form.is_valid() and "at most about 1024 KiB" in form.errors["properties"][0]


@pytest.mark.parametrize("stream,ok", [
    ("sensors.temperature", True), ("a.b.c.d", True), ("x1", True),
    (".x", False), ("x.", False), ("a..b", False), ("Upper", False), ("a-b", False),
    ("a_b", False), ("a/b", False), ("", False),
])
def test_it_stream_rule_matches_the_engine(stream, ok):
    assert publish('{"a": 1}', stream=stream).is_valid() is ok


def test_it_batch_accepts_short_items_wrapped_lists_and_full_envelopes():
    form = BatchForm({"stream": "panel.batch", "source": "me", "events": """{"events": [
        {"entity_id": "team-a/a", "properties": {"n": 1}},
        {"entity_id": "team-a/b", "properties": {"n": 2}, "stream": "other", "timestamp": 5, "key": "k"},
        {"stream": "s", "source": "t", "timestamp": 9, "payload": {"entity_id": "team-a/c", "properties": {}}}
    ]}"""})
    assert form.is_valid(), form.errors
    assert form.items() == [
        {"stream": "panel.batch", "source": "me", "entity_id": "team-a/a", "properties": {"n": 1}},
        {"stream": "other", "source": "me", "entity_id": "team-a/b", "properties": {"n": 2},
         "timestamp_ms": 5, "key": "k"},
        {"stream": "s", "source": "t", "timestamp": 9,
         "payload": {"entity_id": "team-a/c", "properties": {}}},
    ]


@pytest.mark.parametrize("events,message", [
    ("[]", "The batch is empty."),
    ('{"a": 1}', "Expected an array of events, got"),
    ('[{"properties": {}}]', "Event 1: entity_id must be a non-empty string."),
    ('[{"entity_id": "abc/a", "properties": {}, "timestamp": -1}]', "Event 1: timestamp must be a positive integer"),
    ('[{"entity_id": "abc/a", "properties": {}, "stream": "Bad"}]', "Event 1: invalid stream format 'Bad'"),
    ('[{"payload": {"entity_id": "abc/a", "properties": {}}}]', "Event 1: a full envelope needs a stream."),
])
def test_it_batch_explains_each_bad_item(events, message):
    form = BatchForm({"stream": "panel.batch", "source": "me", "events": events})
    assert not form.is_valid()
    assert any(message in error for error in form.errors["events"]), form.errors


def test_it_batch_lists_at_most_ten_problems():
    form = BatchForm({"stream": "panel.batch", "source": "me", "events": "[" + ",".join(["1"] * 15) + "]"})
    assert not form.is_valid()
    assert len(form.errors["events"]) == 11 and form.errors["events"][-1] == "…and 5 more."


@pytest.mark.parametrize("name,message", [
    ("ab", "Namespace name too short (minimum 3 characters)"),
    ("a" * 33, "Namespace name too long (maximum 32 characters)"),
    ("Matt@123", "Invalid character 'M' (must be [a-z0-9-_])"),
    ("dawn coral", "Invalid character ' ' (must be [a-z0-9-_])"),
    ("-dawn_coral-9", None),
])
def test_it_namespace_rules_and_messages_are_the_engines(name, message):
    assert namespace_error(name) == message
    form = NamespaceForm({"name": name})
    assert form.is_valid() is (message is None)


def test_it_engine_form_normalises_the_url_and_checks_the_namespace():
    # Literal public addresses: the form resolves names, and the test machine has no DNS.
    form = EngineForm({"name": "e", "base_url": "https://93.184.216.34/", "namespace": "Bad!"})
    assert not form.is_valid() and form.errors["namespace"] == ["Invalid character 'B' (must be [a-z0-9-_])"]
    form = EngineForm({"name": "e", "base_url": "93.184.216.34:3000/"})
    assert form.is_valid() and form.cleaned_data["base_url"] == "https://93.184.216.34:3000"
    assert not EngineForm({"name": "e", "base_url": "ftp://engine.example"}).is_valid()


def test_it_token_fields_never_render_a_value():
    form = EngineSettingsForm(initial={"token": "secret-token"}, data=None)
    html = str(form["token"]) + str(form["admin_token"])
    assert "secret-token" not in html and 'type="password"' in html


def test_it_runtime_config_refuses_zero():
    form = RuntimeConfigForm({"rate_limit_per_namespace_per_minute": 0,
                              "body_size_limit_single_bytes": 1, "body_size_limit_batch_bytes": 1})
    assert not form.is_valid() and "rate_limit_per_namespace_per_minute" in form.errors


# ---- issue 10, F9: JSON that json.loads or UTF-8 cannot take ------------------------------

DEEP = "[" * 100_000 + "]" * 100_000  # json.loads raises RecursionError on this
TOO_DEEP_TO_SHOW = '{"a": ' + "[" * 100 + "1" + "]" * 100 + "}"  # parses; the page could not show it


@pytest.mark.parametrize("text,message", [
    (DEEP, "The JSON is nested too deeply (at most 64 levels of arrays and objects)."),
    ('{"a": ' + DEEP + "}", "The JSON is nested too deeply (at most 64 levels of arrays and objects)."),
    (TOO_DEEP_TO_SHOW, "The JSON is nested too deeply (at most 64 levels"),
    ('{"a": ' + "[" * 64 + "]" * 64 + "}", "The properties cannot be published: a value is nested deeper than 64 levels."),
    ('{"a": "\\ud800"}', "a string holds a lone surrogate (not valid Unicode)"),
    ('{"\\udfff": 1}', "a key holds a lone surrogate (not valid Unicode)"),
])
def test_it_explains_deep_or_invalid_unicode_json_in_the_publish_form(text, message):
    form = PublishForm({"entity_id": "team-a/x", "properties": text, "stream": "panel.manual",
                        "source": "t"})
    assert not form.is_valid()
    assert message in " ".join(form.errors["properties"])


@pytest.mark.parametrize("text,message", [
    (DEEP, "The JSON is nested too deeply"),
    ('[{"entity_id": "team-a/\\ud800", "properties": {"a": 1}}]', "lone surrogate"),
    ('[{"entity_id": "team-a/x", "properties": ' + TOO_DEEP_TO_SHOW + "}]",
     "The JSON is nested too deeply (at most 64 levels"),
    ('[{"entity_id": "team-a/x", "properties": {"a": ' + "[" * 64 + "]" * 64 + "}}]",
     "Event 1: properties cannot be published: a value is nested deeper than 64 levels"),
])
def test_it_explains_deep_or_invalid_unicode_json_in_the_batch_form(text, message):
    form = BatchForm({"events": text, "stream": "panel.batch", "source": "t"})
    assert not form.is_valid()
    assert message in " ".join(form.errors["events"])


def test_it_accepts_json_as_deep_as_the_panel_can_show():
    nested = "[" * 63 + "1" + "]" * 63  # the properties object is level 1
    form = PublishForm({"entity_id": "team-a/x", "properties": '{"a": ' + nested + "}",
                        "stream": "panel.manual", "source": "t"})
    assert form.is_valid(), form.errors


@pytest.mark.parametrize("entity_id,ok", [
    # src/entity/tests.rs's cases for an id the engine writes (worldstate-api.md §6.4).
    ("matt/sensor-01", True), ("alice_123/device-xyz", True), ("abc-def/x", True),
    ("a1-2_3/any thing: goes", True),
    ("", False), ("/x", False), ("matt/", False), ("a/b/c", False), ("abc/b/c/d", False),
    ("sensor-01", False), ("ab/x", False), ("a" * 33 + "/x", False), ("Matt/x", False),
    ("ma@t/x", False), ("ma.t/x", False), ("ma t/x", False),
])
def test_it_publish_checks_the_entity_id_as_the_engine_writes_it(entity_id, ok):
    assert publish('{"a": 1}', entity_id=entity_id).is_valid() is ok


@pytest.mark.parametrize("entity_id,message", [
    ("sensor-01", "Entity ID 'sensor-01' missing namespace prefix (expected 'namespace/entity' format)"),
    ("abc/b/c", "Entity ID 'abc/b/c' contains multiple '/' separators (expected at most one)"),
    ("ab/x", "Entity ID 'ab/x': Namespace name too short (minimum 3 characters)"),
    ("Abc/x", "Entity ID 'Abc/x': Invalid character 'A' (must be [a-z0-9-_])"),
])
def test_it_says_why_an_entity_id_is_refused_in_both_forms(entity_id, message):
    assert publish('{"a": 1}', entity_id=entity_id).errors["entity_id"] == [message]
    batch = BatchForm({"stream": "panel.batch", "source": "me",
                       "events": f'[{{"entity_id": "{entity_id}", "properties": {{"n": 1}}}}]'})
    assert batch.errors["events"] == [f"Event 1: {message}."]
