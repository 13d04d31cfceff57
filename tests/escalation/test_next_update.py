"""The expected next update an escalation gives sets the follow-up clock (issue 15): the
agent's ``next_update_by``, else the vendor's ``promised_by``; the customer's update says it;
a next update in the past or without a time zone is refused and changes nothing."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import translation

from servicedesk.escalation import services as escalations
from servicedesk.escalation.models import Escalation
from servicedesk.mail.models import OutboxMessage
from servicedesk.mail.notifications import _when
from servicedesk.sla import services as sla
from servicedesk.sla.selectors import current_clocks
from servicedesk.tickets import services as tickets
from servicedesk.tickets.models import Event, EventKind, Ticket
from servicedesk.tickets.workflow import Status
from tests.api.conftest import ApiClient
from tests.factories import VendorFactory, make_ticket

H = timedelta(hours=1)
MONDAY_9 = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)
WEDNESDAY_15 = datetime(2026, 11, 18, 15, 0, tzinfo=UTC)


def at(moment):
    return time_machine.travel(moment, tick=False)


@pytest.fixture
def ticket(bob, alice):
    """Answered once: the next-update clock runs (Medium: every 48 business hours)."""
    with at(MONDAY_9):
        ticket = make_ticket(requester=bob, urgency=2, impact=2)
    with at(MONDAY_9 + H):
        tickets.add_comment(ticket=ticket, author=alice, body="Looking into it.")
    return Ticket.objects.get(pk=ticket.pk)


@pytest.fixture
def vendor(db):
    return VendorFactory(name="SuperOffice AS", email="support@superoffice.example")


def next_update_clock(ticket):
    return current_clocks(ticket.pk)["next_update"]


def told(moment) -> str:
    """``moment`` as the English update tells it, in the requester's zone (London)."""
    with translation.override("en"):
        return _when(moment, ZoneInfo("Europe/London"))


def updates(ticket):
    return list(
        OutboxMessage.objects.filter(dedupe_key__startswith="escalation-update:").order_by("pk")
    )


def test_an_internal_escalations_next_update_sets_the_follow_up_clock(ticket, alice):
    before = next_update_clock(ticket)
    assert before.due_at != WEDNESDAY_15

    with at(MONDAY_9 + 2 * H):
        escalations.escalate_internal(
            ticket=ticket, to_level="L2", reason="Specialist", by=alice, next_update_by=WEDNESDAY_15
        )

    clock = next_update_clock(ticket)
    assert clock.pk == before.pk  # the running cycle, re-set
    assert clock.due_at == WEDNESDAY_15 and clock.own_target
    assert clock.warn_at < WEDNESDAY_15
    assert Ticket.objects.get(pk=ticket.pk).sla_due_at == WEDNESDAY_15
    event = Event.objects.get(ticket=ticket, kind=EventKind.FIELD, field="next_update_due")
    assert event.new["due"] == WEDNESDAY_15.isoformat() and event.internal
    escalated = Event.objects.get(ticket=ticket, kind=EventKind.ESCALATED)
    assert escalated.new["next_update_by"] == WEDNESDAY_15.isoformat()
    (update,) = updates(ticket)
    assert f"You will hear from us again by {told(WEDNESDAY_15)}" in update.body_text


def test_the_vendors_promised_date_sets_it_when_no_next_update_is_given(ticket, alice, vendor):
    with at(MONDAY_9 + 2 * H):
        escalations.escalate_to_vendor(
            ticket=ticket, vendor=vendor, reason="Bug", by=alice, promised_by=WEDNESDAY_15
        )

    assert next_update_clock(ticket).due_at == WEDNESDAY_15
    (update,) = updates(ticket)
    assert f"You will hear from us again by {told(WEDNESDAY_15)}" in update.body_text
    assert "at the latest" not in update.body_text  # one date, said once


def test_the_agents_next_update_comes_before_the_vendors_date(ticket, alice, vendor):
    sooner = MONDAY_9 + 26 * H  # Tuesday 11:00

    with at(MONDAY_9 + 2 * H):
        escalations.escalate_to_vendor(
            ticket=ticket,
            vendor=vendor,
            reason="Bug",
            by=alice,
            promised_by=WEDNESDAY_15,
            next_update_by=sooner,
        )

    assert next_update_clock(ticket).due_at == sooner
    (update,) = updates(ticket)
    assert f"You will hear from us again by {told(sooner)}" in update.body_text
    assert f"We will update you by {told(WEDNESDAY_15)}" in update.body_text  # the latest


def test_a_promised_next_update_survives_a_pause(ticket, alice, bob):
    with at(MONDAY_9 + 2 * H):
        escalations.escalate_internal(
            ticket=ticket, to_level="L2", reason="Specialist", by=alice, next_update_by=WEDNESDAY_15
        )
    with at(MONDAY_9 + 3 * H):
        tickets.change_status(ticket=ticket, to=Status.WAITING_ON_CUSTOMER, by=alice)
    with at(MONDAY_9 + 4 * H):  # an hour of waiting, then the customer answers
        tickets.add_comment(ticket=ticket, author=bob, body="Here it is.")

    assert next_update_clock(ticket).due_at == WEDNESDAY_15 + H  # the hour waited added


def test_the_sweep_holds_the_desk_to_the_promise(ticket, alice):
    with at(MONDAY_9 + 2 * H):
        escalations.escalate_internal(
            ticket=ticket, to_level="L2", reason="Specialist", by=alice, next_update_by=WEDNESDAY_15
        )

    assert (ticket.number, "next_update") not in sla.sweep(now=WEDNESDAY_15 - H).breaches
    assert (ticket.number, "next_update") in sla.sweep(now=WEDNESDAY_15 + H).breaches


@pytest.mark.parametrize(
    ("next_update_by", "words"),
    [
        (MONDAY_9, "must be ahead"),
        (datetime(2026, 11, 18, 15, 0), "time zone"),  # naive
    ],
)
def test_a_next_update_in_the_past_or_without_a_zone_is_refused(
    ticket, alice, next_update_by, words
):
    before = next_update_clock(ticket).due_at

    with at(MONDAY_9 + 2 * H), pytest.raises(sla.InvalidNextUpdate, match=words):
        escalations.escalate_internal(
            ticket=ticket, to_level="L2", reason="x", by=alice, next_update_by=next_update_by
        )

    assert not Escalation.objects.exists()
    assert next_update_clock(ticket).due_at == before


def test_no_next_update_is_promised_while_waiting_on_the_customer(ticket, alice):
    with at(MONDAY_9 + 2 * H):
        tickets.change_status(ticket=ticket, to=Status.WAITING_ON_CUSTOMER, by=alice)

    with at(MONDAY_9 + 3 * H), pytest.raises(sla.NextUpdateNotAllowed):
        escalations.escalate_internal(
            ticket=ticket, to_level="L2", reason="x", by=alice, next_update_by=WEDNESDAY_15
        )

    assert not Escalation.objects.exists()


# -- through the API -----------------------------------------------------------------------


@pytest.fixture
def api_alice(alice, settings):
    settings.SERVICEDESK_API_RATE_LIMIT = 0
    return ApiClient(alice)


def test_the_api_takes_next_update_by(api_alice, ticket):
    with at(MONDAY_9 + 2 * H):
        answer = api_alice.post(
            f"/tickets/{ticket.number}/escalations",
            {
                "kind": "internal",
                "level": "L2",
                "reason": "Specialist",
                "next_update_by": "2026-11-18T15:00:00Z",
            },
        )

    assert answer.status_code == 201, answer.content
    assert next_update_clock(ticket).due_at == WEDNESDAY_15


@pytest.mark.parametrize(
    "next_update_by", ["2026-11-16T08:00:00Z", "2026-11-18T15:00:00", "next week"]
)
def test_the_api_refuses_a_past_naive_or_unreadable_next_update_with_422(
    api_alice, ticket, next_update_by
):
    with at(MONDAY_9 + 2 * H):
        answer = api_alice.post(
            f"/tickets/{ticket.number}/escalations",
            {"kind": "internal", "level": "L2", "reason": "x", "next_update_by": next_update_by},
        )

    assert answer.status_code == 422, answer.content
    assert "next_update_by" in answer.content.decode()
    assert not Escalation.objects.exists()
