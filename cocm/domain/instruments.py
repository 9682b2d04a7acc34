"""Validated rating scales used in Collaborative Care: items, scoring, bands and treat-to-target.

Each rule names its source. The rules in words, with their settings: `docs/rules.md` sections
2 (instruments) and 3 (treat-to-target). Evidence labels: [V] stated by a primary or steward
source, [S] by a secondary source, [I] inferred here (a configurable default).

How answers are encoded
-----------------------
An answer is the 0-based **index of the option chosen, in the order the options are printed
on the form** (left to right, or top to bottom), or ``None`` when the item was left blank.
The points an answer earns are ``item.options[index].value``:

* For every instrument except EPDS the printed order runs from least to most symptomatic,
  so the index equals the points (PHQ-9 "Not at all" = 0 ... "Nearly every day" = 3).
* EPDS items 3 and 5-10 are printed from most to least symptomatic ("reverse-keyed on the
  form", Cox 1987), so index 0 scores 3 and index 3 scores 0. Items 1, 2 and 4 score
  0, 1, 2, 3 in printed order. Storing the index keeps the stored answer identical to what
  the patient ticked, whatever the keying.

Safety items (PHQ-9 and PHQ-A item 9, EPDS item 10) are positive when the item's *points*
are above 0 (for EPDS item 10: any option except "Never").

Nothing here imports Django, reads settings or the clock, or does I/O.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from fractions import Fraction
from functools import cached_property

__all__ = [
    "INSTRUMENTS",
    "AnswerOption",
    "Band",
    "Instrument",
    "InstrumentCode",
    "Item",
    "Loinc",
    "Score",
    "ScoreFlag",
    "ScoringError",
    "ScreenResult",
    "Severity",
    "Subscale",
    "SubscaleScore",
    "TreatToTarget",
    "gad7_severity",
    "get_instrument",
    "is_partial_response",
    "is_remission",
    "is_response",
    "percent_change",
    "phq9_severity",
    "score",
    "severity",
    "treat_to_target",
]


# --------------------------------------------------------------------------- enums and errors


class Severity(StrEnum):
    """Severity bands of the banded instruments (PHQ-9, PHQ-A, GAD-7)."""

    MINIMAL = "minimal"
    MILD = "mild"
    MODERATE = "moderate"
    MODERATELY_SEVERE = "moderately_severe"
    SEVERE = "severe"


class ScreenResult(StrEnum):
    """Result of the cut-off instruments (PHQ-2, GAD-2, AUDIT-C, PCL-5, EPDS)."""

    NEGATIVE = "negative"
    POSITIVE = "positive"


class ScoreFlag(StrEnum):
    """What one score raises (a safety item, a positive screen, a severe band): stored on
    the assessment. Not the caseload's flags (`cocm.domain.flags.Flag`), which judge a whole
    episode."""

    SAFETY = "safety"  # a safety item (self-harm thoughts) scored above 0
    SAFETY_UNANSWERED = "safety_unanswered"  # a safety item was left blank: ask it again
    POSITIVE_SCREEN = "positive_screen"  # total at or above the instrument's cut-off
    SEVERE = "severe"  # banded instrument in its "severe" band


class InstrumentCode(StrEnum):
    """API codes of the instruments (the keys of INSTRUMENTS)."""

    PHQ9 = "PHQ-9"
    PHQ2 = "PHQ-2"
    GAD7 = "GAD-7"
    GAD2 = "GAD-2"
    PHQA = "PHQ-A"
    PCL5 = "PCL-5"
    AUDITC = "AUDIT-C"
    EPDS = "EPDS"
    SCARED_CHILD = "SCARED-C"
    SCARED_PARENT = "SCARED-P"


class ScoringError(ValueError):
    """An input that cannot be scored; `field` names the offending input for a 422 body."""

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


# --------------------------------------------------------------------------- definitions


@dataclass(frozen=True)
class Loinc:
    """A LOINC code; `verified` is False unless a [V] source confirms it for this use."""

    code: str
    verified: bool = True


@dataclass(frozen=True)
class AnswerOption:
    """One printed answer option: the points it earns and its English and Spanish labels."""

    value: int
    en: str
    es: str
    loinc: Loinc | None = None


@dataclass(frozen=True)
class Item:
    """One scored question. `number` is 1-based, as printed on the form."""

    number: int
    en: str
    es: str
    options: tuple[AnswerOption, ...]
    loinc: Loinc | None = None
    safety: bool = False

    @property
    def reverse_keyed(self) -> bool:
        """True when the form prints the most symptomatic option first (EPDS 3, 5-10)."""
        return self.options[0].value > self.options[-1].value

    # Cached: scoring and treat-to-target ask for these thousands of times per caseload.
    @cached_property
    def min_value(self) -> int:
        return min(option.value for option in self.options)

    @cached_property
    def max_value(self) -> int:
        return max(option.value for option in self.options)


@dataclass(frozen=True)
class Band:
    """A severity band: totals up to and including `upper` (and above the previous band)."""

    upper: int
    severity: Severity


@dataclass(frozen=True)
class Subscale:
    """A named sum of some items with its own cut-off (SCARED's five factors)."""

    code: str
    name: str
    items: tuple[int, ...]  # 1-based item numbers
    positive_at: int


@dataclass(frozen=True)
class SubscaleScore:
    code: str
    name: str
    total: int
    positive_at: int

    @property
    def positive(self) -> bool:
        return self.total >= self.positive_at


@dataclass(frozen=True)
class Instrument:
    """A rating scale. Adding an instrument is adding one of these to INSTRUMENTS.

    Scoring is declarative: total = sum of the chosen options' points. An instrument either
    has severity `bands` (and `positive_at` only drives the positive_screen flag) or no bands
    (its severity is then "positive"/"negative" against `positive_at`).
    """

    code: InstrumentCode
    name: str
    source: str
    stem_en: str
    stem_es: str
    items: tuple[Item, ...]
    positive_at: int
    bands: tuple[Band, ...] = ()
    # Cut-off for respondents recorded as male, where it differs (AUDIT-C); everyone else
    # gets `positive_at`.
    positive_at_male: int | None = None
    max_missing: int = 0
    # Whether remission (total below a cut-off) and treat-to-target apply (section 3).
    measures_remission: bool = False
    panel_loinc: Loinc | None = None
    total_loinc: Loinc | None = None
    # False until the Spanish text has been checked against the licensed translation.
    spanish_checked: bool = False
    subscales: tuple[Subscale, ...] = ()
    # Who answers this version: the patient, or a parent/guardian about the patient.
    answered_by: str = "patient"

    def __post_init__(self) -> None:
        numbers = [item.number for item in self.items]
        if numbers != list(range(1, len(self.items) + 1)):
            raise ValueError(f"{self.code} items must be numbered 1..{len(self.items)}")
        if self.bands and self.bands[-1].upper != self.max_total:
            raise ValueError(f"{self.code} bands must end at the maximum total {self.max_total}")
        for cutoff in (self.positive_at, self.positive_at_male):
            if cutoff is not None and not self.min_total < cutoff <= self.max_total:
                raise ValueError(f"{self.code} cut-off {cutoff} is outside the total range")
        if not 0 <= self.max_missing < len(self.items):
            raise ValueError(f"{self.code} max_missing must be below the number of items")
        for subscale in self.subscales:
            if not set(subscale.items) <= set(numbers):
                raise ValueError(f"{self.code} subscale {subscale.code} names unknown items")

    @cached_property
    def min_total(self) -> int:
        return sum(item.min_value for item in self.items)

    @cached_property
    def max_total(self) -> int:
        return sum(item.max_value for item in self.items)

    @property
    def safety_items(self) -> tuple[int, ...]:
        return tuple(item.number for item in self.items if item.safety)

    def positive_cutoff(self, sex: str | None = None) -> int:
        """Positive-screen cut-off for this respondent (AUDIT-C differs by sex)."""
        if self.positive_at_male is not None and _normalised_sex(sex) == "male":
            return self.positive_at_male
        return self.positive_at

    def classify(self, total: int, *, cutoff: int) -> Severity | ScreenResult:
        """Band of a banded instrument, else positive/negative against `cutoff`."""
        if self.bands:
            return next(band.severity for band in self.bands if total <= band.upper)
        return ScreenResult.POSITIVE if total >= cutoff else ScreenResult.NEGATIVE


def _normalised_sex(sex: str | None) -> str | None:
    return sex.strip().lower() if isinstance(sex, str) else None


def _options(
    *labels: tuple[str, str],
    loincs: Sequence[str] = (),
    values: Sequence[int] | None = None,
) -> tuple[AnswerOption, ...]:
    """Options in printed order; points 0, 1, 2... unless `values` gives them."""
    points = values if values is not None else range(len(labels))
    codes: list[str | None] = list(loincs) or [None] * len(labels)
    return tuple(
        AnswerOption(value, en, es, Loinc(code) if code else None)
        for value, (en, es), code in zip(points, labels, codes, strict=True)
    )


def _items(
    texts: Sequence[tuple[str, str]],
    options: tuple[AnswerOption, ...],
    *,
    loincs: Sequence[Loinc | None] = (),
    safety: Sequence[int] = (),
) -> tuple[Item, ...]:
    codes: list[Loinc | None] = list(loincs) or [None] * len(texts)
    return tuple(
        Item(number, en, es, options, code, number in safety)
        for number, ((en, es), code) in enumerate(zip(texts, codes, strict=True), start=1)
    )


# --- PHQ family (PHQ-9, PHQ-2, PHQ-A) and GAD family (GAD-7, GAD-2) ------------------------
# Pfizer PHQ/GAD screeners: "No permission required to reproduce, translate, display or
# distribute." English wording from the Pfizer forms (phqscreeners.com). Spanish wording is
# the Pfizer "Spanish for the USA" version as best known when written; it has not been
# compared with the downloaded Pfizer file: check before production (spanish_checked=False).

# Answer list LL358-3 [V] (rules 2.1, also used by GAD-7 per 2.4).
_PHQ_OPTIONS = _options(
    ("Not at all", "Ningún día"),
    ("Several days", "Varios días"),
    ("More than half the days", "Más de la mitad de los días"),
    ("Nearly every day", "Casi todos los días"),
    loincs=("LA6568-5", "LA6569-3", "LA6570-1", "LA6571-9"),
)
_GAD_OPTIONS = _options(
    ("Not at all", "Nunca"),
    ("Several days", "Varios días"),
    ("More than half the days", "Más de la mitad de los días"),
    ("Nearly every day", "Casi todos los días"),
    loincs=("LA6568-5", "LA6569-3", "LA6570-1", "LA6571-9"),
)

_PHQ_STEM_EN = (
    "Over the last 2 weeks, how often have you been bothered by any of the following problems?"
)
_PHQ_STEM_ES = (
    "Durante las últimas 2 semanas, ¿qué tan seguido ha tenido molestias debido a los "
    "siguientes problemas?"
)
_GAD_STEM_ES = (
    "Durante las últimas 2 semanas, ¿con qué frecuencia le han molestado los siguientes problemas?"
)

_PHQ9_TEXTS = (
    ("Little interest or pleasure in doing things", "Poco interés o placer en hacer cosas"),
    (
        "Feeling down, depressed, or hopeless",
        "Se ha sentido decaído(a), deprimido(a) o sin esperanzas",
    ),
    (
        "Trouble falling or staying asleep, or sleeping too much",
        "Ha tenido dificultad para quedarse o permanecer dormido(a), o ha dormido demasiado",
    ),
    ("Feeling tired or having little energy", "Se ha sentido cansado(a) o con poca energía"),
    ("Poor appetite or overeating", "Sin apetito o ha comido en exceso"),
    (
        "Feeling bad about yourself — or that you are a failure or have let yourself or your "
        "family down",
        "Se ha sentido mal con usted mismo(a) — o que es un fracaso o que ha quedado mal con "
        "usted mismo(a) o con su familia",
    ),
    (
        "Trouble concentrating on things, such as reading the newspaper or watching television",
        "Ha tenido dificultad para concentrarse en ciertas actividades, tales como leer el "
        "periódico o ver la televisión",
    ),
    (
        "Moving or speaking so slowly that other people could have noticed? Or the opposite — "
        "being so fidgety or restless that you have been moving around a lot more than usual",
        "¿Se ha movido o hablado tan lento que otras personas podrían haberlo notado? o lo "
        "contrario — muy inquieto(a) o agitado(a) que ha estado moviéndose mucho más de lo normal",
    ),
    (
        "Thoughts that you would be better off dead or of hurting yourself in some way",
        "Pensamientos de que estaría mejor muerto(a) o de lastimarse de alguna manera",
    ),
)
# [V] MII PRO FHIR IG, mii-qst-pro-phq-9-extractable.fsh (rules 2.1).
_PHQ9_ITEM_LOINC = tuple(
    Loinc(code)
    for code in (
        "44250-9", "44255-8", "44259-0", "44254-1", "44251-7",
        "44258-2", "44252-5", "44253-3", "44260-8",
    )
)  # fmt: skip

_GAD7_TEXTS = (
    (
        "Feeling nervous, anxious, or on edge",
        "Se ha sentido nervioso(a), ansioso(a) o con los nervios de punta",
    ),
    (
        "Not being able to stop or control worrying",
        "No ha sido capaz de parar o controlar su preocupación",
    ),
    (
        "Worrying too much about different things",
        "Se ha preocupado demasiado por motivos diferentes",
    ),
    ("Trouble relaxing", "Ha tenido dificultad para relajarse"),
    (
        "Being so restless that it is hard to sit still",
        "Se ha sentido tan inquieto(a) que no ha podido quedarse quieto(a)",
    ),
    ("Becoming easily annoyed or irritable", "Se ha molestado o irritado fácilmente"),
    (
        "Feeling afraid, as if something awful might happen",
        "Ha tenido miedo de que algo terrible fuera a pasar",
    ),
)
# [V] MII PRO FHIR IG, mii-qst-pro-gad-7.fsh (rules 2.4).
_GAD7_ITEM_LOINC = tuple(
    Loinc(code)
    for code in ("69725-0", "68509-9", "69733-4", "69734-2", "69735-9", "69689-8", "69736-7")
)

# PHQ-9 Modified for Teens (PHQ-A; Johnson et al., J Adolesc Health 2002;30:196-204). Its
# items are the PHQ-9 symptoms in a different order and teen wording: item 1 is mood,
# item 2 interest, item 4 appetite, item 5 energy. The past-year, functioning and suicide
# history questions on the form are not part of the total and are not items here.
# Spanish: written for this registry in the "tú" form; no licensed Pfizer Spanish PHQ-A
# was available to check against -- check before production.
_PHQA_TEXTS = (
    (
        "Feeling down, depressed, irritable, or hopeless?",
        "¿Te has sentido desanimado(a), deprimido(a), irritable o sin esperanza?",
    ),
    (
        "Little interest or pleasure in doing things?",
        "¿Has tenido poco interés o placer en hacer cosas?",
    ),
    (
        "Trouble falling asleep, staying asleep, or sleeping too much?",
        "¿Has tenido dificultad para quedarte dormido(a) o permanecer dormido(a), o has "
        "dormido demasiado?",
    ),
    (
        "Poor appetite, weight loss, or overeating?",
        "¿Has tenido poco apetito, has bajado de peso o has comido en exceso?",
    ),
    (
        "Feeling tired, or having little energy?",
        "¿Te has sentido cansado(a) o con poca energía?",
    ),
    (
        "Feeling bad about yourself — or feeling that you are a failure, or that you have let "
        "yourself or your family down?",
        "¿Te has sentido mal contigo mismo(a), o has sentido que eres un fracaso, o que te has "
        "fallado a ti mismo(a) o a tu familia?",
    ),
    (
        "Trouble concentrating on things like school work, reading, or watching TV?",
        "¿Has tenido dificultad para concentrarte en cosas como las tareas escolares, la "
        "lectura o ver la televisión?",
    ),
    (
        "Moving or speaking so slowly that other people could have noticed? Or the opposite — "
        "being so fidgety or restless that you were moving around a lot more than usual?",
        "¿Te has movido o has hablado tan lento que otras personas podrían haberlo notado? ¿O "
        "lo contrario: has estado tan inquieto(a) o agitado(a) que te has estado moviendo "
        "mucho más de lo normal?",
    ),
    (
        "Thoughts that you would be better off dead, or of hurting yourself in some way?",
        "¿Has pensado que estarías mejor muerto(a) o has pensado en lastimarte de alguna manera?",
    ),
)
_PHQA_OPTIONS = _options(
    ("Not at all", "Nunca"),
    ("Several days", "Varios días"),
    ("More than half the days", "Más de la mitad de los días"),
    ("Nearly every day", "Casi todos los días"),
)

# Kroenke, Spitzer & Williams, J Gen Intern Med 2001;16:606-13; NHS Data Dictionary [V].
PHQ9_BANDS = (
    Band(4, Severity.MINIMAL),
    Band(9, Severity.MILD),
    Band(14, Severity.MODERATE),
    Band(19, Severity.MODERATELY_SEVERE),
    Band(27, Severity.SEVERE),
)
# Spitzer et al., Arch Intern Med 2006;166:1092-7 [V]: no "moderately severe" band.
GAD7_BANDS = (
    Band(4, Severity.MINIMAL),
    Band(9, Severity.MILD),
    Band(14, Severity.MODERATE),
    Band(21, Severity.SEVERE),
)

# --- PCL-5 -----------------------------------------------------------------------------------
# Weathers et al. 2013, National Center for PTSD (public domain). Clusters: B 1-5, C 6-7,
# D 8-14, E 15-20. Spanish: written for this registry; check against the National Center
# for PTSD Spanish PCL-5 before production.
_PCL5_OPTIONS = _options(
    ("Not at all", "Nada"),
    ("A little bit", "Un poco"),
    ("Moderately", "Moderadamente"),
    ("Quite a bit", "Bastante"),
    ("Extremely", "Extremadamente"),
)
_PCL5_TEXTS = (
    (
        "Repeated, disturbing, and unwanted memories of the stressful experience?",
        "¿Recuerdos repetidos, perturbadores y no deseados de la experiencia estresante?",
    ),
    (
        "Repeated, disturbing dreams of the stressful experience?",
        "¿Sueños repetidos y perturbadores sobre la experiencia estresante?",
    ),
    (
        "Suddenly feeling or acting as if the stressful experience were actually happening "
        "again (as if you were actually back there reliving it)?",
        "¿De repente sentir o actuar como si la experiencia estresante estuviera sucediendo "
        "otra vez (como si realmente estuviera allí reviviéndola)?",
    ),
    (
        "Feeling very upset when something reminded you of the stressful experience?",
        "¿Sentirse muy alterado(a) cuando algo le recordó la experiencia estresante?",
    ),
    (
        "Having strong physical reactions when something reminded you of the stressful "
        "experience (for example, heart pounding, trouble breathing, sweating)?",
        "¿Tener reacciones físicas fuertes cuando algo le recordó la experiencia estresante "
        "(por ejemplo, el corazón acelerado, dificultad para respirar, sudoración)?",
    ),
    (
        "Avoiding memories, thoughts, or feelings related to the stressful experience?",
        "¿Evitar recuerdos, pensamientos o sentimientos relacionados con la experiencia "
        "estresante?",
    ),
    (
        "Avoiding external reminders of the stressful experience (for example, people, "
        "places, conversations, activities, objects, or situations)?",
        "¿Evitar cosas externas que le recuerden la experiencia estresante (por ejemplo, "
        "personas, lugares, conversaciones, actividades, objetos o situaciones)?",
    ),
    (
        "Trouble remembering important parts of the stressful experience?",
        "¿Dificultad para recordar partes importantes de la experiencia estresante?",
    ),
    (
        "Having strong negative beliefs about yourself, other people, or the world (for "
        "example, having thoughts such as: I am bad, there is something seriously wrong with "
        "me, no one can be trusted, the world is completely dangerous)?",
        "¿Tener creencias negativas fuertes sobre usted mismo(a), otras personas o el mundo "
        "(por ejemplo, pensamientos como: soy malo(a), hay algo muy mal en mí, no se puede "
        "confiar en nadie, el mundo es completamente peligroso)?",
    ),
    (
        "Blaming yourself or someone else for the stressful experience or what happened after it?",
        "¿Culparse a usted mismo(a) o a otra persona por la experiencia estresante o por lo "
        "que pasó después?",
    ),
    (
        "Having strong negative feelings such as fear, horror, anger, guilt, or shame?",
        "¿Tener sentimientos negativos fuertes como miedo, horror, enojo, culpa o vergüenza?",
    ),
    (
        "Loss of interest in activities that you used to enjoy?",
        "¿Pérdida de interés en actividades que antes disfrutaba?",
    ),
    (
        "Feeling distant or cut off from other people?",
        "¿Sentirse distante o alejado(a) de otras personas?",
    ),
    (
        "Trouble experiencing positive feelings (for example, being unable to feel happiness "
        "or have loving feelings for people close to you)?",
        "¿Dificultad para sentir emociones positivas (por ejemplo, no poder sentir felicidad o "
        "sentimientos de cariño por las personas cercanas a usted)?",
    ),
    (
        "Irritable behavior, angry outbursts, or acting aggressively?",
        "¿Comportamiento irritable, arrebatos de enojo o actuar de manera agresiva?",
    ),
    (
        "Taking too many risks or doing things that could cause you harm?",
        "¿Tomar demasiados riesgos o hacer cosas que podrían causarle daño?",
    ),
    (
        'Being "superalert" or watchful or on guard?',
        '¿Estar "superalerta", vigilante o en guardia?',
    ),
    ("Feeling jumpy or easily startled?", "¿Sentirse nervioso(a) o asustarse con facilidad?"),
    ("Having difficulty concentrating?", "¿Tener dificultad para concentrarse?"),
    (
        "Trouble falling or staying asleep?",
        "¿Dificultad para quedarse dormido(a) o permanecer dormido(a)?",
    ),
)

# --- AUDIT-C ---------------------------------------------------------------------------------
# AUDIT questions 1-3 (Babor et al., WHO AUDIT manual 2001), scored as the AUDIT-C by Bush
# et al. 1998 and Bradley et al. 2003. Spanish: the WHO Spanish AUDIT wording as best known;
# not compared with the WHO Spanish manual: check before production.
_AUDITC_ITEMS = (
    Item(
        1,
        "How often do you have a drink containing alcohol?",
        "¿Con qué frecuencia consume alguna bebida alcohólica?",
        _options(
            ("Never", "Nunca"),
            ("Monthly or less", "Una o menos veces al mes"),
            ("2 to 4 times a month", "De 2 a 4 veces al mes"),
            ("2 to 3 times a week", "De 2 a 3 veces a la semana"),
            ("4 or more times a week", "4 o más veces a la semana"),
        ),
        Loinc("68518-0", verified=False),
    ),
    Item(
        2,
        "How many drinks containing alcohol do you have on a typical day when you are drinking?",
        "¿Cuántas consumiciones de bebidas alcohólicas suele realizar en un día de consumo normal?",
        _options(
            ("1 or 2", "1 o 2"),
            ("3 or 4", "3 o 4"),
            ("5 or 6", "5 o 6"),
            ("7, 8, or 9", "De 7 a 9"),
            ("10 or more", "10 o más"),
        ),
        Loinc("68519-8", verified=False),
    ),
    Item(
        3,
        "How often do you have six or more drinks on one occasion?",
        "¿Con qué frecuencia toma 6 o más bebidas alcohólicas en un solo día?",
        _options(
            ("Never", "Nunca"),
            ("Less than monthly", "Menos de una vez al mes"),
            ("Monthly", "Mensualmente"),
            ("Weekly", "Semanalmente"),
            ("Daily or almost daily", "A diario o casi a diario"),
        ),
        Loinc("68520-6", verified=False),
    ),
)

# --- EPDS ------------------------------------------------------------------------------------
# Cox, Holden & Sagovsky, Br J Psychiatry 1987;150:782-6. Options are listed in PRINTED
# order with the points each earns; items 3 and 5-10 print the most symptomatic option
# first. Spanish: modelled on the Spanish validation (Garcia-Esteve et al. 2003), not compared
# with the licensed Spanish EPDS: check before production.
_EPDS_REVERSED = (3, 2, 1, 0)
_EPDS_ITEMS = (
    Item(
        1,
        "I have been able to laugh and see the funny side of things",
        "He sido capaz de reírme y ver el lado divertido de las cosas",
        _options(
            ("As much as I always could", "Tanto como siempre"),
            ("Not quite so much now", "No tanto ahora"),
            ("Definitely not so much now", "Mucho menos ahora"),
            ("Not at all", "No, nada"),
        ),
    ),
    Item(
        2,
        "I have looked forward with enjoyment to things",
        "He mirado al futuro con ilusión",
        _options(
            ("As much as I ever did", "Tanto como siempre"),
            ("Rather less than I used to", "Algo menos de lo que solía"),
            ("Definitely less than I used to", "Definitivamente menos"),
            ("Hardly at all", "No, nada"),
        ),
    ),
    Item(
        3,
        "I have blamed myself unnecessarily when things went wrong",
        "Me he culpado sin necesidad cuando las cosas no salían bien",
        _options(
            ("Yes, most of the time", "Sí, la mayoría de las veces"),
            ("Yes, some of the time", "Sí, algunas veces"),
            ("Not very often", "No muy a menudo"),
            ("No, never", "No, nunca"),
            values=_EPDS_REVERSED,
        ),
    ),
    Item(
        4,
        "I have been anxious or worried for no good reason",
        "He estado ansiosa y preocupada sin motivo",
        _options(
            ("No, not at all", "No, para nada"),
            ("Hardly ever", "Casi nada"),
            ("Yes, sometimes", "Sí, a veces"),
            ("Yes, very often", "Sí, a menudo"),
        ),
    ),
    Item(
        5,
        "I have felt scared or panicky for no very good reason",
        "He sentido miedo o pánico sin motivo alguno",
        _options(
            ("Yes, quite a lot", "Sí, bastante"),
            ("Yes, sometimes", "Sí, a veces"),
            ("No, not much", "No, no mucho"),
            ("No, not at all", "No, nada"),
            values=_EPDS_REVERSED,
        ),
    ),
    Item(
        6,
        "Things have been getting on top of me",
        "Las cosas me oprimen o agobian",
        _options(
            (
                "Yes, most of the time I haven't been able to cope at all",
                "Sí, la mayor parte de las veces no he podido hacer las cosas en absoluto",
            ),
            (
                "Yes, sometimes I haven't been coping as well as usual",
                "Sí, a veces no he podido hacer las cosas tan bien como siempre",
            ),
            (
                "No, most of the time I have coped quite well",
                "No, la mayor parte de las veces he hecho las cosas bastante bien",
            ),
            (
                "No, I have been coping as well as ever",
                "No, he estado haciendo las cosas tan bien como siempre",
            ),
            values=_EPDS_REVERSED,
        ),
    ),
    Item(
        7,
        "I have been so unhappy that I have had difficulty sleeping",
        "Me he sentido tan infeliz que he tenido dificultad para dormir",
        _options(
            ("Yes, most of the time", "Sí, la mayoría de las veces"),
            ("Yes, sometimes", "Sí, a veces"),
            ("Not very often", "No muy a menudo"),
            ("No, not at all", "No, nada"),
            values=_EPDS_REVERSED,
        ),
    ),
    Item(
        8,
        "I have felt sad or miserable",
        "Me he sentido triste y desgraciada",
        _options(
            ("Yes, most of the time", "Sí, casi siempre"),
            ("Yes, quite often", "Sí, bastante a menudo"),
            ("Not very often", "No muy a menudo"),
            ("No, not at all", "No, nada"),
            values=_EPDS_REVERSED,
        ),
    ),
    Item(
        9,
        "I have been so unhappy that I have been crying",
        "He sido tan infeliz que he estado llorando",
        _options(
            ("Yes, most of the time", "Sí, casi siempre"),
            ("Yes, quite often", "Sí, bastante a menudo"),
            ("Only occasionally", "Solo en ocasiones"),
            ("No, never", "No, nunca"),
            values=_EPDS_REVERSED,
        ),
    ),
    Item(
        10,
        "The thought of harming myself has occurred to me",
        "He pensado en hacerme daño a mí misma",
        _options(
            ("Yes, quite often", "Sí, bastante a menudo"),
            ("Sometimes", "A veces"),
            ("Hardly ever", "Casi nunca"),
            ("Never", "No, nunca"),
            values=_EPDS_REVERSED,
        ),
        safety=True,
    ),
)


# --- SCARED ----------------------------------------------------------------------------------
# Screen for Child Anxiety Related Emotional Disorders, 41-item version: Birmaher et al.,
# J Am Acad Child Adolesc Psychiatry 1997;36:545-53 and 1999;38:1230-6 (the replication that
# added the 41st item and the school-avoidance factor). Items are scored 0-2 in printed order.
# Subscale items and cut-offs are those of the published scoring key (University of
# Pittsburgh, Department of Psychiatry, "SCARED scoring"): total >=25 may indicate an anxiety
# disorder; panic disorder or significant somatic symptoms >=7; generalized anxiety >=9;
# separation anxiety >=5; social anxiety >=8; significant school avoidance >=3. The child and
# parent versions share the key. English: the published wording. Spanish: written for this
# registry, not the validated Spanish SCARED: check before production (spanish_checked=False).
_SCARED_OPTIONS = _options(
    ("Not True or Hardly Ever True", "No es cierto o casi nunca es cierto"),
    ("Somewhat True or Sometimes True", "Algo cierto o a veces cierto"),
    ("Very True or Often True", "Muy cierto o a menudo cierto"),
)
_SCARED_CHILD_TEXTS = (
    ("When I feel frightened, it is hard to breathe.", "Cuando tengo miedo, me cuesta respirar."),
    ("I get headaches when I am at school.", "Me duele la cabeza cuando estoy en la escuela."),
    (
        "I don't like to be with people I don't know well.",
        "No me gusta estar con personas que no conozco bien.",
    ),
    ("I get scared if I sleep away from home.", "Me da miedo dormir fuera de casa."),
    ("I worry about other people liking me.", "Me preocupa si les caigo bien a los demás."),
    (
        "When I get frightened, I feel like passing out.",
        "Cuando tengo miedo, siento que me voy a desmayar.",
    ),
    ("I am nervous.", "Soy nervioso(a)."),
    (
        "I follow my mother or father wherever they go.",
        "Sigo a mi mamá o a mi papá a dondequiera que vayan.",
    ),
    ("People tell me that I look nervous.", "La gente me dice que parezco nervioso(a)."),
    (
        "I feel nervous with people I don't know well.",
        "Me siento nervioso(a) con personas que no conozco bien.",
    ),
    ("I get stomachaches at school.", "Me duele el estómago en la escuela."),
    (
        "When I get frightened, I feel like I am going crazy.",
        "Cuando tengo miedo, siento que me estoy volviendo loco(a).",
    ),
    ("I worry about sleeping alone.", "Me preocupa dormir solo(a)."),
    (
        "I worry about being as good as other kids.",
        "Me preocupa ser tan bueno(a) como los demás niños.",
    ),
    (
        "When I get frightened, I feel like things are not real.",
        "Cuando tengo miedo, siento que las cosas no son reales.",
    ),
    (
        "I have nightmares about something bad happening to my parents.",
        "Tengo pesadillas de que algo malo les pasa a mis padres.",
    ),
    ("I worry about going to school.", "Me preocupa ir a la escuela."),
    (
        "When I get frightened, my heart beats fast.",
        "Cuando tengo miedo, mi corazón late muy rápido.",
    ),
    ("I get shaky.", "Me tiembla el cuerpo."),
    (
        "I have nightmares about something bad happening to me.",
        "Tengo pesadillas de que algo malo me pasa a mí.",
    ),
    ("I worry about things working out for me.", "Me preocupa que las cosas me salgan bien."),
    ("When I get frightened, I sweat a lot.", "Cuando tengo miedo, sudo mucho."),
    ("I am a worrier.", "Me preocupo mucho por todo."),
    (
        "I get really frightened for no reason at all.",
        "Me da mucho miedo sin ningún motivo.",
    ),
    ("I am afraid to be alone in the house.", "Me da miedo quedarme solo(a) en casa."),
    (
        "It is hard for me to talk with people I don't know well.",
        "Me cuesta hablar con personas que no conozco bien.",
    ),
    (
        "When I get frightened, I feel like I am choking.",
        "Cuando tengo miedo, siento que me ahogo.",
    ),
    ("People tell me that I worry too much.", "La gente me dice que me preocupo demasiado."),
    ("I don't like to be away from my family.", "No me gusta estar lejos de mi familia."),
    (
        "I am afraid of having anxiety (or panic) attacks.",
        "Tengo miedo de tener ataques de ansiedad (o de pánico).",
    ),
    (
        "I worry that something bad might happen to my parents.",
        "Me preocupa que algo malo les pase a mis padres.",
    ),
    (
        "I feel shy with people I don't know well.",
        "Siento timidez con personas que no conozco bien.",
    ),
    (
        "I worry about what is going to happen in the future.",
        "Me preocupa lo que va a pasar en el futuro.",
    ),
    (
        "When I get frightened, I feel like throwing up.",
        "Cuando tengo miedo, siento ganas de vomitar.",
    ),
    ("I worry about how well I do things.", "Me preocupa qué tan bien hago las cosas."),
    ("I am scared to go to school.", "Me da miedo ir a la escuela."),
    (
        "I worry about things that have already happened.",
        "Me preocupan cosas que ya pasaron.",
    ),
    ("When I get frightened, I feel dizzy.", "Cuando tengo miedo, me mareo."),
    (
        "I feel nervous when I am with other children or adults and I have to do something "
        "while they watch me (for example: read aloud, speak, play a game, play a sport.)",
        "Me pongo nervioso(a) cuando estoy con otros niños o adultos y tengo que hacer algo "
        "mientras me miran (por ejemplo: leer en voz alta, hablar, jugar un juego, hacer "
        "un deporte).",
    ),
    (
        "I feel nervous when I am going to parties, dances, or any place where there will be "
        "people that I don't know well.",
        "Me pongo nervioso(a) cuando voy a fiestas, bailes o cualquier lugar donde habrá "
        "personas que no conozco bien.",
    ),
    ("I am shy.", "Soy tímido(a)."),
)
_SCARED_PARENT_TEXTS = (
    (
        "When my child feels frightened, it is hard for him/her to breathe.",
        "Cuando mi hijo(a) tiene miedo, le cuesta respirar.",
    ),
    (
        "My child gets headaches when he/she is at school.",
        "A mi hijo(a) le duele la cabeza cuando está en la escuela.",
    ),
    (
        "My child doesn't like to be with people he/she doesn't know well.",
        "A mi hijo(a) no le gusta estar con personas que no conoce bien.",
    ),
    (
        "My child gets scared if he/she sleeps away from home.",
        "A mi hijo(a) le da miedo dormir fuera de casa.",
    ),
    (
        "My child worries about other people liking him/her.",
        "A mi hijo(a) le preocupa si les cae bien a los demás.",
    ),
    (
        "When my child gets frightened, he/she feels like passing out.",
        "Cuando mi hijo(a) tiene miedo, siente que se va a desmayar.",
    ),
    ("My child is nervous.", "Mi hijo(a) es nervioso(a)."),
    ("My child follows me wherever I go.", "Mi hijo(a) me sigue a dondequiera que voy."),
    (
        "People tell me that my child looks nervous.",
        "La gente me dice que mi hijo(a) parece nervioso(a).",
    ),
    (
        "My child feels nervous with people he/she doesn't know well.",
        "Mi hijo(a) se siente nervioso(a) con personas que no conoce bien.",
    ),
    ("My child gets stomachaches at school.", "A mi hijo(a) le duele el estómago en la escuela."),
    (
        "When my child gets frightened, he/she feels like he/she is going crazy.",
        "Cuando mi hijo(a) tiene miedo, siente que se está volviendo loco(a).",
    ),
    ("My child worries about sleeping alone.", "A mi hijo(a) le preocupa dormir solo(a)."),
    (
        "My child worries about being as good as other kids.",
        "A mi hijo(a) le preocupa ser tan bueno(a) como los demás niños.",
    ),
    (
        "When he/she gets frightened, he/she feels like things are not real.",
        "Cuando tiene miedo, siente que las cosas no son reales.",
    ),
    (
        "My child has nightmares about something bad happening to his/her parents.",
        "Mi hijo(a) tiene pesadillas de que algo malo les pasa a sus padres.",
    ),
    ("My child worries about going to school.", "A mi hijo(a) le preocupa ir a la escuela."),
    (
        "When my child gets frightened, his/her heart beats fast.",
        "Cuando mi hijo(a) tiene miedo, su corazón late muy rápido.",
    ),
    ("He/she gets shaky.", "Le tiembla el cuerpo."),
    (
        "My child has nightmares about something bad happening to him/her.",
        "Mi hijo(a) tiene pesadillas de que algo malo le pasa a él/ella.",
    ),
    (
        "My child worries about things working out for him/her.",
        "A mi hijo(a) le preocupa que las cosas le salgan bien.",
    ),
    (
        "When my child gets frightened, he/she sweats a lot.",
        "Cuando mi hijo(a) tiene miedo, suda mucho.",
    ),
    ("My child is a worrier.", "Mi hijo(a) se preocupa mucho por todo."),
    (
        "My child gets really frightened for no reason at all.",
        "A mi hijo(a) le da mucho miedo sin ningún motivo.",
    ),
    (
        "My child is afraid to be alone in the house.",
        "A mi hijo(a) le da miedo quedarse solo(a) en casa.",
    ),
    (
        "It is hard for my child to talk with people he/she doesn't know well.",
        "A mi hijo(a) le cuesta hablar con personas que no conoce bien.",
    ),
    (
        "When my child gets frightened, he/she feels like he/she is choking.",
        "Cuando mi hijo(a) tiene miedo, siente que se ahoga.",
    ),
    (
        "People tell me that my child worries too much.",
        "La gente me dice que mi hijo(a) se preocupa demasiado.",
    ),
    (
        "My child doesn't like to be away from his/her family.",
        "A mi hijo(a) no le gusta estar lejos de su familia.",
    ),
    (
        "My child is afraid of having anxiety (or panic) attacks.",
        "Mi hijo(a) tiene miedo de tener ataques de ansiedad (o de pánico).",
    ),
    (
        "My child worries that something bad might happen to his/her parents.",
        "A mi hijo(a) le preocupa que algo malo les pase a sus padres.",
    ),
    (
        "My child feels shy with people he/she doesn't know well.",
        "Mi hijo(a) siente timidez con personas que no conoce bien.",
    ),
    (
        "My child worries about what is going to happen in the future.",
        "A mi hijo(a) le preocupa lo que va a pasar en el futuro.",
    ),
    (
        "When my child gets frightened, he/she feels like throwing up.",
        "Cuando mi hijo(a) tiene miedo, siente ganas de vomitar.",
    ),
    (
        "My child worries about how well he/she does things.",
        "A mi hijo(a) le preocupa qué tan bien hace las cosas.",
    ),
    ("My child is scared to go to school.", "A mi hijo(a) le da miedo ir a la escuela."),
    (
        "My child worries about things that have already happened.",
        "A mi hijo(a) le preocupan cosas que ya pasaron.",
    ),
    (
        "When my child gets frightened, he/she feels dizzy.",
        "Cuando mi hijo(a) tiene miedo, se marea.",
    ),
    (
        "My child feels nervous when he/she is with other children or adults and he/she has "
        "to do something while they watch him/her (for example: read aloud, speak, play a "
        "game, play a sport).",
        "Mi hijo(a) se pone nervioso(a) cuando está con otros niños o adultos y tiene que "
        "hacer algo mientras lo(a) miran (por ejemplo: leer en voz alta, hablar, jugar un "
        "juego, hacer un deporte).",
    ),
    (
        "My child feels nervous when he/she is going to parties, dances, or any place where "
        "there will be people that he/she doesn't know well.",
        "Mi hijo(a) se pone nervioso(a) cuando va a fiestas, bailes o cualquier lugar donde "
        "habrá personas que no conoce bien.",
    ),
    ("My child is shy.", "Mi hijo(a) es tímido(a)."),
)
SCARED_SUBSCALES = (
    Subscale(
        "panic_somatic",
        "Panic disorder or significant somatic symptoms",
        (1, 6, 9, 12, 15, 18, 19, 22, 24, 27, 30, 34, 38),
        7,
    ),
    Subscale(
        "generalized_anxiety", "Generalized anxiety disorder", (5, 7, 14, 21, 23, 28, 33, 35, 37), 9
    ),
    Subscale("separation_anxiety", "Separation anxiety", (4, 8, 13, 16, 20, 25, 29, 31), 5),
    Subscale("social_anxiety", "Social anxiety disorder", (3, 10, 26, 32, 39, 40, 41), 8),
    Subscale("school_avoidance", "Significant school avoidance", (2, 11, 17, 36), 3),
)
_SCARED_SOURCE = (
    "Birmaher et al., J Am Acad Child Adolesc Psychiatry 1997;36:545-53 and 1999;38:1230-6; "
    "cut-offs from the published SCARED scoring key (University of Pittsburgh)"
)


INSTRUMENTS: dict[str, Instrument] = {
    instrument.code: instrument
    for instrument in (
        Instrument(
            code=InstrumentCode.PHQ9,
            name="Patient Health Questionnaire-9",
            source="Kroenke, Spitzer & Williams, J Gen Intern Med 2001;16:606-13; "
            "NHS Data Dictionary (missing items)",
            stem_en=_PHQ_STEM_EN,
            stem_es=_PHQ_STEM_ES,
            items=_items(_PHQ9_TEXTS, _PHQ_OPTIONS, loincs=_PHQ9_ITEM_LOINC, safety=(9,)),
            bands=PHQ9_BANDS,
            # >=10: sensitivity 88%, specificity 88% for major depression (Kroenke 2001).
            positive_at=10,
            # NHS Data Dictionary [V]: one or two missing items are prorated.
            max_missing=2,
            measures_remission=True,
            panel_loinc=Loinc("44249-1"),
            total_loinc=Loinc("44261-6"),
        ),
        Instrument(
            code=InstrumentCode.PHQ2,
            name="Patient Health Questionnaire-2",
            source="Kroenke, Spitzer & Williams, Med Care 2003;41:1284-92; Arroll 2010",
            stem_en=_PHQ_STEM_EN,
            stem_es=_PHQ_STEM_ES,
            # Same LOINC question codes as PHQ-9 items 1-2; their use in panel 55757-9 is
            # not steward-verified.
            items=_items(
                _PHQ9_TEXTS[:2],
                _PHQ_OPTIONS,
                loincs=(Loinc("44250-9", verified=False), Loinc("44255-8", verified=False)),
            ),
            positive_at=3,
            panel_loinc=Loinc("55757-9", verified=False),  # [S]
            total_loinc=Loinc("55758-7"),
        ),
        Instrument(
            code=InstrumentCode.GAD7,
            name="Generalized Anxiety Disorder-7",
            source="Spitzer, Kroenke, Williams & Löwe, Arch Intern Med 2006;166:1092-7",
            stem_en=_PHQ_STEM_EN,
            stem_es=_GAD_STEM_ES,
            items=_items(_GAD7_TEXTS, _GAD_OPTIONS, loincs=_GAD7_ITEM_LOINC),
            bands=GAD7_BANDS,
            # >=10: sensitivity 89%, specificity 82% for GAD (Spitzer 2006).
            positive_at=10,
            # [I] rules 2.4 and 3: remission below 5 by analogy with PHQ-9.
            measures_remission=True,
            panel_loinc=Loinc("69737-5"),
            total_loinc=Loinc("70274-6"),
        ),
        Instrument(
            code=InstrumentCode.GAD2,
            name="Generalized Anxiety Disorder-2",
            source="Kroenke et al., Ann Intern Med 2007;146:317-25",
            stem_en=_PHQ_STEM_EN,
            stem_es=_GAD_STEM_ES,
            # GAD-7 items 1-2; their use in a GAD-2 panel is not verified, and no GAD-2
            # panel or total LOINC was verified (rules 2.4), so none is given.
            items=_items(
                _GAD7_TEXTS[:2],
                _GAD_OPTIONS,
                loincs=(Loinc("69725-0", verified=False), Loinc("68509-9", verified=False)),
            ),
            positive_at=3,
        ),
        Instrument(
            code=InstrumentCode.PHQA,
            name="PHQ-9 Modified for Teens (PHQ-A)",
            source="Johnson et al., J Adolesc Health 2002;30:196-204; total used with PHQ-9 "
            "in CMS159 and NCQA DRR-E",
            stem_en="How often have you been bothered by each of the following symptoms during "
            'the past two weeks? For each symptom put an "X" in the box beneath the answer '
            "that best describes how you have been feeling.",
            stem_es="¿Con qué frecuencia te ha molestado cada uno de los siguientes síntomas "
            'durante las últimas dos semanas? Para cada síntoma marca con una "X" la '
            "respuesta que mejor describa cómo te has sentido.",
            items=_items(_PHQA_TEXTS, _PHQA_OPTIONS, safety=(9,)),
            # [I] PHQ-9 bands, cut-off and missing-item rule applied to the same 0-27 total
            # (rules 2.3 gives only the total; CMS159 treats both totals alike).
            bands=PHQ9_BANDS,
            positive_at=10,
            max_missing=2,
            measures_remission=True,
            # Panel and item LOINC codes are not in the rules file; none are given.
            total_loinc=Loinc("89204-2"),
        ),
        Instrument(
            code=InstrumentCode.PCL5,
            name="PTSD Checklist for DSM-5",
            source="Weathers et al. 2013, National Center for PTSD; Blevins et al., J Trauma "
            "Stress 2015;28:489-98",
            stem_en="Below is a list of problems that people sometimes have in response to a "
            "very stressful experience. Please read each problem carefully and then circle one "
            "of the numbers to the right to indicate how much you have been bothered by that "
            "problem in the past month. In the past month, how much were you bothered by:",
            stem_es="A continuación hay una lista de problemas que las personas a veces tienen "
            "como respuesta a una experiencia muy estresante. Por favor lea cada problema con "
            "atención y marque una de las respuestas para indicar cuánto le ha molestado ese "
            "problema en el último mes. En el último mes, ¿cuánto le ha molestado:",
            items=_items(_PCL5_TEXTS, _PCL5_OPTIONS),
            # Provisional PTSD at 31-33 (rules 2.5); default 31, the most sensitive. A
            # program can pass cutoff=32 or 33 to score().
            positive_at=31,
            # Unverified: from one third-party repository; other third-party code labels
            # 96762-0 as a Barthel index panel. Check in LOINC before any FHIR export.
            total_loinc=Loinc("96762-0", verified=False),
        ),
        Instrument(
            code=InstrumentCode.AUDITC,
            name="AUDIT-C (Alcohol Use Disorders Identification Test - Consumption)",
            source="Bush et al., Arch Intern Med 1998;158:1789-95; Bradley et al., Alcohol "
            "Clin Exp Res 2003 (women)",
            # The WHO manual gives an interviewer instruction, not a self-report stem; this
            # stem is the registry's own.
            stem_en="The following questions are about your use of alcoholic beverages during "
            "the past year.",
            stem_es="Las siguientes preguntas son sobre su consumo de bebidas alcohólicas "
            "durante el último año.",
            items=_AUDITC_ITEMS,
            # Positive >=4 for men, >=3 for women [V]. [I] Anyone not recorded as male
            # (female, other, unknown, not given) gets the lower cut-off 3: no cut-off is
            # validated for them, and a missed positive screen costs more than a false one.
            positive_at=3,
            positive_at_male=4,
            panel_loinc=Loinc("72109-2", verified=False),  # [S] several sources agree
            total_loinc=Loinc("75626-2", verified=False),  # [S] several sources agree
        ),
        Instrument(
            code=InstrumentCode.EPDS,
            name="Edinburgh Postnatal Depression Scale",
            source="Cox, Holden & Sagovsky, Br J Psychiatry 1987;150:782-6",
            stem_en="As you are pregnant or have recently had a baby, we would like to know how "
            "you are feeling. Please check the answer that comes closest to how you have felt "
            "IN THE PAST 7 DAYS, not just how you feel today.",
            stem_es="Como usted está embarazada o ha tenido un bebé recientemente, nos gustaría "
            "saber cómo se siente. Por favor marque la respuesta que más se acerque a cómo se "
            "ha sentido EN LOS ÚLTIMOS 7 DÍAS, no solamente cómo se siente hoy.",
            items=_EPDS_ITEMS,
            # >=13 assess for depression; a program wanting more sensitivity passes cutoff=10.
            positive_at=13,
            panel_loinc=Loinc("71354-5", verified=False),  # [S]
            total_loinc=Loinc("99046-5", verified=False),  # [S]
        ),
        Instrument(
            code=InstrumentCode.SCARED_CHILD,
            name="SCARED, child version (Screen for Child Anxiety Related Emotional Disorders)",
            source=_SCARED_SOURCE,
            stem_en="Below is a list of sentences that describe how people feel. For each "
            "sentence, choose the answer that describes you best over the last 3 months.",
            stem_es="A continuación hay una lista de frases que describen cómo se sienten las "
            "personas. Para cada frase, elige la respuesta que mejor te describa en los "
            "últimos 3 meses.",
            items=_items(_SCARED_CHILD_TEXTS, _SCARED_OPTIONS),
            # Total >=25 may indicate an anxiety disorder (scoring key); no item may be
            # missing (the key sums every item).
            positive_at=25,
            subscales=SCARED_SUBSCALES,
        ),
        Instrument(
            code=InstrumentCode.SCARED_PARENT,
            name="SCARED, parent version (Screen for Child Anxiety Related Emotional Disorders)",
            source=_SCARED_SOURCE,
            stem_en="Below is a list of statements that describe how people feel. For each "
            "statement, choose the answer that describes your child best over the last 3 "
            "months.",
            stem_es="A continuación hay una lista de frases que describen cómo se sienten las "
            "personas. Para cada frase, elija la respuesta que mejor describa a su hijo(a) en "
            "los últimos 3 meses.",
            items=_items(_SCARED_PARENT_TEXTS, _SCARED_OPTIONS),
            positive_at=25,
            subscales=SCARED_SUBSCALES,
            answered_by="guardian",
        ),
    )
}


# --------------------------------------------------------------------------- scoring


@dataclass(frozen=True)
class Score:
    """A scored questionnaire. `severity` is a lowercase snake-case string (JSON-ready)."""

    instrument: str
    total: int
    severity: str
    prorated: bool
    missing: int
    safety_items: tuple[int, ...]
    flags: tuple[str, ...]
    subscales: tuple[SubscaleScore, ...] = ()


def get_instrument(code: str) -> Instrument:
    """Instrument definition by API code (rules section 2)."""
    instrument = INSTRUMENTS.get(code) if isinstance(code, str) else None
    if instrument is None:
        known = ", ".join(INSTRUMENTS)
        raise ScoringError(f"unknown instrument {code!r}; known: {known}", field="instrument")
    return instrument


def score(
    code: str,
    answers: Sequence[int | None],
    *,
    sex: str | None = None,
    max_missing: int | None = None,
    cutoff: int | None = None,
) -> Score:
    """Total, band and flags per `Instrument.source`; missing items per NHS Data Dictionary."""
    instrument = get_instrument(code)
    points = _item_points(instrument, answers)
    allowed = _allowed_missing(instrument, max_missing)
    if cutoff is None:
        cutoff = instrument.positive_cutoff(sex)
    else:
        cutoff = _checked_cutoff(instrument, cutoff)

    missing = sum(1 for value in points if value is None)
    if missing > allowed:
        noun = "item" if missing == 1 else "items"
        limit = "none can be missing" if allowed == 0 else f"at most {allowed} can be missing"
        raise ScoringError(
            f"{instrument.code} has {missing} missing {noun}; {limit}", field="answers"
        )
    answered = [value for value in points if value is not None]
    total = sum(answered)
    if missing:
        # NHS Data Dictionary: substitute the mean of the answered items, i.e.
        # total = mean(answered) x item count; [I] rounded half up (4.5 -> 5).
        total = _round_half_up(Fraction(total * len(points), len(answered)))

    band = instrument.classify(total, cutoff=cutoff)
    pairs = list(zip(instrument.items, points, strict=True))
    safety = tuple(item.number for item, value in pairs if item.safety and (value or 0) > 0)
    unanswered_safety = any(item.safety and value is None for item, value in pairs)
    flags = [ScoreFlag.SAFETY] if safety else []
    if unanswered_safety:
        flags.append(ScoreFlag.SAFETY_UNANSWERED)
    if total >= cutoff:
        flags.append(ScoreFlag.POSITIVE_SCREEN)
    if band is Severity.SEVERE:
        flags.append(ScoreFlag.SEVERE)
    return Score(
        instrument=instrument.code,
        total=total,
        severity=band,
        prorated=missing > 0,
        missing=missing,
        safety_items=safety,
        flags=tuple(flags),
        subscales=tuple(
            SubscaleScore(
                subscale.code,
                subscale.name,
                sum(points[number - 1] or 0 for number in subscale.items),
                subscale.positive_at,
            )
            for subscale in instrument.subscales
        ),
    )


def severity(code: str, total: int, *, sex: str | None = None, cutoff: int | None = None) -> str:
    """Band (PHQ-9/PHQ-A/GAD-7) or positive/negative (others) of a total; rules section 2."""
    instrument = get_instrument(code)
    _check_total(instrument, total, field="total")
    if cutoff is None:
        cutoff = instrument.positive_cutoff(sex)
    else:
        cutoff = _checked_cutoff(instrument, cutoff)
    return instrument.classify(total, cutoff=cutoff)


def phq9_severity(total: int) -> Severity:
    """Bands from Kroenke, Spitzer & Williams, J Gen Intern Med 2001;16:606-13."""
    return _band(InstrumentCode.PHQ9, total)


def gad7_severity(total: int) -> Severity:
    """Bands from Spitzer, Kroenke, Williams & Löwe, Arch Intern Med 2006;166:1092-7."""
    return _band(InstrumentCode.GAD7, total)


def _band(code: InstrumentCode, total: int) -> Severity:
    instrument = INSTRUMENTS[code]
    _check_total(instrument, total, field="total")
    return next(band.severity for band in instrument.bands if total <= band.upper)


def _item_points(instrument: Instrument, answers: Sequence[int | None]) -> list[int | None]:
    if not isinstance(answers, Sequence) or isinstance(answers, str | bytes):
        raise ScoringError(
            f"{instrument.code} answers must be a list of integers or nulls", field="answers"
        )
    count = len(instrument.items)
    if len(answers) != count:
        raise ScoringError(
            f"{instrument.code} expects {count} answers, got {len(answers)}", field="answers"
        )
    points: list[int | None] = []
    for index, (item, answer) in enumerate(zip(instrument.items, answers, strict=True)):
        if answer is None:
            points.append(None)
            continue
        highest = len(item.options) - 1
        where = f"answer {index + 1} (item {item.number})"
        # bool is an int subclass; True must not silently score 1.
        if isinstance(answer, bool) or not isinstance(answer, int):
            raise ScoringError(
                f"{where} is {answer!r}; expected an integer 0-{highest} or null",
                field=f"answers[{index}]",
            )
        if not 0 <= answer <= highest:
            raise ScoringError(
                f"{where} is {answer}; allowed 0-{highest}", field=f"answers[{index}]"
            )
        points.append(item.options[answer].value)
    return points


def _allowed_missing(instrument: Instrument, max_missing: int | None) -> int:
    if max_missing is None:
        return instrument.max_missing
    count = len(instrument.items)
    if (
        isinstance(max_missing, bool)
        or not isinstance(max_missing, int)
        or not (0 <= max_missing < count)
    ):
        raise ScoringError(
            f"max_missing for {instrument.code} must be an integer 0-{count - 1}, "
            f"got {max_missing!r}",
            field="max_missing",
        )
    return max_missing


def _checked_cutoff(instrument: Instrument, cutoff: int) -> int:
    low, high = instrument.min_total + 1, instrument.max_total
    if isinstance(cutoff, bool) or not isinstance(cutoff, int) or not low <= cutoff <= high:
        raise ScoringError(
            f"cutoff for {instrument.code} must be an integer {low}-{high}, got {cutoff!r}",
            field="cutoff",
        )
    return cutoff


def _check_total(instrument: Instrument, total: int, *, field: str) -> None:
    low, high = instrument.min_total, instrument.max_total
    if isinstance(total, bool) or not isinstance(total, int) or not low <= total <= high:
        raise ScoringError(
            f"{instrument.code} total {total!r} is not an integer {low}-{high}", field=field
        )


def _round_half_up(value: Fraction) -> int:
    # Totals are never negative, so floor(x + 1/2) is round-half-up. Python's round() is
    # round-half-even (round(4.5) == 4), which the rule does not intend.
    return int(value + Fraction(1, 2))


# --------------------------------------------------------------------------- treat to target


def percent_change(baseline: int, latest: int) -> float | None:
    """(latest - baseline) / baseline x 100; negative is improvement; None for baseline 0 (ICSI)."""
    _check_non_negative(baseline, "baseline")
    _check_non_negative(latest, "latest")
    if baseline == 0:
        return None
    return (latest - baseline) * 100 / baseline


def is_response(baseline: int, latest: int, *, threshold: float = 0.5) -> bool:
    """Response: at least a 50% drop from baseline (ICSI depression guideline; NCQA DRR-E)."""
    drop = _drop(baseline, latest)
    return drop is not None and drop >= _fraction(threshold, "threshold")


def is_partial_response(
    baseline: int, latest: int, *, lower: float = 0.25, upper: float = 0.5
) -> bool:
    """Partial response: a 25-50% drop (ICSI); [I] 25% counts, 50% is a full response."""
    drop = _drop(baseline, latest)
    low, high = _fraction(lower, "lower"), _fraction(upper, "upper")
    return drop is not None and low <= drop < high


def is_remission(code: str, latest: int, *, cutoff: int = 5) -> bool:
    """Remission: PHQ-9/PHQ-A below 5 (ICSI; CMS159; DRR-E); GAD-7 below 5 [I]."""
    instrument = _remission_instrument(code)
    _check_total(instrument, latest, field="latest")
    return latest < cutoff


@dataclass(frozen=True)
class TreatToTarget:
    """Treat-to-target summary of one episode's scores on one instrument (rules section 3).

    `change` is latest - baseline (negative is improvement). When the baseline is below
    `min_baseline` the episode is not `eligible`, and response, partial_response,
    remission and the weeks fields are None.
    """

    instrument: str
    baseline: int
    baseline_on: date
    latest: int
    latest_on: date
    change: int
    percent_change: float | None
    eligible: bool
    response: bool | None
    partial_response: bool | None
    remission: bool | None
    weeks_to_first_response: int | None
    weeks_to_remission: int | None


def treat_to_target(
    code: str,
    scores: Sequence[tuple[date, int]],
    *,
    enrolled_on: date | None = None,
    remission_cutoff: int = 5,
    min_baseline: int = 10,
) -> TreatToTarget:
    """Response/remission from baseline to latest score (ICSI; [I] baseline >= 10 per CMS159)."""
    instrument = _remission_instrument(code)
    ordered = _checked_scores(instrument, scores)
    # Stable sort: scores on the same date keep their input order.
    ordered.sort(key=lambda pair: pair[0])
    baseline_on, baseline = ordered[0]
    latest_on, latest = ordered[-1]
    eligible = baseline >= min_baseline

    response = partial = remission = None
    weeks_to_response = weeks_to_remission = None
    if eligible:
        response = is_response(baseline, latest)
        partial = is_partial_response(baseline, latest)
        remission = latest < remission_cutoff
        # [I] Weeks count from enrolled_on when given (time in treatment, as the caseload's
        # weeks_in_treatment and the AIMS 10-12 week review rule use), else from the
        # baseline date. Whole weeks, rounded down; a score dated before the anchor is week 0.
        anchor = enrolled_on if enrolled_on is not None else baseline_on
        follow_ups = ordered[1:]
        weeks_to_response = _first_week(
            follow_ups, anchor, lambda total: is_response(baseline, total)
        )
        weeks_to_remission = _first_week(follow_ups, anchor, lambda total: total < remission_cutoff)

    return TreatToTarget(
        instrument=instrument.code,
        baseline=baseline,
        baseline_on=baseline_on,
        latest=latest,
        latest_on=latest_on,
        change=latest - baseline,
        percent_change=percent_change(baseline, latest),
        eligible=eligible,
        response=response,
        partial_response=partial,
        remission=remission,
        weeks_to_first_response=weeks_to_response,
        weeks_to_remission=weeks_to_remission,
    )


def _first_week(
    follow_ups: Sequence[tuple[date, int]], anchor: date, reached: Callable[[int], bool]
) -> int | None:
    for taken_on, total in follow_ups:
        if reached(total):
            return max(0, (taken_on - anchor).days // 7)
    return None


def _checked_scores(
    instrument: Instrument, scores: Sequence[tuple[date, int]]
) -> list[tuple[date, int]]:
    if not isinstance(scores, Sequence) or isinstance(scores, str | bytes) or not scores:
        raise ScoringError(
            f"treat-to-target needs at least one dated {instrument.code} score", field="scores"
        )
    checked = []
    for index, pair in enumerate(scores):
        field = f"scores[{index}]"
        if not isinstance(pair, tuple) or len(pair) != 2:
            raise ScoringError(f"{field} must be a (date, total) pair", field=field)
        taken_on, total = pair
        # datetime is a date subclass, but mixing the two breaks ordering and week counts.
        if isinstance(taken_on, datetime) or not isinstance(taken_on, date):
            raise ScoringError(f"{field} date {taken_on!r} is not a date", field=field)
        _check_total(instrument, total, field=field)
        checked.append((taken_on, total))
    return checked


def _remission_instrument(code: str) -> Instrument:
    instrument = get_instrument(code)
    if not instrument.measures_remission:
        supported = ", ".join(i.code for i in INSTRUMENTS.values() if i.measures_remission)
        raise ScoringError(
            f"remission and treat-to-target are defined for {supported}, not {instrument.code}",
            field="instrument",
        )
    return instrument


def _drop(baseline: int, latest: int) -> Fraction | None:
    _check_non_negative(baseline, "baseline")
    _check_non_negative(latest, "latest")
    if baseline == 0:
        return None
    return Fraction(baseline - latest, baseline)


def _check_non_negative(value: int, field: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ScoringError(f"{field} {value!r} is not a non-negative integer", field=field)


def _fraction(value: float, field: str) -> Fraction:
    # Via str() so 0.3 means exactly 3/10, not the nearest binary float.
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 1:
        raise ScoringError(
            f"{field} {value!r} must be a fraction above 0 and at most 1", field=field
        )
    return Fraction(str(value))
