from django.urls import path

from cocm.reports import views

urlpatterns = [
    path("quality/", views.quality_measures, name="quality_measures"),
]
