import os
import sys

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Serve the product: Django's development server, or gunicorn with --production."

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument(
            "--production",
            action="store_true",
            help="gunicorn workers, static files by whitenoise, secure settings",
        )
        parser.add_argument("--bind", default="127.0.0.1:8000")
        parser.add_argument("--workers", type=int, default=int(os.environ.get("COCM_WORKERS", 3)))

    def handle(self, *args, production: bool, bind: str, workers: int, **options):  # type: ignore[no-untyped-def]
        if not production:
            call_command("runserver", bind, use_reloader=False)
            return
        if not settings.PRODUCTION:
            raise CommandError("Production mode was not selected; run `cocm serve --production`.")
        call_command("check", deploy=True, fail_level="WARNING")
        call_command("collectstatic", interactive=False, verbosity=0)
        os.execv(  # noqa: S606 - replaces this process with the server
            sys.executable,
            [
                sys.executable,
                "-m",
                "gunicorn",
                "cocm.wsgi:application",
                "--bind",
                bind,
                "--workers",
                str(workers),
                "--access-logfile",
                "-",
                "--access-logformat",
                '%(h)s "%(m)s %(U)s" %(s)s %(b)s %(M)sms',
            ],
        )
