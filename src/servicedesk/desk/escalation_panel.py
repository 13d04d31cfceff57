"""What the ticket page shows of escalations: the level, each escalation (overdue computed in
the query), the vendor threads apart from the customer's, and the releases a bug may name.
Reads only, a fixed number of queries whatever the number of escalations or messages."""

from dataclasses import dataclass, field
from datetime import datetime

from servicedesk.escalation import selectors
from servicedesk.escalation.models import (
    Escalation,
    EscalationKind,
    Release,
    VendorMessage,
)
from servicedesk.tickets.models import Ticket
from servicedesk.tickets.workflow import ACTIVE


@dataclass
class VendorThread:
    """One vendor escalation and its messages, oldest first."""

    escalation: Escalation
    messages: list[VendorMessage] = field(default_factory=list)


def panel(ticket: Ticket, *, now: datetime, any_escalation: bool = True) -> dict:
    """The escalation part of the ticket page's context (``any_escalation`` false: the
    ticket is known to have none, nothing is read)."""
    escalations = selectors.escalations_for(ticket, now=now) if any_escalation else []
    vendor = [e for e in escalations if e.kind == EscalationKind.VENDOR]
    threads = {e.pk: VendorThread(e) for e in vendor}
    if threads:
        for message in VendorMessage.objects.filter(escalation_id__in=threads).select_related(
            "author"
        ):
            threads[message.escalation_id].messages.append(message)
    releases: dict[int, list[Release]] = {}
    vendors = {e.vendor_id for e in vendor if e.closed_at is None}
    if vendors:
        for release in Release.objects.filter(vendor_id__in=vendors).order_by("vendor", "name"):
            releases.setdefault(release.vendor_id, []).append(release)
    return {
        "level": selectors.current_level(ticket),
        "escalations": escalations,
        "open_internal": any(
            e.kind == EscalationKind.INTERNAL and e.closed_at is None for e in escalations
        ),
        "vendor_threads": list(threads.values()),
        "vendor_releases": releases,
    }


def waiting_on(release: Release) -> list[Ticket]:
    """The active tickets whose escalation names ``release`` as the fix (as
    ``escalation.services.mark_release_shipped`` returns them), with that escalation's bug
    reference as ``bug_references``."""
    rows = list(
        Ticket.objects.filter(
            escalations__fix_release=release, status__in=[s.value for s in ACTIVE]
        )
        .distinct()
        .select_related("requester", "organisation")
        .order_by("number")
    )
    references: dict[int, list[str]] = {}
    for ticket_id, reference in Escalation.objects.filter(
        fix_release=release, ticket__in=[t.pk for t in rows]
    ).values_list("ticket_id", "vendor_bug_reference"):
        if reference and reference not in references.setdefault(ticket_id, []):
            references[ticket_id].append(reference)
    for ticket in rows:
        ticket.bug_references = references.get(ticket.pk, [])
    return rows


def waiting_by_release(releases: list[Release]) -> dict[int, list[Ticket]]:
    """The active tickets waiting on each of ``releases``: one query."""
    found: dict[int, list[Ticket]] = {r.pk: [] for r in releases}
    rows = (
        Escalation.objects.filter(
            fix_release__in=list(found), ticket__status__in=[s.value for s in ACTIVE]
        )
        .select_related("ticket")
        .order_by("ticket__number", "pk")
    )
    for escalation in rows:
        waiting = found[escalation.fix_release_id]
        if all(t.pk != escalation.ticket_id for t in waiting):
            waiting.append(escalation.ticket)
    return found
