from django.apps import AppConfig


class BackupsConfig(AppConfig):
    """Backups of team apps' component volumes (issue 16): taken from a node into the panel's own
    encrypted storage, verified, kept by retention, scheduled, and restored safely."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "apps.backups"

    def ready(self):
        # Job kinds register themselves on import; each module adds its own import here.
        from apps.backups import (
            jobs,  # noqa: F401 - registers app_backup, app_restore, backup_verify
            prune,  # noqa: F401 - registers backup_prune
        )
