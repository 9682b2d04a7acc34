"""The implementation checklist: the AIMS Center's five phases of implementing collaborative
care, a starting template of tasks, and readiness per phase.

Source: AIMS Center, University of Washington, "Collaborative Care Implementation Guide":
1 lay the foundation, 2 plan for clinical practice change, 3 build the clinical skills,
4 launch, 5 monitor and sustain. The tasks are the guide's steps, shortened; an organization
edits its own template. Pure: no framework, no clock.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from fractions import Fraction


class Phase(StrEnum):
    LAY_THE_FOUNDATION = "lay_the_foundation"
    PLAN_FOR_PRACTICE_CHANGE = "plan_for_practice_change"
    BUILD_CLINICAL_SKILLS = "build_clinical_skills"
    LAUNCH = "launch"
    MONITOR_AND_SUSTAIN = "monitor_and_sustain"

    @property
    def label(self) -> str:
        return PHASE_LABELS[self]


PHASE_LABELS = {
    Phase.LAY_THE_FOUNDATION: "1. Lay the foundation",
    Phase.PLAN_FOR_PRACTICE_CHANGE: "2. Plan for clinical practice change",
    Phase.BUILD_CLINICAL_SKILLS: "3. Build the clinical skills",
    Phase.LAUNCH: "4. Launch",
    Phase.MONITOR_AND_SUSTAIN: "5. Monitor and sustain",
}


class TaskStatus(StrEnum):
    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    NOT_APPLICABLE = "not_applicable"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


@dataclass(frozen=True)
class TemplateTask:
    phase: Phase
    title: str
    # The live view a monitor-and-sustain task is checked against (a page name), if any.
    indicator: str = ""


DEFAULT_TEMPLATE: tuple[TemplateTask, ...] = (
    TemplateTask(Phase.LAY_THE_FOUNDATION, "Name a clinical and an administrative champion"),
    TemplateTask(Phase.LAY_THE_FOUNDATION, "Agree the target population and the measures"),
    TemplateTask(Phase.LAY_THE_FOUNDATION, "Build the financial plan (billing codes, staffing)"),
    TemplateTask(Phase.PLAN_FOR_PRACTICE_CHANGE, "Define team roles and the workflow"),
    TemplateTask(Phase.PLAN_FOR_PRACTICE_CHANGE, "Hire or assign the care manager"),
    TemplateTask(Phase.PLAN_FOR_PRACTICE_CHANGE, "Contract the psychiatric consultant"),
    TemplateTask(Phase.PLAN_FOR_PRACTICE_CHANGE, "Set up the registry and the consent workflow"),
    TemplateTask(
        Phase.BUILD_CLINICAL_SKILLS, "Train the care manager (AIMS care manager training)"
    ),
    TemplateTask(Phase.BUILD_CLINICAL_SKILLS, "Train PCPs and staff in the workflow"),
    TemplateTask(Phase.BUILD_CLINICAL_SKILLS, "Practise the weekly caseload review"),
    TemplateTask(Phase.LAUNCH, "Start screening and enrolling patients"),
    TemplateTask(Phase.LAUNCH, "Hold the first weekly caseload review"),
    TemplateTask(Phase.LAUNCH, "Bill the first month of CoCM codes"),
    TemplateTask(Phase.MONITOR_AND_SUSTAIN, "Review the caseload tracker every week", "caseload"),
    TemplateTask(Phase.MONITOR_AND_SUSTAIN, "Review the monthly billing worklist", "billing_home"),
    TemplateTask(Phase.MONITOR_AND_SUSTAIN, "Survey patients and staff", "survey_results"),
    TemplateTask(
        Phase.MONITOR_AND_SUSTAIN,
        "Review the program indicators every month",
        "program_dashboard",
    ),
    TemplateTask(
        Phase.MONITOR_AND_SUSTAIN, "Review the quality measures every quarter", "quality_measures"
    ),
)


@dataclass(frozen=True)
class Readiness:
    done: int
    applicable: int  # tasks not marked not applicable

    @property
    def share(self) -> Fraction | None:
        return Fraction(self.done, self.applicable) if self.applicable else None


def readiness(tasks: Iterable[tuple[Phase, TaskStatus]]) -> dict[Phase, Readiness]:
    """Per phase: tasks done out of those that apply (AIMS guide phases)."""
    done = dict.fromkeys(Phase, 0)
    applicable = dict.fromkeys(Phase, 0)
    for phase, status in tasks:
        if status is TaskStatus.NOT_APPLICABLE:
            continue
        applicable[phase] += 1
        done[phase] += status is TaskStatus.DONE
    return {phase: Readiness(done[phase], applicable[phase]) for phase in Phase}
