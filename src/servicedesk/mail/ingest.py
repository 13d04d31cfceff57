"""The one pipeline every incoming message goes through (pipe, files, IMAP).

1. ``store``: the raw bytes are written and committed before anything else happens, under a
   fingerprint (Message-ID + content digest); the same message delivered again is found,
   not stored twice.
2. ``process``: in one transaction, parse, decide and apply: a new ticket, a reply on a
   ticket, a bounce noted on its ticket, or automatic mail kept and ignored. What cannot be
   read or applied is quarantined with the reason, for staff to look at. Never dropped.

A process killed between the two steps leaves a stored, unprocessed message; the next run
(or the periodic poll) processes it. Safe to run twice: both steps are idempotent.
"""

import hashlib
import logging
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from itertools import islice
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction

from servicedesk.accounts.models import User
from servicedesk.accounts.services import contact_for_email
from servicedesk.core import clock
from servicedesk.core.errors import DomainError
from servicedesk.mail import authentication, noise, parsing, quoting, vendors
from servicedesk.mail.models import InboundMessage, OutboxMessage
from servicedesk.mail.models import Outcome as Kind
from servicedesk.tickets import services as tickets
from servicedesk.tickets.models import Channel, Comment, LinkKind, Ticket
from servicedesk.tickets.references import find_subject_token
from servicedesk.tickets.selectors import takes_part
from servicedesk.tickets.workflow import Status

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outcome:
    """What became of one message; ``servicedesk mail ingest --json`` prints these."""

    outcome: str  # created | replied | bounced | ignored | quarantined | duplicate
    ticket: str | None
    message_id: str
    reason: str

    def as_dict(self) -> dict:
        return asdict(self)


def ingest(raw: bytes, *, source: str) -> Outcome:
    """Store ``raw`` and process it; a message already stored and processed is a duplicate."""
    inbound, created = store(raw, source=source)
    if not created and inbound.outcome != Kind.RECEIVED:
        return _duplicate(inbound)
    return process(inbound.pk)


def ingest_many(
    messages: Iterable[tuple[str, bytes]], *, chunk: int = 200
) -> Iterator[tuple[str, Outcome]]:
    """(label, outcome) for each (label, raw) message, in order. Each chunk of raw messages is
    stored in one transaction before any of them is processed, then processed in one more
    (``_process_chunk``)."""
    for batch in batched(messages, chunk):
        stored = store_many(batch)
        to_process = [
            inbound.pk
            for _, inbound, created in stored
            if inbound is not None and (created or inbound.outcome == Kind.RECEIVED)
        ]
        outcomes = _process_chunk(to_process)
        for label, inbound, created in stored:
            if inbound is None:  # the same message earlier in this batch: decided by now
                yield label, ingest(created, source=label)
            elif inbound.pk in outcomes:
                yield label, outcomes[inbound.pk]
            else:
                yield label, _duplicate(inbound)


class _NeedsCare(Exception):
    """A message of a chunk was refused or failed: the chunk is done again, one by one."""


def _process_chunk(inbound_ids: list[int]) -> dict[int, Outcome]:
    """Process stored messages in one transaction, without a savepoint each. If any of them
    is refused or fails, the whole chunk is rolled back (nothing of it was sent: the outbox
    rows go with it) and each message is processed again in its own transaction, as
    ``process`` does, so a bad message never costs the others."""
    try:
        with transaction.atomic():
            return {pk: _process_plainly(pk) for pk in inbound_ids}
    except Exception:  # a refusal or a bug: the careful path decides, message by message
        return {pk: process(pk) for pk in inbound_ids}


def _process_plainly(inbound_id: int) -> Outcome:
    inbound = InboundMessage.objects.select_for_update().get(pk=inbound_id)
    if inbound.outcome != Kind.RECEIVED:
        return Outcome("duplicate", None, inbound.message_id, "processed by another run")
    if too_large := _too_large(inbound):
        return _finish(inbound, Kind.QUARANTINED, reason=too_large)
    try:
        parsed = parsing.parse(bytes(inbound.raw))
    except parsing.Unparseable as error:
        raise _NeedsCare from error
    _set_parsed(inbound, parsed)
    return _apply(inbound, parsed)


def batched(items: Iterable, size: int) -> Iterator[list]:
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


def store_many(batch: Iterable[tuple[str, bytes]]) -> list[tuple[str, Any, Any]]:
    """Store a batch in one transaction: (label, row, is new) per message; a message repeated
    within the batch comes back as (label, None, raw), to be ingested after the first."""
    keyed = [(label, raw, *fingerprint(raw)) for label, raw in batch]
    now = clock.now()
    with transaction.atomic():
        existing = {
            row.fingerprint: row
            for row in InboundMessage.objects.filter(fingerprint__in=[k[3] for k in keyed])
            .select_related("ticket")
            .defer("raw", "text", "html")
        }
        fresh: dict[str, InboundMessage] = {}
        for label, raw, message_id, key in keyed:
            if key not in existing and key not in fresh:
                fresh[key] = _row(raw, message_id, key, source=label, at=now)
        try:
            with transaction.atomic():
                InboundMessage.objects.bulk_create(fresh.values())
        except IntegrityError:  # another process stored one of them meanwhile: one by one
            return [(label, *store(raw, source=label)) for label, raw, _, _ in keyed]
    result, seen = [], set()
    for label, raw, _, key in keyed:
        if key in existing:
            result.append((label, existing[key], False))
        elif key in seen:
            result.append((label, None, raw))
        else:
            seen.add(key)
            result.append((label, fresh[key], True))
    return result


def _duplicate(inbound: InboundMessage) -> Outcome:
    return Outcome(
        "duplicate",
        inbound.ticket.reference if inbound.ticket_id else None,
        inbound.message_id,
        f"already received on {inbound.received_at:%Y-%m-%d %H:%M} UTC ({inbound.outcome})",
    )


def fingerprint(raw: bytes) -> tuple[str, str]:
    message_id, digest = parsing.identity(raw)
    return message_id, hashlib.sha256(f"{message_id}\0{digest}".encode()).hexdigest()


def _row(raw: bytes, message_id: str, key: str, *, source: str, at: datetime) -> InboundMessage:
    return InboundMessage(
        fingerprint=key,
        message_id=message_id,
        raw=raw,
        size=len(raw),
        source=source[:200],
        received_at=at,
    )


def store(raw: bytes, *, source: str) -> tuple[InboundMessage, bool]:
    """Commit the raw message; (the stored row, whether it is new)."""
    message_id, key = fingerprint(raw)
    try:
        with transaction.atomic():
            inbound = _row(raw, message_id, key, source=source, at=clock.now())
            inbound.save(force_insert=True)
        return inbound, True
    except IntegrityError:
        return InboundMessage.objects.select_related("ticket").get(fingerprint=key), False


def process(inbound_id: int) -> Outcome:
    """Turn a stored message into its outcome, once."""
    with transaction.atomic():
        inbound = InboundMessage.objects.select_for_update().get(pk=inbound_id)
        if inbound.outcome != Kind.RECEIVED:  # another process got there first
            return Outcome("duplicate", None, inbound.message_id, "processed by another run")
        if too_large := _too_large(inbound):
            return _finish(inbound, Kind.QUARANTINED, reason=too_large)
        try:
            parsed = parsing.parse(bytes(inbound.raw))
        except parsing.Unparseable as error:
            return _finish(inbound, Kind.QUARANTINED, reason=str(error))
        _set_parsed(inbound, parsed)
        try:
            with transaction.atomic():  # a savepoint: a refusal undoes only the half-done work
                return _apply(inbound, parsed)
        except DomainError as error:
            return _finish(inbound, Kind.QUARANTINED, reason=error.message)
        except Exception as error:  # never lose a message to a bug: keep it for staff
            logger.exception("mail %s could not be processed", inbound.pk)
            return _finish(
                inbound,
                Kind.QUARANTINED,
                reason=f"Unexpected error: {type(error).__name__}: {error}",
            )


def _too_large(inbound: InboundMessage) -> str:
    """Why the message is not parsed (parsing takes many times its size in memory), if so."""
    limit = settings.SERVICEDESK_MAIL_MAX_BYTES
    if limit and inbound.size > limit:
        return (
            f"The message is {inbound.size:,} bytes, over the limit of {limit:,} "
            "(SERVICEDESK_MAIL_MAX_BYTES): kept as received, not read."
        )
    return ""


def _set_parsed(inbound: InboundMessage, parsed: parsing.ParsedMessage) -> None:
    inbound.sender = parsed.sender.email.lower()[:254]
    inbound.subject = parsed.subject[:300]
    inbound.text = parsed.text
    inbound.html = parsed.html


def process_unfinished(*, older_than: timedelta = timedelta(minutes=5)) -> list[Outcome]:
    """Process messages a killed run stored but did not process."""
    cutoff = clock.now() - older_than
    pending = InboundMessage.objects.filter(outcome=Kind.RECEIVED, received_at__lte=cutoff)
    return [process(pk) for pk in pending.order_by("received_at").values_list("pk", flat=True)]


def _finish(
    inbound: InboundMessage,
    outcome: str,
    *,
    reason: str = "",
    ticket: Ticket | None = None,
    comment: Comment | None = None,
) -> Outcome:
    inbound.outcome = outcome
    inbound.reason = parsing.clean_text(reason)
    inbound.ticket = ticket
    inbound.comment = comment
    inbound.processed_at = clock.now()
    inbound.save(
        update_fields=[
            "outcome",
            "reason",
            "ticket",
            "comment",
            "processed_at",
            "sender",
            "subject",
            "text",
            "html",
        ]
    )
    return Outcome(
        outcome, ticket.reference if ticket else None, inbound.message_id, inbound.reason
    )


# -- deciding -------------------------------------------------------------------------------


def _apply(inbound: InboundMessage, parsed: parsing.ParsedMessage) -> Outcome:
    sender = parsed.sender.email.lower()
    if sender in settings.SERVICEDESK_MAIL_ADDRESSES:
        return _finish(inbound, Kind.IGNORED, reason=f"Sent from the desk's own address {sender}.")
    thread_ticket = _ticket_by_headers(parsed.thread_ids)
    robot = noise.classify(
        parsed.headers, sender=sender, subject=parsed.subject, content_type=parsed.content_type
    )
    if robot and robot.kind == "bounce":
        return _bounce(inbound, parsed, robot.reason)
    if robot:
        return _finish(
            inbound, Kind.IGNORED, reason=f"Automatic mail: {robot.reason}.", ticket=thread_ticket
        )
    if _over_rate_limit(sender, inbound):
        return _finish(
            inbound,
            Kind.IGNORED,
            reason=f"More than {settings.SERVICEDESK_MAIL_SENDER_LIMIT} messages from {sender} "
            "within an hour: a mail loop is likely.",
        )
    if (escalation := vendors.escalation_answered(parsed)) is not None:
        vendors.receive(parsed, escalation, message_id=inbound.message_id)
        return _finish(inbound, Kind.REPLIED, reason="vendor thread", ticket=escalation.ticket)
    author = contact_for_email(sender, name=parsed.sender.name)
    if thread_ticket is not None and not takes_part(thread_ticket, author):
        thread_ticket = None  # a stranger who knows a Message-ID: as with a known number
    ticket = thread_ticket or _ticket_by_token(parsed.subject, author)
    if author.is_staff or settings.SERVICEDESK_MAIL_VERIFY_CUSTOMERS:
        verdict = _vouched_for(parsed)
        if not verdict.verified:
            return _unverified(inbound, parsed, ticket, verdict)
    if ticket is not None and not (ticket.status == Status.CLOSED and not author.is_staff):
        return _reply(inbound, parsed, ticket, author)
    if author.is_staff:
        return _finish(
            inbound,
            Kind.QUARANTINED,
            reason=f"{sender} is a member of staff and the mail names no ticket to add it to.",
        )
    return _new_ticket(inbound, parsed, author, follows=ticket)


def _vouched_for(parsed: parsing.ParsedMessage) -> authentication.Verdict:
    return authentication.verify(
        parsed.headers.get("authentication-results", []),
        from_domain=parsed.sender.email.rpartition("@")[2],
        trusted=settings.SERVICEDESK_MAIL_TRUSTED_AUTHSERV_IDS,
    )


def _unverified(
    inbound: InboundMessage,
    parsed: parsing.ParsedMessage,
    ticket: Ticket | None,
    verdict: authentication.Verdict,
) -> Outcome:
    """Mail whose sender no trusted server vouched for, from an address that would act as
    staff (or as a customer, when customers are verified too): shown to staff as an internal
    note on the ticket it names, never posted as that person, and nothing is mailed."""
    reason = f"Unverified sender {parsed.sender.email}: {verdict.reason}."
    if ticket is None:
        return _finish(inbound, Kind.QUARANTINED, reason=f"{reason} It names no ticket.")
    uploads, too_large = _uploads(parsed)
    note = (
        f"Unverified email from {parsed.sender}: {verdict.reason}. It was not posted as "
        f"their reply and nothing was sent.\n\n{_with_notice(parsed.text, too_large)}"
    )
    comment = tickets.add_comment(
        ticket=ticket,
        author=None,
        body=note,
        internal=True,
        channel=Channel.EMAIL,
        uploads=uploads,
    )
    return _finish(inbound, Kind.REPLIED, reason=reason, ticket=ticket, comment=comment)


def _ticket_by_headers(thread_ids: list[str]) -> Ticket | None:
    """The ticket of the most recent message this one answers: ours (sent) or theirs (stored)."""
    if not thread_ids:
        return None
    found: dict[str, int] = {}
    for message_id, ticket_id in OutboxMessage.objects.filter(
        message_id__in=[f"<{i}>" for i in thread_ids], ticket__isnull=False
    ).values_list("message_id", "ticket_id"):
        found.setdefault(message_id.strip("<>"), ticket_id)
    for message_id, ticket_id in InboundMessage.objects.filter(
        message_id__in=thread_ids, ticket__isnull=False
    ).values_list("message_id", "ticket_id"):
        found.setdefault(message_id, ticket_id)
    ticket_id = next((found[i] for i in thread_ids if i in found), None)
    return Ticket.objects.filter(pk=ticket_id).first() if ticket_id else None


def _ticket_named_in(subject: str) -> Ticket | None:
    """The ticket whose token ``[SD#10042]`` is in ``subject``, whoever wrote it."""
    number = find_subject_token(subject, settings.SERVICEDESK_TICKET_PREFIX)
    return Ticket.objects.filter(number=number).first() if number else None


def _ticket_by_token(subject: str, author: User) -> Ticket | None:
    """The ticket named by ``[SD#10042]`` in the subject, if the sender takes part in it: a
    stranger who knows a number opens a new ticket instead of writing into someone else's."""
    ticket = _ticket_named_in(subject)
    if ticket is None or not takes_part(ticket, author):
        return None
    return ticket


def _over_rate_limit(sender: str, inbound: InboundMessage) -> bool:
    limit = settings.SERVICEDESK_MAIL_SENDER_LIMIT
    if not limit:
        return False
    recent = InboundMessage.objects.filter(
        sender=sender, received_at__gte=inbound.received_at - timedelta(hours=1)
    ).exclude(pk=inbound.pk)
    return recent[:limit].count() >= limit


def _copied(parsed: parsing.ParsedMessage) -> list[str]:
    ours = set(settings.SERVICEDESK_MAIL_ADDRESSES)
    return [
        a.email.lower()
        for a in [*parsed.to, *parsed.cc]
        if a.email.lower() not in ours and a.email.lower() != parsed.sender.email.lower()
    ]


def _uploads(parsed: parsing.ParsedMessage) -> tuple[list[tickets.Upload], list[str]]:
    """The attachments to store, and the names of those too large to store on their own
    (they stay in the raw message)."""
    limit = settings.SERVICEDESK_MAX_ATTACHMENT_BYTES
    uploads, too_large = [], []
    for part in parsed.attachments:
        if len(part.content) > limit:
            too_large.append(part.filename)
            continue
        uploads.append(
            tickets.Upload(
                filename=part.filename,
                content_type=part.content_type,
                file=ContentFile(part.content, name=part.filename),
            )
        )
    return uploads, too_large


def _with_notice(text: str, too_large: list[str]) -> str:
    if not too_large:
        return text
    names = ", ".join(too_large)
    return f"{text}\n\n[Attachments too large to store separately, kept in the original email: {names}]"


def _new_ticket(
    inbound: InboundMessage,
    parsed: parsing.ParsedMessage,
    requester: User,
    *,
    follows: Ticket | None,
) -> Outcome:
    uploads, too_large = _uploads(parsed)
    subject = parsed.subject or "(no subject)"
    subject = subject[: Ticket._meta.get_field("subject").max_length]
    ticket = tickets.create_ticket(
        by=requester,
        requester=requester,
        subject=subject,
        channel=Channel.EMAIL,
        description=_with_notice(parsed.text, too_large),
        uploads=uploads,
        cc=_copied(parsed),
        in_reply_to=inbound.message_id,
    )
    reason = ""
    if follows is not None:
        tickets.link_tickets(source=ticket, target=follows, kind=LinkKind.RELATED, by=None)
        reason = f"A reply to closed ticket {follows.reference}: opened as a new ticket."
    return _finish(inbound, Kind.CREATED, reason=reason, ticket=ticket)


def _reply(
    inbound: InboundMessage, parsed: parsing.ParsedMessage, ticket: Ticket, author: User
) -> Outcome:
    uploads, too_large = _uploads(parsed)
    split = quoting.split_reply(parsed.text)
    body = _with_notice(split.new, too_large)
    if not body.strip() and not uploads:
        body = "(empty message)"
    comment = tickets.add_comment(
        ticket=ticket,
        author=author,
        body=body,
        folded=split.folded,
        channel=Channel.EMAIL,
        uploads=uploads,
    )
    return _finish(inbound, Kind.REPLIED, ticket=ticket, comment=comment)


def _ticket_we_sent(message_ids: list[str]) -> Ticket | None:
    """The ticket of a message the desk itself sent, among ``message_ids``."""
    sent = dict(
        OutboxMessage.objects.filter(
            message_id__in=[f"<{i}>" for i in message_ids], ticket__isnull=False
        ).values_list("message_id", "ticket_id")
    )
    ticket_id = next((sent[f"<{i}>"] for i in message_ids if f"<{i}>" in sent), None)
    return Ticket.objects.filter(pk=ticket_id).first() if ticket_id else None


def _bounce(inbound: InboundMessage, parsed: parsing.ParsedMessage, why: str) -> Outcome:
    """A delivery failure: noted (staff only) on the ticket whose mail bounced. Only a
    report that names a message the desk sent counts: anyone can write MAILER-DAEMON and a
    ticket's token."""
    ticket = _ticket_we_sent(parsed.reported_message_ids + parsed.thread_ids)
    if ticket is None:
        return _finish(inbound, Kind.BOUNCED, reason=f"{why}; it names no message the desk sent.")
    note = f"Mail about this ticket could not be delivered ({why}).\n\n{parsed.text[:4000]}"
    comment = tickets.add_comment(
        ticket=ticket, author=None, body=note, internal=True, channel=Channel.EMAIL
    )
    return _finish(inbound, Kind.BOUNCED, reason=why, ticket=ticket, comment=comment)
