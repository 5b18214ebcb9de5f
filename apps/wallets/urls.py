from django.urls import path

from apps.wallets import api, long_messages, views
from fluxpanel import params  # noqa: F401  (registers the <id:…> converter)

app_name = "wallets"
urlpatterns = [
    path("", views.home, name="home"),
    path("badge/", views.nav_badge, name="nav_badge"),
    path("icon.svg", views.icon, name="icon"),
    # Identities: link a ZelID (become its key holder), unlink it, sign in with it.
    path("link/", views.bind, name="bind"),
    path("link/next/", api.bind_next, name="bind_next"),
    path("identities/<id:pk>/remove/", views.identity_remove, name="identity_remove"),
    path("signin/", views.signin, name="signin"),
    path("signin/next/", api.signin_next, name="signin_next"),
    # Tokens are secrets.token_urlsafe (a slug): anything else, e.g. a NUL byte that PostgreSQL
    # refuses in a query, is a 404 before any lookup.
    path("challenges/<slug:token>/submit/", api.challenge_submit, name="challenge_submit"),
    path("challenges/<slug:token>/poll/", api.challenge_poll, name="challenge_poll"),
    path("challenges/<slug:token>/zelcore/", api.challenge_callback, name="challenge_callback"),
    path("challenges/<slug:token>/qr.svg", api.challenge_qr, name="challenge_qr"),
    # Node sessions and app-owner authorisations.
    path("sessions/", views.sessions_page, name="sessions"),
    path("sessions/prepare/", views.prepare_login, name="prepare_login"),
    path("sessions/renew/", views.renew_all, name="renew_all"),
    path("sessions/<id:pk>/logout/", views.session_logout, name="session_logout"),
    path("app-owner/", views.app_owner, name="app_owner"),
    path("app-owner/<id:pk>/revoke/", views.authorisation_revoke, name="authorisation_revoke"),
    # Signing requests: the queue, one request, and the component's endpoints.
    path("requests/", views.requests_page, name="requests"),
    path("requests/<id:pk>/", views.request_detail, name="request_detail"),
    path("requests/<id:pk>/sign/", api.request_sign, name="request_sign"),
    path("requests/<id:pk>/poll/", api.request_poll, name="request_poll"),
    path("requests/<id:pk>/qr.svg", api.request_qr, name="request_qr"),
    path("requests/<id:pk>/decline/", views.request_decline, name="request_decline"),
    path("requests/<id:pk>/withdraw/", views.request_cancel, name="request_cancel"),
    path("requests/zelcore/<slug:token>/", api.request_callback, name="request_callback"),
    path("requests/zelcore/<slug:token>/<slug:key>.txt", long_messages.serve_message, name="request_message"),
    path("sign/", views.sign, name="sign"),
    path("sign/next/", api.sign_next, name="sign_next"),
]
