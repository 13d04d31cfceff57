"""The ticket services: numbers, routing, triage, workflow, thread, links — and an event row
for every kind of change. Bad input raises and changes nothing."""

import pytest
from django.core.files.base import ContentFile

from servicedesk.accounts.models import Group, StaffRole
from servicedesk.core.errors import PermissionDenied
from servicedesk.tickets import services, triage
from servicedesk.tickets.models import Comment, Event, EventKind, LinkKind, Ticket, TicketLink
from servicedesk.tickets.workflow import TransitionNotAllowed
from tests.factories import (
    CategoryFactory,
    OrganisationFactory,
    ProductFactory,
    StaffFactory,
    make_ticket,
)


def _events(ticket, kind):
    return list(Event.objects.filter(ticket=ticket, kind=kind))


def test_numbers_are_consecutive_from_10001_with_reference_and_subject_token(bob):
    first, second = make_ticket(requester=bob), make_ticket(requester=bob)

    assert (first.number, second.number) == (10001, 10002)
    assert first.reference == "SD-10001"
    assert first.subject_token == "[SD#10001]"


def test_a_new_ticket_goes_to_the_first_line_group_and_records_its_creation(bob):
    ticket = make_ticket(requester=bob, urgency=3, impact=3)

    assert ticket.group == Group.objects.get(is_default_intake=True)
    assert ticket.group.level == "L1"
    assert ticket.organisation == bob.organisation
    (created,) = _events(ticket, EventKind.CREATED)
    assert created.actor == bob
    assert created.new["priority"] == "high" and created.new["score"] == 9


def test_a_finance_query_is_assigned_to_the_account_manager(bob):
    manager = StaffFactory(staff_role=StaffRole.CRM_SPECIALIST)
    bob.organisation.account_manager = manager
    bob.organisation.save()

    ticket = make_ticket(requester=bob, category=CategoryFactory(kind="finance_query"))

    assert ticket.assignee == manager


def test_the_proposal_sets_score_and_priority_until_confirmed(bob):
    ticket = make_ticket(requester=bob, urgency=4, impact=3)

    assert (ticket.proposed_urgency, ticket.proposed_impact) == (4, 3)
    assert (ticket.score, ticket.priority) == (12, "critical")
    assert ticket.confirmed_triage is None


def test_an_untriaged_ticket_starts_at_the_lowest_priority(bob):
    ticket = make_ticket(requester=bob)

    assert (ticket.score, ticket.priority) == (None, "medium")


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"subject": "   "}, services.InvalidTicket),
        ({"subject": "x" * 251}, services.InvalidTicket),
        ({"channel": "pigeon"}, services.InvalidTicket),
        ({"urgency": 3}, triage.InvalidTriage),
        ({"urgency": 5, "impact": 1}, triage.InvalidTriage),
        ({"users_affected": -1}, services.InvalidTicket),
    ],
)
def test_bad_input_creates_nothing(bob, fields, error):
    with pytest.raises(error):
        make_ticket(requester=bob, **fields)

    assert Ticket.objects.count() == 0
    assert Event.objects.count() == 0


def test_a_customer_cannot_file_for_someone_else(bob, charlie):
    with pytest.raises(PermissionDenied):
        services.create_ticket(by=bob, requester=charlie, subject="Hello", channel="portal")

    assert Ticket.objects.count() == 0


def test_a_logger_may_file_for_a_colleague(org_a, bob):
    from tests.factories import CustomerFactory

    logger = CustomerFactory(organisation=org_a, customer_role="logger")

    ticket = services.create_ticket(by=logger, requester=bob, subject="For Bob", channel="phone")

    assert ticket.requester == bob


def test_confirming_the_triage_keeps_the_proposal_opens_the_ticket_and_records_both(
    ticket_a, alice
):
    ticket = services.confirm_triage(ticket=ticket_a, urgency=4, impact=4, by=alice)

    assert (ticket.proposed_urgency, ticket.proposed_impact) == (2, 2)
    assert (ticket.confirmed_urgency, ticket.confirmed_impact, ticket.score, ticket.priority) == (
        4,
        4,
        16,
        "critical",
    )
    assert ticket.status == "open"
    (event,) = _events(ticket, EventKind.TRIAGE)
    assert event.actor == alice
    assert event.old == {"urgency": None, "impact": None, "score": 4, "priority": "medium"}
    assert event.new == {"urgency": 4, "impact": 4, "score": 16, "priority": "critical"}


def test_retriage_records_old_and_new_confirmed_values(ticket_a, alice):
    services.confirm_triage(ticket=ticket_a, urgency=4, impact=4, by=alice)

    services.confirm_triage(ticket=ticket_a, urgency=1, impact=2, by=alice)

    last = _events(ticket_a, EventKind.TRIAGE)[-1]
    assert last.old["priority"] == "critical" and last.new == {
        "urgency": 1,
        "impact": 2,
        "score": 2,
        "priority": "medium",
    }


def test_customers_cannot_confirm_triage(ticket_a, bob):
    with pytest.raises(PermissionDenied):
        services.confirm_triage(ticket=ticket_a, urgency=4, impact=4, by=bob)

    ticket_a.refresh_from_db()
    assert ticket_a.confirmed_triage is None


@pytest.mark.parametrize(
    "to", ["in_progress", "waiting_on_customer", "waiting_on_third_party", "resolved"]
)
def test_staff_moves_change_the_status_and_record_an_event(ticket_a, alice, to):
    ticket = services.change_status(ticket=ticket_a, to=to, by=alice)

    ticket.refresh_from_db()
    assert ticket.status == to
    event = _events(ticket, EventKind.STATUS)[-1]
    assert (event.actor, event.field, event.old, event.new) == (alice, "status", "new", to)
    assert (ticket.resolved_at is not None) == (to == "resolved")


def test_closing_sets_closed_at_and_keeps_the_reason(ticket_a, alice):
    services.change_status(ticket=ticket_a, to="resolved", by=alice)

    ticket = services.change_status(ticket=ticket_a, to="closed", by=alice)

    assert ticket.closed_at is not None
    assert _events(ticket, EventKind.STATUS)[-1].new == "closed"


def test_a_forbidden_move_raises_and_changes_nothing(ticket_a, alice):
    services.change_status(ticket=ticket_a, to="closed", by=alice, reason="spam")
    before = Event.objects.count()

    with pytest.raises(TransitionNotAllowed, match="Re-open it first"):
        services.change_status(ticket=ticket_a, to="in_progress", by=alice)

    ticket_a.refresh_from_db()
    assert ticket_a.status == "closed"
    assert Event.objects.count() == before


def test_an_unknown_status_is_refused(ticket_a, alice):
    with pytest.raises(TransitionNotAllowed, match="Unknown status"):
        services.change_status(ticket=ticket_a, to="frozen", by=alice)


def test_a_customer_reply_reopens_a_resolved_ticket(ticket_a, alice, bob):
    services.change_status(ticket=ticket_a, to="resolved", by=alice)

    comment = services.add_comment(ticket=ticket_a, author=bob, body="Still broken.")

    ticket_a.refresh_from_db()
    assert ticket_a.status == "open" and ticket_a.resolved_at is None
    kinds = [e.kind for e in Event.objects.filter(ticket=ticket_a).order_by("pk")][-2:]
    assert kinds == [EventKind.REPLY, EventKind.STATUS]
    assert _events(ticket_a, EventKind.REPLY)[-1].new == {"comment": comment.pk}


def test_a_customer_reply_resumes_a_ticket_waiting_on_them(ticket_a, alice, bob):
    services.change_status(ticket=ticket_a, to="waiting_on_customer", by=alice)

    services.add_comment(ticket=ticket_a, author=bob, body="Here is the log.")

    ticket_a.refresh_from_db()
    assert ticket_a.status == "open"


def test_a_closed_ticket_takes_no_customer_reply(ticket_a, alice, bob):
    services.change_status(ticket=ticket_a, to="closed", by=alice, reason="duplicate")

    with pytest.raises(TransitionNotAllowed, match="open a new ticket"):
        services.add_comment(ticket=ticket_a, author=bob, body="Hello?")

    assert Comment.objects.filter(ticket=ticket_a).count() == 0


def test_customers_cannot_write_internal_notes(ticket_a, bob):
    with pytest.raises(PermissionDenied):
        services.add_comment(ticket=ticket_a, author=bob, body="psst", internal=True)

    assert Comment.objects.count() == 0


def test_an_internal_note_records_a_note_event(ticket_a, alice):
    note = services.add_comment(
        ticket=ticket_a, author=alice, body="Checked the logs.", internal=True
    )

    (event,) = _events(ticket_a, EventKind.NOTE)
    assert (event.actor, event.new) == (alice, {"comment": note.pk})


def test_an_empty_reply_is_refused(ticket_a, alice):
    with pytest.raises(services.InvalidTicket):
        services.add_comment(ticket=ticket_a, author=alice, body="  ")


def test_an_attachment_records_an_attachment_event(ticket_a, alice, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    upload = services.Upload(
        filename="error.png", content_type="image/png", file=ContentFile(b"png", name="x")
    )

    services.add_comment(ticket=ticket_a, author=alice, body="See screenshot", uploads=[upload])

    (event,) = _events(ticket_a, EventKind.ATTACHMENT)
    assert event.new["name"] == "error.png"


def test_assigning_records_old_and_new_assignee(ticket_a, alice):
    other = StaffFactory(full_name="Other Agent")
    services.assign(ticket=ticket_a, assignee=alice, by=alice)

    services.assign(ticket=ticket_a, assignee=other, by=alice)

    event = _events(ticket_a, EventKind.ASSIGNEE)[-1]
    assert event.old["id"] == alice.pk and event.new["id"] == other.pk


def test_tickets_can_only_be_assigned_to_staff(ticket_a, alice, bob):
    with pytest.raises(services.InvalidTicket):
        services.assign(ticket=ticket_a, assignee=bob, by=alice)

    ticket_a.refresh_from_db()
    assert ticket_a.assignee is None


def test_moving_to_another_group_records_the_reason(ticket_a, alice):
    level_two = Group.objects.get(level="L2")

    services.move_to_group(
        ticket=ticket_a, group=level_two, by=alice, reason="needs a CRM specialist"
    )

    (event,) = _events(ticket_a, EventKind.GROUP)
    assert event.new["id"] == level_two.pk and event.reason == "needs a CRM specialist"


def test_editing_details_records_one_event_per_changed_field(ticket_a, alice):
    product = ProductFactory(name="SuperOffice")

    services.update_details(
        ticket=ticket_a,
        by=alice,
        subject="New subject",
        product=product,
        users_affected=12,
        description=ticket_a.description,
    )

    fields = {e.field: e for e in _events(ticket_a, EventKind.FIELD)}
    assert set(fields) == {"subject", "product", "users_affected"}
    assert fields["subject"].old == "Outlook add-in does not sync contacts"
    assert fields["product"].new == {"id": product.pk, "name": "SuperOffice"}


def test_editing_an_unknown_field_is_refused(ticket_a, alice):
    with pytest.raises(services.InvalidTicket):
        services.update_details(ticket=ticket_a, by=alice, status="closed")


def test_moving_a_ticket_to_another_organisation_is_recorded(ticket_a, alice):
    other = OrganisationFactory()

    services.update_details(ticket=ticket_a, by=alice, organisation=other)

    assert _events(ticket_a, EventKind.FIELD)[0].new["id"] == other.pk


def test_linking_and_unlinking_are_recorded_on_both_tickets(ticket_a, bob, alice):
    other = make_ticket(requester=bob)

    link = services.link_tickets(
        source=other, target=ticket_a, kind=LinkKind.DUPLICATE_OF, by=alice
    )
    services.unlink_tickets(link=link, by=alice)

    assert not TicketLink.objects.exists()
    for ticket in (ticket_a, other):
        assert len(_events(ticket, EventKind.LINK)) == 1
        assert len(_events(ticket, EventKind.UNLINK)) == 1
    assert _events(other, EventKind.LINK)[0].new == {"ticket": ticket_a.number}


def test_a_ticket_cannot_be_linked_to_itself_or_twice(ticket_a, bob, alice):
    other = make_ticket(requester=bob)
    services.link_tickets(source=other, target=ticket_a, kind="related", by=alice)

    with pytest.raises(services.InvalidTicket):
        services.link_tickets(source=ticket_a, target=ticket_a, kind="related", by=alice)
    with pytest.raises(services.InvalidTicket):
        services.link_tickets(source=other, target=ticket_a, kind="related", by=alice)

    assert TicketLink.objects.count() == 1
