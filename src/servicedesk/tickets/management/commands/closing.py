"""``servicedesk closing sweep``: remind the customers of resolved tickets and close the
unanswered ones now, as the scheduled ``closing-sweep`` job does (safe to run twice)."""

from django.conf import settings
from django.core.management.base import BaseCommand

from servicedesk.tickets import closing_services
from servicedesk.tickets.references import format_reference


class Command(BaseCommand):
    help = "Closing resolved tickets: run one sweep (reminders, then automatic closing)."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("sweep", help="send the reminders and closings that are due, once each")

    def handle(self, *args, action: str, **options):
        result = closing_services.sweep_closing()
        prefix = settings.SERVICEDESK_TICKET_PREFIX
        for number, reminder in result.reminded:
            self.stdout.write(f"{format_reference(number, prefix)}: reminder {reminder}")
        for number in result.closed:
            self.stdout.write(f"{format_reference(number, prefix)}: closed")
        self.stdout.write(f"{len(result.reminded)} reminded, {len(result.closed)} closed.")
