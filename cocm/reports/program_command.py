"""`cocm report program --month YYYY-MM --output report.pdf`: the monthly program report."""

from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from cocm.accounts.audit import record_event
from cocm.accounts.models import Role, User
from cocm.accounts.permissions import can
from cocm.errors import InvalidRequest
from cocm.reports import program
from cocm.reports.pdf import program_pdf


def add_arguments(parser: ArgumentParser) -> None:
    parser.add_argument("--month", required=True, help="the month reported, YYYY-MM")
    parser.add_argument("--output", required=True, help="the PDF file to write")
    parser.add_argument(
        "--user",
        help="whose clinics the report covers (a program lead: psychiatric consultant or "
        "organization admin); default the first organization admin",
    )


def reporting_user(username: str | None) -> User:
    users = User.objects.filter(is_active=True)
    if username:
        user = users.filter(username=username).first()
        if user is None:
            raise CommandError(f"--user: no active user {username!r}.")
    else:
        user = users.filter(memberships__role=Role.ORG_ADMIN).order_by("id").first()
        if user is None:
            raise CommandError("--user: no organization admin exists; name a user.")
    if not can(user, "view_program_indicators") or user.organization is None:
        raise CommandError(f"--user: {user.username} may not see program indicators.")
    return user


def run(command: BaseCommand, **options: Any) -> None:
    user = reporting_user(options.get("user"))
    today = user.organization.today()
    try:
        filters = program.month_filters(user, options["month"], today=today)
    except InvalidRequest as error:
        raise CommandError(f"--{error.field}: {error.message}") from None
    output = Path(options["output"])
    if not output.parent.exists():
        raise CommandError(f"--output: the folder {output.parent} does not exist.")
    content = program_pdf(user, filters, today=today)
    output.write_bytes(content)
    record_event("export", f"program report {options['month']} pdf", user=user)
    command.stdout.write(f"Wrote {output} ({len(content):,} bytes) for {filters.level}.")
