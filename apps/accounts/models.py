"""Teams, memberships with roles, invitations and the audit log."""
import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone

from fluxpanel import vault


class Role(models.TextChoices):
    """Roles ordered by power: each one can do everything the ones before it can."""

    VIEWER = "viewer", "Viewer"
    OPERATOR = "operator", "Operator"
    MANAGER = "manager", "Manager"

    @classmethod
    def rank(cls, role: str) -> int:
        return [cls.VIEWER, cls.OPERATOR, cls.MANAGER].index(role)

    @classmethod
    def at_least(cls, role: str, required: str) -> bool:
        return cls.rank(role) >= cls.rank(required)


class Team(models.Model):
    name = models.CharField(max_length=80, unique=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class Membership(models.Model):
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.VIEWER)
    joined_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["team", "user"], name="one_membership_per_team")
        ]
        ordering = ["team__name", "user__username"]

    def __str__(self):
        return f"{self.user} in {self.team} as {self.role}"

    def can(self, required_role: str) -> bool:
        return Role.at_least(self.role, required_role)


INVITATION_VAULT_PURPOSE = "invitation"


def new_invitation_token() -> str:
    return secrets.token_urlsafe(24)


def invitation_token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def invitation_expiry():
    return timezone.now() + timedelta(days=7)


class Invitation(models.Model):
    """A link that lets whoever opens it (signed in) join the team with the given role, once."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="invitations")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.VIEWER)
    # The link's token is a key to the team: only its digest is looked up, and the token itself is
    # kept encrypted so a manager can copy the link again (a copy of the database opens nothing).
    token_digest = models.CharField(max_length=64, unique=True)
    token_sealed = models.TextField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(default=invitation_expiry)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    accepted_at = models.DateTimeField(null=True, blank=True)
    revoked = models.BooleanField(default=False)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"invitation to {self.team} as {self.role}"

    def save(self, *args, **kwargs):
        if not self.token_digest:
            token = new_invitation_token()
            self.token_digest = invitation_token_digest(token)
            self.token_sealed = vault.encrypt(token, purpose=INVITATION_VAULT_PURPOSE)
        super().save(*args, **kwargs)

    @property
    def token(self) -> str:
        """The link's token; "" when it cannot be opened (the panel's key changed)."""
        try:
            return vault.decrypt(self.token_sealed, purpose=INVITATION_VAULT_PURPOSE)
        except (vault.InvalidToken, ValueError):
            return ""

    @property
    def is_open(self) -> bool:
        return not self.revoked and self.accepted_at is None and self.expires_at > timezone.now()


class AuditEntry(models.Model):
    """One write in the panel: who did what to which object, when, and how it ended."""

    class Outcome(models.TextChoices):
        SUCCESS = "success", "Success"
        FAILURE = "failure", "Failure"
        DENIED = "denied", "Denied"

    team = models.ForeignKey(
        Team, on_delete=models.CASCADE, null=True, blank=True, related_name="audit_entries"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # The actor's name at the time, kept when the user is deleted later.
    actor_name = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=64)
    target_type = models.CharField(max_length=64, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    target_repr = models.CharField(max_length=200, blank=True)
    outcome = models.CharField(max_length=16, choices=Outcome.choices, default=Outcome.SUCCESS)
    detail = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    # Rows of one flow (a signing request from creation to signature, a batch of them) share this
    # key, so the audit page shows the flow as one entry with its steps. Empty: a row on its own.
    flow = models.CharField(max_length=80, blank=True, default="", db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["team", "-created_at"])]

    def __str__(self):
        return f"{self.actor_name} {self.action} {self.target_repr} ({self.outcome})"
