"""``servicedesk token create EMAIL [--name N]`` · ``token list [EMAIL]`` · ``token revoke PREFIX``"""

from django.core.management.base import BaseCommand, CommandError

from servicedesk.accounts.models import User
from servicedesk.api import tokens
from servicedesk.api.models import ApiToken
from servicedesk.core.errors import DomainError


class Command(BaseCommand):
    help = "Create, list and revoke API tokens."

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True)
        create = actions.add_parser("create", help="Print a new token for the user EMAIL.")
        create.add_argument("email")
        create.add_argument("--name", default="", help="What the token is for.")
        listing = actions.add_parser("list", help="List tokens (never the tokens themselves).")
        listing.add_argument("email", nargs="?")
        revoke = actions.add_parser("revoke", help="Revoke the token with this prefix.")
        revoke.add_argument("prefix")

    def handle(self, *args, action, **options):
        try:
            getattr(self, f"_{action}")(**options)
        except DomainError as error:
            raise CommandError(error.localized()) from None

    def _create(self, *, email, name, **_):
        user = User.objects.filter(email=email.strip().lower(), is_active=True).first()
        if user is None:
            raise CommandError(f"No active user {email}.")
        _, token = tokens.create_token(user=user, name=name)
        self.stdout.write(token)

    def _list(self, *, email=None, **_):
        rows = ApiToken.objects.select_related("user")
        if email:
            rows = rows.filter(user__email=email.strip().lower())
        for row in rows:
            state = f"revoked {row.revoked_at:%Y-%m-%d %H:%M}" if row.revoked_at else "live"
            used = f"{row.last_used_at:%Y-%m-%d %H:%M}" if row.last_used_at else "never"
            self.stdout.write(
                f"{row.prefix}\t{row.user.email}\t{row.name or '-'}\t"
                f"created {row.created_at:%Y-%m-%d %H:%M}\tused {used}\t{state}"
            )

    def _revoke(self, *, prefix, **_):
        row = tokens.revoke(prefix=prefix.removeprefix(tokens.PREFIX).split("_")[0])
        self.stdout.write(f"Revoked {row.prefix} ({row.user.email}).")
