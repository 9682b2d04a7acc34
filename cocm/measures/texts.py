"""Patient-facing wording in English and Spanish (self-report links and crisis resources).

Nothing here names a condition, a score or a program: a message may be read by someone
other than the patient.
"""

from datetime import date

SUBJECT = {
    "en": "A short questionnaire from your care team",
    "es": "Un cuestionario breve de su equipo de atención",
}

INVITATION = {
    "en": (
        "Hello {first_name}, your care team at {clinic} asks you to answer a short "
        "questionnaire: {link}\nThe link works once and until {expires}."
    ),
    "es": (
        "Hola {first_name}, su equipo de atención en {clinic} le pide que conteste un "
        "cuestionario breve: {link}\nEl enlace funciona una sola vez y hasta el {expires}."
    ),
}
REMINDER = {"en": "Reminder: ", "es": "Recordatorio: "}

PAGE = {
    "en": {
        "title": "Questionnaire",
        "hello": "Hello {first_name},",
        "intro": "Please answer every question. It takes about 3 minutes.",
        "submit": "Send my answers",
        "thanks": "Thank you. Your answers were sent to your care team.",
        "expired": "This link has expired or was already used. Please contact your clinic "
        "for a new one.",
        "missing": "Please answer this question.",
        "unanswered": "Some questions are not answered yet.",
        "crisis_title": "If you are thinking about hurting yourself, help is available now",
        "crisis_988": "Call or text 988 (Suicide & Crisis Lifeline), any time, day or night.",
        "crisis_911": "In an emergency call 911 or go to the nearest emergency department.",
        "crisis_clinic": "Your clinic, {clinic}: {phone}",
        "crisis_team": "Your care team has been told and will contact you.",
        "too_many": "Too many attempts. Please wait a minute and try again.",
    },
    "es": {
        "title": "Cuestionario",
        "hello": "Hola {first_name}:",
        "intro": "Por favor conteste todas las preguntas. Toma unos 3 minutos.",
        "submit": "Enviar mis respuestas",
        "thanks": "Gracias. Sus respuestas fueron enviadas a su equipo de atención.",
        "expired": "Este enlace venció o ya fue usado. Comuníquese con su clínica para "
        "recibir uno nuevo.",
        "missing": "Por favor conteste esta pregunta.",
        "unanswered": "Faltan preguntas por contestar.",
        "crisis_title": "Si está pensando en hacerse daño, hay ayuda disponible ahora",
        "crisis_988": "Llame o envíe un texto al 988 (Línea de Prevención del Suicidio y "
        "Crisis), a cualquier hora, de día o de noche. Oprima 2 para español.",
        "crisis_911": "En una emergencia llame al 911 o vaya a la sala de emergencias más cercana.",
        "crisis_clinic": "Su clínica, {clinic}: {phone}",
        "crisis_team": "Su equipo de atención ha sido avisado y se comunicará con usted.",
        "too_many": "Demasiados intentos. Espere un minuto y vuelva a intentarlo.",
    },
}


def language(code: str) -> str:
    return code if code in PAGE else "en"


def invitation_subject(lang: str) -> str:
    return SUBJECT[language(lang)]


def invitation_message(
    lang: str, *, first_name: str, clinic: str, link: str, expires: date, reminder: bool
) -> str:
    lang = language(lang)
    text = INVITATION[lang].format(
        first_name=first_name, clinic=clinic, link=link, expires=expires.isoformat()
    )
    return REMINDER[lang] + text if reminder else text
