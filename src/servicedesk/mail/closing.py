"""The mail of closing the loop (SPEC §8), as subscribers of recorded events
(``servicedesk.subscribers``): the resolution ("please confirm, or reply if not"), each
reminder of the closing sweep, and the confirmation of the automatic closing.

Each is written to the outbox in the change's transaction, to the requester only (the links
in it are theirs: a login link to the ticket and the one-click rating links, signed and
expiring, ``core.links``), in their language and time zone, in the ticket's email thread.
The dedupe keys make a second delivery of the same fact send nothing.
"""

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from django.conf import settings
from django.utils import translation

from servicedesk.mail.notifications import (
    _desk_name,
    _language,
    _mail_in_thread,
    _render,
    _when,
    _zone,
    login_link,
)
from servicedesk.portal.rating import rating_link
from servicedesk.tickets.models import Event, RatingValue, Ticket
from servicedesk.tickets.workflow import Status


def _context(ticket: Ticket, *, rating: bool) -> dict[str, Any]:
    requester = ticket.requester
    zone = _zone(requester)
    context = {
        "ticket": ticket,
        "requester": requester,
        "zone": str(zone),
        "desk_name": _desk_name(),
        "ticket_link": login_link(requester, ticket),
        "link_days": settings.SERVICEDESK_LINK_DAYS,
        "resolved": _when(ticket.resolved_at, zone) if ticket.resolved_at else "",
    }
    if rating:
        context["rate_good"] = rating_link(ticket, requester, RatingValue.GOOD)
        context["rate_bad"] = rating_link(ticket, requester, RatingValue.BAD)
    return context


def _send(ticket: Ticket, template: str, extra: dict[str, Any], *, rating: bool, key: str) -> None:
    requester = ticket.requester
    with translation.override(_language(requester)):
        subject, body = _render(template, {**_context(ticket, rating=rating), **extra})
    _mail_in_thread(ticket, subject, body, dedupe_key=key)


def mail_resolution(events: Sequence[Event], hints: Mapping[str, Any]) -> None:
    """A ticket moved to resolved: ask the requester to confirm (or reply if it is not),
    and offer the rating."""
    for event in events:
        if event.new != Status.RESOLVED:
            continue
        _send(event.ticket, "mail/resolved.txt", {}, rating=True, key=f"resolved:{event.pk}")


def mail_closing_reminder(events: Sequence[Event], hints: Mapping[str, Any]) -> None:
    """The sweep's reminder n of N: still waiting for the confirmation. The key names the
    resolution and the reminder's number, so one reminder is never mailed twice."""
    for event in events:
        ticket, new = event.ticket, event.new or {}
        zone = _zone(ticket.requester)
        extra = {
            "number": new.get("reminder"),
            "of": new.get("of"),
            "closes": new.get("closes", False),
            "next": _when(datetime.fromisoformat(new["next"]), zone) if new.get("next") else "",
        }
        key = f"closing-reminder:{ticket.pk}:{new.get('resolved_at')}:{new.get('reminder')}"
        _send(ticket, "mail/closing_reminder.txt", extra, rating=False, key=key)


def mail_auto_closed(events: Sequence[Event], hints: Mapping[str, Any]) -> None:
    """The ticket closed by itself after the unanswered reminders: confirm it, and offer
    the rating."""
    for event in events:
        extra = {"reminders": (event.new or {}).get("reminders", 0)}
        _send(
            event.ticket, "mail/auto_closed.txt", extra, rating=True, key=f"auto-closed:{event.pk}"
        )
