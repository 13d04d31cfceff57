"""Closing a resolved ticket (SPEC §8, issue 14 item 5): the pure rule as tables, business
days of the ticket's calendar, and the sweep on the database at frozen times (S4 default
policy: Mon–Thu 08:30–17:00, Fri 08:30–16:00 Europe/London; Critical on 24×7)."""

from datetime import UTC, date, datetime, time, timedelta
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from hypothesis import given
from hypothesis import strategies as st

from servicedesk.sla.calendar import BusinessCalendar, CalendarError, always_open, s4_desk
from servicedesk.tickets import closing, closing_services, services
from servicedesk.tickets.closing import Action, Step, add_business_days, next_step
from servicedesk.tickets.models import Event, EventKind, Ticket
from tests.factories import make_ticket

D = timedelta(days=1)
H = timedelta(hours=1)
R = datetime(2026, 11, 16, 10, 0, tzinfo=UTC)  # a Monday, 10:00 in London (GMT)


def at(moment):
    return time_machine.travel(moment, tick=False)


def plain(start, days):
    return start + days * D


# ---- The rule ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sent", "last", "reminders", "now", "expected"),
    [
        # Just resolved: the first reminder is due one interval after the resolution.
        (0, None, 3, R, Step(Action.WAIT, 1, R + 2 * D)),
        (0, None, 3, R + 2 * D - H, Step(Action.WAIT, 1, R + 2 * D)),
        (0, None, 3, R + 2 * D, Step(Action.REMIND, 1, R + 2 * D)),
        (0, None, 3, R + 9 * D, Step(Action.REMIND, 1, R + 2 * D)),  # late: still only one
        # Each next attempt counts from the previous one as it really happened.
        (1, R + 2 * D + H, 3, R + 4 * D, Step(Action.WAIT, 2, R + 4 * D + H)),
        (1, R + 2 * D + H, 3, R + 4 * D + H, Step(Action.REMIND, 2, R + 4 * D + H)),
        (2, R + 4 * D, 3, R + 6 * D, Step(Action.REMIND, 3, R + 6 * D)),
        # After the last reminder, one more interval, then the ticket closes.
        (3, R + 6 * D, 3, R + 8 * D - H, Step(Action.WAIT, 3, R + 8 * D)),
        (3, R + 6 * D, 3, R + 8 * D, Step(Action.CLOSE, 3, R + 8 * D)),
        # No reminders configured: close one interval after the resolution.
        (0, None, 0, R + 2 * D, Step(Action.CLOSE, 0, R + 2 * D)),
        # Fewer reminders configured now than were sent: close, never a fifth reminder.
        (4, R + 8 * D, 3, R + 10 * D, Step(Action.CLOSE, 4, R + 10 * D)),
    ],
)
def test_next_step_table(sent, last, reminders, now, expected):
    step = next_step(
        resolved_at=R,
        reminders_sent=sent,
        last_reminder_at=last,
        reminders=reminders,
        interval_days=2,
        add_days=plain,
        now=now,
    )

    assert step == expected


@pytest.mark.parametrize(
    "bad",
    [
        {"reminders": -1},
        {"interval_days": 0},
        {"reminders_sent": -1},
        {"reminders_sent": 1, "last_reminder_at": None},
    ],
)
def test_next_step_refuses_impossible_input(bad):
    arguments = {
        "resolved_at": R,
        "reminders_sent": 0,
        "last_reminder_at": None,
        "reminders": 3,
        "interval_days": 2,
        "add_days": plain,
        "now": R,
    } | bad

    with pytest.raises(ValueError):
        next_step(**arguments)


def utc(y, m, d, hh, mm=0):
    return datetime(y, m, d, hh, mm, tzinfo=UTC)


TUESDAY_CLOSED = s4_desk(closed=[date(2026, 11, 17)])


@pytest.mark.parametrize(
    ("start", "days", "calendar", "expected"),
    [
        (utc(2026, 11, 16, 10), 2, s4_desk(), utc(2026, 11, 18, 10)),  # Mon → Wed
        (utc(2026, 11, 19, 10), 2, s4_desk(), utc(2026, 11, 23, 10)),  # Thu → Mon (weekend)
        (utc(2026, 11, 20, 15), 1, s4_desk(), utc(2026, 11, 23, 15)),  # Fri → Mon
        (utc(2026, 11, 21, 12), 1, s4_desk(), utc(2026, 11, 23, 12)),  # Sat → Mon
        (utc(2026, 11, 16, 20), 1, s4_desk(), utc(2026, 11, 17, 17)),  # evening → closing time
        (utc(2026, 11, 16, 7), 1, s4_desk(), utc(2026, 11, 17, 8, 30)),  # early → opening time
        (utc(2026, 11, 19, 16, 30), 1, s4_desk(), utc(2026, 11, 20, 16)),  # Friday closes at 16
        (utc(2026, 11, 16, 10), 1, TUESDAY_CLOSED, utc(2026, 11, 18, 10)),  # a closed date
        (utc(2026, 11, 19, 10), 2, always_open(), utc(2026, 11, 21, 10)),  # 24×7: Saturday
        (utc(2026, 11, 16, 10), 0, s4_desk(), utc(2026, 11, 16, 10)),
        (utc(2026, 11, 19, 10), 2, None, utc(2026, 11, 21, 10)),  # no calendar: plain days
        # London's clocks go back on 25 Oct 2026: 10:00 BST on Friday, 10:00 GMT on Monday.
        (utc(2026, 10, 23, 9), 1, s4_desk(), utc(2026, 10, 26, 10)),
    ],
)
def test_add_business_days_table(start, days, calendar, expected):
    assert add_business_days(start, days, calendar) == expected


def test_add_business_days_refuses_a_calendar_that_is_never_open():
    shut = BusinessCalendar("UTC", {})

    with pytest.raises(CalendarError):
        add_business_days(R, 1, shut)


def test_add_business_days_refuses_naive_instants_and_negative_days():
    with pytest.raises(ValueError):
        add_business_days(datetime(2026, 11, 16, 10), 1, s4_desk())
    with pytest.raises(ValueError):
        add_business_days(R, -1, s4_desk())


@given(
    start=st.datetimes(
        min_value=datetime(2026, 1, 1), max_value=datetime(2028, 12, 31), timezones=st.just(UTC)
    ),
    days=st.integers(min_value=1, max_value=10),
)
def test_business_days_land_later_within_opening_hours_of_an_open_day(start, days):
    calendar = s4_desk()

    due = add_business_days(start, days, calendar)

    local = due.astimezone(calendar.zone)
    spans = calendar.weekly[local.weekday()]
    assert due > start
    assert any(opens <= local.time() <= (closes or time.max) for opens, closes in spans)


# ---- The sweep on the database -------------------------------------------------------------


@pytest.fixture
def resolved(ticket_a, alice):
    """ticket_a (S4 calendar), resolved by alice on Monday 16 November at 10:00."""
    with at(R):
        return services.change_status(ticket=ticket_a, to="resolved", by=alice)


def _events(ticket, *kinds):
    return list(
        Event.objects.filter(ticket=ticket, kind__in=kinds)
        .order_by("at", "pk")
        .values_list("kind", "actor", "at")
    )


def sweep(moment):
    with at(moment):
        return closing_services.sweep_closing()


# The S4 timeline: every two business days from the previous attempt, weekends skipped.
REMINDER_1 = utc(2026, 11, 18, 10)  # Wednesday
REMINDER_2 = utc(2026, 11, 20, 10)  # Friday
REMINDER_3 = utc(2026, 11, 24, 10)  # Tuesday (Saturday and Sunday do not count)
CLOSING = utc(2026, 11, 26, 10)  # Thursday


def test_three_reminders_then_the_ticket_closes_by_itself(resolved, settings):
    settings.SERVICEDESK_CLOSING_REMINDERS, settings.SERVICEDESK_CLOSING_INTERVAL_DAYS = 3, 2
    number = resolved.number

    results = [sweep(m) for m in (REMINDER_1 - H, REMINDER_1, REMINDER_2 - H, REMINDER_2)]
    results += [sweep(m) for m in (REMINDER_3 - H, REMINDER_3, CLOSING - H, CLOSING)]

    assert [(r.reminded, r.closed) for r in results] == [
        ([], []),
        ([(number, 1)], []),
        ([], []),
        ([(number, 2)], []),
        ([], []),
        ([(number, 3)], []),
        ([], []),
        ([], [number]),
    ]
    reminders = Event.objects.filter(ticket=resolved, kind=EventKind.CLOSING_REMINDER)
    assert [(e.at, e.actor, e.new["reminder"], e.new["of"]) for e in reminders] == [
        (REMINDER_1, None, 1, 3),
        (REMINDER_2, None, 2, 3),
        (REMINDER_3, None, 3, 3),
    ]
    ticket = Ticket.objects.get(pk=resolved.pk)
    assert (ticket.status, ticket.closed_at) == ("closed", CLOSING)
    move = Event.objects.filter(ticket=ticket, kind=EventKind.STATUS).latest("pk")
    assert (move.actor, move.old, move.new) == (None, "resolved", "closed")
    assert move.reason == "Closed automatically after 3 reminders without an answer."
    closed = Event.objects.get(ticket=ticket, kind=EventKind.AUTO_CLOSED)
    assert (closed.actor, closed.at, closed.new) == (None, CLOSING, {"reminders": 3})
    assert sweep(CLOSING + 30 * D).closed == []  # closed stays closed


def test_a_customer_reply_reopens_the_ticket_and_stops_the_reminders(resolved, bob, alice):
    sweep(REMINDER_1)
    with at(REMINDER_1 + H):
        services.add_comment(ticket=resolved, author=bob, body="Still broken on my laptop.")

    later = [sweep(m) for m in (REMINDER_2, REMINDER_3, CLOSING, CLOSING + 30 * D)]

    assert all(r.reminded == [] and r.closed == [] for r in later)
    assert Ticket.objects.get(pk=resolved.pk).status == "open"
    assert Event.objects.filter(ticket=resolved, kind=EventKind.CLOSING_REMINDER).count() == 1
    # Resolved again: the count starts over from the new resolution.
    again = utc(2026, 12, 1, 10)  # a Tuesday
    with at(again):
        services.change_status(ticket=resolved, to="resolved", by=alice)
    assert sweep(utc(2026, 12, 3, 10)).reminded == [(resolved.number, 1)]


def test_a_reply_right_after_the_last_reminder_still_stops_the_closing(resolved, bob):
    for moment in (REMINDER_1, REMINDER_2, REMINDER_3):
        sweep(moment)
    with at(CLOSING - H):
        services.add_comment(ticket=resolved, author=bob, body="No, it came back this morning.")

    result = sweep(CLOSING)

    assert result.closed == []
    assert Ticket.objects.get(pk=resolved.pk).status == "open"
    assert not Event.objects.filter(ticket=resolved, kind=EventKind.AUTO_CLOSED).exists()


def test_the_sweep_run_twice_records_nothing_twice(resolved):
    first, second = sweep(REMINDER_1), sweep(REMINDER_1)
    for moment in (REMINDER_2, REMINDER_3):
        sweep(moment)
        sweep(moment)
    closing_first, closing_second = sweep(CLOSING), sweep(CLOSING)

    assert (first.reminded, second.reminded) == ([(resolved.number, 1)], [])
    assert (closing_first.closed, closing_second.closed) == ([resolved.number], [])
    assert Event.objects.filter(ticket=resolved, kind=EventKind.CLOSING_REMINDER).count() == 3
    assert Event.objects.filter(ticket=resolved, kind=EventKind.AUTO_CLOSED).count() == 1


def test_two_sweeps_that_both_saw_a_reminder_due_record_it_once(resolved):
    """Both decided on the same read; the second decides again under the row lock."""
    with at(REMINDER_1):
        first = closing_services._act(resolved.pk, now=REMINDER_1)
        second = closing_services._act(resolved.pk, now=REMINDER_1)

    assert first.action == closing.Action.REMIND
    assert second.action == closing.Action.WAIT
    assert Event.objects.filter(ticket=resolved, kind=EventKind.CLOSING_REMINDER).count() == 1


def test_reminders_follow_the_tickets_own_calendar(bob, alice):
    """A Critical ticket runs on the 24×7 calendar: the weekend counts."""
    thursday = utc(2026, 11, 19, 10)
    with at(thursday):
        ticket = make_ticket(requester=bob, urgency=4, impact=4)
        services.change_status(ticket=ticket, to="resolved", by=alice)

    assert sweep(utc(2026, 11, 21, 10) - H).reminded == []
    assert sweep(utc(2026, 11, 21, 10)).reminded == [(ticket.number, 1)]  # Saturday


def test_the_configured_count_and_interval_apply(resolved, settings):
    settings.SERVICEDESK_CLOSING_REMINDERS, settings.SERVICEDESK_CLOSING_INTERVAL_DAYS = 1, 1

    first = sweep(utc(2026, 11, 17, 10))  # one business day: Tuesday
    closed = sweep(utc(2026, 11, 18, 10))

    assert first.reminded == [(resolved.number, 1)]
    assert closed.closed == [resolved.number]


def test_tickets_that_are_not_resolved_are_left_alone(ticket_a, alice):
    with at(R):
        services.change_status(ticket=ticket_a, to="waiting_on_customer", by=alice)

    result = sweep(R + 60 * D)

    assert (result.reminded, result.closed) == ([], [])
    assert Ticket.objects.get(pk=ticket_a.pk).status == "waiting_on_customer"


def test_the_command_runs_one_sweep_and_says_what_it_did(resolved):
    out = StringIO()
    with at(REMINDER_1):
        call_command("closing", "sweep", stdout=out)
        call_command("closing", "sweep", stdout=out)

    assert out.getvalue().splitlines() == [
        f"{resolved.reference}: reminder 1",
        "1 reminded, 0 closed.",
        "0 reminded, 0 closed.",
    ]


def test_an_imported_resolution_is_history_and_never_reminded(bob):
    """A ticket resolved in another desk, brought in by the import (as the demo is): its
    customer is never asked to confirm, reminded or told it closed."""
    from servicedesk.tickets.imports import Item, StatusChange, import_tickets

    long_ago = datetime(2026, 9, 1, 10, tzinfo=UTC)
    import_tickets(
        [
            Item(
                external_id="old-1",
                subject="Solved in the old desk",
                description="…",
                requester_email=bob.email,
                created_at=long_ago,
                status="resolved",
                status_history=(StatusChange("resolved", long_ago + timedelta(days=1)),),
            )
        ],
        by=None,
    )
    ticket = Ticket.objects.get(external_id="old-1")
    assert ticket.resolved_at and ticket.confirmation_asked_at is None

    closing_services.sweep_closing(now=long_ago + timedelta(days=60))

    ticket.refresh_from_db()
    assert ticket.status == "resolved"
    assert not Event.objects.filter(
        ticket=ticket, kind__in=[EventKind.CLOSING_REMINDER, EventKind.AUTO_CLOSED]
    ).exists()
