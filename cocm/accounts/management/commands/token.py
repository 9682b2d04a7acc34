from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from cocm.accounts.models import ApiToken, TokenScope, User


class Command(BaseCommand):
    help = "Create, list or revoke API tokens. Tokens are shown once and stored hashed."

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="print a new token for USERNAME")
        create.add_argument("username")
        create.add_argument("--name", default="")
        create.add_argument(
            "--scope",
            choices=[scope.value for scope in TokenScope],
            default=TokenScope.READ_WRITE,
            help="read: GET requests only; read_write (default): what the user's roles allow",
        )
        listing = sub.add_parser("list", help="list the tokens of USERNAME")
        listing.add_argument("username")
        revoke = sub.add_parser("revoke", help="revoke the token starting with PREFIX")
        revoke.add_argument("prefix")

    def handle(self, *args, action: str, **options):  # type: ignore[no-untyped-def]
        if action == "revoke":
            count = (
                ApiToken.objects.active()
                .filter(prefix=options["prefix"])
                .update(revoked_at=timezone.now())
            )
            if not count:
                raise CommandError(f"No active token starts with {options['prefix']}.")
            self.stdout.write(f"Revoked {count} token(s).")
            return
        user = User.objects.filter(username=options["username"]).first()
        if user is None:
            raise CommandError(f"No user named {options['username']}.")
        if action == "create":
            _, raw = ApiToken.issue(user, options["name"], options["scope"])
            self.stdout.write(raw)
            return
        for token in user.api_tokens.order_by("created_at"):
            state = "revoked" if token.revoked_at else "active"
            self.stdout.write(
                f"{token.prefix}  {token.name or '-'}  {token.scope}  "
                f"{token.created_at:%Y-%m-%d}  {state}"
            )
