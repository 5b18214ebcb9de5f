from django.apps import AppConfig


class DeploymentsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "apps.deployments"

    def ready(self):
        from apps.deployments.alerts import on_apps_synced
        from apps.deployments.signals import apps_synced
        from apps.worldstate.bridge import on_apps_synced as bridge_on_apps_synced

        apps_synced.connect(on_apps_synced, dispatch_uid="deployments.app_alerts")
        apps_synced.connect(bridge_on_apps_synced, dispatch_uid="worldstate.bridge.apps")
