"""Tickets brought from another desk, in bulk, with their own history.

Each ticket keeps its original timestamps, thread and status; the SLA clocks of those still
active are computed from those timestamps (``sla.backfill_clocks``). Idempotent by
``external_id``: sending the same ticket again skips it. No acknowledgement, reply mail or
webhook goes out for history. One transaction per call; bulk inserts throughout.
"""

from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction

from servicedesk.accounts.models import Organisation, User
from servicedesk.accounts.services import contacts_for_emails
from servicedesk.core import clock
from servicedesk.core.errors import DomainError
from servicedesk.sla import services as sla
from servicedesk.tickets import triage
from servicedesk.tickets.models import Channel, Comment, Event, EventKind, Ticket
from servicedesk.tickets.selectors import triage_bands
from servicedesk.tickets.services import allocate_numbers, route_new_ticket
from servicedesk.tickets.workflow import Status

MAX_PER_CALL = 5000
EARLIEST_YEAR = 1990  # no help desk's history is older; SLA calendars start somewhere


class InvalidImport(DomainError):
    code = "invalid_import"


@dataclass(frozen=True)
class Reply:
    author_email: str
    body: str
    internal: bool
    created_at: datetime


@dataclass(frozen=True)
class StatusChange:
    status: str
    at: datetime


@dataclass(frozen=True)
class Item:
    external_id: str
    subject: str
    description: str
    requester_email: str
    created_at: datetime
    requester_name: str = ""
    organisation_id: int | None = None
    status: str = Status.NEW
    urgency: int | None = None
    impact: int | None = None
    updated_at: datetime | None = None
    thread: tuple[Reply, ...] = ()
    status_history: tuple[StatusChange, ...] = ()


@dataclass
class Result:
    created: list[tuple[str, int]] = field(default_factory=list)  # (external id, number)
    skipped: list[tuple[str, int]] = field(default_factory=list)


def _check(item: Item, now: datetime) -> None:
    where = f"ticket {item.external_id}"
    if item.status not in {s.value for s in Status}:
        raise InvalidImport(f"{where}: unknown status {item.status!r}.")
    if item.created_at.tzinfo is None:
        raise InvalidImport(f"{where}: created_at needs a time zone offset.")
    if item.created_at > now:
        raise InvalidImport(f"{where}: created_at is in the future.")
    stamps = [r.created_at for r in item.thread] + [c.at for c in item.status_history]
    if item.updated_at:
        stamps.append(item.updated_at)
    if any(s.tzinfo is None for s in stamps):
        raise InvalidImport(f"{where}: every timestamp needs a time zone offset.")
    if item.created_at.year < EARLIEST_YEAR:
        raise InvalidImport(f"{where}: created_at is before {EARLIEST_YEAR}.")
    if any(s > now for s in stamps):
        raise InvalidImport(f"{where}: its history reaches into the future.")
    if any(s < item.created_at for s in stamps):
        raise InvalidImport(f"{where}: its history starts before the ticket was created.")
    if (item.urgency is None) != (item.impact is None):
        raise InvalidImport(f"{where}: give both urgency and impact, or neither.")
    for change in item.status_history:
        if change.status not in {s.value for s in Status}:
            raise InvalidImport(f"{where}: unknown status {change.status!r} in its history.")
    if not item.subject.strip():
        raise InvalidImport(f"{where}: a ticket needs a subject.")


@transaction.atomic
def import_tickets(items: list[Item], *, by: User | None) -> Result:
    """Create the tickets not imported before; return what was created and what skipped."""
    if len(items) > MAX_PER_CALL:
        raise InvalidImport(f"At most {MAX_PER_CALL} tickets per call; send the rest after.")
    now = clock.now()
    for item in items:
        _check(item, now)
    result = Result()
    known = dict(
        Ticket.objects.filter(external_id__in=[i.external_id for i in items]).values_list(
            "external_id", "number"
        )
    )
    todo, seen = [], set()
    for item in items:
        if item.external_id in known:
            result.skipped.append((item.external_id, known[item.external_id]))
        elif item.external_id not in seen:  # the same id twice in one call: the first counts
            seen.add(item.external_id)
            todo.append(item)
    if not todo:
        return result

    names = {i.requester_email.lower(): i.requester_name for i in todo}
    for item in todo:
        for reply in item.thread:
            names.setdefault(reply.author_email.lower(), "")
    people = contacts_for_emails(names)
    for item in todo:
        if people[item.requester_email.lower()].is_staff:
            raise InvalidImport(
                f"ticket {item.external_id}: the requester must be a customer, not staff."
            )
    org_ids = {i.organisation_id for i in todo if i.organisation_id}
    organisations = Organisation.objects.in_bulk(org_ids)
    missing = org_ids - set(organisations)
    if missing:
        raise InvalidImport(f"Unknown organisation ids: {', '.join(map(str, sorted(missing)))}.")

    bands = triage_bands()
    routes: dict[int | None, object] = {}
    numbers = iter(allocate_numbers(len(todo)))
    tickets = []
    for item in todo:
        requester = people[item.requester_email.lower()]
        organisation = organisations.get(item.organisation_id) or requester.organisation
        org_key = organisation.pk if organisation else None
        if org_key not in routes:
            routes[org_key] = route_new_ticket(
                organisation=organisation, product=None, category=None
            )
        route = routes[org_key]
        assessment = (
            triage.assess(urgency=item.urgency, impact=item.impact, bands=bands)
            if item.urgency
            else None
        )
        updated = max(
            [item.updated_at or item.created_at]
            + [r.created_at for r in item.thread]
            + [c.at for c in item.status_history]
        )
        tickets.append(
            Ticket(
                number=next(numbers),
                external_id=item.external_id,
                organisation=organisation,
                requester=requester,
                channel=Channel.API,
                subject=" ".join(item.subject.split())[:250],
                description=item.description,
                group_id=route.group_id,
                assignee_id=route.assignee_id,
                status=item.status,
                proposed_urgency=item.urgency,
                proposed_impact=item.impact,
                score=assessment.score if assessment else None,
                priority=assessment.priority if assessment else bands[0].key,
                created_at=item.created_at,
                updated_at=updated,
                resolved_at=updated if item.status == Status.RESOLVED else None,
                closed_at=updated if item.status == Status.CLOSED else None,
            )
        )
    Ticket.objects.bulk_create(tickets, batch_size=500)
    if tickets and tickets[0].pk is None:  # databases that return no ids from bulk inserts
        ids = dict(
            Ticket.objects.filter(number__in=[t.number for t in tickets]).values_list(
                "number", "pk"
            )
        )
        for ticket in tickets:
            ticket.pk = ids[ticket.number]

    comments, events = [], []
    for item, ticket in zip(todo, tickets, strict=True):
        events.append(
            Event(
                ticket=ticket,
                actor=by,
                at=item.created_at,
                kind=EventKind.CREATED,
                new={
                    "subject": ticket.subject,
                    "channel": ticket.channel,
                    "imported": True,
                    "external_id": item.external_id,
                    "status": Status.NEW,
                    "score": ticket.score,
                    "priority": ticket.priority,
                },
            )
        )
        for reply in sorted(item.thread, key=lambda r: r.created_at):
            author = people[reply.author_email.lower()]
            comments.append(
                Comment(
                    ticket=ticket,
                    author=author,
                    body=reply.body or "(empty message)",
                    internal=reply.internal and author.is_staff,
                    channel=Channel.API,
                    created_at=reply.created_at,
                )
            )
        history = sorted(item.status_history, key=lambda c: c.at)
        if not history and item.status != Status.NEW:
            history = [StatusChange(item.status, ticket.updated_at)]
        previous = Status.NEW.value
        for change in history:
            events.append(
                Event(
                    ticket=ticket,
                    actor=None,
                    at=change.at,
                    kind=EventKind.STATUS,
                    field="status",
                    old=previous,
                    new=change.status,
                    reason="Imported history.",
                )
            )
            previous = change.status
    Comment.objects.bulk_create(comments, batch_size=1000)
    events += [
        Event(
            ticket_id=c.ticket_id,
            actor=c.author,
            at=c.created_at,
            kind=EventKind.NOTE if c.internal else EventKind.REPLY,
            new={"comment": c.pk},
            internal=c.internal,
        )
        for c in comments
    ]
    Event.objects.bulk_create(events, batch_size=1000)
    sla.backfill_clocks(ticket_ids=[t.pk for t in tickets])
    result.created = [(t.external_id, t.number) for t in tickets]
    return result
