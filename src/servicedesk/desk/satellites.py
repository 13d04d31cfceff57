"""Which of a ticket's satellite records exist (links, ratings, escalations, the change
request it became), in one prepared statement: most tickets have none of them, and each
read the ticket page skipped costs the ORM more to build than the database to answer."""

from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Q

from servicedesk.changes.models import ChangeRequest
from servicedesk.core.prepared import Prepared
from servicedesk.escalation.models import Escalation
from servicedesk.tickets.models import Rating, Ticket, TicketLink


@dataclass(frozen=True)
class Satellites:
    links: bool
    ratings: bool
    escalations: bool
    change: bool


_EXISTING = Prepared(
    lambda ticket_id: (
        Ticket.objects.filter(pk=ticket_id)
        .annotate(
            has_links=Exists(
                TicketLink.objects.filter(Q(source=OuterRef("pk")) | Q(target=OuterRef("pk")))
            ),
            has_ratings=Exists(Rating.objects.filter(ticket=OuterRef("pk"))),
            has_escalations=Exists(Escalation.objects.filter(ticket=OuterRef("pk"))),
            has_change=Exists(ChangeRequest.objects.filter(ticket=OuterRef("pk"))),
        )
        .values_list("has_links", "has_ratings", "has_escalations", "has_change")
    )
)


def of(ticket: Ticket) -> Satellites:
    rows = _EXISTING(ticket.pk)
    return Satellites(*(bool(flag) for flag in rows[0])) if rows else Satellites(*[False] * 4)
