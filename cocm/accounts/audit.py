"""Recording access to patient data in the audit log."""

from django.http import HttpRequest

from cocm.accounts.models import AuditEvent, User


def record_access(
    request: HttpRequest,
    action: str,
    what: str,
    *,
    patient_id: int | None,
    object_id: int | None = None,
    channel: str = "web",
    user: User | None = None,
) -> None:
    """Append one audit event: who, when, which patient, what action, from where.

    A patient answering a self-report link has no account: the event has no user and the
    channel says "patient".
    """
    if user is None and request.user.is_authenticated:
        user = request.user
    AuditEvent.objects.create(
        user=user,
        patient_id=patient_id,
        action=action,
        what=what,
        object_id=object_id,
        channel=channel,
        remote_addr=request.META.get("REMOTE_ADDR") or None,
    )
