"""The fast seed (COPY on PostgreSQL, executemany on SQLite) writes the same population as
the ORM seed it replaced: the same rows, column by column, for the same --seed and --as-of.

`GOLDEN` holds, per table, the row count and a SHA-256 of every row as the ORM seed of
commit 2a35d58 wrote them (`cocm seed --patients 200 --seed 5 --as-of 2026-11-23`); ids and
foreign keys are taken relative to the first seeded row of their table, users by username
(the clinic id in a staff username relative to the first clinic), so the digests do not
depend on the database's sequences (earlier tests' rolled-back inserts advance them). Only
the columns listed here are compared, so that columns other capabilities add later do not
change the digests; the timestamps the database fills at insert time (`created_at`, some
`recorded_at`) are left out.
"""

import hashlib
import re
from datetime import date
from typing import Any

import pytest
from django.core.management import call_command
from django.db.models import Min, Model

from cocm.accounts.models import Clinic, User
from cocm.care.models import CaseReview, Contact, Recommendation
from cocm.measures.models import Assessment, SafetyAlert, TreatmentChange
from cocm.registry.models import Coverage, Diagnosis, Episode, Patient, StatusChange

# table -> (model, compared columns)
COLUMNS: dict[str, tuple[type[Model], tuple[str, ...]]] = {
    "patient": (
        Patient,
        [
            "id",
            "mrn",
            "given_name",
            "family_name",
            "birth_date",
            "sex",
            "preferred_language",
            "phone",
            "email",
            "home_clinic_id",
            "deceased",
            "deceased_on",
            "version",
        ],
    ),
    "coverage": (
        Coverage,
        ["id", "patient_id", "payer_kind", "payer_name", "member_id", "starts_on", "ends_on"],
    ),
    "episode": (
        Episode,
        [
            "id",
            "patient_id",
            "clinic_id",
            "referred_on",
            "referring_pcp_id",
            "care_manager_id",
            "psychiatric_consultant_id",
            "status",
            "consent_on",
            "consent_method",
            "consent_obtained_by_id",
            "consent_cost_sharing_explained",
            "consent_psychiatric_consultation_explained",
            "consent_document",
            "consent_revoked_on",
            "consent_guardian_id",
            "consent_patient_assent",
            "initiating_visit_on",
            "billing_program",
            "enrolled_on",
            "discharged_on",
            "discharge_reason",
            "status_changed_on",
            "version",
        ],
    ),
    "status_change": (
        StatusChange,
        ["id", "episode_id", "from_status", "to_status", "on", "reason", "changed_by_id"],
    ),
    "diagnosis": (
        Diagnosis,
        ["id", "episode_id", "code", "onset_on", "recorded_at", "recorded_by_id"],
    ),
    "assessment": (
        Assessment,
        [
            "id",
            "episode_id",
            "instrument",
            "taken_on",
            "answers",
            "total",
            "severity",
            "prorated",
            "flags",
            "method",
            "respondent",
            "respondent_guardian_id",
            "administered_by_id",
            "recorded_at",
            "amends_id",
            "amendment_reason",
            "is_current",
        ],
    ),
    "safety_alert": (
        SafetyAlert,
        [
            "id",
            "episode_id",
            "assessment_id",
            "item",
            "item_answer",
            "opened_at",
            "resolved_at",
            "resolved_by_id",
            "resolved_by_credentials",
            "action",
            "note",
        ],
    ),
    "contact": (
        Contact,
        [
            "id",
            "episode_id",
            "occurred_on",
            "started_at",
            "minutes",
            "mode",
            "activity",
            "staff_id",
            "role",
            "separately_billed",
            "no_show",
            "note",
            "recorded_by_id",
        ],
    ),
    "case_review": (
        CaseReview,
        ["id", "episode_id", "consultant_id", "reviewed_on", "minutes", "summary", "contact_id"],
    ),
    "recommendation": (
        Recommendation,
        [
            "id",
            "review_id",
            "episode_id",
            "pcp_id",
            "kind",
            "medication",
            "dose",
            "text",
            "status",
            "created_at",
            "responded_at",
            "responded_by_id",
            "response_note",
        ],
    ),
    "treatment_change": (
        TreatmentChange,
        ["id", "episode_id", "on", "kind", "description", "recorded_by_id"],
    ),
}

GOLDEN: dict[str, tuple[int, str]] = {
    "patient": (
        200,
        "5084ba4d998dc34bd95278ad2ba86beacb0614771164e2c2d489c236ff947531",
    ),
    "coverage": (
        200,
        "9e5758ecf4719040186001368387db925bca851ed60c7f3bfa7f79212aad0bd1",
    ),
    "episode": (
        215,
        "ca40fb8b1f9422f5abd470e9c9b03c85ed048eaa11490468a546264ec5293ca1",
    ),
    "status_change": (
        850,
        "01f738e3cad52743d6cea4566eeec5c1a315c4433de3187e319781437140bdd0",
    ),
    "diagnosis": (
        265,
        "288d256f66353b7a278aefc46efb6d7dee9804b7667e0b138df68977409608ba",
    ),
    "assessment": (
        2447,
        "edd5f437174708cbc86187a6ff4c7e2a8d89f25abd266ca2f4f7655cd908a8be",
    ),
    "safety_alert": (
        34,
        "d6ca792d74e51f77be8bd2bef81be30a52f7671e3f88a0f6dd477e23fe7ed5e4",
    ),
    "contact": (
        3881,
        "239610c4cabdc9894f7fe221badd3172a9c244ceac2dfb13f965f83f1da3d784",
    ),
    "case_review": (
        872,
        "3d13c02e06bcae2c632f12d232a70499892ab474e0753b819bd8ec899a20006e",
    ),
    "recommendation": (
        289,
        "343404fdbbce4df71da92f44af7eb84ac9967b4e5de1bd0537070538ead29929",
    ),
    "treatment_change": (
        285,
        "d92b119ef23f4a807f3b2b38a84c9671535f8b280a54307945614551bc532089",
    ),
}


# The seed names its clinic staff by role and clinic id ("caremanager3-1").
STAFF_USERNAME = re.compile(r"(?P<role>[a-z]+)(?P<clinic>\d+)-(?P<index>\d+)")


def canonical_usernames() -> dict[int, str]:
    """Users by username, the clinic id in a staff username taken relative to the first
    seeded clinic (as the golden digests' new database numbered them, from 1)."""
    first_clinic = Clinic.objects.aggregate(first=Min("id"))["first"] or 1
    usernames = {}
    for user_id, username in User.objects.values_list("id", "username"):
        staff = STAFF_USERNAME.fullmatch(username)
        if staff:
            clinic = int(staff["clinic"]) - first_clinic + 1
            username = f"{staff['role']}{clinic}-{staff['index']}"
        usernames[user_id] = username
    return usernames


def population_digest() -> dict[str, tuple[int, str]]:
    """Per table: the number of rows and a digest of their compared columns."""
    users = canonical_usernames()
    clinics = dict(Clinic.objects.values_list("id", "name"))
    first_id = {
        model: model.objects.aggregate(first=Min("id"))["first"] or 0
        for model, _ in COLUMNS.values()
    }

    def canonical(target: Any, value: Any) -> Any:
        if value is None or target is None:
            return value
        if target is User:
            return users[value]
        if target is Clinic:
            return clinics[value]
        return value - first_id[target]

    digests = {}
    for table, (model, columns) in COLUMNS.items():
        by_attname = {field.attname: field for field in model._meta.concrete_fields}
        targets = [
            model
            if c == "id"
            else by_attname[c].related_model
            if by_attname[c].is_relation
            else None
            for c in columns
        ]
        rows = model.objects.order_by("id").values_list(*columns)
        digest = hashlib.sha256()
        count = 0
        for row in rows.iterator(chunk_size=2000):
            canonical_row = [canonical(t, v) for t, v in zip(targets, row, strict=True)]
            digest.update(repr(canonical_row).encode())
            count += 1
        digests[table] = (count, digest.hexdigest())
    return digests


@pytest.mark.django_db
def test_the_fast_seed_writes_the_rows_the_orm_seed_wrote():
    call_command("seed", "--patients", "200", "--seed", "5", "--as-of", "2026-11-23", verbosity=0)

    digests = population_digest()

    assert digests == GOLDEN
    assert Patient.objects.filter(birth_date__lt=date(2026, 1, 1)).count() == 200
    # The sequences were moved past the ids the seed gave: the next ORM insert gets a new id.
    last = Contact.objects.order_by("id").last()
    assert last is not None
    added = Contact.objects.create(
        episode=last.episode, occurred_on=date(2026, 11, 23), minutes=10, staff=last.staff
    )
    assert added.id == last.id + 1
