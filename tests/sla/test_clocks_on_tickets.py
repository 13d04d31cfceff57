"""Ticket clocks through the ticket services, at frozen times (S4 default policy:
Mon–Thu 08:30–17:00, Fri 08:30–16:00 Europe/London; Critical on 24×7)."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from servicedesk.sla import selectors
from servicedesk.sla.models import Calendar, Policy, PolicyTarget, TicketClock
from servicedesk.tickets import services
from servicedesk.tickets.models import Event, EventKind
from tests.factories import ProductFactory, make_ticket

H = timedelta(hours=1)
MONDAY_9 = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)  # GMT: London time equals UTC in November


def at(moment):
    return time_machine.travel(moment, tick=False)


def clock_of(ticket, kind):
    return TicketClock.objects.filter(ticket=ticket, kind=kind).order_by("started_at", "pk").last()


def test_a_medium_ticket_is_due_four_business_hours_after_creation(bob):
    with at(datetime(2026, 11, 20, 15, 0, tzinfo=UTC)):  # Friday, an hour before closing
        ticket = make_ticket(requester=bob, urgency=1, impact=1)

    first = clock_of(ticket, "first_response")
    assert first.target == 4 * H
    assert first.due_at == datetime(2026, 11, 23, 11, 30, tzinfo=UTC)  # Monday 08:30 + 3 h
    assert first.warn_at == datetime(2026, 11, 23, 10, 42, tzinfo=UTC)  # 80 % of 4 h = 3 h 12 min
    assert clock_of(ticket, "resolution") is None  # S4 sets no resolution target


def test_a_critical_ticket_runs_on_the_24x7_calendar(bob):
    with at(datetime(2026, 11, 21, 22, 0, tzinfo=UTC)):  # Saturday night
        ticket = make_ticket(requester=bob, urgency=4, impact=4)

    assert clock_of(ticket, "first_response").due_at == datetime(2026, 11, 21, 23, 0, tzinfo=UTC)


def test_an_untriaged_ticket_runs_on_the_lowest_band(bob):
    with at(MONDAY_9):
        ticket = make_ticket(requester=bob)

    assert clock_of(ticket, "first_response").due_at == MONDAY_9 + 4 * H


def test_retriage_recomputes_from_the_original_start_not_from_now(bob, alice):
    with at(MONDAY_9):
        ticket = make_ticket(requester=bob, urgency=1, impact=1)
    with at(MONDAY_9 + 30 * timedelta(minutes=1)):
        services.confirm_triage(ticket=ticket, urgency=3, impact=3, by=alice)  # high: 2 h

    first = clock_of(ticket, "first_response")
    assert (first.target, first.started_at, first.due_at) == (2 * H, MONDAY_9, MONDAY_9 + 2 * H)


def test_waiting_on_the_customer_pauses_and_their_reply_adds_the_time_back(bob, alice):
    with at(MONDAY_9):
        ticket = make_ticket(requester=bob, urgency=1, impact=1)
    with at(MONDAY_9 + H):
        services.change_status(ticket=ticket, to="waiting_on_customer", by=alice)
        paused = selectors.ticket_sla(ticket, now=MONDAY_9 + H)["first_response"]
    with at(MONDAY_9 + 3 * H):
        services.add_comment(ticket=ticket, author=bob, body="Here is the log file.")

    assert paused.paused and paused.due_at is None
    assert clock_of(ticket, "first_response").due_at == MONDAY_9 + 6 * H  # 4 h + 2 h paused
    ticket.refresh_from_db()
    assert ticket.status == "open"


def test_the_first_public_reply_by_the_desk_meets_the_first_response(bob, alice):
    with at(MONDAY_9):
        ticket = make_ticket(requester=bob, urgency=1, impact=1)
    with at(MONDAY_9 + H):
        services.add_comment(ticket=ticket, author=alice, body="note", internal=True)
        services.add_comment(ticket=ticket, author=bob, body="any news?")
    unmet = clock_of(ticket, "first_response").met_at
    with at(MONDAY_9 + 2 * H):
        services.add_comment(ticket=ticket, author=alice, body="We are on it.")

    assert unmet is None
    assert clock_of(ticket, "first_response").met_at == MONDAY_9 + 2 * H
    met = Event.objects.get(ticket=ticket, kind=EventKind.SLA_MET, field="first_response")
    assert met.new["late"] is False and met.at == MONDAY_9 + 2 * H


def test_each_public_reply_meets_the_update_due_and_starts_the_next(bob, alice):
    with at(MONDAY_9):
        ticket = make_ticket(
            requester=bob, urgency=4, impact=4
        )  # critical: an update every 3 h, 24×7
    with at(MONDAY_9 + H):
        services.add_comment(ticket=ticket, author=alice, body="Looking.")
    with at(MONDAY_9 + 2 * H):
        services.add_comment(ticket=ticket, author=alice, body="Found it.")

    cycles = list(
        TicketClock.objects.filter(ticket=ticket, kind="next_update").order_by("started_at")
    )
    assert [c.started_at for c in cycles] == [MONDAY_9 + H, MONDAY_9 + 2 * H]
    assert cycles[0].met_at == MONDAY_9 + 2 * H and cycles[1].met_at is None
    assert cycles[1].due_at == MONDAY_9 + 5 * H


@pytest.fixture
def resolution_policy(org_a):
    """A contract for organisation A with a resolution target, more specific than the default."""
    calendar = Calendar.objects.get(name="S4 desk (UK)")
    policy = Policy.objects.create(name="Alpha contract", calendar=calendar, organisation=org_a)
    PolicyTarget.objects.create(
        policy=policy, priority="medium", first_response=H, resolution=8 * H
    )
    return policy


def test_the_organisations_contract_beats_the_default(bob, resolution_policy):
    with at(MONDAY_9):
        ticket = make_ticket(requester=bob, urgency=1, impact=1)

    assert clock_of(ticket, "first_response").policy == resolution_policy
    assert clock_of(ticket, "resolution").due_at == MONDAY_9 + 8 * H


def test_a_policy_for_the_organisation_and_product_beats_the_organisations(bob, resolution_policy):
    product = ProductFactory()
    narrow = Policy.objects.create(
        name="Alpha on product",
        calendar=resolution_policy.calendar,
        organisation=bob.organisation,
        product=product,
    )
    PolicyTarget.objects.create(policy=narrow, priority="medium", first_response=2 * H)

    with at(MONDAY_9):
        ticket = make_ticket(requester=bob, urgency=1, impact=1, product=product)

    assert clock_of(ticket, "first_response").policy == narrow


def test_resolution_is_met_when_resolved_and_resumes_on_reopen_with_the_time_added_back(
    bob, alice, resolution_policy
):
    with at(MONDAY_9):
        ticket = make_ticket(requester=bob, urgency=1, impact=1)
    with at(MONDAY_9 + 2 * H):
        services.change_status(ticket=ticket, to="resolved", by=alice)
    met_at = clock_of(ticket, "resolution").met_at
    with at(MONDAY_9 + 5 * H):
        services.add_comment(ticket=ticket, author=bob, body="It broke again.")

    resolution = clock_of(ticket, "resolution")
    assert met_at == MONDAY_9 + 2 * H
    assert resolution.met_at is None
    # 2 h counted before resolving, 3 h resolved added back, 3 h on Monday afternoon, then 3 h
    # from Tuesday's 08:30 opening.
    assert resolution.due_at == datetime(2026, 11, 17, 11, 30, tzinfo=UTC)
    assert (
        Event.objects.filter(ticket=ticket, kind=EventKind.SLA_MET, field="resolution").count() == 1
    )


def test_closing_stops_the_running_clocks(bob, alice):
    with at(MONDAY_9):
        ticket = make_ticket(requester=bob, urgency=1, impact=1)
        services.change_status(ticket=ticket, to="closed", by=alice, reason="duplicate")

    assert clock_of(ticket, "first_response").stopped


def test_the_state_shows_ok_warning_breached_and_met_with_business_time_left(bob, alice):
    with at(MONDAY_9):
        ticket = make_ticket(requester=bob, urgency=1, impact=1)

    ok = selectors.ticket_sla(ticket, now=MONDAY_9 + H)["first_response"]
    warning = selectors.ticket_sla(ticket, now=MONDAY_9 + 3 * H + 30 * timedelta(minutes=1))[
        "first_response"
    ]
    breached = selectors.ticket_sla(ticket, now=MONDAY_9 + 5 * H)["first_response"]
    with at(MONDAY_9 + H):
        services.add_comment(ticket=ticket, author=alice, body="On it.")
    met = selectors.ticket_sla(ticket, now=MONDAY_9 + 2 * H)["first_response"]

    assert (ok.state, ok.left) == ("ok", 3 * H)
    assert warning.state == "warning"
    assert (breached.state, breached.left) == ("breached", -H)
    assert met.state == "met"
