from django.urls import path

from apps.earnings import views

app_name = "earnings"
urlpatterns = [
    path("", views.totals, name="totals"),
]
