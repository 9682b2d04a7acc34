"""The monthly billing worklist, month close and claim export."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, NamedTuple

from django.db import IntegrityError, transaction
from django.db.models import F, QuerySet, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from cocm.accounts.models import Organization, User, staff_name
from cocm.billing import aggregates
from cocm.billing.fees import fee_table, illustrative_fees
from cocm.billing.models import (
    BillingSettings,
    ClaimLine,
    ClosedMonth,
    DateOfService,
    EpisodeMonth,
)
from cocm.billing.months import (
    decide,
    load_month_time,
    stored_service_months,
    stored_service_months_of,
    without_cycle_collection,
)
from cocm.billing.rules import organization_rules
from cocm.care.models import Contact
from cocm.domain import coding
from cocm.domain.consent import RevokedPeriod
from cocm.errors import EditConflict, InvalidRequest
from cocm.registry.coverages import CoverageOnDay, coverages_on
from cocm.registry.models import Coverage, Diagnosis, Episode, PayerKind, patient_name
from cocm.registry.services import revoked_periods
from cocm.versions import claim


def parse_month(text: str) -> coding.Month:
    try:
        year, month = (int(part) for part in text.split("-"))
        if len(text) != 7 or not 1 <= month <= 12 or not 2017 <= year <= 2100:
            raise ValueError
    except ValueError:
        raise InvalidRequest(f"'{text}' is not a month (YYYY-MM).", "month") from None
    return coding.Month(year, month)


@dataclass(slots=True)
class BillingLine:
    episode: BilledEpisode
    result: coding.MonthResult
    payer: str
    expected_amount: Decimal | None
    missing_fees: list[str]
    date_of_service: date | None
    saved: ClaimLine | None
    changed_since_close: bool = False
    member_id: str = ""
    payer_name: str = ""
    illustrative_fee: bool = False  # the expected amount uses the demo's made-up fees

    @property
    def payer_label(self) -> str:
        return PayerKind(self.payer).label if self.payer else ""

    @property
    def frozen(self) -> bool:
        return self.saved is not None and self.saved.frozen

    @property
    def claim_codes(self) -> list[CodeUnits]:
        """The codes of the line: as frozen at the month close, else as decided now."""
        if self.saved is not None and self.saved.frozen:
            return [CodeUnits(str(c["code"]), int(c["units"])) for c in self.saved.codes]
        return [CodeUnits(str(c.code), c.units) for c in self.result.codes]

    @property
    def amount(self) -> Decimal | None:
        """The expected amount: as frozen at the month close, else from the fees on file."""
        if self.saved is not None and self.saved.frozen:
            return self.saved.expected_amount
        return self.expected_amount

    @property
    def service_date(self) -> date | None:
        """The date of service: as frozen at the month close, else as decided now."""
        if self.saved is not None and self.saved.frozen:
            return self.saved.date_of_service
        return self.date_of_service

    @property
    def is_claim(self) -> bool:
        """Self-pay and uninsured patient-months are billed to the patient, not claimed."""
        return self.payer not in NOT_CLAIMED

    @property
    def fixes(self) -> list[Fix]:
        """What to change in the chart, and where, for each reason the line is blocked."""
        return [fix_for(reason) for reason in self.result.blocked_reasons]

    @property
    def status(self) -> str:
        return self.saved.status if self.saved and self.saved.frozen else self.result.status


class CodeUnits(NamedTuple):
    code: str
    units: int


NOT_CLAIMED = frozenset({PayerKind.SELF_PAY.value, ""})


class Fix(NamedTuple):
    reason: str  # the engine's blocking reason
    action: str  # what to record to unblock the line
    anchor: str  # where on the patient's chart it is recorded


def fix_for(reason: str) -> Fix:
    """The chart entry that removes a blocking reason of the engine (cocm-rules.md 1.5-1.6)."""
    if reason.startswith(coding.REASON_NO_CONSENT):
        return Fix(reason, "Document the patient's consent (date and method).", "consent")
    if reason.startswith("no initiating visit"):
        return Fix(
            reason,
            "Record the initiating visit with the billing practitioner (within 12 months "
            "before the episode started).",
            "initiating-visit",
        )
    if reason == coding.REASON_NO_CONSULTANT:
        return Fix(reason, "Assign a psychiatric consultant to the episode.", "consultant")
    return Fix(
        reason,
        "CoCM and general BHI (99484) cannot both be billed in one month: check the "
        "episode's program.",
        "program",
    )


class BilledEpisode(NamedTuple):
    """What the worklist, the engine and the export read of an episode: plain values in a
    tuple, since a health system's month has tens of thousands of them."""

    id: int
    patient_id: int
    patient: str
    mrn: str
    clinic: str
    clinic_setting: str
    billing_program: str
    consent_on: date | None
    initiating_visit_on: date | None
    referred_on: date
    psychiatric_consultant_id: int | None
    referring_pcp: str
    consent_revoked: tuple[RevokedPeriod, ...] = ()
    birth_date: date | None = None
    clinic_id: int | None = None
    care_manager_id: int | None = None

    @property
    def facts(self) -> coding.EpisodeFacts:
        return coding.EpisodeFacts(
            program=PROGRAMS[self.billing_program],
            clinic_setting=SETTINGS[self.clinic_setting],
            consent_on=self.consent_on,
            initiating_visit_on=self.initiating_visit_on,
            psychiatric_consultant_assigned=self.psychiatric_consultant_id is not None,
            started_on=self.referred_on,
            registry_episode=self.id,
            consent_revoked=self.consent_revoked,
        )


# Dict lookups, not enum calls: a month close converts tens of thousands of episodes.
PROGRAMS = {program.value: program for program in coding.Program}
SETTINGS = {setting.value: setting for setting in coding.ClinicSetting}


# The episode's columns the engine decides from, in BilledEpisode's order, then those the
# worklist and the export add (names): one list for the worklist, the program indicators
# and the month close, which reads them through the stored month rows (`episode__…`).
FACT_COLUMNS = (
    "id",
    "patient_id",
    "clinic__setting",
    "billing_program",
    "consent_on",
    "initiating_visit_on",
    "referred_on",
    "psychiatric_consultant_id",
)
NAME_COLUMNS = (
    "patient__family_name",
    "patient__given_name",
    "patient__mrn",
    "clinic__name",
    "referring_pcp_id",
    "referring_pcp__username",
    "referring_pcp__first_name",
    "referring_pcp__last_name",
    "referring_pcp__credentials",
    "patient__birth_date",
    "clinic_id",
    "care_manager_id",
)
BY_NAME = ("patient__family_name", "patient__given_name", "id")


def episode_columns(*, names: bool, prefix: str = "") -> tuple[str, ...]:
    """The columns `billed_episode` reads, from Episode (or through `prefix`, a relation)."""
    return tuple(prefix + column for column in (*FACT_COLUMNS, *(NAME_COLUMNS if names else ())))


def billed_episode(
    row: Sequence[Any],
    revoked: Mapping[int, tuple[RevokedPeriod, ...]],
    practitioners: dict[int | None, str],
) -> BilledEpisode:
    """A row of `episode_columns` (with or without names) as the engine and the worklist
    read it; `practitioners` keeps each referring PCP's name, made once."""
    if len(row) == len(FACT_COLUMNS):
        episode_id, patient_id, setting, program, consent_on, visit_on, referred_on, consultant = (
            row
        )
        return BilledEpisode(
            episode_id,
            patient_id,
            "",
            "",
            "",
            setting,
            program,
            consent_on,
            visit_on,
            referred_on,
            consultant,
            "",
            revoked.get(episode_id, ()),
        )
    (
        episode_id,
        patient_id,
        setting,
        program,
        consent_on,
        visit_on,
        referred_on,
        consultant,
        family,
        given,
        mrn,
        clinic,
        pcp_id,
        username,
        first,
        last,
        credentials,
        birth_date,
        clinic_id,
        care_manager_id,
    ) = row
    pcp = practitioners.get(pcp_id)
    if pcp is None:
        pcp = practitioners[pcp_id] = (
            staff_name(username, first, last, credentials) if username else ""
        )
    return BilledEpisode(
        episode_id,
        patient_id,
        patient_name(family, given),
        mrn,
        clinic,
        setting,
        program,
        consent_on,
        visit_on,
        referred_on,
        consultant,
        pcp,
        revoked.get(episode_id, ()),
        birth_date,
        clinic_id,
        care_manager_id,
    )


def billed_episodes(scope: QuerySet[Episode], *, names: bool = True) -> list[BilledEpisode]:
    """The episodes as the engine and the worklist read them (by patient name); without
    `names` (the program indicators need only the codes) no name is read, in no order."""
    rows = scope.order_by(*BY_NAME) if names else scope.order_by()
    # Revocations of consent (rare): one more query, whatever the number of episodes.
    revoked = revoked_periods(scope.values("id"))
    practitioners: dict[int | None, str] = {}
    return [
        billed_episode(row, revoked, practitioners)
        for row in rows.values_list(*episode_columns(names=names))
    ]


def diagnosis_codes(episode_ids: list[int]) -> dict[int, list[str]]:
    """ICD-10-CM codes per episode, in chunks (SQLite limits query parameters)."""
    codes: dict[int, list[str]] = defaultdict(list)
    for index in range(0, len(episode_ids), 5000):
        chunk = episode_ids[index : index + 5000]
        for episode_id, code in (
            Diagnosis.objects.filter(episode_id__in=chunk)
            .order_by("recorded_at", "id")
            .values_list("episode_id", "code")
        ):
            codes[episode_id].append(code)
    return codes


@without_cycle_collection()
def month_decisions(
    organization: Organization,
    episodes: QuerySet[Episode],
    month: coding.Month,
    *,
    names: bool = True,
) -> tuple[list[BilledEpisode], dict[int, CoverageOnDay], dict[int, coding.MonthResult]]:
    """The episodes with activity in the month, their patients' coverages on its last day
    and the engine's decision for each, from one stored row per episode-month read with its
    episode in one query (plain tuples: a health system's month has tens of thousands)."""
    rows = aggregates.in_month(month, episodes)
    patients = rows.values("episode__patient_id")
    revoked = revoked_periods(rows.values("episode_id"))
    coverages = coverages_on(patients, month.last_day)
    rules = organization_rules(organization)
    service_months = stored_service_months(
        month, patients, gap_months=rules.base.gap_months_for_new_episode
    )
    columns = episode_columns(names=names, prefix="episode__")
    by_name = tuple(f"episode__{column}" for column in BY_NAME) if names else ()
    ordered = rows.order_by(*by_name)
    counted_from, stamps_from = len(columns), len(columns) + len(aggregates.COUNTED_COLUMNS)
    decoder = aggregates.MonthDecoder(month)
    practitioners: dict[int | None, str] = {}
    chosen, decisions, stale = [], {}, []
    for row in ordered.values_list(
        *columns, *aggregates.COUNTED_COLUMNS, *aggregates.STAMP_COLUMNS
    ):
        episode = billed_episode(row[:counted_from], revoked, practitioners)
        chosen.append(episode)
        coverage = coverages.get(episode.patient_id)
        payer_rules = rules.for_payer(coverage.payer_kind if coverage else "")
        if not aggregates.stamp_matches(
            row[stamps_from:], episode.consent_on, episode.consent_revoked, payer_rules
        ):
            stale.append((episode.id, episode.consent_on, episode.consent_revoked, payer_rules))
            continue
        decisions[episode.id] = coding.decide_month(
            month,
            decoder.counted(*row[counted_from:stamps_from]),
            episode.facts,
            service_months.get(episode.patient_id, ()),
            rules=payer_rules,
        )
    if stale:  # counted under an older consent, revocation or payer rule: count afresh
        recounted = aggregates.count_afresh(month, stale)
        for episode in chosen:
            if episode.id in recounted:
                coverage = coverages.get(episode.patient_id)
                decisions[episode.id] = coding.decide_month(
                    month,
                    recounted[episode.id],
                    episode.facts,
                    service_months.get(episode.patient_id, ()),
                    rules=rules.for_payer(coverage.payer_kind if coverage else ""),
                )
    return chosen, coverages, decisions


@without_cycle_collection()
def stored_decisions(
    organization: Organization, episodes: QuerySet[Episode], months: Sequence[coding.Month]
) -> dict[coding.Month, dict[int, coding.MonthResult]]:
    """`month_decisions` for several months at once, without names or coverages: the
    stored episode-months of all the months read with their episodes in one query, and
    the patients' coverages and earlier service months once for all the months. The
    engine decides each episode-month from its stored counted minutes (`decide_month`)."""
    if not months:
        return {}
    rules = organization_rules(organization)
    rows = EpisodeMonth.objects.filter(
        month__in=[month.first_day for month in months], episode__in=episodes
    )
    patients = rows.values("episode__patient_id")
    revoked = revoked_periods(rows.values("episode_id"))
    coverages: dict[int, list[tuple[str, date, date | None]]] = defaultdict(list)
    for patient_id, kind, starts_on, ends_on in (
        Coverage.objects.filter(patient_id__in=patients)
        .order_by("starts_on", "id")
        .values_list("patient_id", "payer_kind", "starts_on", "ends_on")
    ):
        coverages[patient_id].append((kind, starts_on, ends_on))
    service_months = stored_service_months_of(
        months, patients, gap_months=rules.base.gap_months_for_new_episode
    )
    by_first = {month.first_day: month for month in months}
    decoders = {first: aggregates.MonthDecoder(month) for first, month in by_first.items()}
    columns = episode_columns(names=False, prefix="episode__")
    counted_from = len(columns) + 1
    stamps_from = counted_from + len(aggregates.COUNTED_COLUMNS)
    practitioners: dict[int | None, str] = {}
    chosen: dict[int, tuple[BilledEpisode, coding.EpisodeFacts]] = {}
    payers: dict[tuple[int, date], coding.BillingRules] = {}
    result: dict[coding.Month, dict[int, coding.MonthResult]] = {month: {} for month in months}
    stale: dict[coding.Month, list] = defaultdict(list)
    for row in rows.order_by().values_list(
        *columns, "month", *aggregates.COUNTED_COLUMNS, *aggregates.STAMP_COLUMNS
    ):
        episode_id, first = row[0], row[counted_from - 1]
        if episode_id not in chosen:
            episode = billed_episode(row[: counted_from - 1], revoked, practitioners)
            chosen[episode_id] = (episode, episode.facts)
        episode, facts = chosen[episode_id]
        month = by_first[first]
        key = (episode.patient_id, first)
        if key not in payers:
            payer = aggregates.payer_on(coverages.get(episode.patient_id, ()), month.last_day)
            payers[key] = rules.for_payer(payer)
        payer_rules = payers[key]
        if not aggregates.stamp_matches(
            row[stamps_from:], episode.consent_on, episode.consent_revoked, payer_rules
        ):
            stale[month].append(
                (episode_id, episode.consent_on, episode.consent_revoked, payer_rules)
            )
            continue
        result[month][episode_id] = coding.decide_month(
            month,
            decoders[first].counted(*row[counted_from:stamps_from]),
            facts,
            service_months[month].get(episode.patient_id, ()),
            rules=payer_rules,
        )
    for month, episodes_of in stale.items():  # counted under older stamps: count afresh
        for episode_id, counted in aggregates.count_afresh(month, episodes_of).items():
            episode, facts = chosen[episode_id]
            result[month][episode_id] = coding.decide_month(
                month,
                counted,
                facts,
                service_months[month].get(episode.patient_id, ()),
                rules=payers[episode.patient_id, month.first_day],
            )
    return result


def recomputed_decisions(
    organization: Organization, episodes: QuerySet[Episode], month: coding.Month
) -> dict[int, coding.MonthResult]:
    """`month_decisions` computed from every time entry of the month instead of the stored
    episode-months: what `cocm billing aggregates --verify` and the tests compare it with."""
    start, end = month.first_day, month.last_day
    month_contacts = Contact.objects.filter(
        episode__in=episodes, occurred_on__gte=start, occurred_on__lte=end
    )
    scope = Episode.objects.filter(id__in=month_contacts.values("episode_id"))
    chosen = billed_episodes(scope)
    rules = organization_rules(organization)
    payers = {
        patient_id: coverage.payer_kind
        for patient_id, coverage in coverages_on(scope.values("patient_id"), end).items()
    }
    time = load_month_time(
        month,
        scope.values("patient_id"),
        Contact.objects.filter(episode__in=episodes),
        gap_months=rules.base.gap_months_for_new_episode,
    )
    return decide(
        [(e.id, e.patient_id, e.facts) for e in chosen], month, time, rules=rules, payers=payers
    )


@without_cycle_collection()
def month_lines(
    organization: Organization, episodes: QuerySet[Episode], month: coding.Month
) -> list[BillingLine]:
    """One line per episode with activity in the month, in set-based queries over the
    stored episode-months (`billing.aggregates`), decided by the engine."""
    chosen, coverages, decisions = month_decisions(organization, episodes, month)
    fees = fee_table({month.year})
    illustrative = illustrative_fees({month.year})
    settings = BillingSettings.objects.filter(organization=organization).first()
    threshold_day = bool(settings and settings.date_of_service == DateOfService.THRESHOLD_DAY)
    saved = {
        line.episode_id: line
        for line in ClaimLine.objects.filter(
            episode__clinic__organization=organization, month=str(month)
        )
    }
    is_closed = closed(organization, month) is not None
    last_day = month.last_day
    # The amount of each payer's set of codes: the codes repeat (a month has a handful of
    # distinct ones), so each is priced once, not per line.
    priced: dict[tuple[str, tuple[coding.CodeLine, ...]], tuple[Decimal | None, list[str], bool]]
    priced = {}
    lines = []
    for episode in chosen:
        result = decisions[episode.id]
        coverage = coverages.get(episode.patient_id)
        payer = coverage.payer_kind if coverage else ""
        codes = result.codes
        price = priced.get((payer, codes))
        if price is None:
            amount, missing = expected(result, fees, month.year, payer)
            shown = any((month.year, payer, str(c.code)) in illustrative for c in codes)
            price = priced[(payer, codes)] = (amount, missing, shown)
        amount, missing, illustrative_fee = price
        line = BillingLine(
            episode=episode,
            result=result,
            payer=payer,
            expected_amount=amount,
            missing_fees=list(missing),
            date_of_service=(
                (result.threshold_reached_on if threshold_day else last_day) if codes else None
            ),
            saved=saved.get(episode.id),
            member_id=coverage.member_id if coverage else "",
            payer_name=coverage.payer_name if coverage else "",
            illustrative_fee=illustrative_fee,
        )
        if is_closed and line.saved is None:
            line.changed_since_close = True  # activity recorded after the close
        elif line.saved and line.saved.frozen:
            line.changed_since_close = (
                line.saved.minutes != result.minutes_counted
                or line.saved.codes != codes_json(result)
                or line.saved.status != result.status
            )
        lines.append(line)
    return lines


def episode_line(
    organization: Organization, episodes: QuerySet[Episode], month: coding.Month, episode_id: int
) -> BillingLine | None:
    """The month's line of one of these episodes, if it had activity that month."""
    lines = month_lines(organization, episodes.filter(id=episode_id), month)
    return lines[0] if lines else None


def codes_json(result: coding.MonthResult) -> list[dict[str, object]]:
    return [{"code": str(line.code), "units": line.units} for line in result.codes]


def expected(
    result: coding.MonthResult, fees: dict[tuple[int, str, str], Decimal], year: int, payer: str
) -> tuple[Decimal | None, list[str]]:
    """Expected payment from the fee schedule; None when a code has no fee on file."""
    if not result.codes:
        return Decimal("0.00"), []
    total = Decimal("0.00")
    missing = []
    for line in result.codes:
        fee = fees.get((year, payer, str(line.code)))
        if fee is None:
            missing.append(str(line.code))
        else:
            total += fee * line.units
    return (None if missing else total), missing


def closed(organization: Organization, month: coding.Month) -> ClosedMonth | None:
    return ClosedMonth.objects.filter(organization=organization, month=str(month)).first()


def _decision(line: BillingLine, saved_at: datetime | None = None) -> dict[str, object]:
    """What a claim line stores of the engine's decision."""
    result = line.result
    return {
        "status": result.status,
        "codes": codes_json(result),
        "minutes": result.minutes_counted,
        "decision": result.decision,
        "blocked_reasons": list(result.blocked_reasons),
        "expected_amount": line.expected_amount,
        "date_of_service": line.date_of_service,
        "saved_at": saved_at or timezone.now(),
    }


def save_line(line: BillingLine, month: coding.Month, *, frozen: bool = False) -> ClaimLine:
    saved, _ = ClaimLine.objects.update_or_create(
        episode_id=line.episode.id,
        month=str(month),
        defaults={**_decision(line), "frozen": frozen},
    )
    return saved


LINE_CHANGED_MEANWHILE = (
    "This line was marked by someone else, or its month closed, while you were looking at "
    "it; reload to see it as it is now."
)


def lock_months(organization_id: int) -> None:
    """Take the organization's billing months in turn (its row, locked until the caller's
    transaction ends; PostgreSQL): a line marked while another biller closes the month waits
    for the close, then finds it closed. SQLite writes one transaction at a time anyway."""
    list(Organization.objects.select_for_update().filter(pk=organization_id).values_list("pk"))


def mark(
    line: BillingLine,
    month: coding.Month,
    *,
    action: str,
    by: User,
    version: int | None = None,
) -> ClaimLine:
    """Billing staff mark a line reviewed or submitted (it keeps the decision it had).

    `version` is the claim line version the biller saw (0: no line stored yet; default: the
    one loaded): of two marks at once, one is kept and the other gets EditConflict. A mark
    waits for a close of the month in progress, then finds it closed."""
    with transaction.atomic():
        lock_months(by.organization_id)
        return _mark(line, month, action=action, by=by, version=version)


def _mark(
    line: BillingLine, month: coding.Month, *, action: str, by: User, version: int | None
) -> ClaimLine:
    stored = line.saved.version if line.saved else 0
    if version is not None and version != stored:
        raise EditConflict(LINE_CHANGED_MEANWHILE)
    version = stored
    frozen = ClaimLine.objects.filter(episode_id=line.episode.id, month=str(month), frozen=True)
    if (line.saved and line.saved.frozen) or frozen.exists():
        raise InvalidRequest("The month is closed; its lines cannot change.", "month")
    if action not in ("reviewed", "submitted"):
        raise InvalidRequest("Mark a line reviewed or submitted.", "action")
    if action == "submitted" and line.result.status != coding.BillingStatus.READY:
        raise InvalidRequest("Only a line that is ready to bill can be submitted.", "action")
    now = timezone.now()
    marked: dict[str, object] = {"reviewed_at": now, "reviewed_by": by}
    if action == "submitted":
        marked |= {"submitted_at": now, "submitted_by": by}
    rows = ClaimLine.objects.filter(episode_id=line.episode.id, month=str(month))
    if version == 0 and line.saved is None:  # the first mark stores the line
        try:
            with transaction.atomic():  # a savepoint: the caller's transaction goes on
                ClaimLine.objects.create(
                    episode_id=line.episode.id,
                    month=str(month),
                    version=1,
                    **_decision(line),
                    **marked,
                )
        except IntegrityError as error:  # another biller (or the close) stored it first
            raise EditConflict(LINE_CHANGED_MEANWHILE) from error
    else:
        if action == "submitted":  # submitting reviews too, unless someone already did
            marked["reviewed_at"] = Coalesce(F("reviewed_at"), Value(now))
            marked["reviewed_by"] = Coalesce(F("reviewed_by"), Value(by.pk))
        claim(
            rows.filter(frozen=False),
            version,
            conflict=LINE_CHANGED_MEANWHILE,
            **_decision(line),
            **marked,
        )
    line.saved = rows.get()
    return line.saved


def close_month(
    organization: Organization,
    episodes: QuerySet[Episode],
    month: coding.Month,
    *,
    by: User,
    today: date,
) -> list[BillingLine]:
    """Freeze every line of a past month; later changes to its minutes are flagged.

    Two billers closing the same month at once: the month's `ClosedMonth` row is inserted
    first, so the second insert waits for the first close to end and then fails on the
    unique (organization, month) constraint; that biller is told who closed it, and no
    claim line is written twice."""
    if month >= coding.Month.of(today):
        raise InvalidRequest(f"{month} is not over yet.", "month")
    with transaction.atomic():
        lock_months(organization.id)
        try:
            with transaction.atomic():
                ClosedMonth.objects.create(
                    organization=organization, month=str(month), closed_by=by
                )
        except IntegrityError:
            raise InvalidRequest(already_closed(organization, month), "month") from None
        lines = month_lines(organization, episodes, month)
        freeze(lines, month)
    return lines


# Claim lines inserted per statement by the close (SQLite allows 32,766 parameters).
INSERT_BATCH = 1000


def freeze(lines: Sequence[BillingLine], month: coding.Month) -> None:
    """Store the month's lines frozen, in the caller's transaction: the lines not stored yet
    (nearly all) in batches of inserts, those stored by a mark (few) updated one by one."""
    now = timezone.now()
    new = []
    for line in lines:
        if line.saved is None:
            line.saved = ClaimLine(
                episode_id=line.episode.id,
                month=str(month),
                frozen=True,
                **_decision(line, now),
            )
            new.append(line.saved)
        else:
            line.saved = save_line(line, month, frozen=True)
    ClaimLine.objects.bulk_create(new, batch_size=INSERT_BATCH)


def already_closed(organization: Organization, month: coding.Month) -> str:
    """The conflict message of a second close of a month: who closed it, and when."""
    done = ClosedMonth.objects.select_related("closed_by").get(
        organization=organization, month=str(month)
    )
    user = done.closed_by
    who = staff_name(user.username, user.first_name, user.last_name, user.credentials)
    when = timezone.localtime(done.closed_at).strftime("%Y-%m-%d %H:%M")
    return f"{month} is already closed (by {who} at {when})."
