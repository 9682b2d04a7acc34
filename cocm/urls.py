from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from cocm import chart
from cocm.accounts import two_factor
from cocm.accounts import views as accounts
from cocm.api.routes import api
from cocm.measures import views as measures
from cocm.registry import views as registry

urlpatterns = [
    path("", accounts.home, name="home"),
    path("favicon.ico", accounts.favicon, name="favicon"),
    path(
        "login/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("login/two-factor/", two_factor.two_factor, name="two_factor"),
    path("organization/security/", accounts.organization_security, name="organization_security"),
    path("audit/", accounts.audit_log, name="audit_log"),
    path("audit/export.csv", accounts.audit_export, name="audit_export"),
    path("audit/break-glass/", accounts.break_glass_report, name="break_glass_report"),
    path("break-glass/", accounts.break_glass, name="break_glass"),
    path("organization/", accounts.organization, name="organization"),
    path("", include("cocm.care.urls")),
    path("", include("cocm.billing.urls")),
    path("reports/", include("cocm.reports.urls")),
    path("finance/", include("cocm.finance.urls")),
    path("toolkit/", include("cocm.toolkit.urls")),
    path("patients/find/", registry.patient_search, name="patient_search"),
    path("patients/new/", registry.register_patient, name="register_patient"),
    path("patients/<int:patient_id>/", chart.patient_chart, name="patient_chart"),
    path("patients/<int:patient_id>/edit/", registry.edit_patient, name="edit_patient"),
    path("patients/<int:patient_id>/refer/", registry.refer_patient, name="refer_patient"),
    path("patients/<int:patient_id>/guardians/new/", registry.add_guardian, name="add_guardian"),
    path("guardians/<int:guardian_id>/edit/", registry.edit_guardian, name="edit_guardian"),
    path("organization/pediatric/", registry.pediatric_settings, name="pediatric_settings"),
    path("episodes/<int:episode_id>/enroll/", registry.enroll_patient, name="enroll_patient"),
    path("episodes/<int:episode_id>/status/", registry.change_status, name="change_status"),
    path(
        "episodes/<int:episode_id>/consent/revoke/", registry.revoke_consent, name="revoke_consent"
    ),
    path("episodes/<int:episode_id>/consent/renew/", registry.renew_consent, name="renew_consent"),
    path(
        "episodes/<int:episode_id>/consent/form/",
        registry.consent_form,
        name="consent_form",
    ),
    path(
        "episodes/<int:episode_id>/consent/document/",
        registry.consent_document,
        name="consent_document",
    ),
    path("episodes/<int:episode_id>/diagnoses/", registry.add_diagnosis, name="add_diagnosis"),
    path("episodes/<int:episode_id>/care-team/", registry.edit_care_team, name="edit_care_team"),
    path("patients/<int:patient_id>/coverage/", registry.edit_coverage, name="add_coverage"),
    path(
        "patients/<int:patient_id>/coverage/<int:coverage_id>/",
        registry.edit_coverage,
        name="edit_coverage",
    ),
    path("episodes/without-consultant/", registry.without_consultant, name="without_consultant"),
    path(
        "episodes/<int:episode_id>/assessments/new/", measures.new_assessment, name="new_assessment"
    ),
    path("assessments/<int:assessment_id>/", measures.assessment_detail, name="assessment_detail"),
    path(
        "assessments/<int:assessment_id>/amend/", measures.amend_assessment, name="amend_assessment"
    ),
    path("alerts/<int:alert_id>/follow-up/", measures.follow_up_alert, name="follow_up_alert"),
    path(
        "episodes/<int:episode_id>/self-report/", measures.send_invitation, name="send_invitation"
    ),
    path("episodes/<int:episode_id>/schedules/", measures.start_schedule, name="start_schedule"),
    path("schedules/<int:schedule_id>/stop/", measures.stop_schedule, name="stop_schedule"),
    path(
        "episodes/<int:episode_id>/treatment-changes/",
        measures.new_treatment_change,
        name="new_treatment_change",
    ),
    path("notifications/", measures.notifications, name="notifications"),
    path("notifications/badge/", measures.notification_badge, name="notification_badge"),
    path("r/<str:token>/", measures.self_report, name="self_report"),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("", include("cocm.interop.urls", namespace="fhir")),
    path("interop/", include("cocm.interop.page_urls")),
]

# A request body over the size limit is answered with a 413 that says so.
handler400 = "cocm.accounts.views.bad_request"
# Error pages in the product's layout, saying what to do next.
handler403 = "cocm.accounts.views.permission_denied"
handler404 = "cocm.accounts.views.page_not_found"
handler500 = "cocm.accounts.views.server_error"
