"""Reads of escalations: a ticket's level and escalations (with ``overdue`` computed in the
query), and vendors' response times for the quarterly vendor review (SPEC §10)."""

import statistics
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parseaddr

from django.db.models import BooleanField, ExpressionWrapper, Q, QuerySet

from servicedesk.accounts.models import Vendor
from servicedesk.core import clock
from servicedesk.escalation.models import Escalation, EscalationKind
from servicedesk.tickets.models import Ticket


def current_level(ticket: Ticket) -> str | None:
    """The support level the ticket is at: its group's (None without a group)."""
    return ticket.group.level if ticket.group_id else None


def overdue_condition(now: datetime) -> Q:
    """An open vendor escalation whose promised date passed without an answer."""
    return Q(
        kind=EscalationKind.VENDOR,
        promised_by__lte=now,
        answered_at__isnull=True,
        closed_at__isnull=True,
    )


def with_overdue(rows: QuerySet | None = None, *, now: datetime | None = None) -> QuerySet:
    """Escalations (all, or ``rows``) annotated ``overdue`` as of ``now``, with their vendor,
    group and release read in the same query."""
    rows = Escalation.objects.all() if rows is None else rows
    return rows.select_related("vendor", "group", "fix_release", "created_by").annotate(
        overdue=ExpressionWrapper(
            overdue_condition(now or clock.now()), output_field=BooleanField()
        )
    )


def escalations_for(ticket: Ticket, *, now: datetime | None = None) -> list[Escalation]:
    """Every escalation of ``ticket``, oldest first, each with ``overdue``."""
    return list(
        with_overdue(Escalation.objects.filter(ticket=ticket), now=now).order_by("created_at", "pk")
    )


@dataclass(frozen=True)
class VendorReview:
    """A vendor's answering over a period: how many escalations, how many answered and in
    what time (first answer minus escalation), how many promises broken."""

    vendor: Vendor
    since: datetime
    escalations: int
    answered: int
    unanswered: int
    late: int  # answered after the promised date, or not answered by it
    mean: timedelta | None
    median: timedelta | None
    longest: timedelta | None


def vendor_response_times(
    vendor: Vendor, since: datetime, *, now: datetime | None = None
) -> VendorReview:
    """The response times of ``vendor`` to the escalations made since ``since``."""
    now = now or clock.now()
    rows = list(
        Escalation.objects.filter(
            vendor=vendor, kind=EscalationKind.VENDOR, created_at__gte=since
        ).values_list("created_at", "answered_at", "promised_by")
    )
    times = [answered - created for created, answered, _ in rows if answered is not None]
    late = sum(
        1 for _, answered, promised in rows if promised is not None and (answered or now) > promised
    )
    seconds = [t.total_seconds() for t in times]
    return VendorReview(
        vendor=vendor,
        since=since,
        escalations=len(rows),
        answered=len(times),
        unanswered=len(rows) - len(times),
        late=late,
        mean=timedelta(seconds=statistics.fmean(seconds)) if seconds else None,
        median=timedelta(seconds=statistics.median(seconds)) if seconds else None,
        longest=max(times) if times else None,
    )


def vendor_thread(escalation: Escalation):
    """The messages exchanged with the vendor on ``escalation``, oldest first (staff only)."""
    return escalation.messages.select_related("author").order_by("created_at", "pk")


def _address(text: str) -> str:
    """The email address in ``text`` ("Ann <ann@vendor.example>" or a bare one), or ""."""
    address = parseaddr(text.strip())[1]
    local, at, domain = address.rpartition("@")
    return address if at and local and "." in domain else ""


def vendor_address(escalation: Escalation) -> str:
    """Where the desk mails the vendor on ``escalation``: the contact, when it holds an email
    address, else the vendor's own address; "" when there is neither."""
    contact = _address(escalation.vendor_contact)
    return contact or (_address(escalation.vendor.email) if escalation.vendor_id else "")


def vendor_domains(escalation: Escalation) -> set[str]:
    """The mail domains the vendor answers from on ``escalation`` (contact's and vendor's)."""
    addresses = [escalation.vendor_contact, escalation.vendor.email if escalation.vendor_id else ""]
    return {a.rpartition("@")[2].lower() for a in map(_address, addresses) if a}
