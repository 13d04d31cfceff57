"""/api/v1/webhooks: administrators register URLs, read the delivery log, replay."""

from django.utils.translation import gettext_noop
from ninja import Query, Router, Status

from servicedesk.api import webhooks
from servicedesk.api.common import CHANGE_ERRORS, caller, require_admin
from servicedesk.api.models import Webhook, WebhookDelivery
from servicedesk.api.schemas import DeliveryOut, WebhookCreated, WebhookIn, WebhookOut
from servicedesk.core import clock
from servicedesk.core.errors import NotFound

router = Router()


def _webhook(w: Webhook) -> dict:
    return {
        "id": w.pk,
        "url": w.url,
        "events": list(w.events),
        "description": w.description,
        "is_active": w.is_active,
        "created_at": w.created_at,
    }


def _delivery(d: WebhookDelivery) -> dict:
    return {
        "id": d.pk,
        "webhook": d.webhook_id,
        "message_id": d.message_id,
        "event": d.event,
        "status": d.status,
        "attempts": d.attempts,
        "response_status": d.response_status,
        "last_error": d.last_error,
        "created_at": d.created_at,
        "delivered_at": d.delivered_at,
        "next_attempt_at": d.next_attempt_at,
        "payload": d.payload,
    }


def _get(request, webhook_id: int) -> Webhook:
    require_admin(caller(request))
    found = Webhook.objects.filter(pk=webhook_id).first()
    if found is None:
        raise NotFound(gettext_noop("No webhook with id %(id)s."), id=webhook_id)
    return found


@router.post("", response={201: WebhookCreated, **CHANGE_ERRORS}, summary="Register a webhook")
def create_webhook(request, data: WebhookIn):
    """The answer carries the signing ``secret`` (``whsec_…``), shown this once. A URL that
    does not parse, or is not http(s) with a host, is refused (422)."""
    user = caller(request)
    require_admin(user)
    webhooks.check_url(data.url)
    webhook = Webhook.objects.create(
        url=data.url,
        events=sorted({str(e) for e in data.events}),
        description=data.description,
        is_active=data.is_active,
        secret=webhooks.new_secret(),
        created_by=user,
        created_at=clock.now(),
    )
    return Status(201, {**_webhook(webhook), "secret": webhook.secret})


@router.get("", response={200: list[WebhookOut], **CHANGE_ERRORS}, summary="Webhooks")
def list_webhooks(request):
    require_admin(caller(request))
    return [_webhook(w) for w in Webhook.objects.all()]


@router.get("/{webhook_id}", response={200: WebhookOut, **CHANGE_ERRORS})
def get_webhook(request, webhook_id: int):
    return _webhook(_get(request, webhook_id))


@router.delete("/{webhook_id}", response={204: None, **CHANGE_ERRORS})
def delete_webhook(request, webhook_id: int):
    _get(request, webhook_id).delete()
    return Status(204, None)


@router.get(
    "/{webhook_id}/deliveries", response={200: list[DeliveryOut], **CHANGE_ERRORS}, summary="Log"
)
def list_deliveries(
    request,
    webhook_id: int,
    status: str | None = Query(None, max_length=20),
    limit: int = Query(50, ge=1, le=500),
):
    """The latest deliveries first, with each one's attempts and last outcome."""
    rows = WebhookDelivery.objects.filter(webhook=_get(request, webhook_id))
    if status:
        rows = rows.filter(status=status)
    return [_delivery(d) for d in rows[:limit]]


@router.post(
    "/{webhook_id}/deliveries/{delivery_id}/replay",
    response={201: DeliveryOut, **CHANGE_ERRORS},
    summary="Replay a delivery",
)
def replay(request, webhook_id: int, delivery_id: int):
    webhook = _get(request, webhook_id)
    delivery = WebhookDelivery.objects.filter(webhook=webhook, pk=delivery_id).first()
    if delivery is None:
        raise NotFound(gettext_noop("No delivery %(id)s for this webhook."), id=delivery_id)
    return Status(201, _delivery(webhooks.replay(delivery)))
