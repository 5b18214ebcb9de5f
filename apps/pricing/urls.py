from django.urls import path

from apps.pricing import views

app_name = "pricing"
urlpatterns = [
    path("", views.estimator, name="estimator"),
    path("renewals/", views.renewals, name="renewals"),
    path("renewals.csv", views.renewals_csv, name="renewals_csv"),
]
