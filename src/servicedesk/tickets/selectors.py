"""Reads for tickets. Every query starts from ``visible_to(user)``."""

from servicedesk.core.errors import NotFound
from servicedesk.tickets import triage
from servicedesk.tickets.models import (
    Attachment,
    Comment,
    Event,
    EventKind,
    PriorityBand,
    Ticket,
    TicketQuerySet,
)


def triage_bands() -> tuple[triage.Band, ...]:
    """The configured priority bands, or the S4 default when none are configured."""
    rows = PriorityBand.objects.order_by("min_score")
    bands = tuple(triage.Band(r.key, r.label, r.min_score, r.max_score) for r in rows)
    return bands or triage.S4_BANDS


def priority_labels() -> dict[str, str]:
    """Priority key → label, for the configured bands and the S1/S4 presets."""
    labels = {b.key: b.label for b in (*triage.S1_BANDS, *triage.S4_BANDS)}
    labels.update({b.key: b.label for b in triage_bands()})
    return labels


def tickets_for(user) -> TicketQuerySet:
    return Ticket.objects.visible_to(user)


def get_ticket(*, user, number: int) -> Ticket:
    """The ticket numbered ``number`` if ``user`` may see it; ``NotFound`` otherwise."""
    ticket = (
        Ticket.objects.visible_to(user)
        .select_related("organisation", "requester", "assignee", "group", "product", "category")
        .filter(number=number)
        .first()
    )
    if ticket is None:
        raise NotFound(f"No ticket numbered {number}.")
    return ticket


def thread(*, user, ticket: Ticket):
    """The comments of ``ticket`` that ``user`` may read, oldest first, with attachments."""
    return (
        Comment.objects.visible_to(user)
        .filter(ticket=ticket)
        .select_related("author")
        .prefetch_related("attachments")
    )


def history(*, user, ticket: Ticket):
    """The events of ``ticket`` that ``user`` may read, oldest first."""
    events = Event.objects.visible_to(user).filter(ticket=ticket).select_related("actor")
    if user is not None and user.is_authenticated and not user.is_staff:
        # A file attached to an internal note is as internal as the note: its event (which
        # names the file) is hidden from customers like the note's own event.
        internal = set(
            Attachment.objects.filter(ticket=ticket, comment__internal=True).values_list(
                "pk", flat=True
            )
        )
        if internal:
            attached = events.filter(kind=EventKind.ATTACHMENT).values_list("pk", "new")
            hidden = [
                pk for pk, new in attached if isinstance(new, dict) and new.get("id") in internal
            ]
            events = events.exclude(pk__in=hidden)
    return events


def get_attachment(*, user, attachment_id: int) -> Attachment:
    attachment = Attachment.objects.visible_to(user).filter(pk=attachment_id).first()
    if attachment is None:
        raise NotFound("No such attachment.")
    return attachment
