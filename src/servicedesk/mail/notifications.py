"""The mail the desk sends, as subscribers of recorded events (``servicedesk.subscribers``):
the acknowledgement of a new ticket, public replies, the confirmed triage, SLA warnings
and breaches.

Each writes to the outbox inside the transaction of the change, in the recipient's language
and time zone, with a Message-ID of ours and In-Reply-To/References pointing at the
customer's mail, so their client threads it and their answer comes back to the same ticket.
The wording lives in the templates of ``mail/templates/mail/``. Internal notes never reach
this module: their events are of another kind, and ``_public_reply`` refuses them anyway.

A customer's own mail carries a signed login link (``core.links``): one click from the email
to the ticket. It is theirs alone, so the people copied on a reply get their own message,
without it; staff never get one (they sign in with their password).
"""

import secrets
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from email.utils import parseaddr
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import ngettext

from servicedesk.accounts.models import User
from servicedesk.core import links
from servicedesk.core.labels import shown
from servicedesk.mail.models import InboundMessage
from servicedesk.mail.outbox import queue_email
from servicedesk.sla import selectors as sla_selectors
from servicedesk.sla.models import INTERNAL_KINDS, ClockKind, TicketClock
from servicedesk.tickets.models import Comment, Event, Ticket
from servicedesk.tickets.selectors import triage_bands


def new_message_id(reference: str) -> str:
    """A Message-ID of the desk's for a mail about ``reference`` (SD-10042, CR-12, …)."""
    return f"<{reference}.{secrets.token_hex(8)}@{settings.SERVICEDESK_MAIL_DOMAIN}>"


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
    """The priority's name in the active language (a name the desk typed stays as typed)."""
    return shown(next((band.label for band in triage_bands() if band.key == key), key))


def _desk_name() -> str:
    return parseaddr(settings.DEFAULT_FROM_EMAIL)[0] or "Servicedesk"


def _zone(person: User) -> ZoneInfo:
    return ZoneInfo(person.timezone or settings.TIME_ZONE)


def _language(person: User) -> str:
    return person.language or settings.LANGUAGE_CODE


def _when(moment, zone: ZoneInfo) -> str:
    return date_format(timezone.localtime(moment, zone), "DATETIME_FORMAT")


def login_link(person: User, ticket: Ticket | None = None) -> str:
    """A link that signs ``person`` in once and opens ``ticket``; "" for staff and for
    inactive people (staff sign in with their password only)."""
    if person.is_staff or not person.is_active:
        return ""
    token = links.login_token(person, ticket_number=ticket.number if ticket else None)
    return links.absolute(reverse("portal:enter", args=[token]))


def _link_context(person: User, ticket: Ticket) -> dict:
    """The login link of a customer's mail about ``ticket`` (none for staff), for templates."""
    return {"login_link": login_link(person, ticket), "link_days": settings.SERVICEDESK_LINK_DAYS}


def _render(template: str, context: dict) -> tuple[str, str]:
    """A mail's subject (the first line of the template) and its body (the rest)."""
    text = render_to_string(template, context)
    subject, _, body = text.partition("\n")
    return " ".join(subject.split()), body.lstrip("\n")


def _running_dues(clocks, zone: ZoneInfo) -> list[dict]:
    """The due times still owed, nearest first, as the customer reads them (never the
    desk's own targets: an OLA)."""
    rows = [
        c
        for c in clocks
        if c.met_at is None
        and not c.stopped
        and c.due_at is not None
        and c.kind not in INTERNAL_KINDS
    ]
    return [
        {
            "label": ClockKind(c.kind).label,
            "target": _duration(c.target),
            "due": _when(c.due_at, zone),
        }
        for c in sorted(rows, key=lambda c: c.due_at)
    ]


# ---- Subscribers ------------------------------------------------------------------------


def acknowledge_new_ticket(events: Sequence[Event], hints: Mapping[str, Any]) -> None:
    """Tell the requester their ticket is open: number, proposed triage (which the desk will
    confirm), and the SLA with the first-response due time in their own time and language.

    Hints: ``clocks``, the new ticket's clocks (else they are read); ``in_reply_to``, the
    Message-ID of the mail that opened the ticket."""
    for event in events:
        ticket = event.ticket
        clocks = hints.get("clocks")
        if clocks is None:
            clocks = TicketClock.objects.filter(ticket=ticket).select_related("policy")
        _acknowledge(ticket, clocks=clocks, in_reply_to=hints.get("in_reply_to", ""))


def _acknowledge(ticket: Ticket, *, clocks, in_reply_to: str) -> None:
    requester = ticket.requester
    clock = max(
        (c for c in clocks if c.kind == ClockKind.FIRST_RESPONSE),
        key=lambda c: c.started_at,
        default=None,
    )
    zone = _zone(requester)
    with translation.override(_language(requester)):
        first_response = None
        if clock is not None and clock.due_at is not None:
            first_response = {
                "policy_name": clock.policy.name if clock.policy else "",
                "target": _duration(clock.target),
                "due": _when(clock.due_at, zone),
            }
        subject, body = _render(
            "mail/acknowledgement.txt",
            {
                "ticket": ticket,
                "requester": requester,
                "priority": _priority_label(ticket.priority),
                "first_response": first_response,
                "zone": str(zone),
                "desk_name": _desk_name(),
                **_link_context(requester, ticket),
            },
        )
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
        message_id=new_message_id(ticket.reference),
        ticket=ticket,
        dedupe_key=f"ack:{ticket.pk}",
        new_key=True,  # the ticket was made in this very transaction
    )


def mail_public_reply(events: Sequence[Event], hints: Mapping[str, Any]) -> None:
    """Email each public reply of the desk (staff or automation) to the requester and the
    ticket's copied addresses. A customer's own reply is not mailed back to them."""
    ids = [e.new["comment"] for e in events if not e.internal]
    comments = Comment.objects.filter(pk__in=ids, internal=False).select_related(
        "author", "ticket__requester"
    )
    for comment in comments:
        if comment.author is None or comment.author.is_staff:
            _public_reply(comment)


def _public_reply(comment: Comment) -> None:
    if comment.internal:
        raise ValueError("Internal notes are never emailed.")
    ticket = comment.ticket
    requester = ticket.requester
    copied = [a for a in ticket.cc if a.lower() != requester.email.lower()]
    with translation.override(_language(requester)):
        author = comment.author.display_name if comment.author else _desk_name()
        context = {"comment": comment, "ticket": ticket, "author": author}
        subject, body = _render("mail/reply.txt", {**context, **_link_context(requester, ticket)})
        if copied:  # the same reply without the requester's login link
            copy_subject, copy_body = _render("mail/reply.txt", context)
    _mail_in_thread(ticket, subject, body, dedupe_key=f"reply:{comment.pk}")
    if copied:
        queue_email(
            to=copied,
            subject=copy_subject,
            body_text=copy_body,
            headers=_thread_headers(ticket),
            message_id=new_message_id(ticket.reference),
            ticket=ticket,
            dedupe_key=f"reply-copy:{comment.pk}",
        )


def _mail_in_thread(
    ticket: Ticket, subject: str, body: str, *, dedupe_key: str, cc: Sequence[str] = ()
) -> None:
    """Mail the requester (and ``cc``) in the ticket's email thread, once per ``dedupe_key``.
    A body with the requester's login link goes to them alone (no ``cc``)."""
    queue_email(
        to=[ticket.requester.email],
        cc=list(cc),
        subject=subject,
        body_text=body,
        headers=_thread_headers(ticket),
        message_id=new_message_id(ticket.reference),
        ticket=ticket,
        dedupe_key=dedupe_key,
    )


def mail_confirmed_triage(events: Sequence[Event], hints: Mapping[str, Any]) -> None:
    """Seed 004: once the desk confirms or corrects the triage, the requester is sent the
    ticket's number, the confirmed score and priority, and the due times that now apply."""
    for event in events:
        ticket = event.ticket  # the service's own object, as the change left it
        requester = ticket.requester
        zone = _zone(requester)
        clocks = TicketClock.objects.filter(ticket=ticket).select_related("policy")
        with translation.override(_language(requester)):
            policy = next((c.policy.name for c in clocks if c.policy), "")
            subject, body = _render(
                "mail/triage_confirmed.txt",
                {
                    "ticket": ticket,
                    "requester": requester,
                    "confirmed": event.new,
                    "corrected": ticket.proposed_triage is not None
                    and ticket.proposed_triage != ticket.confirmed_triage,
                    "priority": _priority_label(event.new["priority"]),
                    "policy_name": policy,
                    "dues": _running_dues(clocks, zone),
                    "zone": str(zone),
                    "desk_name": _desk_name(),
                    **_link_context(requester, ticket),
                },
            )
        _mail_in_thread(ticket, subject, body, dedupe_key=f"triage:{event.pk}")


def mail_sla_alert(events: Sequence[Event], hints: Mapping[str, Any]) -> None:
    """Warn the assignee, the group's lead and the support managers that a target is about
    to be missed, or was."""
    for event in events:
        ticket = event.ticket
        breach = event.kind == "sla_breach"
        # An OLA's alert names its group: that group's lead and members are told.
        group_id = event.new.get("group")
        for person in sla_selectors.alert_recipients(ticket, group_id=group_id):
            zone = _zone(person)
            with translation.override(_language(person)):
                subject, body = _render(
                    "mail/sla_alert.txt",
                    {
                        "ticket": ticket,
                        "breach": breach,
                        "target": ClockKind(event.field).label,
                        "due": timezone.localtime(
                            datetime.fromisoformat(event.new["due"]), zone
                        ).strftime("%Y-%m-%d %H:%M %Z"),
                        "priority": _priority_label(ticket.priority),
                        "assignee": ticket.assignee,
                    },
                )
            queue_email(
                to=[person.email],
                subject=subject,
                body_text=body,
                ticket=ticket,
                dedupe_key=f"sla-{'breach' if breach else 'warning'}:{event.new['clock']}:{person.pk}",
            )
