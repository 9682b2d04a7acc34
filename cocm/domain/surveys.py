"""Program surveys as data: patient satisfaction, PCP satisfaction, care-manager experience.

Questions adapted from the satisfaction and experience surveys of the APA/AIMS Center CoCM
Practice and Billing Toolkit and the AIMS Implementation Guide (monitor and sustain), each
rated on a five-point agreement scale. Results of anonymous surveys are withheld below five
respondents, the small-cell rule used for staff surveys so no answer can be traced to a
person (as in HHS small-cell suppression guidance). Pure: no framework, no clock.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from fractions import Fraction

MIN_RESPONDENTS = 5


class Audience(StrEnum):
    PATIENT = "patient"
    PCP = "pcp"
    CARE_MANAGER = "care_manager"


class SurveyError(ValueError):
    """Answers that cannot be stored; `field` names the input at fault."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


AGREEMENT = (
    (1, "Strongly disagree", "Muy en desacuerdo"),
    (2, "Disagree", "En desacuerdo"),
    (3, "Neither agree nor disagree", "Ni de acuerdo ni en desacuerdo"),
    (4, "Agree", "De acuerdo"),
    (5, "Strongly agree", "Muy de acuerdo"),
)


@dataclass(frozen=True)
class Question:
    number: int
    en: str
    es: str
    options: tuple[tuple[int, str, str], ...] = AGREEMENT


@dataclass(frozen=True)
class Survey:
    code: str
    name: str
    audience: Audience
    anonymous: bool
    stem_en: str
    stem_es: str
    questions: tuple[Question, ...]

    def __post_init__(self) -> None:
        if [q.number for q in self.questions] != list(range(1, len(self.questions) + 1)):
            raise ValueError(f"{self.code} questions must be numbered 1..{len(self.questions)}")


def _questions(*texts: tuple[str, str]) -> tuple[Question, ...]:
    return tuple(Question(number, en, es) for number, (en, es) in enumerate(texts, start=1))


SURVEYS: dict[str, Survey] = {
    survey.code: survey
    for survey in (
        Survey(
            code="patient-satisfaction",
            name="Patient satisfaction with collaborative care",
            audience=Audience.PATIENT,
            anonymous=False,
            stem_en="Thinking about the care you received from your care team:",
            stem_es="Pensando en la atención que recibió de su equipo de atención:",
            questions=_questions(
                (
                    "My care manager listened to me and understood my concerns.",
                    "Mi administrador de atención me escuchó y entendió mis preocupaciones.",
                ),
                (
                    "I could reach my care manager when I needed to.",
                    "Pude comunicarme con mi administrador de atención cuando lo necesité.",
                ),
                (
                    "The care I received helped me feel better.",
                    "La atención que recibí me ayudó a sentirme mejor.",
                ),
                (
                    "I understood my treatment plan.",
                    "Entendí mi plan de tratamiento.",
                ),
                (
                    "I would recommend this program to a friend or family member.",
                    "Recomendaría este programa a un amigo o familiar.",
                ),
            ),
        ),
        Survey(
            code="pcp-satisfaction",
            name="Primary care provider satisfaction",
            audience=Audience.PCP,
            anonymous=True,
            stem_en="Thinking about collaborative care in your clinic:",
            stem_es="Pensando en la atención colaborativa en su clínica:",
            questions=_questions(
                (
                    "Collaborative care has improved the care of my patients with behavioral "
                    "health conditions.",
                    "La atención colaborativa ha mejorado la atención de mis pacientes con "
                    "problemas de salud conductual.",
                ),
                (
                    "The psychiatric consultant's recommendations are timely and useful.",
                    "Las recomendaciones del consultor psiquiátrico son oportunas y útiles.",
                ),
                (
                    "Communication with the care manager is easy.",
                    "La comunicación con el administrador de atención es fácil.",
                ),
                (
                    "Referring a patient to collaborative care is simple.",
                    "Referir a un paciente a la atención colaborativa es sencillo.",
                ),
                (
                    "I would want collaborative care to continue in my clinic.",
                    "Me gustaría que la atención colaborativa continuara en mi clínica.",
                ),
            ),
        ),
        Survey(
            code="care-manager-experience",
            name="Care manager experience",
            audience=Audience.CARE_MANAGER,
            anonymous=True,
            stem_en="Thinking about your work as a care manager:",
            stem_es="Pensando en su trabajo como administrador de atención:",
            questions=_questions(
                (
                    "My caseload size lets me follow up with every patient on time.",
                    "El tamaño de mi carga de casos me permite dar seguimiento a tiempo a cada "
                    "paciente.",
                ),
                (
                    "The weekly caseload review with the psychiatric consultant is useful.",
                    "La revisión semanal de casos con el consultor psiquiátrico es útil.",
                ),
                (
                    "The primary care providers act on the team's recommendations.",
                    "Los proveedores de atención primaria actúan según las recomendaciones del "
                    "equipo.",
                ),
                (
                    "I have the training and support I need.",
                    "Tengo la capacitación y el apoyo que necesito.",
                ),
                (
                    "The registry helps me track my patients.",
                    "El registro me ayuda a dar seguimiento a mis pacientes.",
                ),
            ),
        ),
    )
}


def get_survey(code: str) -> Survey:
    """Survey definition by code."""
    survey = SURVEYS.get(code)
    if survey is None:
        raise SurveyError(f"Unknown survey {code!r}; known: {', '.join(SURVEYS)}.", "survey")
    return survey


def check_answers(survey: Survey, answers: Sequence[int | None]) -> tuple[int | None, ...]:
    """One answer per question, each a value of its scale or skipped (None)."""
    if len(answers) != len(survey.questions):
        raise SurveyError(
            f"{survey.code} expects {len(survey.questions)} answers, got {len(answers)}.",
            "answers",
        )
    for index, (question, answer) in enumerate(zip(survey.questions, answers, strict=True)):
        allowed = [value for value, _, _ in question.options]
        if answer is not None and (isinstance(answer, bool) or answer not in allowed):
            raise SurveyError(
                f"Answer {index + 1} is {answer!r}; allowed {allowed[0]}-{allowed[-1]} or empty.",
                f"answers[{index}]",
            )
    if all(answer is None for answer in answers):
        raise SurveyError("Answer at least one question.", "answers")
    return tuple(answers)


@dataclass(frozen=True)
class Result:
    """A survey's results for one clinic and period."""

    invited: int
    responses: int
    response_rate: Fraction | None  # None when no invitation was sent
    means: tuple[Fraction | None, ...]  # per question; empty when withheld
    withheld: bool  # anonymous survey with fewer than MIN_RESPONDENTS responses


def results(
    survey: Survey,
    answers: Sequence[Sequence[int | None]],
    *,
    invited: int,
    min_respondents: int = MIN_RESPONDENTS,
) -> Result:
    """Response rate and the mean of each question; an anonymous survey shows no result for
    fewer than `min_respondents` respondents (small-cell suppression)."""
    responses = len(answers)
    rate = Fraction(responses, invited) if invited else None
    if survey.anonymous and responses < min_respondents:
        return Result(invited, responses, rate, (), True)
    means: list[Fraction | None] = []
    for index in range(len(survey.questions)):
        given = [row[index] for row in answers if row[index] is not None]
        means.append(Fraction(sum(given), len(given)) if given else None)  # type: ignore[arg-type]
    return Result(invited, responses, rate, tuple(means), False)
