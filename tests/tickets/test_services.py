"""The ticket services on the database: numbers, routing, triage, workflow, thread, links,
an event row for each kind of change, and bad input that raises and changes nothing."""

from datetime import UTC, date, datetime

import pytest
import time_machine
from django.core.files.base import ContentFile

from servicedesk.accounts.models import Group
from servicedesk.core.errors import PermissionDenied
from servicedesk.sla import services as sla
from servicedesk.sla.models import TicketClock
from servicedesk.tickets import closing_services, services, triage
from servicedesk.tickets.models import (
    Attachment,
    Comment,
    Event,
    EventKind,
    NumberSequence,
    PriorityBand,
    Ticket,
    TicketLink,
)
from servicedesk.tickets.services import InvalidTicket
from servicedesk.tickets.workflow import TransitionNotAllowed
from tests.factories import (
    CategoryFactory,
    CustomerFactory,
    ProductFactory,
    StaffFactory,
    make_ticket,
)
from tests.tickets.test_workflow import NEEDS_REASON, STAFF_MOVES

NOW = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)  # a Monday morning
REASON = "Duplicate of another ticket"


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def _state() -> dict:
    """Everything a refused call must leave as it was."""
    return {
        "tickets": list(Ticket.objects.order_by("pk").values()),
        "events": list(Event.objects.order_by("pk").values_list("pk", flat=True)),
        "comments": Comment.objects.count(),
        "attachments": Attachment.objects.count(),
        "links": list(TicketLink.objects.values_list("pk", flat=True)),
        "clocks": list(TicketClock.objects.order_by("pk").values()),
        "number": NumberSequence.objects.get(name="ticket").last_value,
    }


def _last(ticket, kind) -> Event:
    return Event.objects.filter(ticket=ticket, kind=kind).latest("pk")


def _row(event) -> tuple:
    return (event.actor, event.kind, event.field, event.old, event.new, event.at)


# ---- Numbers, routing, triage -------------------------------------------------------------


def test_numbers_start_at_10001_and_are_consecutive_and_unique(bob):
    tickets = [make_ticket(requester=bob) for _ in range(3)]

    assert [t.number for t in tickets] == [10001, 10002, 10003]
    assert Ticket.objects.values("number").distinct().count() == 3
    assert (tickets[0].reference, tickets[0].subject_token) == ("SD-10001", "[SD#10001]")


def test_allocate_numbers_hands_out_consecutive_blocks(db):
    first, second = services.allocate_numbers(3), services.allocate_numbers(1)

    assert (first, second) == (range(10001, 10004), range(10004, 10005))


def test_the_reference_uses_the_configured_prefix(bob, settings):
    settings.SERVICEDESK_TICKET_PREFIX = "HD"

    ticket = make_ticket(requester=bob)

    assert (ticket.reference, ticket.subject_token) == ("HD-10001", "[HD#10001]")


def test_a_refused_ticket_uses_up_no_number(bob):
    with pytest.raises(InvalidTicket):
        make_ticket(requester=bob, channel="pigeon")

    assert make_ticket(requester=bob).number == 10001


def test_a_new_ticket_goes_to_the_l1_intake_group_seeded_by_migration(bob):
    ticket = make_ticket(requester=bob)

    group = ticket.group
    assert (group.name, group.level, group.is_default_intake) == ("First line", "L1", True)
    assert (ticket.status, ticket.organisation, ticket.assignee) == ("new", bob.organisation, None)


def test_the_category_group_beats_the_product_group_on_creation(bob):
    l2, l3 = Group.objects.get(level="L2"), Group.objects.get(level="L3")
    product, category = ProductFactory(default_group=l3), CategoryFactory(default_group=l2)

    by_product = make_ticket(requester=bob, product=product)
    by_category = make_ticket(requester=bob, product=product, category=category)

    assert (by_product.group, by_category.group) == (l3, l2)


def test_a_finance_query_is_assigned_to_the_account_manager(bob):
    manager = StaffFactory()
    bob.organisation.account_manager = manager
    bob.organisation.save()

    ticket = make_ticket(requester=bob, category=CategoryFactory(kind="finance_query"))

    assert (ticket.assignee, ticket.group.is_default_intake) == (manager, True)


def test_the_proposed_triage_sets_score_and_priority_until_confirmed(bob):
    ticket = make_ticket(requester=bob, urgency=4, impact=3)

    assert ticket.proposed_triage == (4, 3)
    assert (ticket.score, ticket.priority, ticket.confirmed_triage) == (12, "critical", None)


def test_an_untriaged_ticket_starts_at_the_lowest_band(bob):
    ticket = make_ticket(requester=bob)

    assert (ticket.score, ticket.priority, ticket.proposed_triage) == (None, "medium", None)


def test_the_configured_bands_decide_the_priority(bob):
    PriorityBand.objects.all().delete()
    PriorityBand.objects.bulk_create(
        PriorityBand(key=b.key, label=b.label, min_score=b.min_score, max_score=b.max_score)
        for b in triage.S1_BANDS
    )

    ticket = make_ticket(requester=bob, urgency=1, impact=3)

    assert (ticket.score, ticket.priority) == (3, "low")


def test_confirming_keeps_the_proposal_sets_the_confirmation_and_opens(ticket_a, alice):
    services.confirm_triage(ticket=ticket_a, urgency=4, impact=4, by=alice)

    ticket_a.refresh_from_db()
    assert (ticket_a.proposed_triage, ticket_a.confirmed_triage) == ((2, 2), (4, 4))
    assert (ticket_a.score, ticket_a.priority, ticket_a.status) == (16, "critical", "open")
    assert _last(ticket_a, EventKind.STATUS).new == "open"


def test_retriage_records_the_old_and_new_confirmation_and_keeps_the_status(ticket_a, alice):
    services.confirm_triage(ticket=ticket_a, urgency=4, impact=4, by=alice)

    services.confirm_triage(ticket=ticket_a, urgency=1, impact=2, by=alice)

    event = _last(ticket_a, EventKind.TRIAGE)
    assert event.old == {"urgency": 4, "impact": 4, "score": 16, "priority": "critical"}
    assert event.new == {"urgency": 1, "impact": 2, "score": 2, "priority": "medium"}
    ticket_a.refresh_from_db()
    assert (ticket_a.status, ticket_a.proposed_triage) == ("open", (2, 2))


# ---- Status and replies -----------------------------------------------------------------------


@pytest.mark.parametrize(("current", "to"), sorted(STAFF_MOVES))
def test_every_staff_move_updates_the_status_and_its_dates(bob, alice, current, to):
    ticket = make_ticket(requester=bob)
    if current != "new":
        services.change_status(ticket=ticket, to=current, by=alice, reason=REASON)

    services.change_status(ticket=ticket, to=to, by=alice, reason=REASON)

    ticket.refresh_from_db()
    stays_resolved = to == "resolved" or (to == "closed" and current == "resolved")
    assert (ticket.status, ticket.resolved_at) == (to, NOW if stays_resolved else None)
    assert ticket.closed_at == (NOW if to == "closed" else None)
    event = _last(ticket, EventKind.STATUS)
    assert (event.old, event.new, event.reason) == (current, to, REASON)


@pytest.mark.parametrize(("current", "to"), sorted(NEEDS_REASON))
def test_a_move_needing_a_reason_is_refused_without_one(bob, alice, current, to):
    ticket = make_ticket(requester=bob)
    if current != "new":
        services.change_status(ticket=ticket, to=current, by=alice, reason=REASON)
    before = _state()

    with pytest.raises(TransitionNotAllowed, match="needs a reason"):
        services.change_status(ticket=ticket, to=to, by=alice, reason=" ")

    assert _state() == before


def test_a_customer_confirms_the_resolution_of_their_ticket(ticket_a, alice, bob):
    services.change_status(ticket=ticket_a, to="resolved", by=alice)

    services.change_status(ticket=ticket_a, to="closed", by=bob)

    ticket_a.refresh_from_db()
    assert (ticket_a.status, ticket_a.closed_at) == ("closed", NOW)
    assert _last(ticket_a, EventKind.STATUS).actor == bob


@pytest.mark.parametrize(
    ("status", "author", "after"),
    [
        ("resolved", "bob", "open"),
        ("waiting_on_customer", "bob", "open"),
        ("in_progress", "bob", "in_progress"),
        ("waiting_on_third_party", "bob", "waiting_on_third_party"),
        ("resolved", "alice", "resolved"),
    ],
)
def test_a_customer_reply_reopens_resolved_and_resumes_waiting_on_customer(
    ticket_a, alice, bob, status, author, after
):
    services.change_status(ticket=ticket_a, to=status, by=alice)

    services.add_comment(ticket=ticket_a, author={"alice": alice, "bob": bob}[author], body="Hi")

    ticket_a.refresh_from_db()
    assert (ticket_a.status, ticket_a.resolved_at) == (after, NOW if after == "resolved" else None)
    move = _last(ticket_a, EventKind.STATUS)
    expected = (bob, status, after) if after != status else (alice, "new", status)
    assert (move.actor, move.old, move.new) == expected


def test_a_closed_ticket_takes_no_customer_reply(ticket_a, alice, bob):
    services.change_status(ticket=ticket_a, to="closed", by=alice, reason=REASON)
    before = _state()

    with pytest.raises(TransitionNotAllowed, match="open a new ticket"):
        services.add_comment(ticket=ticket_a, author=bob, body="Hello?")

    assert _state() == before


# ---- An event for each kind of change ----------------------------------------------------------


def test_event_created_records_the_ticket_as_filed(bob):
    ticket = make_ticket(requester=bob, urgency=3, impact=3)

    intake = Group.objects.get(is_default_intake=True).pk
    new = {"subject": ticket.subject, "channel": "portal", "status": "new", "score": 9}
    new |= {"priority": "high", "group": intake, "assignee": None}
    assert _row(_last(ticket, EventKind.CREATED)) == (bob, "created", "", None, new, NOW)


def test_event_status_records_the_move_and_its_reason(ticket_a, alice):
    services.change_status(ticket=ticket_a, to="closed", by=alice, reason=REASON)

    event = _last(ticket_a, EventKind.STATUS)
    assert _row(event) == (alice, "status", "status", "new", "closed", NOW)
    assert event.reason == REASON


def test_event_triage_records_the_old_and_new_triage(ticket_a, alice):
    services.confirm_triage(ticket=ticket_a, urgency=3, impact=4, by=alice)

    old = {"urgency": None, "impact": None, "score": 4, "priority": "medium"}
    new = {"urgency": 3, "impact": 4, "score": 12, "priority": "critical"}
    assert _row(_last(ticket_a, EventKind.TRIAGE)) == (alice, "triage", "triage", old, new, NOW)


def test_event_assignee_records_the_old_and_new_agent(ticket_a, alice):
    other = StaffFactory(full_name="Oscar Other", email="oscar@desk.example")
    services.assign(ticket=ticket_a, assignee=alice, by=alice)

    services.assign(ticket=ticket_a, assignee=other, by=alice)

    old = {"id": alice.pk, "name": "Alice Agent <alice@desk.example>"}
    new = {"id": other.pk, "name": "Oscar Other <oscar@desk.example>"}
    event = _last(ticket_a, EventKind.ASSIGNEE)
    assert _row(event) == (alice, "assignee", "assignee", old, new, NOW)
    assert Ticket.objects.get(pk=ticket_a.pk).assignee == other


def test_event_group_records_the_old_and_new_group_and_the_reason(ticket_a, alice):
    l1, l2 = ticket_a.group, Group.objects.get(level="L2")

    services.move_to_group(ticket=ticket_a, group=l2, by=alice, reason="Needs a specialist")

    old = {"id": l1.pk, "name": "First line (L1)"}
    new = {"id": l2.pk, "name": "CRM specialists (L2)"}
    event = _last(ticket_a, EventKind.GROUP)
    assert _row(event) == (alice, "group", "group", old, new, NOW)
    assert event.reason == "Needs a specialist"
    assert Ticket.objects.get(pk=ticket_a.pk).group == l2


def test_event_field_records_one_row_per_changed_field(ticket_a, alice):
    product, subject = ProductFactory(name="SuperOffice"), ticket_a.subject
    changes = {"subject": "  Contacts   do not sync ", "product": product}
    changes |= {"present_since": date(2026, 11, 2), "description": ticket_a.description}

    services.update_details(ticket=ticket_a, by=alice, **changes)

    rows = {e.field: _row(e) for e in Event.objects.filter(ticket=ticket_a, kind="field")}
    superoffice = {"id": product.pk, "name": "SuperOffice"}
    assert rows == {
        "subject": (alice, "field", "subject", subject, "Contacts do not sync", NOW),
        "product": (alice, "field", "product", None, superoffice, NOW),
        "present_since": (alice, "field", "present_since", None, "2026-11-02", NOW),
    }  # the unchanged description has no row
    ticket_a.refresh_from_db()
    assert (ticket_a.subject, ticket_a.product) == ("Contacts do not sync", product)


def test_event_reply_points_at_the_public_reply(ticket_a, bob):
    reply = services.add_comment(ticket=ticket_a, author=bob, body="Any news?")

    new = {"comment": reply.pk}
    assert _row(_last(ticket_a, EventKind.REPLY)) == (bob, "reply", "", None, new, NOW)
    assert (reply.internal, reply.body, reply.author) == (False, "Any news?", bob)


def test_event_note_points_at_the_internal_note(ticket_a, alice):
    note = services.add_comment(ticket=ticket_a, author=alice, body="Checked logs.", internal=True)

    new = {"comment": note.pk}
    assert _row(_last(ticket_a, EventKind.NOTE)) == (alice, "note", "", None, new, NOW)
    assert note.internal


def test_event_attachment_names_the_file_and_its_comment(ticket_a, alice, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    upload = services.Upload("error.png", "image/png", ContentFile(b"png", name="x"))

    reply = services.add_comment(ticket=ticket_a, author=alice, body="See", uploads=[upload])

    new = {"id": Attachment.objects.get().pk, "name": "error.png", "comment": reply.pk}
    assert _row(_last(ticket_a, EventKind.ATTACHMENT)) == (alice, "attachment", "", None, new, NOW)


def test_event_link_is_recorded_on_both_tickets(ticket_a, bob, alice):
    other = make_ticket(requester=bob)

    services.link_tickets(source=other, target=ticket_a, kind="duplicate_of", by=alice)

    new = {"ticket": ticket_a.number}
    assert _row(_last(other, EventKind.LINK)) == (alice, "link", "duplicate_of", None, new, NOW)
    assert _last(ticket_a, EventKind.LINK).new == {"ticket": other.number}
    assert TicketLink.objects.get().kind == "duplicate_of"


def test_event_unlink_is_recorded_on_both_tickets(ticket_a, bob, alice):
    other = make_ticket(requester=bob)
    link = services.link_tickets(source=other, target=ticket_a, kind="related", by=alice)

    services.unlink_tickets(link=link, by=alice)

    old = {"ticket": ticket_a.number}
    assert _row(_last(other, EventKind.UNLINK)) == (alice, "unlink", "related", old, None, NOW)
    assert _last(ticket_a, EventKind.UNLINK).old == {"ticket": other.number}
    assert not TicketLink.objects.exists()


def test_event_sla_met_records_the_first_response(ticket_a, alice):
    due = TicketClock.objects.get(ticket=ticket_a, kind="first_response").due_at

    services.add_comment(ticket=ticket_a, author=alice, body="We are on it.")

    event, new = _last(ticket_a, EventKind.SLA_MET), {"due": due.isoformat(), "late": False}
    assert _row(event) == (alice, "sla_met", "first_response", None, new, NOW)


@pytest.mark.parametrize(("kind", "moment"), [("sla_warning", "warn_at"), ("sla_breach", "due_at")])
def test_event_sla_warning_and_sla_breach_are_recorded_by_the_sweep(ticket_a, kind, moment):
    row = TicketClock.objects.get(ticket=ticket_a, kind="first_response")

    sla.sweep(now=getattr(row, moment))

    new, at = {"due": row.due_at.isoformat(), "clock": row.pk}, getattr(row, moment)
    assert _row(_last(ticket_a, kind)) == (None, kind, "first_response", None, new, at)


def test_event_closing_reminder_is_recorded_by_the_closing_sweep(ticket_a, alice, settings):
    settings.SERVICEDESK_CLOSING_REMINDERS, settings.SERVICEDESK_CLOSING_INTERVAL_DAYS = 3, 2
    services.change_status(ticket=ticket_a, to="resolved", by=alice)
    due, following = (
        datetime(2026, 11, 18, 9, 0, tzinfo=UTC),
        datetime(2026, 11, 20, 9, 0, tzinfo=UTC),
    )

    closing_services.sweep_closing(now=due)

    new = {
        "reminder": 1,
        "of": 3,
        "resolved_at": NOW.isoformat(),
        "next": following.isoformat(),
        "closes": False,
    }
    event = _last(ticket_a, EventKind.CLOSING_REMINDER)
    assert _row(event) == (None, "closing_reminder", "closing", None, new, due)


def test_event_auto_closed_follows_the_unanswered_reminders(ticket_a, alice, settings):
    settings.SERVICEDESK_CLOSING_REMINDERS, settings.SERVICEDESK_CLOSING_INTERVAL_DAYS = 0, 2
    services.change_status(ticket=ticket_a, to="resolved", by=alice)

    closing_services.sweep_closing(now=datetime(2026, 11, 18, 9, 0, tzinfo=UTC))

    new = {"reminders": 0}
    assert _row(_last(ticket_a, EventKind.AUTO_CLOSED)) == (
        None,
        "auto_closed",
        "closing",
        None,
        new,
        NOW,
    )
    assert Ticket.objects.get(pk=ticket_a.pk).status == "closed"


def test_event_rated_records_the_customers_rating(ticket_a, alice, bob):
    services.change_status(ticket=ticket_a, to="resolved", by=alice)

    closing_services.rate(ticket=ticket_a, by=bob, value="good", comment="Quick, thanks.")

    new = {"value": "good", "commented": True}
    assert _row(_last(ticket_a, EventKind.RATED)) == (bob, "rated", "rating", None, new, NOW)


def test_event_escalated_records_where_the_case_went(ticket_a, alice):
    from servicedesk.escalation import services as escalation

    found = escalation.escalate_internal(ticket=ticket_a, to_level="L2", reason="CRM", by=alice)

    event = _last(ticket_a, EventKind.ESCALATED)
    assert _row(event)[:3] == (alice, "escalated", "internal")
    assert (event.new["target"], event.new["escalation"], event.reason) == ("L2", found.pk, "CRM")


def test_event_de_escalated_records_the_level_it_went_back_to(ticket_a, alice):
    from servicedesk.escalation import services as escalation

    escalation.escalate_internal(ticket=ticket_a, to_level="L2", reason="CRM", by=alice)
    escalation.de_escalate(ticket=ticket_a, reason="done", by=alice)

    event = _last(ticket_a, EventKind.DE_ESCALATED)
    assert (event.kind, event.old, event.new["target"]) == ("de_escalated", {"level": "L2"}, "L1")


def test_event_vendor_answer_records_the_response_time(ticket_a, alice):
    from datetime import timedelta

    from servicedesk.escalation import services as escalation
    from tests.factories import VendorFactory

    found = escalation.escalate_to_vendor(
        ticket=ticket_a, vendor=VendorFactory(), reason="bug", by=alice
    )
    H = timedelta(hours=1)
    escalation.record_vendor_answer(escalation=found, at=NOW + 2 * H)

    event = _last(ticket_a, EventKind.VENDOR_ANSWER)
    assert (event.actor, event.at, event.new["response_seconds"]) == (None, NOW + 2 * H, 7200)


def test_event_vendor_overdue_is_recorded_by_the_promise_sweep(ticket_a, alice):
    from datetime import timedelta

    from servicedesk.escalation import services as escalation
    from tests.factories import VendorFactory

    promised = NOW + timedelta(hours=1)
    found = escalation.escalate_to_vendor(
        ticket=ticket_a, vendor=VendorFactory(), reason="bug", by=alice, promised_by=promised
    )
    escalation.sweep_vendor_promises(now=NOW + timedelta(hours=2))

    event = _last(ticket_a, EventKind.VENDOR_OVERDUE)
    assert (event.actor, event.at, event.new["escalation"]) == (None, promised, found.pk)


def test_event_vendor_message_records_each_message_of_the_vendor_thread(ticket_a, alice):
    from servicedesk.escalation import services as escalation
    from tests.factories import VendorFactory

    found = escalation.escalate_to_vendor(
        ticket=ticket_a, vendor=VendorFactory(email="help@vendor.example"), reason="bug", by=alice
    )
    message = escalation.write_to_vendor(escalation=found, body="Any news?", by=alice)

    event = _last(ticket_a, EventKind.VENDOR_MESSAGE)
    assert (event.actor, event.internal, event.field) == (alice, True, "out")
    assert (event.new["escalation"], event.new["message"]) == (found.pk, message.pk)


def test_event_converted_is_recorded_when_the_ticket_becomes_a_change_request(ticket_a, alice):
    from servicedesk.changes import services as changes

    change = changes.convert_ticket(ticket=ticket_a, by=alice)

    event = _last(ticket_a, EventKind.CONVERTED)
    assert (event.actor, event.field) == (alice, "change")
    assert event.new == {"number": change.number, "reference": change.reference}


def test_each_event_kind_has_its_own_test():
    names = [name for name in globals() if name.startswith("test_event_")]

    untested = [kind for kind in EventKind.values if not any(f"_{kind}_" in n for n in names)]

    assert untested == []


# ---- Bad input changes nothing -----------------------------------------------------------------


def test_a_logger_may_file_for_a_colleague(org_a, bob):
    logger = CustomerFactory(organisation=org_a, customer_role="logger")

    ticket = services.create_ticket(by=logger, requester=bob, subject="For Bob", channel="phone")

    assert (ticket.requester, _last(ticket, EventKind.CREATED).actor) == (bob, logger)


# Placeholders the test below fills in: ticket A, a second ticket linked to it, that link,
# the agent alice, bob and his end-user colleague, charlie, an inactive agent, the L2 group.
T, T2, LINK, ALICE, BOB, GONE, L2 = "<t>", "<t2>", "<link>", "<alice>", "<bob>", "<gone>", "<l2>"
COLLEAGUE, CHARLIE = "<colleague>", "<charlie>"
BAD_CALLS = {
    "blank-subject": ("create_ticket", {"subject": "   "}, InvalidTicket),
    "long-subject": ("create_ticket", {"subject": "x" * 251}, InvalidTicket),
    "unknown-channel": ("create_ticket", {"channel": "pigeon"}, InvalidTicket),
    "half-triage": ("create_ticket", {"urgency": 3}, triage.InvalidTriage),
    "urgency-5": ("create_ticket", {"urgency": 5, "impact": 1}, triage.InvalidTriage),
    "negative-users": ("create_ticket", {"users_affected": -1}, InvalidTicket),
    "staff-requester": ("create_ticket", {"by": ALICE, "requester": ALICE}, InvalidTicket),
    "other-organisation": ("create_ticket", {"by": CHARLIE}, PermissionDenied),
    "end-user-for-colleague": ("create_ticket", {"requester": COLLEAGUE}, PermissionDenied),
    "customer-triages": ("confirm_triage", {"urgency": 4, "impact": 4, "by": BOB}, PermissionDenied),
    "triage-5": ("confirm_triage", {"urgency": 5, "impact": 4, "by": ALICE}, triage.InvalidTriage),
    "unknown-status": ("change_status", {"to": "frozen", "by": ALICE}, TransitionNotAllowed),
    "customer-resolves": ("change_status", {"to": "resolved", "by": BOB}, TransitionNotAllowed),
    "customer-note": ("add_comment", {"author": BOB, "body": "x", "internal": True}, PermissionDenied),
    "empty-reply": ("add_comment", {"author": ALICE, "body": "  "}, InvalidTicket),
    "reply-by-fax": ("add_comment", {"author": ALICE, "body": "x", "channel": "fax"}, InvalidTicket),
    "assign-customer": ("assign", {"assignee": BOB, "by": ALICE}, InvalidTicket),
    "assign-inactive": ("assign", {"assignee": GONE, "by": ALICE}, InvalidTicket),
    "customer-assigns": ("assign", {"assignee": ALICE, "by": BOB}, PermissionDenied),
    "customer-moves": ("move_to_group", {"group": L2, "by": BOB}, PermissionDenied),
    "edit-status": ("update_details", {"by": ALICE, "status": "closed"}, InvalidTicket),
    "edit-blank-subject": ("update_details", {"by": ALICE, "subject": " "}, InvalidTicket),
    "edit-long-subject": ("update_details", {"by": ALICE, "subject": "x" * 251}, InvalidTicket),
    "edit-negative-users": ("update_details", {"by": ALICE, "users_affected": -3}, InvalidTicket),
    "edit-channel": ("update_details", {"by": ALICE, "channel": "fax"}, InvalidTicket),
    "customer-edits": ("update_details", {"by": BOB, "subject": "Mine"}, PermissionDenied),
    "link-self": ("link_tickets", {"source": T, "target": T, "kind": "related", "by": ALICE}, InvalidTicket),
    "link-kind": ("link_tickets", {"source": T, "target": T2, "kind": "x", "by": ALICE}, InvalidTicket),
    "link-twice": ("link_tickets", {"source": T2, "target": T, "kind": "related", "by": ALICE}, InvalidTicket),
    "customer-links": ("link_tickets", {"source": T, "target": T2, "kind": "related", "by": BOB}, PermissionDenied),
    "customer-unlinks": ("unlink_tickets", {"link": LINK, "by": BOB}, PermissionDenied),
}  # fmt: skip


@pytest.mark.parametrize("case", list(BAD_CALLS))
def test_bad_input_to_a_service_raises_and_changes_nothing(ticket_a, alice, bob, charlie, case):
    other = make_ticket(requester=bob)
    link = services.link_tickets(source=other, target=ticket_a, kind="related", by=alice)
    roles = {T: ticket_a, T2: other, LINK: link, ALICE: alice, BOB: bob, CHARLIE: charlie}
    roles |= {GONE: StaffFactory(is_active=False), L2: Group.objects.get(level="L2")}
    roles[COLLEAGUE] = CustomerFactory(organisation=bob.organisation)
    name, given, error = BAD_CALLS[case]
    if name == "create_ticket":
        given = {"by": BOB, "requester": BOB, "subject": "Hi", "channel": "phone", **given}
    elif not {"source", "link"} & set(given):
        given = {"ticket": T, **given}
    kwargs = {key: roles.get(value, value) for key, value in given.items()}
    before = _state()

    with pytest.raises(error):
        getattr(services, name)(**kwargs)

    assert _state() == before


@pytest.mark.parametrize(
    ("name", "given"),
    [
        ("confirm_triage", {"urgency": 3, "impact": 3}),
        ("assign", {"assignee": None}),
        ("move_to_group", {"group": "<own group>"}),
        ("update_details", {"subject": "Outlook add-in does not sync contacts"}),
    ],
)
def test_a_change_to_the_current_value_records_nothing(ticket_a, alice, name, given):
    services.confirm_triage(ticket=ticket_a, urgency=3, impact=3, by=alice)
    kwargs = {k: ticket_a.group if v == "<own group>" else v for k, v in given.items()}
    before = _state()

    getattr(services, name)(ticket=ticket_a, by=alice, **kwargs)

    assert _state() == before
