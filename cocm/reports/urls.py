from django.urls import path

from cocm.reports import quality_views, views

urlpatterns = [
    path("", views.program_dashboard, name="program_dashboard"),
    path("patients/", views.indicator_patients, name="indicator_patients"),
    path("program.pdf", views.program_report_pdf, name="program_report_pdf"),
    path("quality/", quality_views.quality_measures, name="quality_measures"),
]
