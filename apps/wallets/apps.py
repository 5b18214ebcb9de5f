from django.apps import AppConfig


class WalletsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "apps.wallets"

    def ready(self):
        # Register this app's signing-request kinds (node login, app-owner authorisation).
        from apps.wallets import node_login  # noqa: F401
