"""The {% section %} tag draws a part of a page only for the roles its capability allows."""

import pytest
from django.template import Context, Template, TemplateSyntaxError
from django.test import RequestFactory

from cocm.accounts.models import Role
from tests import factories

pytestmark = pytest.mark.django_db
TEMPLATE = '{% load access %}<p>{% section "measures" %}PHQ-9 16{% endsection %}</p>'


def rendered(role: str) -> str:
    request = RequestFactory().get("/")
    request.user = factories.user(role, factories.clinic())
    return Template(TEMPLATE).render(Context({"request": request}))


def test_a_clinical_role_sees_the_section_marked():
    assert rendered(Role.CARE_MANAGER) == (
        '<p><div data-section="measures" class="section">PHQ-9 16</div></p>'
    )


@pytest.mark.parametrize("role", [Role.BILLING, Role.ORG_ADMIN])
def test_a_non_clinical_role_gets_nothing_of_it(role):
    assert rendered(role) == "<p></p>"


def test_an_undeclared_section_fails_when_the_template_is_compiled():
    with pytest.raises(TemplateSyntaxError, match="not declared"):
        Template('{% load access %}{% section "notes" %}x{% endsection %}')
