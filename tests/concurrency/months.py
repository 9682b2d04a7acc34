"""A month ready to bill: a Medicare patient with an initiating visit and 75 minutes over
September and October 2026 (October's line is ready)."""

from datetime import date

from cocm.accounts.models import User
from cocm.care import services as care
from cocm.domain.coding import Month
from cocm.registry.models import Coverage, Episode
from tests.factories import TODAY

OCTOBER = Month(2026, 10)


def ready_october(episode: Episode, by: User) -> None:
    Episode.objects.filter(pk=episode.pk).update(initiating_visit_on=date(2026, 8, 15))
    Coverage.objects.create(
        patient=episode.patient, payer_kind="medicare", starts_on=date(2020, 1, 1)
    )
    for on, minutes in ((date(2026, 9, 10), 40), (date(2026, 10, 5), 35)):
        care.record_contact(
            episode,
            occurred_on=on,
            minutes=minutes,
            mode="phone",
            activity="follow_up",
            staff=by,
            by=by,
            as_of=TODAY,
        )
