from typing import Any

from django.http import HttpRequest

from cocm.accounts.middleware import must_use_two_factor
from cocm.accounts.permissions import can

NAVIGATION = (
    ("caseload", "Caseload", "view_caseload"),
    ("tasks", "Tasks", "manage_tasks"),
    ("review_agenda", "Caseload review", "run_caseload_review"),
    ("pcp_inbox", "Recommendations", "answer_recommendation"),
    ("pcp_patients", "My referrals", "view_referrals"),
    ("patient_search", "Find patient", "view_patient"),
    ("register_patient", "Register patient", "register_patient"),
    ("tracker_upload", "Import tracker", "import_records"),
    ("billing_home", "Billing", "view_billing"),
    ("quality_measures", "Quality", "view_quality_measures"),
    ("program_dashboard", "Program", "view_program_indicators"),
    ("finance_model", "Financial model", "view_finance"),
    ("fee_schedules", "Fee schedules", "manage_fee_schedules"),
    ("organization", "Organization", "manage_organization"),
    ("survey_results", "Surveys", "view_survey_results"),
    ("implementation", "Implementation", "manage_implementation"),
    ("audit_log", "Audit log", "view_audit_log"),
    ("break_glass", "Emergency access", "break_glass"),
)


def navigation(request: HttpRequest) -> dict[str, Any]:
    """The menu entries the signed-in user's roles allow."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": []}
    if must_use_two_factor(user) and not user.is_verified():
        # Signed in with the password only: no menu and no polling until the code is in.
        return {"nav_items": [], "two_factor_pending": True}
    items = [(name, label) for name, label, capability in NAVIGATION if can(user, capability)]
    return {"nav_items": items}
