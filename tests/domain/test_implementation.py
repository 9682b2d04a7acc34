from fractions import Fraction

from cocm.domain.implementation import (
    DEFAULT_TEMPLATE,
    Phase,
    Readiness,
    TaskStatus,
    readiness,
)


def test_the_template_covers_the_five_aims_phases_in_order():
    assert [phase.label for phase in Phase] == [
        "1. Lay the foundation",
        "2. Plan for clinical practice change",
        "3. Build the clinical skills",
        "4. Launch",
        "5. Monitor and sustain",
    ]
    assert {task.phase for task in DEFAULT_TEMPLATE} == set(Phase)
    assert all(t.indicator for t in DEFAULT_TEMPLATE if t.phase is Phase.MONITOR_AND_SUSTAIN)


def test_readiness_counts_done_tasks_of_those_that_apply():
    tasks = [
        (Phase.LAY_THE_FOUNDATION, TaskStatus.DONE),
        (Phase.LAY_THE_FOUNDATION, TaskStatus.IN_PROGRESS),
        (Phase.LAY_THE_FOUNDATION, TaskStatus.NOT_APPLICABLE),
        (Phase.LAUNCH, TaskStatus.DONE),
    ]

    result = readiness(tasks)

    assert result[Phase.LAY_THE_FOUNDATION] == Readiness(done=1, applicable=2)
    assert result[Phase.LAY_THE_FOUNDATION].share == Fraction(1, 2)
    assert result[Phase.LAUNCH].share == 1
    assert result[Phase.BUILD_CLINICAL_SKILLS] == Readiness(0, 0)
    assert result[Phase.BUILD_CLINICAL_SKILLS].share is None
