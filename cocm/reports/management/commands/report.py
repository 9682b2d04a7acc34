"""`cocm report quality …` and `cocm report program …`: one command, a subcommand per report."""

from importlib import import_module
from importlib.util import find_spec
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

# Each subcommand lives beside its report: a module with add_arguments(parser) and
# run(command, **options).
SUBCOMMANDS = {
    "quality": "cocm.reports.quality_command",
    "program": "cocm.reports.program_command",
}


class Command(BaseCommand):
    help = "Quality measures and the monthly program report."

    def add_arguments(self, parser: CommandParser) -> None:
        subcommands = parser.add_subparsers(dest="report", required=True)
        for name, module in SUBCOMMANDS.items():
            if find_spec(module) is None:  # a report not built yet is not offered
                continue
            import_module(module).add_arguments(subcommands.add_parser(name))

    def handle(self, *args: Any, **options: Any) -> None:
        import_module(SUBCOMMANDS[options["report"]]).run(self, **options)
