"""Survey use cases: send links (patients, staff), take answers by link or in the product,
and aggregate per clinic and period. The links are the measures app's single-use links
(`SingleUseLink`, `check_usable`, `send_link_message`)."""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from cocm.accounts.models import Clinic, Role, User
from cocm.domain import surveys as rules
from cocm.errors import InvalidRequest
from cocm.measures.models import Channel, digest
from cocm.measures.services import check_usable, send_link_message
from cocm.registry.models import Episode
from cocm.toolkit.models import SurveyInvitation, SurveyParticipation, SurveyResponse

AUDIENCE_ROLES = {
    rules.Audience.PCP: Role.PCP,
    rules.Audience.CARE_MANAGER: Role.CARE_MANAGER,
}
MESSAGES = {
    "en": (
        "Your feedback",
        "Hello {first_name}, {clinic} would like your feedback on collaborative care (a few "
        "short questions): {link} This link works once and expires on {expires}.",
    ),
    "es": (
        "Su opinión",
        "Hola {first_name}: {clinic} quisiera su opinión sobre la atención colaborativa "
        "(unas preguntas breves): {link} Este enlace funciona una vez y vence el {expires}.",
    ),
}


def period_of(day: date) -> str:
    return f"{day:%Y-%m}"


def survey(code: str) -> rules.Survey:
    try:
        return rules.get_survey(code)
    except rules.SurveyError as error:
        raise InvalidRequest(error.message, error.field) from error


def _new_link(
    code: str, clinic: Clinic, *, now: datetime, **fields: object
) -> tuple[str, SurveyInvitation]:
    token, token_digest = SurveyInvitation.new_token()
    invitation = SurveyInvitation.objects.create(
        survey=code,
        clinic=clinic,
        period=period_of(timezone.localdate(now, clinic.organization.tz)),
        token_digest=token_digest,
        created_at=now,
        expires_at=now + timedelta(days=settings.COCM_SELF_REPORT_DAYS),
        **fields,
    )
    return token, invitation


def _deliver(invitation: SurveyInvitation, token: str, first_name: str, address: str) -> None:
    subject, text = MESSAGES.get(invitation.language, MESSAGES["en"])
    tz = invitation.clinic.organization.tz
    message = text.format(
        first_name=first_name,
        clinic=invitation.clinic.name,
        link=f"{settings.COCM_BASE_URL}{reverse('survey_response', args=[token])}",
        expires=timezone.localtime(invitation.expires_at, tz).date().isoformat(),
    )
    send_link_message(invitation.channel, address, subject, message)


def send_patient_survey(
    episode: Episode, *, channel: str, by: User, now: datetime
) -> SurveyInvitation:
    """The patient satisfaction survey by the same single-use, expiring link as self-report."""
    patient = episode.patient
    address = patient.email if channel == Channel.EMAIL else patient.phone
    if not address:
        what = "email address" if channel == Channel.EMAIL else "phone number"
        raise InvalidRequest(f"The patient has no {what} on file.", "channel")
    language = patient.preferred_language if patient.preferred_language in MESSAGES else "en"
    token, invitation = _new_link(
        "patient-satisfaction",
        episode.clinic,
        now=now,
        episode=episode,
        channel=channel,
        language=language,
        created_by=by,
    )
    _deliver(invitation, token, patient.given_name, address)
    return invitation


def staff_of(code: str, clinic: Clinic) -> list[User]:
    role = AUDIENCE_ROLES.get(survey(code).audience)
    if role is None:
        raise InvalidRequest("Send the patient survey from the patient's chart.", "survey")
    return list(
        User.objects.filter(
            is_active=True, memberships__clinic=clinic, memberships__role=role
        ).distinct()
    )


def send_staff_survey(
    code: str, clinic: Clinic, *, by: User, now: datetime
) -> list[SurveyInvitation]:
    """Email a link to every staff member of the survey's role at the clinic."""
    staff = [user for user in staff_of(code, clinic) if user.email]
    if not staff:
        raise InvalidRequest(f"No staff with an email address at {clinic.name}.", "clinic")
    links = []
    for user in staff:
        token, invitation = _new_link(code, clinic, now=now, recipient=user, created_by=by)
        _deliver(invitation, token, user.first_name or user.username, user.email)
        links.append(invitation)
    return links


def find_invitation(token: str) -> SurveyInvitation | None:
    return (
        SurveyInvitation.objects.select_related("clinic__organization", "episode__patient")
        .filter(token_digest=digest(token))
        .first()
    )


def checked_answers(code: str, answers: Sequence[int | None]) -> tuple[int | None, ...]:
    try:
        return rules.check_answers(survey(code), answers)
    except rules.SurveyError as error:
        raise InvalidRequest(error.message, error.field) from error


def submit_by_link(
    invitation: SurveyInvitation, answers: Sequence[int | None], *, now: datetime
) -> SurveyResponse:
    """Store the answers once; a reused or expired link is refused and stores nothing."""
    check_usable(invitation, now)
    checked = checked_answers(invitation.survey, answers)
    # A conditional update: of two submissions racing on one link, only one stores answers.
    used = SurveyInvitation.objects.filter(pk=invitation.pk, completed_at__isnull=True).update(
        completed_at=now
    )
    if not used:
        raise InvalidRequest("This link has expired or was already used.", "token")
    anonymous = rules.get_survey(invitation.survey).anonymous
    return SurveyResponse.objects.create(
        survey=invitation.survey,
        clinic=invitation.clinic,
        period=invitation.period,
        answers=list(checked),
        episode=None if anonymous else invitation.episode,
    )


def default_survey_for(user: User) -> str:
    return "pcp-satisfaction" if user.has_role(Role.PCP) else "care-manager-experience"


def answer_in_product(
    code: str, clinic: Clinic, answers: Sequence[int | None], *, user: User, as_of: date
) -> SurveyResponse:
    """A staff member answers once per period; the answers keep no trace of who."""
    staff = staff_of(code, clinic)
    if user not in staff:
        raise InvalidRequest(
            f"This survey is for {survey(code).audience.value.replace('_', ' ')}s of "
            f"{clinic.name}.",
            "survey",
        )
    checked = checked_answers(code, answers)
    period = period_of(as_of)
    try:
        with transaction.atomic():
            SurveyParticipation.objects.create(survey=code, clinic=clinic, period=period, user=user)
    except IntegrityError as error:
        raise InvalidRequest(f"You already answered this survey for {period}.", "survey") from error
    # An open link of the same round is used up too: one answer per person.
    SurveyInvitation.objects.filter(
        survey=code, recipient=user, period=period, completed_at__isnull=True
    ).update(completed_at=timezone.now())
    return SurveyResponse.objects.create(
        survey=code, clinic=clinic, period=period, answers=list(checked)
    )


@dataclass(frozen=True)
class ClinicResult:
    clinic: Clinic
    result: rules.Result


def months(start: str, end: str) -> list[str]:
    """The YYYY-MM periods from start to end, both included."""
    try:
        first = date.fromisoformat(f"{start}-01")
        last = date.fromisoformat(f"{end}-01")
    except ValueError:
        raise InvalidRequest("Give the months as YYYY-MM.", "start") from None
    if last < first:
        raise InvalidRequest("The end month is before the start month.", "end")
    periods = []
    day = first
    while day <= last and len(periods) < 240:
        periods.append(period_of(day))
        day = (day.replace(day=28) + timedelta(days=4)).replace(day=1)
    return periods


def survey_results(
    code: str, clinics: Sequence[Clinic], periods: Sequence[str]
) -> list[ClinicResult]:
    """Per clinic: invited (links sent for the patient survey; staff of the role per month for
    a staff survey), responses, response rate and question means, withheld under five for an
    anonymous survey (cocm.domain.surveys.results)."""
    definition = survey(code)
    answers: dict[int, list[list[int | None]]] = defaultdict(list)
    for clinic_id, row in SurveyResponse.objects.filter(
        survey=code, clinic__in=clinics, period__in=periods
    ).values_list("clinic_id", "answers"):
        answers[clinic_id].append(row)
    rows = []
    for clinic in clinics:
        if definition.audience is rules.Audience.PATIENT:
            invited = SurveyInvitation.objects.filter(
                survey=code, clinic=clinic, period__in=periods
            ).count()
        else:
            invited = len(staff_of(code, clinic)) * len(periods)
        rows.append(
            ClinicResult(clinic, rules.results(definition, answers[clinic.id], invited=invited))
        )
    return rows


def percent(value: object) -> str:
    return "—" if value is None else f"{float(value) * 100:.0f}%"  # type: ignore[arg-type]


def mean(value: object) -> str:
    return "—" if value is None else f"{float(value):.2f}"  # type: ignore[arg-type]


def results_table(
    definition: rules.Survey, clinics: list[Clinic], periods: list[str]
) -> tuple[list[str], list[list[object]]]:
    """The results page's (and export's) headings and rows: per clinic, invitations,
    responses, the response rate and each question's mean, withheld under 5 respondents."""
    rows = survey_results(definition.code, clinics, periods) if periods else []
    table = [
        [
            row.clinic.name,
            row.result.invited,
            row.result.responses,
            percent(row.result.response_rate),
            *(
                ["withheld (fewer than 5 respondents)"] + [""] * (len(definition.questions) - 1)
                if row.result.withheld
                else [mean(m) for m in row.result.means]
            ),
        ]
        for row in rows
    ]
    headings = ["Clinic", "Invited", "Responses", "Response rate"] + [
        f"Q{q.number} mean (1-5)" for q in definition.questions
    ]
    return headings, table
