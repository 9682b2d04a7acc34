"""The financial model of a CoCM program: what the APA/AIMS Financial Modeling Workbook does.

Sources: the CoCM rules reference (cocm-rules.md) section 5 (the workbook's inputs and
outputs), section 3 (caseload per care manager, psychiatric consultant time) and section 1
(the codes). Which codes a patient-month bills is never decided here: every bucket of minutes
is passed to the billing engine (`cocm.domain.coding.codes_for_minutes`), so the model and
the month worklist agree by construction. Pure: no clock, no I/O, no framework. Every output
comes with its explanation, the formula in words with the numbers filled in.

Inputs are a flat mapping of named values (`care_manager_fte`, `rate_medicare_99492`, ...)
so that a page, the API's query parameters and `cocm finance --set NAME=VALUE` share them.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from cocm.domain import coding

WEEKS_PER_YEAR = 52
MONTHS_PER_YEAR = 12
WEEKS_PER_MONTH = WEEKS_PER_YEAR / MONTHS_PER_YEAR
# [V] rules 3: about 0.075 FTE (3 h/week) of psychiatric consultant per full-time care
# manager; 2-4 h/week per 100 patients.
CONSULTANT_HOURS_PER_CARE_MANAGER_FTE = 3.0
CONSULTANT_HOURS_PER_100_PATIENTS = (2.0, 4.0)
# [V] rules 3: AIMS caseload guidance per 1.0 FTE care manager spans 50-120.
AIMS_CASELOAD_RANGE = (50, 120)
SHARE_TOLERANCE = 0.001
# Each bucket is one billing-engine decision per payer and per sensitivity run: a cap keeps a
# pasted list of thousands from tying up a worker.
MAX_BUCKETS = 50


class Payer(StrEnum):
    MEDICARE = "medicare"
    MEDICAID = "medicaid"
    COMMERCIAL = "commercial"
    SELF_PAY = "self_pay"


PAYER_LABELS = {
    Payer.MEDICARE: "Medicare",
    Payer.MEDICAID: "Medicaid",
    Payer.COMMERCIAL: "Commercial",
    Payer.SELF_PAY: "Self-pay / uninsured",
}


class Route(StrEnum):
    """How a payer's patients are billed (rules 5: CoCM codes, psychotherapy, or mixed)."""

    COCM = "cocm"
    PSYCHOTHERAPY = "psychotherapy"
    MIXED = "mixed"
    NONE = "none"


class PsychotherapyCode(StrEnum):
    CPT_90791 = "90791"  # psychiatric diagnostic evaluation
    CPT_90832 = "90832"  # psychotherapy, 30 minutes
    CPT_90834 = "90834"  # psychotherapy, 45 minutes
    CPT_90837 = "90837"  # psychotherapy, 60 minutes


COCM_CODES = (
    coding.Code.CPT_99492,
    coding.Code.CPT_99493,
    coding.Code.CPT_99494,
    coding.Code.HCPCS_G2214,
    coding.Code.HCPCS_G0512,
)
RATE_CODES: tuple[str, ...] = tuple(str(code) for code in COCM_CODES) + tuple(
    str(code) for code in PsychotherapyCode
)

Distribution = tuple[tuple[int, float], ...]  # (minutes in the month, share of months)
Value = float | str | bool | Distribution | None


class FinanceInputError(ValueError):
    """An input the user must correct; `field` names it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


class Kind(StrEnum):
    NUMBER = "number"
    MONEY = "money"
    FRACTION = "fraction"  # 0..1, shown as a percentage
    FLAG = "flag"
    CHOICE = "choice"
    DISTRIBUTION = "distribution"


@dataclass(frozen=True, slots=True)
class InputSpec:
    name: str
    label: str
    group: str
    kind: Kind
    unit: str
    default_note: str  # where the default comes from
    minimum: float | None = None
    maximum: float | None = None
    above_minimum: bool = False  # True: the value must be more than `minimum`
    choices: tuple[str, ...] = ()
    optional: bool = False  # None is allowed (a rate not on file, hours "as needed")


def rate_name(payer: str, code: str) -> str:
    return f"rate_{payer}_{code}"


def share_name(payer: str) -> str:
    return f"share_{payer}"


def route_name(payer: str) -> str:
    return f"route_{payer}"


_PLANNING = "[I] a planning assumption: replace it with your own figure"
_SPECS: list[InputSpec] = [
    InputSpec("year", "Year modelled", "Program", Kind.NUMBER, "", "the current year", 2018, 2100),
    InputSpec(
        "fqhc_rhc",
        "FQHC or RHC billing",
        "Program",
        Kind.FLAG,
        "",
        "off: a physician practice (rules 1.7: FQHC/RHC bill G0512 before 2026)",
    ),
    InputSpec(
        "care_manager_fte",
        "Care managers (FTE)",
        "Staffing",
        Kind.NUMBER,
        "FTE",
        "one full-time care manager",
        0,
        50,
        above_minimum=True,
    ),
    InputSpec(
        "hours_per_fte_week",
        "Paid hours per week of 1.0 FTE",
        "Staffing",
        Kind.NUMBER,
        "h/week",
        "a 40-hour week",
        1,
        80,
    ),
    InputSpec(
        "care_manager_salary",
        "Care manager salary (per 1.0 FTE)",
        "Staffing",
        Kind.MONEY,
        "$/year",
        _PLANNING,
        0,
        1_000_000,
    ),
    InputSpec(
        "benefits_rate", "Benefits, % of salary", "Staffing", Kind.FRACTION, "", _PLANNING, 0, 1
    ),
    InputSpec(
        "psychiatric_consultant_hours_per_week",
        "Psychiatric consultant hours",
        "Staffing",
        Kind.NUMBER,
        "h/week",
        "as AIMS recommends: 3 h/week per full-time care manager (rules 3)",
        0,
        168,
        optional=True,
    ),
    InputSpec(
        "psychiatric_consultant_hourly_rate",
        "Psychiatric consultant cost per hour",
        "Staffing",
        Kind.MONEY,
        "$/h",
        _PLANNING,
        0,
        5000,
    ),
    InputSpec(
        "pcp_hours_per_week",
        "PCP time for the program",
        "Staffing",
        Kind.NUMBER,
        "h/week",
        _PLANNING,
        0,
        168,
    ),
    InputSpec(
        "pcp_hourly_rate", "PCP cost per hour", "Staffing", Kind.MONEY, "$/h", _PLANNING, 0, 5000
    ),
    InputSpec(
        "other_costs_per_year",
        "Other program costs",
        "Staffing",
        Kind.MONEY,
        "$/year",
        "none (space, IT and supervision are not counted unless entered)",
        0,
        100_000_000,
    ),
    InputSpec(
        "hours_initial_assessments",
        "Initial assessments",
        "Care manager's week",
        Kind.NUMBER,
        "h/week",
        _PLANNING,
        0,
        80,
    ),
    InputSpec(
        "hours_follow_ups",
        "Follow-up contacts",
        "Care manager's week",
        Kind.NUMBER,
        "h/week",
        _PLANNING,
        0,
        80,
    ),
    InputSpec(
        "hours_caseload_review",
        "Caseload review with the consultant",
        "Care manager's week",
        Kind.NUMBER,
        "h/week",
        _PLANNING,
        0,
        80,
    ),
    InputSpec(
        "hours_documentation",
        "Documentation and registry",
        "Care manager's week",
        Kind.NUMBER,
        "h/week",
        _PLANNING,
        0,
        80,
    ),
    InputSpec(
        "hours_outreach",
        "Outreach and engagement",
        "Care manager's week",
        Kind.NUMBER,
        "h/week",
        _PLANNING,
        0,
        80,
    ),
    InputSpec(
        "hours_non_billable",
        "Non-billable work (meetings, training)",
        "Care manager's week",
        Kind.NUMBER,
        "h/week",
        _PLANNING,
        0,
        80,
    ),
    InputSpec(
        "initial_appointment_minutes",
        "Initial assessment length",
        "Care manager's week",
        Kind.NUMBER,
        "min",
        _PLANNING,
        1,
        480,
    ),
    InputSpec(
        "follow_up_appointment_minutes",
        "Follow-up contact length",
        "Care manager's week",
        Kind.NUMBER,
        "min",
        _PLANNING,
        1,
        480,
    ),
    InputSpec(
        "no_show_rate",
        "No-show rate",
        "Care manager's week",
        Kind.FRACTION,
        "",
        _PLANNING,
        0,
        1,
    ),
    InputSpec(
        "caseload_per_fte",
        "Caseload per 1.0 FTE care manager",
        "Caseload",
        Kind.NUMBER,
        "patients",
        "AIMS guidance 50-120 per FTE by population (rules 3); 80 is where the "
        "commercial and Medicaid ranges meet",
        1,
        250,
    ),
    InputSpec(
        "episode_months",
        "Average episode of care",
        "Caseload",
        Kind.NUMBER,
        "months",
        _PLANNING,
        1,
        36,
    ),
    InputSpec(
        "starting_caseload",
        "Patients already enrolled at month 1",
        "Caseload",
        Kind.NUMBER,
        "patients",
        "none: a new program",
        0,
        12_500,
    ),
    InputSpec(
        "ramp_up_months",
        "Months to fill the caseload",
        "Caseload",
        Kind.NUMBER,
        "months",
        _PLANNING,
        0,
        24,
    ),
    InputSpec(
        "initial_minutes",
        "Minutes in an initial month",
        "Minutes per patient-month",
        Kind.DISTRIBUTION,
        "minutes: share",
        _PLANNING,
    ),
    InputSpec(
        "subsequent_minutes",
        "Minutes in a subsequent month",
        "Minutes per patient-month",
        Kind.DISTRIBUTION,
        "minutes: share",
        _PLANNING,
    ),
    InputSpec("collection_rate", "Collection rate", "Payers", Kind.FRACTION, "", _PLANNING, 0, 1),
    InputSpec(
        "mixed_psychotherapy_share",
        "Mixed route: share billed as psychotherapy",
        "Payers",
        Kind.FRACTION,
        "",
        "half",
        0,
        1,
    ),
]
for _payer in Payer:
    _SPECS.append(
        InputSpec(
            share_name(_payer),
            f"{PAYER_LABELS[_payer]} share of patients",
            "Payers",
            Kind.FRACTION,
            "",
            "all Medicare (the shipped fee schedule is Medicare's)",
            0,
            1,
        )
    )
    _SPECS.append(
        InputSpec(
            route_name(_payer),
            f"{PAYER_LABELS[_payer]} billing route",
            "Payers",
            Kind.CHOICE,
            "",
            "not billed: uninsured care is usually given without a claim"
            if _payer is Payer.SELF_PAY
            else "CoCM codes",
            choices=tuple(Route),
        )
    )
for _payer in Payer:
    for _code in RATE_CODES:
        _SPECS.append(
            InputSpec(
                rate_name(_payer, _code),
                f"{PAYER_LABELS[_payer]} fee for {_code}",
                "Fees",
                Kind.MONEY,
                "$",
                "see the fee defaults",
                0,
                100_000,
                optional=True,
            )
        )

SPECS: dict[str, InputSpec] = {spec.name: spec for spec in _SPECS}


def default_rates(medicare: Mapping[str, float]) -> dict[str, float | None]:
    """Fee defaults from a Medicare schedule ([I], rules 1.9: G2214 and other payers unknown).

    G2214 ("first 30 minutes") takes the 99494 amount, the other 30-minute CoCM unit, where
    no G2214 amount is on file; Medicaid and commercial take the Medicare amounts; self-pay,
    G0512 and the psychotherapy codes have no default (the model asks for them when used).
    """
    known: dict[str, float | None] = {code: medicare.get(code) for code in RATE_CODES}
    g2214 = str(coding.Code.HCPCS_G2214)
    if known[g2214] is None:
        known[g2214] = medicare.get(str(coding.Code.CPT_99494))
    rates: dict[str, float | None] = {}
    for payer in Payer:
        for code in RATE_CODES:
            rates[rate_name(payer, code)] = None if payer is Payer.SELF_PAY else known[code]
    return rates


DEFAULT_INITIAL_MINUTES: Distribution = ((20, 0.10), (50, 0.55), (100, 0.30), (130, 0.05))
DEFAULT_SUBSEQUENT_MINUTES: Distribution = ((10, 0.10), (25, 0.20), (45, 0.50), (90, 0.20))


def default_values(year: int, medicare_fees: Mapping[str, float]) -> dict[str, Value]:
    """Every input's default; sources in docs/finance.md (rules 3 and 5, [I] otherwise)."""
    values: dict[str, Value] = {
        "year": float(year),
        "fqhc_rhc": False,
        "care_manager_fte": 1.0,
        "hours_per_fte_week": 40.0,
        "care_manager_salary": 65_000.0,
        "benefits_rate": 0.30,
        "psychiatric_consultant_hours_per_week": None,
        "psychiatric_consultant_hourly_rate": 200.0,
        "pcp_hours_per_week": 1.0,
        "pcp_hourly_rate": 150.0,
        "other_costs_per_year": 0.0,
        "hours_initial_assessments": 4.0,
        "hours_follow_ups": 16.0,
        "hours_caseload_review": 2.0,
        "hours_documentation": 8.0,
        "hours_outreach": 4.0,
        "hours_non_billable": 6.0,
        "initial_appointment_minutes": 60.0,
        "follow_up_appointment_minutes": 30.0,
        "no_show_rate": 0.15,
        "caseload_per_fte": 80.0,
        "episode_months": 6.0,
        "starting_caseload": 0.0,
        "ramp_up_months": 6.0,
        "initial_minutes": DEFAULT_INITIAL_MINUTES,
        "subsequent_minutes": DEFAULT_SUBSEQUENT_MINUTES,
        "collection_rate": 0.95,
        "mixed_psychotherapy_share": 0.5,
    }
    for payer in Payer:
        values[share_name(payer)] = 1.0 if payer is Payer.MEDICARE else 0.0
        values[route_name(payer)] = str(Route.NONE if payer is Payer.SELF_PAY else Route.COCM)
    values.update(default_rates(medicare_fees))
    return values


# ------------------------------------------------------------------------ parsing and checks


def parse_value(name: str, text: str) -> Value:
    """An input from its text (a form field, a query parameter, `--set NAME=VALUE`)."""
    spec = SPECS.get(name)
    if spec is None:
        raise FinanceInputError(name, f"'{name}' is not an input of the financial model.")
    text = text.strip()
    if spec.kind is Kind.FLAG:
        lowered = text.lower()
        if lowered in ("1", "true", "yes", "on"):
            return True
        if lowered in ("", "0", "false", "no", "off"):
            return False
        raise FinanceInputError(name, f"{spec.label} ({name}): write yes or no, not '{text}'.")
    if spec.kind is Kind.CHOICE:
        if text not in spec.choices:
            raise FinanceInputError(
                name, f"{spec.label} ({name}): choose one of {', '.join(spec.choices)}."
            )
        return text
    if spec.kind is Kind.DISTRIBUTION:
        return parse_distribution(name, text)
    if text == "" and spec.optional:
        return None
    return _parse_number(spec, text)


def _parse_number(spec: InputSpec, text: str) -> float:
    cleaned = text.replace(",", "").replace("$", "").strip()
    percent = cleaned.endswith("%")
    if percent:
        cleaned = cleaned[:-1].strip()
    try:
        number = float(cleaned)
    except ValueError:
        what = "a percentage" if spec.kind is Kind.FRACTION else "a number"
        raise FinanceInputError(
            spec.name, f"{spec.label} ({spec.name}): '{text}' is not {what}."
        ) from None
    if not math.isfinite(number):
        raise FinanceInputError(spec.name, f"{spec.label} ({spec.name}): '{text}' is not finite.")
    return number / 100 if percent else number


def parse_distribution(name: str, text: str) -> Distribution:
    """ "50:0.6, 100:40%" -> ((50, 0.6), (100, 0.4)): minutes in a month and share of months."""
    label = SPECS[name].label if name in SPECS else name
    buckets: list[tuple[int, float]] = []
    for part in (piece.strip() for piece in text.split(",")):
        if not part:
            continue
        minutes_text, sep, share_text = part.partition(":")
        try:
            if not sep:
                raise ValueError
            minutes = int(minutes_text.strip())
            share_text = share_text.strip()
            share = float(share_text[:-1]) / 100 if share_text.endswith("%") else float(share_text)
        except ValueError:
            raise FinanceInputError(
                name,
                f"{label} ({name}): '{part}' is not 'minutes: share' (e.g. 50: 0.6 or 50: 60%).",
            ) from None
        buckets.append((minutes, share))
    if not buckets:
        raise FinanceInputError(name, f"{label} ({name}): enter at least one 'minutes: share'.")
    return tuple(buckets)


def distribution_text(distribution: Distribution) -> str:
    """ "50: 60%, 100: 40%": how the form and a scenario write a distribution."""
    return ", ".join(f"{minutes}: {share * 100:.6g}%" for minutes, share in distribution)


def _check_number(spec: InputSpec, value: float) -> None:
    shown = _plain(value * 100) + "%" if spec.kind is Kind.FRACTION else _plain(value)
    unit = f" {spec.unit}" if spec.unit and spec.kind is not Kind.FRACTION else ""
    where = f"{spec.label} ({spec.name})"
    if spec.minimum is not None:
        low = spec.minimum
        low_shown = _plain(low * 100) + "%" if spec.kind is Kind.FRACTION else _plain(low)
        if value < low or (spec.above_minimum and value <= low):
            word = "more than" if spec.above_minimum else "at least"
            raise FinanceInputError(
                spec.name, f"{where} must be {word} {low_shown}; got {shown}{unit}."
            )
    if spec.maximum is not None and value > spec.maximum:
        high = spec.maximum
        high_shown = _plain(high * 100) + "%" if spec.kind is Kind.FRACTION else _plain(high)
        hint = ""
        if spec.kind is Kind.FRACTION and 1 < value <= 100:
            hint = f" (for {_plain(value)}% write {_plain(value)}% or {_plain(value / 100)})"
        if spec.name == "caseload_per_fte":
            hint = f" (AIMS guidance: {AIMS_CASELOAD_RANGE[0]}-{AIMS_CASELOAD_RANGE[1]})"
        raise FinanceInputError(
            spec.name, f"{where} must be at most {high_shown}; got {shown}{unit}{hint}."
        )


def validate(values: Mapping[str, Value]) -> None:
    """Refuse inputs the model cannot use, naming the input (never a division by zero)."""
    for name, spec in SPECS.items():
        if name not in values:
            raise FinanceInputError(name, f"{spec.label} ({name}) is missing.")
        value = values[name]
        if value is None:
            if not spec.optional:
                raise FinanceInputError(name, f"{spec.label} ({name}) is missing.")
            continue
        if spec.kind in (Kind.NUMBER, Kind.MONEY, Kind.FRACTION):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise FinanceInputError(name, f"{spec.label} ({name}) must be a number.")
            _check_number(spec, float(value))
        elif spec.kind is Kind.FLAG and not isinstance(value, bool):
            raise FinanceInputError(name, f"{spec.label} ({name}) must be yes or no.")
        elif spec.kind is Kind.CHOICE and value not in spec.choices:
            raise FinanceInputError(
                name, f"{spec.label} ({name}): choose one of {', '.join(spec.choices)}."
            )
        elif spec.kind is Kind.DISTRIBUTION:
            _check_distribution(name, value)
    shares = sum(_number(values, share_name(payer)) for payer in Payer)
    if abs(shares - 1) > SHARE_TOLERANCE:
        raise FinanceInputError(
            share_name(Payer.MEDICARE),
            f"The payer shares must add up to 100%; they add up to {_plain(shares * 100)}%.",
        )
    tasks = sum(_number(values, name) for name in TASK_HOURS)
    week = _number(values, "hours_per_fte_week")
    if tasks > week + 1e-9:
        raise FinanceInputError(
            "hours_non_billable",
            f"The care manager's task hours add up to {_plain(tasks)} h/week, more than the "
            f"{_plain(week)} paid hours of 1.0 FTE (hours_per_fte_week).",
        )
    if _countable_hours(values) <= 0:
        raise FinanceInputError(
            "hours_follow_ups",
            "The care manager has no hours on patient work (initial assessments, follow-ups, "
            "caseload review, documentation, outreach): the caseload would be 0.",
        )
    for name in ("initial_minutes", "subsequent_minutes"):
        if _average(_distribution(values, name)) <= 0:
            raise FinanceInputError(
                name, f"{SPECS[name].label} ({name}): the average is 0 minutes."
            )


def _check_distribution(name: str, value: Value) -> None:
    label = f"{SPECS[name].label} ({name})"
    if not isinstance(value, tuple) or not value:
        raise FinanceInputError(name, f"{label}: enter at least one 'minutes: share'.")
    if len(value) > MAX_BUCKETS:
        raise FinanceInputError(
            name, f"{label}: at most {MAX_BUCKETS} 'minutes: share' pairs; got {len(value)}."
        )
    total = 0.0
    for minutes, share in value:
        if not 0 <= minutes <= 1440 * 31:
            raise FinanceInputError(name, f"{label}: {minutes} minutes is not a month's minutes.")
        if not 0 <= share <= 1:
            raise FinanceInputError(name, f"{label}: share {_plain(share * 100)}% is not 0-100%.")
        total += share
    if abs(total - 1) > SHARE_TOLERANCE:
        raise FinanceInputError(
            name, f"{label}: the shares must add up to 100%; they add up to {_plain(total * 100)}%."
        )


TASK_HOURS = (
    "hours_initial_assessments",
    "hours_follow_ups",
    "hours_caseload_review",
    "hours_documentation",
    "hours_outreach",
    "hours_non_billable",
)


def _number(values: Mapping[str, Value], name: str) -> float:
    value = values.get(name)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise FinanceInputError(name, f"{SPECS[name].label} ({name}) must be a number.")
    return float(value)


def _distribution(values: Mapping[str, Value], name: str) -> Distribution:
    value = values[name]
    assert isinstance(value, tuple), name  # validate() checked it
    return value


def _average(distribution: Distribution) -> float:
    return sum(minutes * share for minutes, share in distribution)


def _countable_hours(values: Mapping[str, Value]) -> float:
    """Weekly hours of one FTE whose minutes count toward the CoCM codes ([I], rules 1.2)."""
    scheduled = _number(values, "hours_initial_assessments") + _number(values, "hours_follow_ups")
    other = (
        _number(values, "hours_caseload_review")
        + _number(values, "hours_documentation")
        + _number(values, "hours_outreach")
    )
    return scheduled * (1 - _number(values, "no_show_rate")) + other


# ------------------------------------------------------------------------------- the model


@dataclass(frozen=True, slots=True)
class Output:
    name: str
    label: str
    value: float | None
    unit: str  # "$", "$/year", "patients", "h/week", ...
    explanation: str


@dataclass(frozen=True, slots=True)
class BillingRow:
    """One bucket of patient-months: a payer, a kind of month, its minutes and its codes."""

    payer: str
    month_type: coding.MonthType
    minutes: int
    share: float  # of the payer's CoCM months of that kind
    patient_months: float  # per month at full caseload
    codes: tuple[coding.CodeLine, ...]  # decided by the billing engine
    decision: str


@dataclass(frozen=True, slots=True)
class VisitRow:
    """Psychotherapy visits billed for a payer's patients (per month at full caseload)."""

    payer: str
    code: str
    visits: float


@dataclass(frozen=True)
class Result:
    values: Mapping[str, Value]  # the inputs, "as needed" consultant hours resolved
    outputs: dict[str, Output]
    billing_rows: tuple[BillingRow, ...]
    visit_rows: tuple[VisitRow, ...]
    units_per_month: dict[str, float]  # by code, at full caseload
    units_by_payer: dict[str, dict[str, float]]
    gross_by_payer_code: dict[str, dict[str, float]]  # per year
    net_by_payer: dict[str, float]  # per year
    revenue_per_initial_month: float  # gross CoCM, averaged over payers
    revenue_per_subsequent_month: float
    psychotherapy_gross_per_month: float  # at full caseload
    warnings: tuple[str, ...] = field(default=())

    def value(self, name: str) -> float:
        output = self.outputs[name].value
        return 0.0 if output is None else output


def route_split(route: Route, mixed_psychotherapy_share: float) -> tuple[float, float]:
    """(CoCM share, psychotherapy share) of a payer's patients for its route (rules 5)."""
    if route is Route.COCM:
        return 1.0, 0.0
    if route is Route.PSYCHOTHERAPY:
        return 0.0, 1.0
    if route is Route.MIXED:
        return 1 - mixed_psychotherapy_share, mixed_psychotherapy_share
    return 0.0, 0.0


def psychotherapy_code(minutes: float) -> PsychotherapyCode | None:
    """Psychotherapy code for a session's length: 90832 16-37, 90834 38-52, 90837 53+ min
    (CPT time rule for psychotherapy, [S] AMA CPT 2013 psychotherapy codes)."""
    if minutes >= 53:
        return PsychotherapyCode.CPT_90837
    if minutes >= 38:
        return PsychotherapyCode.CPT_90834
    if minutes >= 16:
        return PsychotherapyCode.CPT_90832
    return None


def consultant_hours_needed(care_manager_fte: float) -> float:
    """About 3 h/week of psychiatric consultant per full-time care manager (AIMS, rules 3)."""
    return CONSULTANT_HOURS_PER_CARE_MANAGER_FTE * care_manager_fte


def model(
    values: Mapping[str, Value],
    *,
    rules: Mapping[str, coding.BillingRules] | None = None,
) -> Result:
    """Every output of the financial model from its named inputs (rules 5), explained.

    `rules`: the billing rules of each payer (e.g. a cap on 99494 units); the default rules
    otherwise.
    """
    validate(values)
    rules = rules or {}
    n = _Numbers(values)
    warnings: list[str] = []
    out: dict[str, Output] = {}

    def put(name: str, label: str, value: float | None, unit: str, explanation: str) -> None:
        out[name] = Output(name, label, value, unit, explanation)

    fte = n("care_manager_fte")
    year = int(n("year"))
    months = n("episode_months")
    no_show = n("no_show_rate")
    fqhc = values["fqhc_rhc"] is True
    setting = coding.ClinicSetting.FQHC if fqhc else coding.ClinicSetting.PRACTICE
    initial = _distribution(values, "initial_minutes")
    subsequent = _distribution(values, "subsequent_minutes")

    # Care manager time.
    countable_hours = _countable_hours(values)
    countable_minutes = fte * countable_hours * 60 * WEEKS_PER_MONTH
    scheduled = n("hours_initial_assessments") + n("hours_follow_ups")
    put(
        "countable_minutes_per_month",
        "Care-manager minutes that count toward CoCM codes, per month",
        countable_minutes,
        "min/month",
        f"{_plain(fte)} FTE × ({_plain(scheduled)} h of scheduled contacts × "
        f"(1 − {_pct(no_show)} no-shows) + {_plain(countable_hours - scheduled * (1 - no_show))}"
        f" h of review, documentation and outreach) per week × 60 × 52/12 weeks = "
        f"{_plain(countable_minutes)} minutes a month",
    )
    average_initial, average_subsequent = _average(initial), _average(subsequent)
    blended = average_initial / months + average_subsequent * (months - 1) / months
    put(
        "average_minutes_per_patient_month",
        "Average minutes per patient-month",
        blended,
        "min",
        f"an episode of {_plain(months)} months has 1 initial month of "
        f"{_plain(average_initial)} min on average and {_plain(months - 1)} subsequent months "
        f"of {_plain(average_subsequent)} min: ({_plain(average_initial)} + "
        f"{_plain(months - 1)} × {_plain(average_subsequent)}) ÷ {_plain(months)} = "
        f"{_plain(blended)} min",
    )

    # Caseload.
    per_fte = n("caseload_per_fte")
    guidance = fte * per_fte
    time_limited = countable_minutes / blended
    capacity = min(guidance, time_limited)
    put(
        "guidance_caseload",
        "Caseload by the caseload-per-FTE input",
        guidance,
        "patients",
        f"{_plain(fte)} FTE × {_plain(per_fte)} patients per FTE = {_plain(guidance)}",
    )
    put(
        "time_limited_caseload",
        "Caseload the care-manager time allows",
        time_limited,
        "patients",
        f"{_plain(countable_minutes)} countable minutes a month ÷ {_plain(blended)} minutes per "
        f"patient-month = {_plain(time_limited)}",
    )
    bound = (
        "the caseload per FTE"
        if guidance <= time_limited
        else "the care manager's countable minutes (fewer than the caseload per FTE needs)"
    )
    put(
        "caseload_capacity",
        "Caseload capacity",
        capacity,
        "patients",
        f"the smaller of {_plain(guidance)} (caseload per FTE) and {_plain(time_limited)} "
        f"(care-manager time) = {_plain(capacity)}; limited by {bound}",
    )
    if guidance > time_limited:
        warnings.append(
            f"The care manager's time allows {_plain(time_limited)} patients, fewer than the "
            f"{_plain(guidance)} of the caseload per FTE: the caseload is time-limited."
        )
    low, high = AIMS_CASELOAD_RANGE
    if not low <= per_fte <= high:
        warnings.append(
            f"A caseload of {_plain(per_fte)} per FTE is outside the AIMS guidance of "
            f"{low}-{high} (rules 3)."
        )
    patient_months_year = capacity * MONTHS_PER_YEAR
    served = patient_months_year / months
    put(
        "patient_months_per_year",
        "Patient-months per year",
        patient_months_year,
        "patient-months",
        f"{_plain(capacity)} patients × 12 months = {_plain(patient_months_year)}",
    )
    put(
        "patients_served_per_year",
        "Patients served per year",
        served,
        "patients",
        f"{_plain(patient_months_year)} patient-months a year ÷ {_plain(months)} months per "
        f"episode = {_plain(served)}",
    )
    new_per_month = capacity / months
    put(
        "new_patients_per_month",
        "New patients per month at full caseload",
        new_per_month,
        "patients",
        f"{_plain(capacity)} patients ÷ {_plain(months)} months per episode = "
        f"{_plain(new_per_month)} episodes end and start each month",
    )

    # Visits.
    attended = 1 - no_show
    initial_visits = (
        fte * n("hours_initial_assessments") * 60 / n("initial_appointment_minutes") * attended
    )
    follow_up_visits = (
        fte * n("hours_follow_ups") * 60 / n("follow_up_appointment_minutes") * attended
    )
    put(
        "initial_visits_per_week",
        "Initial assessments per week",
        initial_visits,
        "visits",
        f"{_plain(fte)} FTE × {_plain(n('hours_initial_assessments'))} h × 60 ÷ "
        f"{_plain(n('initial_appointment_minutes'))} min × (1 − {_pct(no_show)}) = "
        f"{_plain(initial_visits)}",
    )
    put(
        "follow_up_visits_per_week",
        "Follow-up contacts per week",
        follow_up_visits,
        "visits",
        f"{_plain(fte)} FTE × {_plain(n('hours_follow_ups'))} h × 60 ÷ "
        f"{_plain(n('follow_up_appointment_minutes'))} min × (1 − {_pct(no_show)}) = "
        f"{_plain(follow_up_visits)}",
    )
    needed_initials = new_per_month / WEEKS_PER_MONTH
    if initial_visits + 1e-9 < needed_initials:
        warnings.append(
            f"{_plain(needed_initials)} new patients a week need an initial assessment; the "
            f"hours for initial assessments allow {_plain(initial_visits)}."
        )

    # Billable units: the billing engine decides each bucket's codes.
    modelled_month = coding.Month(year, 1)
    mixed_share = n("mixed_psychotherapy_share")
    billing_rows: list[BillingRow] = []
    visit_rows: list[VisitRow] = []
    units_by_payer: dict[str, dict[str, float]] = {}
    gross_by_payer_code: dict[str, dict[str, float]] = {}
    missing: list[str] = []
    per_kind_revenue = {coding.MonthType.INITIAL: 0.0, coding.MonthType.SUBSEQUENT: 0.0}
    psychotherapy_gross = 0.0
    follow_up_code = psychotherapy_code(n("follow_up_appointment_minutes"))
    for payer in Payer:
        share = n(share_name(payer))
        route = Route(str(values[route_name(payer)]))
        cocm_share, psychotherapy_share = route_split(route, mixed_share)
        payer_rules = rules.get(str(payer), coding.DEFAULT_RULES)
        units: dict[str, float] = {}
        gross: dict[str, float] = {}
        for kind, distribution, kind_months in (
            (coding.MonthType.INITIAL, initial, capacity / months),
            (coding.MonthType.SUBSEQUENT, subsequent, capacity * (months - 1) / months),
        ):
            for minutes, bucket_share in distribution:
                patient_months = kind_months * share * cocm_share * bucket_share
                codes = coding.codes_for_minutes(
                    minutes, kind, rules=payer_rules, setting=setting, month=modelled_month
                )
                billing_rows.append(
                    BillingRow(
                        str(payer),
                        kind,
                        minutes,
                        bucket_share,
                        patient_months,
                        codes,
                        _codes_text(codes),
                    )
                )
                if patient_months <= 0:
                    continue
                for line in codes:
                    code = str(line.code)
                    count = patient_months * line.units
                    units[code] = units.get(code, 0.0) + count
                    rate = _rate(values, payer, code, missing)
                    amount = count * rate * MONTHS_PER_YEAR
                    gross[code] = gross.get(code, 0.0) + amount
                    per_kind_revenue[kind] += bucket_share * share * cocm_share * line.units * rate
        if share * psychotherapy_share > 0:
            for code, visits_per_week in (
                (str(PsychotherapyCode.CPT_90791), initial_visits),
                (str(follow_up_code) if follow_up_code else "", follow_up_visits),
            ):
                if not code:
                    warnings.append(
                        f"A follow-up of {_plain(n('follow_up_appointment_minutes'))} min is "
                        "shorter than any psychotherapy code (16 min)."
                    )
                    continue
                visits = visits_per_week * WEEKS_PER_MONTH * share * psychotherapy_share
                visit_rows.append(VisitRow(str(payer), code, visits))
                units[code] = units.get(code, 0.0) + visits
                rate = _rate(values, payer, code, missing)
                gross[code] = gross.get(code, 0.0) + visits * rate * MONTHS_PER_YEAR
                psychotherapy_gross += visits * rate
        units_by_payer[str(payer)] = units
        gross_by_payer_code[str(payer)] = gross
    if missing:
        first = missing[0]
        raise FinanceInputError(
            first,
            "No fee on file for "
            + ", ".join(_rate_label(name) for name in missing)
            + ": enter the amount the payer pays (or load its fee schedule).",
        )

    units_per_month: dict[str, float] = {}
    for units in units_by_payer.values():
        for code, count in units.items():
            units_per_month[code] = units_per_month.get(code, 0.0) + count
    for code, count in sorted(units_per_month.items()):
        put(
            f"units_{code}_per_month",
            f"{code} units per month",
            count,
            "units",
            _units_explanation(code, billing_rows, visit_rows),
        )

    # Revenue.
    collection = n("collection_rate")
    gross_year = sum(sum(codes.values()) for codes in gross_by_payer_code.values())
    net_by_payer = {
        payer: sum(codes.values()) * collection for payer, codes in gross_by_payer_code.items()
    }
    net_year = gross_year * collection
    put(
        "gross_revenue_per_year",
        "Gross revenue per year",
        gross_year,
        "$/year",
        "units per month × fee × 12, summed over payers and codes: "
        + _revenue_terms(gross_by_payer_code)
        + f" = {_money(gross_year)}",
    )
    put(
        "net_revenue_per_year",
        "Net revenue per year (collected)",
        net_year,
        "$/year",
        f"{_money(gross_year)} gross × {_pct(collection)} collection rate = {_money(net_year)}",
    )

    # Costs.
    salary, benefits = n("care_manager_salary"), n("benefits_rate")
    care_manager_cost = fte * salary * (1 + benefits)
    needed = consultant_hours_needed(fte)
    staffed = values["psychiatric_consultant_hours_per_week"]
    consultant_hours = needed if staffed is None else n("psychiatric_consultant_hours_per_week")
    consultant_cost = consultant_hours * WEEKS_PER_YEAR * n("psychiatric_consultant_hourly_rate")
    pcp_cost = n("pcp_hours_per_week") * WEEKS_PER_YEAR * n("pcp_hourly_rate")
    other = n("other_costs_per_year")
    cost_year = care_manager_cost + consultant_cost + pcp_cost + other
    put(
        "care_manager_cost_per_year",
        "Care manager cost per year",
        care_manager_cost,
        "$/year",
        f"{_plain(fte)} FTE × {_money(salary)} salary × (1 + {_pct(benefits)} benefits) = "
        f"{_money(care_manager_cost)}",
    )
    hours_source = "as needed (3 h/week per FTE)" if staffed is None else "as entered"
    put(
        "psychiatric_consultant_cost_per_year",
        "Psychiatric consultant cost per year",
        consultant_cost,
        "$/year",
        f"{_plain(consultant_hours)} h/week ({hours_source}) × 52 weeks × "
        f"{_money(n('psychiatric_consultant_hourly_rate'))}/h = {_money(consultant_cost)}",
    )
    put(
        "pcp_cost_per_year",
        "PCP time cost per year",
        pcp_cost,
        "$/year",
        f"{_plain(n('pcp_hours_per_week'))} h/week × 52 weeks × "
        f"{_money(n('pcp_hourly_rate'))}/h = {_money(pcp_cost)}",
    )
    put(
        "cost_per_year",
        "Cost per year",
        cost_year,
        "$/year",
        f"care manager {_money(care_manager_cost)} + psychiatric consultant "
        f"{_money(consultant_cost)} + PCP {_money(pcp_cost)} + other {_money(other)} = "
        f"{_money(cost_year)}",
    )
    margin = net_year - cost_year
    put(
        "margin_per_year",
        "Margin per year",
        margin,
        "$/year",
        f"{_money(net_year)} net revenue − {_money(cost_year)} cost = {_money(margin)}",
    )

    # Break-even: net revenue grows with the caseload at the same revenue per patient-month.
    per_patient_month = net_year / patient_months_year
    put(
        "net_revenue_per_patient_month",
        "Net revenue per patient-month",
        per_patient_month,
        "$",
        f"{_money(net_year)} ÷ {_plain(patient_months_year)} patient-months = "
        f"{_money(per_patient_month)}",
    )
    if per_patient_month > 0:
        patients = cost_year / (per_patient_month * MONTHS_PER_YEAR)
        break_even: float | None = patients
        text = (
            f"{_money(cost_year)} cost ÷ ({_money(per_patient_month)} per patient-month × 12) "
            f"= {_plain(patients)} patients"
        )
        if patients > capacity + 1e-9:
            text += f", more than the capacity of {_plain(capacity)}: the program runs at a loss"
            warnings.append(
                f"Break-even needs {_plain(patients)} patients; the capacity is {_plain(capacity)}."
            )
    else:
        break_even = None
        text = "no caseload breaks even: the program collects nothing per patient-month"
    put("break_even_caseload", "Break-even caseload", break_even, "patients", text)

    # Psychiatric consultant.
    low_hours = capacity / 100 * CONSULTANT_HOURS_PER_100_PATIENTS[0]
    high_hours = capacity / 100 * CONSULTANT_HOURS_PER_100_PATIENTS[1]
    put(
        "psychiatric_consultant_hours_per_week",
        "Psychiatric consultant hours needed",
        needed,
        "h/week",
        f"3 h/week per full-time care manager × {_plain(fte)} FTE = {_plain(needed)} h "
        f"(AIMS); 2-4 h per 100 patients gives {_plain(low_hours)}-{_plain(high_hours)} h for "
        f"{_plain(capacity)} patients",
    )
    if consultant_hours + 1e-9 < min(needed, low_hours):
        warnings.append(
            f"{_plain(consultant_hours)} h/week of psychiatric consultant is less than the "
            f"{_plain(min(needed, low_hours))} h AIMS guidance suggests."
        )

    paid_hours = fte * n("hours_per_fte_week") * WEEKS_PER_YEAR
    per_hour = net_year / paid_hours
    put(
        "revenue_per_care_manager_hour",
        "Net revenue per care-manager hour",
        per_hour,
        "$/h",
        f"{_money(net_year)} ÷ ({_plain(fte)} FTE × {_plain(n('hours_per_fte_week'))} h × 52 "
        f"weeks) = {_money(per_hour)}",
    )

    resolved = dict(values)
    resolved["psychiatric_consultant_hours_per_week"] = consultant_hours
    return Result(
        values=resolved,
        outputs=out,
        billing_rows=tuple(billing_rows),
        visit_rows=tuple(visit_rows),
        units_per_month=units_per_month,
        units_by_payer=units_by_payer,
        gross_by_payer_code=gross_by_payer_code,
        net_by_payer=net_by_payer,
        revenue_per_initial_month=per_kind_revenue[coding.MonthType.INITIAL],
        revenue_per_subsequent_month=per_kind_revenue[coding.MonthType.SUBSEQUENT],
        psychotherapy_gross_per_month=psychotherapy_gross,
        warnings=tuple(warnings),
    )


class _Numbers:
    def __init__(self, values: Mapping[str, Value]) -> None:
        self.values = values

    def __call__(self, name: str) -> float:
        return _number(self.values, name)


def _rate(values: Mapping[str, Value], payer: Payer, code: str, missing: list[str]) -> float:
    name = rate_name(payer, code)
    if values.get(name) is None:
        if name not in missing:
            missing.append(name)
        return 0.0
    return _number(values, name)


def _rate_label(name: str) -> str:
    prefix, code = name.rsplit("_", 1)
    payer = Payer(prefix.removeprefix("rate_"))
    return f"{code} ({PAYER_LABELS[payer]}, input {name})"


def _codes_text(codes: tuple[coding.CodeLine, ...]) -> str:
    if not codes:
        return "nothing billable"
    return " + ".join(f"{line.code} ×{line.units}" for line in codes)


def _units_explanation(code: str, rows: Iterable[BillingRow], visits: Iterable[VisitRow]) -> str:
    terms: list[str] = []
    total = 0.0
    for row in rows:
        for line in row.codes:
            if str(line.code) == code and row.patient_months > 0:
                count = row.patient_months * line.units
                total += count
                terms.append(
                    f"{_plain(row.patient_months)} {PAYER_LABELS[Payer(row.payer)]} "
                    f"{row.month_type} months of {row.minutes} min × {line.units}"
                )
    for visit in visits:
        if visit.code == code:
            total += visit.visits
            terms.append(f"{_plain(visit.visits)} {PAYER_LABELS[Payer(visit.payer)]} visits")
    return " + ".join(terms) + f" = {_plain(total)} (codes decided by the billing engine)"


def _revenue_terms(gross: Mapping[str, Mapping[str, float]]) -> str:
    terms = [
        f"{PAYER_LABELS[Payer(payer)]} {code} {_money(amount)}"
        for payer, codes in gross.items()
        for code, amount in codes.items()
        if amount
    ]
    return " + ".join(terms) if terms else "nothing billed"


# ------------------------------------------------------------------ projection, sensitivity


@dataclass(frozen=True, slots=True)
class ProjectionMonth:
    month: int  # 1..months
    caseload: float
    new_patients: float  # initial months
    subsequent_months: float
    revenue: float  # collected (net)
    cost: float
    margin: float
    cumulative_margin: float


def projection(
    values: Mapping[str, Value], result: Result, months: int = 24
) -> tuple[ProjectionMonth, ...]:
    """Month-by-month net revenue and cost while the caseload fills (rules 5, [I] linear
    ramp-up): caseload(m) = start + (capacity − start) × m ÷ ramp-up months, capped at the
    capacity; discharges(m) = caseload(m−1) ÷ episode months; new(m) = caseload(m) −
    caseload(m−1) + discharges(m)."""
    capacity = result.value("caseload_capacity")
    episode = _number(values, "episode_months")
    ramp = _number(values, "ramp_up_months")
    start = min(_number(values, "starting_caseload"), capacity)
    collection = _number(values, "collection_rate")
    cost = result.value("cost_per_year") / MONTHS_PER_YEAR
    rows: list[ProjectionMonth] = []
    previous = start
    cumulative = 0.0
    for month in range(1, months + 1):
        caseload = (
            capacity if ramp <= 0 else min(capacity, start + (capacity - start) * month / ramp)
        )
        new = max(0.0, caseload - previous + previous / episode)
        later = caseload - new
        fill = caseload / capacity
        revenue = collection * (
            new * result.revenue_per_initial_month
            + later * result.revenue_per_subsequent_month
            + fill * result.psychotherapy_gross_per_month
        )
        cumulative += revenue - cost
        rows.append(
            ProjectionMonth(month, caseload, new, later, revenue, cost, revenue - cost, cumulative)
        )
        previous = caseload
    return tuple(rows)


@dataclass(frozen=True, slots=True)
class Swing:
    """The margin with one input 10% lower and 10% higher (None: outside its range)."""

    name: str
    label: str
    base_value: float
    low_margin: float | None
    high_margin: float | None
    base_margin: float

    @property
    def size(self) -> float:
        return max(
            abs(margin - self.base_margin)
            for margin in (self.low_margin, self.high_margin, self.base_margin)
            if margin is not None
        )


SENSITIVITY_EXCLUDED = frozenset({"year", "starting_caseload", "ramp_up_months"})


def sensitivity(
    values: Mapping[str, Value],
    *,
    rules: Mapping[str, coding.BillingRules] | None = None,
    step: float = 0.10,
    top: int = 3,
) -> tuple[Swing, ...]:
    """The inputs that move the yearly margin most when each is moved ±10% alone (rules 5);
    payer shares and minute distributions are left out (moving one alone breaks its 100%),
    a move past an input's maximum stops there and one that changes nothing is None."""
    base = model(values, rules=rules)
    base_margin = base.value("margin_per_year")
    swings: list[Swing] = []
    for name, spec in SPECS.items():
        if (
            name in SENSITIVITY_EXCLUDED
            or spec.kind not in (Kind.NUMBER, Kind.MONEY, Kind.FRACTION)
            or name.startswith("share_")
        ):
            continue
        value = base.values.get(name)
        if value is None or isinstance(value, (bool, str, tuple)) or value == 0:
            continue
        margins: list[float | None] = []
        for factor in (1 - step, 1 + step):
            varied = float(value) * factor
            if spec.maximum is not None:
                varied = min(varied, spec.maximum)  # a collection rate of 100% stays 100%
            if varied == value:
                margins.append(None)
                continue
            changed = dict(values)
            changed[name] = varied
            try:
                margins.append(model(changed, rules=rules).value("margin_per_year"))
            except FinanceInputError:
                margins.append(None)
        swing = Swing(name, spec.label, float(value), margins[0], margins[1], base_margin)
        if swing.size > 0:
            swings.append(swing)
    swings.sort(key=lambda swing: (-swing.size, swing.name))
    return tuple(swings[:top])


# ----------------------------------------------------------------------------- formatting


def _plain(number: float) -> str:
    """A number as people write it: 1,234.5 (at most two decimals, none when whole)."""
    rounded = round(number, 2)
    if rounded == int(rounded):
        return f"{int(rounded):,}"
    return f"{rounded:,.2f}".rstrip("0").rstrip(".")


def _money(amount: float) -> str:
    sign = "−" if amount < -0.004 else ""
    return f"{sign}${abs(amount):,.2f}"


def _pct(fraction: float) -> str:
    return _plain(fraction * 100) + "%"
