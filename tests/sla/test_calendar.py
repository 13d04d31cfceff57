"""The business calendar: validation, presets, and open intervals across weeks, closures and
daylight-saving nights. Pure: no database."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from servicedesk.core.errors import DomainError
from servicedesk.sla.calendar import (
    BusinessCalendar,
    CalendarError,
    always_open,
    expand_closures,
    french_desk,
    norwegian_desk,
    open_intervals,
    s4_desk,
)

LONDON = ZoneInfo("Europe/London")
NINE_TO_FIVE = ((time(9), time(17)),)
WHOLE_DAY = ((time(0), time(0)),)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def local(zone: str, *args: int) -> datetime:
    return datetime(*args, tzinfo=ZoneInfo(zone))


def every_day(*intervals: tuple[time, time]) -> dict[int, tuple[tuple[time, time], ...]]:
    return dict.fromkeys(range(7), intervals)


def lengths(intervals) -> list[timedelta]:
    return [end - begin for begin, end in intervals]


# --- validation ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "weekly",
    [
        pytest.param({0: ((time(9), time(12)), (time(11), time(13)))}, id="overlapping"),
        pytest.param({0: ((time(13), time(17)), (time(9), time(12)))}, id="unsorted"),
        pytest.param({0: ((time(17), time(9)),)}, id="closes-before-it-opens"),
        pytest.param({0: ((time(9), time(9)),)}, id="empty-interval"),
        pytest.param({0: ((time(18), time(0)), (time(0), time(1)))}, id="after-midnight-end"),
        pytest.param({7: NINE_TO_FIVE}, id="unknown-weekday"),
        pytest.param({0: (("09:00", "17:00"),)}, id="strings-not-times"),
        pytest.param({0: ((time(9, tzinfo=UTC), time(17, tzinfo=UTC)),)}, id="aware-times"),
    ],
)
def test_refuses_bad_opening_hours(weekly):
    with pytest.raises(CalendarError):
        BusinessCalendar("Europe/London", weekly)


@pytest.mark.parametrize("zone", ["Europe/Londres", "", "../etc/passwd", "Mars/Olympus_Mons"])
def test_refuses_an_unknown_time_zone(zone):
    with pytest.raises(CalendarError, match="time zone"):
        BusinessCalendar(zone, {0: NINE_TO_FIVE})


def test_refuses_datetimes_among_closed_dates():
    with pytest.raises(CalendarError):
        BusinessCalendar("UTC", {0: NINE_TO_FIVE}, frozenset({utc(2026, 1, 1)}))


def test_calendar_error_is_a_domain_error():
    assert issubclass(CalendarError, DomainError)
    assert CalendarError("x").code == "invalid_calendar"


def test_accepts_touching_intervals_an_evening_to_midnight_and_a_whole_day():
    calendar = BusinessCalendar(
        "Europe/London",
        {0: ((time(8), time(12)), (time(12), time(0))), 6: WHOLE_DAY},
    )

    assert calendar.weekly[0] == ((time(8), time(12)), (time(12), time(0)))
    assert calendar.weekly[6] == WHOLE_DAY


def test_normalises_weekly_to_every_weekday_and_stays_hashable():
    first = BusinessCalendar("UTC", {0: [[time(9), time(17)]]}, {date(2026, 1, 1)})
    second = BusinessCalendar("UTC", {0: NINE_TO_FIVE, 3: ()}, frozenset({date(2026, 1, 1)}))

    assert dict(first.weekly) == {0: NINE_TO_FIVE, 1: (), 2: (), 3: (), 4: (), 5: (), 6: ()}
    assert first == second
    assert hash(first) == hash(second)
    assert isinstance(first.closed_dates, frozenset)


def test_weekly_cannot_be_changed_after_construction():
    calendar = s4_desk()

    with pytest.raises(TypeError):
        calendar.weekly[5] = NINE_TO_FIVE  # type: ignore[index]


# --- presets and closures ------------------------------------------------------------------


def test_presets_have_the_seeds_opening_hours():
    s4 = s4_desk()
    norway = norwegian_desk()
    france = french_desk()
    always = always_open()

    assert s4.timezone == "Europe/London"
    assert s4.weekly[3] == ((time(8, 30), time(17)),)
    assert s4.weekly[4] == ((time(8, 30), time(16)),)
    assert s4.weekly[5] == s4.weekly[6] == ()
    assert norway.timezone == "Europe/Oslo"
    assert norway.weekly[0] == ((time(8), time(16)),)
    assert france.timezone == "Europe/Paris"
    assert france.weekly[2] == ((time(9), time(12, 30)), (time(13, 30), time(18)))
    assert always.timezone == "UTC"
    assert all(always.weekly[day] == WHOLE_DAY for day in range(7))
    assert always.closed_dates == frozenset()


def test_presets_take_closed_dates():
    christmas = {date(2026, 12, 25)}

    assert s4_desk(christmas).closed_dates == frozenset(christmas)
    assert norwegian_desk(christmas).closed_dates == frozenset(christmas)
    assert french_desk(christmas).closed_dates == frozenset(christmas)


def test_expand_closures_includes_both_ends():
    closed = expand_closures(
        [(date(2026, 12, 24), date(2026, 12, 27)), (date(2026, 8, 3), date(2026, 8, 3))]
    )

    assert closed == {
        date(2026, 8, 3),
        date(2026, 12, 24),
        date(2026, 12, 25),
        date(2026, 12, 26),
        date(2026, 12, 27),
    }


def test_expand_closures_refuses_a_range_that_ends_before_it_starts():
    with pytest.raises(CalendarError):
        expand_closures([(date(2026, 12, 27), date(2026, 12, 24))])


# --- open intervals ------------------------------------------------------------------------


def test_open_intervals_over_a_normal_winter_week_of_the_s4_desk():
    # Week of Monday 5 January 2026: London keeps GMT, so local time is UTC.
    intervals = list(open_intervals(s4_desk(), utc(2026, 1, 5), utc(2026, 1, 12)))

    assert intervals == [
        (utc(2026, 1, 5, 8, 30), utc(2026, 1, 5, 17)),
        (utc(2026, 1, 6, 8, 30), utc(2026, 1, 6, 17)),
        (utc(2026, 1, 7, 8, 30), utc(2026, 1, 7, 17)),
        (utc(2026, 1, 8, 8, 30), utc(2026, 1, 8, 17)),
        (utc(2026, 1, 9, 8, 30), utc(2026, 1, 9, 16)),
    ]
    assert sum(lengths(intervals), timedelta()) == timedelta(hours=41, minutes=30)


def test_open_intervals_are_clipped_to_the_window():
    intervals = list(open_intervals(s4_desk(), utc(2026, 1, 5, 12), utc(2026, 1, 6, 9)))

    assert intervals == [
        (utc(2026, 1, 5, 12), utc(2026, 1, 5, 17)),
        (utc(2026, 1, 6, 8, 30), utc(2026, 1, 6, 9)),
    ]


def test_open_intervals_take_any_aware_instant_and_answer_in_utc():
    start = local("Europe/Oslo", 2026, 1, 5, 10)  # 09:00 in London

    intervals = list(open_intervals(s4_desk(), start, start + timedelta(hours=1)))

    assert intervals == [(utc(2026, 1, 5, 9), utc(2026, 1, 5, 10))]
    assert intervals[0][0].tzinfo is UTC


def test_open_intervals_are_empty_for_an_empty_or_reversed_window():
    assert list(open_intervals(s4_desk(), utc(2026, 1, 5, 12), utc(2026, 1, 5, 12))) == []
    assert list(open_intervals(s4_desk(), utc(2026, 1, 5, 12), utc(2026, 1, 5, 11))) == []


def test_open_intervals_refuse_naive_instants():
    with pytest.raises(ValueError, match="aware"):
        list(open_intervals(s4_desk(), datetime(2026, 1, 5), utc(2026, 1, 6)))
    with pytest.raises(ValueError, match="aware"):
        list(open_intervals(s4_desk(), utc(2026, 1, 5), datetime(2026, 1, 6)))


def test_open_intervals_of_the_french_desk_stop_for_lunch():
    # Paris is UTC+1 in January.
    intervals = list(open_intervals(french_desk(), utc(2026, 1, 5), utc(2026, 1, 6)))

    assert intervals == [
        (utc(2026, 1, 5, 8), utc(2026, 1, 5, 11, 30)),
        (utc(2026, 1, 5, 12, 30), utc(2026, 1, 5, 17)),
    ]


def test_open_intervals_skip_closed_dates():
    closed = expand_closures([(date(2026, 1, 6), date(2026, 1, 7))])

    intervals = list(open_intervals(s4_desk(closed), utc(2026, 1, 5), utc(2026, 1, 9)))

    assert [begin.date() for begin, _ in intervals] == [date(2026, 1, 5), date(2026, 1, 8)]


def test_open_intervals_of_a_24x7_calendar_meet_at_midnight():
    intervals = list(open_intervals(always_open(), utc(2026, 1, 5, 22), utc(2026, 1, 6, 2)))

    assert intervals == [
        (utc(2026, 1, 5, 22), utc(2026, 1, 6)),
        (utc(2026, 1, 6), utc(2026, 1, 6, 2)),
    ]


# --- daylight saving -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        pytest.param(date(2026, 3, 28), timedelta(hours=24), id="saturday-before-spring"),
        pytest.param(date(2026, 3, 29), timedelta(hours=23), id="spring-forward-sunday"),
        pytest.param(date(2026, 3, 30), timedelta(hours=24), id="monday-after-spring"),
        pytest.param(date(2026, 10, 25), timedelta(hours=25), id="fall-back-sunday"),
    ],
)
def test_a_24x7_day_in_london_has_its_real_length(day, expected):
    calendar = BusinessCalendar("Europe/London", every_day(*WHOLE_DAY))
    midnight = datetime.combine(day, time(0), tzinfo=LONDON)
    next_midnight = datetime.combine(day + timedelta(days=1), time(0), tzinfo=LONDON)

    intervals = list(open_intervals(calendar, midnight, next_midnight))

    assert lengths(intervals) == [expected]


@pytest.mark.parametrize(
    ("day", "opens_utc", "closes_utc"),
    [
        pytest.param(
            date(2026, 3, 27), utc(2026, 3, 27, 8, 30), utc(2026, 3, 27, 16), id="friday-gmt"
        ),
        pytest.param(
            date(2026, 3, 30), utc(2026, 3, 30, 7, 30), utc(2026, 3, 30, 16), id="monday-bst"
        ),
        pytest.param(
            date(2026, 10, 23), utc(2026, 10, 23, 7, 30), utc(2026, 10, 23, 15), id="friday-bst"
        ),
        pytest.param(
            date(2026, 10, 26), utc(2026, 10, 26, 8, 30), utc(2026, 10, 26, 17), id="monday-gmt"
        ),
    ],
)
def test_an_s4_day_keeps_its_local_hours_across_the_change(day, opens_utc, closes_utc):
    start = datetime.combine(day, time(0), tzinfo=LONDON)

    intervals = list(open_intervals(s4_desk(), start, start + timedelta(days=1)))

    assert intervals == [(opens_utc, closes_utc)]


def test_a_time_the_clocks_skip_resolves_to_the_jump():
    # 29 March 2026: London's clocks jump from 01:00 GMT to 02:00 BST at 01:00 UTC.
    calendar = BusinessCalendar(
        "Europe/London",
        {6: ((time(0, 30), time(1, 30)), (time(1, 40), time(1, 50)), (time(1, 55), time(3)))},
    )

    intervals = list(open_intervals(calendar, utc(2026, 3, 28), utc(2026, 3, 30)))

    # 00:30–01:30 ends at the jump; 01:40–01:50 lies wholly in the skipped hour and has no
    # real time; 01:55–03:00 opens at the jump (02:00 BST) and lasts one real hour.
    assert intervals == [
        (utc(2026, 3, 29, 0, 30), utc(2026, 3, 29, 1)),
        (utc(2026, 3, 29, 1), utc(2026, 3, 29, 2)),
    ]


def test_an_ambiguous_time_resolves_to_its_first_occurrence():
    # 25 October 2026: London's clocks go back from 02:00 BST to 01:00 GMT at 01:00 UTC.
    calendar = BusinessCalendar("Europe/London", {6: ((time(1, 30), time(3)),)})

    intervals = list(open_intervals(calendar, utc(2026, 10, 24), utc(2026, 10, 26)))

    assert intervals == [(utc(2026, 10, 25, 0, 30), utc(2026, 10, 25, 3))]  # 01:30 BST to 03:00 GMT


@pytest.mark.parametrize(
    ("zone", "day", "day_starts_utc"),
    [
        pytest.param("America/Santiago", date(2026, 9, 6), utc(2026, 9, 6, 4), id="santiago"),
        pytest.param("America/Havana", date(2026, 3, 8), utc(2026, 3, 8, 5), id="havana"),
    ],
)
def test_days_tile_where_midnight_itself_is_skipped(zone, day, day_starts_utc):
    calendar = BusinessCalendar(zone, every_day(*WHOLE_DAY))
    window_start = day_starts_utc - timedelta(hours=1)

    intervals = list(open_intervals(calendar, window_start, window_start + timedelta(days=2)))

    assert intervals[0][1] == day_starts_utc == intervals[1][0]
    assert intervals[1][0].astimezone(ZoneInfo(zone)).date() == day
    assert intervals[1][1] - intervals[1][0] == timedelta(hours=23)
