"""Business calendars (SPEC §5): weekly opening hours in a time zone, minus closed dates.

Pure: no Django. A calendar is a frozen value; :func:`open_intervals` turns it into the real
instants (aware UTC) at which the desk is open, built day by day in the calendar's own zone.

How local wall-clock times become instants
------------------------------------------
Opening hours are wall-clock times, so on a daylight-saving night an interval has its real
length: 24×7 lasts 23 hours on the spring-forward day and 25 on the fall-back day, and S4's
08:30–17:00 stays 08:30–17:00 on the local clock (a different UTC time either side of the
change). A local time ``L`` on a date resolves to *the first instant at which the wall clock
reads ``L`` or later*:

- a time that exists once is that instant;
- an ambiguous time (in the hour repeated when the clocks go back) is its first occurrence,
  ``fold=0``;
- a nonexistent time (in the hour skipped when the clocks go forward) is the instant of the
  jump: an interval opening at 01:30 on a night the clocks jump from 01:00 to 02:00 opens when
  they show 02:00. We chose this over ``fold=0``'s "shift later by the gap" (02:30) because
  it is monotone: earlier local times never resolve to later instants, so an interval can
  never come out reversed or overlap its neighbour.

An interval may end at ``time(0)``, which means midnight at the end of its day; a whole day is
``(time(0), time(0))``. Consecutive days therefore tile exactly, even where midnight itself is
skipped.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from types import MappingProxyType
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from servicedesk.core.errors import DomainError, gettext_noop

MIDNIGHT = time(0)
WEEKDAYS = range(7)  # 0 = Monday … 6 = Sunday, as date.weekday()

Interval = tuple[time, time]


class CalendarError(DomainError):
    """A calendar that cannot be used: bad opening hours, unknown zone or holidays, never open."""

    code = "invalid_calendar"


def _check_day(weekday: int, intervals: Iterable[Interval]) -> tuple[Interval, ...]:
    day = tuple(tuple(interval) for interval in intervals)
    previous_end: time | None = None
    for interval in day:
        if len(interval) != 2 or not all(isinstance(t, time) for t in interval):
            raise CalendarError(
                gettext_noop("Day %(day)s: an opening interval is a pair of times, not %(value)r."),
                day=weekday,
                value=interval,
            )
        opens, closes = interval
        if opens.tzinfo is not None or closes.tzinfo is not None:
            raise CalendarError(
                gettext_noop(
                    "Day %(day)s: opening hours are local wall-clock times, without a zone."
                ),
                day=weekday,
            )
        if closes <= opens and closes != MIDNIGHT:
            raise CalendarError(
                gettext_noop("Day %(day)s: %(opens)s–%(closes)s closes before it opens."),
                day=weekday,
                opens=f"{opens:%H:%M}",
                closes=f"{closes:%H:%M}",
            )
        if previous_end is not None and (previous_end == MIDNIGHT or opens < previous_end):
            raise CalendarError(
                gettext_noop("Day %(day)s: opening intervals overlap or are out of order."),
                day=weekday,
            )
        previous_end = closes
    return day  # type: ignore[return-value]


@dataclass(frozen=True)
class BusinessCalendar:
    """When a desk is open: weekly opening hours in ``timezone``, minus ``closed_dates``.

    ``weekly`` maps a weekday (0 = Monday … 6 = Sunday) to its opening intervals, sorted and
    not overlapping, in local wall-clock time; a missing weekday is closed all day. An interval
    ending at ``time(0)`` runs to midnight. ``closed_dates`` are local dates on which the desk
    stays shut (public holidays and custom closures).
    """

    timezone: str
    weekly: Mapping[int, tuple[Interval, ...]]
    closed_dates: frozenset[date] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError, TypeError) as error:
            raise CalendarError(
                gettext_noop("Unknown time zone %(zone)r."), zone=self.timezone
            ) from error
        unknown = set(self.weekly) - set(WEEKDAYS)
        if unknown:
            raise CalendarError(
                gettext_noop("Weekdays run from 0 (Monday) to 6 (Sunday), not %(days)s."),
                days=sorted(unknown),
            )
        weekly = {day: _check_day(day, self.weekly.get(day, ())) for day in WEEKDAYS}
        closed = frozenset(self.closed_dates)
        if any(isinstance(day, datetime) or not isinstance(day, date) for day in closed):
            raise CalendarError(
                gettext_noop("Closed dates must be dates, not datetimes or other values.")
            )
        # Normalised, read-only copies: every weekday present, intervals as tuples.
        object.__setattr__(self, "weekly", MappingProxyType(weekly))
        object.__setattr__(self, "closed_dates", closed)

    def __hash__(self) -> int:
        return hash((self.timezone, tuple(self.weekly.items()), self.closed_dates))

    @property
    def zone(self) -> tzinfo:
        """The calendar's time zone (``ZoneInfo`` caches one instance per key)."""
        return ZoneInfo(self.timezone)

    @property
    def never_open(self) -> bool:
        """True if no weekday has any opening hours."""
        return not any(self.weekly.values())


# --- presets ---------------------------------------------------------------------------------


def _weekdays(
    *intervals: Interval, days: Iterable[int] = (0, 1, 2, 3, 4)
) -> dict[int, tuple[Interval, ...]]:
    return {day: intervals for day in days}


def s4_desk(closed: Iterable[date] = frozenset()) -> BusinessCalendar:
    """S4's desk: Mon–Thu 08:30–17:00, Fri 08:30–16:00, Europe/London."""
    weekly = _weekdays((time(8, 30), time(17)), days=range(4))
    weekly[4] = ((time(8, 30), time(16)),)
    return BusinessCalendar("Europe/London", weekly, frozenset(closed))


def norwegian_desk(closed: Iterable[date] = frozenset()) -> BusinessCalendar:
    """A Norwegian desk: Mon–Fri 08:00–16:00, Europe/Oslo."""
    return BusinessCalendar("Europe/Oslo", _weekdays((time(8), time(16))), frozenset(closed))


def french_desk(closed: Iterable[date] = frozenset()) -> BusinessCalendar:
    """A French desk with a lunch break: Mon–Fri 09:00–12:30 and 13:30–18:00, Europe/Paris."""
    weekly = _weekdays((time(9), time(12, 30)), (time(13, 30), time(18)))
    return BusinessCalendar("Europe/Paris", weekly, frozenset(closed))


def always_open() -> BusinessCalendar:
    """24×7 in UTC: no nights, weekends or holidays (S1's Critical)."""
    return BusinessCalendar("UTC", _weekdays((MIDNIGHT, MIDNIGHT), days=WEEKDAYS))


def expand_closures(ranges: Iterable[tuple[date, date]]) -> frozenset[date]:
    """Every date of the given ``(first, last)`` ranges, both ends included."""
    closed: set[date] = set()
    for first, last in ranges:
        if last < first:
            raise CalendarError(
                gettext_noop("A closure cannot end (%(last)s) before it starts (%(first)s)."),
                last=last,
                first=first,
            )
        closed.update(first + timedelta(days=n) for n in range((last - first).days + 1))
    return frozenset(closed)


# --- from wall-clock times to instants --------------------------------------------------------


def _resolve(day: date, wall: time, zone: tzinfo) -> datetime:
    """The first instant (UTC) at which the wall clock in ``zone`` reads ``day wall`` or later.

    See the module docstring: fold=0 for ambiguous times, the instant of the jump for times
    the clocks skip.
    """
    naive = datetime.combine(day, wall)
    instant = naive.replace(tzinfo=zone).astimezone(UTC)  # fold=0
    if instant.astimezone(zone).replace(tzinfo=None) == naive:
        return instant
    # Skipped: fold=0 used the offset before the jump and landed after it; fold=1 used the
    # offset after and landed before it. Offsets change on whole seconds, so bisect whole
    # seconds between the two for the jump (about 13 steps for a one-hour gap).
    low = naive.replace(tzinfo=zone, fold=1).astimezone(UTC).replace(microsecond=0)
    high = instant.replace(microsecond=0)
    after_jump = high.astimezone(zone).utcoffset()
    while high - low > timedelta(seconds=1):
        middle = low + (high - low) // 2
        middle -= timedelta(microseconds=middle.microsecond)
        if middle.astimezone(zone).utcoffset() == after_jump:
            high = middle
        else:
            low = middle
    return high


def opening_spans(calendar: BusinessCalendar, day: date) -> list[tuple[datetime, datetime]]:
    """The weekly opening intervals of a local ``day`` as UTC instants, whether or not the
    day is a closed date."""
    zone = calendar.zone
    spans = []
    for opens, closes in calendar.weekly[day.weekday()]:
        begin = _resolve(day, opens, zone)
        end = (
            _resolve(day + timedelta(days=1), MIDNIGHT, zone)
            if closes == MIDNIGHT
            else _resolve(day, closes, zone)
        )
        if begin < end:  # an interval lying wholly in a skipped hour has no real time
            spans.append((begin, end))
    return spans


def local_date(calendar: BusinessCalendar, instant: datetime) -> date:
    """The calendar's local date at an aware ``instant``."""
    return instant.astimezone(calendar.zone).date()


def iter_days(
    calendar: BusinessCalendar, start: datetime
) -> Iterator[tuple[date, list[tuple[datetime, datetime]]]]:
    """Each local date from ``start``'s onwards, with its opening spans (empty when closed).

    Unbounded: the caller stops. Spans are in order and never overlap, also across days.
    """
    day = local_date(calendar, start)
    while True:
        spans = [] if day in calendar.closed_dates else opening_spans(calendar, day)
        yield day, spans
        day += timedelta(days=1)


def require_aware(name: str, value: datetime) -> datetime:
    """``value`` in UTC; ``ValueError`` if it is naive."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime, got {value!r}.")
    return value.astimezone(UTC)


def open_intervals(
    calendar: BusinessCalendar, start: datetime, end: datetime
) -> Iterator[tuple[datetime, datetime]]:
    """The periods in which ``calendar`` is open between the aware instants ``start`` and ``end``.

    Yields ``(begin, end)`` pairs of aware UTC datetimes, in order, clipped to the window, one
    per local opening interval (adjacent ones, as midnight on a 24×7 calendar, are not merged).
    Nothing is yielded when ``end <= start``.
    """
    start = require_aware("start", start)
    end = require_aware("end", end)
    if end <= start:
        return
    zone = calendar.zone
    for day, spans in iter_days(calendar, start):
        for begin, finish in spans:
            if begin < end and finish > start:
                yield max(begin, start), min(finish, end)
        if _resolve(day + timedelta(days=1), MIDNIGHT, zone) >= end:
            return
