"""The verbs of service levels: start, pause, resume, meet and recompute a ticket's clocks,
and the sweep that records warnings and breaches.

The clock hooks are called by ``tickets.services`` inside its transaction and return the
events they cause, unsaved, so the ticket service writes every event of a change at once.
"""

import logging
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Exists, Min, OuterRef, Q, Subquery
from django.utils.translation import gettext_noop

from servicedesk.accounts.models import Group, User
from servicedesk.core import clock
from servicedesk.core.errors import Conflict, DomainError
from servicedesk.core.events import publish
from servicedesk.sla import clock as business_clock
from servicedesk.sla import rules, selectors
from servicedesk.sla.calendar import BusinessCalendar
from servicedesk.sla.models import (
    INTERNAL_KINDS,
    ClockKind,
    Pause,
    PauseReason,
    Policy,
    PolicyTarget,
    TicketClock,
)
from servicedesk.sla.policy import warning_share
from servicedesk.tickets.models import Comment, Event, EventKind, Ticket
from servicedesk.tickets.workflow import ACTIVE, Status

logger = logging.getLogger(__name__)

_TARGET_FIELD = {
    ClockKind.FIRST_RESPONSE: "first_response",
    ClockKind.NEXT_UPDATE: "follow_up",
    ClockKind.RESOLUTION: "resolution",
}


def _target_duration(target: PolicyTarget | None, kind: str) -> timedelta | None:
    return None if target is None else getattr(target, _TARGET_FIELD[kind])


def _compute(
    row: TicketClock,
    *,
    calendar: BusinessCalendar,
    warning_percent: int,
    pauses: list[tuple[datetime, datetime | None]],
) -> None:
    """Set ``due_at`` and ``warn_at`` from the clock's own start, target and pauses."""
    # An open pause that begins before the due time leaves it unknown (None) until it ends.
    row.due_at = business_clock.add_business_time(
        row.started_at, row.target, calendar, pauses=pauses
    )
    row.warn_at = business_clock.add_business_time(
        row.started_at, warning_share(row.target, warning_percent), calendar, pauses=pauses
    )


@dataclass
class _Context:
    """What the hooks of one ticket need, loaded once."""

    policy: Policy | None
    target: PolicyTarget | None
    calendar_id: int | None
    calendar: BusinessCalendar | None


def _context(ticket: Ticket, at: datetime) -> _Context:
    policy = selectors.policy_for(
        organisation_id=ticket.organisation_id, product_id=ticket.product_id
    )
    target = selectors.target_for(policy, ticket.priority)
    if target is None:
        return _Context(policy, None, None, None)
    calendar_id = target.calendar_id or policy.calendar_id
    calendar = selectors.calendars_by_id([calendar_id], around=at)[calendar_id]
    return _Context(policy, target, calendar_id, calendar)


def _new_clock(
    ticket: Ticket, kind: str, *, ctx: _Context, at: datetime, fresh: bool = False
) -> TicketClock | None:
    """A clock of ``kind`` started at ``at``; ``fresh``: the ticket is new, so has no pauses."""
    duration = _target_duration(ctx.target, kind)
    if duration is None:
        return None
    row = TicketClock(
        ticket=ticket,
        kind=kind,
        policy=ctx.policy,
        calendar_id=ctx.calendar_id,
        target=duration,
        started_at=at,
    )
    _compute(
        row,
        calendar=ctx.calendar,
        warning_percent=ctx.policy.warning_percent,
        pauses=[] if fresh or not ticket.pk else selectors.pauses_for(ticket.pk, kind),
    )
    return row


def _met_event(row: TicketClock, *, at: datetime, by: User | None) -> Event:
    late = rules.met_late(replace(selectors.facts(row), met_at=at))
    return Event(
        ticket_id=row.ticket_id,
        actor=by,
        at=at,
        kind=EventKind.SLA_MET,
        field=row.kind,
        new={"due": row.due_at and row.due_at.isoformat(), "late": late},
        internal=row.kind in INTERNAL_KINDS,  # the desk's own target: staff only
    )


def refresh_due(ticket_ids) -> None:
    """Keep ``Ticket.sla_due_at``: the nearest due time of each ticket's running clocks of
    the customer's SLA (an OLA is the desk's own: it sorts no list a customer reads)."""
    nearest = (
        TicketClock.objects.filter(
            ticket_id=OuterRef("pk"), met_at=None, stopped=False, due_at__isnull=False
        )
        .exclude(kind__in=INTERNAL_KINDS)
        .order_by("due_at")
        .values("due_at")[:1]
    )
    Ticket.objects.filter(pk__in=ticket_ids).update(sla_due_at=Subquery(nearest))


def plan_clocks(*, ticket: Ticket, at: datetime) -> list[TicketClock]:
    """The first-response and resolution clocks of a new ticket, not yet saved, and the
    ticket's ``sla_due_at`` set from them: call before the ticket is inserted, save the rows
    after (``TicketClock.objects.bulk_create``), so a new ticket costs no extra update."""
    ctx = _context(ticket, at)
    rows = [
        row
        for kind in (ClockKind.FIRST_RESPONSE, ClockKind.RESOLUTION)
        if (row := _new_clock(ticket, kind, ctx=ctx, at=at, fresh=True))
    ]
    ticket.sla_due_at = min((r.due_at for r in rows if r.due_at), default=None)
    return rows


def _recompute_running(ticket: Ticket, *, ctx: _Context, at: datetime) -> None:
    """Recompute every clock still running from its own start (after a pause or re-triage).

    A warning or breach recorded under the old times follows the new ones: if the new moment
    is still ahead at ``at`` it no longer holds and is cleared (its event stays, a fact of the
    past; the sweep records it again when the new moment comes); if it has passed too, it is
    dated at the new moment, and not announced again."""
    rows = list(TicketClock.objects.filter(ticket=ticket, met_at=None, stopped=False))
    own = selectors.calendars_by_id(
        [r.calendar_id for r in rows if r.own_target and r.calendar_id], around=at
    )
    for row in rows:
        if row.own_target:  # an OLA or a promised next update: its target and calendar stay
            calendar = own.get(row.calendar_id)
            percent = _warning_percent(row.policy or ctx.policy)
            if calendar is None:
                row.stopped = True
                continue
        else:
            duration = _target_duration(ctx.target, row.kind)
            if duration is None or ctx.calendar is None:
                row.stopped = True
                continue
            row.target, row.policy, row.calendar_id = duration, ctx.policy, ctx.calendar_id
            calendar, percent = ctx.calendar, ctx.policy.warning_percent
        _compute(
            row,
            calendar=calendar,
            warning_percent=percent,
            pauses=selectors.pauses_for(ticket.pk, row.kind),
        )
        for moment_column, done_column in _MOMENTS.values():
            moment = getattr(row, moment_column)
            if getattr(row, done_column) is not None:  # recorded: still so at the new moment?
                setattr(row, done_column, moment if moment is not None and moment <= at else None)
    TicketClock.objects.bulk_update(
        rows,
        [
            "target",
            "policy",
            "calendar",
            "due_at",
            "warn_at",
            "warned_at",
            "breached_at",
            "stopped",
        ],
    )


def on_retriage(*, ticket: Ticket, at: datetime) -> None:
    """The priority changed: recompute running clocks from their original start."""
    _recompute_running(ticket, ctx=_context(ticket, at), at=at)
    refresh_due([ticket.pk])


def on_public_reply(*, ticket: Ticket, by: User | None, at: datetime) -> list[Event]:
    """A public reply by the desk meets the first response and the pending update, and
    starts the next follow-up cycle."""
    events = []
    running = TicketClock.objects.filter(
        ticket=ticket,
        kind__in=[ClockKind.FIRST_RESPONSE, ClockKind.NEXT_UPDATE],
        met_at=None,
        stopped=False,
    )
    for row in running:
        events.append(_met_event(row, at=at, by=by))
        row.met_at = at
        row.save(update_fields=["met_at"])
    if Status(ticket.status) in ACTIVE:
        row = _new_clock(ticket, ClockKind.NEXT_UPDATE, ctx=_context(ticket, at), at=at)
        if row:
            row.save()
    events += _meet_ola(ticket, by=by, at=at)
    refresh_due([ticket.pk])
    return events


def on_internal_note(*, ticket: Ticket, by: User | None, at: datetime) -> list[Event]:
    """An internal note: a member of the group an OLA is owed by has acted on the ticket."""
    return _meet_ola(ticket, by=by, at=at)


def on_status_change(
    *, ticket: Ticket, old: str, new: str, by: User | None, at: datetime
) -> list[Event]:
    """Pause, resume, meet or stop the clocks as the ticket moves from ``old`` to ``new``:
    the effects the table ``rules.MOVES`` gives the move, in their order."""
    events: list[Event] = _meet_ola(ticket, by=by, at=at)  # a move by the group is acting
    for effect in rules.effects_of(old, new):
        events += _APPLY[effect](ticket, by=by, at=at)
    refresh_due([ticket.pk])
    return events


def _end_pause(ticket: Ticket, *, by: User | None, at: datetime) -> list[Event]:
    Pause.objects.filter(ticket=ticket, ended_at=None).update(ended_at=at)
    return []


def _resume_resolution(ticket: Ticket, *, by: User | None, at: datetime) -> list[Event]:
    latest = selectors.current_clocks(ticket.pk).get(ClockKind.RESOLUTION)
    if latest is not None:  # the time resolved is added back when it is recomputed
        latest.met_at, latest.stopped = None, False
        latest.save(update_fields=["met_at", "stopped"])
    return []


def _pause(reason: str):
    def start(ticket: Ticket, *, by: User | None, at: datetime) -> list[Event]:
        Pause.objects.create(ticket=ticket, reason=reason, started_at=at)
        return []

    return start


def _meet_resolution(ticket: Ticket, *, by: User | None, at: datetime) -> list[Event]:
    rows = TicketClock.objects.filter(
        ticket=ticket, kind=ClockKind.RESOLUTION, met_at=None, stopped=False
    )
    events = [_met_event(row, at=at, by=by) for row in rows]
    rows.update(met_at=at)
    return events


def _stop_others(ticket: Ticket, *, by: User | None, at: datetime) -> list[Event]:
    TicketClock.objects.filter(ticket=ticket, met_at=None, stopped=False).exclude(
        kind=ClockKind.RESOLUTION
    ).update(stopped=True)
    return []


def _stop_all(ticket: Ticket, *, by: User | None, at: datetime) -> list[Event]:
    TicketClock.objects.filter(ticket=ticket, met_at=None, stopped=False).update(stopped=True)
    return []


def _recompute(ticket: Ticket, *, by: User | None, at: datetime) -> list[Event]:
    _recompute_running(ticket, ctx=_context(ticket, at), at=at)
    return []


def _start_follow_up(ticket: Ticket, *, by: User | None, at: datetime) -> list[Event]:
    row = _new_clock(ticket, ClockKind.NEXT_UPDATE, ctx=_context(ticket, at), at=at)
    if row is not None:  # the target sets no follow-up: no cycle
        row.save()
    return []


_APPLY = {
    rules.Effect.END_PAUSE: _end_pause,
    rules.Effect.RESUME_RESOLUTION: _resume_resolution,
    rules.Effect.PAUSE_WAITING: _pause(PauseReason.WAITING_ON_CUSTOMER),
    rules.Effect.MEET_RESOLUTION: _meet_resolution,
    rules.Effect.STOP_OTHERS: _stop_others,
    rules.Effect.PAUSE_RESOLVED: _pause(PauseReason.RESOLVED),
    rules.Effect.STOP_ALL: _stop_all,
    rules.Effect.RECOMPUTE: _recompute,
    rules.Effect.START_FOLLOW_UP: _start_follow_up,
}


# ---- Operational level agreements and promised updates ---------------------------------

DEFAULT_WARNING_PERCENT = 80  # the policy's default, for a clock whose policy is gone


def _warning_percent(policy: Policy | None) -> int:
    return DEFAULT_WARNING_PERCENT if policy is None else policy.warning_percent


def _calendar_of(ticket: Ticket, at: datetime) -> tuple[_Context, int | None]:
    """The ticket's context and the calendar its own-target clocks run on: its priority's
    target's calendar, else its policy's (a ticket whose priority has no target still has
    a policy, and so business hours); None when no policy applies at all."""
    ctx = _context(ticket, at)
    if ctx.calendar_id is not None:
        return ctx, ctx.calendar_id
    return ctx, None if ctx.policy is None else ctx.policy.calendar_id


def _meet_ola(ticket: Ticket, *, by: User | None, at: datetime) -> list[Event]:
    """The running OLA clocks of ``ticket`` owed by a group ``by`` leads or belongs to are
    met: the receiving group has acted (a reply, a note, a status move)."""
    if by is None or not by.is_staff:
        return []
    rows = list(
        TicketClock.objects.filter(ticket=ticket, kind=ClockKind.OLA, met_at=None, stopped=False)
        .filter(Q(group__members=by) | Q(group__lead=by))
        .distinct()
    )
    events = [_met_event(row, at=at, by=by) for row in rows]
    TicketClock.objects.filter(pk__in=[r.pk for r in rows]).update(met_at=at)
    return events


def on_group_change(*, ticket: Ticket, at: datetime) -> None:
    """The ticket moved to another group: an OLA owed by a group that no longer has it
    stops (unmet; a warning or breach already recorded stays)."""
    TicketClock.objects.filter(
        ticket=ticket, kind=ClockKind.OLA, met_at=None, stopped=False
    ).exclude(group_id=ticket.group_id).update(stopped=True)


def start_ola(*, ticket: Ticket, group: Group, at: datetime) -> TicketClock | None:
    """``ticket`` was escalated to ``group``: start the group's OLA clock if it has a
    response target (``Group.response_target``), measured like an SLA: in business time on
    the calendar of the ticket's policy, held while the ticket waits on the customer, warned
    and breached by the sweep, met when a member of the group first acts. Any OLA still
    running for an earlier escalation stops. Call inside the escalation's transaction."""
    TicketClock.objects.filter(
        ticket=ticket, kind=ClockKind.OLA, met_at=None, stopped=False
    ).update(stopped=True)
    if group.response_target is None:
        return None
    ctx, calendar_id = _calendar_of(ticket, at)
    if calendar_id is None:  # no policy, no business hours to measure in
        return None
    calendar = selectors.calendars_by_id([calendar_id], around=at)[calendar_id]
    row = TicketClock(
        ticket=ticket,
        kind=ClockKind.OLA,
        policy=ctx.policy,
        calendar_id=calendar_id,
        target=group.response_target,
        started_at=at,
        group=group,
        own_target=True,
    )
    _compute(
        row,
        calendar=calendar,
        warning_percent=_warning_percent(ctx.policy),
        pauses=selectors.pauses_for(ticket.pk, ClockKind.OLA),
    )
    row.save()
    return row


class InvalidNextUpdate(DomainError):
    """An expected next update that cannot be promised (naive, not ahead): 422."""

    code = "invalid_next_update"


class NextUpdateNotAllowed(Conflict):
    """No next update can be promised where the ticket is (closed, waiting on the
    customer): 409."""

    code = "next_update_not_allowed"


def check_next_update(*, due_at: datetime, at: datetime, field_name: str = "next_update_by"):
    """Refuse an expected next update that names no time zone or is not ahead of ``at``."""
    if due_at.tzinfo is None or due_at.utcoffset() is None:
        raise InvalidNextUpdate(
            gettext_noop("%(field)s: give the time zone (or Z for UTC)."), field=field_name
        )
    if due_at <= at:
        raise InvalidNextUpdate(
            gettext_noop("%(field)s: the next update must be ahead, not in the past."),
            field=field_name,
        )


@transaction.atomic
def set_next_update(
    *, ticket: Ticket, due_at: datetime, at: datetime, by: User | None
) -> TicketClock | None:
    """The customer was told when they will next hear from us (an escalation's expected
    next update, a vendor's promised date): the running next-update clock is now due then,
    its warning moved to its share of the new target; with none running, a next-update
    cycle starts at ``at``, due then. Its target becomes the clock's own (the business time
    up to ``due_at``, less the pauses already in it), so a pause, a resumption or a
    re-triage keeps the promise. Records a ``field`` event ``next_update_due`` (staff only)
    and refreshes ``Ticket.sla_due_at``. None when no SLA policy applies to the ticket.
    Call inside the change's transaction (the escalation's)."""
    check_next_update(due_at=due_at, at=at)
    if Status(ticket.status) not in ACTIVE:
        raise NextUpdateNotAllowed(
            gettext_noop("A resolved or closed ticket is owed no next update.")
        )
    if Pause.objects.filter(ticket=ticket, ended_at=None).exists():
        raise NextUpdateNotAllowed(
            gettext_noop(
                "The ticket waits on the customer and its clocks are held: promise the next "
                "update once it is worked on again."
            )
        )
    row = (
        TicketClock.objects.select_for_update()
        .filter(ticket=ticket, kind=ClockKind.NEXT_UPDATE, met_at=None, stopped=False)
        .order_by("-started_at", "-pk")
        .first()
    )
    old_due = row.due_at if row is not None else None
    if row is None:
        ctx, calendar_id = _calendar_of(ticket, at)
        if calendar_id is None:
            return None
        row = TicketClock(
            ticket=ticket,
            kind=ClockKind.NEXT_UPDATE,
            policy=ctx.policy,
            calendar_id=calendar_id,
            target=timedelta(0),
            started_at=at,
        )
    if row.calendar_id is None:
        return None
    calendar = selectors.calendars_by_id([row.calendar_id], around=at).get(row.calendar_id)
    if calendar is None:
        return None
    pauses = selectors.pauses_for(ticket.pk, ClockKind.NEXT_UPDATE) if row.pk else []
    row.target = business_clock.business_time_between(
        row.started_at, due_at, calendar, pauses=pauses
    )
    row.own_target = True
    row.due_at = due_at  # the time promised, to the minute (even outside opening hours)
    row.warn_at = business_clock.add_business_time(
        row.started_at,
        warning_share(row.target, _warning_percent(row.policy)),
        calendar,
        pauses=pauses,
    )
    # A warning or breach recorded under the old due time holds only if its new moment has
    # passed too (as after a re-triage); the breach cannot have: the promise is ahead.
    row.breached_at = None
    if row.warned_at is not None:
        row.warned_at = row.warn_at if row.warn_at is not None and row.warn_at <= at else None
    row.save()
    event = Event.objects.create(
        ticket=ticket,
        actor=by,
        at=at,
        kind=EventKind.FIELD,
        field="next_update_due",
        old={"due": old_due and old_due.isoformat()},
        new={"due": due_at.isoformat(), "clock": row.pk},
        internal=True,  # the customer hears it in the update that carries the promise
    )
    publish([event])
    refresh_due([ticket.pk])
    return row


# ---- The sweep -------------------------------------------------------------------------


@dataclass
class SweepResult:
    warnings: list[tuple[int, str]] = field(default_factory=list)  # (ticket number, clock kind)
    breaches: list[tuple[int, str]] = field(default_factory=list)


# what -> (the clock's moment column, the column that records it once)
_MOMENTS = {"breach": ("due_at", "breached_at"), "warning": ("warn_at", "warned_at")}


def _record(row: TicketClock, *, what: str) -> bool:
    """Record one warning or breach exactly once: the guarded update decides who wins. The
    event's subscribers (mail to the people responsible, webhooks) react in its transaction."""
    moment_column, done_column = _MOMENTS[what]
    moment = getattr(row, moment_column)
    with transaction.atomic():
        won = TicketClock.objects.filter(pk=row.pk, **{f"{done_column}__isnull": True}).update(
            **{done_column: moment}
        )
        if not won:
            return False
        new = {"due": row.due_at.isoformat(), "clock": row.pk}
        if row.group_id is not None:  # an OLA: its alert goes to the group that owes it
            new["group"] = row.group_id
        event = Event.objects.create(
            ticket=row.ticket,
            actor=None,
            at=moment,
            kind=EventKind.SLA_WARNING if what == "warning" else EventKind.SLA_BREACH,
            field=row.kind,
            new=new,
            internal=row.kind in INTERNAL_KINDS,  # the desk's own target: staff only
        )
        publish([event])
    return True


def _due(what: str, *, now: datetime, batch: int):
    """The running clocks whose breach (or warning) moment has come, oldest first, read in
    batches. The filter is the partial index's condition, so only due clocks are read."""
    moment_column, done_column = _MOMENTS[what]
    while True:
        rows = list(
            TicketClock.objects.filter(
                **{
                    f"{moment_column}__lte": now,
                    f"{moment_column}__isnull": False,
                    done_column: None,
                },
                met_at=None,
                stopped=False,
            )
            .select_related("ticket", "ticket__assignee", "ticket__group__lead")
            .order_by(moment_column)[:batch]
        )
        yield from rows
        if len(rows) < batch:
            return


def sweep(*, now: datetime | None = None, batch: int = 500) -> SweepResult:
    """Record every breach and warning whose moment has come. Safe to run twice, or in two
    processes at once: each is recorded once. Reads only the clocks that are due."""
    now = now or clock.now()
    result = SweepResult()
    for row in _due("breach", now=now, batch=batch):
        if _record(row, what="breach"):
            result.breaches.append((row.ticket.number, row.kind))
    for row in _due("warning", now=now, batch=batch):
        if row.breached_at is not None:  # past due already: a warning now is noise
            TicketClock.objects.filter(pk=row.pk, warned_at=None).update(warned_at=row.warn_at)
        elif _record(row, what="warning"):
            result.warnings.append((row.ticket.number, row.kind))
    return result


def backfill_clocks(*, ticket_ids=None, batch: int = 2000) -> int:
    """Start clocks, from their creation time, for active tickets that have none (tickets
    loaded in bulk: the demo's benchmark data, imports), honouring their history: the desk's
    first public reply meets the first response, and a ticket waiting on the customer is
    paused since it last changed. Returns how many clocks it wrote."""
    # NOT EXISTS, an anti-join: NOT IN over a growing subquery degrades to a scan per row on
    # PostgreSQL once the ids outgrow work_mem.
    tickets = Ticket.objects.filter(status__in=[s.value for s in ACTIVE]).exclude(
        Exists(TicketClock.objects.filter(ticket_id=OuterRef("pk")))
    )
    if ticket_ids is not None:
        tickets = tickets.filter(pk__in=ticket_ids)
    contexts: dict[tuple, _Context] = {}
    written = last_pk = 0
    while chunk := list(tickets.filter(pk__gt=last_pk).order_by("pk")[:batch]):
        last_pk = chunk[-1].pk
        first_replies = dict(
            Comment.objects.filter(ticket__in=chunk, internal=False, author__is_staff=True)
            .values_list("ticket_id")
            .annotate(first=Min("created_at"))
        )
        pauses = [
            Pause(ticket=t, reason=PauseReason.WAITING_ON_CUSTOMER, started_at=t.updated_at)
            for t in chunk
            if t.status == Status.WAITING_ON_CUSTOMER
        ]
        paused_ids = {p.ticket.pk for p in pauses}
        rows = []
        for ticket in chunk:
            key = (
                ticket.organisation_id,
                ticket.product_id,
                ticket.priority,
                ticket.created_at.year,
            )
            if key not in contexts:
                contexts[key] = _context(ticket, ticket.created_at)
            ctx = contexts[key]
            for kind in (ClockKind.FIRST_RESPONSE, ClockKind.RESOLUTION):
                duration = _target_duration(ctx.target, kind)
                if duration is None:
                    continue
                row = TicketClock(
                    ticket=ticket,
                    kind=kind,
                    policy=ctx.policy,
                    calendar_id=ctx.calendar_id,
                    target=duration,
                    started_at=ticket.created_at,
                )
                held = [(ticket.updated_at, None)] if ticket.pk in paused_ids else []
                _compute(
                    row,
                    calendar=ctx.calendar,
                    warning_percent=ctx.policy.warning_percent,
                    pauses=held,
                )
                if kind == ClockKind.FIRST_RESPONSE and ticket.pk in first_replies:
                    row.met_at = first_replies[ticket.pk]
                rows.append(row)
        with transaction.atomic():
            Pause.objects.bulk_create(pauses)
            TicketClock.objects.bulk_create(rows)
            refresh_due([t.pk for t in chunk])
        written += len(rows)
    return written
