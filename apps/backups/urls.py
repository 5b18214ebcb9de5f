from django.urls import path

from apps.backups import schedule_views, views

app_name = "backups"
# /backups/ : the team's backups overview; /backups/app/<app id>/ : one app's backups page with its
# htmx partials (list, forms); writes on one backup or schedule by its own id.
urlpatterns: list = [
    path("", views.overview, name="overview"),
    path("app/<id:pk>/", views.app_backups, name="app"),
    path("app/<id:pk>/start/", views.backup_start, name="start"),
    path("app/<id:pk>/upload/", views.backup_upload, name="upload"),
    path("app/<id:pk>/restore/", views.restore_start, name="restore"),
    path("<id:pk>/download/", views.backup_download, name="download"),
    path("<id:pk>/verify/", views.backup_verify, name="verify"),
    path("<id:pk>/delete/", views.backup_delete, name="delete"),
    path("app/<id:pk>/schedules/new/", schedule_views.schedule_create, name="schedule_create"),
    path("schedules/<id:pk>/", schedule_views.schedule_update, name="schedule_update"),
    path("schedules/<id:pk>/enabled/", schedule_views.schedule_enabled, name="schedule_enabled"),
    path("schedules/<id:pk>/delete/", schedule_views.schedule_delete, name="schedule_delete"),
]
