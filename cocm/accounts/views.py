from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from cocm.accounts.models import Clinic, Role, User
from cocm.accounts.permissions import requires

# Each role lands on its own home; a user with several roles lands on the first listed.
ROLE_HOMES = (
    (Role.CARE_MANAGER, "caseload"),
    (Role.PSYCHIATRIC_CONSULTANT, "caseload"),
    (Role.PCP, "pcp_patients"),
    (Role.BILLING, "billing_readiness"),
    (Role.ORG_ADMIN, "organization"),
)


@login_required
def home(request: HttpRequest) -> HttpResponse:
    for role, url_name in ROLE_HOMES:
        if request.user.has_role(role):
            return redirect(url_name)
    return render(request, "accounts/no_role.html", status=403)


@requires("manage_organization")
def organization(request: HttpRequest) -> HttpResponse:
    org = request.user.organization
    clinics = Clinic.objects.filter(organization=org).order_by("name")
    users = (
        User.objects.filter(organization=org)
        .prefetch_related("memberships__clinic")
        .order_by("last_name", "first_name", "username")
    )
    return render(
        request,
        "accounts/organization.html",
        {"organization": org, "clinics": clinics, "users": users},
    )
