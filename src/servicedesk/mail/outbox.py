"""Queue and send email through the outbox.

``queue_email`` writes the row inside the caller's transaction and enqueues the sending task
only once that transaction commits, so a rolled-back change sends nothing. ``send`` claims a
row and retries it through ``core.delivery``, the mechanism webhooks share: a guarded update,
so two workers never send the same message, exponential backoff on failure, and a periodic
sweep of what is due.
"""

import smtplib

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import IntegrityError, transaction
from django.utils.html import strip_tags

from servicedesk.core import clock
from servicedesk.core.delivery import claim, drain_due, enqueue_with_change, record_failure
from servicedesk.mail.models import OutboxMessage, OutboxStatus


def queue_email(
    *,
    to: list[str],
    subject: str,
    body_text: str,
    body_html: str = "",
    cc: list[str] | None = None,
    headers: dict[str, str] | None = None,
    message_id: str = "",
    ticket=None,
    dedupe_key: str | None = None,
    new_key: bool = False,
) -> OutboxMessage | None:
    """Write an email to the outbox; it leaves after the current transaction commits.

    Returns None when ``dedupe_key`` was already queued (the email is not queued twice).
    ``new_key``: the caller knows the key cannot exist yet (the acknowledgement of a ticket
    made in this transaction), so no savepoint guards the insert.
    """
    now = clock.now()
    message = OutboxMessage(
        to=to,
        cc=cc or [],
        subject=subject[:300],
        body_text=body_text or strip_tags(body_html),
        body_html=body_html,
        headers=headers or {},
        message_id=message_id,
        ticket=ticket,
        dedupe_key=dedupe_key,
        next_attempt_at=now,
        created_at=now,
    )
    if dedupe_key is not None and not new_key:
        try:
            with transaction.atomic():  # a savepoint: a racing duplicate must not undo the caller
                message.save()
        except IntegrityError:
            return None
    else:
        message.save()
    from servicedesk.mail.tasks import send_outbox_message

    enqueue_with_change(send_outbox_message, message_id=message.pk)
    return message


def _as_email(message: OutboxMessage) -> EmailMultiAlternatives:
    headers = dict(message.headers)
    if message.message_id:
        headers["Message-ID"] = message.message_id
    email = EmailMultiAlternatives(
        subject=message.subject,
        body=message.body_text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=message.to,
        cc=message.cc,
        headers=headers,
    )
    if message.body_html:
        email.attach_alternative(message.body_html, "text/html")
    return email


def send(*, message_id: int) -> str:
    """Try to send one outbox message; return what became of it."""
    if not claim(OutboxMessage, message_id):
        return "not due"
    message = OutboxMessage.objects.get(pk=message_id)
    message.attempts += 1
    try:
        with get_connection(fail_silently=False, timeout=settings.EMAIL_TIMEOUT) as connection:
            connection.send_messages([_as_email(message)])
    except (smtplib.SMTPException, OSError) as error:
        record_failure(message, f"{type(error).__name__}: {error}", what="outbox message")
        message.save(update_fields=["attempts", "last_error", "status", "next_attempt_at"])
        return "retry" if message.status == OutboxStatus.PENDING else "failed"
    message.status, message.sent_at = OutboxStatus.SENT, clock.now()
    message.save(update_fields=["status", "sent_at", "attempts"])
    return "sent"


def send_due(*, limit: int = 500) -> dict[str, int]:
    """Send every message whose attempt is due (pending, or claimed by a worker that died)."""
    return drain_due(OutboxMessage, lambda pk: send(message_id=pk), limit=limit)
