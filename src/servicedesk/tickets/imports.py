"""Tickets brought from another desk, in bulk, with their own history.

Each ticket keeps its original timestamps, thread, triage, assignments and status; the SLA
clocks of those still active are computed from those timestamps (``sla.backfill_clocks``),
and what had already become of them before they came (warned, breached, met) is recorded as
it happened (``sla.history.settle``). Idempotent by ``external_id``: sending the same ticket
again skips it. Nothing is published: no acknowledgement, reply mail, SLA mail or webhook
goes out for history. One transaction per call; bulk inserts throughout. The demo desk is
loaded through here too, so its history has the layout the services write.
"""

from dataclasses import dataclass, field
from datetime import date, datetime

from django.db import transaction
from django.utils.translation import gettext_noop

from servicedesk.accounts.models import Group, Organisation, User
from servicedesk.accounts.services import contacts_for_emails
from servicedesk.core import bulk, clock
from servicedesk.core.errors import DomainError, Term
from servicedesk.sla import history as sla_history
from servicedesk.sla import services as sla
from servicedesk.tickets import triage
from servicedesk.tickets.models import Category, Channel, Comment, Event, EventKind, Product, Ticket
from servicedesk.tickets.selectors import triage_bands
from servicedesk.tickets.services import allocate_numbers, history_ref, route_new_ticket
from servicedesk.tickets.workflow import Status

MAX_PER_CALL = 5000
EARLIEST_YEAR = 1990  # no help desk's history is older; SLA calendars start somewhere
HISTORY_REASON = "Imported history."


class InvalidImport(DomainError):
    code = "invalid_import"


@dataclass(frozen=True)
class Reply:
    author_email: str
    body: str
    internal: bool
    created_at: datetime
    channel: str = Channel.API


@dataclass(frozen=True)
class StatusChange:
    status: str
    at: datetime
    by_email: str = ""  # who moved it, when the old desk knows


@dataclass(frozen=True)
class Triage:
    """The desk's own urgency and impact (confirmed or corrected); score and priority follow."""

    urgency: int
    impact: int
    at: datetime
    by_email: str = ""


@dataclass(frozen=True)
class Assignment:
    """At ``at``, the ticket went to ``assignee_email`` ("": to nobody) and/or to the group
    ``group_id``; None leaves that one as it was."""

    at: datetime
    assignee_email: str | None = None
    group_id: int | None = None
    by_email: str = ""


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
    urgency: int | None = None  # the requester's proposal
    impact: int | None = None
    updated_at: datetime | None = None
    thread: tuple[Reply, ...] = ()
    status_history: tuple[StatusChange, ...] = ()
    channel: str = Channel.API
    product_id: int | None = None
    category_id: int | None = None
    steps_to_reproduce: str = ""
    users_affected: int | None = None
    present_since: date | None = None
    investigations_done: str = ""
    business_impact: str = ""
    triage: Triage | None = None
    assignments: tuple[Assignment, ...] = ()


@dataclass
class Result:
    created: list[tuple[str, int]] = field(default_factory=list)  # (external id, number)
    skipped: list[tuple[str, int]] = field(default_factory=list)


_STATUSES = frozenset(s.value for s in Status)


def _stamps(item: Item) -> list[datetime]:
    """Every moment of the item's history after its creation."""
    stamps = [r.created_at for r in item.thread] + [c.at for c in item.status_history]
    stamps += [a.at for a in item.assignments]
    if item.triage:
        stamps.append(item.triage.at)
    if item.updated_at:
        stamps.append(item.updated_at)
    return stamps


def _check(item: Item, now: datetime) -> None:
    where = item.external_id
    if item.status not in _STATUSES:
        raise InvalidImport(
            gettext_noop("ticket %(ticket)s: unknown status %(status)r."),
            ticket=where,
            status=item.status,
        )
    if item.created_at.tzinfo is None:
        raise InvalidImport(
            gettext_noop("ticket %(ticket)s: created_at needs a time zone offset."), ticket=where
        )
    if item.created_at > now:
        raise InvalidImport(
            gettext_noop("ticket %(ticket)s: created_at is in the future."), ticket=where
        )
    stamps = _stamps(item)
    if any(s.tzinfo is None for s in stamps):
        raise InvalidImport(
            gettext_noop("ticket %(ticket)s: every timestamp needs a time zone offset."),
            ticket=where,
        )
    if item.created_at.year < EARLIEST_YEAR:
        raise InvalidImport(
            gettext_noop("ticket %(ticket)s: created_at is before %(year)s."),
            ticket=where,
            year=EARLIEST_YEAR,
        )
    if any(s > now for s in stamps):
        raise InvalidImport(
            gettext_noop("ticket %(ticket)s: its history reaches into the future."), ticket=where
        )
    if any(s < item.created_at for s in stamps):
        raise InvalidImport(
            gettext_noop("ticket %(ticket)s: its history starts before the ticket was created."),
            ticket=where,
        )
    if (item.urgency is None) != (item.impact is None):
        raise InvalidImport(
            gettext_noop("ticket %(ticket)s: give both urgency and impact, or neither."),
            ticket=where,
        )
    for change in item.status_history:
        if change.status not in _STATUSES:
            raise InvalidImport(
                gettext_noop("ticket %(ticket)s: unknown status %(status)r in its history."),
                ticket=where,
                status=change.status,
            )
    if item.status_history and _last_status(item) != item.status:
        raise InvalidImport(
            gettext_noop("ticket %(ticket)s: its status history does not end in %(status)r."),
            ticket=where,
            status=item.status,
        )
    if item.channel not in Channel.values or any(
        r.channel not in Channel.values for r in item.thread
    ):
        raise InvalidImport(gettext_noop("ticket %(ticket)s: unknown channel."), ticket=where)
    if item.users_affected is not None and item.users_affected < 0:
        raise InvalidImport(
            gettext_noop("ticket %(ticket)s: the number of users affected cannot be negative."),
            ticket=where,
        )
    if not item.subject.strip():
        raise InvalidImport(
            gettext_noop("ticket %(ticket)s: a ticket needs a subject."), ticket=where
        )


def _last_status(item: Item) -> str:
    return max(item.status_history, key=lambda c: c.at).status


def _in_bulk(found: dict, ids: set[int], what: str) -> dict:
    """``found`` ({id: object}), once every one of ``ids`` is in it."""
    missing = ids - set(found)
    if missing:
        raise InvalidImport(
            gettext_noop("Unknown %(what)s ids: %(ids)s."),
            what=Term(what),
            ids=", ".join(map(str, sorted(missing))),
        )
    return found


_EVENT_COLUMNS = ("ticket", "actor", "at", "kind", "field", "old", "new", "reason", "internal")
_COMMENT_COLUMNS = ("ticket", "author", "body", "internal", "channel", "created_at")


def _event(
    ticket: Ticket,
    actor: User | None,
    at: datetime,
    kind: str,
    *,
    field: str = "",
    old=None,
    new=None,
    reason: str = "",
    internal: bool = False,
) -> tuple:
    """An event row (``_EVENT_COLUMNS``), its ticket still an object: its id comes later."""
    return (ticket, actor and actor.pk, at, kind, field, old, new, reason, internal)


@dataclass
class _People:
    """Everyone an import names: customers created when unknown; staff must exist."""

    by_email: dict[str, User]
    _by_id: dict[int, User] = field(default_factory=dict)

    def get(self, email: str) -> User | None:
        return self.by_email[email.lower()] if email else None

    def by_id(self, pk: int | None) -> User | None:
        """A user named by id (a routed assignee), read once."""
        if pk is not None and pk not in self._by_id:
            self._by_id[pk] = User.objects.get(pk=pk)
        return self._by_id.get(pk)

    def staff(self, email: str, where: str, what: str) -> User | None:
        person = self.get(email)
        if person is not None and not (person.is_staff and person.is_active):
            raise InvalidImport(
                gettext_noop("ticket %(ticket)s: %(who)s must be active staff, not %(email)s."),
                ticket=where,
                who=Term(what),
                email=email,
            )
        return person


def _people(todo: list[Item]) -> _People:
    staff_emails = {
        e.lower()
        for i in todo
        for e in [a.assignee_email or "" for a in i.assignments]
        + [a.by_email for a in i.assignments]
        + [i.triage.by_email if i.triage else ""]
        if e
    }
    names = {i.requester_email.lower(): i.requester_name for i in todo}
    for item in todo:
        for email in [r.author_email for r in item.thread] + [
            c.by_email for c in item.status_history
        ]:
            if email:
                names.setdefault(email.lower(), "")
    # Staff are never made up by an import: only customers unknown so far are created.
    known_staff = {u.email.lower(): u for u in User.objects.filter(email__in=staff_emails)}
    unknown = staff_emails - set(known_staff)
    if unknown:
        raise InvalidImport(
            gettext_noop("Unknown staff: %(emails)s."), emails=", ".join(sorted(unknown))
        )
    people = contacts_for_emails({e: n for e, n in names.items() if e not in known_staff})
    people.update(known_staff)
    for item in todo:
        if people[item.requester_email.lower()].is_staff:
            raise InvalidImport(
                gettext_noop("ticket %(ticket)s: the requester must be a customer, not staff."),
                ticket=item.external_id,
            )
    return _People(people)


@transaction.atomic
def import_tickets(items: list[Item], *, by: User | None) -> Result:
    """Create the tickets not imported before; return what was created and what skipped."""
    if len(items) > MAX_PER_CALL:
        raise InvalidImport(
            gettext_noop("At most %(limit)s tickets per call; send the rest after."),
            limit=MAX_PER_CALL,
        )
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

    people = _people(todo)
    ids = {i.organisation_id for i in todo if i.organisation_id}
    organisations = _in_bulk(Organisation.objects.in_bulk(ids), ids, "organisation")
    ids = {i.product_id for i in todo if i.product_id}
    products = _in_bulk(Product.objects.in_bulk(ids), ids, "product")
    ids = {i.category_id for i in todo if i.category_id}
    categories = _in_bulk(Category.objects.in_bulk(ids), ids, "category")
    groups = Group.objects.in_bulk()  # the support levels: a handful, routed to or named
    _in_bulk(groups, {a.group_id for i in todo for a in i.assignments if a.group_id}, "group")

    bands = triage_bands()
    routes: dict[tuple, object] = {}
    allocated = allocate_numbers(len(todo))
    numbers = iter(allocated)
    tickets, events = [], []
    for item in todo:
        requester = people.get(item.requester_email)
        organisation = organisations.get(item.organisation_id) or requester.organisation
        product = products.get(item.product_id)
        category = categories.get(item.category_id)
        key = (organisation and organisation.pk, item.product_id, item.category_id)
        if key not in routes:
            routes[key] = route_new_ticket(
                organisation=organisation, product=product, category=category
            )
        route = routes[key]
        proposed = (
            triage.assess(urgency=item.urgency, impact=item.impact, bands=bands)
            if item.urgency
            else None
        )
        ticket = Ticket(
            number=next(numbers),
            external_id=item.external_id,
            organisation=organisation,
            requester=requester,
            channel=item.channel,
            product=product,
            category=category,
            subject=" ".join(item.subject.split())[:250],
            description=item.description,
            steps_to_reproduce=item.steps_to_reproduce,
            users_affected=item.users_affected,
            present_since=item.present_since,
            investigations_done=item.investigations_done,
            business_impact=item.business_impact,
            group_id=route.group_id,
            assignee_id=route.assignee_id,
            status=item.status,
            proposed_urgency=item.urgency,
            proposed_impact=item.impact,
            score=proposed.score if proposed else None,
            priority=proposed.priority if proposed else bands[0].key,
            created_at=item.created_at,
            updated_at=max([item.created_at, *_stamps(item)]),
        )
        events.append(
            _event(
                ticket,
                by,
                item.created_at,
                EventKind.CREATED,
                new={
                    "subject": ticket.subject,
                    "channel": ticket.channel,
                    "imported": True,
                    "external_id": item.external_id,
                    "status": Status.NEW,
                    "score": ticket.score,
                    "priority": ticket.priority,
                    "group": ticket.group_id,
                    "assignee": ticket.assignee_id,
                },
            )
        )
        events += _triage(ticket, item, people, bands)
        events += _assignments(ticket, item, people, groups)
        events += _moves(ticket, item, people)
        tickets.append(ticket)

    # Tickets and comments go in as events do (``core.bulk``), their ids read back after:
    # tickets by number, and each ticket's comments in the order they went in (ids grow).
    # The numbers are consecutive and this call's alone: a range names these tickets.
    bulk.insert_objects(tickets)
    these = Ticket.objects.filter(number__gte=allocated[0], number__lte=allocated[-1])
    ids = dict(these.values_list("number", "pk"))
    for ticket in tickets:
        ticket.pk = ids[ticket.number]
    comments = []  # (ticket, author, row), the row as it goes in
    for item, ticket in zip(todo, tickets, strict=True):
        for reply in sorted(item.thread, key=lambda r: r.created_at):
            author = people.get(reply.author_email)
            internal = reply.internal and author.is_staff
            body = reply.body or "(empty message)"
            row = [ticket.pk, author.pk, body, internal, reply.channel, reply.created_at]
            comments.append((ticket, author, row))
    bulk.insert(Comment, _COMMENT_COLUMNS, (row for _, _, row in comments))
    ids: dict[int, list[int]] = {}
    for pk, ticket_id in (
        Comment.objects.filter(ticket__in=these).order_by("pk").values_list("pk", "ticket")
    ):
        ids.setdefault(ticket_id, []).append(pk)
    pending = {ticket_id: iter(pks) for ticket_id, pks in ids.items()}
    for ticket, author, (_, _, _, internal, _, created_at) in comments:
        events.append(
            _event(
                ticket,
                author,
                created_at,
                EventKind.NOTE if internal else EventKind.REPLY,
                new={"comment": next(pending[ticket.pk])},
                internal=internal,
            )
        )
    # Events are most of the rows, and nobody needs their ids back: one prepared statement.
    bulk.insert(Event, _EVENT_COLUMNS, ((e[0].pk, *e[1:]) for e in events))
    sla.backfill_clocks(ticket_ids=these.values("pk"))
    sla_history.settle(these, now=now)
    result.created = [(t.external_id, t.number) for t in tickets]
    return result


def _triage(ticket: Ticket, item: Item, people: _People, bands) -> list[tuple]:
    """The desk's triage: the ticket takes its score and priority (as ``confirm_triage``)."""
    if item.triage is None:
        return []
    where = item.external_id
    done = item.triage
    by = people.staff(done.by_email, where, gettext_noop("whoever triages"))
    try:
        assessment = triage.assess(urgency=done.urgency, impact=done.impact, bands=bands)
    except triage.InvalidTriage as error:
        raise InvalidImport(
            gettext_noop("ticket %(ticket)s: %(error)s"), ticket=where, error=error
        ) from None
    old = {"urgency": None, "impact": None, "score": ticket.score, "priority": ticket.priority}
    new = {
        "urgency": assessment.urgency,
        "impact": assessment.impact,
        "score": assessment.score,
        "priority": assessment.priority,
    }
    ticket.confirmed_urgency, ticket.confirmed_impact = assessment.urgency, assessment.impact
    ticket.score, ticket.priority = assessment.score, assessment.priority
    return [_event(ticket, by, done.at, EventKind.TRIAGE, field="triage", old=old, new=new)]


def _assignments(ticket: Ticket, item: Item, people: _People, groups: dict) -> list[tuple]:
    """Hand-overs in time order (as ``assign`` and ``move_to_group``); the last one holds."""
    where = item.external_id
    events = []
    assignee, group = people.by_id(ticket.assignee_id), groups.get(ticket.group_id)
    for change in sorted(item.assignments, key=lambda a: a.at):
        by = people.staff(change.by_email, where, gettext_noop("whoever assigns"))
        if change.group_id is not None and change.group_id != (group and group.pk):
            target = groups[change.group_id]
            events.append(
                _event(
                    ticket,
                    by,
                    change.at,
                    EventKind.GROUP,
                    field="group",
                    old=history_ref(group),
                    new=history_ref(target),
                )
            )
            group = target
        if change.assignee_email is not None:
            target = people.staff(change.assignee_email, where, gettext_noop("the assignee"))
            if (target and target.pk) != (assignee and assignee.pk):
                events.append(
                    _event(
                        ticket,
                        by,
                        change.at,
                        EventKind.ASSIGNEE,
                        field="assignee",
                        old=history_ref(assignee),
                        new=history_ref(target),
                    )
                )
                assignee = target
    ticket.group, ticket.assignee = group, assignee
    return events


def _moves(ticket: Ticket, item: Item, people: _People) -> list[tuple]:
    """The status moves, and the resolved and closed times they give (as the services do)."""
    history = sorted(item.status_history, key=lambda c: c.at)
    if not history and item.status != Status.NEW:
        history = [StatusChange(item.status, ticket.updated_at)]
    events, previous = [], Status.NEW.value
    for change in history:
        events.append(
            _event(
                ticket,
                people.get(change.by_email),
                change.at,
                EventKind.STATUS,
                field="status",
                old=previous,
                new=change.status,
                reason=HISTORY_REASON,
            )
        )
        if change.status == Status.RESOLVED:
            ticket.resolved_at = change.at
        elif change.status == Status.CLOSED:
            ticket.closed_at = change.at
        else:
            ticket.resolved_at = ticket.closed_at = None
        previous = change.status
    return events
