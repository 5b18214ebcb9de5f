from django.apps import AppConfig


class NetworkConfig(AppConfig):
    name = "apps.network"
    label = "network"
    verbose_name = "Network statistics"
    default_auto_field = "django.db.models.BigAutoField"
