"""Long operations (sweeps, lifecycle commands, backups) as rows that a page can follow."""
from django.conf import settings
from django.db import models
from django.utils import timezone

# The outcome text of a target a job is acting on now (see Job.outcome).
OUTCOME_IN_PROGRESS = "in progress"
# The params key of a queued job held until a signing request is signed (its id): no worker has it yet.
HELD_FOR = "held_for_request"


class Job(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    FINISHED = (Status.SUCCEEDED, Status.FAILED, Status.CANCELLED)

    team = models.ForeignKey("accounts.Team", on_delete=models.CASCADE, related_name="jobs")
    kind = models.CharField(max_length=64)
    target = models.CharField(max_length=200, blank=True)
    params = models.JSONField(default=dict, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True)
    # The identity of the process that runs it (ProcessHeartbeat.identity), or "inline".
    worker = models.CharField(max_length=200, blank=True)
    cancel_requested = models.BooleanField(default=False)
    # The sequence number of the last JobLine: the cursor a poll compares with.
    last_line = models.PositiveIntegerField(default=0)
    # What the job did per target so far, as [[target, text], ...] in its own order (a list: jsonb
    # reorders an object's keys). Written as it goes, so a cancelled job, or one whose worker was
    # killed, still says which targets were done.
    outcome = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["team", "-created_at"]),
            models.Index(fields=["status"]),
        ]

    def __str__(self):
        return f"{self.kind} #{self.pk}"

    @property
    def is_finished(self) -> bool:
        return self.status in self.FINISHED

    @property
    def kind_label(self) -> str:
        """What the job's kind is called on pages ("App operation"), its code name if unknown."""
        from apps.jobs.kinds import get_kind

        kind = get_kind(self.kind)
        return kind.label if kind else self.kind

    @property
    def held_for_request(self) -> int | None:
        value = self.params.get(HELD_FOR) if isinstance(self.params, dict) else None
        return value if isinstance(value, int) and self.status == self.Status.QUEUED else None

    @property
    def outcome_rows(self) -> list[tuple[str, str, str]]:
        """(target, text, kind) per recorded target; kind is done, failed, waiting or interrupted
        (a target still "in progress" when the job ended: it was being acted on when it stopped)."""
        rows = []
        for pair in self.outcome if isinstance(self.outcome, list) else []:
            if not (isinstance(pair, list) and len(pair) == 2):
                continue
            target, text = str(pair[0]), str(pair[1])
            if text == OUTCOME_IN_PROGRESS:
                kind = "interrupted" if self.is_finished else "waiting"
                text = "interrupted: the job ended while acting on it" if self.is_finished else text
            elif text == "done" or text.startswith("done"):
                kind = "done"
            elif text.startswith("failed"):
                kind = "failed"
            else:
                kind = "waiting"
            rows.append((target, text, kind))
        return rows


class JobLine(models.Model):
    """One line of a job's output; `seq` is 1, 2, 3… within the job so a poll can say "after N"."""

    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="lines")
    seq = models.PositiveIntegerField()
    at = models.DateTimeField(default=timezone.now)
    text = models.TextField()

    class Meta:
        ordering = ["seq"]
        constraints = [models.UniqueConstraint(fields=["job", "seq"], name="job_line_seq")]

    def __str__(self):
        return f"{self.job_id}:{self.seq} {self.text[:60]}"


class ProcessHeartbeat(models.Model):
    """Last sign of life of one Celery worker or beat *process* (shown in /healthz).

    One row per process start: `identity` is the Celery node name plus pid plus a random part, so
    a worker restarted under the same node name (same host, a new container, `make run` again) is
    a new row, and a job recorded with the dead process's identity is seen as orphaned even though
    a worker of that name is alive again.
    """

    class Role(models.TextChoices):
        WORKER = "worker", "Worker"
        BEAT = "beat", "Beat"

    identity = models.CharField(max_length=200, unique=True)
    hostname = models.CharField(max_length=200)  # the Celery node name, e.g. worker@host
    pid = models.PositiveIntegerField(default=0)
    role = models.CharField(max_length=16, choices=Role.choices)
    last_seen = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["hostname", "started_at"], name="heartbeat_host_started")]

    def __str__(self):
        return f"{self.role} {self.identity}"
