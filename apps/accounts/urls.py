from django.contrib.auth import views as auth_views
from django.urls import path

from apps.accounts import views

app_name = "accounts"
urlpatterns = [
    # A signed-in user asking for a sign-in page goes where they were heading instead.
    path("login/", auth_views.LoginView.as_view(
        template_name="accounts/login.html", redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("welcome/", views.first_user, name="first_user"),
    path("no-team/", views.no_team, name="no_team"),
    path("switch/", views.switch_team, name="switch_team"),
    path("team/", views.team, name="team"),
    path("team/new/", views.create_team, name="create_team"),
    path("team/invite/", views.invite, name="invite"),
    path("team/invitations/<id:pk>/revoke/", views.revoke_invitation, name="revoke_invitation"),
    path("team/members/<id:pk>/role/", views.change_role, name="change_role"),
    path("team/members/<id:pk>/remove/", views.remove_member, name="remove_member"),
    path("invite/<slug:token>/", views.invitation, name="invitation"),
    path("audit/", views.audit_log, name="audit"),
]
