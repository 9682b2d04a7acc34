from django.urls import path

from cocm.interop import views

app_name = "fhir"

urlpatterns = [
    path("fhir", views.root, name="fhir_root"),
    path("fhir/", views.root, name="fhir_root_slash"),
    path("fhir/metadata", views.metadata, name="fhir_metadata"),
    path("fhir/<str:resource_type>", views.search, name="fhir_search"),
    path("fhir/<str:resource_type>/<str:resource_id>", views.read, name="fhir_read"),
]
