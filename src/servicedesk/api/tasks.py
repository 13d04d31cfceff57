"""Background work of the API app: webhook deliveries."""

from django_tasks import task

from servicedesk.api import webhooks


@task()
def deliver_webhook(*, delivery_id: int, **kwargs) -> str:
    return webhooks.deliver(delivery_id=delivery_id)


@task()
def deliver_due_webhooks(**kwargs) -> dict[str, int]:
    return webhooks.deliver_due()
