"""Fill the financial model's inputs from the registry's last N months.

Every figure comes from set-based queries: the billing services' month worklist
(`cocm.billing.services.month_lines`, a fixed number of queries per month, which decides the
month type and counted minutes of each patient-month exactly as billing does), one aggregate
over contacts (no-shows), one over episodes (episode lengths, caseloads) and one over the fee
schedules. What the registry cannot tell (salaries, collection rate) keeps its value.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date

from django.db.models import Count, Q

from cocm.accounts.models import Organization
from cocm.billing import services as billing
from cocm.billing.models import FeeSchedule
from cocm.billing.months import shift
from cocm.care.models import Contact, TimeRole
from cocm.domain import coding, finance
from cocm.domain.episodes import EpisodeStatus
from cocm.finance.services import REGISTRY, input_text
from cocm.registry.models import Episode

DEFAULT_MONTHS = 12
MAX_MONTHS = 36
DAYS_PER_MONTH = 365.25 / 12
# A month bills differently at the FQHC/RHC G0512 threshold than at the CPT ones: buckets
# of observed minutes never straddle a threshold of either (both asked of the engine).
_G0512_PROBE = coding.Month(2025, 1)

Calibrated = dict[str, dict[str, str]]


def observed_months(organization: Organization, *, as_of: date, months: int) -> list[coding.Month]:
    """The last `months` complete calendar months before `as_of`."""
    if not 1 <= months <= MAX_MONTHS:
        from cocm.errors import InvalidRequest

        raise InvalidRequest(f"Calibrate from 1 to {MAX_MONTHS} months; got {months}.", "months")
    last = shift(coding.Month.of(as_of), -1)
    return [shift(last, -offset) for offset in range(months - 1, -1, -1)]


def calibrate(
    organization: Organization,
    *,
    as_of: date,
    months: int = DEFAULT_MONTHS,
    year: int | None = None,
) -> Calibrated:
    """{input name: {"value", "source": "registry", "note"}} for what the registry knows."""
    window = observed_months(organization, as_of=as_of, months=months)
    start, end = window[0].first_day, window[-1].last_day
    period = f"{window[0]}..{window[-1]}"
    episodes = Episode.objects.filter(clinic__organization=organization)
    found: Calibrated = {}

    def put(name: str, value: finance.Value, note: str) -> None:
        found[name] = {"value": input_text(name, value), "source": REGISTRY, "note": note}

    # Patient-months as billing decides them: month type, counted minutes, payer.
    minutes_by_kind: dict[coding.MonthType, list[int]] = defaultdict(list)
    payers: Counter[str] = Counter()
    for month in window:
        for line in billing.month_lines(organization, episodes, month):
            if line.episode.billing_program != "cocm":
                continue
            minutes_by_kind[line.result.month_type].append(line.result.minutes_counted)
            payers[line.payer or str(finance.Payer.SELF_PAY)] += 1
    for kind, name in (
        (coding.MonthType.INITIAL, "initial_minutes"),
        (coding.MonthType.SUBSEQUENT, "subsequent_minutes"),
    ):
        observed = minutes_by_kind.get(kind, [])
        if observed:
            distribution = minutes_distribution(observed, kind)
            put(
                name,
                distribution,
                f"{len(observed)} {kind} patient-months in {period}, "
                "grouped where the billing engine's codes change",
            )
    total = sum(payers.values())
    if total:
        for payer in finance.Payer:
            put(
                finance.share_name(payer),
                payers.get(str(payer), 0) / total,
                f"{payers.get(str(payer), 0)} of {total} CoCM patient-months in {period}"
                + (
                    " (no coverage on file counts as self-pay)"
                    if payer is finance.Payer.SELF_PAY
                    else ""
                ),
            )

    # Episode lengths: enrollment to discharge of the episodes discharged in the window.
    spans = list(
        episodes.filter(
            status=EpisodeStatus.DISCHARGED,
            enrolled_on__isnull=False,
            discharged_on__gte=start,
            discharged_on__lte=end,
        ).values_list("enrolled_on", "discharged_on")
    )
    if spans:
        average = sum((off - on).days for on, off in spans) / len(spans) / DAYS_PER_MONTH
        put(
            "episode_months",
            round(min(max(average, 1.0), 36.0), 1),
            f"{len(spans)} episodes discharged in {period}: enrollment to discharge, on average",
        )

    # Caseloads: open episodes per care manager today.
    open_statuses = [EpisodeStatus.ENROLLED, EpisodeStatus.ACTIVE, EpisodeStatus.RELAPSE_PREVENTION]
    caseloads = list(
        episodes.filter(status__in=open_statuses, care_manager__isnull=False)
        .values("care_manager_id")
        .annotate(patients=Count("id"))
        .values_list("patients", flat=True)
    )
    if caseloads:
        patients = sum(caseloads)
        put(
            "care_manager_fte",
            float(len(caseloads)),
            f"{_count(len(caseloads), 'care manager')} with an open caseload on "
            f"{as_of.isoformat()}, each counted as 1.0 FTE",
        )
        put(
            "caseload_per_fte",
            round(patients / len(caseloads), 1),
            f"{patients} open episodes ÷ {_count(len(caseloads), 'care manager')} on "
            f"{as_of.isoformat()}",
        )
        put(
            "starting_caseload",
            float(patients),
            f"{patients} patients enrolled on {as_of.isoformat()}",
        )

    # No-shows among the care managers' contacts.
    contacts = Contact.objects.filter(
        episode__clinic__organization=organization,
        role=TimeRole.CARE_MANAGER,
        occurred_on__gte=start,
        occurred_on__lte=end,
    ).aggregate(all=Count("id"), missed=Count("id", filter=Q(no_show=True)))
    if contacts["all"]:
        put(
            "no_show_rate",
            contacts["missed"] / contacts["all"],
            f"{_count(contacts['missed'], 'no-show')} of {contacts['all']} care-manager "
            f"contacts in {period}",
        )

    # Fee schedules on file: the modelled year's, else the latest earlier one.
    target_year = year or as_of.year
    fee_year = (
        FeeSchedule.objects.filter(year__lte=target_year)
        .order_by("-year")
        .values_list("year", flat=True)
        .first()
    )
    if fee_year is not None:
        for fee in FeeSchedule.objects.filter(year=fee_year, code__in=finance.RATE_CODES):
            put(
                finance.rate_name(fee.payer_kind, fee.code),
                float(fee.amount),
                f"fee schedule {fee_year} on file" + (f" ({fee.source})" if fee.source else ""),
            )
    return found


def minutes_distribution(observed: list[int], kind: coding.MonthType) -> finance.Distribution:
    """Observed minutes grouped where the engine's codes change (CPT and G0512 alike), each
    group by its mean minutes (within the group, so the same codes) and its share."""
    groups: dict[tuple[object, ...], list[int]] = defaultdict(list)
    for minutes in observed:
        key = (
            coding.codes_for_minutes(minutes, kind),
            coding.codes_for_minutes(
                minutes, kind, setting=coding.ClinicSetting.FQHC, month=_G0512_PROBE
            ),
        )
        groups[key].append(minutes)
    buckets = sorted(
        (round(sum(values) / len(values)), len(values) / len(observed))
        for values in groups.values()
    )
    return tuple((minutes, round(share, 4)) for minutes, share in _normalised(buckets))


def _normalised(buckets: list[tuple[int, float]]) -> list[tuple[int, float]]:
    """Rounded shares that still add up to exactly 1 (the largest takes the remainder)."""
    rounded = [(minutes, round(share, 4)) for minutes, share in buckets]
    remainder = round(1 - sum(share for _, share in rounded), 4)
    if remainder and rounded:
        index = max(range(len(rounded)), key=lambda i: rounded[i][1])
        minutes, share = rounded[index]
        rounded[index] = (minutes, round(share + remainder, 4))
    return rounded


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"
