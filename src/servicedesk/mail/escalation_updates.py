"""The customer kept informed of escalations (SPEC §6), as a subscriber of the ``escalated``
and ``de_escalated`` events (``servicedesk.subscribers``).

The requester gets a short update in their language and time zone, in the ticket's email
thread: where the case is, in words that name no outside party (a specialist team, the
software vendor; never the vendor's name or their references), and by when they will next
hear from us: the running next-update clock's due time (which the escalation's expected
next update, or the vendor's promised date, has set: ``sla.services.set_next_update``),
else the first response's; and the vendor's promised date as the latest, when it comes
after that. Not sent when the agent chose not
to tell the customer (``notify_customer`` false: the reason is on the escalation).
"""

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from django.utils import translation

from servicedesk.accounts.models import VendorKind
from servicedesk.escalation import levels
from servicedesk.escalation.models import Escalation, EscalationKind
from servicedesk.mail.notifications import (
    _desk_name,
    _language,
    _link_context,
    _mail_in_thread,
    _render,
    _when,
    _zone,
)
from servicedesk.sla import selectors as sla_selectors
from servicedesk.sla.models import ClockKind
from servicedesk.tickets.models import Event, EventKind, Ticket

# Where a vendor escalation puts the case, as the customer is told it.
_VENDOR_PLACES = {
    VendorKind.SOFTWARE_OWNER: "vendor",
    VendorKind.INTEGRATOR: "partner",
    VendorKind.HOSTING_PROVIDER: "hosting",
}


def _place(event: Event) -> str:
    """Where the case is now, as one of the template's words."""
    new = event.new or {}
    if event.kind == EventKind.DE_ESCALATED:
        if new.get("kind") == EscalationKind.VENDOR:
            return "back"
        return "desk" if new.get("level") in (None, levels.ENTRY) else "specialists"
    if new.get("kind") == EscalationKind.INTERNAL:
        return "specialists"
    vendor = Escalation.objects.filter(pk=new.get("escalation")).values_list(
        "vendor__kind", flat=True
    )
    return _VENDOR_PLACES.get(vendor.first(), "third_party")


def _wanted(event: Event) -> bool:
    """Tell the customer? Not when the agent said no; nor of the end of escalations the
    customer was never told of."""
    new = event.new or {}
    if event.kind == EventKind.ESCALATED:
        return new.get("notify_customer", True) is not False
    ended = [new["escalation"]] if new.get("escalation") else new.get("escalations") or []
    told = Escalation.objects.filter(pk__in=ended).values_list("notify_customer", flat=True)
    return not ended or not told or any(told)


def next_update(ticket: Ticket) -> datetime | None:
    """When the customer is owed our next word: the running next-update clock's due time,
    else the running first-response clock's; None when neither runs."""
    clocks = sla_selectors.current_clocks(ticket.pk)
    for kind in (ClockKind.NEXT_UPDATE, ClockKind.FIRST_RESPONSE):
        row = clocks.get(kind)
        if row is not None and row.met_at is None and not row.stopped and row.due_at:
            return row.due_at
    return None


def mail_escalation_update(events: Sequence[Event], hints: Mapping[str, Any]) -> None:
    """Tell the requester where their case now is and when they will next hear from us."""
    for event in events:
        if _wanted(event):
            _update(event)


def _update(event: Event) -> None:
    ticket = event.ticket
    requester = ticket.requester
    zone = _zone(requester)
    due = next_update(ticket)
    promised = (event.new or {}).get("promised_by") if event.kind == EventKind.ESCALATED else None
    latest = datetime.fromisoformat(promised) if promised else None
    with translation.override(_language(requester)):
        subject, body = _render(
            "mail/escalation_update.txt",
            {
                "ticket": ticket,
                "requester": requester,
                "where": _place(event),
                # The clock's time (the promise the escalation set, when it gave one); the
                # vendor's date as the latest only when it comes after it.
                "next_update": _when(due, zone) if due else "",
                "latest": _when(latest, zone) if latest and (not due or due < latest) else "",
                "zone": str(zone),
                "desk_name": _desk_name(),
                **_link_context(requester, ticket),
            },
        )
    _mail_in_thread(ticket, subject, body, dedupe_key=f"escalation-update:{event.pk}")
