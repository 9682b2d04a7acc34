"""The page and the API record a contact through the same service: the same refusal, on the
same field; the contact's suggested role is the service's."""

import json

import pytest
from django.urls import reverse

from cocm.accounts.models import ApiToken, Role
from cocm.care import services
from cocm.care.models import Contact, TimeRole
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("roles", "expected"),
    [
        ((Role.CARE_MANAGER,), TimeRole.CARE_MANAGER),
        ((Role.PSYCHIATRIC_CONSULTANT,), TimeRole.PSYCHIATRIC_CONSULTANT),
        ((Role.PCP,), TimeRole.BILLING_PRACTITIONER),
        ((Role.PCP, Role.CARE_MANAGER), TimeRole.CARE_MANAGER),
        ((Role.BILLING,), TimeRole.CARE_MANAGER),
    ],
)
def test_the_suggested_role_of_a_contact_is_the_users_own_time(clinic, roles, expected):
    user = factories.user(roles[0], clinic)
    for role in roles[1:]:
        factories.add_role(user, role, clinic)

    assert services.suggested_time_role(user) == expected


def test_a_contact_of_0_minutes_is_refused_on_the_minutes_by_the_page_and_the_api(
    client, episode, care_manager
):
    contact = {"occurred_on": "2026-11-20", "minutes": 0, "mode": "phone", "activity": "follow_up"}
    client.force_login(care_manager)
    page = client.post(
        reverse("new_contact", args=[episode.id]), {**contact, "role": "care_manager"}
    )
    _, token = ApiToken.issue(care_manager)
    api = client.post(
        f"/api/v1/episodes/{episode.id}/contacts",
        json.dumps(contact),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )

    message = "A contact needs its minutes (0 only for a no-show)."
    assert page.status_code == 200
    assert page.context["form"].errors["minutes"] == [message]
    assert api.status_code == 422
    assert api.json()["detail"] == [{"loc": ["body", "minutes"], "msg": message}]
    assert not Contact.objects.exists()
