"""Queue and send email through the outbox.

``queue_email`` writes the row inside the caller's transaction and enqueues the sending task
only once that transaction commits, so a rolled-back change sends nothing. ``send`` claims a
row and retries it through ``core.delivery``, the mechanism webhooks share: a guarded update,
so two workers never send the same message, exponential backoff on failure, and a periodic
sweep of what is due.

An address that Django's email validation refuses is never queued (the mail goes to the
other recipients, and the ticket gets a staff-only note when its main recipient is refused);
a row that holds one anyway fails at once. Whatever goes wrong with one message is recorded
on that message, and the others are sent.
"""

import base64
import logging
from collections import Counter
from collections.abc import Sequence
from functools import partial

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils.html import strip_tags

from servicedesk.core import clock
from servicedesk.core.delivery import claim, claim_due, record_failure, requeue, send_soon
from servicedesk.mail.models import OutboxMessage, OutboxStatus
from servicedesk.tickets import services as tickets
from servicedesk.tickets.models import Attachment, Channel, Ticket

logger = logging.getLogger(__name__)


class InvalidRecipients(ValueError):
    """The message names an address no mail server can be given: it is never retried."""


def invalid_addresses(addresses) -> list[str]:
    """The entries of ``addresses`` that Django's email validation refuses."""
    refused = []
    for address in addresses:
        try:
            validate_email(address)
        except (ValidationError, TypeError):
            refused.append(address)
    return refused


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
    attachments: list[int] | None = None,
    files: Sequence[tuple[str, bytes, str]] = (),
) -> OutboxMessage | None:
    """Write an email to the outbox; it leaves after the current transaction commits.

    Returns None when ``dedupe_key`` was already queued (the email is not queued twice), or
    when no recipient is left: invalid addresses are dropped (logged), and when ``to`` is
    refused the ``ticket`` gets a staff-only note saying so (after the commit); the copied
    addresses, if any are valid, are then mailed on their own.
    ``new_key``: the caller knows the key cannot exist yet (the acknowledgement of a ticket
    made in this transaction), so no savepoint guards the insert.
    ``attachments``: ids of ticket attachments whose files go with it (read when sent).
    ``files``: (filename, content, content type) of files made for this message (a report's
    PDF), stored with it.
    """
    cc = cc or []
    refused = invalid_addresses([*to, *cc])
    if refused:
        logger.warning("Not mailing invalid addresses %s (%r)", refused, subject)
        to = [a for a in to if a not in refused]
        cc = [a for a in cc if a not in refused]
        if not to:
            if ticket is not None:
                transaction.on_commit(
                    partial(_note_refused, ticket_id=ticket.pk, refused=refused, subject=subject)
                )
            if not cc:
                return None
            to, cc = cc, []
    now = clock.now()
    message = OutboxMessage(
        to=to,
        cc=cc,
        subject=subject[:300],
        body_text=body_text or strip_tags(body_html),
        body_html=body_html,
        headers=headers or {},
        message_id=message_id,
        attachments=[*(attachments or []), *(_stored_file(*made) for made in files)],
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

    send_soon(send_outbox_message, message_id=message.pk)
    return message


def _stored_file(filename: str, content: bytes, content_type: str) -> dict[str, str]:
    """A file made for one message, as its row keeps it (beside ticket attachments' ids)."""
    encoded = base64.b64encode(content).decode("ascii")
    return {"filename": filename, "content_type": content_type, "base64": encoded}


def _note_refused(*, ticket_id: int, refused: list[str], subject: str) -> None:
    """Tell the desk, on the ticket, that its mail could not be sent to its main recipient."""
    note = (
        f"Mail about this ticket was not sent to {', '.join(map(str, refused))}: "
        f"not a valid email address. Subject: {subject}"
    )
    try:
        ticket = Ticket.objects.get(pk=ticket_id)
        tickets.add_comment(
            ticket=ticket, author=None, body=note, internal=True, channel=Channel.EMAIL
        )
    except Exception:  # after the commit: the change stands whatever happens to the note
        logger.exception("Could not note refused addresses on ticket %s", ticket_id)


def _refusal(message: OutboxMessage) -> str:
    """Why ``message`` can never be sent, or ``""``."""
    if not isinstance(message.to, list) or not isinstance(message.cc, list) or not message.to:
        return "the recipients are not a list of addresses"
    refused = invalid_addresses([*message.to, *message.cc])
    return f"invalid address {', '.join(map(str, refused))}" if refused else ""


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
    ids = [a for a in message.attachments if isinstance(a, int)]
    if ids:
        files = Attachment.objects.filter(pk__in=ids).order_by("pk")
        for attachment in files:
            with attachment.file.open("rb") as content:
                email.attach(attachment.filename, content.read(), attachment.content_type)
    for made in (a for a in message.attachments if isinstance(a, dict)):
        email.attach(made["filename"], base64.b64decode(made["base64"]), made["content_type"])
    return email


def send(*, message_id: int) -> str:
    """Try to send one outbox message now, if it is due; return what became of it."""
    if not claim(OutboxMessage, message_id):
        return "not due"
    return _send_claimed([OutboxMessage.objects.get(pk=message_id)])[0]


def send_due(*, limit: int = 500, now=None) -> dict[str, int]:
    """Send every message whose attempt is due (pending, or claimed by a worker that died),
    over one SMTP connection; how many of each outcome."""
    ids = claim_due(OutboxMessage, limit=limit, now=now)
    if not ids:
        return {}
    messages = list(OutboxMessage.objects.filter(pk__in=ids).order_by("created_at", "pk"))
    return dict(Counter(_send_claimed(messages)))


def _send_claimed(messages: list[OutboxMessage]) -> list[str]:
    """Send claimed messages over one connection; save each one's fate; their outcomes."""
    try:
        connection = get_connection(fail_silently=False, timeout=settings.EMAIL_TIMEOUT)
        connection.open()
    except Exception as error:  # the server is away (or misconfigured): all wait
        connection, away = None, error
    outcomes = []
    try:
        for message in messages:
            message.attempts += 1
            try:
                refusal = _refusal(message)
                if refusal:
                    raise InvalidRecipients(refusal)
                if connection is None:
                    raise away
                connection.send_messages([_as_email(message)])
            except Exception as error:  # this message's fault or the server's: it waits alone
                record_failure(
                    message,
                    f"{type(error).__name__}: {error}",
                    what="outbox message",
                    permanent=isinstance(error, InvalidRecipients),
                )
                outcomes.append("retry" if message.status == OutboxStatus.PENDING else "failed")
            else:
                message.status, message.sent_at, message.last_error = (
                    OutboxStatus.SENT,
                    clock.now(),
                    "",
                )
                outcomes.append("sent")
    finally:
        if connection is not None:
            connection.close()
        OutboxMessage.objects.bulk_update(
            messages, ["attempts", "status", "sent_at", "last_error", "next_attempt_at"]
        )
    return outcomes


def resend(*, ids: list[int] | None = None) -> list[int]:
    """Send failed messages again (those of ``ids``, or every failed one), with a fresh
    series of attempts; the ids requeued (a message that did not fail is left alone)."""
    from servicedesk.mail.tasks import send_outbox_message

    requeued = requeue(OutboxMessage, ids=ids)
    for pk in requeued:
        send_soon(send_outbox_message, message_id=pk)
    return requeued
