"""Webhooks: what happened to tickets, POSTed to the URLs administrators registered.

Services record events and publish them in their transaction (``core.events``); the
subscriber ``on_events`` turns them into one delivery row per webhook and event type, in
that same transaction (a rolled-back change sends nothing). A task sends each delivery after commit,
signed per the Standard Webhooks specification (``webhook-id``, ``webhook-timestamp``,
``webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">``), retrying with
backoff; the rows are the delivery log, and any of them can be replayed.
"""

import base64
import hashlib
import hmac
import json
import secrets
import urllib.error
import urllib.request
import uuid
from collections import Counter, defaultdict
from datetime import datetime

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction

from servicedesk.api.models import DeliveryStatus, Webhook, WebhookDelivery, WebhookEvent
from servicedesk.core import clock, config_cache
from servicedesk.core.delivery import claim, claim_due, record_failure, send_soon
from servicedesk.core.errors import DomainError
from servicedesk.tickets.models import EventKind, Ticket

SECRET_PREFIX = "whsec_"

# What each kind of ticket event is announced as.
_TYPE_OF = {
    EventKind.CREATED: WebhookEvent.TICKET_CREATED,
    EventKind.STATUS: WebhookEvent.TICKET_STATUS_CHANGED,
    EventKind.REPLY: WebhookEvent.REPLY_ADDED,
    EventKind.NOTE: WebhookEvent.REPLY_ADDED,
    EventKind.SLA_WARNING: WebhookEvent.SLA_WARNING,
    EventKind.SLA_BREACH: WebhookEvent.SLA_BREACHED,
}


class InvalidWebhook(DomainError):
    code = "invalid_webhook"


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(24)).decode()


def connect() -> None:
    config_cache.watch(Webhook)


def _active() -> tuple[tuple[int, frozenset[str]], ...]:
    return config_cache.memo(
        "webhooks",
        lambda: tuple((w.pk, frozenset(w.events)) for w in Webhook.objects.filter(is_active=True)),
    )


def _event_json(event) -> dict:
    return {
        "kind": event.kind,
        "field": event.field,
        "from": event.old,
        "to": event.new,
        "reason": event.reason,
        "internal": event.internal,
        "at": event.at.isoformat(),
        "actor": event.actor_id,
    }


def _ticket_json(ticket: Ticket) -> dict:
    return {
        "number": ticket.number,
        "reference": ticket.reference,
        "subject": ticket.subject,
        "status": ticket.status,
        "priority": ticket.priority,
        "score": ticket.score,
        "organisation": ticket.organisation_id,
        "requester": ticket.requester_id,
        "assignee": ticket.assignee_id,
        "group": ticket.group_id,
        "updated_at": ticket.updated_at.isoformat(),
    }


def on_events(events, hints) -> None:
    """Queue a delivery for each webhook that wants what these events announce (a
    subscriber of every event: ``servicedesk.subscribers``)."""
    webhooks = _active()
    if not webhooks:  # the common case costs nothing
        return
    by_type: dict[tuple[int, str], list] = defaultdict(list)
    for event in events:
        kind = _TYPE_OF.get(event.kind, WebhookEvent.TICKET_UPDATED)
        if kind == WebhookEvent.TICKET_UPDATED and event.kind in (
            EventKind.SLA_MET,
            EventKind.ATTACHMENT,
        ):
            continue  # part of the reply or move that caused them
        by_type[(event.ticket_id, kind)].append(event)
    wanted = {key: [pk for pk, types in webhooks if key[1] in types] for key in by_type}
    if not any(wanted.values()):
        return
    tickets = Ticket.objects.in_bulk({ticket_id for ticket_id, _ in by_type})
    now = clock.now()
    rows = []
    for (ticket_id, kind), webhook_ids in wanted.items():
        if ticket_id not in tickets:
            continue
        payload = {
            "type": kind,
            "timestamp": now.isoformat(),
            "data": {
                "ticket": _ticket_json(tickets[ticket_id]),
                "events": [_event_json(e) for e in by_type[(ticket_id, kind)]],
            },
        }
        rows += [
            WebhookDelivery(
                webhook_id=webhook_id,
                message_id=f"msg_{uuid.uuid4().hex}",
                event=kind,
                payload=json.loads(json.dumps(payload, cls=DjangoJSONEncoder)),
                next_attempt_at=now,
                created_at=now,
            )
            for webhook_id in webhook_ids
        ]
    _queue(rows)


def _queue(rows: list[WebhookDelivery]) -> None:
    from servicedesk.api.tasks import deliver_webhook

    WebhookDelivery.objects.bulk_create(rows)
    for row in rows:
        if row.pk is None:  # backends that return no keys from bulk inserts
            row.pk = WebhookDelivery.objects.get(message_id=row.message_id).pk
        send_soon(deliver_webhook, delivery_id=row.pk)


def replay(delivery: WebhookDelivery) -> WebhookDelivery:
    """Send a delivery's payload again, as a new delivery with its own log."""
    now = clock.now()
    copy = WebhookDelivery(
        webhook_id=delivery.webhook_id,
        message_id=f"msg_{uuid.uuid4().hex}",
        event=delivery.event,
        payload=delivery.payload,
        next_attempt_at=now,
        created_at=now,
    )
    with transaction.atomic():
        _queue([copy])
    return copy


def signature(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    signed = f"{message_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def deliver(*, delivery_id: int) -> str:
    """POST one delivery now, if it is due; 2xx is delivered, anything else is retried later."""
    if not claim(WebhookDelivery, delivery_id):
        return "not due"
    return _deliver_claimed(WebhookDelivery.objects.select_related("webhook").get(pk=delivery_id))


def _deliver_claimed(delivery: WebhookDelivery) -> str:
    body = json.dumps(delivery.payload, separators=(",", ":")).encode()
    timestamp = int(clock.now().timestamp())
    request = urllib.request.Request(
        delivery.webhook.url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": "Servicedesk-Webhooks/1",
            "webhook-id": delivery.message_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": signature(
                delivery.webhook.secret, delivery.message_id, timestamp, body
            ),
        },
    )
    delivery.attempts += 1
    try:
        with urllib.request.urlopen(request, timeout=settings.SERVICEDESK_WEBHOOK_TIMEOUT) as reply:
            delivery.response_status = reply.status
        error = ""
    except urllib.error.HTTPError as failure:
        delivery.response_status, error = failure.code, f"HTTP {failure.code}"
    except (urllib.error.URLError, OSError, ValueError) as failure:
        delivery.response_status, error = None, f"{type(failure).__name__}: {failure}"
    if error:
        record_failure(delivery, error, what="webhook delivery")
    else:
        delivery.status, delivery.delivered_at, delivery.last_error = (
            DeliveryStatus.DELIVERED,
            clock.now(),
            "",
        )
    delivery.save(
        update_fields=[
            "attempts",
            "status",
            "response_status",
            "last_error",
            "delivered_at",
            "next_attempt_at",
        ]
    )
    return {"delivered": "delivered", "failed": "failed"}.get(delivery.status, "retry")


def deliver_due(*, limit: int = 500, now: datetime | None = None) -> dict[str, int]:
    """Send every delivery whose attempt is due (pending, or claimed by a worker that died)."""
    ids = claim_due(WebhookDelivery, limit=limit, now=now)
    rows = WebhookDelivery.objects.filter(pk__in=ids).select_related("webhook").order_by("pk")
    return dict(Counter(_deliver_claimed(row) for row in rows))
