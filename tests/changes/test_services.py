"""The change-request services on the database: opening (directly or from a ticket), editing,
planning, every stage move and gate through a whole life, the administrator's decision, the
urgent flag, and the monthly reports (idempotent, per organisation time zone)."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine

from servicedesk.accounts.models import CustomerRole
from servicedesk.changes import services
from servicedesk.changes.models import (
    ChangeEvent,
    ChangeEventKind,
    ChangeRequest,
    MonthlyReport,
    PlanStep,
)
from servicedesk.changes.services import InvalidChange, Step
from servicedesk.changes.workflow import Stage, StageNotAllowed
from servicedesk.core.errors import NotFound, PermissionDenied
from servicedesk.tickets.models import Event, EventKind, Ticket
from servicedesk.tickets.workflow import Status
from tests.changes.factories import approved, assessed, awaiting_approval, make_change
from tests.factories import (
    CustomerFactory,
    OrganisationFactory,
    ProductFactory,
    StaffFactory,
    VendorFactory,
    make_ticket,
)

MONDAY_9 = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)
H = timedelta(hours=1)


def at(moment):
    return time_machine.travel(moment, tick=False)


@pytest.fixture
def published(monkeypatch):
    """What the services publish to the subscribers (still published: the mails run)."""
    seen = []
    real = services.publish

    def recording(events, **hints):
        seen.extend(events)
        real(events, **hints)

    monkeypatch.setattr(services, "publish", recording)
    return seen


@pytest.fixture
def change(bob, alice):
    """A CR of organisation A requested by bob, opened by alice."""
    return make_change(requester=bob, by=alice)


@pytest.fixture
def logger_a(org_a):
    return CustomerFactory(email="logger@alpha.example", organisation=org_a, customer_role="logger")


@pytest.fixture
def admin_b(org_b):
    return CustomerFactory(
        email="admin@bravo.example", organisation=org_b, customer_role=CustomerRole.CUSTOMER_ADMIN
    )


def kinds(change):
    return [e.kind for e in ChangeEvent.objects.filter(change=change).order_by("pk")]


def snapshot(change):
    """What a refused service must leave as it was."""
    row = ChangeRequest.objects.get(pk=change.pk)
    fields = {f.attname: getattr(row, f.attname) for f in ChangeRequest._meta.concrete_fields}
    return (
        fields,
        ChangeEvent.objects.filter(change=change).count(),
        list(PlanStep.objects.filter(change=change).values_list("description", flat=True)),
    )


# -- opening ----------------------------------------------------------------------------------


def test_staff_open_a_change_request_for_a_customer(bob, alice, org_a, published):
    with at(MONDAY_9):
        change = services.open_change(
            organisation=org_a,
            requester=bob,
            title="  Add a  field ",
            description="Sales want it.\r\nSoon.",
            by=alice,
        )

    change.refresh_from_db()
    assert change.reference == f"CR-{change.number}"
    assert (change.stage, change.requested_at, change.created_by) == (
        Stage.REQUESTED,
        MONDAY_9,
        alice,
    )
    assert (change.title, change.description) == ("Add a field", "Sales want it.\nSoon.")
    assert (change.ticket, change.urgent, change.chargeable, change.effort_hours) == (
        None,
        False,
        None,
        None,
    )
    (event,) = ChangeEvent.objects.filter(change=change)
    assert (event.kind, event.actor, event.new) == (
        ChangeEventKind.CREATED,
        alice,
        {"ticket": None},
    )
    assert published == [event]


def test_numbers_follow_each_other(bob, alice):
    first = make_change(requester=bob, by=alice)
    second = make_change(requester=bob, by=alice)

    assert second.number == first.number + 1


def test_standard_software_goes_to_the_products_vendor(bob, alice):
    vendor = VendorFactory(name="SuperOffice AS")
    product = ProductFactory(name="SuperOffice CRM", vendor=vendor)

    change = make_change(requester=bob, by=alice, product=product, scope="standard")

    assert (change.vendor, change.assignee) == (vendor, None)


def test_a_customisation_goes_to_the_organisations_project_lead(bob, alice, org_a):
    lead = StaffFactory(email="lead@desk.example")
    org_a.project_lead = lead
    org_a.save()
    product = ProductFactory(vendor=VendorFactory())

    change = make_change(requester=bob, by=alice, product=product, scope="customisation")

    assert (change.vendor, change.assignee) == (None, lead)


def test_a_customer_opens_one_in_their_own_name_for_their_organisation(bob):
    change = make_change(requester=bob)

    assert (change.organisation, change.requester, change.created_by) == (
        bob.organisation,
        bob,
        bob,
    )


def test_an_urgent_request_records_its_urgency(bob, published):
    change = make_change(requester=bob, urgent=True)

    assert change.urgent is True
    assert kinds(change) == [ChangeEventKind.CREATED, ChangeEventKind.URGENT]
    assert [e.kind for e in published] == [ChangeEventKind.CREATED, ChangeEventKind.URGENT]


def test_a_customer_cannot_open_one_for_another_organisation(bob, org_b):
    with pytest.raises(NotFound):
        make_change(requester=bob, organisation=org_b)

    assert not ChangeRequest.objects.exists()


def test_a_customer_cannot_open_one_in_a_colleagues_name(bob, bob_admin):
    with pytest.raises(PermissionDenied):
        make_change(requester=bob, by=bob_admin)

    assert not ChangeRequest.objects.exists()


@pytest.mark.parametrize(
    "fields",
    [
        {"title": "  "},
        {"description": ""},
        {"title": "x" * 251},
        {"scope": "bespoke"},
    ],
    ids=["no title", "no description", "long title", "unknown scope"],
)
def test_an_incomplete_request_is_refused(bob, alice, fields):
    with pytest.raises(InvalidChange):
        make_change(requester=bob, by=alice, **fields)

    assert not ChangeRequest.objects.exists()


def test_the_requester_must_be_a_contact_of_the_organisation(charlie, alice, org_a):
    with pytest.raises(InvalidChange, match="contact of the change request's organisation"):
        make_change(requester=charlie, by=alice, organisation=org_a)
    with pytest.raises(InvalidChange):
        make_change(requester=alice, by=alice, organisation=org_a)

    assert not ChangeRequest.objects.exists()


# -- converting a ticket ----------------------------------------------------------------------


def test_converting_closes_the_ticket_with_its_reason_and_links_the_change(ticket_a, alice, bob):
    with at(MONDAY_9 + H):
        change = services.convert_ticket(ticket=ticket_a, by=alice, reason="Needs a new field.")

    ticket = Ticket.objects.get(pk=ticket_a.pk)
    assert ticket.status == Status.CLOSED
    assert (change.ticket, change.organisation, change.requester) == (
        ticket,
        ticket.organisation,
        bob,
    )
    assert change.requested_at == ticket.created_at  # asked when the ticket was filed
    assert change.title == ticket.subject
    assert change.description.endswith("\n\nNeeds a new field.")
    closing = Event.objects.get(ticket=ticket, kind=EventKind.STATUS, new=Status.CLOSED)
    assert closing.reason == f"Converted to change request {change.reference}"
    (converted,) = Event.objects.filter(ticket=ticket, kind=EventKind.CONVERTED)
    assert (converted.actor, converted.field) == (alice, "change")
    assert converted.new == {"number": change.number, "reference": change.reference}
    (created,) = ChangeEvent.objects.filter(change=change)
    assert (created.kind, created.new) == (ChangeEventKind.CONVERTED, {"ticket": ticket.number})
    assert list(ticket.changes.all()) == [change]


def test_a_closed_ticket_is_converted_without_moving_again(ticket_a, alice):
    from servicedesk.tickets import services as tickets

    tickets.change_status(ticket=ticket_a, to=Status.CLOSED, by=alice, reason="Duplicate")

    change = services.convert_ticket(ticket=ticket_a, by=alice, scope="standard")

    assert change.scope == "standard"
    assert Event.objects.filter(ticket=ticket_a, kind=EventKind.STATUS).count() == 1
    assert Event.objects.filter(ticket=ticket_a, kind=EventKind.CONVERTED).count() == 1


def test_a_ticket_is_converted_once(ticket_a, alice):
    services.convert_ticket(ticket=ticket_a, by=alice)
    events = Event.objects.filter(ticket=ticket_a).count()

    with pytest.raises(InvalidChange, match="already a change request"):
        services.convert_ticket(ticket=ticket_a, by=alice)

    assert ChangeRequest.objects.count() == 1
    assert Event.objects.filter(ticket=ticket_a).count() == events


def test_a_ticket_without_an_organisation_is_not_converted(alice, db):
    loner = CustomerFactory(email="loner@gmail.example", organisation=None)
    ticket = make_ticket(requester=loner)

    with pytest.raises(InvalidChange, match="customer organisation"):
        services.convert_ticket(ticket=ticket, by=alice)

    assert not ChangeRequest.objects.exists()
    assert Ticket.objects.get(pk=ticket.pk).status == ticket.status


def test_a_customer_cannot_convert_a_ticket(ticket_a, bob_admin):
    with pytest.raises(PermissionDenied):
        services.convert_ticket(ticket=ticket_a, by=bob_admin)

    assert not ChangeRequest.objects.exists()
    assert Ticket.objects.get(pk=ticket_a.pk).status == Status.NEW


# -- editing ----------------------------------------------------------------------------------


def test_each_changed_field_is_one_event_with_its_old_and_new_value(change, alice, published):
    owner = StaffFactory(email="owner@desk.example", full_name="Olga Owner")
    before = ChangeRequest.objects.get(pk=change.pk).updated_at

    with at(MONDAY_9 + 2 * H):
        services.update_change(
            change=change,
            by=alice,
            effort_hours="7.26",
            chargeable=False,
            assignee=owner,
            scheduled_for=date(2026, 12, 1),
            risk="Low",
            title=change.title,  # unchanged: no event
        )

    row = ChangeRequest.objects.get(pk=change.pk)
    assert (row.effort_hours, row.chargeable, row.assignee, row.risk) == (
        Decimal("7.3"),
        False,
        owner,
        "Low",
    )
    assert row.updated_at == MONDAY_9 + 2 * H != before
    fields = {
        e.field: (e.old, e.new)
        for e in ChangeEvent.objects.filter(change=change, kind=ChangeEventKind.FIELD)
    }
    assert fields == {
        "effort_hours": (None, "7.3"),
        "chargeable": (None, False),
        "assignee": (None, {"id": owner.pk, "name": str(owner)}),
        "scheduled_for": (None, "2026-12-01"),
        "risk": ("", "Low"),
    }
    assert len(published) == 5


def test_an_edit_that_changes_nothing_records_nothing(change, alice):
    before = snapshot(change)

    services.update_change(change=change, by=alice, title=change.title, risk="")

    assert snapshot(change) == before


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"stage": "closed"}, "cannot be edited here"),
        ({"decision": "approved"}, "cannot be edited here"),
        ({"effort_hours": "lots"}, "number of hours"),
        ({"effort_hours": -1}, "number of hours"),
        ({"effort_hours": "NaN"}, "number of hours"),
        ({"scope": "bespoke"}, "Unknown scope"),
        ({"title": " "}, "needs title"),
        ({"description": ""}, "needs description"),
    ],
)
def test_bad_edits_are_refused_and_change_nothing(change, alice, fields, error):
    before = snapshot(change)

    with pytest.raises(InvalidChange, match=error):
        services.update_change(change=change, by=alice, **fields)

    assert snapshot(change) == before


def test_the_owner_is_a_desk_agent(change, alice, bob):
    before = snapshot(change)

    with pytest.raises(InvalidChange, match="owner is a desk agent"):
        services.update_change(change=change, by=alice, assignee=bob)

    assert snapshot(change) == before


def test_customers_do_not_edit_a_change_request(change, bob, bob_admin):
    before = snapshot(change)

    for customer in (bob, bob_admin):
        with pytest.raises(PermissionDenied):
            services.update_change(change=change, by=customer, risk="None")

    assert snapshot(change) == before


@pytest.mark.parametrize(
    "fields",
    [
        {"effort_hours": Decimal("20")},
        {"chargeable": False},
        {"description": "Something else"},
        {"title": "Another title"},
        {"scope": "standard"},
    ],
)
def test_the_estimate_cannot_change_while_the_administrator_decides(change, alice, fields):
    change = awaiting_approval(change, by=alice)
    before = snapshot(change)

    with pytest.raises(StageNotAllowed, match="back to assessment"):
        services.update_change(change=change, by=alice, **fields)

    assert snapshot(change) == before


def test_while_awaiting_approval_other_fields_and_unchanged_estimates_may_be_written(change, alice):
    change = awaiting_approval(change, by=alice)

    services.update_change(
        change=change, by=alice, risk="Medium", effort_hours="12.5", chargeable=True
    )

    row = ChangeRequest.objects.get(pk=change.pk)
    assert (row.risk, row.stage) == ("Medium", Stage.AWAITING_APPROVAL)


def test_taken_back_to_assessment_the_estimate_can_change(change, alice):
    change = awaiting_approval(change, by=alice)
    change = services.move_stage(change=change, to="assessment", by=alice, reason="Re-estimate")

    services.update_change(change=change, by=alice, effort_hours="20")

    assert ChangeRequest.objects.get(pk=change.pk).effort_hours == Decimal("20.0")


# -- the plan ---------------------------------------------------------------------------------


def test_the_plan_is_replaced_in_order_with_one_event(change, alice, published):
    services.set_plan(change=change, steps=[Step("Old step")], by=alice)
    published.clear()

    services.set_plan(
        change=change,
        steps=[
            Step("Back up the database", date(2026, 12, 1), "Alice", done=True),
            Step(" Deploy the field ", None, ""),
        ],
        by=alice,
    )

    steps = list(PlanStep.objects.filter(change=change).order_by("position"))
    assert [(s.position, s.description, s.due_on, s.responsible, s.done) for s in steps] == [
        (1, "Back up the database", date(2026, 12, 1), "Alice", True),
        (2, "Deploy the field", None, "", False),
    ]
    (event,) = published
    assert event.kind == ChangeEventKind.PLAN
    assert event.old == [
        {"description": "Old step", "due_on": None, "responsible": "", "done": False}
    ]
    assert event.new[0] == {
        "description": "Back up the database",
        "due_on": "2026-12-01",
        "responsible": "Alice",
        "done": True,
    }


def test_the_same_plan_again_records_nothing(change, alice):
    services.set_plan(change=change, steps=[Step("Deploy", date(2026, 12, 1))], by=alice)
    before = snapshot(change)

    services.set_plan(change=change, steps=[Step("Deploy", date(2026, 12, 1))], by=alice)

    assert snapshot(change) == before


def test_an_empty_plan_clears_it(change, alice):
    services.set_plan(change=change, steps=[Step("Deploy")], by=alice)

    services.set_plan(change=change, steps=[], by=alice)

    assert not PlanStep.objects.filter(change=change).exists()
    assert kinds(change).count(ChangeEventKind.PLAN) == 2


@pytest.mark.parametrize("step", [Step(""), Step("x" * 501), Step("Deploy", responsible="x" * 201)])
def test_a_bad_step_refuses_the_whole_plan(change, alice, step):
    services.set_plan(change=change, steps=[Step("Kept")], by=alice)
    before = snapshot(change)

    with pytest.raises(InvalidChange):
        services.set_plan(change=change, steps=[Step("Fine"), step], by=alice)

    assert snapshot(change) == before


def test_customers_do_not_plan(change, bob_admin):
    with pytest.raises(PermissionDenied):
        services.set_plan(change=change, steps=[Step("Mine")], by=bob_admin)

    assert not PlanStep.objects.filter(change=change).exists()


# -- the stages, through a whole life --------------------------------------------------------


def refused(change, to, by, match):
    """Move ``change`` to ``to``: refused with ``match``, and nothing changed."""
    before = snapshot(change)
    with pytest.raises(StageNotAllowed, match=match):
        services.move_stage(change=change, to=to, by=by)
    assert snapshot(change) == before


def test_a_whole_life_with_every_gate_refusing_on_the_way(change, alice, bob_admin, published):
    refused(change, "awaiting_approval", alice, "cannot move from Requested")
    change = services.move_stage(change=change, to="assessment", by=alice)

    refused(change, "awaiting_approval", alice, "effort estimate and the chargeable")
    services.update_change(change=change, by=alice, effort_hours="8")
    refused(change, "awaiting_approval", alice, "effort estimate and the chargeable")
    services.update_change(change=change, by=alice, chargeable=True)
    with at(MONDAY_9):
        change = services.move_stage(change=change, to="awaiting_approval", by=alice)
    assert (change.approval_round, change.approval_requested_at) == (1, MONDAY_9)

    refused(change, "approved", alice, "Only the organisation's administrator")
    refused(change, "implementation", alice, "cannot move from Awaiting approval")
    with at(MONDAY_9 + 3 * H):
        change = services.decide(change=change, approved=True, by=bob_admin, comment="Go")

    refused(change, "closed", alice, "cannot move from Approved")
    change = services.move_stage(change=change, to="testing", by=alice)
    services.update_change(change=change, by=alice, test_outcome="UAT passed")
    change = services.move_stage(change=change, to="implementation", by=alice)
    change = services.move_stage(change=change, to="review", by=alice)
    refused(change, "closed", alice, "only after its post-implementation review")
    services.update_change(change=change, by=alice, kpis_met=True, lessons_learned="Test early")
    with at(MONDAY_9 + 48 * H):
        change = services.move_stage(change=change, to="closed", by=alice, reason=" Done ")

    row = ChangeRequest.objects.get(pk=change.pk)
    assert (row.stage, row.closed_at, row.decision) == ("closed", MONDAY_9 + 48 * H, "approved")
    stages = [
        (e.old, e.new, e.reason)
        for e in ChangeEvent.objects.filter(change=change, kind=ChangeEventKind.STAGE).order_by(
            "pk"
        )
    ]
    assert stages == [
        ("requested", "assessment", ""),
        ("assessment", "awaiting_approval", ""),
        ("awaiting_approval", "approved", "Go"),
        ("approved", "testing", ""),
        ("testing", "implementation", ""),
        ("implementation", "review", ""),
        ("review", "closed", "Done"),
    ]
    assert ChangeEventKind.APPROVAL_REQUESTED in [e.kind for e in published]
    refused(change, "review", alice, "cannot move from Closed")


def test_uat_failing_goes_back_to_the_schedule(change, alice, bob_admin):
    change = approved(change, by=alice, administrator=bob_admin)
    change = services.move_stage(change=change, to="testing", by=alice)

    change = services.move_stage(change=change, to="approved", by=alice, reason="UAT failed")

    assert ChangeRequest.objects.get(pk=change.pk).stage == "approved"


def test_an_approved_change_may_skip_testing(change, alice, bob_admin):
    change = approved(change, by=alice, administrator=bob_admin)

    change = services.move_stage(change=change, to="implementation", by=alice)

    assert change.stage == "implementation"


def test_an_unknown_stage_is_refused(change, alice):
    refused(change, "done", alice, "Unknown stage")


def test_customers_do_not_move_stages(change, bob_admin, bob):
    before = snapshot(change)

    for customer in (bob, bob_admin):
        with pytest.raises(PermissionDenied):
            services.move_stage(change=change, to="assessment", by=customer)

    assert snapshot(change) == before


def test_the_desks_automation_may_move_a_stage(change):
    change = services.move_stage(change=change, to="assessment", by=None)

    (event,) = ChangeEvent.objects.filter(change=change, kind=ChangeEventKind.STAGE)
    assert event.actor is None


def test_staff_cannot_move_a_stale_copy_past_a_gate(change, alice):
    """The service re-reads the CR under a lock: an old copy in hand cannot skip a gate."""
    stale = ChangeRequest.objects.get(pk=change.pk)
    stale.effort_hours, stale.chargeable, stale.stage = Decimal(1), True, "assessment"

    with pytest.raises(StageNotAllowed, match="cannot move from Requested"):
        services.move_stage(change=stale, to="awaiting_approval", by=alice)


# -- the administrator's decision -----------------------------------------------------------


def test_the_administrator_approves_with_who_when_and_comment(change, alice, bob_admin, published):
    change = awaiting_approval(change, by=alice)
    published.clear()

    with at(MONDAY_9 + H):
        change = services.decide(
            change=change, approved=True, by=bob_admin, comment=" Go ahead ", approval_round=1
        )

    row = ChangeRequest.objects.get(pk=change.pk)
    assert (row.stage, row.decision, row.decided_by, row.decided_at, row.decision_comment) == (
        "approved",
        "approved",
        bob_admin,
        MONDAY_9 + H,
        "Go ahead",
    )
    assert [(e.kind, e.new, e.actor) for e in published] == [
        (ChangeEventKind.STAGE, "approved", bob_admin),
        (ChangeEventKind.DECIDED, "approved", bob_admin),
    ]


@pytest.mark.parametrize(
    ("who", "error"),
    [
        ("alice", PermissionDenied),  # staff cannot approve on the customer's behalf
        ("bob", PermissionDenied),  # the requester, an end user
        ("logger_a", PermissionDenied),  # sees it all, decides nothing
        ("admin_b", NotFound),  # another organisation's administrator: not theirs to see
        ("charlie", NotFound),
    ],
)
def test_only_the_organisations_administrator_decides(change, alice, request, who, error):
    change = awaiting_approval(change, by=alice)
    before = snapshot(change)

    for approve in (True, False):
        with pytest.raises(error):
            services.decide(change=change, approved=approve, by=request.getfixturevalue(who))

    assert snapshot(change) == before


def test_an_inactive_administrator_decides_nothing(change, alice, bob_admin):
    change = awaiting_approval(change, by=alice)
    bob_admin.is_active = False
    bob_admin.save()

    with pytest.raises(NotFound):
        services.decide(change=change, approved=True, by=bob_admin)


def test_a_decision_is_taken_once(change, alice, bob_admin):
    change = awaiting_approval(change, by=alice)
    services.decide(change=change, approved=True, by=bob_admin)
    before = snapshot(change)

    for approve in (True, False):
        with pytest.raises(StageNotAllowed, match="not awaiting your decision"):
            services.decide(change=change, approved=approve, by=bob_admin)

    assert snapshot(change) == before


def test_nothing_is_decided_before_approval_is_asked(change, alice, bob_admin):
    change = assessed(change, by=alice)
    before = snapshot(change)

    with pytest.raises(StageNotAllowed, match="not awaiting your decision"):
        services.decide(change=change, approved=True, by=bob_admin)

    assert snapshot(change) == before


def test_a_link_of_another_round_decides_nothing(change, alice, bob_admin):
    change = awaiting_approval(change, by=alice)
    before = snapshot(change)

    for stale in (0, 2):
        with pytest.raises(StageNotAllowed, match="not awaiting your decision"):
            services.decide(change=change, approved=True, by=bob_admin, approval_round=stale)

    assert snapshot(change) == before


def test_a_too_long_comment_is_refused(change, alice, bob_admin):
    change = awaiting_approval(change, by=alice)
    before = snapshot(change)

    with pytest.raises(InvalidChange, match="too long"):
        services.decide(change=change, approved=False, by=bob_admin, comment="x" * 5001)

    assert snapshot(change) == before


def test_unapproved_is_kept_and_resubmitted_in_a_new_round(change, alice, bob_admin):
    change = awaiting_approval(change, by=alice)
    change = services.decide(change=change, approved=False, by=bob_admin, comment="Too dear")
    row = ChangeRequest.objects.get(pk=change.pk)
    assert (row.stage, row.decision, row.decision_comment) == (
        "unapproved",
        "unapproved",
        "Too dear",
    )
    refused(change, "implementation", alice, "cannot move from Unapproved")

    with at(MONDAY_9 + 24 * H):
        change = services.move_stage(change=change, to="awaiting_approval", by=alice)

    row = ChangeRequest.objects.get(pk=change.pk)
    assert (row.stage, row.approval_round, row.approval_requested_at) == (
        "awaiting_approval",
        2,
        MONDAY_9 + 24 * H,
    )
    assert (row.decision, row.decided_by, row.decided_at, row.decision_comment) == (
        "",
        None,
        None,
        "",
    )
    with pytest.raises(StageNotAllowed):  # the first round's link
        services.decide(change=change, approved=True, by=bob_admin, approval_round=1)
    services.decide(change=change, approved=True, by=bob_admin, approval_round=2)
    assert ChangeRequest.objects.get(pk=change.pk).stage == "approved"
    assert kinds(change).count(ChangeEventKind.DECIDED) == 2  # both decisions kept


def test_unapproved_may_be_reassessed_before_it_is_resubmitted(change, alice, bob_admin):
    change = awaiting_approval(change, by=alice)
    change = services.decide(change=change, approved=False, by=bob_admin)

    change = services.move_stage(change=change, to="assessment", by=alice)
    services.update_change(change=change, by=alice, effort_hours="4")
    change = services.move_stage(change=change, to="awaiting_approval", by=alice)

    assert (change.approval_round, change.effort_hours) == (2, Decimal("4.0"))


# -- urgent -----------------------------------------------------------------------------------


def test_the_requester_marks_it_urgent_once(change, bob, published):
    services.mark_urgent(change=change, by=bob)
    services.mark_urgent(change=change, by=bob)

    assert ChangeRequest.objects.get(pk=change.pk).urgent is True
    assert [(e.kind, e.actor) for e in published] == [(ChangeEventKind.URGENT, bob)]


@pytest.mark.parametrize("who", ["alice", "bob_admin", "logger_a"])
def test_staff_and_whoever_sees_it_may_mark_it_urgent(change, request, who):
    services.mark_urgent(change=change, by=request.getfixturevalue(who))

    assert ChangeRequest.objects.get(pk=change.pk).urgent is True


def test_another_organisation_cannot_mark_it_urgent(change, charlie):
    before = snapshot(change)

    with pytest.raises(NotFound):
        services.mark_urgent(change=change, by=charlie)

    assert snapshot(change) == before


def test_an_approved_change_is_not_marked_urgent(change, alice, bob_admin, bob):
    change = approved(change, by=alice, administrator=bob_admin)
    before = snapshot(change)

    with pytest.raises(StageNotAllowed, match="not yet approved"):
        services.mark_urgent(change=change, by=bob)

    assert snapshot(change) == before


# -- the monthly report -----------------------------------------------------------------------


def test_the_report_lists_the_organisations_changes_not_yet_approved(
    alice, bob, bob_admin, charlie, published
):
    with at(MONDAY_9 - 40 * 24 * H):
        older = make_change(requester=bob, by=alice)
    waiting = awaiting_approval(make_change(requester=bob, by=alice), by=alice)
    assessing = assessed(make_change(requester=bob, by=alice), by=alice)
    approved(make_change(requester=bob, by=alice), by=alice, administrator=bob_admin)
    declined = awaiting_approval(make_change(requester=bob, by=alice), by=alice)
    services.decide(change=declined, approved=False, by=bob_admin)
    make_change(requester=charlie)  # another organisation's
    second_admin = CustomerFactory(organisation=bob.organisation, customer_role="customer_admin")
    CustomerFactory(organisation=bob.organisation, customer_role="customer_admin", is_active=False)
    published.clear()

    report = services.send_monthly_report(
        organisation=bob.organisation, month=date(2026, 12, 17), now=MONDAY_9
    )

    assert report.month == date(2026, 12, 1)
    assert report.changes == [older.number, waiting.number, assessing.number]
    assert report.recipients == [bob_admin.pk, second_admin.pk]
    assert report.created_at == MONDAY_9
    assert published == [report]


def test_a_second_report_of_the_same_month_sends_nothing(bob, bob_admin, published):
    make_change(requester=bob)
    first = services.send_monthly_report(organisation=bob.organisation, month=date(2026, 12, 1))
    published.clear()

    again = services.send_monthly_report(organisation=bob.organisation, month=date(2026, 12, 9))

    assert first is not None and again is None
    assert published == []
    assert MonthlyReport.objects.count() == 1


def test_a_report_with_nothing_to_approve_or_nobody_to_tell_is_recorded_not_sent(
    org_a, bob, published
):
    empty = services.send_monthly_report(organisation=org_a, month=date(2026, 12, 1))
    assert published == []
    make_change(requester=bob)  # organisation A has no administrator
    published.clear()
    nobody = services.send_monthly_report(organisation=org_a, month=date(2027, 1, 1))

    assert (empty.changes, empty.recipients) == ([], [])
    assert nobody.recipients == [] and len(nobody.changes) == 1
    assert published == []


@pytest.mark.parametrize(
    ("now", "zone", "month"),
    [
        (datetime(2026, 11, 30, 22, 59, tzinfo=UTC), "Europe/Oslo", date(2026, 11, 1)),
        (datetime(2026, 11, 30, 23, 0, tzinfo=UTC), "Europe/Oslo", date(2026, 12, 1)),
        (datetime(2026, 11, 30, 10, 59, tzinfo=UTC), "Pacific/Auckland", date(2026, 11, 1)),
        (datetime(2026, 11, 30, 11, 0, tzinfo=UTC), "Pacific/Auckland", date(2026, 12, 1)),
        (datetime(2026, 12, 1, 4, 59, tzinfo=UTC), "America/New_York", date(2026, 11, 1)),
        (datetime(2026, 12, 1, 5, 0, tzinfo=UTC), "America/New_York", date(2026, 12, 1)),
        (datetime(2027, 3, 31, 23, 0, tzinfo=UTC), "Europe/London", date(2027, 4, 1)),  # BST
    ],
)
def test_a_month_begins_at_midnight_on_the_1st_in_the_organisations_zone(now, zone, month):
    assert services.report_month(now, zone) == month


@pytest.fixture
def three_zones(db):
    """Three organisations, each with an administrator and a CR waiting, each with its
    November report sent."""
    organisations = {}
    for zone in ("Europe/London", "Europe/Oslo", "Pacific/Auckland"):
        organisation = OrganisationFactory(name=zone, timezone=zone)
        CustomerFactory(organisation=organisation, customer_role="customer_admin")
        make_change(requester=CustomerFactory(organisation=organisation))
        services.send_monthly_report(
            organisation=organisation,
            month=date(2026, 11, 1),
            now=datetime(2026, 11, 1, tzinfo=UTC),
        )
        organisations[zone] = organisation
    return organisations


def sent(reports):
    return sorted((r.organisation.timezone, r.month) for r in reports)


def test_the_job_sends_each_organisation_its_report_when_its_month_begins(three_zones):
    december = date(2026, 12, 1)

    before_any = services.send_due_reports(now=datetime(2026, 11, 30, 10, 0, tzinfo=UTC))
    auckland = services.send_due_reports(now=datetime(2026, 11, 30, 11, 0, tzinfo=UTC))
    auckland_again = services.send_due_reports(now=datetime(2026, 11, 30, 12, 0, tzinfo=UTC))
    oslo = services.send_due_reports(now=datetime(2026, 11, 30, 23, 0, tzinfo=UTC))
    london = services.send_due_reports(now=datetime(2026, 12, 1, 0, 0, tzinfo=UTC))
    later = services.send_due_reports(now=datetime(2026, 12, 15, 9, 0, tzinfo=UTC))

    assert before_any == []
    assert sent(auckland) == [("Pacific/Auckland", december)]
    assert auckland_again == []
    assert sent(oslo) == [("Europe/Oslo", december)]
    assert sent(london) == [("Europe/London", december)]
    assert later == []
    assert MonthlyReport.objects.filter(month=december).count() == 3
    for report in MonthlyReport.objects.filter(month=december):
        assert len(report.changes) == 1 and len(report.recipients) == 1


def test_the_job_run_twice_at_once_sends_each_report_once(three_zones, published):
    now = datetime(2026, 12, 1, 0, 0, tzinfo=UTC)

    first = services.send_due_reports(now=now)
    second = services.send_due_reports(now=now)

    assert len(first) == 3 and second == []
    assert sorted(r.pk for r in published) == sorted(r.pk for r in first)


def test_the_job_sends_a_new_organisation_its_current_months_report(db):
    organisation = OrganisationFactory(timezone="Europe/Oslo")

    reports = services.send_due_reports(now=datetime(2026, 11, 16, 9, 0, tzinfo=UTC))

    assert [(r.organisation, r.month) for r in reports] == [(organisation, date(2026, 11, 1))]
