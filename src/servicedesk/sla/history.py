"""The past of clocks that arrive with their ticket's history (imports, the demo desk).

What had already become of such a clock before it arrived is recorded as it happened: a
warning at its warning time, a breach at its due time, a target met when the desk answered,
each with its event at that moment, as a live desk's sweep and replies would have left them.
Nothing is notified (those moments are long gone, and nothing is published), and the sweep
finds nothing left to announce; the moments still ahead are the sweep's, as for any ticket.
"""

from datetime import datetime

from django.db.models import F, Q, QuerySet

from servicedesk.core import bulk
from servicedesk.sla import rules
from servicedesk.sla.models import TicketClock
from servicedesk.tickets.models import Event, EventKind


def _happened(moment: datetime | None, *, met_at: datetime | None, now: datetime) -> bool:
    """A warning or breach at ``moment`` happened: it came, and before the target was met."""
    return moment is not None and moment <= now and (met_at is None or met_at > moment)


def settle(tickets: QuerySet | list[int], *, now: datetime) -> int:
    """Record the warnings, breaches and met targets of these tickets' clocks (a queryset of
    tickets, or their ids) up to ``now``; returns how many events it wrote. Call in the
    transaction that wrote the clocks."""
    clocks = TicketClock.objects.filter(ticket__in=tickets, stopped=False)
    events = []
    rows = clocks.values_list(
        "pk", "ticket_id", "kind", "warn_at", "due_at", "met_at", "warned_at", "breached_at"
    )
    for pk, ticket_id, kind, warn_at, due_at, met_at, warned_at, breached_at in rows:
        # The layouts the sweep (warning, breach) and a desk reply (met) write.
        due = {"due": due_at and due_at.isoformat()}
        if warned_at is None and _happened(warn_at, met_at=met_at, now=now):
            events.append((ticket_id, kind, warn_at, EventKind.SLA_WARNING, {**due, "clock": pk}))
        if breached_at is None and _happened(due_at, met_at=met_at, now=now):
            events.append((ticket_id, kind, due_at, EventKind.SLA_BREACH, {**due, "clock": pk}))
        if met_at is not None:
            late = rules.met_late(
                rules.ClockFacts(due_at=due_at, met_at=met_at, breached_at=breached_at)
            )
            events.append((ticket_id, kind, met_at, EventKind.SLA_MET, {**due, "late": late}))
    # The same conditions as ``_happened``, as two statements over the clocks.
    for moment, done in (("warn_at", "warned_at"), ("due_at", "breached_at")):
        clocks.filter(
            Q(met_at=None) | Q(met_at__gt=F(moment)),
            **{f"{moment}__lte": now, f"{done}__isnull": True},
        ).update(**{done: F(moment)})
    return bulk.insert(
        Event,
        ("ticket", "at", "kind", "field", "new"),
        ((ticket, at, kind, clock_kind, new) for ticket, clock_kind, at, kind, new in events),
    )
