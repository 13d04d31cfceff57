"""Webhooks: what happened to tickets, POSTed to the URLs administrators registered.

Services record events and publish them in their transaction (``core.events``); the
subscriber ``on_events`` turns them into one delivery row per webhook and event type, in
that same transaction (a rolled-back change sends nothing). A task sends each delivery after commit,
signed per the Standard Webhooks specification (``webhook-id``, ``webhook-timestamp``,
``webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">``), retrying with
backoff; the rows are the delivery log, and any of them can be replayed, and a failed one
sent again (``resend``).

A URL that does not parse is refused where it comes in (``check_url``); a delivery to one
that got in anyway fails at once, and whatever goes wrong with one delivery is recorded on
it while the others are sent.
"""

import base64
import hashlib
import hmac
import json
import re
import secrets
import urllib.error
import urllib.request
import uuid
from collections import Counter, defaultdict
from datetime import datetime
from urllib.parse import urlsplit

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils.translation import gettext_noop

from servicedesk.api.models import DeliveryStatus, Webhook, WebhookDelivery, WebhookEvent
from servicedesk.core import clock, config_cache
from servicedesk.core.delivery import claim, claim_due, record_failure, requeue, send_soon
from servicedesk.core.errors import DomainError
from servicedesk.tickets.models import Event, EventKind, Ticket

SECRET_PREFIX = "whsec_"
_UNSAFE = re.compile(r"[\x00-\x20\x7f]")  # control characters and spaces: never in a URL

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


def url_problem(url: str) -> str:
    """Why ``url`` cannot take deliveries (in English, for the log), or ``""`` if it can:
    it must parse, be http or https, and name a host."""
    if not isinstance(url, str) or _UNSAFE.search(url):
        return "it holds spaces or control characters"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError as error:
        return str(error)
    if parts.scheme not in ("http", "https"):
        return "it is not an http or https URL"
    if not parts.hostname:
        return "it names no host"
    return ""


def check_url(url: str) -> None:
    """Refuse a webhook URL that deliveries could never be POSTed to (``InvalidWebhook``)."""
    if url_problem(url):
        raise InvalidWebhook(
            gettext_noop(
                "%(url)s is not a webhook URL: it must be an http:// or https:// address "
                "with a host name."
            ),
            url=url,
        )


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
    events = [e for e in events if isinstance(e, Event)]  # tickets' (not change requests')
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
    """POST a claimed delivery and record what became of it. Whatever goes wrong (a URL that
    does not parse, a receiver that answers nonsense) is this delivery's alone."""
    delivery.attempts += 1
    permanent = False
    try:
        problem = url_problem(delivery.webhook.url)
        if problem:
            permanent, delivery.response_status = True, None
            error = f"InvalidWebhook: {delivery.webhook.url!r}: {problem}"
        else:
            delivery.response_status, error = _post(delivery)
    except Exception as failure:  # the payload, the signature, the receiver's answer…
        delivery.response_status, error = None, f"{type(failure).__name__}: {failure}"
    if error:
        record_failure(delivery, error, what="webhook delivery", permanent=permanent)
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


def _post(delivery: WebhookDelivery) -> tuple[int | None, str]:
    """POST the delivery once: the receiver's status and an error ("" for a 2xx)."""
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
    try:
        with urllib.request.urlopen(request, timeout=settings.SERVICEDESK_WEBHOOK_TIMEOUT) as reply:
            return reply.status, ""
    except urllib.error.HTTPError as failure:
        return failure.code, f"HTTP {failure.code}"


def deliver_due(*, limit: int = 500, now: datetime | None = None) -> dict[str, int]:
    """Send every delivery whose attempt is due (pending, or claimed by a worker that died)."""
    ids = claim_due(WebhookDelivery, limit=limit, now=now)
    rows = WebhookDelivery.objects.filter(pk__in=ids).select_related("webhook").order_by("pk")
    return dict(Counter(_deliver_claimed(row) for row in rows))


def resend(*, ids: list[int] | None = None) -> list[int]:
    """Send failed deliveries again, as they were (same ``webhook-id``, so a receiver that
    got one after all can tell), with a fresh series of attempts; those of ``ids``, or
    every failed one. The ids requeued (a delivery that did not fail is left alone).
    ``replay`` is the other way: a copy with an id of its own."""
    from servicedesk.api.tasks import deliver_webhook

    requeued = requeue(WebhookDelivery, ids=ids)
    for pk in requeued:
        send_soon(deliver_webhook, delivery_id=pk)
    return requeued
