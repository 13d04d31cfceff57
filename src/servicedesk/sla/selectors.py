"""Reads for SLAs: the policy and calendar in force, and the state of a ticket's clocks."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache, partial

from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from servicedesk.accounts.models import Group, StaffRole, User
from servicedesk.core import clock, config_cache
from servicedesk.core.prepared import Prepared
from servicedesk.sla import clock as business_clock
from servicedesk.sla import rules
from servicedesk.sla.calendar import BusinessCalendar, expand_closures
from servicedesk.sla.holidays import public_holidays
from servicedesk.sla.models import (
    INTERNAL_KINDS,
    Calendar,
    ClockKind,
    Pause,
    PauseReason,
    Policy,
    PolicyTarget,
    TicketClock,
)
from servicedesk.sla.policy import PolicyScope, choose_policy

# Holidays are loaded for the years around an instant; due times never reach further.
YEARS_BEHIND, YEARS_AHEAD = 1, 2


@lru_cache(maxsize=64)
def _holidays(country: str, subdivision: str, years: tuple[int, ...]) -> frozenset:
    return public_holidays(country, subdivision or None, years)


def business_calendar(calendar: Calendar, *, around: datetime) -> BusinessCalendar:
    """The pure calendar for ``calendar``, with its holidays and closures near ``around``."""
    weekly: dict[int, list] = {day: [] for day in range(7)}
    for hours in calendar.opening_hours.all():
        weekly[hours.weekday].append((hours.opens, hours.closes))
    years = tuple(range(around.year - YEARS_BEHIND, around.year + YEARS_AHEAD + 1))
    closed = set(expand_closures((c.start_date, c.end_date) for c in calendar.closures.all()))
    if calendar.holiday_country:
        closed |= _holidays(calendar.holiday_country, calendar.holiday_subdivision, years)
    return BusinessCalendar(
        timezone=calendar.timezone,
        weekly={day: tuple(sorted(spans)) for day, spans in weekly.items()},
        closed_dates=frozenset(closed),
    )


def calendars_by_id(ids, *, around: datetime) -> dict[int, BusinessCalendar]:
    """The pure calendars of ``ids`` (memoised: configuration, see ``core.config_cache``)."""

    def load(calendar_id: int) -> BusinessCalendar | None:
        row = (
            Calendar.objects.filter(pk=calendar_id)
            .prefetch_related("opening_hours", "closures")
            .first()
        )
        return None if row is None else business_calendar(row, around=around)

    found = {
        pk: config_cache.memo(("calendar", pk, around.year), partial(load, pk)) for pk in set(ids)
    }
    return {pk: calendar for pk, calendar in found.items() if calendar is not None}


def _policies() -> dict[int, Policy]:
    return config_cache.memo(
        "sla_policies",
        lambda: {p.pk: p for p in Policy.objects.select_related("calendar")},
    )


def policy_for(*, organisation_id: int | None, product_id: int | None) -> Policy | None:
    policies = _policies()
    scopes = [
        PolicyScope(p.pk, p.organisation_id, p.product_id, p.is_default) for p in policies.values()
    ]
    chosen = choose_policy(scopes, organisation_id=organisation_id, product_id=product_id)
    return None if chosen is None else policies[chosen]


def target_for(policy: Policy | None, priority: str) -> PolicyTarget | None:
    if policy is None:
        return None
    targets = config_cache.memo(
        ("sla_targets", policy.pk),
        lambda: {t.priority: t for t in PolicyTarget.objects.filter(policy_id=policy.pk)},
    )
    return targets.get(priority)


def _holds(kind: str) -> list[str]:
    """The pause reasons that hold a clock of ``kind``: waiting on the customer holds every
    clock; the time spent resolved holds the resolution clock (it resumes on re-opening)."""
    reasons = [PauseReason.WAITING_ON_CUSTOMER]
    if kind == ClockKind.RESOLUTION:
        reasons.append(PauseReason.RESOLVED)
    return reasons


def pauses_for(ticket_id: int, kind: str) -> list[tuple[datetime, datetime | None]]:
    """The pauses that hold a clock of ``kind`` (``_holds``)."""
    rows = Pause.objects.filter(ticket_id=ticket_id, reason__in=_holds(kind))
    return [(p.started_at, p.ended_at) for p in rows]


def facts(row: TicketClock) -> rules.ClockFacts:
    """The facts of a clock row, as the pure rules read them."""
    return rules.ClockFacts(
        due_at=row.due_at,
        warn_at=row.warn_at,
        met_at=row.met_at,
        warned_at=row.warned_at,
        breached_at=row.breached_at,
        stopped=row.stopped,
    )


@dataclass(frozen=True)
class ClockState:
    kind: str
    due_at: datetime | None
    left: timedelta | None  # business time left while it runs; negative once breached
    paused: bool
    state: rules.State  # ok | warning | breached | met | met_late | stopped
    met_at: datetime | None

    @property
    def words(self) -> str:
        return state_words(self)


def clock_state(
    row: TicketClock, *, now: datetime, calendar: BusinessCalendar | None
) -> ClockState:
    """What a clock shows: due time, business time left, paused or not, and its state (the
    table ``rules.CLOCK_STATES``)."""
    known = facts(row)
    state = rules.clock_state(known, now=now)
    left = None
    if known.outcome == rules.Outcome.RUNNING and not known.paused and calendar is not None:
        if now <= row.due_at:
            left = business_clock.business_time_between(now, row.due_at, calendar)
        else:
            left = -business_clock.business_time_between(row.due_at, now, calendar)
    return ClockState(row.kind, row.due_at, left, known.paused, state, row.met_at)


STATE_LABELS = {
    rules.State.OK: _("ok"),
    rules.State.WARNING: _("warning"),
    rules.State.BREACHED: _("breached"),
    rules.State.MET: _("met"),
    rules.State.MET_LATE: _("met late"),
    rules.State.STOPPED: _("stopped"),
}


def state_words(state: ClockState) -> str:
    """A clock's state in words, in the active language and time zone: "met late at
    2026-11-16 15:00" says when a late target was met."""
    label = STATE_LABELS[state.state]
    if state.state in (rules.State.MET, rules.State.MET_LATE) and state.met_at:
        when = timezone.localtime(state.met_at).strftime("%Y-%m-%d %H:%M")
        return gettext("%(state)s at %(time)s") % {"state": label, "time": when}
    return str(label)


_CLOCKS_OF = Prepared(
    lambda ticket_id: TicketClock.objects.filter(ticket_id=ticket_id).order_by("started_at", "pk")
)


def current_clocks(ticket_id: int) -> dict[str, TicketClock]:
    """The latest clock of each kind for a ticket (a next-update clock is one cycle): a
    prepared read, as the ticket page reads it on every view."""
    latest: dict[str, TicketClock] = {}
    for row in _CLOCKS_OF(ticket_id):
        latest[row.kind] = row
    return latest


def ticket_sla(ticket, *, now: datetime) -> dict[str, ClockState]:
    """The state of each current clock of ``ticket``: due, business time left, paused, state."""
    clocks = current_clocks(ticket.pk)
    calendars = calendars_by_id(
        [c.calendar_id for c in clocks.values() if c.calendar_id], around=now
    )
    return {
        kind: clock_state(row, now=now, calendar=calendars.get(row.calendar_id))
        for kind, row in clocks.items()
    }


def _recorded(ticket) -> dict[int, list[dict]]:
    """The warnings and breaches recorded for each clock of ``ticket`` (by clock id), as
    events: a breach recorded under a target since changed is still told."""
    from servicedesk.tickets.models import Event, EventKind

    what = {EventKind.SLA_WARNING: "warning", EventKind.SLA_BREACH: "breach"}
    recorded: dict[int, list[dict]] = {}
    for event in Event.objects.filter(ticket=ticket, kind__in=list(what)).order_by("at", "pk"):
        clock_id = (event.new or {}).get("clock")
        if clock_id is not None:
            recorded.setdefault(clock_id, []).append(
                {"what": what[event.kind], "at": event.at.isoformat(), "due": event.new.get("due")}
            )
    return recorded


def explain(ticket, *, now: datetime | None = None, internal: bool = True) -> list[dict]:
    """How each due time of ``ticket`` was reached, as plain JSON-ready data: the policy and
    calendar, the start, every business interval counted, the holidays and closures skipped,
    the pauses added back, the moments the triage changed the priority, the clock's state at
    ``now`` (``met_late``: met after its due time) and the warnings and breaches recorded,
    with the due time each was judged against. ``internal`` false (for a customer): without
    the desk's own clocks (``INTERNAL_KINDS``, the OLA)."""
    from servicedesk.tickets.models import Event, EventKind

    now = now or clock.now()
    retriage = [
        {
            "at": e.at.isoformat(),
            "from": (e.old or {}).get("priority"),
            "to": (e.new or {}).get("priority"),
        }
        for e in Event.objects.filter(ticket=ticket, kind=EventKind.TRIAGE)
    ]
    recorded = _recorded(ticket)
    pauses = list(Pause.objects.filter(ticket=ticket).order_by("started_at", "pk"))  # once
    rows = (
        TicketClock.objects.filter(ticket=ticket)
        .select_related("policy", "calendar")
        .order_by("started_at", "pk")
    )
    if not internal:
        rows = rows.exclude(kind__in=INTERNAL_KINDS)
    calendars = calendars_by_id(
        [r.calendar_id for r in rows if r.calendar_id], around=ticket.created_at
    )
    result = []
    for row in rows:
        calendar = calendars.get(row.calendar_id)
        state = rules.clock_state(facts(row), now=now)
        entry = {
            "kind": row.kind,
            "policy": row.policy.name if row.policy else None,
            "calendar": row.calendar.name if row.calendar else None,
            "timezone": calendar.timezone if calendar else None,
            "priority": ticket.priority,
            "target": str(row.target),
            "started_at": row.started_at.isoformat(),
            "due_at": row.due_at and row.due_at.isoformat(),
            "met_at": row.met_at and row.met_at.isoformat(),
            "warned_at": row.warned_at and row.warned_at.isoformat(),
            "breached_at": row.breached_at and row.breached_at.isoformat(),
            "stopped": row.stopped,
            "state": str(state),
            "met_late": state == rules.State.MET_LATE,
            "recorded": recorded.get(row.pk, []),
            "counted": [],
            "skipped_dates": [],
            "pauses": [],
            "retriage": [r for r in retriage if r["at"] >= row.started_at.isoformat()],
        }
        if calendar is not None:
            held = [(p.started_at, p.ended_at) for p in pauses if p.reason in _holds(row.kind)]
            working = business_clock.explain_add(row.started_at, row.target, calendar, pauses=held)
            entry["counted"] = [
                {
                    "start": s.start.isoformat(),
                    "end": s.end.isoformat(),
                    "counted": str(s.counted),
                    "total": str(s.total),
                }
                for s in working.counted
            ]
            entry["skipped_dates"] = [d.isoformat() for d in working.skipped_dates]
            entry["pauses"] = [
                {"start": b.isoformat(), "end": e and e.isoformat()} for b, e in working.paused
            ]
        result.append(entry)
    return result


def _support_managers() -> tuple:
    return tuple(
        User.objects.filter(is_staff=True, is_active=True, staff_role=StaffRole.SUPPORT_MANAGER)
    )


def alert_recipients(ticket, *, group_id: int | None = None) -> list:
    """Who hears of an SLA warning or breach: the assignee, the group's lead, and the support
    managers (read once per ``config_cache.TTL``: a sweep of many breaches reads them once).
    An OLA's (``group_id``: the group that owes it): that group's lead and active members,
    whose own target it is, and the assignee; not the support managers."""
    if group_id is not None:
        group = Group.objects.filter(pk=group_id).select_related("lead").first()
        people = {}
        if group is not None:
            people = {u.pk: u for u in group.members.filter(is_active=True, is_staff=True)}
            if group.lead is not None and group.lead.is_active:
                people[group.lead.pk] = group.lead
        if ticket.assignee is not None and ticket.assignee.is_active:
            people[ticket.assignee.pk] = ticket.assignee
        return sorted(people.values(), key=lambda u: u.pk)
    people = {u.pk: u for u in config_cache.memo("support_managers", _support_managers)}
    for person in (ticket.assignee, ticket.group.lead if ticket.group else None):
        if person is not None and person.is_active:
            people[person.pk] = person
    return sorted(people.values(), key=lambda u: u.pk)
