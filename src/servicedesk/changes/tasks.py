"""Background work of change management."""

from django_tasks import task

from servicedesk.changes import services


@task()
def send_change_reports(**kwargs) -> dict[str, int]:
    """The monthly Change Request Update reports that fell due (00:00 on the 1st in each
    organisation's time zone) and are not recorded yet (idempotent)."""
    return {"reports": len(services.send_due_reports())}
