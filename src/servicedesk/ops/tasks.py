"""Background work of operations."""

from django_tasks import task

from servicedesk.ops import maintenance


@task()
def analyze_database(**kwargs) -> str:
    return maintenance.analyze()


@task()
def remove_orphan_files(**kwargs) -> int:
    return maintenance.remove_orphan_files()
