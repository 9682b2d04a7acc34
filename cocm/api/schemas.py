from datetime import date
from typing import Literal

from ninja import Field, Schema
from pydantic import BaseModel

Sex = Literal["female", "male", "other", "unknown"]
Language = Literal["en", "es", "other"]
Setting = Literal["practice", "fqhc", "rhc"]
PayerKind = Literal["medicare", "medicaid", "commercial", "self_pay"]
StatusTarget = Literal["enrolled", "active", "relapse_prevention", "discharged"]
Reason = Literal[
    "goals_met", "referred_to_specialty", "disengaged", "declined", "moved", "deceased", "other"
]


# The version of the record the client read (its `version` in the answer that gave it): a
# write that names one is refused with 409 when someone changed the record since. Optional
# where the contract (shared/API_CONTRACT.md) names the body; without it, the version the
# server loaded for the request is checked (docs/scale.md, "Concurrent writers").
Version = Field(None, ge=0, description="the record's version as read; 409 if it changed since")


class ErrorDetail(Schema):
    loc: list[str | int]
    msg: str


class ErrorOut(Schema):
    detail: str | list[ErrorDetail]


class ClinicOut(Schema):
    id: int
    name: str
    setting: Setting


class CoverageIn(Schema):
    payer_kind: PayerKind
    payer_name: str = Field("", max_length=100)
    member_id: str = Field("", max_length=64)
    starts_on: date
    ends_on: date | None = None


class CoverageOut(CoverageIn):
    id: int


class PatientIn(Schema):
    mrn: str = Field(..., min_length=1, max_length=32, pattern=r"^[A-Za-z0-9._-]+$")
    given_name: str = Field(..., min_length=1, max_length=100)
    family_name: str = Field(..., min_length=1, max_length=100)
    birth_date: date
    sex: Sex
    preferred_language: Language = "en"
    phone: str = Field("", max_length=32)
    email: str = Field("", max_length=254)


class PatientOut(Schema):
    id: int
    mrn: str
    given_name: str
    family_name: str
    birth_date: date
    sex: Sex
    preferred_language: Language
    phone: str
    email: str
    coverages: list[CoverageOut]


class ConsentIn(Schema):
    obtained_on: date
    method: Literal["verbal", "written"]
    # The two Medicare disclosures (cocm-rules.md 1.5). A client sending consent attests
    # both by default; false records that one was not made, and enrollment is refused.
    cost_sharing_explained: bool = True
    psychiatric_consultation_explained: bool = True
    # Patients under 18 (docs/pediatric.md): the consenting guardian and the patient's assent.
    guardian_id: int | None = None
    patient_assent: bool = False


class EpisodeIn(Schema):
    patient_id: int
    clinic_id: int
    referred_on: date
    referring_pcp: str | None = Field(None, max_length=150)
    care_manager: str | None = Field(None, max_length=150)
    psychiatric_consultant: str | None = Field(None, max_length=150)
    diagnoses: list[str] = Field(default_factory=list, max_length=20)
    consent: ConsentIn | None = None
    initiating_visit_on: date | None = None
    billing_program: Literal["cocm", "general_bhi"] = "cocm"


class StatusIn(Schema):
    status: StatusTarget
    on: date
    reason: Reason | None = None
    version: int | None = Version


class DiagnosisIn(Schema):
    code: str = Field(..., min_length=3, max_length=10)
    onset_on: date | None = None


class DiagnosisOut(Schema):
    code: str
    description: str
    onset_on: date | None


class StatusChangeOut(Schema):
    from_status: str | None
    to_status: str
    on: date
    reason: str | None


class ConsentOut(Schema):
    obtained_on: date
    method: str
    obtained_by: str | None
    cost_sharing_explained: bool
    psychiatric_consultation_explained: bool
    revoked_on: date | None  # the revocation in force: no minute from then counts


class GuardianIn(Schema):
    name: str = Field(..., min_length=1, max_length=150)
    relationship: Literal[
        "mother", "father", "legal_guardian", "grandparent", "foster_parent", "other"
    ]
    phone: str = Field("", max_length=32)
    email: str = Field("", max_length=254)
    legal_authority: bool = False
    may_receive_links: bool = False
    may_see_results: bool = False
    access_renewed_until: date | None = None


class GuardianOut(GuardianIn):
    id: int
    patient_id: int
    version: int


class RevocationIn(Schema):
    on: date
    reason: str = Field(..., max_length=500)
    version: int | None = Version


class EpisodeOut(Schema):
    id: int
    patient_id: int
    clinic_id: int
    status: str
    referred_on: date
    referring_pcp: str | None
    care_manager: str | None
    psychiatric_consultant: str | None
    consent: ConsentOut | None
    initiating_visit_on: date | None
    billing_program: str
    enrolled_on: date | None
    discharged_on: date | None
    discharge_reason: str | None
    diagnoses: list[DiagnosisOut]
    status_history: list[StatusChangeOut]
    version: int


class AssessmentIn(Schema):
    instrument: str = Field(..., max_length=16)
    taken_on: date
    # Up to 60: SCARED has 41 items; the instrument itself checks the exact count.
    answers: list[int | None] = Field(..., max_length=60)
    respondent: str = Field("patient", max_length=32)  # "patient" or "guardian"
    respondent_guardian_id: int | None = None  # which guardian answered
    method: Literal["in_clinic", "phone", "video", "self_report"] = "in_clinic"


class AmendmentIn(Schema):
    taken_on: date | None = None
    answers: list[int | None] = Field(..., max_length=60)
    reason: str = Field(..., min_length=1, max_length=200)
    version: int | None = Version


class AssessmentOut(Schema):
    id: int
    episode_id: int
    instrument: str
    taken_on: date
    answers: list[int | None]
    total: int
    severity: str
    prorated: bool
    flags: list[str]
    method: str
    respondent: str
    respondent_guardian: str | None = None  # the guardian's name and relationship
    is_current: bool
    amends: int | None
    version: int


class ContactIn(Schema):
    occurred_on: date
    minutes: int = Field(..., ge=0, le=1440)
    mode: Literal["in_person", "phone", "video", "secure_message", "text"]
    activity: Literal[
        "outreach",
        "initial_assessment",
        "follow_up",
        "behavioral_activation",
        "problem_solving",
        "motivational_interviewing",
        "care_coordination",
        "caseload_review",
        "relapse_prevention",
        "other",
    ]
    role: Literal["care_manager", "billing_practitioner", "psychiatric_consultant"] = "care_manager"
    separately_billed: bool = False
    no_show: bool = False
    note: str = Field("", max_length=5000)


class ContactEditIn(ContactIn):
    version: int = Field(..., ge=0, description="the contact's version as read")


class ContactOut(Schema):
    id: int
    episode_id: int
    occurred_on: date
    minutes: int
    mode: str
    activity: str
    role: str
    separately_billed: bool
    no_show: bool
    staff: str
    version: int


# Plain pydantic models, not ninja Schemas: a caseload answers thousands of values, and a
# Schema wraps every input in a getter meant for ORM objects, which triples the time.
class FlagOut(BaseModel):
    code: str
    reason: str


class CaseloadRowOut(BaseModel):
    episode_id: int
    patient_id: int
    status: str
    enrolled_on: date | None
    weeks_in_treatment: int | None
    contacts: int
    last_contact_on: date | None
    phq9_first: int | None
    phq9_last: int | None
    gad7_first: int | None
    gad7_last: int | None
    last_measure_on: date | None
    last_review_on: date | None
    minutes_this_month: int
    minutes_to_next_threshold: int | None
    flags: list[FlagOut]


class RecommendationIn(Schema):
    kind: Literal[
        "start_medication",
        "change_medication",
        "stop_medication",
        "psychotherapy",
        "refer_specialty",
        "other",
    ]
    medication: str = Field("", max_length=100)
    dose: str = Field("", max_length=100)
    text: str = Field("", max_length=500)


class ReviewIn(Schema):
    reviewed_on: date
    minutes: int = Field(..., ge=0, le=1440)
    summary: str = Field(..., min_length=1, max_length=5000)
    recommendations: list[RecommendationIn] = Field(default_factory=list, max_length=10)
    confirm_same_day: bool = False
    version: int | None = Version  # the episode's


class RecommendationOut(Schema):
    id: int
    episode_id: int
    kind: str
    medication: str
    dose: str
    text: str
    status: str
    response_note: str
    version: int


class ReviewOut(Schema):
    id: int
    episode_id: int
    reviewed_on: date
    minutes: int
    summary: str
    recommendations: list[RecommendationOut]


class ResponseIn(Schema):
    status: Literal["accepted", "modified", "declined"]
    note: str = Field("", max_length=500)
    version: int | None = Version


class CodeOut(Schema):
    code: str
    units: int


class BillingRowOut(Schema):
    episode_id: int
    patient_id: int
    month: str
    month_type: str
    status: str
    minutes_counted: int
    codes: list[CodeOut]
    blocked_reasons: list[str]
    minutes_to_next_threshold: int | None
    decision: str
    excluded: list[str]
    expected_amount: float | None
