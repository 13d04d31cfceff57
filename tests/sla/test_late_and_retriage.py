"""Two defects found trying the desk as a new user: a first response given late read only
"breached" (it was met, late, and when says so now); and after a re-triage ``sla explain``
still showed the breach of the old target (a recomputed clock now follows its new due time;
the old breach stays told, as a recorded fact)."""

import json
from datetime import UTC, datetime, timedelta

import time_machine
from django.core.management import call_command
from django.utils import timezone, translation

from servicedesk.sla import selectors, services
from servicedesk.sla.models import TicketClock
from servicedesk.tickets import services as ticket_services
from servicedesk.tickets.models import Event, EventKind
from tests.factories import make_ticket

H, MINUTE = timedelta(hours=1), timedelta(minutes=1)
MONDAY_9 = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)  # GMT: London time equals UTC in November


def at(moment):
    return time_machine.travel(moment, tick=False)


def first_response(ticket):
    return TicketClock.objects.get(ticket=ticket, kind="first_response")


def explain_text(ticket, capsys, *, now):
    with at(now):
        call_command("sla", "explain", str(ticket.number))
    return capsys.readouterr().out


def explain_json(ticket, capsys, *, now):
    with at(now):
        call_command("sla", "explain", str(ticket.number), "--json")
    return {c["kind"]: c for c in json.loads(capsys.readouterr().out)}


# ---- A first response given late -------------------------------------------------------


def test_a_late_first_response_reads_met_late_with_its_time_not_only_breached(bob, alice, capsys):
    with at(MONDAY_9):
        ticket = make_ticket(requester=bob, urgency=1, impact=1)  # first response due 13:00
    services.sweep(now=MONDAY_9 + 5 * H)  # the breach is recorded at 13:00
    with at(MONDAY_9 + 6 * H):
        ticket_services.add_comment(ticket=ticket, author=alice, body="Sorry for the wait.")

    state = selectors.ticket_sla(ticket, now=MONDAY_9 + 7 * H)["first_response"]
    text = explain_text(ticket, capsys, now=MONDAY_9 + 7 * H)
    data = explain_json(ticket, capsys, now=MONDAY_9 + 7 * H)["first_response"]

    assert (state.state, state.met_at) == ("met_late", MONDAY_9 + 6 * H)
    assert (
        "outcome  met late Mon 2026-11-16 15:00 GMT (breach recorded Mon 2026-11-16 13:00 GMT)"
        in text
    )
    assert data["state"] == "met_late" and data["met_late"] is True
    assert data["met_at"] == (MONDAY_9 + 6 * H).isoformat()
    met = Event.objects.get(ticket=ticket, kind=EventKind.SLA_MET, field="first_response")
    assert met.new["late"] is True


def test_a_late_reply_before_any_sweep_is_met_late_too(bob, alice, capsys):
    with at(MONDAY_9):
        ticket = make_ticket(requester=bob, urgency=1, impact=1)
    with at(MONDAY_9 + 5 * H):  # no sweep ran: nothing recorded the breach
        ticket_services.add_comment(ticket=ticket, author=alice, body="Here we are.")

    state = selectors.ticket_sla(ticket, now=MONDAY_9 + 6 * H)["first_response"]
    text = explain_text(ticket, capsys, now=MONDAY_9 + 6 * H)

    assert state.state == "met_late"
    assert "outcome  met late Mon 2026-11-16 14:00 GMT (after the due time)" in text


def test_a_first_response_in_time_reads_met(bob, alice, capsys):
    with at(MONDAY_9):
        ticket = make_ticket(requester=bob, urgency=1, impact=1)
    with at(MONDAY_9 + 4 * H):  # at the due minute: in time
        ticket_services.add_comment(ticket=ticket, author=alice, body="Just in time.")

    data = explain_json(ticket, capsys, now=MONDAY_9 + 6 * H)["first_response"]

    assert (data["state"], data["met_late"]) == ("met", False)
    assert "outcome  met Mon 2026-11-16 13:00 GMT\n" in explain_text(
        ticket, capsys, now=MONDAY_9 + 6 * H
    )


def test_the_words_for_a_met_late_clock_say_when_in_the_readers_zone(bob, alice):
    with at(MONDAY_9):
        ticket = make_ticket(requester=bob, urgency=1, impact=1)
    with at(MONDAY_9 + 6 * H):
        ticket_services.add_comment(ticket=ticket, author=alice, body="Sorry.")
    state = selectors.ticket_sla(ticket, now=MONDAY_9 + 7 * H)["first_response"]

    timezone.activate("Europe/Oslo")
    with translation.override("en"):
        words = selectors.state_words(state)

    assert words == "met late at 2026-11-16 16:00"  # 15:00 UTC is 16:00 in Oslo


def test_the_admin_page_says_met_late_and_when(admin_client, bob, alice):
    with at(MONDAY_9):
        ticket = make_ticket(requester=bob, urgency=1, impact=1)
    services.sweep(now=MONDAY_9 + 5 * H)
    with at(MONDAY_9 + 6 * H):
        ticket_services.add_comment(ticket=ticket, author=alice, body="Sorry for the wait.")

    with at(MONDAY_9 + 7 * H):
        page = admin_client.get(f"/admin/tickets/ticket/{ticket.pk}/change/").content.decode()

    # The admin shows the site's time zone (London: UTC in November).
    assert "First response: met late at 2026-11-16 15:00, due 2026-11-16 13:00" in page


# ---- Re-triage after a breach ----------------------------------------------------------


def critical_breached_then_medium(bob, alice):
    """Critical (first response within 1 h, 24×7) at 09:00, breached at 10:00 and recorded
    by the sweep at 10:30, then re-triaged to Medium (4 business hours: due 13:00) at 11:00."""
    with at(MONDAY_9):
        ticket = make_ticket(requester=bob, urgency=4, impact=4)
    services.sweep(now=MONDAY_9 + 90 * MINUTE)
    breached = first_response(ticket).breached_at
    with at(MONDAY_9 + 2 * H):
        ticket_services.confirm_triage(ticket=ticket, urgency=1, impact=1, by=alice)
    return ticket, breached


def test_after_retriage_to_a_later_due_time_the_clock_no_longer_reads_breached(bob, alice, capsys):
    ticket, breached = critical_breached_then_medium(bob, alice)

    clock = first_response(ticket)
    text = explain_text(ticket, capsys, now=MONDAY_9 + 150 * MINUTE)
    data = explain_json(ticket, capsys, now=MONDAY_9 + 150 * MINUTE)["first_response"]
    state = selectors.ticket_sla(ticket, now=MONDAY_9 + 150 * MINUTE)["first_response"]

    assert breached == MONDAY_9 + H
    assert clock.due_at == MONDAY_9 + 4 * H
    assert (clock.breached_at, clock.warned_at) == (None, None)
    assert state.state == "ok"
    assert "due      Mon 2026-11-16 13:00 GMT" in text
    assert "outcome  running\n" in text
    assert "breached Mon 2026-11-16 10:00" not in text.split("outcome")[1].splitlines()[0]
    # The breach under the old target is a fact of the past, and still told.
    assert (
        "earlier  breach recorded Mon 2026-11-16 10:00 GMT against the due time then, "
        "Mon 2026-11-16 10:00 GMT"
    ) in text
    assert data["breached_at"] is None and data["state"] == "ok"
    assert [r["what"] for r in data["recorded"]] == ["breach"]


def test_the_sweep_records_the_breach_again_at_the_new_due_time(bob, alice):
    ticket, _ = critical_breached_then_medium(bob, alice)

    warned = services.sweep(now=MONDAY_9 + 3 * H + 30 * MINUTE)  # 80 % of 4 h: 12:12
    breached = services.sweep(now=MONDAY_9 + 5 * H)

    assert warned.warnings == [(ticket.number, "first_response")]
    assert breached.breaches == [(ticket.number, "first_response")]
    breaches = Event.objects.filter(ticket=ticket, kind=EventKind.SLA_BREACH).order_by("at")
    assert [e.at for e in breaches] == [MONDAY_9 + H, MONDAY_9 + 4 * H]
    assert first_response(ticket).breached_at == MONDAY_9 + 4 * H


def test_retriage_to_a_due_time_also_passed_keeps_the_breach_dated_at_the_new_one(bob, alice):
    with at(MONDAY_9):
        ticket = make_ticket(requester=bob, urgency=4, impact=4)  # critical: due 10:00
    services.sweep(now=MONDAY_9 + 2 * H)
    with at(MONDAY_9 + 3 * H):  # high: 2 business hours, due 11:00, passed too
        ticket_services.confirm_triage(ticket=ticket, urgency=3, impact=3, by=alice)

    again = services.sweep(now=MONDAY_9 + 4 * H)

    clock = first_response(ticket)
    assert (clock.due_at, clock.breached_at) == (MONDAY_9 + 2 * H, MONDAY_9 + 2 * H)
    assert again.breaches == again.warnings == []  # announced once, not again
    state = selectors.ticket_sla(ticket, now=MONDAY_9 + 4 * H)["first_response"]
    assert state.state == "breached"
