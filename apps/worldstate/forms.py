"""Forms of the world-state pages. JSON is parsed and checked here, before anything is sent."""
from __future__ import annotations

import json
import re
from typing import Any

from django import forms
from django.conf import settings

from apps.worldstate.answers import MAX_DEPTH, TOO_DEEP, value_problem
from apps.worldstate.client import BATCH_BODY_LIMIT, SINGLE_EVENT_LIMIT
from fluxpanel import netguard

NAMESPACE_CHAR_RE = re.compile(r"[a-z0-9_-]")
STREAM_RE = re.compile(r"[a-z0-9]+(\.[a-z0-9]+)*")  # the engine's rule: lowercase, optional dots
MAX_BATCH_ITEMS = 10_000
TOO_DEEP_MESSAGE = f"The JSON is nested too deeply (at most {MAX_DEPTH} levels of arrays and objects)."
SECRET_WIDGET = forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"})


def namespace_error(name: str) -> str | None:
    """The engine's own messages (§4.8), checked before asking it."""
    if len(name) < 3:
        return "Namespace name too short (minimum 3 characters)"
    if len(name) > 32:
        return "Namespace name too long (maximum 32 characters)"
    for char in name:
        if not NAMESPACE_CHAR_RE.fullmatch(char):
            return f"Invalid character '{char}' (must be [a-z0-9-_])"
    return None


def entity_id_error(entity_id: str) -> str | None:
    """The engine's rules for an id it will write (worldstate-api.md §6.2, §6.4): `ns/entity`,
    at most one `/`, both sides non-empty and a valid namespace on the left."""
    if not entity_id:
        return "The entity id is empty."
    namespace, slash, rest = entity_id.partition("/")
    if not slash:
        return (f"Entity ID '{entity_id}' missing namespace prefix "
                "(expected 'namespace/entity' format)")
    if "/" in rest:
        return (f"Entity ID '{entity_id}' contains multiple '/' separators "
                "(expected at most one)")
    if not namespace or not rest:
        return f"Entity ID '{entity_id}' needs a namespace and a name on both sides of the '/'"
    if message := namespace_error(namespace):
        return f"Entity ID '{entity_id}': {message}"
    return None


def clean_namespace_value(value: str) -> str:
    value = value.strip()
    if value and (message := namespace_error(value)):
        raise forms.ValidationError(message)
    return value


def parse_json(text: str) -> Any:
    """Parse pasted JSON, refusing what the panel could neither send nor show again: nesting
    deeper than the engine answers may have (answers.MAX_DEPTH; json.loads itself raises
    RecursionError near 1,000 levels) and lone surrogates (`"\\ud800"` parses, but cannot be
    encoded as UTF-8)."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise forms.ValidationError(
            f"Not valid JSON: {error.msg} (line {error.lineno}, column {error.colno})."
        ) from None
    except RecursionError:
        raise forms.ValidationError(TOO_DEEP_MESSAGE) from None
    problem = value_problem(value, MAX_DEPTH + 3)  # room for a batch's array, item and payload
    if problem:
        raise forms.ValidationError(TOO_DEEP_MESSAGE if problem.startswith(TOO_DEEP)
                                    else f"The JSON cannot be published: {problem}.")
    return value


class EngineForm(forms.Form):
    name = forms.CharField(max_length=80)
    base_url = forms.URLField(label="Engine URL", max_length=300, assume_scheme="https",
                              help_text="The engine's HTTP API, e.g. https://api.flux-universe.com")
    namespace = forms.CharField(max_length=32, required=False,
                                help_text="Your team's namespace on this engine (the bridge writes there).")
    token = forms.CharField(required=False, widget=SECRET_WIDGET, strip=True,
                            label="Namespace token",
                            help_text="Kept encrypted; never shown again.")
    admin_token = forms.CharField(required=False, widget=SECRET_WIDGET, strip=True,
                                  help_text="Only to edit the runtime config and register namespaces. "
                                            "Kept encrypted; never shown again.")

    def clean_base_url(self):
        value = self.cleaned_data["base_url"].rstrip("/")
        if not value.startswith(("http://", "https://")):
            raise forms.ValidationError("Use an http:// or https:// URL.")
        # The panel calls this address at once and on every page: refuse internal services
        # (SSRF). The client checks again, pinned, at every connection (DNS can change).
        try:
            netguard.check_url(value, allow_private=bool(settings.ALLOW_PRIVATE_ENGINES))
        except netguard.OutboundRefused as refused:
            raise forms.ValidationError(str(refused)) from None
        return value

    def clean_namespace(self):
        return clean_namespace_value(self.cleaned_data["namespace"])


class EngineSettingsForm(EngineForm):
    clear_token = forms.BooleanField(required=False, label="Remove the stored namespace token")
    clear_admin_token = forms.BooleanField(required=False, label="Remove the stored admin token")
    bridge_enabled = forms.BooleanField(
        required=False, label="Publish the fleet's state to this engine after every sweep")

    field_order = ["name", "base_url", "namespace", "token", "clear_token", "admin_token",
                   "clear_admin_token", "bridge_enabled"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["token"].help_text = "Leave empty to keep the stored one."
        self.fields["admin_token"].help_text = "Leave empty to keep the stored one."

    def clean(self):
        data = super().clean()
        if data.get("bridge_enabled") and not data.get("namespace"):
            self.add_error("namespace", "The bridge needs a namespace to publish into.")
        return data


class PublishForm(forms.Form):
    entity_id = forms.CharField(max_length=300, label="Entity id",
                                help_text="namespace/name, e.g. my-team/sensor-01")
    properties = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 8, "spellcheck": "false", "class": "mono",
                                     "placeholder": '{"status": "online", "temp": 21.5}'}),
        help_text="A JSON object; each property replaces the one of the same name.")
    stream = forms.CharField(max_length=120, initial="panel.manual",
                             help_text="Lowercase words separated by dots.")
    source = forms.CharField(max_length=120, initial="fluxpanel")

    def clean_stream(self):
        return clean_stream(self.cleaned_data["stream"])

    def clean_entity_id(self):
        value = self.cleaned_data["entity_id"].strip()
        if message := entity_id_error(value):
            raise forms.ValidationError(message)
        return value

    def clean_properties(self):
        value = parse_json(self.cleaned_data["properties"])
        if not isinstance(value, dict):
            raise forms.ValidationError(
                f"Properties must be a JSON object ({{...}}), not {json_kind(value)}.")
        if not value:
            raise forms.ValidationError("Give at least one property: an empty object changes nothing.")
        if problem := value_problem(value):
            raise forms.ValidationError(f"The properties cannot be published: {problem}.")
        size = len(json.dumps(value, ensure_ascii=False).encode())
        if size > SINGLE_EVENT_LIMIT - 4096:
            raise forms.ValidationError(f"The properties are {size:,} bytes; an event may carry "
                                        f"at most about {SINGLE_EVENT_LIMIT // 1024} KiB.")
        return value


def clean_stream(value: str) -> str:
    value = value.strip()
    if not STREAM_RE.fullmatch(value):
        raise forms.ValidationError(
            f"invalid stream format '{value}': must be lowercase with optional dots")
    return value


def json_kind(value: Any) -> str:
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    return "a number"


class BatchForm(forms.Form):
    events = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 14, "spellcheck": "false", "class": "mono",
                                     "placeholder": '[{"entity_id": "my-team/a", "properties": {"x": 1}},\n'
                                                    ' {"entity_id": "my-team/b", "properties": {"x": 2}}]'}),
        label="Events (JSON)",
        help_text='An array (or {"events": [...]}) of {"entity_id", "properties"} items, '
                  'optionally with their own stream/source/timestamp, or full envelopes.')
    stream = forms.CharField(max_length=120, initial="panel.batch",
                             help_text="For items that name no stream.")
    source = forms.CharField(max_length=120, initial="fluxpanel")

    def clean_stream(self):
        return clean_stream(self.cleaned_data["stream"])

    def clean_events(self):
        text = self.cleaned_data["events"]
        if len(text.encode()) > BATCH_BODY_LIMIT:
            raise forms.ValidationError(f"The batch is over {BATCH_BODY_LIMIT // 1024 // 1024} MiB, "
                                        "the most the engine accepts in one request.")
        value = parse_json(text)
        if isinstance(value, dict) and "events" in value:
            value = value["events"]
        if not isinstance(value, list):
            raise forms.ValidationError(f"Expected an array of events, got {json_kind(value)}.")
        if not value:
            raise forms.ValidationError("The batch is empty.")
        if len(value) > MAX_BATCH_ITEMS:
            raise forms.ValidationError(f"At most {MAX_BATCH_ITEMS:,} events at once.")
        problems = []
        for number, item in enumerate(value, start=1):
            problem = item_problem(item)
            if problem:
                problems.append(f"Event {number}: {problem}")
        if problems:
            shown = problems[:10]
            if len(problems) > 10:
                shown.append(f"…and {len(problems) - 10} more.")
            raise forms.ValidationError(shown)
        return value

    def items(self) -> list[dict]:
        """The events as client items: short forms get the form's stream and source."""
        stream, source = self.cleaned_data["stream"], self.cleaned_data["source"]
        items = []
        for item in self.cleaned_data["events"]:
            if "payload" in item:
                items.append(item)
                continue
            entry = {"stream": item.get("stream", stream), "source": item.get("source", source),
                     "entity_id": item["entity_id"], "properties": item["properties"]}
            if "timestamp" in item:
                entry["timestamp_ms"] = item["timestamp"]
            for name in ("key", "schema"):
                if name in item:
                    entry[name] = item[name]
            items.append(entry)
        return items


def item_problem(item: Any) -> str | None:
    if not isinstance(item, dict):
        return f"must be a JSON object, not {json_kind(item)}."
    body = item.get("payload", item) if "payload" in item else item
    if not isinstance(body, dict):
        return "payload must be a JSON object."
    entity_id = body.get("entity_id")
    if not isinstance(entity_id, str) or not entity_id:
        return "entity_id must be a non-empty string."
    if message := entity_id_error(entity_id):
        return f"{message}."
    if not isinstance(body.get("properties"), dict):
        return "properties must be a JSON object."
    if problem := value_problem(body["properties"]):
        return f"properties cannot be published: {problem}."
    stream = item.get("stream")
    if stream is not None and not (isinstance(stream, str) and STREAM_RE.fullmatch(stream)):
        return f"invalid stream format '{stream}': must be lowercase with optional dots."
    if "payload" in item and not isinstance(item.get("stream"), str):
        return "a full envelope needs a stream."
    if "payload" in item and not isinstance(item.get("source"), str):
        return "a full envelope needs a source."
    timestamp = item.get("timestamp")
    if timestamp is not None and (isinstance(timestamp, bool) or not isinstance(timestamp, int)
                                  or timestamp <= 0):
        return "timestamp must be a positive integer (epoch milliseconds)."
    return None


class RuntimeConfigForm(forms.Form):
    rate_limit_enabled = forms.BooleanField(required=False, label="Rate limit enabled",
                                            help_text="The engine stores this but does not enforce it.")
    rate_limit_per_namespace_per_minute = forms.IntegerField(
        min_value=1, label="Events per namespace per minute",
        help_text="0 would block every write, so the panel refuses it.")
    body_size_limit_single_bytes = forms.IntegerField(min_value=1, label="Largest event (bytes)")
    body_size_limit_batch_bytes = forms.IntegerField(
        min_value=1, label="Largest batch (bytes)",
        help_text="The engine's HTTP layer caps any body at 2 MiB whatever this says.")


class NamespaceForm(forms.Form):
    name = forms.CharField(max_length=40, help_text="3 to 32 characters from a–z, 0–9, - and _.")

    def clean_name(self):
        value = self.cleaned_data["name"].strip()
        if message := namespace_error(value):
            raise forms.ValidationError(message)
        return value
