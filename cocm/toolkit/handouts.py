"""Patient education handouts: what collaborative care is, the team, what to expect, how to
reach the care manager, crisis resources; English and Spanish, rendered to PDF (WeasyPrint).

Content adapted from the patient education material of the APA/AIMS Center CoCM Practice and
Billing Toolkit; crisis numbers: 988 Suicide & Crisis Lifeline (call or text, any hour) and
911 for emergencies.
"""

from dataclasses import dataclass
from datetime import date

from django.contrib.staticfiles import finders
from django.template.loader import render_to_string

from cocm.accounts.models import User
from cocm.registry.models import Episode
from cocm.toolkit.models import StaffContact

TEXTS = {
    "en": {
        "title": "Your collaborative care team",
        "for": "For",
        "what_heading": "What is collaborative care?",
        "what": (
            "Collaborative care is a team approach to feeling better from depression, anxiety "
            "and other concerns, right here at your primary care clinic. Your primary care "
            "provider, a care manager and a psychiatric consultant work together with you."
        ),
        "team_heading": "Who is on your team",
        "pcp": "Primary care provider",
        "care_manager": "Care manager",
        "consultant": "Psychiatric consultant",
        "consultant_note": (
            "Reviews your care with the team every week; you may not meet in person."
        ),
        "not_assigned": "to be assigned",
        "expect_heading": "What to expect",
        "expect": (
            "Your care manager will check in with you often, in person or by phone.",
            "You will answer short questionnaires (such as the PHQ-9) so we can see how you "
            "are doing over time.",
            "If you are not feeling better, the team changes the plan with you until you are.",
            "Most people take part for several months. You can stop at any time.",
        ),
        "reach_heading": "How to reach your care manager",
        "reach": "Call {name} at {phone} during clinic hours.",
        "clinic_phone": "{clinic}: {phone}",
        "crisis_heading": "If you are in crisis",
        "crisis": (
            "Call or text 988 (Suicide & Crisis Lifeline), any hour, any day.",
            "In an emergency, call 911 or go to the nearest emergency room.",
        ),
        "crisis_clinic": "Your clinic: {clinic}, {phone}",
        "printed": "Printed {on}",
    },
    "es": {
        "title": "Su equipo de atención colaborativa",
        "for": "Para",
        "what_heading": "¿Qué es la atención colaborativa?",
        "what": (
            "La atención colaborativa es un enfoque de equipo para sentirse mejor de la "
            "depresión, la ansiedad y otras preocupaciones, aquí mismo en su clínica de "
            "atención primaria. Su proveedor de atención primaria, un administrador de atención "
            "y un consultor psiquiátrico trabajan juntos con usted."
        ),
        "team_heading": "Quién forma parte de su equipo",
        "pcp": "Proveedor de atención primaria",
        "care_manager": "Administrador de atención",
        "consultant": "Consultor psiquiátrico",
        "consultant_note": (
            "Revisa su atención con el equipo cada semana; es posible que no lo conozca en persona."
        ),
        "not_assigned": "por asignar",
        "expect_heading": "Qué puede esperar",
        "expect": (
            "Su administrador de atención se comunicará con usted a menudo, en persona o por "
            "teléfono.",
            "Contestará cuestionarios breves (como el PHQ-9) para que veamos cómo se siente "
            "con el tiempo.",
            "Si no se siente mejor, el equipo cambia el plan con usted hasta que mejore.",
            "La mayoría de las personas participan varios meses. Puede dejarlo en cualquier "
            "momento.",
        ),
        "reach_heading": "Cómo comunicarse con su administrador de atención",
        "reach": "Llame a {name} al {phone} en el horario de la clínica.",
        "clinic_phone": "{clinic}: {phone}",
        "crisis_heading": "Si está en crisis",
        "crisis": (
            "Llame o envíe un mensaje de texto al 988 (Línea de Prevención del Suicidio y "
            "Crisis), a cualquier hora, cualquier día.",
            "En una emergencia, llame al 911 o vaya a la sala de emergencias más cercana.",
        ),
        "crisis_clinic": "Su clínica: {clinic}, {phone}",
        "printed": "Impreso el {on}",
    },
}


@dataclass(frozen=True)
class TeamMember:
    role: str
    name: str
    phone: str
    note: str = ""


def handout_language(preferred: str, asked: str | None = None) -> str:
    """The language asked for, else the patient's preferred one; English otherwise."""
    for language in (asked, preferred):
        if language in TEXTS:
            return language
    return "en"


def staff_phone(user: User | None, phones: dict[int, str], clinic_phone: str) -> str:
    if user is None:
        return ""
    return phones.get(user.id) or clinic_phone


def handout_context(episode: Episode, *, language: str, on: date) -> dict[str, object]:
    """What the handout prints: the patient's first name, the team with phone numbers."""
    text = TEXTS[language]
    clinic = episode.clinic
    team_users = [episode.referring_pcp, episode.care_manager, episode.psychiatric_consultant]
    phones = dict(
        StaffContact.objects.filter(user__in=[u for u in team_users if u]).values_list(
            "user_id", "phone"
        )
    )
    members = []
    for key, user in zip(("pcp", "care_manager", "consultant"), team_users, strict=True):
        members.append(
            TeamMember(
                role=text[key],
                name=str(user) if user else text["not_assigned"],
                phone=staff_phone(user, phones, clinic.phone),
                note=text["consultant_note"] if key == "consultant" else "",
            )
        )
    care_manager = members[1]
    return {
        "t": text,
        "language": language,
        "first_name": episode.patient.given_name,
        "family_name": episode.patient.family_name,
        "clinic": clinic,
        "members": members,
        "reach": text["reach"].format(
            name=care_manager.name, phone=care_manager.phone or clinic.phone
        ),
        "crisis_clinic": text["crisis_clinic"].format(clinic=clinic.name, phone=clinic.phone),
        "printed": text["printed"].format(on=on.isoformat()),
    }


def handout_pdf(episode: Episode, *, language: str, on: date) -> bytes:
    """The handout as a PDF (WeasyPrint renders the same template a browser would)."""
    from weasyprint import CSS, HTML  # imported here: it loads Pango when first used

    html = render_to_string(
        "toolkit/handout.html", handout_context(episode, language=language, on=on)
    )
    stylesheet = finders.find("cocm/handout.css")
    return HTML(string=html).write_pdf(stylesheets=[CSS(filename=stylesheet)])
