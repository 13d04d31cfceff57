"""``servicedesk ticket status NUMBER STATUS --by EMAIL [--reason TEXT]``: move a ticket from
the command line, through the same service and rules as every other way in."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from servicedesk.accounts.models import User
from servicedesk.core.errors import DomainError
from servicedesk.tickets import selectors, services
from servicedesk.tickets.references import parse_reference


class Command(BaseCommand):
    help = "Change a ticket from the command line (as a named member of staff)."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        status = sub.add_parser("status", help="move a ticket to another status")
        status.add_argument("number", help="the ticket: 10042, SD-10042 or [SD#10042]")
        status.add_argument("status", help="new, open, in_progress, waiting_on_customer, …")
        status.add_argument(
            "--by", required=True, help="email of the member of staff making the move"
        )
        status.add_argument(
            "--reason", default="", help="needed to close unresolved work or re-open"
        )

    def handle(self, *args, number: str, status: str, by: str, reason: str, **options):
        actor = User.objects.filter(email=by.strip().lower(), is_active=True).first()
        if actor is None:
            raise CommandError(f"No active user {by}.")
        prefix = settings.SERVICEDESK_TICKET_PREFIX
        parsed = parse_reference(number, prefix)
        if parsed is None:
            raise CommandError(f"Not a ticket reference: {number!r} (10042 or {prefix}-10042).")
        try:
            ticket = selectors.get_ticket(user=actor, number=parsed)
            ticket = services.change_status(ticket=ticket, to=status, by=actor, reason=reason)
        except DomainError as error:
            raise CommandError(error.localized()) from None
        self.stdout.write(f"{ticket.reference} is now {ticket.get_status_display()}.")
