"""The agent's queues: which tickets each shows, how many, and the SLA column of a page.

No rules of its own: a queue is a filter on ``Ticket.objects.visible_to(agent)``; the SLA
state of a row comes from the clocks and the pure table ``sla.rules.ticket_state``.
"""

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import connections
from django.db.models import Exists, F, Func, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.utils.translation import gettext_lazy as _

from servicedesk.accounts.models import Group
from servicedesk.core.prepared import Prepared
from servicedesk.escalation.models import Escalation, EscalationKind
from servicedesk.escalation.selectors import overdue_condition
from servicedesk.sla import clock as business_clock
from servicedesk.sla import rules
from servicedesk.sla.models import TicketClock
from servicedesk.sla.selectors import calendars_by_id, facts
from servicedesk.tickets import selectors as ticket_selectors
from servicedesk.tickets.models import Ticket
from servicedesk.tickets.workflow import Status

OPEN = [
    Status.NEW,
    Status.OPEN,
    Status.IN_PROGRESS,
    Status.WAITING_ON_CUSTOMER,
    Status.WAITING_ON_THIRD_PARTY,
]
# "Breaching soon": a running clock due within this much wall time (or already past it).
SOON = timedelta(hours=4)
RECENT = timedelta(days=7)


@dataclass(frozen=True)
class Limits:
    """The moments the queues' filters compare with, as of one moment."""

    due_before: datetime  # "Breaching soon": due before this
    resolved_since: datetime  # "Recently resolved": resolved since this

    @classmethod
    def at(cls, now: datetime) -> "Limits":
        return cls(now + SOON, now - RECENT)


@dataclass(frozen=True)
class Queue:
    slug: str
    label: str
    where: Callable[[object, Limits], Q]  # (agent or their id, limits) -> filter
    # A queue's own columns (now -> annotations) and orderings, by the name of the sort; the
    # page sorts by ``default_sort`` unless the agent picks another.
    annotate: Callable[[datetime], dict] | None = None
    sorts: dict[str, tuple] = field(default_factory=dict, hash=False, compare=False)
    default_sort: str = "sla"


def _open_vendor_escalations() -> QuerySet:
    return Escalation.objects.open().filter(kind=EscalationKind.VENDOR)


def _vendor_promises(now: datetime) -> dict:
    """Whether a ticket has a broken vendor promise, and the nearest promise still awaited."""
    mine = _open_vendor_escalations().filter(ticket=OuterRef("pk"))
    return {
        "vendor_overdue": Exists(mine.filter(overdue_condition(now))),
        "vendor_promised_by": Subquery(
            mine.filter(answered_at=None, promised_by__isnull=False)
            .order_by("promised_by")
            .values("promised_by")[:1]
        ),
    }


QUEUES: tuple[Queue, ...] = (
    Queue("open", _("All open"), lambda agent, at: Q(status__in=OPEN)),
    Queue("mine", _("My tickets"), lambda agent, at: Q(status__in=OPEN, assignee=agent)),
    Queue(
        "my-groups",
        _("My groups"),
        # the agent's groups as a subquery, not a join: no duplicate rows, no DISTINCT
        lambda agent, at: Q(
            status__in=OPEN, group_id__in=Group.objects.filter(members=agent).values("pk")
        ),
    ),
    Queue(
        "unassigned", _("Unassigned"), lambda agent, at: Q(status__in=OPEN, assignee__isnull=True)
    ),
    Queue(
        "breaching",
        _("Breaching soon"),
        lambda agent, at: Q(status__in=OPEN, sla_due_at__lte=at.due_before),
    ),
    Queue(
        "waiting-customer",
        _("Waiting on customer"),
        lambda agent, at: Q(status=Status.WAITING_ON_CUSTOMER),
    ),
    Queue(
        "waiting-third-party",
        _("Waiting on third party"),
        lambda agent, at: Q(status=Status.WAITING_ON_THIRD_PARTY),
    ),
    Queue(
        "waiting-vendor",
        _("Waiting on vendors"),
        # a subquery, not a join: one row per ticket, and the counts stay one statement
        lambda agent, at: Q(status__in=OPEN, pk__in=_open_vendor_escalations().values("ticket_id")),
        annotate=_vendor_promises,
        # broken promises first, then the nearest promise; none promised last
        sorts={
            "promise": (
                F("vendor_overdue").desc(),
                F("vendor_promised_by").asc(nulls_last=True),
                "number",
            )
        },
        default_sort="promise",
    ),
    Queue(
        "resolved",
        _("Recently resolved"),
        lambda agent, at: Q(status=Status.RESOLVED, resolved_at__gte=at.resolved_since),
    ),
)
BY_SLUG = {q.slug: q for q in QUEUES}
DEFAULT = "open"


def counts(agent, *, now: datetime) -> dict[str, int]:
    """How many tickets each queue holds, in one statement: a count per queue, each a
    subquery that reads its own index (status, assignee, group...), where one pass of
    conditional counts over every ticket read the whole table (twice the time at 10,000).
    Queues are the desk's: staff see every ticket, so the statement is the same for every
    agent and compiled once (building it cost more than the counting)."""
    if not ticket_selectors.sees_every_ticket(agent):
        raise ValueError("the queues are for staff")
    at = Limits.at(now)
    row = _COUNTS(agent.pk, at.due_before, at.resolved_since)[0]
    return {queue.slug: total for queue, total in zip(QUEUES, row, strict=True)}


def _counts_statement(agent_id: int, due_before: datetime, resolved_since: datetime):
    visible = Ticket.objects.all()  # what ``counts`` checked the agent sees
    connection = connections[visible.db]
    parts, params = [], []
    for queue in QUEUES:
        count = visible.filter(queue.where(agent_id, Limits(due_before, resolved_since)))
        # COUNT(*), not COUNT(id): PostgreSQL then counts from the index alone
        count = count.order_by().annotate(n=_COUNT_ROWS).values("n")
        sql, part_params = count.query.get_compiler(connection=connection).as_sql()
        parts.append(f"({sql})")
        params.extend(part_params)
    return visible.db, f"SELECT {', '.join(parts)}", params


_COUNT_ROWS = Func(template="COUNT(*)", output_field=IntegerField())
_COUNTS = Prepared(_counts_statement)


ROW_COLUMNS = (
    "number",
    "subject",
    "status",
    "priority",
    "score",
    "updated_at",
    "organisation__name",
    "assignee__full_name",
    "assignee__email",
)


def tickets(agent, queue: Queue, *, now: datetime) -> QuerySet:
    rows = (
        Ticket.objects.visible_to(agent)
        .filter(queue.where(agent, Limits.at(now)))
        .select_related("organisation", "assignee")
        .only(*ROW_COLUMNS)  # what a row shows (``desk.rows``), not every column of five tables
    )
    return rows.annotate(**queue.annotate(now)) if queue.annotate else rows


@dataclass(frozen=True)
class SlaCell:
    """The SLA column of a row: the worst state of its running clocks, the nearest due time
    and the business time left until it (negative once past)."""

    state: str  # ok | warning | breached | met | none
    paused: bool
    due_at: datetime | None
    left: timedelta | None

    @property
    def css(self) -> str:
        return "paused" if self.paused else self.state


def sla_cells(rows: Sequence[Ticket], *, now: datetime) -> dict[int, SlaCell]:
    """The SLA column for a page of tickets: two queries whatever the page size."""
    current: dict[int, dict[str, TicketClock]] = defaultdict(dict)
    for row in TicketClock.objects.filter(ticket_id__in=[t.pk for t in rows]).order_by(
        "started_at", "pk"
    ):
        current[row.ticket_id][row.kind] = row
    calendars = calendars_by_id(
        {c.calendar_id for clocks in current.values() for c in clocks.values() if c.calendar_id},
        around=now,
    )
    cells = {}
    for ticket in rows:
        clocks = list(current[ticket.pk].values())
        overall = rules.ticket_state(map(facts, clocks), now=now)
        running = [
            c for c in clocks if facts(c).outcome == rules.Outcome.RUNNING and c.due_at is not None
        ]
        nearest = min(running, key=lambda c: c.due_at, default=None)
        left = None
        if nearest is not None and not overall.paused:
            calendar = calendars.get(nearest.calendar_id)
            if calendar is not None:
                if now <= nearest.due_at:
                    left = business_clock.business_time_between(now, nearest.due_at, calendar)
                else:
                    left = -business_clock.business_time_between(nearest.due_at, now, calendar)
        cells[ticket.pk] = SlaCell(
            str(overall.state), overall.paused, nearest.due_at if nearest else None, left
        )
    return cells
