from django.urls import path

from apps.jobs import views

app_name = "jobs"
urlpatterns = [
    path("", views.job_list, name="list"),
    path("start/", views.job_start, name="start"),
    path("<id:pk>/", views.job_detail, name="detail"),
    path("<id:pk>/cancel/", views.job_cancel, name="cancel"),
]
