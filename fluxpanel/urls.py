from django.contrib import admin
from django.contrib.auth import get_user_model
from django.shortcuts import redirect
from django.urls import include, path

import fluxpanel.params  # noqa: F401  (registers the <id:…> path converter before app URLs load)
from fluxpanel.health import healthz


def home(request):
    """Send a fresh panel to the first-user sign-up, everyone else to the fleet."""
    if not request.user.is_authenticated and not get_user_model().objects.exists():
        return redirect("accounts:first_user")
    return redirect("nodes:fleet")


urlpatterns = [
    path("", home, name="home"),
    path("healthz", healthz, name="healthz"),
    path("metrics", include("apps.nodes.metrics_urls")),
    path("accounts/", include("apps.accounts.urls")),
    path("fleet/", include("apps.nodes.urls")),
    path("apps/", include("apps.deployments.urls")),
    path("pricing/", include("apps.pricing.urls")),
    path("earnings/", include("apps.earnings.urls")),
    path("drafts/", include("apps.builder.urls")),
    path("operate/", include("apps.operations.urls")),
    path("worldstate/", include("apps.worldstate.urls")),
    path("jobs/", include("apps.jobs.urls")),
    path("wallet/", include("apps.wallets.urls")),
    path("network/", include("apps.network.urls")),
    path("backups/", include("apps.backups.urls")),
    path("admin/", admin.site.urls),
]
