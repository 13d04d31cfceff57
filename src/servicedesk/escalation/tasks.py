"""Background work of the escalation app."""

from django_tasks import task

from servicedesk.escalation import services


@task()
def sweep_vendor_promises(**kwargs) -> dict[str, int]:
    """Record each vendor's broken promise (promised date passed, no answer) once."""
    result = services.sweep_vendor_promises()
    return {"overdue": len(result.overdue)}
