"""The business clock: hand-computed tables (pretix style), then properties checked by
Hypothesis against a slow, obviously correct reference that walks minute by minute.
Pure: no database."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from servicedesk.sla.calendar import (
    BusinessCalendar,
    CalendarError,
    always_open,
    expand_closures,
    french_desk,
    norwegian_desk,
    s4_desk,
)
from servicedesk.sla.clock import (
    SEARCH_LIMIT,
    Segment,
    add_business_time,
    business_time_between,
    explain_add,
    merge_pauses,
)
from servicedesk.sla.holidays import public_holidays

MIDNIGHT = time(0)
S4 = s4_desk(public_holidays("GB", "ENG", [2026]))
NORWAY = norwegian_desk(public_holidays("NO", None, [2026]))
FRANCE = french_desk(public_holidays("FR", None, [2026]))
ALWAYS = always_open()
LONDON_24X7 = BusinessCalendar("Europe/London", dict.fromkeys(range(7), ((MIDNIGHT, MIDNIGHT),)))


def at(calendar: BusinessCalendar, text: str) -> datetime:
    """A local wall-clock time in the calendar's zone, e.g. "2026-01-09 15:00"."""
    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(calendar.timezone))


def hours(value: float) -> timedelta:
    return timedelta(hours=value)


# --- adding business time: the table --------------------------------------------------------
# January 2026 in London is GMT, so S4's local times there are also UTC.
# (calendar, start, duration, due), start and due in the calendar's local time.
ADD_CASES = [
    pytest.param(S4, "2026-01-05 09:00", hours(2), "2026-01-05 11:00", id="within-a-day"),
    pytest.param(S4, "2026-01-05 15:00", hours(2), "2026-01-05 17:00", id="ends-at-closing"),
    pytest.param(S4, "2026-01-05 16:00", hours(2), "2026-01-06 09:30", id="over-the-evening"),
    pytest.param(
        S4, "2026-01-09 15:00", hours(4), "2026-01-12 11:30", id="over-a-weekend-friday-shuts-at-16"
    ),
    pytest.param(S4, "2026-01-05 08:30", hours(48), "2026-01-12 15:00", id="medium-follow-up-48h"),
    pytest.param(S4, "2026-01-10 10:00", hours(1), "2026-01-12 09:30", id="starts-on-saturday"),
    pytest.param(S4, "2026-01-05 07:00", hours(1), "2026-01-05 09:30", id="starts-before-opening"),
    pytest.param(S4, "2026-01-05 18:00", hours(1), "2026-01-06 09:30", id="starts-after-closing"),
    pytest.param(S4, "2026-01-05 17:00", hours(1), "2026-01-06 09:30", id="starts-at-closing"),
    pytest.param(
        S4,
        "2026-04-02 16:00",
        hours(4),
        "2026-04-07 11:30",
        id="over-good-friday-and-easter-monday",
    ),
    pytest.param(
        S4,
        "2026-12-24 16:00",
        hours(2),
        "2026-12-29 09:30",
        id="over-christmas-and-boxing-day-observed",
    ),
    pytest.param(
        S4, "2026-03-27 15:00", hours(4), "2026-03-30 11:30", id="over-the-spring-forward-weekend"
    ),
    pytest.param(
        S4, "2026-10-23 15:00", hours(4), "2026-10-26 11:30", id="over-the-fall-back-weekend"
    ),
    pytest.param(
        S4,
        "2026-01-10 10:00",
        timedelta(0),
        "2026-01-10 10:00",
        id="zero-is-due-at-once-even-closed",
    ),
    pytest.param(
        NORWAY, "2026-05-13 15:00", hours(2), "2026-05-15 09:00", id="over-ascension-day-in-norway"
    ),
    pytest.param(
        NORWAY, "2026-03-27 15:00", hours(2), "2026-03-30 09:00", id="norway-over-spring-forward"
    ),
    pytest.param(
        FRANCE, "2026-01-05 12:00", hours(1), "2026-01-05 14:00", id="over-the-french-lunch-break"
    ),
    pytest.param(
        FRANCE, "2026-01-05 12:45", hours(0.5), "2026-01-05 14:00", id="starts-during-lunch"
    ),
    pytest.param(FRANCE, "2026-01-05 09:00", hours(8), "2026-01-05 18:00", id="a-whole-french-day"),
    pytest.param(FRANCE, "2026-07-13 17:30", hours(1), "2026-07-15 09:30", id="over-bastille-day"),
    pytest.param(
        ALWAYS, "2026-01-10 23:00", hours(3), "2026-01-11 02:00", id="24x7-over-saturday-night"
    ),
    pytest.param(
        ALWAYS, "2026-12-24 12:00", hours(48), "2026-12-26 12:00", id="24x7-ignores-christmas"
    ),
    pytest.param(
        LONDON_24X7, "2026-03-28 23:00", hours(3), "2026-03-29 03:00", id="24x7-london-spring-night"
    ),
    pytest.param(
        LONDON_24X7, "2026-10-24 23:00", hours(4), "2026-10-25 02:00", id="24x7-london-autumn-night"
    ),
]


@pytest.mark.parametrize(("calendar", "start", "duration", "due"), ADD_CASES)
def test_add_business_time(calendar, start, duration, due):
    result = add_business_time(at(calendar, start), duration, calendar)

    assert result == at(calendar, due)
    assert result.tzinfo is UTC


@pytest.mark.parametrize(("calendar", "start", "duration", "due"), ADD_CASES)
def test_business_time_between_gives_back_the_duration(calendar, start, duration, due):
    assert business_time_between(at(calendar, start), at(calendar, due), calendar) == duration


# --- pauses ---------------------------------------------------------------------------------
# On S4, Monday 5 January 2026. (start, duration, pauses, due); due None: held for good.
PAUSE_CASES = [
    pytest.param(
        "01-05 09:00", hours(2), [("01-05 09:30", "01-05 10:00")], "01-05 11:30", id="inside"
    ),
    pytest.param(
        "01-05 09:00", hours(2), [("01-05 08:00", "01-05 10:00")], "01-05 12:00", id="covers-start"
    ),
    pytest.param(
        "01-05 16:00", hours(2), [("01-05 16:30", "01-06 09:00")], "01-06 10:30", id="across-night"
    ),
    pytest.param(
        "01-05 09:00",
        hours(2),
        [("01-05 09:30", "01-05 10:30"), ("01-05 10:00", "01-05 11:00")],
        "01-05 12:30",
        id="overlapping",
    ),
    pytest.param(
        "01-05 09:00",
        hours(2),
        [("01-05 10:00", "01-05 10:30"), ("01-05 10:30", "01-05 11:00")],
        "01-05 12:00",
        id="touching",
    ),
    pytest.param(
        "01-05 09:00",
        hours(2),
        [("01-05 10:00", "01-05 10:30"), ("01-05 09:15", "01-05 09:30")],
        "01-05 11:45",
        id="unsorted",
    ),
    pytest.param(
        "01-05 09:00",
        hours(2),
        [("01-03 10:00", "01-04 10:00"), ("01-05 18:00", "01-06 08:00")],
        "01-05 11:00",
        id="only-in-closed-hours",
    ),
    pytest.param(
        "01-05 09:00", hours(2), [("01-05 10:00", "01-05 10:00")], "01-05 11:00", id="empty"
    ),
    pytest.param(
        "01-05 09:00", hours(2), [("01-05 10:00", None)], None, id="open-ended-before-due"
    ),
    pytest.param(
        "01-05 09:00", hours(2), [("01-05 08:00", None)], None, id="open-ended-before-start"
    ),
    pytest.param(
        "01-05 09:00", hours(2), [("01-05 11:00", None)], "01-05 11:00", id="open-ended-at-due"
    ),
    pytest.param(
        "01-05 09:00", hours(2), [("01-05 13:00", None)], "01-05 11:00", id="open-ended-after-due"
    ),
    pytest.param(
        "01-05 09:00",
        hours(2),
        [("01-05 09:30", "01-05 10:00"), ("01-05 09:45", None)],
        None,
        id="open-ended-swallows-overlap",
    ),
    pytest.param(
        "01-05 09:00", timedelta(0), [("01-05 08:00", None)], "01-05 09:00", id="zero-while-paused"
    ),
]


def s4_at(text: str | None) -> datetime | None:
    return None if text is None else at(S4, f"2026-{text}")


@pytest.mark.parametrize(("start", "duration", "pauses", "due"), PAUSE_CASES)
def test_add_business_time_with_pauses(start, duration, pauses, due):
    held = [(s4_at(begin), s4_at(end)) for begin, end in pauses]

    result = add_business_time(s4_at(start), duration, S4, pauses=held)

    assert result == s4_at(due)


@pytest.mark.parametrize(
    ("start", "duration", "pauses", "due"),
    [case for case in PAUSE_CASES if case.values[3] is not None],
)
def test_business_time_between_with_pauses_gives_back_the_duration(start, duration, pauses, due):
    held = [(s4_at(begin), s4_at(end)) for begin, end in pauses]

    assert business_time_between(s4_at(start), s4_at(due), S4, pauses=held) == duration


def test_business_time_between_stops_counting_at_an_open_ended_pause():
    held = [(s4_at("01-05 09:30"), s4_at("01-05 10:00")), (s4_at("01-05 11:00"), None)]

    result = business_time_between(s4_at("01-05 09:00"), s4_at("01-09 16:00"), S4, pauses=held)

    assert result == hours(1.5)


# --- measuring business time: the table -----------------------------------------------------
BETWEEN_CASES = [
    pytest.param(S4, "2026-01-05 00:00", "2026-01-12 00:00", hours(41.5), id="s4-winter-week"),
    pytest.param(
        S4, "2026-03-30 00:00", "2026-04-06 00:00", hours(34), id="s4-week-with-good-friday"
    ),
    pytest.param(S4, "2026-01-09 15:00", "2026-01-12 11:30", hours(4), id="friday-to-monday"),
    pytest.param(S4, "2026-01-10 08:00", "2026-01-11 20:00", hours(0), id="a-weekend"),
    pytest.param(S4, "2026-01-06 12:00", "2026-01-05 12:00", hours(0), id="end-before-start"),
    pytest.param(S4, "2026-01-06 12:00", "2026-01-06 12:00", hours(0), id="empty"),
    pytest.param(FRANCE, "2026-01-05 00:00", "2026-01-06 00:00", hours(8), id="a-french-day"),
    pytest.param(
        LONDON_24X7, "2026-03-23 00:00", "2026-03-30 00:00", hours(167), id="24x7-spring-week"
    ),
    pytest.param(
        LONDON_24X7, "2026-10-19 00:00", "2026-10-26 00:00", hours(169), id="24x7-autumn-week"
    ),
    pytest.param(ALWAYS, "2026-01-01 00:00", "2027-01-01 00:00", hours(365 * 24), id="24x7-a-year"),
]


@pytest.mark.parametrize(("calendar", "start", "end", "expected"), BETWEEN_CASES)
def test_business_time_between(calendar, start, end, expected):
    assert business_time_between(at(calendar, start), at(calendar, end), calendar) == expected


def test_business_time_between_subtracts_overlapping_pauses():
    pauses = [
        (s4_at("01-05 09:00"), s4_at("01-05 10:00")),
        (s4_at("01-05 09:30"), s4_at("01-05 11:00")),
    ]

    result = business_time_between(s4_at("01-05 08:00"), s4_at("01-05 18:00"), S4, pauses=pauses)

    assert result == hours(8.5 - 2)


# --- refusals -------------------------------------------------------------------------------


def test_refuses_a_naive_start():
    with pytest.raises(ValueError, match="aware"):
        add_business_time(datetime(2026, 1, 5, 9), hours(1), S4)


def test_refuses_naive_instants_when_measuring():
    with pytest.raises(ValueError, match="aware"):
        business_time_between(datetime(2026, 1, 5, 9), s4_at("01-05 10:00"), S4)


def test_refuses_a_negative_duration():
    with pytest.raises(ValueError, match="negative"):
        add_business_time(s4_at("01-05 09:00"), -hours(1), S4)


def test_refuses_a_naive_pause():
    with pytest.raises(ValueError, match="aware"):
        add_business_time(
            s4_at("01-05 09:00"), hours(1), S4, pauses=[(datetime(2026, 1, 5, 9), None)]
        )


def test_refuses_a_pause_that_ends_before_it_begins():
    with pytest.raises(ValueError, match="before it begins"):
        add_business_time(
            s4_at("01-05 09:00"),
            hours(1),
            S4,
            pauses=[(s4_at("01-05 10:00"), s4_at("01-05 09:30"))],
        )


def test_refuses_a_calendar_without_opening_hours():
    never = BusinessCalendar("UTC", {})

    with pytest.raises(CalendarError, match="no opening hours"):
        add_business_time(s4_at("01-05 09:00"), hours(1), never)


def test_refuses_a_calendar_closed_for_longer_than_the_search_limit():
    closed = expand_closures(
        [(date(2026, 1, 1), date(2026, 1, 1) + SEARCH_LIMIT + timedelta(days=30))]
    )

    with pytest.raises(CalendarError, match="no open time"):
        add_business_time(s4_at("01-05 09:00"), hours(1), s4_desk(closed))


def test_finds_open_time_after_a_long_closure_within_the_limit():
    closed = expand_closures([(date(2026, 1, 1), date(2027, 12, 31))])

    result = add_business_time(s4_at("01-05 09:00"), hours(1), s4_desk(closed))

    assert result == datetime(2028, 1, 3, 9, 30, tzinfo=UTC)


def test_a_zero_duration_on_a_never_open_calendar_is_due_at_once():
    start = s4_at("01-05 09:00")

    assert add_business_time(start, timedelta(0), BusinessCalendar("UTC", {})) == start


def test_merge_pauses_sorts_merges_and_keeps_open_ended_last():
    merged = merge_pauses(
        [
            (s4_at("01-05 12:00"), None),
            (s4_at("01-05 09:00"), s4_at("01-05 10:00")),
            (s4_at("01-05 13:00"), s4_at("01-05 14:00")),
            (s4_at("01-05 09:30"), s4_at("01-05 11:00")),
        ]
    )

    assert merged == [(s4_at("01-05 09:00"), s4_at("01-05 11:00")), (s4_at("01-05 12:00"), None)]


# --- explanations ---------------------------------------------------------------------------


def test_explains_the_count_over_easter():
    start = at(S4, "2026-04-02 16:00")

    explanation = explain_add(start, hours(4), S4)

    assert explanation.due == at(S4, "2026-04-07 11:30") == add_business_time(start, hours(4), S4)
    assert explanation.counted == (
        Segment(at(S4, "2026-04-02 16:00"), at(S4, "2026-04-02 17:00"), hours(1), hours(1)),
        Segment(at(S4, "2026-04-07 08:30"), at(S4, "2026-04-07 11:30"), hours(3), hours(4)),
    )
    assert explanation.skipped_dates == (date(2026, 4, 3), date(2026, 4, 6))  # not the weekend
    assert explanation.paused == ()


def test_explains_pauses_clipped_to_the_count():
    pauses = [
        (s4_at("01-05 08:00"), s4_at("01-05 10:00")),
        (s4_at("01-05 11:00"), s4_at("01-06 12:00")),
    ]

    explanation = explain_add(s4_at("01-05 09:00"), hours(2), S4, pauses=pauses)

    assert explanation.due == s4_at("01-06 12:00") + hours(1)
    assert [segment.counted for segment in explanation.counted] == [hours(1), hours(1)]
    assert explanation.paused == (
        (s4_at("01-05 09:00"), s4_at("01-05 10:00")),
        (s4_at("01-05 11:00"), s4_at("01-06 12:00")),
    )


def test_explains_a_count_held_by_an_open_ended_pause():
    pauses = [(s4_at("01-05 10:00"), None)]

    explanation = explain_add(s4_at("01-05 09:00"), hours(2), S4, pauses=pauses)

    assert explanation.due is None
    assert explanation.counted == (
        Segment(s4_at("01-05 09:00"), s4_at("01-05 10:00"), hours(1), hours(1)),
    )
    assert explanation.paused == ((s4_at("01-05 10:00"), None),)


def test_explains_a_zero_duration_as_nothing_counted():
    explanation = explain_add(s4_at("01-10 10:00"), timedelta(0), S4)

    assert explanation.due == s4_at("01-10 10:00")
    assert explanation.counted == explanation.skipped_dates == explanation.paused == ()


# --- properties against a minute-by-minute reference ---------------------------------------
# Zones with daylight saving at different local hours. Opening hours fall on quarter hours but
# never strictly between 01:00 and 03:00: there the clocks skip or repeat an hour in these
# zones, and the reference's "is the wall clock inside the hours?" would differ, knowingly,
# from the calendar's documented resolution (tested by hand in test_calendar.py).
ZONES = ["Europe/London", "Europe/Oslo", "America/New_York", "UTC"]
BOUNDARIES = [minute for minute in range(0, 24 * 60 + 1, 15) if not 60 < minute < 180]
# Windows around the changes: US spring (8 March), EU spring (29 March), EU autumn
# (25 October), US autumn (1 November), and a quiet June.
BASES = [
    datetime(2026, month, day, tzinfo=UTC)
    for month, day in [(3, 5), (3, 25), (10, 21), (10, 29), (6, 1)]
]
MINUTE = timedelta(minutes=1)


def _wall(minute: int) -> time:
    return MIDNIGHT if minute == 24 * 60 else time(minute // 60, minute % 60)


@st.composite
def calendars(draw, base: date):
    weekly = {}
    for day in range(7):
        count = draw(st.integers(0, 2))
        points = sorted(
            draw(st.sets(st.sampled_from(BOUNDARIES), min_size=2 * count, max_size=2 * count))
        )
        weekly[day] = tuple(
            (_wall(points[i]), _wall(points[i + 1])) for i in range(0, len(points), 2)
        )
    if not any(weekly.values()):
        weekly[0] = ((time(9), time(17)),)
    closed = draw(st.sets(st.integers(0, 12), max_size=4))
    return BusinessCalendar(
        draw(st.sampled_from(ZONES)), weekly, frozenset(base + timedelta(days=n) for n in closed)
    )


def weekly_minutes(calendar: BusinessCalendar) -> int:
    def length(opens: time, closes: time) -> int:
        end = 24 * 60 if closes == MIDNIGHT else closes.hour * 60 + closes.minute
        return end - (opens.hour * 60 + opens.minute)

    return sum(length(*interval) for day in calendar.weekly.values() for interval in day)


@st.composite
def scenarios(draw):
    """A calendar, a whole-minute start near a daylight-saving change, pauses around it, and a
    positive duration of at most a week's open time (so the reference stays quick)."""
    base = draw(st.sampled_from(BASES))
    calendar = draw(calendars(base.date()))
    start = base + draw(st.integers(0, 7 * 24 * 60)) * MINUTE
    longest = min(weekly_minutes(calendar), 3 * 24 * 60)
    duration = draw(st.integers(1, longest)) * MINUTE  # zero is a table case: due at once
    pauses = []
    for _ in range(draw(st.integers(0, 4))):
        begin = start + draw(st.integers(-6 * 60, 4 * 24 * 60)) * MINUTE
        held_for_good = draw(st.integers(0, 9)) == 0
        pauses.append(
            (begin, None if held_for_good else begin + draw(st.integers(0, 24 * 60)) * MINUTE)
        )
    return calendar, start, duration, pauses


def reference_open(calendar: BusinessCalendar, instant: datetime) -> bool:
    """Whether the minute from ``instant`` is open: does the wall clock show a time inside the
    day's hours, on a day that is not closed?"""
    wall = instant.astimezone(ZoneInfo(calendar.timezone))
    if wall.date() in calendar.closed_dates:
        return False
    clock = wall.time()
    return any(
        opens <= clock and (closes == MIDNIGHT or clock < closes)
        for opens, closes in calendar.weekly[wall.weekday()]
    )


def reference_paused(pauses, instant: datetime) -> bool:
    return any(begin <= instant and (end is None or instant < end) for begin, end in pauses)


def reference_add(calendar, start, duration, pauses):
    """Walk minute by minute, counting the open, un-paused ones."""
    if not duration:
        return start
    remaining = duration // MINUTE
    minute = start
    while minute < start + timedelta(days=60):
        if reference_open(calendar, minute) and not reference_paused(pauses, minute):
            remaining -= 1
            if remaining == 0:
                return minute + MINUTE
        elif any(end is None and begin <= minute for begin, end in pauses):
            return None  # held for good
        minute += MINUTE
    raise AssertionError("the reference found no due time within 60 days")


def reference_between(calendar, start, end, pauses):
    minutes = 0
    minute = start
    while minute < end:
        minutes += reference_open(calendar, minute) and not reference_paused(pauses, minute)
        minute += MINUTE
    return minutes * MINUTE


@settings(max_examples=150, deadline=None)
@given(scenarios())
def test_add_business_time_matches_the_minute_reference(scenario):
    calendar, start, duration, pauses = scenario

    assert add_business_time(start, duration, calendar, pauses=pauses) == reference_add(
        calendar, start, duration, pauses
    )


@settings(max_examples=60, deadline=None)
@given(scenarios(), st.integers(0, 3 * 24 * 60))
def test_business_time_between_matches_the_minute_reference(scenario, minutes):
    calendar, start, _, pauses = scenario
    end = start + minutes * MINUTE

    assert business_time_between(start, end, calendar, pauses=pauses) == reference_between(
        calendar, start, end, pauses
    )


@settings(max_examples=200, deadline=None)
@given(scenarios())
def test_measuring_up_to_the_due_time_gives_back_the_duration(scenario):
    calendar, start, duration, pauses = scenario

    due = add_business_time(start, duration, calendar, pauses=pauses)

    if due is not None:
        assert business_time_between(start, due, calendar, pauses=pauses) == duration


@settings(max_examples=200, deadline=None)
@given(scenarios(), st.integers(0, 3 * 24 * 60))
def test_adding_piecewise_equals_adding_at_once(scenario, split_minutes):
    calendar, start, duration, pauses = scenario
    first = min(split_minutes * MINUTE, duration)

    halfway = add_business_time(start, first, calendar, pauses=pauses)
    at_once = add_business_time(start, duration, calendar, pauses=pauses)

    if halfway is None:
        assert at_once is None
    else:
        assert add_business_time(halfway, duration - first, calendar, pauses=pauses) == at_once


@settings(max_examples=200, deadline=None)
@given(scenarios())
def test_a_due_time_ends_an_open_unpaused_minute(scenario):
    calendar, start, duration, pauses = scenario

    due = add_business_time(start, duration, calendar, pauses=pauses)

    if due is not None and duration:
        assert due > start
        assert reference_open(calendar, due - MINUTE)
        assert not reference_paused(pauses, due - MINUTE)


@settings(max_examples=200, deadline=None)
@given(scenarios(), st.integers(0, 5 * 24 * 60), st.integers(0, 5 * 24 * 60))
def test_business_time_between_adds_up_over_a_split_point(scenario, to_middle, to_end):
    calendar, start, _, pauses = scenario
    middle = start + to_middle * MINUTE
    end = middle + to_end * MINUTE

    whole = business_time_between(start, end, calendar, pauses=pauses)

    assert whole == business_time_between(
        start, middle, calendar, pauses=pauses
    ) + business_time_between(middle, end, calendar, pauses=pauses)


@settings(max_examples=100, deadline=None)
@given(scenarios())
def test_an_explanation_agrees_with_the_clock(scenario):
    calendar, start, duration, pauses = scenario

    explanation = explain_add(start, duration, calendar, pauses=pauses)

    assert explanation.due == add_business_time(start, duration, calendar, pauses=pauses)
    counted = sum((segment.counted for segment in explanation.counted), timedelta(0))
    assert counted == (explanation.counted[-1].total if explanation.counted else timedelta(0))
    if explanation.due is not None:
        assert counted == duration
    assert all(day in calendar.closed_dates for day in explanation.skipped_dates)
