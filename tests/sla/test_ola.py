"""Operational level agreements (issue 15): a group's own response target, started by an
internal escalation, measured like an SLA (business time, pauses, the sweep), met when the
receiving group acts, and never shown or told to the customer."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from servicedesk.accounts.models import Group, StaffRole
from servicedesk.escalation import services as escalations
from servicedesk.mail.models import OutboxMessage
from servicedesk.sla import services
from servicedesk.sla.models import TicketClock
from servicedesk.tickets import services as tickets
from servicedesk.tickets.models import Event, EventKind
from servicedesk.tickets.workflow import Status
from tests.api.conftest import ApiClient
from tests.factories import StaffFactory, make_ticket

H = timedelta(hours=1)
MONDAY_9 = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)  # 09:00 in London, the desk open
LATER = MONDAY_9 + 150 * timedelta(minutes=1)


def at(moment):
    return time_machine.travel(moment, tick=False)


@pytest.fixture
def specialists(db):
    """The L2 group, with a two-hour internal response target, a lead and a member."""
    group = Group.objects.get(name="CRM specialists")
    group.response_target = 2 * H
    group.lead = StaffFactory(email="lead@desk.example")
    group.save()
    dana = StaffFactory(email="dana@desk.example", full_name="Dana Specialist")
    group.members.add(dana)
    return {"group": group, "lead": group.lead, "dana": dana}


@pytest.fixture
def ticket(bob, alice):
    with at(MONDAY_9 - H):
        return make_ticket(requester=bob, urgency=2, impact=2)


def escalate(ticket, by, moment):
    with at(moment):
        return escalations.escalate_internal(
            ticket=ticket, to_level="L2", reason="Needs a specialist", by=by
        )


def ola(ticket) -> TicketClock:
    return TicketClock.objects.get(ticket=ticket, kind="ola")


def test_an_internal_escalation_starts_the_groups_ola_in_business_time(ticket, alice, specialists):
    escalate(ticket, alice, MONDAY_9 + 7 * H)  # 16:00: one open hour left on Monday

    clock = ola(ticket)
    assert clock.group == specialists["group"]
    assert clock.target == 2 * H
    assert clock.started_at == MONDAY_9 + 7 * H
    # One hour on Monday (to 17:00), one from Tuesday's opening at 08:30.
    assert clock.due_at == datetime(2026, 11, 17, 9, 30, tzinfo=UTC)


def test_a_group_without_a_target_starts_no_ola(ticket, alice):
    escalate(ticket, alice, MONDAY_9)

    assert not TicketClock.objects.filter(ticket=ticket, kind="ola").exists()


def test_a_reply_by_a_member_of_the_group_meets_it(ticket, alice, specialists):
    escalate(ticket, alice, MONDAY_9)
    with at(MONDAY_9 + H):  # alice is first line, not the receiving group
        tickets.add_comment(ticket=ticket, author=alice, body="Passed on.", internal=True)
    assert ola(ticket).met_at is None

    with at(MONDAY_9 + 90 * timedelta(minutes=1)):
        tickets.add_comment(ticket=ticket, author=specialists["dana"], body="On it.")

    assert ola(ticket).met_at == MONDAY_9 + 90 * timedelta(minutes=1)
    met = Event.objects.get(ticket=ticket, kind=EventKind.SLA_MET, field="ola")
    assert met.new["late"] is False and met.internal is True


@pytest.mark.parametrize("action", ["note", "status"])
def test_a_note_or_a_status_move_by_the_groups_lead_meets_it(ticket, alice, specialists, action):
    escalate(ticket, alice, MONDAY_9)

    with at(MONDAY_9 + H):
        if action == "note":
            tickets.add_comment(
                ticket=ticket, author=specialists["lead"], body="Mine.", internal=True
            )
        else:
            tickets.change_status(ticket=ticket, to=Status.IN_PROGRESS, by=specialists["lead"])

    assert ola(ticket).met_at == MONDAY_9 + H


def test_no_answer_records_the_ola_warning_and_breach_once(ticket, alice, specialists):
    escalate(ticket, alice, MONDAY_9)

    warned = services.sweep(now=MONDAY_9 + 100 * timedelta(minutes=1))
    results = [services.sweep(now=MONDAY_9 + 3 * H) for _ in range(2)]

    assert warned.warnings == [(ticket.number, "ola")]

    assert (ticket.number, "ola") in results[0].breaches
    assert (ticket.number, "ola") not in results[1].breaches
    breach = Event.objects.get(ticket=ticket, kind=EventKind.SLA_BREACH, field="ola")
    assert breach.at == MONDAY_9 + 2 * H
    assert breach.internal is True
    assert breach.new["group"] == specialists["group"].pk
    warning = Event.objects.get(ticket=ticket, kind=EventKind.SLA_WARNING, field="ola")
    assert warning.at == MONDAY_9 + timedelta(hours=1, minutes=36)  # 80 % of 2 h


def test_the_ola_alert_goes_to_the_groups_lead_and_members_not_the_managers(
    ticket, alice, specialists
):
    manager = StaffFactory(email="manager@desk.example", staff_role=StaffRole.SUPPORT_MANAGER)
    escalate(ticket, alice, MONDAY_9)

    services.sweep(now=MONDAY_9 + 3 * H)

    alerted = sorted(
        address
        for message in OutboxMessage.objects.filter(dedupe_key__startswith="sla-breach:")
        for address in message.to
    )
    assert alerted == ["dana@desk.example", "lead@desk.example"]
    assert manager.email not in alerted


def test_waiting_on_the_customer_holds_the_ola(ticket, alice, specialists, bob):
    escalate(ticket, alice, MONDAY_9)
    with at(MONDAY_9 + H):  # alice (not of the group) asks the customer
        tickets.change_status(ticket=ticket, to=Status.WAITING_ON_CUSTOMER, by=alice)
    assert ola(ticket).due_at is None  # held
    assert (ticket.number, "ola") not in services.sweep(now=MONDAY_9 + 5 * H).breaches

    with at(MONDAY_9 + 25 * H):  # Tuesday 10:00: the customer answers
        tickets.add_comment(ticket=ticket, author=bob, body="Here is the log.")

    assert ola(ticket).due_at == MONDAY_9 + 26 * H  # the hour left, from the answer


def test_moving_the_ticket_to_another_group_stops_the_ola(ticket, alice, specialists):
    escalate(ticket, alice, MONDAY_9)

    with at(MONDAY_9 + H):
        escalations.escalate_internal(ticket=ticket, to_level="L3", reason="A bug", by=alice)

    clock = ola(ticket)
    assert clock.stopped is True and clock.met_at is None
    assert (ticket.number, "ola") not in services.sweep(now=MONDAY_9 + 5 * H).breaches


def test_the_ola_is_not_the_tickets_sla_due_time(ticket, alice, specialists):
    due_before = type(ticket).objects.get(pk=ticket.pk).sla_due_at

    escalate(ticket, alice, MONDAY_9)

    assert ola(ticket).due_at < due_before  # an OLA sooner than the customer's SLA
    assert type(ticket).objects.get(pk=ticket.pk).sla_due_at == due_before


# -- the customer never sees it --------------------------------------------------------


@pytest.fixture
def breached(ticket, alice, specialists):
    escalate(ticket, alice, MONDAY_9)
    services.sweep(now=LATER)  # the OLA (due 11:00) breached; the first response is not
    return ticket


def test_the_customers_api_ticket_shows_no_ola(breached, bob, settings):
    settings.SERVICEDESK_API_RATE_LIMIT = 0
    with at(LATER):
        answer = ApiClient(bob).get(f"/tickets/{breached.number}")

    assert answer.status_code == 200, answer.content
    sla = answer.json()["sla"]
    assert sla["state"] != "breached"  # only the OLA is past due
    assert sla["explain"] and "ola" not in [entry["kind"] for entry in sla["explain"]]
    assert "ola" not in answer.content.decode()


def test_the_desks_api_explain_lists_the_ola(breached, alice, settings):
    settings.SERVICEDESK_API_RATE_LIMIT = 0
    with at(LATER):
        answer = ApiClient(alice).get(f"/tickets/{breached.number}")

    assert "ola" in [entry["kind"] for entry in answer.json()["sla"]["explain"]]


def test_the_portal_page_shows_no_ola(breached, bob, client):
    client.force_login(bob)

    with at(LATER):
        page = client.get(f"/portal/tickets/{breached.number}/").content.decode()

    assert "OLA" not in page and "Internal response" not in page
    assert "breach" not in page.lower()
