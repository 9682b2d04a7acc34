from django.urls import path

from cocm.interop import views

app_name = "fhir"

urlpatterns = [
    path("fhir", views.root, name="fhir_root"),
    path("fhir/", views.root, name="fhir_root_slash"),
    path("fhir/metadata", views.metadata, name="fhir_metadata"),
    path("fhir/$export", views.export_system, name="export_system"),
    path("fhir/Patient/$export", views.export_patients, name="export_patients"),
    path("fhir/Group/<str:group>/$export", views.export_group, name="export_group"),
    path("fhir/$export-status/<str:key>", views.export_status, name="export_status"),
    path("fhir/$import-status/<str:key>", views.import_status, name="import_status"),
    path("fhir/$export-file/<str:key>/<str:name>", views.export_file, name="export_file"),
    path("fhir/<str:resource_type>", views.search, name="fhir_search"),
    path("fhir/<str:resource_type>/<str:resource_id>", views.read, name="fhir_read"),
]
