"""Issue 12 item 16: the Django admin says what it means and offers nothing that cannot
work; organization admins always sign in with a one-time code."""

import pytest
from django.urls import reverse

from cocm.accounts.admin import sync_admin_access
from cocm.accounts.models import Membership, Role, User
from tests import factories

pytestmark = pytest.mark.django_db
PASSWORD = "correct horse battery staple"


@pytest.fixture
def org_admin(clinic):
    admin = factories.user(Role.ORG_ADMIN, clinic, username="olga", password=PASSWORD)
    sync_admin_access(admin)
    return admin


def test_the_admin_index_spells_the_settings_models_right(client, org_admin):
    client.force_login(org_admin)

    html = client.get(reverse("admin:index")).content.decode()

    assert "Billing settings" in html and "Care settings" in html
    assert "settingss" not in html.lower()


def test_an_org_admin_sees_no_superuser_box_and_no_raw_permissions(client, clinic, org_admin):
    carla = factories.user(Role.CARE_MANAGER, clinic)
    client.force_login(org_admin)

    html = client.get(reverse("admin:accounts_user_change", args=[carla.id])).content.decode()

    assert "Superuser status" not in html
    assert "user_permissions" not in html and "Can add" not in html
    assert "Groups" not in html
    assert "Active" in html and "Credentials" in html


def test_an_org_admin_cannot_make_a_superuser_through_the_admin(client, clinic, org_admin):
    carla = factories.user(Role.CARE_MANAGER, clinic)
    client.force_login(org_admin)
    page = client.get(reverse("admin:accounts_user_change", args=[carla.id]))
    form = page.context["adminform"].form
    data = {name: form[name].value() or "" for name in form.fields if name != "password"}

    client.post(
        reverse("admin:accounts_user_change", args=[carla.id]),
        {
            **data,
            "is_superuser": "on",
            "memberships-TOTAL_FORMS": "0",
            "memberships-INITIAL_FORMS": "0",
        },
    )

    carla.refresh_from_db()
    assert not carla.is_superuser
    assert "is_superuser" not in form.fields


def test_the_org_admin_role_gives_admin_access_and_losing_it_removes_it(clinic, org_admin):
    member = factories.user(Role.CARE_MANAGER, clinic)
    Membership.objects.create(user=member, clinic=clinic, role=Role.ORG_ADMIN)

    sync_admin_access(member)
    member = User.objects.get(id=member.id)
    granted = (member.is_staff, member.has_perm("accounts.change_user"))
    Membership.objects.filter(user=member, role=Role.ORG_ADMIN).delete()
    sync_admin_access(member)
    member = User.objects.get(id=member.id)

    assert granted == (True, True)
    assert (member.is_staff, member.has_perm("accounts.change_user")) == (False, False)


def test_an_org_admin_must_enter_a_code_though_the_organization_chose_no_role(
    client, clinic, org_admin
):
    assert clinic.organization.two_factor_roles == []

    client.post(reverse("login"), {"username": "olga", "password": PASSWORD})
    response = client.get(reverse("organization"))

    assert response.status_code == 302
    assert response.url.startswith(reverse("two_factor"))


def test_other_roles_need_a_code_only_when_the_organization_adds_them(client, clinic):
    factories.user(Role.CARE_MANAGER, clinic, username="carla", password=PASSWORD)
    client.post(reverse("login"), {"username": "carla", "password": PASSWORD})
    before = client.get(reverse("caseload")).status_code
    clinic.organization.two_factor_roles = [Role.CARE_MANAGER]
    clinic.organization.save()

    after = client.get(reverse("caseload"))

    assert before == 200
    assert after.status_code == 302 and after.url.startswith(reverse("two_factor"))


def test_the_security_page_says_org_admins_always_need_a_code(client, org_admin):
    client.force_login(org_admin)

    html = client.get(reverse("organization_security")).content.decode()
    organization = client.get(reverse("organization")).content.decode()

    assert "Always required, whatever is ticked: Organization admin." in html
    assert "Two-factor sign-in required for: Organization admin" in organization
