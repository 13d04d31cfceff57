"""The business clock (SPEC §5): add and measure business time, with pauses and holidays.

Pure: no Django, no ``now()``. Every instant is an argument and must be aware; results are
aware UTC datetimes. The clock walks whole intervals: each local day's opening spans (see
:mod:`servicedesk.sla.calendar`), minus closed dates, minus the pauses, so its cost grows with
the number of days crossed, never with the number of minutes.

Decisions:

- **Zero duration** is due at once: ``add_business_time(start, timedelta(0), ...)`` is
  ``start`` itself, even outside opening hours or inside a pause. A positive duration ends
  at the instant its last moment is counted, which may be a closing time (17:00, not the
  next morning's 08:30).
- **Pauses** are ``(begin, end)`` intervals of real time in which the clock stands still;
  they may overlap. ``(begin, None)`` is paused until further notice. When such a pause
  begins before the duration is used up, the due time is unknown until the pause ends:
  ``add_business_time`` returns ``None`` (a normal state, not an error; the ticket shows no
  due time while it waits on the customer). An open pause that begins after the due instant
  changes nothing.
- **A calendar that is never open** raises :class:`CalendarError`: at once if it has no
  opening hours, or after :data:`SEARCH_LIMIT` of days with no open time at all (closures
  covering everything).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from servicedesk.core.errors import gettext_noop
from servicedesk.sla.calendar import (
    BusinessCalendar,
    CalendarError,
    iter_days,
    local_date,
    open_intervals,
    opening_spans,
    require_aware,
)

# How far the clock looks for open time before it decides the calendar is never open.
SEARCH_LIMIT = timedelta(days=3 * 366)

Pause = tuple[datetime, datetime | None]
Span = tuple[datetime, datetime]


@dataclass(frozen=True)
class Segment:
    """A stretch of open, un-paused time that counted towards a duration.

    ``counted`` is its length; ``total`` the business time counted up to its end.
    """

    start: datetime
    end: datetime
    counted: timedelta
    total: timedelta


@dataclass(frozen=True)
class Explanation:
    """How :func:`explain_add` reached its due time, for showing to people.

    ``due`` is ``None`` while an open-ended pause holds the clock. ``skipped_dates`` are the
    closed dates (holidays, closures) on which the desk would otherwise have been open during
    the count; ``paused`` the pauses, merged and clipped to the counting window.
    """

    due: datetime | None
    counted: tuple[Segment, ...]
    skipped_dates: tuple[date, ...]
    paused: tuple[Pause, ...]


def merge_pauses(pauses: Iterable[Pause]) -> list[Pause]:
    """The pauses as sorted, disjoint UTC intervals; overlapping and touching ones merged.

    Raises ``ValueError`` for a naive instant or a pause that ends before it begins. Empty
    pauses are dropped; everything after an open-ended pause is absorbed by it.
    """
    cleaned: list[Pause] = []
    for begin, end in pauses:
        begin = require_aware("A pause's begin", begin)
        if end is not None:
            end = require_aware("A pause's end", end)
            if end < begin:
                raise ValueError(f"A pause cannot end ({end}) before it begins ({begin}).")
            if end == begin:
                continue
        cleaned.append((begin, end))
    cleaned.sort(key=lambda pause: pause[0])
    merged: list[Pause] = []
    for begin, end in cleaned:
        if merged and (merged[-1][1] is None or begin <= merged[-1][1]):
            last_begin, last_end = merged[-1]
            if last_end is not None:
                merged[-1] = (last_begin, None if end is None else max(last_end, end))
        else:
            merged.append((begin, end))
    return merged


def _minus_pauses(
    begin: datetime, end: datetime, pauses: list[Pause], first: int
) -> tuple[list[Span], int]:
    """``[begin, end)`` minus the merged ``pauses``, looking from index ``first`` on.

    Returns the un-paused pieces and the index to start from for a later span (spans come in
    order, so pauses that ended before this one are never looked at again).
    """
    while first < len(pauses) and pauses[first][1] is not None and pauses[first][1] <= begin:
        first += 1
    pieces: list[Span] = []
    cursor = begin
    index = first
    while index < len(pauses) and cursor < end:
        pause_begin, pause_end = pauses[index]
        if pause_begin >= end:
            break
        if pause_begin > cursor:
            pieces.append((cursor, pause_begin))
        cursor = end if pause_end is None else max(cursor, pause_end)
        index += 1
    if cursor < end:
        pieces.append((cursor, end))
    return pieces, first


def _counting_days(
    calendar: BusinessCalendar, start: datetime, pauses: list[Pause]
) -> Iterator[tuple[date, list[Span]]]:
    """Each local day from ``start``'s on, with its open, un-paused pieces after ``start``.

    Stops once an open-ended pause holds the clock for good; raises :class:`CalendarError`
    after :data:`SEARCH_LIMIT` without any open time.
    """
    if calendar.never_open:
        raise CalendarError(
            gettext_noop("The calendar has no opening hours, so its clock never runs.")
        )
    held_from = pauses[-1][0] if pauses and pauses[-1][1] is None else None
    # Days are local; a margin of two days covers zones whose clocks go back over midnight.
    last_day = None if held_from is None else local_date(calendar, held_from) + timedelta(days=2)
    last_open = local_date(calendar, start)
    first_pause = 0
    for day, spans in iter_days(calendar, start):
        if last_day is not None and day > last_day:
            return
        if spans:
            last_open = day
        elif day - last_open > SEARCH_LIMIT:
            raise CalendarError(
                gettext_noop("The calendar has no open time for %(days)s days after %(day)s."),
                days=SEARCH_LIMIT.days,
                day=last_open,
            )
        pieces: list[Span] = []
        for begin, end in spans:
            if end > start:
                found, first_pause = _minus_pauses(max(begin, start), end, pauses, first_pause)
                pieces.extend(found)
        yield day, pieces


def _check_add(start: datetime, duration: timedelta) -> datetime:
    start = require_aware("start", start)
    if duration < timedelta(0):
        raise ValueError(f"A duration cannot be negative, got {duration}.")
    return start


def add_business_time(
    start: datetime,
    duration: timedelta,
    calendar: BusinessCalendar,
    *,
    pauses: Iterable[Pause] = (),
) -> datetime | None:
    """Return the instant when ``duration`` of open, un-paused time has passed after ``start``.

    ``start`` must be aware (``ValueError`` otherwise) and ``duration`` not negative. A zero
    duration returns ``start`` (in UTC). Nights, weekends, closed dates and ``pauses`` are
    skipped. Returns ``None`` if an open-ended pause holds the clock before the duration is
    used up. The result is aware UTC.
    """
    start = _check_add(start, duration)
    if not duration:
        return start
    remaining = duration
    for _day, pieces in _counting_days(calendar, start, merge_pauses(pauses)):
        for begin, end in pieces:
            if end - begin >= remaining:
                return begin + remaining
            remaining -= end - begin
    return None


def explain_add(
    start: datetime,
    duration: timedelta,
    calendar: BusinessCalendar,
    *,
    pauses: Iterable[Pause] = (),
) -> Explanation:
    """:func:`add_business_time` with its working: the segments counted, the closed dates
    skipped and the pauses that held the clock between ``start`` and the due time."""
    start = _check_add(start, duration)
    merged = merge_pauses(pauses)
    if not duration:
        return Explanation(due=start, counted=(), skipped_dates=(), paused=())
    segments: list[Segment] = []
    closed_days: list[date] = []
    total = timedelta(0)
    due: datetime | None = None
    for day, pieces in _counting_days(calendar, start, merged):
        if day in calendar.closed_dates:
            closed_days.append(day)
        for begin, end in pieces:
            counted = min(end - begin, duration - total)
            total += counted
            segments.append(Segment(begin, begin + counted, counted, total))
            if total == duration:
                due = begin + counted
                break
        if due is not None:
            break
    # Closed dates count as skipped up to the due time, or to the open-ended pause that held
    # the count; pauses are shown up to the due time (an open-ended one stays open).
    held_from = next((begin for begin, end in merged if end is None), None)
    skipped = tuple(
        day for day in closed_days if _would_open(calendar, day, start, due or held_from)
    )
    paused = tuple(
        (max(begin, start), _earlier(end, due))
        for begin, end in merged
        if (end is None or end > start) and (due is None or begin < due)
    )
    return Explanation(due=due, counted=tuple(segments), skipped_dates=skipped, paused=paused)


def _earlier(first: datetime | None, second: datetime | None) -> datetime | None:
    """The earlier of two instants, ``None`` standing for "never"."""
    if first is None or second is None:
        return second if first is None else first
    return min(first, second)


def _would_open(
    calendar: BusinessCalendar, day: date, start: datetime, limit: datetime | None
) -> bool:
    """Whether the closed ``day`` has opening hours between ``start`` and ``limit``."""
    return any(
        end > start and (limit is None or begin < limit)
        for begin, end in opening_spans(calendar, day)
    )


def business_time_between(
    start: datetime,
    end: datetime,
    calendar: BusinessCalendar,
    *,
    pauses: Iterable[Pause] = (),
) -> timedelta:
    """The open, un-paused time between the aware instants ``start`` and ``end``.

    Zero when ``end <= start``. Inverse of :func:`add_business_time`:
    ``business_time_between(a, add_business_time(a, d, c), c) == d``.
    """
    merged = merge_pauses(pauses)
    total = timedelta(0)
    first_pause = 0
    for begin, finish in open_intervals(calendar, start, end):
        pieces, first_pause = _minus_pauses(begin, finish, merged, first_pause)
        total += sum((piece_end - piece_begin for piece_begin, piece_end in pieces), timedelta(0))
    return total
