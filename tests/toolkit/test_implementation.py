"""The implementation checklist per clinic, seeded from the organization's template."""

from datetime import date

import pytest
from django.urls import reverse

from cocm.accounts.models import Role
from cocm.toolkit import implementation
from cocm.toolkit.models import ChecklistTask, ChecklistTemplateTask
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, clinic):
    client.force_login(factories.user(Role.ORG_ADMIN, clinic, username="admin"))
    return client


def test_a_clinic_checklist_is_seeded_from_the_edited_template(admin_client, clinic):
    admin_client.post(
        reverse("implementation_template"),
        {"phase": "launch", "title": "Announce the program to patients"},
    )
    first = ChecklistTemplateTask.objects.get(
        title="Name a clinical and an administrative champion"
    )
    admin_client.post(reverse("delete_template_task", args=[first.id]))

    admin_client.post(reverse("clinic_checklist") + f"?clinic={clinic.id}")

    titles = list(ChecklistTask.objects.filter(clinic=clinic).values_list("title", flat=True))
    assert len(titles) == 18  # 18 default tasks, one removed, one added
    assert "Announce the program to patients" in titles
    assert "Name a clinical and an administrative champion" not in titles
    page = admin_client.get(reverse("clinic_checklist") + f"?clinic={clinic.id}").content.decode()
    assert "Implementation checklist: Riverside Family Medicine" in page
    assert "5. Monitor and sustain — 0% ready (0 of 5)" in page
    assert 'href="/caseload/">live view</a>' in page
    assert 'href="/reports/">live view</a>' in page  # the program indicators
    assert 'href="/reports/quality/">live view</a>' in page


def test_tasks_have_owners_due_dates_and_status_and_readiness_follows(admin_client, clinic):
    implementation.start_checklist(clinic)
    care_manager = factories.user(Role.CARE_MANAGER, clinic, username="carla")
    tasks = list(ChecklistTask.objects.filter(clinic=clinic, phase="lay_the_foundation"))

    for task, status in zip(tasks, ["done", "done", "not_applicable"], strict=True):
        prefix = f"t{task.id}"
        admin_client.post(
            reverse("update_checklist_task", args=[task.id]),
            {
                f"{prefix}-owner": care_manager.id,
                f"{prefix}-due_on": "2026-12-15",
                f"{prefix}-status": status,
            },
        )

    tasks[0].refresh_from_db()
    assert (tasks[0].owner, tasks[0].due_on, tasks[0].status) == (
        care_manager,
        date(2026, 12, 15),
        "done",
    )
    overview = admin_client.get(reverse("implementation")).content.decode()
    assert "<td>100% <small>(2/2)</small></td>" in overview
    assert "<td>0% <small>(0/4)</small></td>" in overview


def test_an_owner_outside_the_clinic_is_refused_naming_the_field(clinic):
    implementation.start_checklist(clinic)
    task = ChecklistTask.objects.filter(clinic=clinic).first()
    stranger = factories.user(Role.CARE_MANAGER, factories.clinic(clinic.organization))

    with pytest.raises(implementation.InvalidRequest) as error:
        implementation.update_task(task, owner=stranger, due_on=None, status="done")

    assert error.value.field == "owner"
    task.refresh_from_db()
    assert task.status == "not_started"


def test_a_checklist_starts_once(clinic):
    implementation.start_checklist(clinic)

    with pytest.raises(implementation.InvalidRequest) as error:
        implementation.start_checklist(clinic)

    assert error.value.field == "clinic"


def test_a_care_manager_sees_the_checklist_but_cannot_change_it(client, clinic):
    implementation.start_checklist(clinic)
    client.force_login(factories.user(Role.CARE_MANAGER, clinic))
    task = ChecklistTask.objects.filter(clinic=clinic).first()

    page = client.get(reverse("clinic_checklist") + f"?clinic={clinic.id}").content.decode()
    refused = client.post(reverse("update_checklist_task", args=[task.id]), {})

    assert "Name a clinical and an administrative champion" in page
    assert '<button type="submit">Save</button>' not in page
    assert refused.status_code == 403
