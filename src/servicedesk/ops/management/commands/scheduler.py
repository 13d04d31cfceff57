"""``servicedesk scheduler``: enqueue the jobs of ``schedule.py`` on time, nothing else."""

import logging
from datetime import UTC, datetime

from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.interval import IntervalTrigger
from django.core.management.base import BaseCommand
from django.utils.module_loading import import_string

from servicedesk.schedule import SCHEDULE, Job

logger = logging.getLogger(__name__)


def enqueue(job: Job) -> None:
    import_string(job.task).enqueue()
    logger.info("enqueued %s", job.name)


class Command(BaseCommand):
    help = "Enqueue the periodic jobs of servicedesk.schedule at their intervals."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="enqueue every job once and exit")

    def handle(self, *args, once: bool, **options):
        if once:
            for job in SCHEDULE:
                enqueue(job)
                self.stdout.write(f"enqueued {job.name}")
            return
        scheduler = BlockingScheduler(timezone="UTC")
        for job in SCHEDULE:
            # coalesce: after a stall, run once, not once per missed interval.
            scheduler.add_job(
                enqueue,
                IntervalTrigger(seconds=job.every.total_seconds()),
                args=[job],
                id=job.name,
                coalesce=True,
                max_instances=1,
                next_run_time=datetime.now(UTC),
            )
        self.stdout.write(
            "scheduler running: " + ", ".join(f"{j.name} every {j.every}" for j in SCHEDULE)
        )
        scheduler.start()
