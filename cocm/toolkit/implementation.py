"""Implementation checklist use cases: the organization's template (seeded from the AIMS
phases), each clinic's tasks seeded from it, task updates, readiness per phase."""

from dataclasses import dataclass
from datetime import date

from django.db.models import QuerySet

from cocm.accounts.models import Clinic, Organization, User
from cocm.domain import implementation as rules
from cocm.errors import InvalidRequest
from cocm.toolkit.models import ChecklistTask, ChecklistTemplateTask


def template(organization: Organization) -> QuerySet[ChecklistTemplateTask]:
    """The organization's template; the AIMS default the first time it is asked for."""
    tasks = ChecklistTemplateTask.objects.filter(organization=organization)
    if not tasks.exists():
        ChecklistTemplateTask.objects.bulk_create(
            ChecklistTemplateTask(
                organization=organization,
                phase=task.phase,
                title=task.title,
                indicator=task.indicator,
                position=position,
            )
            for position, task in enumerate(rules.DEFAULT_TEMPLATE)
        )
    return tasks.order_by("position", "id")


def check_title(title: str) -> str:
    title = title.strip()
    if not title:
        raise InvalidRequest("Give the task a title.", "title")
    return title


def add_template_task(organization: Organization, phase: str, title: str) -> ChecklistTemplateTask:
    if phase not in rules.Phase.__members__.values():
        raise InvalidRequest("Choose one of the five phases.", "phase")
    last = template(organization).last()
    return ChecklistTemplateTask.objects.create(
        organization=organization,
        phase=phase,
        title=check_title(title),
        position=(last.position + 1) if last else 0,
    )


def remove_template_task(task: ChecklistTemplateTask) -> None:
    """Take a task off the organization's template (clinics' checklists keep theirs)."""
    task.delete()


def start_checklist(clinic: Clinic) -> list[ChecklistTask]:
    """Copy the organization's template into the clinic's checklist (once)."""
    if clinic.checklist.exists():
        raise InvalidRequest(f"{clinic.name} already has a checklist.", "clinic")
    return ChecklistTask.objects.bulk_create(
        ChecklistTask(
            clinic=clinic,
            phase=task.phase,
            title=task.title,
            indicator=task.indicator,
            position=task.position,
        )
        for task in template(clinic.organization)
    )


def update_task(
    task: ChecklistTask, *, owner: User | None, due_on: date | None, status: str
) -> None:
    """Owner (a member of the clinic), due date and status of a task."""
    if status not in rules.TaskStatus.__members__.values():
        raise InvalidRequest("Choose a status.", "status")
    if owner is not None and not owner.memberships.filter(clinic=task.clinic).exists():
        raise InvalidRequest(f"{owner} is not a member of {task.clinic.name}.", "owner")
    if due_on is not None and not date(2000, 1, 1) <= due_on <= date(2100, 12, 31):
        raise InvalidRequest("Give a due date between 2000 and 2100.", "due_on")
    task.owner, task.due_on, task.status = owner, due_on, status
    task.save(update_fields=["owner", "due_on", "status", "updated_at"])


@dataclass(frozen=True)
class PhaseRow:
    phase: rules.Phase
    readiness: rules.Readiness
    tasks: list[ChecklistTask]

    @property
    def percent(self) -> str:
        share = self.readiness.share
        return "—" if share is None else f"{float(share) * 100:.0f}%"


def phases(clinic: Clinic) -> list[PhaseRow]:
    tasks = list(clinic.checklist.select_related("owner"))
    ready = rules.readiness(
        (rules.Phase(task.phase), rules.TaskStatus(task.status)) for task in tasks
    )
    return [
        PhaseRow(phase, ready[phase], [task for task in tasks if task.phase == phase])
        for phase in rules.Phase
    ]
