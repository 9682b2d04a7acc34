"""Which coverage a patient has on a day: the billing month, the caseload's payer column and
the chart read it the same way (the latest starting coverage that is in force)."""

from collections.abc import Iterable
from datetime import date
from typing import Any, NamedTuple

from django.db.models import Q, QuerySet

from cocm.registry.models import Coverage


class CoverageOnDay(NamedTuple):
    payer_kind: str
    payer_name: str
    member_id: str


def coverages_on(patient_ids: Iterable[int] | QuerySet[Any], day: date) -> dict[int, CoverageOnDay]:
    """Each patient's coverage on a day (the latest starting one), as `payer_on` picks it."""
    return {
        patient_id: CoverageOnDay(kind, name, member_id)
        for patient_id, kind, name, member_id in Coverage.objects.filter(
            patient_id__in=patient_ids, starts_on__lte=day
        )
        .filter(Q(ends_on__isnull=True) | Q(ends_on__gte=day))
        .order_by("starts_on", "id")
        .values_list("patient_id", "payer_kind", "payer_name", "member_id")
    }


def payer_on(patient_ids: Iterable[int] | QuerySet[Any], day: date) -> dict[int, str]:
    """The payer kind of each patient's coverage on a day (the latest starting one)."""
    return dict(
        Coverage.objects.filter(patient_id__in=patient_ids, starts_on__lte=day)
        .filter(Q(ends_on__isnull=True) | Q(ends_on__gte=day))
        .order_by("starts_on")
        .values_list("patient_id", "payer_kind")
    )
