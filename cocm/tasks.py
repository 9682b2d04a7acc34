"""The product's periodic background work as a django-tasks task (database backend): the
`cocm worker` command enqueues it every interval and runs the queue."""

from django.utils import timezone
from django_tasks import task

from cocm.accounts.audit import seal_pending
from cocm.accounts.models import Organization
from cocm.care.caseload import refresh_stale
from cocm.interop.export import remove_expired
from cocm.measures.services import send_due_schedules, send_reminders


@task()
def background_pass() -> str:
    """Scheduled self-report links, reminders, stale caseload rows, expired export files,
    and the audit seal (the events appended since the last pass joined to their chains)."""
    now = timezone.now()
    sent = send_due_schedules(now)
    reminded = send_reminders(now)
    refreshed = sum(map(refresh_stale, Organization.objects.all()))
    expired = remove_expired(now)
    sealed = seal_pending()
    return (
        f"{now:%Y-%m-%d %H:%M} sent {sent} scheduled link(s), {reminded} reminder(s), "
        f"refreshed {refreshed} caseload row(s), removed {expired} expired export(s), "
        f"sealed {sealed} audit event(s)"
    )
