"""Mail the desk sends about a ticket: the acknowledgement and public replies.

Each goes through the outbox in the transaction of the change, in the recipient's language
and time zone, with a Message-ID of ours and In-Reply-To/References pointing at the
customer's mail, so their client threads it and their answer comes back to the same ticket.
Internal notes never reach this module: ``public_reply`` refuses them.
"""

import secrets
from datetime import timedelta
from email.utils import parseaddr
from zoneinfo import ZoneInfo

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from servicedesk.mail.models import InboundMessage
from servicedesk.mail.outbox import queue_email
from servicedesk.sla.models import ClockKind, TicketClock
from servicedesk.tickets.models import Comment, Ticket
from servicedesk.tickets.selectors import triage_bands


def new_message_id(ticket: Ticket) -> str:
    return f"<{ticket.reference}.{secrets.token_hex(8)}@{settings.SERVICEDESK_MAIL_DOMAIN}>"


def _thread_headers(ticket: Ticket) -> dict[str, str]:
    """In-Reply-To the customer's latest mail on the ticket; References its first and latest."""
    ids = list(
        InboundMessage.objects.filter(ticket=ticket)
        .exclude(message_id="")
        .order_by("received_at", "pk")
        .values_list("message_id", flat=True)
    )
    if not ids:
        return {}
    chain = list(dict.fromkeys([ids[0], *ids[-9:]]))
    return {
        "In-Reply-To": f"<{ids[-1]}>",
        "References": " ".join(f"<{i}>" for i in chain),
    }


def _duration(value: timedelta) -> str:
    minutes = int(value.total_seconds() // 60)
    if minutes % 60:
        return ngettext("%(count)d minute", "%(count)d minutes", minutes) % {"count": minutes}
    hours = minutes // 60
    return ngettext("%(count)d hour", "%(count)d hours", hours) % {"count": hours}


def _priority_label(key: str) -> str:
    return next((band.label for band in triage_bands() if band.key == key), key)


def _desk_name() -> str:
    return parseaddr(settings.DEFAULT_FROM_EMAIL)[0] or "Servicedesk"


def acknowledge(ticket: Ticket, *, clocks=None, in_reply_to: str = "") -> None:
    """Tell the requester their ticket is open: number, triage, and the SLA that applies with
    the first-response due time in their own time zone and language.

    ``clocks``: the new ticket's clocks, when the caller has them (else they are read);
    ``in_reply_to``: the Message-ID of the mail that opened the ticket, if one did."""
    requester = ticket.requester
    if clocks is None:
        clocks = TicketClock.objects.filter(ticket=ticket).select_related("policy")
    clock = max(
        (c for c in clocks if c.kind == ClockKind.FIRST_RESPONSE),
        key=lambda c: c.started_at,
        default=None,
    )
    zone = ZoneInfo(requester.timezone or settings.TIME_ZONE)
    with translation.override(requester.language or settings.LANGUAGE_CODE):
        first_response = None
        if clock is not None and clock.due_at is not None:
            first_response = {
                "policy_name": clock.policy.name if clock.policy else "",
                "target": _duration(clock.target),
                "due": date_format(timezone.localtime(clock.due_at, zone), "DATETIME_FORMAT"),
            }
        body = render_to_string(
            "mail/acknowledgement.txt",
            {
                "ticket": ticket,
                "requester": requester,
                "priority": _priority_label(ticket.priority),
                "first_response": first_response,
                "zone": str(zone),
                "desk_name": _desk_name(),
            },
        )
        subject = _("%(token)s Received: %(subject)s") % {
            "token": ticket.subject_token,
            "subject": ticket.subject,
        }
    # A new ticket's only mail is the one that opened it: no need to look for others.
    headers = (
        {"In-Reply-To": f"<{in_reply_to}>", "References": f"<{in_reply_to}>"} if in_reply_to else {}
    )
    headers["Auto-Submitted"] = "auto-replied"  # RFC 3834: robots must not answer this
    queue_email(
        to=[requester.email],
        subject=subject,
        body_text=body,
        headers=headers,
        message_id=new_message_id(ticket),
        ticket=ticket,
        dedupe_key=f"ack:{ticket.pk}",
    )


def public_reply(comment: Comment) -> None:
    """Email a public reply from the desk to the requester and the ticket's copied addresses."""
    if comment.internal:
        raise ValueError("Internal notes are never emailed.")
    ticket = comment.ticket
    requester = ticket.requester
    recipients = [requester.email]
    copied = [a for a in ticket.cc if a.lower() != requester.email.lower()]
    with translation.override(requester.language or settings.LANGUAGE_CODE):
        author = comment.author.display_name if comment.author else _desk_name()
        body = render_to_string(
            "mail/reply.txt", {"comment": comment, "ticket": ticket, "author": author}
        )
        subject = f"Re: {ticket.subject} {ticket.subject_token}"
    queue_email(
        to=recipients,
        cc=copied,
        subject=subject,
        body_text=body,
        headers=_thread_headers(ticket),
        message_id=new_message_id(ticket),
        ticket=ticket,
        dedupe_key=f"reply:{comment.pk}",
    )
