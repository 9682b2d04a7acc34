import json
import sys
from datetime import date
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from cocm.accounts.models import Organization
from cocm.errors import InvalidRequest
from cocm.finance import export, services
from cocm.finance.calibration import DEFAULT_MONTHS, calibrate


class Command(BaseCommand):
    help = (
        "The financial model (docs/finance.md): `cocm finance [--set NAME=VALUE ...] "
        "[--calibrate] --format json|xlsx [--output FILE]`, the same model as "
        "GET /api/v1/finance/model."
    )

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument(
            "--set",
            action="append",
            default=[],
            metavar="NAME=VALUE",
            dest="assignments",
            help="an input's value, e.g. --set care_manager_fte=2 --set collection_rate=92%%",
        )
        parser.add_argument(
            "--calibrate", action="store_true", help="fill the inputs from the registry"
        )
        parser.add_argument("--months", type=int, default=DEFAULT_MONTHS)
        parser.add_argument(
            "--organization", help="the organization's name (needed when there are several)"
        )
        parser.add_argument("--as-of", type=date.fromisoformat, help="YYYY-MM-DD (default today)")
        parser.add_argument("--format", choices=("json", "xlsx"), required=True)
        parser.add_argument("--output", type=Path)

    def handle(self, *args, **options):  # type: ignore[no-untyped-def]
        given = {}
        for assignment in options["assignments"]:
            name, sep, value = assignment.partition("=")
            if not sep or not name.strip():
                raise CommandError(f"--set needs NAME=VALUE, got '{assignment}'.")
            given[name.strip()] = value
        organization = self.organization(options["organization"], options["calibrate"])
        as_of = options["as_of"] or (organization.today() if organization else date.today())
        try:
            calibrated = (
                calibrate(organization, as_of=as_of, months=options["months"])
                if options["calibrate"] and organization
                else None
            )
            inputs = services.resolve_inputs(given, as_of=as_of, calibration=calibrated)
            evaluation = services.evaluate(inputs, organization=organization)
        except InvalidRequest as error:
            raise CommandError(f"{error.field}: {error.message}") from error
        if options["format"] == "json":
            text = json.dumps(services.as_json(evaluation), indent=2, ensure_ascii=False) + "\n"
            if options["output"]:
                options["output"].write_text(text, encoding="utf-8")
            else:
                self.stdout.write(text, ending="")
            return
        data = export.as_xlsx(evaluation, title=organization.name if organization else "CoCM")
        if options["output"]:
            options["output"].write_bytes(data)
            self.stdout.write(f"Financial model written to {options['output']}.")
        else:
            sys.stdout.buffer.write(data)

    def organization(self, name: str | None, required: bool) -> Organization | None:
        if name:
            found = Organization.objects.filter(name=name).first()
            if found is None:
                raise CommandError(f"No organization named '{name}'.")
            return found
        organizations = list(Organization.objects.order_by("name")[:2])
        if len(organizations) == 1:
            return organizations[0]
        if required:
            raise CommandError(
                "--calibrate needs --organization NAME"
                + (" (there are several)." if organizations else " (there is none).")
            )
        return None
