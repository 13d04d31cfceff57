"""Reads for tickets. Every query starts from ``visible_to(user)``."""

from dataclasses import dataclass, field
from datetime import datetime

from django.utils.translation import gettext_noop

from servicedesk.accounts.services import organisation_domain
from servicedesk.core import config_cache, labels
from servicedesk.core.errors import NotFound
from servicedesk.core.prepared import Prepared
from servicedesk.tickets import triage
from servicedesk.tickets.models import (
    Attachment,
    Comment,
    Event,
    PriorityBand,
    Ticket,
    TicketQuerySet,
)


def triage_bands() -> tuple[triage.Band, ...]:
    """The configured priority bands, or the S4 default when none are configured."""

    def load() -> tuple[triage.Band, ...]:
        rows = PriorityBand.objects.order_by("min_score")
        return tuple(triage.Band(r.key, r.label, r.min_score, r.max_score) for r in rows)

    return config_cache.memo("triage_bands", load) or triage.S4_BANDS


def priority_labels() -> dict[str, str]:
    """Priority key → label, for the configured bands and the S1/S4 presets."""
    labels = {b.key: b.label for b in (*triage.S1_BANDS, *triage.S4_BANDS)}
    labels.update({b.key: b.label for b in triage_bands()})
    return labels


def assessment(urgency: int, impact: int) -> dict:
    """Score and priority (its label in the reader's language) of an urgency and an impact,
    under the configured bands: what the desk and the portal show as one chooses them."""
    result = triage.assess(urgency=urgency, impact=impact, bands=triage_bands())
    label = labels.shown(priority_labels().get(result.priority, result.priority))
    return {"urgency": urgency, "impact": impact, "score": result.score, "priority": label}


def tickets_for(user) -> TicketQuerySet:
    return Ticket.objects.visible_to(user)


_PEOPLE_AND_PLACES = (
    "organisation__account_manager",
    "organisation__project_lead",
    "requester",
    "assignee",
    "group",
    "product",
    "category",
)
# Whoever sees every ticket (``sees_every_ticket``) reads a ticket with the same statement, on
# every page of the desk's ticket: prepared.
_ANY_TICKET = Prepared(
    lambda number: Ticket.objects.select_related(*_PEOPLE_AND_PLACES).filter(number=number)
)


def sees_every_ticket(user) -> bool:
    """Whether ``visible_to`` puts no condition on ``user``'s tickets (staff): their reads are
    then the same statements whoever asks, and may be prepared."""
    return not Ticket.objects.visible_to(user).query.where


def get_ticket(*, user, number: int) -> Ticket:
    """The ticket numbered ``number`` if ``user`` may see it; ``NotFound`` otherwise."""
    if sees_every_ticket(user):
        rows = _ANY_TICKET(number)
    else:  # numbers are unique: no ORDER BY, no LIMIT
        visible = Ticket.objects.visible_to(user).select_related(*_PEOPLE_AND_PLACES)
        rows = list(visible.filter(number=number))
    if not rows:
        raise NotFound(gettext_noop("No ticket numbered %(number)s."), number=number)
    return rows[0]


def thread(*, user, ticket: Ticket):
    """The comments of ``ticket`` that ``user`` may read, oldest first, with attachments."""
    return (
        Comment.objects.visible_to(user)
        .filter(ticket=ticket)
        .select_related("author")
        .prefetch_related("attachments")
    )


@dataclass
class ThreadEntry:
    """What a page shows of one comment: its author's name ("" for the desk's automation)
    and its files as (id, name, size)."""

    pk: int
    internal: bool
    author: str
    created_at: datetime
    channel: str
    body: str
    files: list[tuple[int, str, int]] = field(default_factory=list)


_WHOLE_THREAD = Prepared(
    lambda ticket_id: (
        Comment.objects.filter(ticket_id=ticket_id)
        .order_by("created_at", "pk", "attachments__created_at", "attachments__pk")
        .values_list(
            "pk",
            "internal",
            "author__full_name",
            "author__email",
            "created_at",
            "channel",
            "body",
            "attachments__pk",
            "attachments__filename",
            "attachments__size",
        )
    )
)


def staff_thread(ticket: Ticket) -> list[ThreadEntry]:
    """Every comment of ``ticket``, oldest first, with its files: what staff read (they read
    every comment of every ticket; ``ticket`` was read through ``get_ticket``). One statement,
    compiled once: the desk's ticket page is the page agents open most."""
    entries: dict[int, ThreadEntry] = {}
    for row in _WHOLE_THREAD(ticket.pk):
        entry = entries.get(row.pk)
        if entry is None:
            author = row.author__full_name or row.author__email or ""
            entry = entries[row.pk] = ThreadEntry(
                row.pk, row.internal, author, row.created_at, row.channel, row.body
            )
        if row.attachments__pk is not None:
            entry.files.append(
                (row.attachments__pk, row.attachments__filename, row.attachments__size)
            )
    return list(entries.values())


def history(*, user, ticket: Ticket):
    """The events of ``ticket`` that ``user`` may read, oldest first."""
    return Event.objects.visible_to(user).filter(ticket=ticket).select_related("actor")


def get_attachment(*, user, attachment_id: int) -> Attachment:
    attachment = Attachment.objects.visible_to(user).filter(pk=attachment_id).first()
    if attachment is None:
        raise NotFound(gettext_noop("No such attachment."))
    return attachment


def takes_part(ticket: Ticket, person) -> bool:
    """Whether ``person`` may write into ``ticket``'s conversation: staff, its requester, an
    address copied on it, a contact of its organisation (by account or by email domain), or
    someone who wrote in it before. One rule for every channel: a stranger who knows a
    number opens a ticket of their own instead of writing into someone else's."""
    if person.is_staff or person.pk == ticket.requester_id:
        return True
    if person.email.lower() in (a.lower() for a in ticket.cc):
        return True
    if ticket.organisation_id and person.organisation_id == ticket.organisation_id:
        return True
    owner = organisation_domain(person.email)
    if ticket.organisation_id and owner and owner.organisation_id == ticket.organisation_id:
        return True
    return Comment.objects.filter(ticket=ticket, author=person).exists()
