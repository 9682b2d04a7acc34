from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import path

from cocm.accounts import views as accounts
from cocm.api.routes import api
from cocm.registry import views as registry

urlpatterns = [
    path("", accounts.home, name="home"),
    path(
        "login/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("organization/", accounts.organization, name="organization"),
    path("caseload/", registry.caseload, name="caseload"),
    path("referrals/", registry.pcp_patients, name="pcp_patients"),
    path("billing/", registry.billing_readiness, name="billing_readiness"),
    path("patients/find/", registry.patient_search, name="patient_search"),
    path("patients/new/", registry.register_patient, name="register_patient"),
    path("patients/<int:patient_id>/", registry.patient_chart, name="patient_chart"),
    path("patients/<int:patient_id>/refer/", registry.refer_patient, name="refer_patient"),
    path("episodes/<int:episode_id>/enroll/", registry.enroll_patient, name="enroll_patient"),
    path("episodes/<int:episode_id>/status/", registry.change_status, name="change_status"),
    path("episodes/<int:episode_id>/diagnoses/", registry.add_diagnosis, name="add_diagnosis"),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
]
