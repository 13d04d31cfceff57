"""Background work of the SLA app."""

from django_tasks import task

from servicedesk.sla import services


@task()
def sweep_sla(**kwargs) -> dict[str, int]:
    result = services.sweep()
    return {"warnings": len(result.warnings), "breaches": len(result.breaches)}
