"""`cocm import fhir FILE|DIR` and `cocm import caseload FILE`: one command, a subcommand
per kind of file (API_CONTRACT.md "More commands")."""

from importlib import import_module
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

# Each subcommand: a module with add_arguments(parser) and run(command, **options).
SUBCOMMANDS = {
    "fhir": "cocm.interop.fhir_command",
    "caseload": "cocm.interop.caseload_command",
}
# `cocm import status [KEY]`: the background imports (add_status_arguments, run_status).
STATUS = "cocm.interop.fhir_command"


class Command(BaseCommand):
    help = "Import FHIR R4 bundles or an existing caseload tracker."

    def add_arguments(self, parser: CommandParser) -> None:
        subcommands = parser.add_subparsers(dest="kind", required=True)
        for name, module in SUBCOMMANDS.items():
            import_module(module).add_arguments(subcommands.add_parser(name))
        status = import_module(STATUS)
        status.add_status_arguments(subcommands.add_parser("status", help="background imports"))

    def handle(self, *args: Any, **options: Any) -> None:
        if options["kind"] == "status":
            import_module(STATUS).run_status(self, **options)
            return
        import_module(SUBCOMMANDS[options["kind"]]).run(self, **options)
