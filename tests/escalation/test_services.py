"""The escalation services on the database: levels up and down, vendors, answers, the promise
sweep, bugs and releases; and the SLA through waiting on a third party."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from servicedesk.accounts.models import Group
from servicedesk.core.errors import PermissionDenied
from servicedesk.escalation import selectors, services
from servicedesk.escalation.levels import EscalationNotAllowed, InvalidEscalation
from servicedesk.escalation.models import Escalation, Release
from servicedesk.sla.models import TicketClock
from servicedesk.tickets import services as tickets
from servicedesk.tickets.models import Event, EventKind, Ticket
from servicedesk.tickets.workflow import TransitionNotAllowed
from tests.factories import GroupFactory, VendorFactory, make_ticket

H = timedelta(hours=1)
MONDAY_9 = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)


def at(moment):
    return time_machine.travel(moment, tick=False)


@pytest.fixture
def vendor(db):
    return VendorFactory(name="SuperOffice AS", email="support@superoffice.example")


def events_of(ticket, kind):
    return list(Event.objects.filter(ticket=ticket, kind=kind).order_by("pk"))


# -- internal ----------------------------------------------------------------------------


def test_escalating_to_l2_moves_the_ticket_to_the_l2_group_with_history(ticket_a, alice):
    escalation = services.escalate_internal(
        ticket=ticket_a, to_level="L2", reason="Needs a CRM specialist", by=alice
    )

    ticket = Ticket.objects.get(pk=ticket_a.pk)
    assert ticket.group.name == "CRM specialists"
    assert (escalation.from_level, escalation.to_level) == ("L1", "L2")
    assert selectors.current_level(ticket) == "L2"
    (group_event,) = events_of(ticket, EventKind.GROUP)
    assert group_event.reason == "Needs a CRM specialist"
    (escalated,) = events_of(ticket, EventKind.ESCALATED)
    assert escalated.new["kind"] == "internal"
    assert escalated.new["target"] == "L2"
    assert escalated.new["notify_customer"] is True
    assert escalated.new["promised_by"] is None
    assert escalated.internal is True
    assert ticket.updated_at >= escalated.at


def test_escalating_keeps_status_and_sla_clocks(ticket_a, alice):
    before = list(TicketClock.objects.filter(ticket=ticket_a).values_list("pk", "due_at"))

    services.escalate_internal(ticket=ticket_a, to_level="L3", reason="A bug", by=alice)

    ticket = Ticket.objects.get(pk=ticket_a.pk)
    assert ticket.status == ticket_a.status
    assert list(TicketClock.objects.filter(ticket=ticket).values_list("pk", "due_at")) == before


def test_escalating_to_a_named_group_of_that_level(ticket_a, alice):
    dynamics = GroupFactory(name="Dynamics specialists", level="L2")

    escalation = services.escalate_internal(
        ticket=ticket_a, to_level="L2", reason="Dynamics", by=alice, group=dynamics
    )

    assert Ticket.objects.get(pk=ticket_a.pk).group == dynamics
    assert escalation.group == dynamics


def test_a_group_of_another_level_is_refused(ticket_a, alice):
    l3 = Group.objects.get(level="L3")

    with pytest.raises(InvalidEscalation, match="is not at"):
        services.escalate_internal(ticket=ticket_a, to_level="L2", reason="x", by=alice, group=l3)


def test_escalating_down_or_sideways_is_refused_and_changes_nothing(ticket_a, alice):
    with pytest.raises(EscalationNotAllowed, match="already at"):
        services.escalate_internal(ticket=ticket_a, to_level="L1", reason="x", by=alice)

    assert not Escalation.objects.exists()
    assert not events_of(ticket_a, EventKind.ESCALATED)


def test_a_level_with_no_group_is_refused(ticket_a, alice):
    Group.objects.filter(level="L3").delete()

    with pytest.raises(InvalidEscalation, match="No group works at"):
        services.escalate_internal(ticket=ticket_a, to_level="L3", reason="x", by=alice)


def test_customers_cannot_escalate(ticket_a, bob):
    with pytest.raises(PermissionDenied):
        services.escalate_internal(ticket=ticket_a, to_level="L2", reason="please", by=bob)


def test_a_closed_ticket_is_not_escalated(ticket_a, alice):
    tickets.change_status(ticket=ticket_a, to="closed", by=alice, reason="withdrawn")

    with pytest.raises(EscalationNotAllowed, match="re-open it first"):
        services.escalate_internal(ticket=ticket_a, to_level="L2", reason="x", by=alice)


def test_not_telling_the_customer_keeps_the_reason(ticket_a, alice):
    escalation = services.escalate_internal(
        ticket=ticket_a,
        to_level="L2",
        reason="x",
        by=alice,
        notify_customer=False,
        no_notice_reason="They asked for no mail",
    )

    assert escalation.no_notice_reason == "They asked for no mail"
    (escalated,) = events_of(ticket_a, EventKind.ESCALATED)
    assert escalated.new["notify_customer"] is False


def test_de_escalating_goes_one_level_down_and_ends_the_escalations_above(ticket_a, alice):
    first = services.escalate_internal(ticket=ticket_a, to_level="L2", reason="a", by=alice)
    second = services.escalate_internal(ticket=ticket_a, to_level="L3", reason="b", by=alice)

    services.de_escalate(ticket=ticket_a, reason="Fixed in development", by=alice)

    ticket = Ticket.objects.get(pk=ticket_a.pk)
    assert ticket.group.level == "L2"
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.closed_at is None and second.closed_at is not None
    (down,) = events_of(ticket, EventKind.DE_ESCALATED)
    assert (down.old, down.new["target"], down.new["escalations"]) == (
        {"level": "L3"},
        "L2",
        [second.pk],
    )


def test_de_escalating_to_first_line_ends_every_internal_escalation(ticket_a, alice):
    services.escalate_internal(ticket=ticket_a, to_level="L2", reason="a", by=alice)
    services.escalate_internal(ticket=ticket_a, to_level="L3", reason="b", by=alice)

    services.de_escalate(ticket=ticket_a, to_level="L1", reason="done", by=alice)

    assert Ticket.objects.get(pk=ticket_a.pk).group.level == "L1"
    assert not Escalation.objects.open().exists()


def test_first_line_cannot_go_lower(ticket_a, alice):
    with pytest.raises(EscalationNotAllowed, match="no lower level"):
        services.de_escalate(ticket=ticket_a, reason="x", by=alice)


# -- vendors -----------------------------------------------------------------------------


def test_escalating_to_a_vendor_waits_on_third_party_and_keeps_ownership(ticket_a, alice, vendor):
    tickets.assign(ticket=ticket_a, assignee=alice, by=alice)
    reply = tickets.add_comment(ticket=ticket_a, author=alice, body="Steps…", internal=True)
    with at(MONDAY_9):
        escalation = services.escalate_to_vendor(
            ticket=ticket_a,
            vendor=vendor,
            reason="Sync bug in the Outlook add-in",
            by=alice,
            reference="SO-4711",
            contact="Kari",
            channel="portal",
            promised_by=MONDAY_9 + 48 * H,
            sent_comments=[reply.pk],
            contract="quote",
        )

    ticket = Ticket.objects.get(pk=ticket_a.pk)
    assert ticket.status == "waiting_on_third_party"
    assert (ticket.assignee, ticket.group.level) == (alice, "L1")
    assert escalation.sent_items == {"comments": [reply.pk], "attachments": []}
    assert (escalation.vendor_reference, escalation.channel, escalation.contract) == (
        "SO-4711",
        "portal",
        "quote",
    )
    (escalated,) = events_of(ticket, EventKind.ESCALATED)
    assert escalated.new["kind"] == "vendor"
    assert escalated.new["target"] == "SuperOffice AS"
    assert escalated.new["promised_by"] == (MONDAY_9 + 48 * H).isoformat()
    assert escalated.new["reference"] == "SO-4711"
    assert [e.new for e in events_of(ticket, EventKind.STATUS)][-1] == "waiting_on_third_party"


def test_a_second_vendor_leaves_the_ticket_waiting(ticket_a, alice, vendor):
    services.escalate_to_vendor(ticket=ticket_a, vendor=vendor, reason="a", by=alice)

    services.escalate_to_vendor(ticket=ticket_a, vendor=VendorFactory(), reason="b", by=alice)

    assert Escalation.objects.filter(ticket=ticket_a).count() == 2
    assert len(events_of(ticket_a, EventKind.STATUS)) == 1


def test_a_resolved_ticket_is_not_sent_to_a_vendor(ticket_a, alice, vendor):
    tickets.change_status(ticket=ticket_a, to="resolved", by=alice)

    with pytest.raises(TransitionNotAllowed):
        services.escalate_to_vendor(ticket=ticket_a, vendor=vendor, reason="a", by=alice)

    assert not Escalation.objects.exists()


@pytest.mark.parametrize(
    ("changes", "refusal"),
    [
        ({"reason": " "}, "Say why"),
        ({"channel": "pigeon"}, "Unknown channel"),
        ({"contract": "free"}, "contract"),
        ({"promised_by": MONDAY_9 - H}, "must be ahead"),
        ({"promised_by": datetime(2026, 11, 20, 9, 0)}, "time zone"),
        ({"notify_customer": False}, "not told"),
        ({"sent_comments": [987654]}, "no reply or note 987654"),
        ({"sent_attachments": [987654]}, "no attachment 987654"),
    ],
)
def test_a_bad_vendor_escalation_is_refused(ticket_a, alice, vendor, changes, refusal):
    arguments = {"ticket": ticket_a, "vendor": vendor, "reason": "bug", "by": alice, **changes}

    with at(MONDAY_9), pytest.raises(InvalidEscalation, match=refusal):
        services.escalate_to_vendor(**arguments)

    assert Ticket.objects.get(pk=ticket_a.pk).status == ticket_a.status


def test_another_tickets_comment_is_not_sent(ticket_a, alice, vendor, bob):
    other = make_ticket(requester=bob)
    note = tickets.add_comment(ticket=other, author=alice, body="x", internal=True)

    with pytest.raises(InvalidEscalation, match="no reply or note"):
        services.escalate_to_vendor(
            ticket=ticket_a, vendor=vendor, reason="b", by=alice, sent_comments=[note.pk]
        )


def test_returning_from_the_vendor_ends_the_escalation_and_the_wait(ticket_a, alice, vendor):
    escalation = services.escalate_to_vendor(ticket=ticket_a, vendor=vendor, reason="a", by=alice)

    services.return_from_vendor(escalation=escalation, by=alice, reason="Patched")

    escalation.refresh_from_db()
    assert escalation.closed_at is not None
    assert Ticket.objects.get(pk=ticket_a.pk).status == "in_progress"
    (down,) = events_of(ticket_a, EventKind.DE_ESCALATED)
    assert down.new["target"] == "SuperOffice AS"
    with pytest.raises(EscalationNotAllowed, match="ended already"):
        services.return_from_vendor(escalation=escalation, by=alice)


# -- the vendor's answer and the promise sweep -------------------------------------------


def test_the_first_answer_is_recorded_once_with_the_response_time(ticket_a, alice, vendor):
    with at(MONDAY_9):
        escalation = services.escalate_to_vendor(
            ticket=ticket_a, vendor=vendor, reason="a", by=alice, promised_by=MONDAY_9 + 4 * H
        )

    with at(MONDAY_9 + 5 * H):
        services.record_vendor_answer(escalation=escalation)
        escalation = services.record_vendor_answer(escalation=escalation, at=MONDAY_9 + 6 * H)

    assert escalation.answered_at == MONDAY_9 + 5 * H
    assert services.response_time(escalation) == 5 * H
    (answer,) = events_of(ticket_a, EventKind.VENDOR_ANSWER)
    assert (answer.new["response_seconds"], answer.new["late"]) == (5 * 3600, True)


def test_the_sweep_records_a_broken_promise_once(ticket_a, alice, vendor):
    with at(MONDAY_9):
        escalation = services.escalate_to_vendor(
            ticket=ticket_a, vendor=vendor, reason="a", by=alice, promised_by=MONDAY_9 + 4 * H
        )

    with at(MONDAY_9 + 3 * H):
        early = services.sweep_vendor_promises()
    with at(MONDAY_9 + 5 * H):
        first = services.sweep_vendor_promises()
        second = services.sweep_vendor_promises()

    assert (early.overdue, first.overdue, second.overdue) == ([], [escalation.pk], [])
    (overdue,) = events_of(ticket_a, EventKind.VENDOR_OVERDUE)
    assert overdue.at == MONDAY_9 + 4 * H
    assert overdue.new["reference"] == ""
    assert selectors.escalations_for(ticket_a, now=MONDAY_9 + 5 * H)[0].overdue is True
    assert selectors.escalations_for(ticket_a, now=MONDAY_9 + 3 * H)[0].overdue is False


def test_an_answered_or_ended_escalation_is_never_overdue(ticket_a, alice, vendor):
    with at(MONDAY_9):
        answered = services.escalate_to_vendor(
            ticket=ticket_a, vendor=vendor, reason="a", by=alice, promised_by=MONDAY_9 + H
        )
        ended = services.escalate_to_vendor(
            ticket=ticket_a, vendor=VendorFactory(), reason="b", by=alice, promised_by=MONDAY_9 + H
        )
        services.record_vendor_answer(escalation=answered)
        services.return_from_vendor(escalation=ended, by=alice)

    assert services.sweep_vendor_promises(now=MONDAY_9 + 2 * H).overdue == []
    assert [e.overdue for e in selectors.escalations_for(ticket_a, now=MONDAY_9 + 2 * H)] == [
        False,
        False,
    ]


def test_vendor_response_times_for_the_review(alice, vendor, bob):
    for hours in (2, 6):
        ticket = make_ticket(requester=bob)
        with at(MONDAY_9):
            escalation = services.escalate_to_vendor(
                ticket=ticket, vendor=vendor, reason="a", by=alice, promised_by=MONDAY_9 + 4 * H
            )
        services.record_vendor_answer(escalation=escalation, at=MONDAY_9 + hours * H)
    with at(MONDAY_9):
        services.escalate_to_vendor(
            ticket=make_ticket(requester=bob), vendor=vendor, reason="c", by=alice
        )

    review = selectors.vendor_response_times(vendor, MONDAY_9 - 24 * H, now=MONDAY_9 + 10 * H)

    assert (review.escalations, review.answered, review.unanswered, review.late) == (3, 2, 1, 1)
    assert (review.mean, review.median, review.longest) == (4 * H, 4 * H, 6 * H)


# -- bugs and releases -------------------------------------------------------------------


def test_shipping_a_release_lists_the_active_tickets_waiting_on_it(alice, vendor, bob):
    release = Release.objects.create(vendor=vendor, name="10.3.2", created_at=MONDAY_9)
    waiting, done, elsewhere = (make_ticket(requester=bob) for _ in range(3))
    for ticket in (waiting, done):
        escalation = services.escalate_to_vendor(ticket=ticket, vendor=vendor, reason="a", by=alice)
        services.record_bug(escalation=escalation, bug_reference="BUG-1", release=release, by=alice)
    services.escalate_to_vendor(ticket=elsewhere, vendor=vendor, reason="a", by=alice)
    tickets.change_status(ticket=done, to="resolved", by=alice)

    with at(MONDAY_9 + H):
        listed = services.mark_release_shipped(release=release, by=alice)

    assert [t.pk for t in listed] == [waiting.pk]
    release.refresh_from_db()
    assert release.shipped_at == MONDAY_9 + H
    bug = Event.objects.filter(ticket=waiting, kind=EventKind.FIELD, field="vendor_bug").get()
    assert bug.new["bug_reference"] == "BUG-1"


def test_another_vendors_release_is_refused(ticket_a, alice, vendor):
    escalation = services.escalate_to_vendor(ticket=ticket_a, vendor=vendor, reason="a", by=alice)
    release = Release.objects.create(vendor=VendorFactory(), name="1.0", created_at=MONDAY_9)

    with pytest.raises(InvalidEscalation, match="not this vendor"):
        services.record_bug(escalation=escalation, bug_reference="B", release=release, by=alice)


# -- the customer's SLA ------------------------------------------------------------------


def first_response(ticket):
    return TicketClock.objects.filter(ticket=ticket, kind="first_response").get()


def test_the_customers_clock_runs_while_waiting_on_a_vendor_and_pauses_on_the_customer(
    bob, alice, vendor
):
    with at(MONDAY_9):
        on_vendor = make_ticket(requester=bob, urgency=1, impact=1)  # medium: 4 h
        on_customer = make_ticket(requester=bob, urgency=1, impact=1)
        due = first_response(on_vendor).due_at
    with at(MONDAY_9 + H):
        services.escalate_to_vendor(ticket=on_vendor, vendor=vendor, reason="a", by=alice)
        tickets.change_status(ticket=on_customer, to="waiting_on_customer", by=alice)

    assert due == MONDAY_9 + 4 * H
    assert first_response(on_vendor).due_at == due  # still running, still due
    assert first_response(on_customer).due_at is None  # held until the customer answers
