"""A clinic with its care team and one enrolled episode referred by the PCP."""

from datetime import date

import pytest

from tests import factories


@pytest.fixture
def episode(clinic, care_manager, consultant, pcp):
    episode = factories.episode(
        clinic, care_manager, consent_on=date(2026, 9, 1), psychiatric_consultant=consultant
    )
    episode.referring_pcp = pcp
    episode.save()
    return episode
