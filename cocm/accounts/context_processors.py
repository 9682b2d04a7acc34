from typing import Any

from django.http import HttpRequest

from cocm.accounts.permissions import can

NAVIGATION = (
    ("caseload", "Caseload", "view_caseload"),
    ("pcp_patients", "My referrals", "view_referrals"),
    ("patient_search", "Find patient", "view_patient"),
    ("register_patient", "Register patient", "register_patient"),
    ("billing_readiness", "Billing", "view_billing"),
    ("organization", "Organization", "manage_organization"),
)


def navigation(request: HttpRequest) -> dict[str, Any]:
    """The menu entries the signed-in user's roles allow."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": []}
    items = [(name, label) for name, label, capability in NAVIGATION if can(user, capability)]
    return {"nav_items": items}
