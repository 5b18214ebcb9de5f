from django.urls import path

from apps.jobs import views

app_name = "jobs"
urlpatterns = [
    path("", views.job_list, name="list"),
    path("start/", views.job_start, name="start"),
    path("<int:pk>/", views.job_detail, name="detail"),
    path("<int:pk>/poll/", views.job_poll, name="poll"),
    path("<int:pk>/cancel/", views.job_cancel, name="cancel"),
]
