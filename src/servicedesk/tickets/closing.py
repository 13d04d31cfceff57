"""Closing a resolved ticket (SPEC §8) as a pure rule: when to remind, when to close.

Pure: no Django, no ``now()``. When a ticket is resolved the requester is asked to confirm
(the resolution email). Without an answer the desk sends up to ``reminders`` reminders, each
``interval_days`` business days after the previous attempt (the resolution, then each
reminder); ``interval_days`` after the last reminder the ticket closes by itself. A reply
re-opens the ticket, which clears its resolution: the caller counts only the reminders sent
since the latest resolution, so a ticket resolved again starts over.

Each step is measured from the previous attempt as it really happened, not from a schedule
fixed at the resolution: a sweep that was down for a day sends one late reminder, never two
at once.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from servicedesk.core.errors import gettext_noop
from servicedesk.sla.calendar import (
    BusinessCalendar,
    CalendarError,
    iter_days,
    local_date,
    require_aware,
)

# How far ``add_business_days`` looks for open days before it decides the calendar is shut.
SEARCH_LIMIT = timedelta(days=3 * 366)


class Action(StrEnum):
    WAIT = "wait"  # nothing is due yet
    REMIND = "remind"
    CLOSE = "close"


@dataclass(frozen=True)
class Step:
    """What is due: ``action`` and the instant it is (or will be) due.

    ``number`` is the reminder's number (1, 2, …) for REMIND; for CLOSE, the reminders sent;
    for WAIT, the number the next reminder will have (or the reminders sent, if the next
    attempt is the closing)."""

    action: Action
    number: int
    due_at: datetime


def next_step(
    *,
    resolved_at: datetime,
    reminders_sent: int,
    last_reminder_at: datetime | None,
    reminders: int,
    interval_days: int,
    add_days: Callable[[datetime, int], datetime],
    now: datetime,
) -> Step:
    """What the desk owes a resolved ticket at ``now``.

    ``reminders_sent`` and ``last_reminder_at`` count only since ``resolved_at`` (the latest
    resolution). ``reminders`` is how many reminders to send before closing (0: close after
    one interval), ``interval_days`` the business days between attempts, ``add_days(start,
    days)`` the calendar's way of adding them. Raises ``ValueError`` for impossible input.
    """
    if reminders < 0 or interval_days < 1 or reminders_sent < 0:
        raise ValueError("reminders and reminders_sent cannot be negative; interval_days >= 1.")
    if reminders_sent and last_reminder_at is None:
        raise ValueError("A reminder was sent, so last_reminder_at is needed.")
    since = last_reminder_at if reminders_sent else resolved_at
    due = add_days(since, interval_days)
    if reminders_sent < reminders:
        action, number = Action.REMIND, reminders_sent + 1
    else:  # all reminders sent (or fewer are configured now than were sent): close
        action, number = Action.CLOSE, reminders_sent
    if now < due:
        return Step(Action.WAIT, number, due)
    return Step(action, number, due)


def add_business_days(
    start: datetime, days: int, calendar: BusinessCalendar | None = None
) -> datetime:
    """The instant ``days`` open days of ``calendar`` after ``start``, aware UTC.

    The answer lies on the ``days``-th local date after ``start``'s on which the desk is
    open (closed dates and days without opening hours do not count), at ``start``'s local
    wall-clock time, kept within that day's opening hours (a ticket resolved in the evening
    is reminded at closing time, one resolved before opening at opening time). Without a
    calendar, plain days. Raises ``CalendarError`` if the calendar is never open.
    """
    start = require_aware("start", start)
    if days < 0:
        raise ValueError(f"days cannot be negative, got {days}.")
    if calendar is None:
        return start + timedelta(days=days)
    if not days:
        return start
    if calendar.never_open:
        raise CalendarError(gettext_noop("The calendar has no opening hours, so it is never open."))
    first = local_date(calendar, start)
    wall = start.astimezone(calendar.zone).time()
    counted = 0
    for day, spans in iter_days(calendar, start):
        if day - first > SEARCH_LIMIT:
            raise CalendarError(
                gettext_noop("The calendar has no open day for %(days)s days after %(day)s."),
                days=SEARCH_LIMIT.days,
                day=first,
            )
        if day == first or not spans:
            continue
        counted += 1
        if counted == days:
            moment = datetime.combine(day, wall, tzinfo=calendar.zone).astimezone(UTC)
            return min(max(moment, spans[0][0]), spans[-1][1])
    raise AssertionError("iter_days is unbounded")  # pragma: no cover
