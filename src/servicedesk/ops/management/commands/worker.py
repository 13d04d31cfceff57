"""``servicedesk worker``: run background tasks (the database backend's worker)."""

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Run background tasks until stopped (--batch: until the queue is empty)."

    def add_arguments(self, parser):
        parser.add_argument("--batch", action="store_true", help="drain the queue and exit")

    def handle(self, *args, batch: bool, **options):
        if settings.SERVICEDESK_TASKS_BACKEND == "rq":
            raise CommandError(
                "With the RQ backend, run RQ's own worker: rq worker -u $REDIS_URL default"
            )
        if settings.SERVICEDESK_TASKS_BACKEND != "database":
            raise CommandError(
                "The immediate backend runs tasks in the web process; no worker is needed."
            )
        call_command(
            "db_worker",
            queue_name="*",
            batch=batch,
            reload=False,
            startup_delay=not batch,
            interval=1,
        )
