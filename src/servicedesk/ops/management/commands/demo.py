"""``servicedesk demo``: migrate, load the demo desk (once) and print its logins;
``--tickets N`` adds N more realistic tickets for benchmarks."""

import time

from django.core.management.base import BaseCommand, CommandError

from servicedesk.ops import demo, maintenance


class Command(BaseCommand):
    help = "Load realistic demo data (safe to run twice) and print the logins."

    def add_arguments(self, parser):
        parser.add_argument(
            "--tickets",
            type=int,
            default=0,
            help="add this many more tickets (spread over two years)",
        )
        parser.add_argument(
            "--seed", type=int, default=7, help="random seed for --tickets (deterministic data)"
        )
        parser.add_argument("--no-migrate", action="store_true", help="skip applying migrations")

    def handle(self, *args, tickets: int, seed: int, no_migrate: bool, **options):
        if tickets < 0:
            raise CommandError("--tickets must be zero or more.")
        if not no_migrate:  # a fresh data dir works before `servicedesk run` ever migrated it
            maintenance.migrate(verbosity=0)
        if demo.load():
            self.stdout.write("Demo desk loaded.")
        else:
            self.stdout.write("Demo desk already loaded; nothing changed.")
        if tickets:
            started = time.perf_counter()
            added = demo.add_tickets(tickets, seed=seed, cycle=False, days=730)
            maintenance.analyze()  # statistics for the planner after a bulk load
            self.stdout.write(f"Added {added:,} tickets in {time.perf_counter() - started:.1f} s.")
        self.stdout.write(f"\nLogins (every password is {demo.PASSWORD!r}):")
        for email, what in demo.logins():
            self.stdout.write(f"  {email:<36} {what}")
