"""``servicedesk worker``: run background tasks with the configured backend's worker."""

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Run background tasks until stopped (--batch: until the queue is empty)."

    def add_arguments(self, parser):
        parser.add_argument("--batch", action="store_true", help="drain the queue and exit")

    def handle(self, *args, batch: bool, **options):
        backend = settings.SERVICEDESK_TASKS_BACKEND
        if backend == "database":
            call_command(
                "db_worker",
                queue_name="*",
                batch=batch,
                reload=False,
                startup_delay=not batch,
                interval=1,
            )
        elif backend == "rq":
            # django-tasks-rq jobs need its own job class to run and report their results.
            call_command(
                "rqworker",
                "default",
                burst=batch,
                with_scheduler=not batch,
                job_class="django_tasks_rq.backend.Job",
            )
        else:
            raise CommandError(
                "The immediate backend runs tasks in the web process; no worker is needed."
            )
