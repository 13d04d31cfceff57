"""Background work of the tickets app."""

from django_tasks import task

from servicedesk.tickets import closing_services


@task()
def sweep_closing(**kwargs) -> dict[str, int]:
    """Remind the customers of resolved tickets and close the unanswered ones (idempotent)."""
    result = closing_services.sweep_closing()
    return {"reminded": len(result.reminded), "closed": len(result.closed)}
