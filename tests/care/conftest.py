"""A clinic with its care team and one enrolled episode referred by the PCP."""

from datetime import date

import pytest

from cocm.accounts.models import Role
from tests import factories


@pytest.fixture
def clinic():
    return factories.clinic()


@pytest.fixture
def care_manager(clinic):
    return factories.user(Role.CARE_MANAGER, clinic)


@pytest.fixture
def consultant(clinic):
    return factories.user(Role.PSYCHIATRIC_CONSULTANT, clinic)


@pytest.fixture
def pcp(clinic):
    return factories.user(Role.PCP, clinic)


@pytest.fixture
def episode(clinic, care_manager, consultant, pcp):
    episode = factories.episode(
        clinic, care_manager, consent_on=date(2026, 9, 1), psychiatric_consultant=consultant
    )
    episode.referring_pcp = pcp
    episode.save()
    return episode
