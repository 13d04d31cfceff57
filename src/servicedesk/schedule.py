"""THE periodic schedule: what runs how often. The scheduler process only enqueues these
tasks; every one of them is idempotent, so two schedulers running by mistake do no harm."""

from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True)
class Job:
    name: str
    every: timedelta
    task: str  # dotted path of a django-tasks task that takes no arguments


SCHEDULE: tuple[Job, ...] = (
    Job("sla-sweep", timedelta(minutes=1), "servicedesk.sla.tasks.sweep_sla"),
    Job("outbox-retry", timedelta(minutes=1), "servicedesk.mail.tasks.send_due_outbox"),
    Job("mail-poll", timedelta(minutes=1), "servicedesk.mail.tasks.poll_mailboxes"),
    Job("webhook-retry", timedelta(minutes=1), "servicedesk.api.tasks.deliver_due_webhooks"),
    Job("closing-sweep", timedelta(minutes=15), "servicedesk.tickets.tasks.sweep_closing"),
    Job(
        "vendor-promises",
        timedelta(minutes=15),
        "servicedesk.escalation.tasks.sweep_vendor_promises",
    ),
    Job("change-reports", timedelta(minutes=5), "servicedesk.changes.tasks.send_change_reports"),
    Job("db-analyze", timedelta(hours=1), "servicedesk.ops.tasks.analyze_database"),
    Job("orphan-files", timedelta(hours=1), "servicedesk.ops.tasks.remove_orphan_files"),
)
