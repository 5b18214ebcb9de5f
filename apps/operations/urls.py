from django.urls import path

from apps.operations import (
    exec_views,
    files_views,
    logs_views,
    operate_views,
    schedule_views,
    stats_views,
)

app_name = "operations"
# /operate/<app id>/... : one URL per page (the operations page, the merged logs page) with its
# htmx partials.
urlpatterns: list = [
    path("<id:pk>/", operate_views.operate, name="operate"),
    path("<id:pk>/logs/", logs_views.app_logs, name="logs"),
    path("<id:pk>/stats/", stats_views.app_stats, name="stats"),
    path("<id:pk>/exec/", exec_views.app_exec, name="exec"),
    # The team's Schedules page (windows and scheduled operations) and its writes.
    path("schedules/", schedule_views.schedules_page, name="schedules"),
    path("schedules/windows/", schedule_views.window_create, name="window_create"),
    path("schedules/windows/<id:pk>/", schedule_views.window_update, name="window_update"),
    path("schedules/windows/<id:pk>/delete/", schedule_views.window_delete, name="window_delete"),
    path("schedules/new/", schedule_views.schedule_create, name="schedule_create"),
    path("schedules/<id:pk>/", schedule_views.schedule_update, name="schedule_update"),
    path("schedules/<id:pk>/enabled/", schedule_views.schedule_enabled, name="schedule_enabled"),
    path("schedules/<id:pk>/delete/", schedule_views.schedule_delete, name="schedule_delete"),
    path("<id:pk>/files/", files_views.app_files, name="files"),
    path("<id:pk>/files/download/", files_views.download, name="files_download"),
]
