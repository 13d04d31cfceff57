"""``servicedesk worker``: run background tasks with the configured backend's worker, and the
relay that sends the outbox and webhook deliveries (``ops/relay.py``) beside it."""

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from servicedesk.ops import relay


class Command(BaseCommand):
    help = "Run background tasks until stopped (--batch: until the queue is empty)."

    def add_arguments(self, parser):
        parser.add_argument("--batch", action="store_true", help="drain the queue and exit")

    def handle(self, *args, batch: bool, **options):
        if batch:
            self._run_tasks(batch=True)
            relay.run_once()  # what the tasks queued, and whatever else is due
            return
        thread, stop = relay.start()
        try:
            self._run_tasks(batch=False)
        finally:
            stop.set()
            thread.join(timeout=10)

    def _run_tasks(self, *, batch: bool) -> None:
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
