"""Reads for SLAs: the policy and calendar in force, and the state of a ticket's clocks."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache, partial

from servicedesk.accounts.models import StaffRole, User
from servicedesk.core import config_cache
from servicedesk.sla import clock as business_clock
from servicedesk.sla.calendar import BusinessCalendar, expand_closures
from servicedesk.sla.holidays import public_holidays
from servicedesk.sla.models import (
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


def pauses_for(ticket_id: int, kind: str) -> list[tuple[datetime, datetime | None]]:
    """The pauses that hold a clock of ``kind``: waiting on the customer holds every clock;
    the time spent resolved holds the resolution clock (it resumes if the ticket re-opens)."""
    reasons = [PauseReason.WAITING_ON_CUSTOMER]
    if kind == ClockKind.RESOLUTION:
        reasons.append(PauseReason.RESOLVED)
    rows = Pause.objects.filter(ticket_id=ticket_id, reason__in=reasons)
    return [(p.started_at, p.ended_at) for p in rows]


@dataclass(frozen=True)
class ClockState:
    kind: str
    due_at: datetime | None
    left: timedelta | None  # business time left; negative once breached
    paused: bool
    state: str  # ok | warning | breached | met
    met_at: datetime | None


def clock_state(
    row: TicketClock, *, now: datetime, calendar: BusinessCalendar | None
) -> ClockState:
    """What a clock shows: due time, business time left, paused or not, and its state."""
    if row.met_at:
        state = "met" if not row.breached_at else "breached"
        return ClockState(row.kind, row.due_at, None, False, state, row.met_at)
    paused = row.due_at is None
    left = None
    if not paused and calendar is not None:
        if now <= row.due_at:
            left = business_clock.business_time_between(now, row.due_at, calendar)
        else:
            left = -business_clock.business_time_between(row.due_at, now, calendar)
    if row.breached_at or (row.due_at and now >= row.due_at):
        state = "breached"
    elif row.warned_at or (row.warn_at and now >= row.warn_at):
        state = "warning"
    else:
        state = "ok"
    return ClockState(row.kind, row.due_at, left, paused, state, None)


def current_clocks(ticket_id: int) -> dict[str, TicketClock]:
    """The latest clock of each kind for a ticket (a next-update clock is one cycle)."""
    latest: dict[str, TicketClock] = {}
    for row in TicketClock.objects.filter(ticket_id=ticket_id).order_by("started_at", "pk"):
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


def explain(ticket) -> list[dict]:
    """How each due time of ``ticket`` was reached, as plain JSON-ready data: the policy and
    calendar, the start, every business interval counted, the holidays and closures skipped,
    the pauses added back, and the moments the triage changed the priority."""
    from servicedesk.tickets.models import Event, EventKind

    retriage = [
        {
            "at": e.at.isoformat(),
            "from": (e.old or {}).get("priority"),
            "to": (e.new or {}).get("priority"),
        }
        for e in Event.objects.filter(ticket=ticket, kind=EventKind.TRIAGE)
    ]
    rows = (
        TicketClock.objects.filter(ticket=ticket)
        .select_related("policy", "calendar")
        .order_by("started_at", "pk")
    )
    calendars = calendars_by_id(
        [r.calendar_id for r in rows if r.calendar_id], around=ticket.created_at
    )
    result = []
    for row in rows:
        calendar = calendars.get(row.calendar_id)
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
            "counted": [],
            "skipped_dates": [],
            "pauses": [],
            "retriage": [r for r in retriage if r["at"] >= row.started_at.isoformat()],
        }
        if calendar is not None:
            working = business_clock.explain_add(
                row.started_at, row.target, calendar, pauses=pauses_for(ticket.pk, row.kind)
            )
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


def alert_recipients(ticket) -> list:
    """Who hears of an SLA warning or breach: the assignee, the group's lead, and the support
    managers (read once per ``config_cache.TTL``: a sweep of many breaches reads them once)."""
    people = {u.pk: u for u in config_cache.memo("support_managers", _support_managers)}
    for person in (ticket.assignee, ticket.group.lead if ticket.group else None):
        if person is not None and person.is_active:
            people[person.pk] = person
    return sorted(people.values(), key=lambda u: u.pk)
