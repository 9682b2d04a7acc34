"""Self-report links: what tests/measures does not already show (single use and expiry of
the service, rate limit and unknown links are tested there)."""

from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from cocm.accounts.models import Role
from cocm.measures.models import Invitation, digest
from tests import factories

pytestmark = pytest.mark.django_db
ALL_ANSWERS = {f"PHQ-9-item_{n}": "0" for n in range(1, 10)}


@pytest.fixture
def link():
    clinic = factories.clinic()
    care_manager = factories.user(Role.CARE_MANAGER, clinic)
    episode = factories.episode(clinic, care_manager, consent_on=date(2026, 9, 2))
    token, token_digest = Invitation.new_token()
    invitation = Invitation.objects.create(
        episode=episode,
        instruments=["PHQ-9"],
        channel="email",
        token_digest=token_digest,
        expires_at=timezone.now() + timedelta(days=4),
    )
    return token, invitation


def test_a_link_token_carries_256_random_bits_and_only_its_digest_is_stored(link):
    token, invitation = link

    assert len(token) >= 43  # 32 bytes, URL-safe base64
    assert invitation.token_digest == digest(token) != token
    assert not Invitation.objects.filter(token_digest=token).exists()


def test_a_used_link_is_gone_on_the_page(client, link):
    token, _ = link
    url = reverse("self_report", args=[token])
    assert client.post(url, ALL_ANSWERS).status_code == 200

    response = client.get(url)

    assert response.status_code == 410


def test_an_expired_link_is_gone_on_the_page(client, link):
    token, invitation = link
    invitation.expires_at = timezone.now() - timedelta(minutes=1)
    invitation.save()

    response = client.get(reverse("self_report", args=[token]))

    assert response.status_code == 410
