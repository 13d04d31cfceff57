"""The vendor's thread by email (SPEC §6), as subscribers of recorded events
(``servicedesk.subscribers``), and the vendor's answers as the ingest pipeline finds them.

Out: a vendor escalation made by email mails the vendor the reason and the thread entries
and files the agent chose; each further message of the desk (``write_to_vendor``) follows in
the same thread. Each has a Message-ID of ours and the subject token ``[SD#10042-V7]``
(ticket number, escalation id), never the customer's ``[SD#10042]``, and is recorded in the
vendor thread (``VendorMessage``) in the change's transaction. The vendor's mail is written in
the language of the agent who writes (the vendor has none of their own here).

In: ``escalation_answered`` finds the escalation a message answers, by our Message-IDs in its
In-Reply-To/References or by the token, but only from the vendor's own mail domain; anyone
else using the token is treated as any other sender. ``receive`` stores it in the vendor
thread (never the customer's) through ``escalation.services``.

Also here: the reminder to the ticket's owner when the vendor's promised date passes.
"""

import re
from collections.abc import Mapping, Sequence
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.urls import reverse
from django.utils import translation

from servicedesk.accounts.models import User
from servicedesk.core import links
from servicedesk.escalation import selectors as escalation_selectors
from servicedesk.escalation import services as escalations
from servicedesk.escalation.models import (
    Direction,
    Escalation,
    EscalationKind,
    VendorChannel,
    VendorMessage,
)
from servicedesk.mail import parsing, quoting
from servicedesk.mail.notifications import (
    _desk_name,
    _language,
    _render,
    _when,
    _zone,
    new_message_id,
)
from servicedesk.mail.outbox import queue_email
from servicedesk.sla import selectors as sla_selectors
from servicedesk.sla.models import TicketClock
from servicedesk.tickets.models import Attachment, Comment, Event, Ticket

# ``[SD#10042-V7]``: ticket 10042's escalation 7. The customer's ``[SD#10042]`` never matches.
_TOKEN = r"\[{prefix}#([0-9]{{1,18}})-V([0-9]{{1,18}})\]"


def vendor_token(escalation: Escalation) -> str:
    """The subject token of ``escalation``'s vendor thread: ``[SD#10042-V7]``."""
    prefix = settings.SERVICEDESK_TICKET_PREFIX
    return f"[{prefix}#{escalation.ticket.number}-V{escalation.pk}]"


def find_vendor_token(subject: str) -> tuple[int, int] | None:
    """(ticket number, escalation id) of the first vendor token in ``subject``, or None."""
    pattern = _TOKEN.format(prefix=re.escape(settings.SERVICEDESK_TICKET_PREFIX))
    match = re.search(pattern, subject or "", re.IGNORECASE)
    return (int(match[1]), int(match[2])) if match else None


def _writer_language(by: User | None) -> str:
    return _language(by) if by is not None else settings.LANGUAGE_CODE


def _thread_headers(escalation: Escalation) -> dict[str, str]:
    """In-Reply-To the thread's latest mail; References its first and latest."""
    ids = list(
        escalation.messages.exclude(message_id="")
        .order_by("created_at", "pk")
        .values_list("message_id", flat=True)
    )
    if not ids:
        return {}
    chain = list(dict.fromkeys([ids[0], *ids[-9:]]))
    return {"In-Reply-To": f"<{ids[-1]}>", "References": " ".join(f"<{i}>" for i in chain)}


def _send(
    message: VendorMessage, *, subject: str, body: str, attachments: Sequence[int] = ()
) -> None:
    """Mail ``message`` to the vendor in the thread and keep its subject and Message-ID."""
    escalation = message.escalation
    message_id = new_message_id(f"{escalation.ticket.reference}-V{escalation.pk}")
    headers = _thread_headers(escalation)
    queued = queue_email(
        to=[escalation_selectors.vendor_address(escalation)],
        subject=subject,
        body_text=body,
        headers=headers,
        message_id=message_id,
        ticket=escalation.ticket,
        dedupe_key=f"vendor-message:{message.pk}",
        attachments=list(attachments),
    )
    if queued is not None:
        message.subject, message.message_id = subject[:300], message_id.strip("<>")
        message.save(update_fields=["subject", "message_id"])


def _who(comment: Comment) -> str:
    """Who wrote a thread entry, as the vendor reads it: a role, never a customer's name."""
    if comment.author is not None and not comment.author.is_staff:
        return translation.gettext("Customer")
    return translation.gettext("Support")


# ---- Subscribers ------------------------------------------------------------------------


def mail_vendor_escalation(events: Sequence[Event], hints: Mapping[str, Any]) -> None:
    """A vendor escalation made by email: mail the vendor the reason and the chosen thread
    entries and files, and record it as the first message of the vendor thread."""
    for event in events:
        new = event.new or {}
        if new.get("kind") != EscalationKind.VENDOR or not new.get("escalation"):
            continue
        escalation = Escalation.objects.select_related("ticket", "vendor").get(pk=new["escalation"])
        if escalation.channel != VendorChannel.EMAIL:
            continue
        if not escalation_selectors.vendor_address(escalation):
            continue
        _escalation_mail(escalation, by=event.actor)


def _escalation_mail(escalation: Escalation, *, by: User | None) -> None:
    ticket = escalation.ticket
    sent = escalation.sent_items or {}
    comments = (
        Comment.objects.filter(ticket=ticket, pk__in=sent.get("comments", []))
        .select_related("author")
        .order_by("created_at", "pk")
    )
    files = list(
        Attachment.objects.filter(ticket=ticket, pk__in=sent.get("attachments", [])).order_by("pk")
    )
    zone = _zone(by) if by is not None else ZoneInfo(settings.TIME_ZONE)
    with translation.override(_writer_language(by)):
        subject, body = _render(
            "mail/vendor_escalation.txt",
            {
                "token": vendor_token(escalation),
                "ticket": ticket,
                "reason": escalation.reason,
                "vendor_reference": escalation.vendor_reference,
                "promised": _when(escalation.promised_by, zone) if escalation.promised_by else "",
                "zone": str(zone),
                "items": [
                    {"who": _who(c), "when": _when(c.created_at, zone), "body": c.body}
                    for c in comments
                ],
                "attachments": files,
                "author": by.display_name if by is not None else "",
                "desk_name": _desk_name(),
            },
        )
    message = VendorMessage.objects.create(
        escalation=escalation,
        direction=Direction.OUT,
        author=by,
        body=body,
        created_at=escalation.created_at,
    )
    _send(message, subject=subject, body=body, attachments=[f.pk for f in files])


def mail_vendor_message(events: Sequence[Event], hints: Mapping[str, Any]) -> None:
    """A message the desk wrote to the vendor (``write_to_vendor``): mail it in the thread."""
    ids = [
        (e.new or {}).get("message")
        for e in events
        if (e.new or {}).get("direction") == Direction.OUT
    ]
    messages = VendorMessage.objects.filter(
        pk__in=[i for i in ids if i], direction=Direction.OUT, message_id=""
    ).select_related("escalation__ticket", "escalation__vendor", "author")
    for message in messages:
        escalation = message.escalation
        if not escalation_selectors.vendor_address(escalation):
            continue
        with translation.override(_writer_language(message.author)):
            subject, body = _render(
                "mail/vendor_message.txt",
                {
                    "token": vendor_token(escalation),
                    "ticket": escalation.ticket,
                    "body": message.body,
                    "author": message.author.display_name if message.author else "",
                    "desk_name": _desk_name(),
                },
            )
        _send(message, subject=subject, body=body)


def _owners(ticket: Ticket) -> list[User]:
    """Who is reminded: the assignee; else the group's lead; else the support managers."""
    for person in (ticket.assignee, ticket.group.lead if ticket.group_id else None):
        if person is not None and person.is_active:
            return [person]
    return [p for p in sla_selectors.alert_recipients(ticket) if p.is_active]


def mail_vendor_overdue(events: Sequence[Event], hints: Mapping[str, Any]) -> None:
    """The vendor's promised date passed without an answer: remind the ticket's owner."""
    for event in events:
        new = event.new or {}
        escalation = (
            Escalation.objects.select_related("ticket__assignee", "ticket__group__lead", "vendor")
            .filter(pk=new.get("escalation"))
            .first()
        )
        if escalation is None:
            continue
        ticket = escalation.ticket
        link = links.absolute(reverse("desk:ticket", args=[ticket.number]))
        for person in _owners(ticket):
            zone = _zone(person)
            with translation.override(_language(person)):
                subject, body = _render(
                    "mail/vendor_overdue.txt",
                    {
                        "ticket": ticket,
                        "vendor": escalation.vendor.name,
                        "vendor_reference": escalation.vendor_reference,
                        "promised": _when(escalation.promised_by, zone),
                        "zone": str(zone),
                        "assignee": ticket.assignee,
                        "link": link,
                    },
                )
            queue_email(
                to=[person.email],
                subject=subject,
                body_text=body,
                ticket=ticket,
                dedupe_key=f"vendor-overdue:{escalation.pk}:{person.pk}",
            )


def _group_people(group) -> list[User]:
    """The receiving group's people: its lead and active members, each once."""
    people = {m.pk: m for m in group.members.filter(is_active=True)}
    if group.lead is not None and group.lead.is_active:
        people[group.lead.pk] = group.lead
    return sorted(people.values(), key=lambda u: u.pk)


def mail_receiving_group(events: Sequence[Event], hints: Mapping[str, Any]) -> None:
    """An internal escalation: the receiving group's lead and members are told, each in
    their language and zone, with the reason and their internal response due time (OLA)."""
    for event in events:
        new = event.new or {}
        if new.get("kind") != "internal":
            continue
        escalation = (
            Escalation.objects.select_related("ticket", "group__lead", "created_by")
            .filter(pk=new.get("escalation"))
            .first()
        )
        if escalation is None or escalation.group is None:
            continue
        ticket = escalation.ticket
        ola = (
            TicketClock.objects.filter(ticket=ticket, kind="ola", group=escalation.group)
            .order_by("-started_at")
            .first()
        )
        link = links.absolute(reverse("desk:ticket", args=[ticket.number]))
        by = escalation.created_by.display_name if escalation.created_by else "—"
        for person in _group_people(escalation.group):
            if escalation.created_by_id == person.pk:
                continue  # who escalated knows
            zone = _zone(person)
            with translation.override(_language(person)):
                subject, body = _render(
                    "mail/escalation_received.txt",
                    {
                        "group": escalation.group,
                        "reference": ticket.reference,
                        "subject": ticket.subject,
                        "by": by,
                        "reason": escalation.reason,
                        "due": _when(ola.due_at, zone) if ola and ola.due_at else "",
                        "zone": str(zone),
                        "link": link,
                    },
                )
            queue_email(
                to=[person.email],
                subject=subject,
                body_text=body,
                ticket=ticket,
                dedupe_key=f"escalation-received:{escalation.pk}:{person.pk}",
            )


# ---- The vendor's answers (called by ``mail.ingest``) -------------------------------------


def escalation_answered(parsed: parsing.ParsedMessage) -> Escalation | None:
    """The vendor escalation ``parsed`` answers, if it comes from that vendor's mail domain:
    by the Message-IDs of its thread in In-Reply-To/References, else by the subject token."""
    escalation = None
    if parsed.thread_ids:
        found = dict(
            VendorMessage.objects.filter(message_id__in=parsed.thread_ids).values_list(
                "message_id", "escalation_id"
            )
        )
        escalation_id = next((found[i] for i in parsed.thread_ids if i in found), None)
        if escalation_id is not None:
            escalation = Escalation.objects.select_related("ticket", "vendor").get(pk=escalation_id)
    if escalation is None and (token := find_vendor_token(parsed.subject)):
        number, escalation_id = token
        escalation = (
            Escalation.objects.select_related("ticket", "vendor")
            .filter(pk=escalation_id, ticket__number=number, kind=EscalationKind.VENDOR)
            .first()
        )
    if escalation is None:
        return None
    domain = parsed.sender.email.rpartition("@")[2].lower()
    return escalation if domain in escalation_selectors.vendor_domains(escalation) else None


def receive(parsed: parsing.ParsedMessage, escalation: Escalation, *, message_id: str) -> None:
    """Store the vendor's mail in ``escalation``'s thread (its files stay in the raw mail)."""
    body = quoting.split_reply(parsed.text).new.strip() or parsed.text.strip()
    names = [part.filename for part in parsed.attachments]
    if names:
        body = f"{body}\n\n[Attachments, kept in the original email: {', '.join(names)}]"
    escalations.receive_vendor_message(
        escalation=escalation,
        sender=parsed.sender.email.lower(),
        subject=parsed.subject,
        body=body or "(empty message)",
        message_id=message_id,
    )
