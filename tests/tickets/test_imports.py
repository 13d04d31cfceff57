"""The import path with the whole of a ticket's past: triage, hand-overs, channels, details,
and SLA clocks whose past is recorded as it happened, never announced by the sweep."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from servicedesk.accounts.models import Group
from servicedesk.accounts.services import contacts_for_emails
from servicedesk.mail.models import OutboxMessage
from servicedesk.sla import services as sla_services
from servicedesk.sla.models import ClockKind, TicketClock
from servicedesk.tickets import imports
from servicedesk.tickets.models import Comment, EventKind, Ticket
from tests.factories import CategoryFactory, GroupFactory, ProductFactory, StaffFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 4, 13, 0, tzinfo=UTC)  # a Wednesday afternoon, London on GMT
MONDAY = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # the desk just opened
HOUR = timedelta(hours=1)


def _item(n: int, **fields) -> imports.Item:
    fields.setdefault("created_at", MONDAY)
    fields.setdefault("status", "open")
    fields.setdefault("urgency", 2)  # score 4: medium, first response in 4 business hours
    fields.setdefault("impact", 2)
    return imports.Item(
        external_id=f"old-{n}",
        subject=f"Imported {n}",
        description="From the old desk.",
        requester_email=f"person{n}@legacy.example",
        **fields,
    )


def _run(items, by=None):
    with time_machine.travel(NOW, tick=False):
        return imports.import_tickets(items, by=by)


def test_triage_hand_overs_channels_and_details_are_kept_with_the_services_layout(alice):
    specialists = GroupFactory(name="Specialists")
    claire = StaffFactory(email="claire@desk.example")
    product, category = ProductFactory(), CategoryFactory()
    at = MONDAY + timedelta(hours=1)
    item = _item(
        1,
        status="waiting_on_third_party",
        channel="phone",
        product_id=product.pk,
        category_id=category.pk,
        users_affected=12,
        business_impact="Invoicing is blocked.",
        triage=imports.Triage(urgency=4, impact=4, at=at, by_email=alice.email),
        assignments=(
            imports.Assignment(at, assignee_email=alice.email, by_email=alice.email),
            imports.Assignment(
                at + timedelta(hours=2),
                assignee_email=claire.email,
                group_id=specialists.pk,
                by_email=alice.email,
            ),
        ),
        status_history=(
            imports.StatusChange("open", at, by_email=alice.email),
            imports.StatusChange("waiting_on_third_party", at + timedelta(hours=2), alice.email),
        ),
        thread=(
            imports.Reply(alice.email, "Looking at it", False, at, channel="email"),
            imports.Reply("person1@legacy.example", "Thanks", False, at, channel="phone"),
        ),
    )

    _run([item])

    ticket = Ticket.objects.get(external_id="old-1")
    assert (ticket.channel, ticket.product, ticket.category) == ("phone", product, category)
    assert (ticket.users_affected, ticket.business_impact) == (12, "Invoicing is blocked.")
    assert (ticket.proposed_urgency, ticket.confirmed_urgency) == (2, 4)
    assert (ticket.score, ticket.priority) == (16, "critical")
    assert (ticket.group, ticket.assignee) == (specialists, claire)
    events = {e.kind: e for e in ticket.events.all()}
    assert events[EventKind.CREATED].new["priority"] == "medium"  # the proposal, at filing
    assert events[EventKind.TRIAGE].old == {
        "urgency": None,
        "impact": None,
        "score": 4,
        "priority": "medium",
    }
    assert events[EventKind.TRIAGE].new["priority"] == "critical"
    assert events[EventKind.TRIAGE].actor == alice
    handovers = list(ticket.events.filter(kind=EventKind.ASSIGNEE).order_by("at"))
    assert [(e.old, e.new["id"]) for e in handovers] == [
        (None, alice.pk),
        ({"id": alice.pk, "name": str(alice)}, claire.pk),
    ]
    intake = Group.objects.get(is_default_intake=True)
    assert events[EventKind.GROUP].old == {"id": intake.pk, "name": str(intake)}
    assert events[EventKind.GROUP].new == {"id": specialists.pk, "name": str(specialists)}
    moves = ticket.events.filter(kind=EventKind.STATUS).order_by("at")
    assert [(e.old, e.new, e.actor) for e in moves] == [
        ("new", "open", alice),
        ("open", "waiting_on_third_party", alice),
    ]
    assert sorted(Comment.objects.filter(ticket=ticket).values_list("channel", flat=True)) == [
        "email",
        "phone",
    ]
    # The clocks follow the confirmed priority, from the ticket's creation.
    clock = TicketClock.objects.get(ticket=ticket, kind=ClockKind.FIRST_RESPONSE)
    assert clock.target == timedelta(hours=1) and clock.met_at == at


def test_resolved_and_closed_times_come_from_the_history():
    resolved = MONDAY + timedelta(hours=5)
    closed = MONDAY + timedelta(days=1)
    _run(
        [
            _item(
                1,
                status="closed",
                status_history=(
                    imports.StatusChange("open", MONDAY + timedelta(hours=1)),
                    imports.StatusChange("resolved", resolved),
                    imports.StatusChange("closed", closed),
                ),
                thread=(imports.Reply("x@legacy.example", "Later", False, closed + HOUR),),
            )
        ]
    )

    ticket = Ticket.objects.get(external_id="old-1")
    assert (ticket.resolved_at, ticket.closed_at) == (resolved, closed)
    assert ticket.updated_at == closed + HOUR


@pytest.mark.parametrize(
    "fields",
    [
        {"assignments": (imports.Assignment(MONDAY, assignee_email="nobody@desk.example"),)},
        {"assignments": (imports.Assignment(MONDAY, assignee_email="person9@legacy.example"),)},
        {"assignments": (imports.Assignment(MONDAY, group_id=999999),)},
        {"triage": imports.Triage(2, 2, MONDAY, by_email="person1@legacy.example")},
        {"triage": imports.Triage(9, 2, MONDAY)},
        {"product_id": 999999},
        {"channel": "pigeon"},
        {"status": "open", "status_history": (imports.StatusChange("resolved", MONDAY),)},
        {"triage": imports.Triage(2, 2, NOW + timedelta(days=1))},
    ],
)
def test_a_bad_part_of_the_history_refuses_the_call_and_changes_nothing(fields):
    contacts_for_emails({"person9@legacy.example": ""})  # a customer, not staff
    before = Ticket.objects.count()

    with pytest.raises(imports.InvalidImport):
        _run([_item(1), _item(2, **fields)])

    assert Ticket.objects.count() == before


def test_the_clocks_past_is_recorded_as_it_happened_and_the_sweep_announces_none_of_it(alice):
    late = MONDAY + timedelta(hours=6)  # due at 13:00, four business hours after filing
    items = [
        _item(1),  # never answered
        _item(2, thread=(imports.Reply(alice.email, "On it", False, late),)),
        _item(3, thread=(imports.Reply(alice.email, "On it", False, MONDAY + timedelta(hours=1)),)),
        # Filed ten minutes ago, critical (one hour, round the clock): still running.
        _item(4, created_at=NOW - timedelta(minutes=10), urgency=4, impact=4),
    ]

    _run(items)

    def clock(n):
        return TicketClock.objects.get(ticket__external_id=f"old-{n}", kind="first_response")

    def kinds(n):
        events = Ticket.objects.get(external_id=f"old-{n}").events
        return {e.kind: e for e in events.filter(kind__startswith="sla_")}

    unanswered, answered_late, answered, running = clock(1), clock(2), clock(3), clock(4)
    assert unanswered.due_at == MONDAY + timedelta(hours=4)
    assert (unanswered.warned_at, unanswered.breached_at) == (
        unanswered.warn_at,
        unanswered.due_at,
    )
    assert kinds(1)[EventKind.SLA_WARNING].at == unanswered.warn_at
    assert kinds(1)[EventKind.SLA_BREACH].at == unanswered.due_at
    assert kinds(1)[EventKind.SLA_BREACH].new["clock"] == unanswered.pk
    assert answered_late.breached_at == answered_late.due_at and answered_late.met_at == late
    assert kinds(2)[EventKind.SLA_MET].new["late"] is True
    assert answered.warned_at is answered.breached_at is None
    assert set(kinds(3)) == {EventKind.SLA_MET}
    assert kinds(3)[EventKind.SLA_MET].new["late"] is False
    assert running.due_at > NOW and running.breached_at is None and not kinds(4)

    with time_machine.travel(NOW, tick=False):
        swept = sla_services.sweep()
    assert (swept.warnings, swept.breaches) == ([], [])
    assert not OutboxMessage.objects.exists()

    with time_machine.travel(NOW + timedelta(hours=1), tick=False):
        swept = sla_services.sweep()
    number = Ticket.objects.get(external_id="old-4").number
    assert swept.breaches == [(number, "first_response")]
