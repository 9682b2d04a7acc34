"""A deterministic synthetic CoCM population for the demo, the tests and the benchmarks
(`cocm seed`). It fills every app, so it sits above them (pyproject import contracts).

Every name is drawn from short lists of common first and last names and combined at random;
no real person's data is used. The same `seed` and `as_of` always give the same population.
"""

import math
import random
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import cache, lru_cache
from itertools import accumulate, islice
from typing import Any

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.db.models import Model

from cocm.accounts.models import Clinic, ClinicSetting, Membership, Organization, Role, User
from cocm.billing.fees import load_illustrative_fees
from cocm.care.models import CaseReview, Contact, Recommendation
from cocm.domain.episodes import DischargeReason, EpisodeStatus
from cocm.domain.instruments import score
from cocm.domain.pediatric import age_on
from cocm.measures.models import Assessment, SafetyAlert, TreatmentChange
from cocm.registry.bulk_rows import Rows, reset_sequences
from cocm.registry.models import Coverage, Diagnosis, Episode, Patient, StatusChange

DEMO_ORGANIZATION = "Demo Health"
DEMO_PASSWORD = "cocm-demo-2026!"  # noqa: S105 - printed for the demo; seed refuses production
DEMO_USERS = (
    ("caremanager", Role.CARE_MANAGER, "Carla", "Mendes", "LCSW"),
    ("consultant", Role.PSYCHIATRIC_CONSULTANT, "Paul", "Okafor", "MD"),
    ("pcp", Role.PCP, "Priya", "Shah", "MD"),
    ("billing", Role.BILLING, "Brenda", "Lowe", ""),
    ("orgadmin", Role.ORG_ADMIN, "Omar", "Haddad", ""),
)
CLINIC_NAMES = (
    ("Riverside Family Medicine", ClinicSetting.PRACTICE),
    ("Eastside Community Health Center", ClinicSetting.FQHC),
    ("Hillcrest Internal Medicine", ClinicSetting.PRACTICE),
    ("Prairie Rural Health Clinic", ClinicSetting.RHC),
)
GIVEN_FEMALE = (
    "Maria",
    "Jennifer",
    "Linda",
    "Patricia",
    "Elizabeth",
    "Susan",
    "Jessica",
    "Sarah",
    "Karen",
    "Lisa",
    "Nancy",
    "Sandra",
    "Ashley",
    "Emily",
    "Michelle",
    "Carmen",
    "Rosa",
    "Ana",
    "Grace",
    "Hannah",
    "Olivia",
    "Sofia",
    "Camila",
    "Aisha",
    "Mei",
    "Fatima",
    "Julia",
    "Laura",
    "Diana",
)
GIVEN_MALE = (
    "James",
    "Robert",
    "John",
    "Michael",
    "David",
    "William",
    "Richard",
    "Joseph",
    "Thomas",
    "Charles",
    "Daniel",
    "Matthew",
    "Anthony",
    "Mark",
    "Luis",
    "Carlos",
    "Jose",
    "Juan",
    "Ahmed",
    "Wei",
    "Samuel",
    "Ethan",
    "Noah",
    "Kevin",
    "Brian",
    "George",
    "Andre",
    "Marcus",
    "Tyrone",
)
FAMILY = (
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Hernandez",
    "Lopez",
    "Gonzalez",
    "Wilson",
    "Anderson",
    "Thomas",
    "Taylor",
    "Moore",
    "Jackson",
    "Martin",
    "Lee",
    "Perez",
    "Thompson",
    "White",
    "Harris",
    "Sanchez",
    "Clark",
    "Ramirez",
    "Lewis",
    "Robinson",
    "Walker",
    "Young",
    "Allen",
    "King",
    "Wright",
    "Scott",
    "Torres",
    "Nguyen",
    "Hill",
    "Flores",
    "Green",
    "Adams",
    "Nelson",
    "Baker",
    "Hall",
    "Rivera",
    "Campbell",
    "Mitchell",
    "Carter",
    "Roberts",
    "Kim",
    "Patel",
    "Chen",
    "Ali",
)
DIAGNOSES = (
    ("F32.1", 24),
    ("F32.0", 8),
    ("F32.2", 6),
    ("F32.A", 10),
    ("F33.1", 14),
    ("F33.0", 5),
    ("F33.2", 4),
    ("F41.1", 18),
    ("F41.9", 4),
    ("F43.10", 3),
    ("F43.23", 3),
    ("F34.1", 1),
)
DISCHARGE_REASONS = (
    (DischargeReason.GOALS_MET, 46),
    (DischargeReason.DISENGAGED, 20),
    (DischargeReason.REFERRED_TO_SPECIALTY, 12),
    (DischargeReason.MOVED, 6),
    (DischargeReason.DECEASED, 1),
    (DischargeReason.OTHER, 15),
)
BATCH = 2000

# What the seed writes, in this order (parents first), one transaction per batch of patients.
# A table the seed should fill too (a stored aggregate, say) gets its model listed here and
# its rows added in `create_batch` with `tables[Model].add(...)`: see docs/demo-data.md.
SEEDED: tuple[type[Model], ...] = (
    Patient,
    Coverage,
    Episode,
    StatusChange,
    Diagnosis,
    Assessment,
    SafetyAlert,
    Contact,
    CaseReview,
    Recommendation,
    TreatmentChange,
)
Tables = dict[type[Model], Rows]


@dataclass
class Staff:
    care_managers: dict[int, list[User]] = field(default_factory=dict)
    consultants: dict[int, list[User]] = field(default_factory=dict)
    pcps: dict[int, list[User]] = field(default_factory=dict)
    demo: dict[str, User] = field(default_factory=dict)


def weighted(rng: random.Random, table: tuple[tuple[object, int], ...]) -> object:
    values, cumulative = cumulative_weights(table)
    # The same draw as rng.choices(values, weights), without adding the weights up each time.
    return rng.choices(values, cum_weights=cumulative)[0]


@cache
def cumulative_weights(
    table: tuple[tuple[object, int], ...],
) -> tuple[tuple[object, ...], list[int]]:
    values, weights = zip(*table, strict=True)
    return values, list(accumulate(weights))


def add_months(day: date, months: int) -> date:
    year, month = divmod(day.month - 1 + months, 12)
    return date(day.year + year, month + 1, min(day.day, 28))


def chunks(items: Iterable[int], size: int) -> Iterator[list[int]]:
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


def ensure_organization(n_patients: int) -> tuple[Organization, list[Clinic], Staff]:
    """The demo organization, its clinics and its users; existing ones are kept."""
    org, _ = Organization.objects.get_or_create(
        name=DEMO_ORGANIZATION, defaults={"time_zone": "America/Chicago"}
    )
    n_clinics = max(2, min(40, n_patients // 2500))
    clinics = []
    for index in range(n_clinics):
        name, setting = CLINIC_NAMES[index % len(CLINIC_NAMES)]
        if index >= len(CLINIC_NAMES):
            name = f"{name} {index // len(CLINIC_NAMES) + 1}"
        clinic, _ = Clinic.objects.get_or_create(
            organization=org,
            name=name,
            defaults={"setting": setting, "phone": f"555-01{index:02d}"},
        )
        clinics.append(clinic)
    password = make_password(DEMO_PASSWORD)
    staff = Staff()
    for username, role, first, last, credentials in DEMO_USERS:
        user, _ = User.objects.update_or_create(
            username=username,
            defaults={
                "organization": org,
                "first_name": first,
                "last_name": last,
                "credentials": credentials,
                "password": password,
                "is_active": True,
                "is_staff": role == Role.ORG_ADMIN,
                "email": f"{username}@demo-health.example",
            },
        )
        for clinic in clinics:
            Membership.objects.get_or_create(user=user, clinic=clinic, role=role)
        staff.demo[username] = user
    from cocm.accounts.admin import org_admin_permissions

    if role_permissions := org_admin_permissions():
        staff.demo["orgadmin"].user_permissions.set(role_permissions)

    # About one care manager per 200 patients, a consultant per four care managers.
    per_clinic_cms = max(1, math.ceil(n_patients * 0.3 / 200 / n_clinics))
    rng = random.Random(17)
    for clinic in clinics:
        for role, count, bucket in (
            (Role.CARE_MANAGER, per_clinic_cms, staff.care_managers),
            (Role.PSYCHIATRIC_CONSULTANT, max(1, per_clinic_cms // 4), staff.consultants),
            (Role.PCP, max(1, per_clinic_cms // 2), staff.pcps),
        ):
            members = []
            for index in range(count):
                username = f"{role.value.replace('_', '')}{clinic.id}-{index + 1}"
                female = rng.random() < 0.6
                user, created = User.objects.get_or_create(
                    username=username,
                    defaults={
                        "organization": org,
                        "first_name": rng.choice(GIVEN_FEMALE if female else GIVEN_MALE),
                        "last_name": rng.choice(FAMILY),
                        "credentials": {"care_manager": "LCSW", "pcp": "MD"}.get(role, "MD"),
                        "password": password,
                    },
                )
                if created:
                    Membership.objects.create(user=user, clinic=clinic, role=role)
                members.append(user)
            bucket[clinic.id] = members
    return org, clinics, staff


def build_population(
    n_patients: int,
    *,
    seed: int,
    as_of: date,
    progress: Callable[[int], None] = lambda done: None,
) -> Organization:
    """Create the demo organization and `n_patients` patients with their episodes."""
    with transaction.atomic():
        org, clinics, staff = ensure_organization(n_patients)
        # Referrals reach three years back: the demo's worklist shows expected revenue from
        # explicitly labelled illustrative fees (never Medicare's), where none is on file.
        load_illustrative_fees(range(as_of.year - 3, as_of.year + 1))
    rng = random.Random(seed)
    start_number = Patient.objects.filter(organization=org).count()
    # The demo care manager carries about 150 open episodes, like a full-time BHCM.
    demo_open_left = [150]
    tables = {model: Rows(model) for model in SEEDED}
    # The random draws follow the batches of BATCH patients: another size, another population.
    for batch in chunks(range(start_number, start_number + n_patients), BATCH):
        create_batch(rng, tables, org, clinics, staff, batch, as_of, demo_open_left)
        with transaction.atomic():
            for rows in tables.values():
                rows.write()
            reset_sequences(SEEDED)
        progress(len(batch))
    # bulk_create sends no signal: count the stored billing episode-months at the end.
    backfill_billing_months(org.id)
    return org


def backfill_billing_months(organization_id: int) -> None:
    from cocm.billing import aggregates  # the billing app reads the registry, not the reverse

    aggregates.backfill(organization_id)


def create_batch(
    rng: random.Random,
    tables: Tables,
    org: Organization,
    clinics: list[Clinic],
    staff: Staff,
    numbers: list[int],
    as_of: date,
    demo_open_left: list[int],
) -> None:
    patients = []
    for number in numbers:
        female = rng.random() < 0.62
        age_days = int(rng.triangular(14, 88, 48) * 365.25)
        patient = {
            "organization_id": org.id,
            "mrn": f"M{number + 1:07d}",
            "given_name": rng.choice(GIVEN_FEMALE if female else GIVEN_MALE),
            "family_name": rng.choice(FAMILY),
            "birth_date": as_of - timedelta(days=age_days),
            "sex": "female" if female else ("male" if rng.random() < 0.98 else "other"),
            "preferred_language": "es" if rng.random() < 0.15 else "en",
            "phone": f"555-{rng.randint(200, 999)}-{rng.randint(0, 9999):04d}",
            "email": f"patient{number + 1}@example.org" if rng.random() < 0.7 else "",
        }
        patient["id"] = tables[Patient].add(**patient)
        patients.append(patient)
    demo_care_manager, demo_consultant = staff.demo["caremanager"], staff.demo["consultant"]
    episodes, histories, diagnoses = [], [], []
    for patient in patients:
        episode_plans = plan_episodes(rng, as_of)
        age = age_on(patient["birth_date"], as_of)
        tables[Coverage].add(
            patient_id=patient["id"],
            payer_kind=pick_payer(rng, age),
            starts_on=episode_plans[0].referred_on - timedelta(days=rng.randint(30, 2000)),
            member_id=f"{rng.randint(10**8, 10**9 - 1)}",
        )
        clinic = rng.choice(clinics)
        for plan in episode_plans:
            cms = staff.care_managers[clinic.id]
            care_manager = rng.choice(cms)
            if plan.is_open and demo_open_left[0] > 0 and plan.status != EpisodeStatus.REFERRED:
                care_manager = demo_care_manager
                demo_open_left[0] -= 1
            episode = plan.episode(rng, patient["id"], clinic, care_manager, staff)
            if care_manager == demo_care_manager and episode["psychiatric_consultant_id"]:
                # The demo team works together, so the consultant's agenda is not empty.
                episode["psychiatric_consultant_id"] = demo_consultant.id
            episode["id"] = tables[Episode].add(**episode)
            episodes.append(episode)
            histories.append(plan.history)
            diagnoses.append(plan.diagnoses(rng))
    for episode, history, episode_codes in zip(episodes, histories, diagnoses, strict=True):
        previous = ""
        for status, on, reason in history:
            tables[StatusChange].add(
                episode_id=episode["id"],
                from_status=previous,
                to_status=status,
                on=on,
                reason=reason,
                changed_by_id=episode["care_manager_id"],
            )
            previous = status
        recorded_at = datetime.combine(episode["referred_on"], time(15), tzinfo=UTC)
        for code in episode_codes:
            tables[Diagnosis].add(episode_id=episode["id"], code=code, recorded_at=recorded_at)
    create_measures(rng, tables, episodes, diagnoses, as_of)
    create_care(rng, tables, episodes, as_of)


# Trajectory shapes (share of episodes, fraction of the baseline left at week 12).
TRAJECTORIES = (("responder", 45), ("partial", 20), ("non_responder", 25), ("relapse", 10))
METHODS = (("in_clinic", 40), ("phone", 45), ("self_report", 15))


def create_measures(
    rng: random.Random,
    tables: Tables,
    episodes: list[dict[str, Any]],
    diagnoses: list[list[str]],
    as_of: date,
) -> None:
    """PHQ-9 (and GAD-7 for anxiety diagnoses) every 2-4 weeks from enrollment, following
    a responder, partial, non-responder or relapse course; a few item-9 positives."""
    alerts: list[tuple[int, int, date, dict[str, Any]]] = []
    for episode, codes in zip(episodes, diagnoses, strict=True):
        enrolled_on = episode["enrolled_on"]
        if enrolled_on is None:
            continue
        end = min(episode["discharged_on"] or as_of, as_of)
        shape = str(weighted(rng, TRAJECTORIES))
        anxious = any(code.startswith(("F41", "F43")) for code in codes)
        instruments = [
            ("PHQ-9", 9, rng.randint(10, 24) if rng.random() < 0.9 else rng.randint(5, 9))
        ]
        if anxious:
            instruments.append(("GAD-7", 7, rng.randint(10, 19)))
        taken_on = enrolled_on
        while taken_on <= end:
            weeks = (taken_on - enrolled_on).days / 7
            method = str(weighted(rng, METHODS))
            for code, n_items, baseline in instruments:
                total = course_total(rng, shape, baseline, weeks, 3 * n_items)
                answers = spread(rng, total, n_items)
                if code == "PHQ-9" and total >= 12 and rng.random() < 0.04:
                    answers[8] = rng.choice((1, 1, 2))
                total, band, flags, safety = scored(code, tuple(answers))
                assessment_id = tables[Assessment].add(
                    episode_id=episode["id"],
                    instrument=code,
                    taken_on=taken_on,
                    answers=answers,
                    total=total,
                    severity=band,
                    flags=flags,
                    method=method,
                    administered_by_id=(
                        None if method == "self_report" else episode["care_manager_id"]
                    ),
                    recorded_at=datetime.combine(taken_on, time(16), tzinfo=UTC),
                )
                if safety:
                    alerts.append((assessment_id, answers[8], taken_on, episode))
            taken_on += timedelta(days=rng.choice((14, 21, 28)))
    # Alerts older than a week were followed up; recent ones are still open.
    for assessment_id, answer, taken_on, episode in alerts:
        resolved = (as_of - taken_on).days >= 7
        tables[SafetyAlert].add(
            episode_id=episode["id"],
            assessment_id=assessment_id,
            item=9,
            item_answer=answer,
            opened_at=datetime.combine(taken_on, time(16), tzinfo=UTC),
            **(
                {
                    "resolved_at": datetime.combine(taken_on, time(18), tzinfo=UTC),
                    "resolved_by_id": episode["care_manager_id"],
                    "action": SafetyAlert.Action.SAFETY_PLAN,
                    "note": "Called the patient; safety plan reviewed.",
                }
                if resolved
                else {}
            ),
        )


@lru_cache(maxsize=100_000)
def scored(code: str, answers: tuple[int, ...]) -> tuple[int, str, list[str], bool]:
    """The domain's total, severity, flags and safety signal of a set of answers, computed
    once per distinct set (the seed draws about a million, a fraction of them distinct)."""
    result = score(code, answers)
    return result.total, result.severity, list(result.flags), bool(result.safety_items)


def course_total(rng: random.Random, shape: str, baseline: int, weeks: float, top: int) -> int:
    """A plausible score at `weeks` into treatment for the trajectory shape."""
    if shape == "responder":
        remaining = max(0.2, 1 - 0.6 * min(weeks, 16) / 12)
    elif shape == "partial":
        remaining = max(0.55, 1 - 0.35 * min(weeks, 12) / 12)
    elif shape == "relapse":
        remaining = 1 - 0.6 * weeks / 12 if weeks < 12 else 0.4 + 0.05 * (weeks - 12)
    else:
        remaining = 1.0
    noisy = baseline * min(remaining, 1.1) + rng.gauss(0, 1.5)
    return max(0, min(top, round(noisy)))


def spread(rng: random.Random, total: int, n_items: int) -> list[int]:
    """Item answers (0-3) summing to `total`, item 9 kept at 0 unless set later."""
    answers = [0] * n_items
    open_items = list(range(n_items - 1 if n_items == 9 else n_items))
    for _ in range(min(total, 3 * len(open_items))):
        index = rng.choice(open_items)
        answers[index] += 1
        if answers[index] == 3:
            open_items.remove(index)
    return answers


def pick_payer(rng: random.Random, age: int) -> str:
    if age >= 65:
        return "medicare" if rng.random() < 0.85 else "commercial"
    return str(weighted(rng, (("medicaid", 35), ("commercial", 55), ("self_pay", 10))))


@dataclass
class EpisodePlan:
    referred_on: date
    status: EpisodeStatus
    history: list[tuple[str, date, str]]
    enrolled_on: date | None
    discharged_on: date | None
    reason: str

    @property
    def is_open(self) -> bool:
        return self.status != EpisodeStatus.DISCHARGED

    def episode(
        self,
        rng: random.Random,
        patient_id: int,
        clinic: Clinic,
        care_manager: User,
        staff: Staff,
    ) -> dict[str, Any]:
        """The episode's column values (the draws in the order the fields are listed)."""
        consent_on = self.enrolled_on
        return {
            "patient_id": patient_id,
            "clinic_id": clinic.id,
            "referred_on": self.referred_on,
            # The demo PCP refers a quarter of the patients, so their inbox is not empty.
            "referring_pcp_id": (
                staff.demo["pcp"] if rng.random() < 0.25 else rng.choice(staff.pcps[clinic.id])
            ).id,
            "care_manager_id": care_manager.id,
            "psychiatric_consultant_id": (
                rng.choice(staff.consultants[clinic.id]).id if rng.random() < 0.97 else None
            ),
            "status": self.status,
            "consent_on": consent_on,
            "consent_method": (
                ("verbal" if rng.random() < 0.7 else "written") if consent_on else ""
            ),
            "consent_obtained_by_id": care_manager.id if consent_on else None,
            "consent_cost_sharing_explained": consent_on is not None,
            "consent_psychiatric_consultation_explained": consent_on is not None,
            "initiating_visit_on": (
                self.referred_on - timedelta(days=rng.randint(0, 200))
                if rng.random() < 0.95
                else None
            ),
            "billing_program": "general_bhi" if rng.random() < 0.08 else "cocm",
            "enrolled_on": self.enrolled_on,
            "discharged_on": self.discharged_on,
            "discharge_reason": self.reason,
            "status_changed_on": self.history[-1][1],
        }

    def diagnoses(self, rng: random.Random) -> list[str]:
        first = str(weighted(rng, DIAGNOSES))
        codes = [first]
        if rng.random() < 0.3:
            second = str(weighted(rng, DIAGNOSES))
            if second[:3] != first[:3]:
                codes.append(second)
        return codes


def plan_episodes(rng: random.Random, as_of: date) -> list[EpisodePlan]:
    """One episode, sometimes preceded by a discharged one; programs grow, so recent
    referrals are more frequent (referral day ~ sqrt of a uniform draw over three years)."""
    days_back = int(3 * 365 * (1 - math.sqrt(rng.random())))
    referred_on = as_of - timedelta(days=days_back)
    plans = [plan_episode(rng, referred_on, as_of)]
    if rng.random() < 0.08 and days_back < 2 * 365:
        earlier = referred_on - timedelta(days=rng.randint(400, 700))
        previous = plan_episode(rng, earlier, referred_on - timedelta(days=200), force_close=True)
        plans.insert(0, previous)
    return plans


def plan_episode(
    rng: random.Random, referred_on: date, as_of: date, *, force_close: bool = False
) -> EpisodePlan:
    history: list[tuple[str, date, str]] = [(EpisodeStatus.REFERRED, referred_on, "")]
    length_months = rng.randint(3, 12)
    end = add_months(referred_on, length_months)
    declines = rng.random() < 0.07
    enrolled_on = referred_on + timedelta(days=rng.randint(0, 14))
    if declines or enrolled_on > as_of:
        if declines and referred_on + timedelta(days=21) <= as_of:
            closed_on = referred_on + timedelta(days=rng.randint(1, 21))
            history.append((EpisodeStatus.DISCHARGED, closed_on, DischargeReason.DECLINED))
            return EpisodePlan(
                referred_on,
                EpisodeStatus.DISCHARGED,
                history,
                None,
                closed_on,
                DischargeReason.DECLINED,
            )
        return EpisodePlan(referred_on, EpisodeStatus.REFERRED, history, None, None, "")
    history.append((EpisodeStatus.ENROLLED, enrolled_on, ""))
    active_on = enrolled_on + timedelta(days=rng.randint(1, 10))
    if active_on > as_of:
        return EpisodePlan(referred_on, EpisodeStatus.ENROLLED, history, enrolled_on, None, "")
    history.append((EpisodeStatus.ACTIVE, active_on, ""))
    relapse_on = active_on + (end - active_on) * 3 // 4
    status = EpisodeStatus.ACTIVE
    if relapse_on <= as_of and relapse_on > active_on and rng.random() < 0.6:
        history.append((EpisodeStatus.RELAPSE_PREVENTION, relapse_on, ""))
        status = EpisodeStatus.RELAPSE_PREVENTION
    if force_close or end <= as_of:
        closed_on = max(min(end, as_of), history[-1][1])
        reason = str(weighted(rng, DISCHARGE_REASONS))
        history.append((EpisodeStatus.DISCHARGED, closed_on, reason))
        return EpisodePlan(
            referred_on, EpisodeStatus.DISCHARGED, history, enrolled_on, closed_on, reason
        )
    return EpisodePlan(referred_on, status, history, enrolled_on, None, "")


CONTACT_MODES = (("phone", 60), ("in_person", 20), ("video", 12), ("secure_message", 8))
FOLLOW_UP_ACTIVITIES = (
    ("follow_up", 40),
    ("behavioral_activation", 20),
    ("problem_solving", 12),
    ("motivational_interviewing", 8),
    ("care_coordination", 12),
    ("outreach", 8),
)
RECOMMENDATIONS = (
    ("start_medication", "sertraline", "50 mg daily"),
    ("change_medication", "sertraline", "100 mg daily"),
    ("change_medication", "escitalopram", "20 mg daily"),
    ("start_medication", "bupropion XL", "150 mg daily"),
    ("psychotherapy", "", ""),
    ("refer_specialty", "", ""),
)

SEEDED_TREATMENT_KIND = {
    "start_medication": TreatmentChange.Kind.MEDICATION_START,
    "change_medication": TreatmentChange.Kind.MEDICATION_CHANGE,
    "psychotherapy": TreatmentChange.Kind.PSYCHOTHERAPY,
    "refer_specialty": TreatmentChange.Kind.REFERRAL,
}


def create_care(
    rng: random.Random, tables: Tables, episodes: list[dict[str, Any]], as_of: date
) -> None:
    """Contacts every 1-3 weeks (realistic monthly minutes), consultant reviews about every
    six weeks with some recommendations, and PCP answers for all but the newest."""
    contacts = tables[Contact]
    # The consultants' review time entries follow the batch's other contacts (their ids too).
    reviews: list[tuple[dict[str, Any], dict[str, Any], tuple[str, str, str] | None]] = []
    for episode in episodes:
        if episode["enrolled_on"] is None:
            continue
        end = min(episode["discharged_on"] or as_of, as_of)
        staff = episode["care_manager_id"]
        contacts.add(
            episode_id=episode["id"],
            occurred_on=episode["referred_on"],
            minutes=rng.randint(5, 15),
            mode="phone",
            activity="outreach",
            staff_id=staff,
            recorded_by_id=staff,
        )
        day = episode["enrolled_on"]
        contacts.add(
            episode_id=episode["id"],
            occurred_on=day,
            minutes=rng.randint(40, 60),
            mode="in_person",
            activity="initial_assessment",
            staff_id=staff,
            recorded_by_id=staff,
        )
        day += timedelta(days=rng.randint(5, 14))
        while day <= end:
            no_show = rng.random() < 0.08
            contacts.add(
                episode_id=episode["id"],
                occurred_on=day,
                minutes=0 if no_show else rng.choice((10, 15, 20, 20, 25, 30, 30, 45)),
                mode=str(weighted(rng, CONTACT_MODES)),
                activity=str(weighted(rng, FOLLOW_UP_ACTIVITIES)),
                staff_id=staff,
                no_show=no_show,
                recorded_by_id=staff,
            )
            day += timedelta(days=rng.randint(6, 21))
        consultant = episode["psychiatric_consultant_id"]
        if consultant is None:
            continue
        review_on = episode["enrolled_on"] + timedelta(days=rng.randint(3, 14))
        while review_on <= end:
            minutes = rng.choice((5, 10, 10, 15))
            time_entry = {
                "episode_id": episode["id"],
                "occurred_on": review_on,
                "minutes": minutes,
                "mode": "video",
                "activity": "caseload_review",
                "staff_id": consultant,
                "role": "psychiatric_consultant",
                "recorded_by_id": consultant,
                "note": "Caseload review.",
            }
            review = {
                "episode_id": episode["id"],
                "consultant_id": consultant,
                "reviewed_on": review_on,
                "minutes": minutes,
                "summary": "Reviewed progress and plan.",
            }
            recommendation = rng.choice(RECOMMENDATIONS) if rng.random() < 0.35 else None
            reviews.append((review, time_entry, recommendation))
            review_on += timedelta(days=rng.randint(28, 56))
    pcps = {episode["id"]: episode["referring_pcp_id"] for episode in episodes}
    for review, entry, _ in reviews:
        review["contact_id"] = contacts.add(**entry)
    for review, _, _ in reviews:
        review["id"] = tables[CaseReview].add(**review)
    answered_before = as_of - timedelta(days=10)
    for review, _, item in reviews:
        if item is None:
            continue
        kind, medication, dose = item
        pcp = pcps[review["episode_id"]]
        answered = review["reviewed_on"] < answered_before
        tables[Recommendation].add(
            review_id=review["id"],
            episode_id=review["episode_id"],
            pcp_id=pcp,
            kind=kind,
            medication=medication,
            dose=dose,
            text="Psychiatry referral" if kind == "refer_specialty" else "",
            created_at=datetime.combine(review["reviewed_on"], time(17), tzinfo=UTC),
            **(
                {
                    "status": "accepted",
                    "responded_at": datetime.combine(
                        review["reviewed_on"] + timedelta(days=2), time(12), tzinfo=UTC
                    ),
                    "responded_by_id": pcp,
                }
                if answered
                else {}
            ),
        )
    # An accepted recommendation enters the treatment log, as `care.services.respond` does,
    # so the trajectories carry their treatment-change markers.
    for review, _, item in reviews:
        if item is None or review["reviewed_on"] >= answered_before:
            continue
        kind, medication, dose = item
        tables[TreatmentChange].add(
            episode_id=review["episode_id"],
            on=review["reviewed_on"] + timedelta(days=2),
            kind=SEEDED_TREATMENT_KIND[kind],
            description=(
                " ".join(part for part in (medication, dose) if part)
                or str(Recommendation.Kind(kind).label)
            ),
            recorded_by_id=pcps[review["episode_id"]],
        )
