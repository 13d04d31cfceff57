"""The sweep: warnings and breaches recorded exactly once, at their own moment, with
notifications to the right people; an idle sweep reads nothing but an empty index range."""

import json
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.management import CommandError, call_command

from servicedesk.accounts.models import Group, StaffRole
from servicedesk.mail.models import OutboxMessage
from servicedesk.sla import services
from servicedesk.sla.models import TicketClock
from servicedesk.tickets import services as ticket_services
from servicedesk.tickets.models import Event, EventKind
from tests.factories import StaffFactory, make_ticket

H = timedelta(hours=1)
MONDAY_9 = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)


@pytest.fixture
def people(alice):
    """An assignee, a group lead and a support manager (who reads French, in Paris)."""
    lead = StaffFactory(email="lead@desk.example")
    group = Group.objects.get(level="L1")
    group.lead = lead
    group.save()
    manager = StaffFactory(
        email="manager@desk.example",
        staff_role=StaffRole.SUPPORT_MANAGER,
        language="fr",
        timezone="Europe/Paris",
    )
    return {"assignee": alice, "lead": lead, "manager": manager}


@pytest.fixture
def due_ticket(bob, people):
    with time_machine.travel(MONDAY_9, tick=False):
        ticket = make_ticket(requester=bob, urgency=1, impact=1)  # first response due 13:00
        ticket_services.assign(ticket=ticket, assignee=people["assignee"], by=people["assignee"])
    return ticket


def test_a_breach_is_recorded_once_however_often_the_sweep_runs(due_ticket):
    results = [services.sweep(now=MONDAY_9 + 5 * H) for _ in range(3)]

    assert results[0].breaches == [(due_ticket.number, "first_response")]
    assert results[1].breaches == results[2].breaches == []
    assert Event.objects.filter(ticket=due_ticket, kind=EventKind.SLA_BREACH).count() == 1


def test_two_sweeps_racing_for_one_clock_record_it_once(due_ticket):
    row = TicketClock.objects.get(ticket=due_ticket, kind="first_response")

    first, second = services._record(row, what="breach"), services._record(row, what="breach")

    assert (first, second) == (True, False)
    assert Event.objects.filter(kind=EventKind.SLA_BREACH).count() == 1


def test_the_events_are_dated_at_the_warning_and_due_moments_not_the_sweep(due_ticket):
    services.sweep(now=MONDAY_9 + 3 * H + 30 * timedelta(minutes=1))
    services.sweep(now=MONDAY_9 + 9 * H)

    warning = Event.objects.get(kind=EventKind.SLA_WARNING)
    breach = Event.objects.get(kind=EventKind.SLA_BREACH)
    assert warning.at == MONDAY_9 + timedelta(hours=3, minutes=12)  # 80 % of 4 h
    assert breach.at == MONDAY_9 + 4 * H
    assert warning.actor is None and breach.field == "first_response"


def test_the_warning_share_is_configurable(bob):
    from servicedesk.sla.models import Policy

    Policy.objects.filter(is_default=True).update(warning_percent=50)
    with time_machine.travel(MONDAY_9, tick=False):
        make_ticket(requester=bob, urgency=1, impact=1)

    result = services.sweep(now=MONDAY_9 + 2 * H)

    assert len(result.warnings) == 1


def test_a_clock_past_due_gets_its_breach_and_no_late_warning(due_ticket):
    services.sweep(now=MONDAY_9 + 8 * H)

    assert Event.objects.filter(kind=EventKind.SLA_BREACH).count() == 1
    assert not Event.objects.filter(kind=EventKind.SLA_WARNING).exists()


def test_breaches_notify_the_assignee_the_group_lead_and_support_managers_once(due_ticket, people):
    services.sweep(now=MONDAY_9 + 5 * H)
    services.sweep(now=MONDAY_9 + 6 * H)

    recipients = sorted(
        address
        for m in OutboxMessage.objects.filter(dedupe_key__startswith="sla-")
        for address in m.to
    )
    assert recipients == sorted(p.email for p in people.values())
    manager_mail = OutboxMessage.objects.get(to=["manager@desk.example"])
    assert "[SD#10001]" in manager_mail.subject
    # In the manager's language, and due 13:00 UTC shown in the manager's Paris time.
    assert (
        "SLA dépassé : Première réponse était attendue le 2026-11-16 14:00 CET"
        in manager_mail.subject
    )
    assert (
        "SLA breached: First response was due 2026-11-16 13:00 GMT"
        in OutboxMessage.objects.get(to=["lead@desk.example"]).subject
    )
    assert manager_mail.ticket == due_ticket


def test_an_idle_sweep_makes_two_queries_however_many_tickets_are_open(
    bob, django_assert_num_queries
):
    with time_machine.travel(MONDAY_9, tick=False):
        for _ in range(40):
            make_ticket(requester=bob, urgency=1, impact=1)

    with django_assert_num_queries(2):  # one indexed read for breaches, one for warnings
        result = services.sweep(now=MONDAY_9 + H)

    assert result.breaches == result.warnings == []


def test_the_sweep_command_prints_what_it_did(due_ticket, capsys):
    with time_machine.travel(MONDAY_9 + 5 * H, tick=False):
        call_command("sla", "sweep")

    out = capsys.readouterr().out
    assert "breach  SD-10001 first_response" in out
    assert "1 breaches, 0 warnings recorded" in out


def test_explain_shows_policy_calendar_intervals_and_pauses(bob, alice, capsys):
    with time_machine.travel(datetime(2026, 11, 20, 15, 0, tzinfo=UTC), tick=False):
        ticket = make_ticket(requester=bob, urgency=1, impact=1)

    call_command("sla", "explain", str(ticket.number))
    text = capsys.readouterr().out
    call_command("sla", "explain", ticket.reference, "--json")
    data = json.loads(capsys.readouterr().out)

    assert "S4 triage SLA" in text and "S4 desk (UK)" in text
    assert "Fri 2026-11-20 15:00 GMT → Fri 2026-11-20 16:00 GMT" in text
    assert "Mon 2026-11-23 11:30 GMT" in text
    (first,) = data
    assert first["kind"] == "first_response"
    assert [c["counted"] for c in first["counted"]] == ["1:00:00", "3:00:00"]


def test_explain_lists_the_holidays_skipped(bob):
    with time_machine.travel(
        datetime(2026, 12, 24, 15, 0, tzinfo=UTC), tick=False
    ):  # Thursday before Christmas
        ticket = make_ticket(requester=bob, urgency=1, impact=1)

    (first,) = services.selectors.explain(ticket)

    assert first["skipped_dates"] == ["2026-12-25", "2026-12-28"]  # Christmas, Boxing Day observed


def test_explain_refuses_an_unknown_ticket(db):
    with pytest.raises(CommandError, match="No ticket numbered"):
        call_command("sla", "explain", "99999")
