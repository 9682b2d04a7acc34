import os
import time

from django.core.management.base import BaseCommand
from django.db import transaction
from django_tasks import TaskResultStatus
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult

from cocm.tasks import background_pass


def drain(worker: Worker) -> None:
    """Run every ready task, each claimed in its own transaction (the library's own loop
    opens BEGIN EXCLUSIVE on SQLite; our connections already begin IMMEDIATE, which takes
    the same write lock)."""
    while True:
        with transaction.atomic():
            ready = DBTaskResult.objects.ready().filter(backend_name="default")
            task_result = ready.get_locked()
            if task_result is None:
                return
            task_result.claim(worker.worker_id)
        worker.run_task(task_result)


class Command(BaseCommand):
    help = (
        "Background work on django-tasks (database backend): every interval it enqueues the "
        "periodic pass (scheduled self-report links, reminders, stale caseload rows, expired "
        "exports) and runs every queued task (bulk exports, …), each with its status stored."
    )

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("--once", action="store_true", help="run one pass and exit")
        parser.add_argument("--interval", type=int, default=300, help="seconds between passes")

    def handle(self, *args, once: bool, interval: int, **options):  # type: ignore[no-untyped-def]
        worker = Worker(
            queue_names=["*"],
            interval=0,
            batch=True,
            backend_name="default",
            startup_delay=False,
            max_tasks=None,
            worker_id=f"cocm-worker-{os.getpid()}",
        )
        next_pass = 0.0
        while True:
            if time.monotonic() >= next_pass:
                result = background_pass.enqueue()
                next_pass = time.monotonic() + interval
            drain(worker)  # every task that is ready, then back here
            self.report(result.id)
            if once:
                return
            time.sleep(1)

    def report(self, result_id: str) -> None:
        result = DBTaskResult.objects.filter(id=result_id).first()
        if result is None:
            return
        if result.status == TaskResultStatus.SUCCESSFUL and result.return_value:
            self.stdout.write(str(result.return_value))
        elif result.status == TaskResultStatus.FAILED:
            self.stderr.write(f"The background pass failed: {result.exception_class_path}")
