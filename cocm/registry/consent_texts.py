"""What the clinician says when introducing collaborative care, and the printable consent
form, in English and Spanish.

Adapted from the provider script and consent documentation of the APA/AIMS Center CoCM
Practice and Billing Toolkit; the two statements Medicare requires (cost sharing;
consultation with a psychiatric consultant) follow CMS-1654-F p.278 (cocm-rules.md 1.5).
"""

from dataclasses import dataclass

LANGUAGES = ("en", "es")


@dataclass(frozen=True)
class ConsentText:
    language: str
    script_title: str
    script: tuple[str, ...]
    form_title: str
    form_intro: str
    statements: tuple[str, ...]  # what the patient agrees to, one checkbox each
    cost_sharing: str
    consultation: str
    revocation: str
    patient_label: str
    birth_date_label: str
    clinic_label: str
    care_manager_label: str
    consultant_label: str
    signature_label: str
    guardian_label: str
    date_label: str
    witness_label: str


TEXTS = {
    "en": ConsentText(
        language="en",
        script_title="Introducing collaborative care (say this to the patient)",
        script=(
            "I'd like you to meet our behavioral health care manager, who works with me here "
            "in the clinic. Together we will help you feel better.",
            "The care manager will check in with you regularly, often by phone, ask you a few "
            "short questions to see how you are doing, and help you with a treatment plan.",
            "Our team also works with a psychiatric consultant, a specialist who reviews your "
            "care with us every week and gives us advice. You may not meet the consultant in "
            "person.",
            "This program is billed to your insurance each month you take part, so a copay or "
            "coinsurance may apply, as with other visits.",
            "You can stop at any time by telling any of us. Do you agree to take part?",
        ),
        form_title="Consent to collaborative care",
        form_intro=(
            "Collaborative care is a team approach to treating depression, anxiety and other "
            "conditions here in primary care. Your primary care provider, a behavioral health "
            "care manager and a psychiatric consultant work together on your care."
        ),
        statements=("I agree to receive collaborative care services from this clinic.",),
        cost_sharing=(
            "I understand that these services are billed to my insurance each month and that "
            "cost sharing (a copay, coinsurance or deductible) may apply."
        ),
        consultation=(
            "I agree that my care team may consult a psychiatric consultant and other "
            "specialists about my care, even if I do not meet them in person."
        ),
        revocation=(
            "I may stop collaborative care at any time by telling my care team. Stopping does "
            "not affect my other care at this clinic."
        ),
        patient_label="Patient",
        birth_date_label="Date of birth",
        clinic_label="Clinic",
        care_manager_label="Care manager",
        consultant_label="Psychiatric consultant",
        signature_label="Signature of patient",
        guardian_label="Signature of parent or legal guardian (patients under 18)",
        date_label="Date",
        witness_label="Consent obtained by",
    ),
    "es": ConsentText(
        language="es",
        script_title="Presentación de la atención colaborativa (dígale esto al paciente)",
        script=(
            "Me gustaría presentarle a nuestro administrador de atención de salud conductual, "
            "que trabaja conmigo aquí en la clínica. Juntos le ayudaremos a sentirse mejor.",
            "El administrador de atención se comunicará con usted con regularidad, a menudo "
            "por teléfono, le hará unas preguntas breves para ver cómo está y le ayudará con "
            "un plan de tratamiento.",
            "Nuestro equipo también trabaja con un consultor psiquiátrico, un especialista que "
            "revisa su atención con nosotros cada semana y nos aconseja. Es posible que usted "
            "no conozca al consultor en persona.",
            "Este programa se factura a su seguro cada mes que participe, por lo que puede "
            "aplicarse un copago o coseguro, como en otras consultas.",
            "Puede dejar el programa en cualquier momento diciéndoselo a cualquiera de "
            "nosotros. ¿Está de acuerdo en participar?",
        ),
        form_title="Consentimiento para la atención colaborativa",
        form_intro=(
            "La atención colaborativa es un enfoque de equipo para tratar la depresión, la "
            "ansiedad y otras condiciones aquí en atención primaria. Su proveedor de atención "
            "primaria, un administrador de atención de salud conductual y un consultor "
            "psiquiátrico trabajan juntos en su atención."
        ),
        statements=("Acepto recibir servicios de atención colaborativa de esta clínica.",),
        cost_sharing=(
            "Entiendo que estos servicios se facturan a mi seguro cada mes y que puede "
            "aplicarse un costo compartido (copago, coseguro o deducible)."
        ),
        consultation=(
            "Acepto que mi equipo de atención consulte a un consultor psiquiátrico y a otros "
            "especialistas sobre mi atención, aunque no los conozca en persona."
        ),
        revocation=(
            "Puedo dejar la atención colaborativa en cualquier momento avisando a mi equipo de "
            "atención. Dejarla no afecta mi otra atención en esta clínica."
        ),
        patient_label="Paciente",
        birth_date_label="Fecha de nacimiento",
        clinic_label="Clínica",
        care_manager_label="Administrador de atención",
        consultant_label="Consultor psiquiátrico",
        signature_label="Firma del paciente",
        guardian_label="Firma del padre, madre o tutor legal (pacientes menores de 18 años)",
        date_label="Fecha",
        witness_label="Consentimiento obtenido por",
    ),
}


def consent_text(language: str) -> ConsentText:
    """The texts in the patient's language; English when it is neither English nor Spanish."""
    return TEXTS.get(language, TEXTS["en"])
