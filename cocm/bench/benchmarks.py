"""The benchmarks. Adding one takes a few lines:

    @benchmark("what it times", floor="SELECT … the same rows …", target=Target(p95_ms=100))
    def some_page(population: Population) -> Callable[[], object]:
        client = signed_in_client(population.care_manager)
        return lambda: get_ok(client, "/some/page/")

The setup runs once, untimed; the returned call is timed. A floor is one hand-written SQL
query fetching the data the product shows, with %(care_manager_id)s, %(patient_id)s,
%(episode_id)s, %(today)s, %(month_start)s, %(billing_user_id)s, %(billing_month_start)s and
%(billing_month_end)s parameters (`Population.floor_params`); it must run on SQLite and
PostgreSQL. A call that takes seconds sets `max_repeat` (e.g. 7) to cap its timed runs.
"""

import json
from collections.abc import Callable
from datetime import date

from django.core.cache import cache
from django.db import transaction
from django.test import Client

from cocm.accounts.models import ApiToken, Role, User
from cocm.accounts.scoping import visible_episodes
from cocm.bench.harness import (
    BenchmarkError,
    LoadRequest,
    Population,
    Target,
    benchmark,
    get_ok,
    load_benchmark,
    signed_in_client,
)
from cocm.billing.months import shift
from cocm.billing.services import month_lines
from cocm.care.billing_figures import month_figures
from cocm.care.caseload import organization_caseload_rows
from cocm.care.tracker import TrackerRow, flag_rules, tracker_rows
from cocm.domain import coding
from cocm.registry.models import Episode
from cocm.reports import program, quality

# The caseload tracker's data: the care manager's open episodes in her clinics with patient,
# clinic and care manager, and per episode the figures the tracker shows (payer, contacts,
# minutes this month, first and last PHQ-9 and GAD-7, last review, pending request and
# recommendation, relapse plan, open safety alert), as correlated subqueries that each use
# the episode_id index. The flags themselves are computed from these figures in Python.
# A join on her memberships rather than `clinic_id IN (SELECT …)`, which PostgreSQL plans
# as one bitmap scan of the episodes per clinic.
CASELOAD_FLOOR = """
SELECT e.id, e.patient_id, p.family_name, p.given_name, p.mrn, c.name,
  u.first_name, u.last_name, u.credentials, e.status, e.referred_on, e.enrolled_on,
  (SELECT cov.payer_kind FROM registry_coverage cov
   WHERE cov.patient_id = e.patient_id AND cov.starts_on <= %(today)s
     AND (cov.ends_on IS NULL OR cov.ends_on >= %(today)s)
   ORDER BY cov.starts_on DESC LIMIT 1),
  (SELECT COUNT(*) FROM care_contact ct
   WHERE ct.episode_id = e.id AND ct.role <> 'psychiatric_consultant' AND NOT ct.no_show),
  (SELECT COUNT(*) FROM care_contact ct WHERE ct.episode_id = e.id AND ct.no_show),
  (SELECT MAX(ct.occurred_on) FROM care_contact ct
   WHERE ct.episode_id = e.id AND ct.role <> 'psychiatric_consultant' AND NOT ct.no_show),
  (SELECT SUM(ct.minutes) FROM care_contact ct
   WHERE ct.episode_id = e.id AND ct.occurred_on >= %(month_start)s AND NOT ct.no_show),
  (SELECT a.total FROM measures_assessment a
   WHERE a.episode_id = e.id AND a.is_current AND a.instrument = 'PHQ-9'
   ORDER BY a.taken_on ASC, a.id ASC LIMIT 1),
  (SELECT a.total FROM measures_assessment a
   WHERE a.episode_id = e.id AND a.is_current AND a.instrument = 'PHQ-9'
   ORDER BY a.taken_on DESC, a.id DESC LIMIT 1),
  (SELECT a.total FROM measures_assessment a
   WHERE a.episode_id = e.id AND a.is_current AND a.instrument = 'GAD-7'
   ORDER BY a.taken_on ASC, a.id ASC LIMIT 1),
  (SELECT a.total FROM measures_assessment a
   WHERE a.episode_id = e.id AND a.is_current AND a.instrument = 'GAD-7'
   ORDER BY a.taken_on DESC, a.id DESC LIMIT 1),
  (SELECT MAX(a.taken_on) FROM measures_assessment a
   WHERE a.episode_id = e.id AND a.is_current),
  (SELECT MAX(r.reviewed_on) FROM care_casereview r WHERE r.episode_id = e.id),
  (SELECT MIN(rq.reason) FROM care_reviewrequest rq
   WHERE rq.episode_id = e.id AND rq.review_id IS NULL),
  (SELECT MIN(rc.created_at) FROM care_recommendation rc
   WHERE rc.episode_id = e.id AND rc.status = 'pending'),
  EXISTS (SELECT 1 FROM care_relapsepreventionplan rp WHERE rp.episode_id = e.id),
  EXISTS (SELECT 1 FROM measures_safetyalert sa
          WHERE sa.episode_id = e.id AND sa.resolved_at IS NULL)
FROM registry_episode e
JOIN accounts_membership m ON m.clinic_id = e.clinic_id AND m.user_id = %(care_manager_id)s
JOIN registry_patient p ON p.id = e.patient_id
JOIN accounts_clinic c ON c.id = e.clinic_id
JOIN accounts_user u ON u.id = e.care_manager_id
WHERE e.care_manager_id = %(care_manager_id)s AND e.status <> 'discharged'
ORDER BY p.family_name, p.given_name, e.id
"""

# Everything the chart shows in one round trip: a UNION ALL of the patient, coverages,
# episodes with clinic and team, status history, diagnoses, assessments, contacts, reviews
# and safety alerts, each branch cast to the same columns (kind, id, episode, day, a, b, c).
CHART_FLOOR = """
SELECT 'patient', p.id, CAST(NULL AS BIGINT), CAST(p.birth_date AS TEXT), p.family_name,
       p.given_name,
       p.mrn || ' ' || p.sex || ' ' || p.preferred_language || ' ' || p.phone || ' ' || p.email
FROM registry_patient p WHERE p.id = %(patient_id)s
UNION ALL
SELECT 'coverage', cov.id, CAST(NULL AS BIGINT), CAST(cov.starts_on AS TEXT), cov.payer_kind,
       cov.payer_name,
       cov.member_id || ' ' || COALESCE(CAST(cov.ends_on AS TEXT), '')
FROM registry_coverage cov WHERE cov.patient_id = %(patient_id)s
UNION ALL
SELECT 'episode', e.id, e.id, CAST(e.referred_on AS TEXT), e.status, c.name,
       COALESCE(cm.last_name, '') || ' ' || COALESCE(pc.last_name, '') || ' '
       || COALESCE(pcp.last_name, '') || ' ' || COALESCE(CAST(e.consent_on AS TEXT), '')
       || ' ' || COALESCE(CAST(e.enrolled_on AS TEXT), '') || ' ' || e.billing_program
FROM registry_episode e
JOIN accounts_clinic c ON c.id = e.clinic_id
LEFT JOIN accounts_user cm ON cm.id = e.care_manager_id
LEFT JOIN accounts_user pc ON pc.id = e.psychiatric_consultant_id
LEFT JOIN accounts_user pcp ON pcp.id = e.referring_pcp_id
WHERE e.patient_id = %(patient_id)s
UNION ALL
SELECT 'status', s.id, s.episode_id, CAST(s."on" AS TEXT), s.from_status, s.to_status, s.reason
FROM registry_statuschange s JOIN registry_episode e ON e.id = s.episode_id
WHERE e.patient_id = %(patient_id)s
UNION ALL
SELECT 'diagnosis', d.id, d.episode_id, CAST(d.recorded_at AS TEXT), d.code, NULL,
       CAST(d.onset_on AS TEXT)
FROM registry_diagnosis d JOIN registry_episode e ON e.id = d.episode_id
WHERE e.patient_id = %(patient_id)s
UNION ALL
SELECT 'assessment', a.id, a.episode_id, CAST(a.taken_on AS TEXT), a.instrument,
       CAST(a.total AS TEXT), a.severity || ' ' || a.method
FROM measures_assessment a JOIN registry_episode e ON e.id = a.episode_id
WHERE e.patient_id = %(patient_id)s AND a.is_current
UNION ALL
SELECT 'contact', ct.id, ct.episode_id, CAST(ct.occurred_on AS TEXT), ct.mode, ct.activity,
       CAST(ct.minutes AS TEXT) || ' ' || st.last_name
FROM care_contact ct JOIN registry_episode e ON e.id = ct.episode_id
JOIN accounts_user st ON st.id = ct.staff_id
WHERE e.patient_id = %(patient_id)s
UNION ALL
SELECT 'review', r.id, r.episode_id, CAST(r.reviewed_on AS TEXT), CAST(r.minutes AS TEXT),
       NULL, NULL
FROM care_casereview r JOIN registry_episode e ON e.id = r.episode_id
WHERE e.patient_id = %(patient_id)s
UNION ALL
SELECT 'alert', sa.id, sa.episode_id, CAST(sa.opened_at AS TEXT), sa.action,
       CAST(sa.item_answer AS TEXT), CAST(sa.resolved_at AS TEXT)
FROM measures_safetyalert sa JOIN registry_episode e ON e.id = sa.episode_id
WHERE e.patient_id = %(patient_id)s
"""

# The API's episode: the episode, its team's usernames, diagnoses and status history.
EPISODE_FLOOR = """
SELECT e.id, e.patient_id, e.clinic_id, e.status, e.referred_on, e.consent_on,
       e.consent_method, e.initiating_visit_on, e.billing_program, e.enrolled_on,
       e.discharged_on, e.discharge_reason,
       pcp.username, cm.username, pc.username, ob.username,
       d.code, d.onset_on, s.from_status, s.to_status, s."on", s.reason
FROM registry_episode e
LEFT JOIN accounts_user pcp ON pcp.id = e.referring_pcp_id
LEFT JOIN accounts_user cm ON cm.id = e.care_manager_id
LEFT JOIN accounts_user pc ON pc.id = e.psychiatric_consultant_id
LEFT JOIN accounts_user ob ON ob.id = e.consent_obtained_by_id
LEFT JOIN registry_diagnosis d ON d.episode_id = e.id
LEFT JOIN registry_statuschange s ON s.episode_id = e.id
WHERE e.id = %(episode_id)s
ORDER BY d.recorded_at, d.id, s."on", s.id
"""

# The month close's data: what it must read now that it decides from the stored
# per-episode-month minutes (billing.EpisodeMonth) rather than the month's time entries.
# One row per episode with activity in the month that the biller sees (her clinics), by
# patient name: the stored counted minutes and what they were counted under; the episode's
# facts (program, setting, consent, initiating visit, start, consultant); the names the
# worklist shows (patient, MRN, birth date, clinic, referring PCP); the patient's coverage
# on the month's last day (kind, payer, member ID); any revocation of consent; and the
# latest earlier month with activity of the patient within the look-back window (the month
# type). The product reads the same in six queries (the stored rows with their episodes,
# coverages, revocations, earlier months; rules, fees, settings and saved lines are a few
# rows each).
BILLING_MONTH_FLOOR = """
SELECT em.episode_id, e.patient_id, c.setting, e.billing_program, e.consent_on,
  e.initiating_visit_on, e.referred_on, e.psychiatric_consultant_id,
  p.family_name, p.given_name, p.mrn, c.name, e.referring_pcp_id, pcp.username,
  pcp.first_name, pcp.last_name, pcp.credentials, p.birth_date, e.clinic_id,
  e.care_manager_id,
  em.minutes, em.excluded, em.daily, em.latest_before_consent, em.any_on_or_after_consent,
  em.consent_on, em.revoked, em.count_consultant_minutes, em.count_inpatient_minutes,
  cov.payer_kind, cov.payer_name, cov.member_id,
  EXISTS (SELECT 1 FROM registry_consentrevocation r WHERE r.episode_id = e.id),
  earlier.latest_month
FROM billing_episodemonth em
JOIN registry_episode e ON e.id = em.episode_id
JOIN registry_patient p ON p.id = e.patient_id
JOIN accounts_clinic c ON c.id = e.clinic_id
LEFT JOIN accounts_user pcp ON pcp.id = e.referring_pcp_id
LEFT JOIN registry_coverage cov ON cov.id = (
  SELECT c2.id FROM registry_coverage c2
  WHERE c2.patient_id = e.patient_id AND c2.starts_on <= %(billing_month_last_day)s
    AND (c2.ends_on IS NULL OR c2.ends_on >= %(billing_month_last_day)s)
  ORDER BY c2.starts_on DESC, c2.id DESC LIMIT 1)
LEFT JOIN (
  SELECT pe.patient_id, MAX(m.month) AS latest_month
  FROM billing_episodemonth m JOIN registry_episode pe ON pe.id = m.episode_id
  WHERE m.month >= %(look_back_start)s AND m.month < %(billing_month_start)s
  GROUP BY pe.patient_id) earlier ON earlier.patient_id = e.patient_id
WHERE em.month = %(billing_month_start)s
  AND e.clinic_id IN (SELECT m.clinic_id FROM accounts_membership m
                      WHERE m.user_id = %(billing_user_id)s)
ORDER BY p.family_name, p.given_name, e.id
"""


def billing_month_floor_params(population: Population) -> dict[str, object]:
    """The month's last day, and the first month of the look-back for the month type."""
    month = coding.Month(population.billing_month.year, population.billing_month.month)
    gap = coding.DEFAULT_RULES.gap_months_for_new_episode
    return {
        "billing_month_last_day": month.last_day,
        "look_back_start": shift(month, -(gap + 1)).first_day,
    }


# The issue's targets (2-core machine, 100,000 patients) for the pages and the caseload API.
PAGE_TARGET = Target(p95_ms=150, floor_ratio=2)
CHART_TARGET = Target(p95_ms=100)
LOAD_TARGET = Target(requests_per_second=200, errors=0, worker_mb=500)
MONTH_CLOSE_TARGET = Target(p95_ms=3000, floor_ratio=3)

CASELOAD_API = "/api/v1/caseload?care_manager={username}"


def bearer_headers(population: Population) -> dict[str, str]:
    _, raw = ApiToken.issue(population.care_manager, name="benchmark")
    return {"Authorization": f"Bearer {raw}"}


@benchmark(
    "GET /caseload/, care manager with ~150 open episodes",
    floor=CASELOAD_FLOOR,
    target=PAGE_TARGET,
)
def caseload_page(population: Population) -> Callable[[], object]:
    client = signed_in_client(population.care_manager)
    return lambda: get_ok(client, "/caseload/")


# Issue 18: the organization-wide caseload (34,000 open episodes), first page, sorted by any
# column and filtered by flag, filters, sorts and pages in the database.
ORGANIZATION_CASELOAD_TARGET = Target(p95_ms=300, allocated_mb=20)


def organization_caseload(name: str, query: str) -> Callable[[Population], Callable[[], object]]:
    def setup(population: Population) -> Callable[[], object]:
        # The view a practice leader or consultant opens: the stored rows of every clinic
        # are filtered and sorted in the database; one page of 250 is read and rendered.
        client = signed_in_client(population.care_manager)
        return lambda: get_ok(client, f"/caseload/?care_manager={query}")

    setup.__name__ = setup.__qualname__ = name  # the benchmark's name
    return setup


organization_caseload_page = benchmark(
    "GET /caseload/?care_manager= — every open episode of the clinics (all 40 here), "
    "first page of 250",
    target=ORGANIZATION_CASELOAD_TARGET,
    max_repeat=10,
)(organization_caseload("organization_caseload_page", ""))
organization_caseload_by_minutes = benchmark(
    "GET /caseload/?care_manager=&flag=no_contact&sort=minutes_this_month&dir=desc — "
    "every clinic, no contact, most minutes first, first page",
    target=ORGANIZATION_CASELOAD_TARGET,
    max_repeat=10,
)(
    organization_caseload(
        "organization_caseload_by_minutes", "&flag=no_contact&sort=minutes_this_month&dir=desc"
    )
)
organization_caseload_by_name = benchmark(
    "GET /caseload/?care_manager=&flag=not_improved&sort=patient_name&dir=desc — "
    "every clinic, not improved, by name (a joined column), first page",
    target=ORGANIZATION_CASELOAD_TARGET,
    max_repeat=10,
)(
    organization_caseload(
        "organization_caseload_by_name", "&flag=not_improved&sort=patient_name&dir=desc"
    )
)
organization_caseload_by_change = benchmark(
    "GET /caseload/?care_manager=&flag=severe&sort=phq9_change — every clinic, severe, "
    "least improved PHQ-9 first (empty last), first page",
    target=ORGANIZATION_CASELOAD_TARGET,
    max_repeat=10,
)(
    organization_caseload(
        "organization_caseload_by_change", "&flag=severe&sort=phq9_change&dir=desc"
    )
)


@benchmark(
    "caseload rows as the page reads them (stored rows), no HTTP or template",
    floor=CASELOAD_FLOOR,
)
def caseload_rows(population: Population) -> Callable[[], object]:
    # Splits the page's time between its data (this row) and HTTP, session and template.
    user = population.care_manager
    caseload = visible_episodes(user, Episode.objects).open().filter(care_manager=user)
    check_rows(population, organization_caseload_rows(user.organization, caseload.all()))
    return lambda: list(iter(organization_caseload_rows(user.organization, caseload.all())))


@benchmark(
    "caseload rows computed afresh (tracker_rows), as after the day changes",
    floor=CASELOAD_FLOOR,
)
def caseload_rows_computed(population: Population) -> Callable[[], object]:
    # What a stored row costs to compute: the first caseload of the day (unless the worker
    # has refreshed the rows overnight) and, per episode, the read after each write.
    user = population.care_manager
    today, rules = user.organization.today(), flag_rules(user.organization)
    caseload = visible_episodes(user, Episode.objects).open().filter(care_manager=user)
    billing = month_figures(user.organization)
    check_rows(population, tracker_rows(caseload.all(), today, rules, billing))
    return lambda: tracker_rows(caseload.all(), today, rules, billing)


def check_rows(population: Population, rows: list[TrackerRow]) -> None:
    found = sorted(row.episode_id for row in rows)
    if found != sorted(population.episode_ids):
        raise BenchmarkError(
            f"{len(found)} caseload rows, not one per open episode of the caseload "
            f"({len(population.episode_ids)})."
        )


@benchmark(
    "GET /api/v1/caseload?care_manager=caremanager with a bearer token",
    floor=CASELOAD_FLOOR,
    target=PAGE_TARGET,
)
def caseload_api(population: Population) -> Callable[[], object]:
    client, headers = Client(), bearer_headers(population)
    path = CASELOAD_API.format(username=population.care_manager.username)
    rows = json.loads(get_ok(client, path, headers))
    if len(rows) != len(population.episode_ids):
        raise BenchmarkError(
            f"GET {path} answered {len(rows)} rows, not {len(population.episode_ids)}."
        )
    return lambda: get_ok(client, path, headers)


@benchmark(
    "month close: billing.services.month_lines for the last complete month, all clinics",
    floor=BILLING_MONTH_FLOOR,
    floor_params=billing_month_floor_params,
    target=MONTH_CLOSE_TARGET,
    max_repeat=7,
)
def billing_month(population: Population) -> Callable[[], object]:
    # What `GET /api/v1/billing/{month}`, the billing worklist and the month close compute,
    # as the demo biller (every clinic) sees it: one line per episode with activity.
    user = population.billing_user
    month = coding.Month(population.billing_month.year, population.billing_month.month)
    episodes = visible_episodes(user, Episode.objects)

    def lines() -> object:
        return month_lines(user.organization, episodes.all(), month)

    if not lines():
        raise BenchmarkError(f"month_lines found no activity in {month}.")
    return lines


@benchmark(
    "GET /patients/<id>/, the caseload's longest history",
    floor=CHART_FLOOR,
    target=CHART_TARGET,
)
def patient_chart_page(population: Population) -> Callable[[], object]:
    client = signed_in_client(population.care_manager)
    return lambda: get_ok(client, f"/patients/{population.patient_id}/")


@benchmark(
    "financial model: calibration from the last 12 months (cocm/finance/calibration.py)",
    max_repeat=5,
)
def finance_calibration(population: Population) -> Callable[[], object]:
    from cocm.finance.calibration import calibrate

    organization = population.billing_user.organization

    def calibrated() -> object:
        return calibrate(organization, as_of=population.today, months=12)

    if "initial_minutes" not in calibrated():
        raise BenchmarkError("calibration found no initial months in the last 12 months.")
    return calibrated


@benchmark("GET /finance/, the financial model page with its sensitivity (default inputs)")
def finance_page(population: Population) -> Callable[[], object]:
    client = signed_in_client(population.billing_user)
    return lambda: get_ok(client, "/finance/")


@benchmark("GET /api/v1/episodes/<id> with a bearer token", floor=EPISODE_FLOOR)
def episode_api(population: Population) -> Callable[[], object]:
    client, headers = Client(), bearer_headers(population)
    return lambda: get_ok(client, f"/api/v1/episodes/{population.episode_id}", headers)


# Each quality measure's one-query floor: the rows its denominator is decided from, for
# the same patients and days as the product reads them (`quality.candidate_window`,
# `quality.data_window`): the patients of the demo biller's clinics (all of them) who can
# be in the initial population (a PHQ-9/PHQ-A > 9 in the candidate window; CMS2: everyone),
# and their diagnoses, contacts with the patient and current PHQ-9/PHQ-A in the measure's
# windows, in one UNION ALL, without computing anything.
SCOPE = """e.clinic_id IN (SELECT m.clinic_id FROM accounts_membership m
                      WHERE m.user_id = %(billing_user_id)s)"""
CANDIDATES = """
  AND e.patient_id IN (
    SELECT ce.patient_id FROM measures_assessment ca
    JOIN registry_episode ce ON ce.id = ca.episode_id
    WHERE ca.is_current AND ca.instrument IN ('PHQ-9', 'PHQ-A') AND ca.total > 9
      AND ca.taken_on BETWEEN %(candidates_from)s AND %(candidates_to)s
      AND ce.clinic_id IN (SELECT m.clinic_id FROM accounts_membership m
                           WHERE m.user_id = %(billing_user_id)s))
  AND e.patient_id IN (SELECT p.id FROM registry_patient p WHERE p.birth_date <= %(born_by)s)"""
# CMS2's candidates: a contact with the patient (or an initiating visit) in the year.
VISITED = """
  AND e.patient_id IN (
    SELECT ce.patient_id FROM care_contact cc JOIN registry_episode ce ON ce.id = cc.episode_id
    WHERE NOT cc.no_show AND cc.mode IN ('in_person', 'phone', 'video')
      AND cc.occurred_on BETWEEN %(year_start)s AND %(year_end)s
    UNION
    SELECT ce.patient_id FROM registry_episode ce
    WHERE ce.initiating_visit_on BETWEEN %(year_start)s AND %(year_end)s)
  AND e.patient_id IN (SELECT p.id FROM registry_patient p WHERE p.birth_date <= %(born_by)s)"""
DIAGNOSES = """
SELECT e.patient_id, d.code, d.onset_on, NULL
FROM registry_diagnosis d JOIN registry_episode e ON e.id = d.episode_id
WHERE SCOPE"""
CONTACTS = """
SELECT e.patient_id, ct.mode, ct.occurred_on, ct.minutes
FROM care_contact ct JOIN registry_episode e ON e.id = ct.episode_id
WHERE SCOPE
  AND NOT ct.no_show AND ct.mode IN ('in_person', 'phone', 'video')
  AND ct.occurred_on BETWEEN %(contacts_from)s AND %(contacts_to)s"""
ASSESSMENTS = """
SELECT e.patient_id, a.instrument, a.taken_on, a.total
FROM measures_assessment a JOIN registry_episode e ON e.id = a.episode_id
WHERE SCOPE
  AND a.is_current AND a.instrument IN ('PHQ-9', 'PHQ-A')
  AND a.taken_on BETWEEN %(assessments_from)s AND %(assessments_to)s"""


def union_all(*parts: str, candidates: str) -> str:
    """The parts, each for the measure's candidates, as one query."""
    return "\nUNION ALL".join(part.replace("SCOPE", SCOPE) + candidates for part in parts)


CMS159_FLOOR = union_all(DIAGNOSES, CONTACTS, ASSESSMENTS, candidates=CANDIDATES)
CMS2_FLOOR = union_all(DIAGNOSES, CONTACTS, candidates=VISITED)  # no registry assessment read
DRR_FLOOR = union_all(DIAGNOSES, ASSESSMENTS, candidates=CANDIDATES)  # no registry contact read
QUALITY_TARGET = Target(p95_ms=3000, floor_ratio=3)


def measure_year(population: Population, measure: str) -> int:
    """The latest measurement year with a version that is not after the population's year."""
    years = [y for y in quality.known_years(measure) if y <= population.today.year]
    return years[-1] if years else quality.known_years(measure)[0]


def measure_floor_params(measure: str) -> Callable[[Population], dict[str, object]]:
    def params(population: Population) -> dict[str, object]:
        year = measure_year(population, measure)
        reads = quality.data_window(measure, year)
        window = quality.candidate_window(measure, year)
        found: dict[str, object] = {
            "year_start": date(year, 1, 1),
            "year_end": date(year, 12, 31),
            "born_by": date((window[1].year if window else year) - 12, 12, 31),
        }
        for name, days in (
            ("candidates", quality.candidate_window(measure, year)),
            ("contacts", reads.contacts),
            ("assessments", reads.assessments),
        ):
            if isinstance(days, tuple):
                found[f"{name}_from"], found[f"{name}_to"] = days
        return found

    return params


def quality_measure(population: Population, measure: str) -> Callable[[], object]:
    # As `GET /api/v1/quality/<measure>` computes it for a user of every demo clinic, for
    # the latest measurement year with a version that is not after the population's year.
    user = population.billing_user
    year = measure_year(population, measure)
    episodes = visible_episodes(user, Episode.objects)

    def compute() -> object:
        return quality.quality_report(user.organization, episodes.all(), measure, year)

    report = compute()
    assert isinstance(report, quality.QualityReport)
    if not report.data.get("denominator"):
        raise BenchmarkError(f"{measure} {year}: an empty denominator measures nothing.")
    return compute


@benchmark("CMS159 over the registry (quality_report), all clinics", floor=CMS159_FLOOR,
           floor_params=measure_floor_params("cms159"), target=QUALITY_TARGET,
           max_repeat=5)  # fmt: skip
def quality_cms159(population: Population) -> Callable[[], object]:
    return quality_measure(population, "cms159")


@benchmark("CMS2 over the registry (quality_report), all clinics", floor=CMS2_FLOOR,
           floor_params=measure_floor_params("cms2"), target=QUALITY_TARGET,
           max_repeat=5)  # fmt: skip
def quality_cms2(population: Population) -> Callable[[], object]:
    return quality_measure(population, "cms2")


@benchmark("HEDIS DRR-E over the registry (quality_report), all clinics", floor=DRR_FLOOR,
           floor_params=measure_floor_params("drr"), target=QUALITY_TARGET,
           max_repeat=5)  # fmt: skip
def quality_drr(population: Population) -> Callable[[], object]:
    return quality_measure(population, "drr")


@load_benchmark(
    "GET /api/v1/caseload?care_manager=caremanager, ~150 rows, bearer token", target=LOAD_TARGET
)
def caseload_api_under_load(population: Population, secret_key: str) -> LoadRequest:
    # The issue's load target is on this endpoint: every care manager's tools poll it.
    path = CASELOAD_API.format(username=population.care_manager.username)
    return LoadRequest((path,), bearer_headers(population))


@load_benchmark("GET /api/v1/episodes/<id> over the caseload's episodes", target=LOAD_TARGET)
def episode_api_under_load(population: Population, secret_key: str) -> LoadRequest:
    # The lightest authenticated API read, one per caseload row: the server's ceiling.
    paths = tuple(f"/api/v1/episodes/{episode_id}" for episode_id in population.episode_ids)
    return LoadRequest(paths, bearer_headers(population))


# The program indicators' denominator: the enrolled episodes of the clinics (here all of
# them, through the biller's memberships, the same as the organization admin's), with each
# episode's dates, its first PHQ-9 (the baseline) and its last care-manager contact.
PROGRAM_FLOOR = """
SELECT e.id, e.enrolled_on, e.discharged_on, e.discharge_reason, e.care_manager_id,
  (SELECT a.total FROM measures_assessment a
   WHERE a.episode_id = e.id AND a.is_current AND a.instrument = 'PHQ-9'
   ORDER BY a.taken_on ASC, a.id ASC LIMIT 1),
  (SELECT MAX(ct.occurred_on) FROM care_contact ct
   WHERE ct.episode_id = e.id AND ct.role = 'care_manager' AND NOT ct.no_show
     AND ct.occurred_on <= %(today)s)
FROM registry_episode e
JOIN accounts_membership m ON m.clinic_id = e.clinic_id AND m.user_id = %(billing_user_id)s
WHERE e.enrolled_on IS NOT NULL AND e.enrolled_on <= %(today)s
  AND (e.discharged_on IS NULL OR e.discharged_on >= %(billing_month_start)s)
"""
PROGRAM_TARGET = Target(p95_ms=3000, floor_ratio=3)
DASHBOARD_TARGET = Target(p95_ms=500)


def program_lead(population: Population) -> User:
    return User.objects.get(username="orgadmin", organization=population.care_manager.organization)


@benchmark(
    "program indicators: the full set for the organization, 12 months, computed afresh",
    floor=PROGRAM_FLOOR,
    target=PROGRAM_TARGET,
    max_repeat=5,
)
def program_indicators(population: Population) -> Callable[[], object]:
    user = program_lead(population)
    filters = program.parse_filters(user, {}, today=population.today)
    if program.compute_report(user, filters).indicators["active_caseload"].value == 0:
        raise BenchmarkError("The program indicators found no active caseload.")

    def fresh() -> object:
        cache.clear()  # the billing months too: the first report of the day
        return program.compute_report(user, filters)

    return fresh


@benchmark(
    "GET /reports/, the program dashboard (the day's cached report), organization admin",
    floor=PROGRAM_FLOOR,
    target=DASHBOARD_TARGET,
)
def program_dashboard_page(population: Population) -> Callable[[], object]:
    client = signed_in_client(program_lead(population))
    get_ok(client, "/reports/")  # the first read of the day computes and caches the report
    return lambda: get_ok(client, "/reports/")


# 2,000 resources/s (issue 14) for a bundle of 1 patient and 99 PHQ-9 observations.
FHIR_IMPORT_RESOURCES = 100
FHIR_IMPORT_TARGET = Target(p95_ms=FHIR_IMPORT_RESOURCES / 2000 * 1000)


@benchmark(
    f"import_bundle: a new transaction of {FHIR_IMPORT_RESOURCES} resources (p95 ms / 100 "
    "= ms per resource)",
    target=FHIR_IMPORT_TARGET,
    max_repeat=20,
)
def fhir_import(population: Population) -> Callable[[], object]:
    from itertools import count
    from uuid import uuid4

    from cocm.interop.importer import import_bundle

    organization = population.care_manager.organization
    # Fresh ids every run (and every benchmark session): a bundle seen before stores nothing.
    runs = (f"{uuid4().hex[:8]}-{n}" for n in count(1))

    def bundle(run: str) -> dict:
        patient = {
            "resourceType": "Patient",
            "id": f"bench-{run}",
            "identifier": [{"system": "urn:bench", "value": f"BENCH-{run}"}],
            "name": [{"family": "Bench", "given": ["Mark"]}],
            "gender": "female",
            "birthDate": "1970-01-01",
        }
        observations = [
            {
                "resourceType": "Observation",
                "id": f"bench-{run}-{n}",
                "status": "final",
                "code": {"coding": [{"system": "http://loinc.org", "code": "44261-6"}]},
                "subject": {"reference": f"Patient/bench-{run}"},
                "effectiveDateTime": "2025-01-01",
                "valueInteger": n % 28,
            }
            for n in range(FHIR_IMPORT_RESOURCES - 1)
        ]
        entries = [
            {"resource": r, "request": {"method": "PUT", "url": f"{r['resourceType']}/{r['id']}"}}
            for r in [patient, *observations]
        ]
        return {"resourceType": "Bundle", "type": "transaction", "entry": entries}

    def run() -> object:
        # Rolled back: the seeded population keeps its size from one session to the next.
        with transaction.atomic():
            result = import_bundle(organization, bundle(next(runs)), as_of=population.today)
            transaction.set_rollback(True)
        if result.status != 200:
            raise BenchmarkError(f"FHIR import answered {result.status}")
        return result

    return run


@benchmark(
    "Bulk export: the whole population the care manager sees, every type, NDJSON "
    "(resources/s = resources written / median)",
    max_repeat=3,
)
def bulk_export(population: Population) -> Callable[[], object]:
    import shutil
    import tempfile
    import uuid

    from django.test import override_settings

    from cocm.interop.export import SYSTEM_TYPES, run_export
    from cocm.interop.models import ExportJob

    user = population.care_manager
    folder = tempfile.mkdtemp(prefix="cocm-bench-export-")

    def run() -> object:
        job = ExportJob.objects.create(
            key=uuid.uuid4().hex,
            organization=user.organization,
            user=user,
            level="system",
            types=list(SYSTEM_TYPES),
            request_url="/fhir/$export",
        )
        with override_settings(COCM_EXPORT_DIR=folder):
            written = run_export.call(job.key)
        shutil.rmtree(folder, ignore_errors=True)
        if not written:
            raise BenchmarkError("The export wrote nothing.")
        return written

    return run


@benchmark(
    "GET /fhir/Observation?patient=<id>, the caseload's longest history",
    target=Target(p95_ms=100),
)
def fhir_observation_search(population: Population) -> Callable[[], object]:
    from cocm.interop import patient_fhir_id
    from cocm.registry.models import Patient

    client = Client(headers=bearer_headers(population))
    fhir_id = patient_fhir_id(Patient.objects.get(pk=population.patient_id))
    return lambda: get_ok(client, f"/fhir/Observation?patient=Patient/{fhir_id}")


# 5,000 rows/s (issue 14) for a tracker of TRACKER_IMPORT_ROWS new patients.
TRACKER_IMPORT_ROWS = 5000
TRACKER_IMPORT_TARGET = Target(p95_ms=TRACKER_IMPORT_ROWS / 5000 * 1000)


def tracker_csv(rows: int, *, run: str, care_manager: str, as_of: date) -> bytes:
    """A generated AIMS-style tracker: new MRNs, half the rows enrolled with a diagnosis,
    every row with a baseline and a latest PHQ-9."""
    from datetime import timedelta

    lines = [
        "MRN,First name,Last name,Date of birth,Sex,Enrollment date,Care manager,"
        "PHQ-9 baseline,PHQ-9 baseline date,PHQ-9 latest,PHQ-9 latest date,Diagnosis"
    ]
    for n in range(rows):
        enrolled = as_of - timedelta(days=30 + n % 300)
        latest = min(as_of, enrolled + timedelta(days=28 + n % 60))
        lines.append(
            f"T{run}-{n},Tess,Tracker{n % 97},{1940 + n % 60}-0{1 + n % 9}-1{n % 10},"
            f"{'F' if n % 3 else 'M'},{enrolled.isoformat()},{care_manager},{10 + n % 18},"
            f"{(enrolled - timedelta(days=3)).isoformat()},{n % 20},{latest.isoformat()},"
            f"{'F32.1' if n % 2 else ''}"
        )
    return ("\n".join(lines) + "\n").encode()


@benchmark(
    f"Tracker import: a CSV of {TRACKER_IMPORT_ROWS:,} new patients read, checked and stored "
    "(rows/s = rows / median), rolled back after each run",
    target=TRACKER_IMPORT_TARGET,
    max_repeat=5,
)
def tracker_import(population: Population) -> Callable[[], object]:
    from uuid import uuid4

    from cocm.interop.tracker import check_rows, import_rows, read_sheet

    care_manager = population.care_manager
    clinic = (
        care_manager.memberships.filter(role=Role.CARE_MANAGER)
        .select_related("clinic__organization")
        .first()
        .clinic
    )
    as_of = population.today
    content = tracker_csv(
        TRACKER_IMPORT_ROWS, run=uuid4().hex[:8], care_manager=care_manager.username, as_of=as_of
    )

    def run() -> object:
        sheet = read_sheet(content, "tracker.csv")
        rows, errors = check_rows(sheet, sheet.suggested_mapping(), clinic, as_of=as_of)
        if errors or len(rows) != TRACKER_IMPORT_ROWS:
            raise BenchmarkError(f"The generated tracker has problems: {errors[:3]}")
        # Rolled back: the seeded population keeps its size from one session to the next.
        with transaction.atomic():
            summary = import_rows(rows, clinic, by=None, as_of=as_of)
            transaction.set_rollback(True)
        if summary.patients_created != TRACKER_IMPORT_ROWS:
            raise BenchmarkError(f"The tracker import created {summary.patients_created}.")
        return summary

    return run
