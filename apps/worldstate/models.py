"""World-state engines a team registered, the namespaces it made there, and the bridge's record.

Tokens are kept encrypted (fluxpanel.vault) and never rendered back: pages only say whether one
is set. The panel calls no engine but these: every outbound call starts from an Engine row.
"""
from __future__ import annotations

import json
import logging

from django.conf import settings
from django.db import models
from django.utils import timezone

from apps.worldstate.client import WorldStateClient
from fluxpanel import vault

log = logging.getLogger(__name__)

PAGE_TIMEOUT_S = 5.0  # a page waits at most this long for the engine


def _reveal(ciphertext: str, what: str) -> str | None:
    if not ciphertext:
        return None
    try:
        return vault.decrypt(ciphertext)
    except vault.InvalidToken:  # the encryption key changed: the token must be entered again
        log.warning("cannot decrypt a stored %s; enter it again", what)
        return None


class Engine(models.Model):
    team = models.ForeignKey("accounts.Team", on_delete=models.CASCADE, related_name="worldstate_engines")
    name = models.CharField(max_length=80)
    base_url = models.CharField(max_length=300)
    # The team's own namespace on this engine: the bridge writes there, and its token is `token`.
    namespace = models.CharField(max_length=32, blank=True)
    token_encrypted = models.TextField(blank=True)
    admin_token_encrypted = models.TextField(blank=True)
    bridge_enabled = models.BooleanField(default=False)
    bridge_last_run_at = models.DateTimeField(null=True, blank=True)
    bridge_last_published = models.PositiveIntegerField(default=0)
    bridge_last_error = models.CharField(max_length=500, blank=True)
    bridge_last_error_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["team", "name"], name="engine_name_per_team")]

    def __str__(self):
        return self.name

    @property
    def has_token(self) -> bool:
        return bool(self.token_encrypted)

    @property
    def has_admin_token(self) -> bool:
        return bool(self.admin_token_encrypted)

    def set_token(self, token: str) -> None:
        self.token_encrypted = vault.encrypt(token) if token else ""

    def set_admin_token(self, token: str) -> None:
        self.admin_token_encrypted = vault.encrypt(token) if token else ""

    def token(self) -> str | None:
        return _reveal(self.token_encrypted, "engine token")

    def admin_token(self) -> str | None:
        return _reveal(self.admin_token_encrypted, "admin token")

    def namespace_tokens(self) -> dict[str, str]:
        """Tokens the panel holds per namespace: the engine's own one and those it registered."""
        tokens = {}
        for name, ciphertext in self.namespaces.values_list("name", "token_encrypted"):
            token = _reveal(ciphertext, "namespace token")
            if token:
                tokens[name] = token
        own = self.token()
        if self.namespace and own:
            tokens[self.namespace] = own
        return tokens

    def client(self, *, token: str | None = None, admin: bool = False,
               timeout: float = PAGE_TIMEOUT_S) -> WorldStateClient:
        """The one way the panel builds a client for an engine: with the outbound policy
        (private addresses only when FLUXPANEL_ALLOW_PRIVATE_ENGINES is set, read at call time)."""
        return WorldStateClient(self.base_url, token=token if token is not None else self.token(),
                                admin_token=self.admin_token() if admin else None,
                                timeout=timeout, allow_private=bool(settings.ALLOW_PRIVATE_ENGINES))


def namespace_of(entity_id: str) -> str | None:
    head, slash, _rest = entity_id.partition("/")
    return head if slash else None


class EngineNamespace(models.Model):
    """A namespace registered through the panel; its token exists nowhere else (no rotation)."""

    engine = models.ForeignKey(Engine, on_delete=models.CASCADE, related_name="namespaces")
    name = models.CharField(max_length=32)
    namespace_id = models.CharField(max_length=32)
    token_encrypted = models.TextField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                                   blank=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["engine", "name"], name="engine_namespace_name")]

    def __str__(self):
        return self.name


class BridgeRecord(models.Model):
    """What the bridge last published for one entity (a digest), so it sends only changes."""

    engine = models.ForeignKey(Engine, on_delete=models.CASCADE, related_name="bridge_records")
    entity_id = models.CharField(max_length=300)
    digest = models.CharField(max_length=40)
    published_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["engine", "entity_id"], name="bridge_record_entity")]

    def __str__(self):
        return self.entity_id


# ---- live updates (issue 18): the subscriber's lease, the panel's copy, the recent log ------------


class SubscriberHeartbeat(models.Model):
    """Last sign of life of one `worldstate_subscribe` process (shown in /healthz), one row per
    process start, like the jobs app's worker heartbeats."""

    identity = models.CharField(max_length=200, unique=True)
    pid = models.PositiveIntegerField(default=0)
    started_at = models.DateTimeField(default=timezone.now)
    last_seen = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return self.identity


class EngineLive(models.Model):
    """One engine's live subscription: who holds it (the lease), how it goes, and a counter of
    changes to the panel's copy (pages compare it to answer 304).

    The lease is this row's `holder` + `beat_at`: a subscriber takes it with a conditional
    UPDATE when it is free or its holder has been silent for the lease time, so exactly one
    subscriber per engine holds the WebSocket; every write to the copy re-checks it."""

    class State(models.TextChoices):
        CONNECTING = "connecting", "connecting"
        LIVE = "live", "live"
        RETRYING = "retrying", "reconnecting after a failure"
        STOPPED = "stopped", "stopped"

    engine = models.OneToOneField(Engine, on_delete=models.CASCADE, primary_key=True, related_name="live")
    holder = models.CharField(max_length=200, blank=True)
    beat_at = models.DateTimeField(null=True, blank=True)
    state = models.CharField(max_length=16, choices=State.choices, default=State.STOPPED)
    reason = models.CharField(max_length=500, blank=True)  # why the last connection failed
    reason_at = models.DateTimeField(null=True, blank=True)
    connected_at = models.DateTimeField(null=True, blank=True)
    synced_at = models.DateTimeField(null=True, blank=True)  # last full resync from the REST API
    reconnects = models.PositiveIntegerField(default=0)
    version = models.BigIntegerField(default=0)  # the sequence number of the last change
    metrics = models.JSONField(default=dict, blank=True)  # the engine's last metrics_update
    metrics_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"live {self.engine_id}"


ENTITY_ID_MAX = 300  # longer ids are not copied: their pages read the engine, as before


class LiveEntity(models.Model):
    """The panel's copy of one entity, as the subscription last saw it."""

    engine = models.ForeignKey(Engine, on_delete=models.CASCADE, related_name="live_entities")
    entity_id = models.CharField(max_length=ENTITY_ID_MAX)
    properties = models.JSONField(default=dict)
    last_updated = models.DateTimeField(null=True, blank=True)
    version = models.BigIntegerField(default=0)  # EngineLive.version when it last changed
    # False when a value cannot be stored (a NUL character, too deep, not finite): that entity's
    # page reads the engine instead of the copy.
    copied = models.BooleanField(default=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["engine", "entity_id"], name="live_entity_id")]

    def __str__(self):
        return self.entity_id


class LiveUpdate(models.Model):
    """One line of an engine's bounded recent-updates log (the live stream page)."""

    class Kind(models.TextChoices):
        UPDATE = "update", "update"
        DELETED = "deleted", "deleted"
        RESYNC = "resync", "resync"  # a summary line: what a resync after a reconnect found

    class Via(models.TextChoices):
        LIVE = "live", "live"  # a WebSocket message
        RESYNC = "resync", "resync"  # found by comparing the REST listing after a reconnect

    engine = models.ForeignKey(Engine, on_delete=models.CASCADE, related_name="live_updates")
    seq = models.BigIntegerField()
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.UPDATE)
    via = models.CharField(max_length=8, choices=Via.choices, default=Via.LIVE)
    entity_id = models.CharField(max_length=ENTITY_ID_MAX)
    property_name = models.CharField(max_length=200, blank=True)
    old = models.JSONField(null=True, blank=True)
    new = models.JSONField(null=True, blank=True)
    had_old = models.BooleanField(default=False)  # old is a value (perhaps null), not "absent"
    note = models.CharField(max_length=200, blank=True)
    at = models.DateTimeField()  # the engine's processing time, else when the panel saw it

    class Meta:
        constraints = [models.UniqueConstraint(fields=["engine", "seq"], name="live_update_seq")]

    def __str__(self):
        return f"{self.entity_id}.{self.property_name}"

    @property
    def old_text(self) -> str:
        return _shown(self.old)

    @property
    def new_text(self) -> str:
        return _shown(self.new)


SHOWN_VALUE_CHARS = 120


def _shown(value) -> str:
    """A value as JSON on one line, cut for the stream (the entity page shows it whole)."""
    text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= SHOWN_VALUE_CHARS else text[:SHOWN_VALUE_CHARS - 1] + "…"
