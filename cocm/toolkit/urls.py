from django.urls import path

from cocm.toolkit import views

urlpatterns = [
    path("episodes/<int:episode_id>/handout.pdf", views.patient_handout, name="patient_handout"),
]
