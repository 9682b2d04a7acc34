from django.urls import path

from cocm.finance import views

urlpatterns = [
    path("", views.finance_model, name="finance_model"),
    path("export.xlsx", views.finance_export, name="finance_export"),
    path("scenarios/", views.finance_scenarios, name="finance_scenarios"),
    path("scenarios/save/", views.finance_save, name="finance_save"),
    path("scenarios/<int:scenario_id>/delete/", views.finance_delete, name="finance_delete"),
    path("compare/", views.finance_compare, name="finance_compare"),
]
