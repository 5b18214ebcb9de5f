from django.urls import path

from apps.pricing import views

app_name = "pricing"
urlpatterns = [path("", views.estimator, name="estimator")]
