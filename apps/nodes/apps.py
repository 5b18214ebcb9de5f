from django.apps import AppConfig


class NodesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "apps.nodes"

    def ready(self):
        from apps.nodes import admin_jobs  # noqa: F401 - registers the node_admin kind
