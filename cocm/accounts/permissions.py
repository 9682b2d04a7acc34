"""The one place that says which role may do what.

Views and API endpoints name a capability; they never test roles themselves. Clinic scoping
(a user sees only the patients of the clinics they belong to — through an episode there or,
for a patient without one such as an imported patient, the patient's home clinic — plus
those of an active break-glass grant) is applied by `cocm.accounts.scoping`
(`visible_patients`, `visible_episodes`); the FHIR server uses the same functions.

Minimum necessary (45 CFR 164.502(b)): billing staff see demographics, coverage and billing,
never assessments or notes (`view_clinical`); organization admins manage users, security
settings and the audit log, and see a patient's chart without its clinical parts.
tests/security/test_access_matrix.py walks every URL and API operation for every role
against this table, and every page's content against SECTIONS and CLINICAL_TERMS.
"""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

from cocm.accounts.models import Role

CM = Role.CARE_MANAGER
PC = Role.PSYCHIATRIC_CONSULTANT
PCP = Role.PCP
BILLING = Role.BILLING
ADMIN = Role.ORG_ADMIN

PERMISSIONS: dict[str, frozenset[str]] = {
    # The caseload shows scores, flags and safety alerts: clinical, so not for organization
    # admins (minimum necessary); their view of the programme is the coming reports.
    "view_caseload": frozenset({CM, PC}),
    "view_patient": frozenset({CM, PC, PCP, BILLING, ADMIN}),
    "register_patient": frozenset({CM, PCP, ADMIN}),
    "refer_patient": frozenset({CM, PCP}),
    "view_referrals": frozenset({PCP}),
    "enroll_patient": frozenset({CM}),
    # Consent (docs/toolkit.md): anyone the patient tells may record a revocation; the
    # signed form is documentation billing staff audit too.
    "revoke_consent": frozenset({CM, PC, PCP}),
    "print_consent_form": frozenset({CM, PCP}),
    "view_consent_document": frozenset({CM, PC, PCP, BILLING}),
    # Parents and guardians of patients under 18 (docs/pediatric.md).
    "manage_guardians": frozenset({CM, PCP, ADMIN}),
    # Program toolkit (docs/toolkit.md).
    "print_handout": frozenset({CM, PC, PCP}),
    "view_survey_results": frozenset({CM, PC, ADMIN}),
    "send_surveys": frozenset({ADMIN}),
    "answer_staff_survey": frozenset({CM, PCP}),
    "view_implementation": frozenset({CM, PC, PCP, ADMIN}),
    "manage_implementation": frozenset({ADMIN}),
    "change_episode_status": frozenset({CM, PC}),
    "edit_care_team": frozenset({CM, PC, PCP}),
    "edit_diagnoses": frozenset({CM, PC, PCP}),
    "view_clinical": frozenset({CM, PC, PCP}),
    "record_assessment": frozenset({CM, PC, PCP}),
    "send_self_report": frozenset({CM}),
    "follow_up_safety_alert": frozenset({CM, PC, PCP}),
    "record_treatment_change": frozenset({CM, PC, PCP}),
    "record_contact": frozenset({CM, PC, PCP}),
    "export_caseload": frozenset({CM, PC}),
    "request_review": frozenset({CM}),
    "run_caseload_review": frozenset({PC}),
    "answer_recommendation": frozenset({PCP}),
    "manage_tasks": frozenset({CM}),
    "edit_relapse_plan": frozenset({CM, PC}),
    "view_billing": frozenset({BILLING, ADMIN}),
    "close_billing_month": frozenset({BILLING}),
    "manage_fee_schedules": frozenset({BILLING, ADMIN}),
    "manage_organization": frozenset({ADMIN}),
    # The financial model (docs/finance.md): practice administrators, not care managers.
    "view_finance": frozenset({BILLING, ADMIN}),
    "save_finance_scenario": frozenset({BILLING, ADMIN}),
    # Security (docs/security.md).
    "view_clinics": frozenset({CM, PC, PCP, BILLING, ADMIN}),
    "edit_patient": frozenset({CM, PCP, ADMIN}),
    "break_glass": frozenset({CM, PC, PCP}),
    "view_audit_log": frozenset({ADMIN}),
    # Quality measures with their patient lists (docs/quality.md): program leadership, i.e.
    # the psychiatric consultant (medical director) and the organization admin.
    "view_quality_measures": frozenset({PC, ADMIN}),
    # Program indicators and their patient lists (docs/indicators.md): the program's
    # leadership. The product has no program-lead or medical-director role: the medical
    # director is the psychiatric consultant, the program lead the organization admin.
    "view_program_indicators": frozenset({PC, ADMIN}),
    # Interoperability (docs/interop.md): import FHIR bundles and trackers.
    "import_records": frozenset({CM, ADMIN}),
    "bulk_export": frozenset({CM, ADMIN}),
}

# The parts of a page about a patient, and the capability each needs. A template wraps each
# part in {% section "name" %} (cocm/accounts/templatetags/access.py): the part is drawn only
# for roles holding the capability, so a new page inherits the rule by naming its parts.
SECTIONS: dict[str, str] = {
    "demographics": "view_patient",
    "episode": "view_patient",
    "coverage": "view_patient",
    "timeline": "view_patient",
    "safety-alerts": "view_clinical",
    "measures": "view_clinical",
    "care": "view_clinical",
    "billing": "view_billing",
}
# Words only clinical content carries (scales, symptoms, safety, notes and decisions): no page
# shown to a role without `view_clinical` contains them (tests/security/test_access_matrix.py).
CLINICAL_TERMS: tuple[str, ...] = (
    "PHQ-9",
    "GAD-7",
    "PHQ-A",
    "EPDS",
    "PCL-5",
    "safety alert",
    "Safety alert",
    "item 9",
    "treat-to-target",
    "Trajector",
    "remission",
    "Caseload review.",
    "Reviewed progress and plan.",
    "Recommendation",
    "relapse-prevention plan",
    "Relapse-prevention plan",
)
# Pages whose subject is the program's outcomes (rates of response and remission, measure
# populations and the patients behind them): their capability is the minimum-necessary
# decision (the program's leadership), so the clinical words above are expected on them.
OUTCOME_CAPABILITIES = frozenset({"view_program_indicators", "view_quality_measures"})


def can(user: Any, capability: str) -> bool:
    """Whether an authenticated user holds a role granted the capability."""
    return bool(
        user.is_authenticated and user.is_active and user.has_role(*PERMISSIONS[capability])
    )


def requires(capability: str) -> Callable[..., Any]:
    """View decorator: sign-in first, then the capability, else 403."""
    if capability not in PERMISSIONS:
        raise KeyError(capability)

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not can(request.user, capability):
                request.denied_capability = capability  # type: ignore[attr-defined]  # 403 page
                raise PermissionDenied(f"Your role does not allow: {capability}.")
            return view(request, *args, **kwargs)

        wrapper.capability = capability  # type: ignore[attr-defined]
        return wrapper

    return decorator
