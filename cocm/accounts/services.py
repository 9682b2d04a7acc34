"""Use cases of the accounts app: break-glass access and reading the audit log.

Accounts sits below the apps that hold patient data, so it never imports the registry:
the patient rows come through the grant's relation (`BreakGlassGrant.patient`, declared by
name as Django does across apps). Callers own the transaction.
"""

from collections.abc import Iterator
from datetime import datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone

from cocm.accounts.models import AuditEvent, BreakGlassGrant, Organization, Role, User, staff_name
from cocm.accounts.permissions import can
from cocm.accounts.scoping import visible_patients
from cocm.errors import InvalidRequest


def patients() -> QuerySet[Any]:
    """All registry patients, reached through the break-glass grant's relation."""
    return BreakGlassGrant._meta.get_field("patient").related_model.objects.all()  # type: ignore[union-attr]


def break_glass(user: User, *, mrn: str, reason: str) -> tuple[int, BreakGlassGrant | None]:
    """Emergency access to a patient of the user's organization outside their clinics, for
    a stated reason, for COCM_BREAK_GLASS_HOURS (docs/security.md). Returns the patient's
    id and the grant (None when the user may open the patient already)."""
    patient = patients().filter(organization=user.organization, mrn__iexact=mrn.strip()).first()
    if patient is None:
        raise InvalidRequest("No patient with this MRN in your organization.", "mrn")
    if visible_patients(user, patients()).filter(id=patient.id).exists():
        return patient.id, None
    now = timezone.now()
    grant = BreakGlassGrant.objects.create(
        user=user,
        patient=patient,
        reason=reason,
        granted_at=now,
        expires_at=now + timedelta(hours=settings.COCM_BREAK_GLASS_HOURS),
    )
    return patient.id, grant


def patients_matching(organization: Organization, text: str) -> QuerySet[Any]:
    """Patient ids by MRN, or by name: "Wright", "Rosa Wright", "Wright, Rosa"."""
    words = [w for w in text.replace(",", " ").split() if w]
    by_name = Q()
    for word in words:
        by_name &= Q(family_name__istartswith=word) | Q(given_name__istartswith=word)
    return (
        patients()
        .filter(Q(mrn__iexact=text.strip()) | by_name, organization=organization)
        .values("id")
    )


def patient_labels(user: User, patient_ids: set[int]) -> dict[int, str]:
    """ "Family, Given (MRN)" of the patients the user may open; others stay ids."""
    if not can(user, "view_patient"):
        return {}
    return {
        patient.id: f"{patient} ({patient.mrn})"
        for patient in visible_patients(user, patients()).filter(id__in=patient_ids)
    }


def audit_events(organization: Organization, data: dict[str, Any]) -> QuerySet[AuditEvent]:
    """The organization's events (its users' and its patients'), filtered by the audit
    filter form's cleaned data, newest first."""
    ids = patients().filter(organization=organization).values("id")
    events = AuditEvent.objects.filter(Q(user__organization=organization) | Q(patient_id__in=ids))
    if data.get("user"):
        events = events.filter(user=data["user"])
    if data.get("patient_id"):
        events = events.filter(patient_id=data["patient_id"])
    if data.get("patient"):
        events = events.filter(patient_id__in=patients_matching(organization, data["patient"]))
    if data.get("action"):
        events = events.filter(action=data["action"])
    zone = organization.tz
    if data.get("since"):
        start = datetime.combine(data["since"], time.min, tzinfo=zone)
        events = events.filter(occurred_at__gte=start)
    if data.get("until"):
        end = datetime.combine(data["until"] + timedelta(days=1), time.min, tzinfo=zone)
        events = events.filter(occurred_at__lt=end)
    return events.select_related("user").order_by("-id")


def set_two_factor_roles(organization: Organization, roles: list[str]) -> None:
    """The roles that must sign in with a one-time code (docs/security.md)."""
    organization.two_factor_roles = roles
    organization.save(update_fields=["two_factor_roles"])


# id: the order of appends; chain and sequence: the event's place in its organization's hash
# chain, set by the seal (empty for an event not sealed yet).
AUDIT_HEADINGS = (
    "id",
    "chain",
    "sequence",
    "occurred_at",
    "user",
    "patient_id",
    "action",
    "what",
    "object_id",
    "channel",
    "remote_addr",
    "entry_hash",
)


def audit_rows(events: QuerySet[AuditEvent]) -> Iterator[tuple[object, ...]]:
    """The events as the export's rows (AUDIT_HEADINGS), read in chunks."""
    return (
        (
            event.id,
            event.chain,
            event.sequence,
            event.occurred_at.isoformat(),
            event.user.username if event.user else "",
            event.patient_id,
            event.action,
            event.what,
            event.object_id,
            event.channel,
            event.remote_addr,
            event.entry_hash,
        )
        for event in events.iterator(chunk_size=2000)
    )


def care_manager_choices(user: User) -> list[tuple[str, str]]:
    """(id, name) of the care managers of the user's clinics, by name: a list page's care
    manager filter."""
    return [
        (str(user_id), staff_name(username, first, last, credentials))
        for user_id, username, first, last, credentials in User.objects.filter(
            memberships__role=Role.CARE_MANAGER, memberships__clinic_id__in=user.clinic_ids
        )
        .distinct()
        .order_by("last_name", "first_name")
        .values_list("id", "username", "first_name", "last_name", "credentials")
    ]
