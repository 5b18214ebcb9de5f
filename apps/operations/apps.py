from django.apps import AppConfig


class OperationsConfig(AppConfig):
    """Operating a team's apps across their instances: lifecycle jobs (per instance, global,
    rolling) and merged logs (issue 15)."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "apps.operations"

    def ready(self):
        # Job kinds register themselves on import; each module adds its own import here.
        import apps.operations.exec_runs  # noqa: F401 - registers the app_exec kind
        from apps.operations import jobs  # noqa: F401 - registers the app_operation kind
