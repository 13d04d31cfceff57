"""The desk's change request pages through HTTP (Django's test client): a ticket turned into
a CR, the CR queue, a new CR, the CR page and its sections, plan and stage moves, the CR
board and the reports. Every action through ``changes.services``; a refusal is shown with
its reason and changes nothing; customers get 404; queries do not grow with the CRs."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from servicedesk.changes import services
from servicedesk.changes.models import ChangeEvent, ChangeRequest, PlanStep
from servicedesk.changes.workflow import Stage
from servicedesk.tickets.models import Ticket
from servicedesk.tickets.workflow import Status
from tests.factories import (
    CustomerFactory,
    OrganisationFactory,
    ProductFactory,
    StaffFactory,
    VendorFactory,
    make_ticket,
)


@pytest.fixture
def desk(client, alice):
    client.force_login(alice)
    return client


def _open(organisation, requester, by, **fields) -> ChangeRequest:
    fields.setdefault("title", "Add a VAT number field to accounts")
    fields.setdefault("description", "Finance needs it on every invoice.")
    return services.open_change(organisation=organisation, requester=requester, by=by, **fields)


@pytest.fixture
def change(org_a, bob, alice) -> ChangeRequest:
    return _open(org_a, bob, alice)


def _for_approval(change: ChangeRequest, by) -> ChangeRequest:
    """Estimated and sent for approval."""
    services.move_stage(change=change, to=Stage.ASSESSMENT, by=by)
    services.update_change(change=change, by=by, chargeable=True, effort_hours=Decimal("12.5"))
    return services.move_stage(change=change, to=Stage.AWAITING_APPROVAL, by=by)


def _approved(change: ChangeRequest, by, administrator) -> ChangeRequest:
    _for_approval(change, by)
    return services.decide(change=change, approved=True, by=administrator, comment="Go ahead.")


def _messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


def _fresh(change: ChangeRequest) -> ChangeRequest:
    return ChangeRequest.objects.get(pk=change.pk)


class TestWhoMaySee:
    def test_customers_get_a_404_on_every_page(self, client, bob, change):
        client.force_login(bob)
        for path in (
            "/desk/changes/",
            "/desk/changes/new/",
            "/desk/changes/board/",
            "/desk/changes/reports/",
            f"/desk/changes/{change.number}/",
            f"/desk/changes/new/requesters/?organisation={change.organisation_id}",
        ):
            assert client.get(path).status_code == 404, path

    def test_customers_change_nothing_by_posting(self, client, bob_admin, change, ticket_a):
        client.force_login(bob_admin)  # even the organisation's administrator: not the desk
        number = change.number
        posts = {
            f"/desk/changes/{number}/edit/assessment/": {"assessment-effort_hours": "3"},
            f"/desk/changes/{number}/plan/": {"plan-TOTAL_FORMS": "0", "plan-INITIAL_FORMS": "0"},
            f"/desk/changes/{number}/stage/": {"to": "assessment"},
            f"/desk/changes/{number}/urgent/": {},
            f"/desk/changes/{number}/move/": {"to": "assessment"},
            f"/desk/tickets/{ticket_a.number}/convert/": {"scope": "standard"},
            "/desk/changes/new/": {"title": "Mine"},
        }
        for path, data in posts.items():
            assert client.post(path, data).status_code == 404, path
        assert ChangeRequest.objects.count() == 1
        assert ChangeEvent.objects.filter(change=change).count() == 1  # opened, nothing since

    def test_the_desk_asks_for_a_sign_in_and_keeps_the_page_asked_for(self, client, change):
        answer = client.get(f"/desk/changes/{change.number}/")
        assert answer["Location"] == f"/login/?next=/desk/changes/{change.number}/"

    def test_unknown_numbers_are_404_and_the_cr_form_redirects(self, desk, change):
        assert desk.get("/desk/changes/999999/").status_code == 404
        assert desk.get("/desk/changes/<script>/").status_code == 404
        assert desk.get(f"/desk/changes/SD-{change.number}/").status_code == 404
        answer = desk.get(f"/desk/changes/CR-{change.number}/")
        assert answer["Location"] == f"/desk/changes/{change.number}/"

    def test_the_desk_nav_has_change_requests(self, desk, change):
        page = desk.get("/desk/changes/").content.decode()
        assert 'href="/desk/changes/" aria-current="page">Change requests</a>' in page


class TestConvert:
    def test_a_ticket_becomes_a_cr_and_the_agent_lands_on_it(self, desk, alice, ticket_a):
        before = desk.get(f"/desk/tickets/{ticket_a.number}/").content.decode()

        answer = desk.post(
            f"/desk/tickets/{ticket_a.number}/convert/",
            {"scope": "standard", "note": "Agreed on the phone."},
            follow=True,
        )

        change = ChangeRequest.objects.get()
        assert "Turn into a change request" in before
        assert answer.redirect_chain[-1][0] == f"/desk/changes/{change.number}/"
        assert (change.ticket_id, change.scope) == (ticket_a.pk, "standard")
        assert "Agreed on the phone." in change.description
        assert Ticket.objects.get(pk=ticket_a.pk).status == Status.CLOSED
        page = answer.content.decode()
        assert f'href="/desk/tickets/{ticket_a.number}/"' in page
        assert f"Opened from ticket {ticket_a.reference}" in page
        assert any(change.reference in m for m in _messages(answer))

    def test_the_ticket_then_links_its_cr_in_page_and_history(self, desk, alice, ticket_a):
        change = services.convert_ticket(ticket=ticket_a, by=alice)

        page = desk.get(f"/desk/tickets/{ticket_a.number}/").content.decode()
        history = desk.get(f"/desk/tickets/{ticket_a.number}/history/").content.decode()

        assert f'href="/desk/changes/{change.number}/"' in page
        assert "Turn into a change request" not in page
        link = f'<a href="/desk/changes/{change.number}/">Converted to change request'
        assert f"{link} {change.reference}</a>" in history

    def test_converting_again_is_refused_with_the_reason(self, desk, alice, ticket_a):
        services.convert_ticket(ticket=ticket_a, by=alice)

        answer = desk.post(
            f"/desk/tickets/{ticket_a.number}/convert/", {"scope": "standard"}, follow=True
        )

        assert ChangeRequest.objects.count() == 1
        assert "This ticket is already a change request." in _messages(answer)

    def test_a_bad_scope_is_refused_and_converts_nothing(self, desk, ticket_a):
        answer = desk.post(
            f"/desk/tickets/{ticket_a.number}/convert/", {"scope": "everything"}, follow=True
        )
        assert not ChangeRequest.objects.exists()
        assert "Choose the change request's scope." in _messages(answer)
        assert Ticket.objects.get(pk=ticket_a.pk).status == Status.NEW


class TestQueue:
    def test_open_crs_by_default_with_the_counts_per_stage(self, desk, alice, bob, change):
        closed_one = _open(change.organisation, bob, alice, title="Old one")
        ChangeRequest.objects.filter(pk=closed_one.pk).update(stage=Stage.CLOSED)
        services.move_stage(change=change, to=Stage.ASSESSMENT, by=alice)

        answer = desk.get("/desk/changes/")

        assert [c.number for c in answer.context["page"]] == [change.number]
        counts = {key: count for key, _, count in answer.context["stages"]}
        assert counts["assessment"] == 1 and counts["closed"] == 1 and counts["requested"] == 0
        assert (answer.context["open_count"], answer.context["all_count"]) == (1, 2)
        page = answer.content.decode()
        for column in ("Organisation", "Stage", "Owner", "Urgent", "Chargeable", "Effort"):
            assert f">{column}</th>" in page
        assert "Scheduled for" in page and "Assessment" in page

    def test_filters_by_stage_organisation_owner_and_urgency(
        self, desk, alice, bob, bob_admin, charlie, change
    ):
        other = _open(charlie.organisation, charlie, alice, title="Bravo's", urgent=True)
        rejected = _open(change.organisation, bob, alice, title="Rejected")
        _for_approval(rejected, alice)
        services.decide(change=rejected, approved=False, by=bob_admin)
        vendor = VendorFactory(name="Acme CRM")
        services.update_change(change=change, by=alice, vendor=vendor)
        bea = StaffFactory(full_name="Bea Agent")
        services.update_change(change=other, by=alice, assignee=bea)

        def numbers(**query):
            return {c.number for c in desk.get("/desk/changes/", query).context["page"]}

        assert numbers() == {change.number, other.number}
        assert numbers(stage="unapproved") == {rejected.number}
        assert numbers(stage="all") == {change.number, other.number, rejected.number}
        assert numbers(organisation=charlie.organisation_id) == {other.number}
        assert numbers(owner=f"a{bea.pk}") == {other.number}
        assert numbers(owner=f"v{vendor.pk}") == {change.number}
        assert numbers(urgent="on") == {other.number}

    def test_sorted_by_the_date_requested_either_way(self, desk, alice, bob, org_a):
        with time_machine.travel(datetime(2025, 3, 1, 9, tzinfo=UTC), tick=False):
            older = _open(org_a, bob, alice, title="Older")
        newer = _open(org_a, bob, alice, title="Newer")

        default = [c.number for c in desk.get("/desk/changes/").context["page"]]
        oldest = [c.number for c in desk.get("/desk/changes/?sort=requested").context["page"]]

        assert default == [newer.number, older.number]
        assert oldest == [older.number, newer.number]
        page = desk.get("/desk/changes/?sort=requested").content.decode()
        assert 'aria-sort="ascending"' in page

    def test_pages_of_25(self, desk, alice, bob, org_a):
        for i in range(27):
            _open(org_a, bob, alice, title=f"Change {i}")

        first = desk.get("/desk/changes/")
        second = desk.get("/desk/changes/?page=2")

        assert len(first.context["page"]) == 25 and len(second.context["page"]) == 2
        assert 'rel="next"' in first.content.decode()

    def test_a_bad_filter_is_said_and_the_open_crs_are_listed(self, desk, change):
        answer = desk.get("/desk/changes/", {"stage": "nonsense", "owner": "x1"})

        assert answer.status_code == 200
        assert [c.number for c in answer.context["page"]] == [change.number]
        assert answer.context["form"].errors.keys() == {"stage", "owner"}
        assert 'class="error"' in answer.content.decode()

    def test_queries_do_not_grow_with_the_number_of_crs(self, desk, alice, org_a, bob):
        def count(url):
            with CaptureQueriesContext(connection) as queries:
                assert desk.get(url).status_code == 200
            return len(queries)

        def more(n):
            for i in range(n):
                requester = CustomerFactory()
                product = ProductFactory(vendor=VendorFactory())
                cr = _open(requester.organisation, requester, alice, product=product)
                if i % 2:
                    services.update_change(change=cr, by=alice, assignee=StaffFactory())
                if i % 3 == 0:
                    services.convert_ticket(ticket=make_ticket(requester=requester), by=alice)

        more(2)
        urls = (
            "/desk/changes/",
            "/desk/changes/?stage=all&sort=requested",
            "/desk/changes/board/",
            "/desk/changes/reports/",
        )
        for url in urls:  # settled: what the desk memoises (lists of agents…) is read once
            count(url)
        first = {url: count(url) for url in urls}
        more(12)
        assert {url: count(url) for url in urls} == first


class TestNew:
    def _form(self, organisation, requester, **fields):
        return {
            "organisation": organisation.pk,
            "requester": requester.pk,
            "title": "Quarterly dashboard",
            "description": "For the board meeting.",
            "product": "",
            "scope": "customisation",
            **fields,
        }

    def test_a_cr_is_opened_for_a_contact_of_the_organisation(self, desk, alice, bob, org_a):
        product = ProductFactory()

        answer = desk.post(
            "/desk/changes/new/",
            self._form(org_a, bob, urgent="on", product=product.pk),
            follow=True,
        )

        change = ChangeRequest.objects.get()
        assert answer.redirect_chain[-1][0] == f"/desk/changes/{change.number}/"
        assert (change.requester, change.created_by, change.product) == (bob, alice, product)
        assert change.urgent and change.stage == Stage.REQUESTED

    def test_a_requester_of_another_organisation_is_refused_and_nothing_opened(
        self, desk, org_a, charlie
    ):
        answer = desk.post("/desk/changes/new/", self._form(org_a, charlie))

        assert answer.status_code == 400
        assert not ChangeRequest.objects.exists()
        assert "among the organisation&#x27;s contacts" in answer.content.decode()

    def test_without_a_title_nothing_is_opened(self, desk, org_a, bob):
        answer = desk.post("/desk/changes/new/", self._form(org_a, bob, title=" "))
        assert answer.status_code == 400 and not ChangeRequest.objects.exists()

    def test_the_service_refusal_is_shown_as_it_is(self, desk, org_a, bob):
        answer = desk.post("/desk/changes/new/", self._form(org_a, bob, description=" \n "))
        # The form takes whitespace as empty already; the service would say the same.
        assert answer.status_code == 400 and not ChangeRequest.objects.exists()

    def test_choosing_the_organisation_lists_its_contacts(self, desk, bob, charlie, org_a):
        part = desk.get("/desk/changes/new/requesters/", {"organisation": org_a.pk})
        page = desk.get("/desk/changes/new/", {"organisation": org_a.pk})

        assert bob.email in part.content.decode() and charlie.email not in part.content.decode()
        assert "<html" not in part.content.decode()
        assert bob.email in page.content.decode()
        assert desk.get("/desk/changes/new/requesters/?organisation=999999").status_code == 404


class TestChangePage:
    def test_the_whole_record_with_its_history_in_words(self, desk, alice, bob_admin, change):
        _approved(change, alice, bob_admin)
        services.update_change(change=change, by=alice, scheduled_for=datetime(2030, 5, 2).date())

        page = desk.get(f"/desk/changes/{change.number}/").content.decode()

        for words in (
            "Effort estimate: — → 12.5 h",
            "Chargeable: not decided → yes",
            "Stage: Assessment → Awaiting approval",
            "Approval requested from the organisation&#x27;s administrator (round 1)",
            "Decision: Approved",
            "Scheduled for: — → 2 May 2030",
            "Go ahead.",
            bob_admin.display_name,
            "Opened directly",
        ):
            assert words in page, words
        assert "awaiting_approval" not in page.split('id="history"')[1]

    def test_the_history_is_in_the_readers_time_zone(self, client, alice, change):
        alice.timezone = "Asia/Tokyo"
        alice.save()
        client.force_login(alice)
        with time_machine.travel(datetime(2030, 1, 1, 23, 30, tzinfo=UTC), tick=False):
            services.update_change(change=change, by=alice, effort_hours=3)

        page = client.get(f"/desk/changes/{change.number}/").content.decode()

        assert "2 Jan 08:30" in page  # 23:30 UTC is 08:30 the next day in Tokyo

    def test_dates_show_in_the_date_fields_whatever_the_language(self, client, alice, change):
        alice.language = "fr"
        alice.save()
        client.force_login(alice)
        services.update_change(change=change, by=alice, scheduled_for=datetime(2030, 5, 2).date())

        page = client.get(f"/desk/changes/{change.number}/").content.decode()
        saved = client.post(
            f"/desk/changes/{change.number}/edit/schedule/",
            {"schedule-scheduled_for": "2030-06-01"},
        )

        assert 'type="date" name="schedule-scheduled_for" value="2030-05-02"' in page
        assert saved.status_code == 302
        assert _fresh(change).scheduled_for.isoformat() == "2030-06-01"

    def test_a_section_is_saved_through_update_change(self, desk, change):
        answer = desk.post(
            f"/desk/changes/{change.number}/edit/assessment/",
            {
                "assessment-chargeable": "no",
                "assessment-effort_hours": "7.5",
                "assessment-feasibility": "Easy.",
                "assessment-impact": "",
                "assessment-risk": "Low",
                "assessment-resources": "",
            },
        )

        change = _fresh(change)
        assert answer["Location"] == f"/desk/changes/{change.number}/#assessment"
        assert (change.chargeable, change.effort_hours) == (False, Decimal("7.5"))
        assert (change.feasibility, change.risk) == ("Easy.", "Low")
        fields = set(ChangeEvent.objects.filter(change=change).values_list("field", flat=True))
        assert fields == {"", "chargeable", "effort_hours", "feasibility", "risk"}

    @pytest.mark.parametrize("effort", ["-3", "abc", "99999999"])
    def test_a_bad_estimate_is_refused_and_changes_nothing(self, desk, change, effort):
        answer = desk.post(
            f"/desk/changes/{change.number}/edit/assessment/",
            {"assessment-effort_hours": effort, "assessment-chargeable": "yes"},
        )

        assert answer.status_code == 400
        assert _fresh(change).effort_hours is None and _fresh(change).chargeable is None
        assert 'class="errorlist' in answer.content.decode()
        assert answer.context["sections"]["assessment"]["open"]

    def test_the_estimate_is_held_while_the_administrator_decides(self, desk, alice, change):
        _for_approval(change, alice)

        answer = desk.post(
            f"/desk/changes/{change.number}/edit/assessment/",
            {"assessment-effort_hours": "40", "assessment-chargeable": "yes"},
        )

        assert answer.status_code == 409
        assert _fresh(change).effort_hours == Decimal("12.5")
        assert "take the change request back to assessment" in answer.content.decode()

    def test_the_owner_is_an_agent_or_a_vendor(self, desk, change):
        bea, vendor = StaffFactory(full_name="Bea Agent"), VendorFactory()

        desk.post(
            f"/desk/changes/{change.number}/edit/owner/",
            {"owner-assignee": bea.pk, "owner-vendor": vendor.pk},
        )
        refused = desk.post(
            f"/desk/changes/{change.number}/edit/owner/", {"owner-assignee": change.requester_id}
        )

        assert (_fresh(change).assignee, _fresh(change).vendor) == (bea, vendor)
        assert refused.status_code == 400
        assert desk.post(f"/desk/changes/{change.number}/edit/nonsense/").status_code == 404

    def test_the_plan_is_added_to_edited_and_removed_from(self, desk, alice, change):
        def post(rows, initial):
            data = {"plan-TOTAL_FORMS": str(len(rows)), "plan-INITIAL_FORMS": str(initial)}
            for i, row in enumerate(rows):
                data.update({f"plan-{i}-{key}": value for key, value in row.items()})
            return desk.post(f"/desk/changes/{change.number}/plan/", data)

        post(
            [
                {"description": "Build", "due_on": "2030-01-10", "responsible": "Erik"},
                {"description": "Test", "responsible": "Customer"},
                {"description": ""},  # an empty row: no step
            ],
            initial=0,
        )
        first = list(PlanStep.objects.filter(change=change).values_list("description", "done"))
        post(
            [
                {"description": "Build", "due_on": "2030-01-10", "done": "on"},
                {"description": "Test", "remove": "on"},
                {"description": "Go live", "due_on": "2030-01-20"},
            ],
            initial=2,
        )

        assert first == [("Build", False), ("Test", False)]
        steps = list(PlanStep.objects.filter(change=change).order_by("position"))
        assert [(s.position, s.description, s.done) for s in steps] == [
            (1, "Build", True),
            (2, "Go live", False),
        ]
        page = desk.get(f"/desk/changes/{change.number}/").content.decode()
        assert "Implementation plan: 2 steps → 2 steps" in page and "Go live" in page

    def test_a_step_without_a_description_is_refused_and_the_plan_kept(self, desk, change):
        answer = desk.post(
            f"/desk/changes/{change.number}/plan/",
            {
                "plan-TOTAL_FORMS": "1",
                "plan-INITIAL_FORMS": "0",
                "plan-0-description": "",
                "plan-0-responsible": "Erik",
            },
        )
        assert answer.status_code == 400
        assert "A step needs a description." in answer.content.decode()
        assert not PlanStep.objects.exists()

    def test_the_moves_offered_are_the_allowed_ones_and_the_held_say_why(self, desk, alice, change):
        services.move_stage(change=change, to=Stage.ASSESSMENT, by=alice)

        answer = desk.get(f"/desk/changes/{change.number}/")

        assert answer.context["allowed"] == []
        (held,) = answer.context["held"]
        assert held[0] == "Awaiting approval" and "effort estimate" in held[1]

    def test_a_stage_move_goes_through_move_stage(self, desk, change):
        answer = desk.post(
            f"/desk/changes/{change.number}/stage/", {"to": "assessment", "reason": "Looking"}
        )

        assert answer.status_code == 302
        assert _fresh(change).stage == Stage.ASSESSMENT
        event = ChangeEvent.objects.get(change=change, field="stage")
        assert (event.old, event.new, event.reason) == ("requested", "assessment", "Looking")

    @pytest.mark.parametrize(
        ("to", "reason"),
        [
            ("approved", "cannot move from Requested to Approved (scheduled)"),
            ("closed", "cannot move from Requested to Closed"),
            ("everywhere", "Choose a stage."),
        ],
    )
    def test_a_forced_refused_move_says_why_and_changes_nothing(self, desk, change, to, reason):
        answer = desk.post(f"/desk/changes/{change.number}/stage/", {"to": to})

        assert answer.status_code in (400, 409)
        assert any(reason in m for m in _messages(answer)), _messages(answer)
        assert _fresh(change).stage == Stage.REQUESTED
        assert ChangeEvent.objects.filter(change=change).count() == 1

    def test_the_approval_waits_for_the_administrator_then_shows_the_decision(
        self, desk, alice, bob_admin, change
    ):
        _for_approval(change, alice)
        waiting = desk.get(f"/desk/changes/{change.number}/").content.decode()
        services.decide(change=change, approved=False, by=bob_admin, comment="Too dear.")
        decided = desk.get(f"/desk/changes/{change.number}/").content.decode()

        assert "Awaiting the administrator's decision." in waiting
        assert bob_admin.email in waiting
        assert "Not approved" in decided and "Too dear." in decided
        assert "Awaiting the administrator" not in decided

    def test_staff_cannot_approve_for_the_administrator(self, desk, alice, change):
        _for_approval(change, alice)

        answer = desk.post(f"/desk/changes/{change.number}/stage/", {"to": "approved"})

        assert answer.status_code == 409
        assert "Only the organisation's administrator approves" in _messages(answer)[0]
        assert _fresh(change).stage == Stage.AWAITING_APPROVAL and not _fresh(change).decision

    def test_an_organisation_without_an_administrator_is_told(self, desk, alice, change):
        _for_approval(change, alice)
        page = desk.get(f"/desk/changes/{change.number}/").content.decode()
        assert "has no customer administrator" in page

    def test_marked_urgent_from_the_page(self, desk, change):
        desk.post(f"/desk/changes/{change.number}/urgent/")
        assert _fresh(change).urgent
        page = desk.get(f"/desk/changes/{change.number}/").content.decode()
        assert "Marked urgent" in page

    def test_the_page_reads_a_fixed_number_of_times(self, desk, alice, bob_admin, change):
        def count():
            with CaptureQueriesContext(connection) as queries:
                assert desk.get(f"/desk/changes/{change.number}/").status_code == 200
            return len(queries)

        count()  # settled: what the desk memoises is read once
        first = count()
        _approved(change, alice, bob_admin)
        steps = [services.Step(f"Step {i}", responsible=f"P{i}") for i in range(6)]
        services.set_plan(change=change, steps=steps, by=alice)
        assert count() == first


class TestBoard:
    def test_crs_in_columns_by_stage_with_their_own_moves(self, desk, alice, bob_admin, change):
        other = _open(change.organisation, change.requester, alice, title="Other")
        _approved(other, alice, bob_admin)

        columns = {c["status"]: c for c in desk.get("/desk/changes/board/").context["columns"]}

        ((card, moves),) = columns["requested"]["cards"]
        assert card == change and moves == [Stage.ASSESSMENT]
        ((card, moves),) = columns["approved"]["cards"]
        assert card == other and moves == [Stage.TESTING, Stage.IMPLEMENTATION]
        page = desk.get("/desk/changes/board/").content.decode()
        assert f'data-move="/desk/changes/{change.number}/move/"' in page
        assert f"Move {change.reference} to…" in page

    def test_a_move_by_script_answers_204_or_409_with_the_reason(self, desk, change):
        moved = desk.post(
            f"/desk/changes/{change.number}/move/",
            {"to": "assessment"},
            HTTP_X_REQUESTED_WITH="fetch",
        )
        refused = desk.post(
            f"/desk/changes/{change.number}/move/",
            {"to": "awaiting_approval"},
            HTTP_X_REQUESTED_WITH="fetch",
        )

        assert moved.status_code == 204 and _fresh(change).stage == Stage.ASSESSMENT
        assert refused.status_code == 409
        assert "effort estimate" in refused.content.decode()
        assert _fresh(change).stage == Stage.ASSESSMENT

    def test_the_menu_moves_without_script_and_keeps_the_filters(self, desk, change):
        back = f"/desk/changes/board/?organisation={change.organisation_id}"
        answer = desk.post(
            f"/desk/changes/{change.number}/move/", {"to": "assessment", "back": back}
        )
        assert answer["Location"] == back
        assert _fresh(change).stage == Stage.ASSESSMENT
        elsewhere = desk.post(
            f"/desk/changes/{change.number}/move/",
            {"to": "requested", "back": "https://x.example/"},
        )
        assert elsewhere["Location"] == "/desk/changes/board/"

    def test_the_boards_switch_between_tickets_and_crs(self, desk, ticket_a):
        tickets = desk.get("/desk/board/").content.decode()
        changes = desk.get("/desk/changes/board/").content.decode()

        assert 'href="/desk/changes/board/">Change requests</a>' in tickets
        assert 'href="/desk/board/" aria-current="page">Tickets</a>' in tickets
        assert 'href="/desk/changes/board/" aria-current="page">Change requests</a>' in changes
        assert f'data-move="/desk/board/{ticket_a.number}/move/"' in tickets

    def test_the_closed_column_shows_the_recently_closed(self, desk, alice, bob, org_a):
        recent, old = _open(org_a, bob, alice), _open(org_a, bob, alice)
        now = datetime.now(UTC)
        ChangeRequest.objects.filter(pk=recent.pk).update(stage="closed", closed_at=now)
        ChangeRequest.objects.filter(pk=old.pk).update(
            stage="closed", closed_at=now - timedelta(days=60)
        )

        columns = {c["status"]: c for c in desk.get("/desk/changes/board/").context["columns"]}

        assert [card for card, _ in columns["closed"]["cards"]] == [recent]


class TestReports:
    def test_counts_by_stage_and_the_approval_lead_time(self, desk, alice, bob_admin, org_a, bob):
        quick, slow = _open(org_a, bob, alice), _open(org_a, bob, alice)
        _open(org_a, bob, alice)
        for change, hours in ((quick, 2), (slow, 10)):
            with time_machine.travel(datetime(2030, 1, 7, 9, tzinfo=UTC), tick=False):
                _for_approval(change, alice)
            with time_machine.travel(datetime(2030, 1, 7, 9 + hours, tzinfo=UTC), tick=False):
                services.decide(change=change, approved=True, by=bob_admin)

        answer = desk.get("/desk/changes/reports/")

        bars = {bar.stage: bar for bar in answer.context["bars"]}
        assert (bars["approved"].count, bars["approved"].width) == (2, 100)
        assert (bars["requested"].count, bars["requested"].width) == (1, 50)
        assert bars["closed"].width == 0
        lead = answer.context["lead"]
        assert (lead.decisions, lead.median_hours, lead.longest_hours) == (2, 6.0, 10.0)
        page = answer.content.decode()
        assert "6.0 h" in page and "10.0 h" in page
        assert 'class="chart-bar w-100"' in page and "style=" not in page

    def test_filtered_by_organisation_and_period(self, desk, alice, bob, charlie, org_a):
        with time_machine.travel(datetime(2030, 1, 10, 12, tzinfo=UTC), tick=False):
            january = _open(org_a, bob, alice)
        with time_machine.travel(datetime(2030, 2, 10, 12, tzinfo=UTC), tick=False):
            _open(org_a, bob, alice)
            _open(charlie.organisation, charlie, alice)

        def total(**query):
            return desk.get("/desk/changes/reports/", query).context["total"]

        assert total() == 3
        assert total(organisation=org_a.pk) == 2
        assert total(since="2030-01-01", until="2030-01-31") == 1
        assert total(since="2030-02-01") == 2
        assert total(until="2030-01-10") == 1  # the day itself counts
        assert january.requested_at.date().isoformat() == "2030-01-10"

    def test_a_period_that_ends_before_it_begins_is_said(self, desk, change):
        answer = desk.get("/desk/changes/reports/", {"since": "2030-02-01", "until": "2030-01-01"})
        assert answer.status_code == 200
        assert "The period ends before it begins." in answer.content.decode()
        assert answer.context["total"] == 1  # the filter is not applied


def test_an_unrelated_organisations_crs_show_on_the_desk(desk, alice):
    """Staff see every organisation's CRs (visible_to): nothing is hidden from the desk."""
    requester = CustomerFactory(organisation=OrganisationFactory(name="Charlie Co"))
    change = _open(requester.organisation, requester, alice)
    assert desk.get(f"/desk/changes/{change.number}/").status_code == 200
