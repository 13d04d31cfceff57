"""``servicedesk search reindex``: rebuild the full-text index of every ticket."""

import time

from django.core.management.base import BaseCommand

from servicedesk.search import index


class Command(BaseCommand):
    help = "The full-text index of tickets: rebuild it from the tickets and their threads."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        reindex = sub.add_parser(
            "reindex",
            help="re-index every ticket in batches (after an upgrade or a load that skipped it)",
        )
        reindex.add_argument(
            "--batch", type=int, default=index.BATCH, help="tickets per transaction"
        )

    def handle(self, *args, action: str, batch: int, **options):
        started = time.perf_counter()
        count = index.rebuild(
            batch=max(batch, 1),
            progress=lambda done: self.stderr.write(f"\r{done:,} tickets", ending=""),
        )
        self.stderr.write("")
        self.stdout.write(f"{count:,} tickets indexed in {time.perf_counter() - started:.1f} s.")
