"""The customer's change requests in the portal (issue 16): the list, a CR's page and its
history in the reader's words and time zone, the administrator's decision (and nobody
else's), marking urgent, requesting a change, the Change Request Update report page; another
organisation's CR is a 404 by every path; each page's statements do not grow with its rows."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from servicedesk.accounts.models import CustomerRole
from servicedesk.changes import services
from servicedesk.changes.models import ChangeEvent, ChangeEventKind, ChangeRequest
from servicedesk.changes.services import Step
from servicedesk.changes.workflow import Stage
from tests.factories import CustomerFactory, ProductFactory, make_ticket

TUESDAY = datetime(2026, 11, 3, 12, 30, tzinfo=UTC)


def _open(requester, **fields) -> ChangeRequest:
    fields.setdefault("title", "A field for the contract end date")
    fields.setdefault("description", "Sales want to see when each contract ends.")
    return services.open_change(
        organisation=requester.organisation, requester=requester, by=requester, **fields
    )


def _awaiting(change: ChangeRequest, staff, *, hours: str = "12.5") -> ChangeRequest:
    """Assessed (estimate, chargeable) and sent to the administrators for their decision."""
    change = services.move_stage(change=change, to=Stage.ASSESSMENT, by=staff)
    change = services.update_change(
        change=change, by=staff, effort_hours=Decimal(hours), chargeable=True
    )
    return services.move_stage(change=change, to=Stage.AWAITING_APPROVAL, by=staff)


def _fresh(change: ChangeRequest) -> ChangeRequest:
    return ChangeRequest.objects.get(pk=change.pk)


def _events(change: ChangeRequest) -> list[int]:
    return list(ChangeEvent.objects.filter(change=change).values_list("pk", flat=True))


def _messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


def _text(response) -> str:
    return response.content.decode()


def _decision(change: ChangeRequest, decision: str = "approve", **more) -> dict:
    return {"decision": decision, "approval_round": change.approval_round, **more}


@pytest.fixture
def dora(org_a):
    """Another end user of organisation A: bob's colleague."""
    return CustomerFactory(
        email="dora@alpha.example", full_name="Dora Colleague", organisation=org_a
    )


@pytest.fixture
def lena(org_a):
    """Organisation A's designated logger: sees all of A's CRs, decides none."""
    return CustomerFactory(
        email="lena@alpha.example",
        full_name="Lena Logger",
        organisation=org_a,
        customer_role=CustomerRole.LOGGER,
    )


@pytest.fixture
def admin_b(org_b):
    return CustomerFactory(
        email="admin@bravo.example", organisation=org_b, customer_role=CustomerRole.CUSTOMER_ADMIN
    )


@pytest.fixture
def change_a(bob):
    """A CR of organisation A, requested by bob (an end user)."""
    return _open(bob)


@pytest.fixture
def awaiting_a(change_a, alice):
    return _awaiting(change_a, alice)


class TestVisibility:
    def test_a_visitor_is_asked_to_sign_in(self, client):
        answer = client.get("/portal/changes/")

        assert (answer.status_code, answer["Location"]) == (302, "/login/?next=/portal/changes/")

    def test_staff_have_the_desk_not_the_portal(self, client, alice, change_a):
        client.force_login(alice)

        assert client.get("/portal/changes/").status_code == 404
        assert client.get(f"/portal/changes/{change_a.number}/").status_code == 404

    def test_the_list_shows_the_organisations_change_requests_and_not_anothers(
        self, client, bob_admin, change_a, charlie
    ):
        other = _open(charlie, title="Bravo's own change")
        client.force_login(bob_admin)

        page = _text(client.get("/portal/changes/"))

        assert change_a.reference in page and change_a.title in page
        assert other.reference not in page and "Bravo's own change" not in page

    def test_an_end_user_sees_their_own_change_requests_not_a_colleagues(
        self, client, bob, dora, change_a
    ):
        colleagues = _open(dora, title="Dora's dashboard")
        client.force_login(bob)

        page = _text(client.get("/portal/changes/"))

        assert change_a.reference in page
        assert "Dora's dashboard" not in page
        assert client.get(f"/portal/changes/{colleagues.number}/").status_code == 404

    def test_another_organisations_change_request_is_not_found_by_every_path(
        self, client, charlie, admin_b, awaiting_a
    ):
        before = _events(awaiting_a)
        n = awaiting_a.number

        for person in (charlie, admin_b):
            client.force_login(person)
            answers = [
                client.get(f"/portal/changes/{n}/"),
                client.get(f"/portal/changes/CR-{n}/"),
                client.post(f"/portal/changes/{n}/decision/", _decision(awaiting_a)),
                client.post(f"/portal/changes/{n}/urgent/"),
            ]
            assert [a.status_code for a in answers] == [404] * 4

        assert _events(awaiting_a) == before
        assert _fresh(awaiting_a).stage == Stage.AWAITING_APPROVAL
        assert not _fresh(awaiting_a).urgent

    def test_a_change_request_reference_leads_to_its_page(self, client, bob, change_a):
        client.force_login(bob)

        answer = client.get(f"/portal/changes/cr-{change_a.number}/")

        assert answer["Location"] == f"/portal/changes/{change_a.number}/"

    @pytest.mark.parametrize("number", ["abc", "0", "SD-1", "99999999"])
    def test_no_such_change_request_is_a_404(self, client, bob, change_a, number):
        client.force_login(bob)

        assert client.get(f"/portal/changes/{number}/").status_code == 404

    def test_the_navigation_has_change_requests(self, client, bob):
        client.force_login(bob)

        page = _text(client.get("/portal/"))

        assert 'href="/portal/changes/"' in page and "Change requests" in page


class TestList:
    def test_an_administrator_sees_what_awaits_their_decision_first(
        self, client, bob_admin, alice, bob
    ):
        waiting = _awaiting(_open(bob, title="Awaiting one"), alice)
        _open(bob, title="Just requested")
        client.force_login(bob_admin)

        answer = client.get("/portal/changes/")

        assert [c.number for c in answer.context["awaiting"]] == [waiting.number]
        page = _text(answer)
        assert page.index("Awaiting your decision") < page.index("Just requested")
        assert "12.5 h" in page and "Awaiting approval" in page

    def test_others_have_no_awaiting_section(self, client, lena, awaiting_a):
        client.force_login(lena)

        answer = client.get("/portal/changes/")

        assert answer.context["awaiting"] == []
        assert "Awaiting your decision" not in _text(answer)
        assert awaiting_a.reference in _text(answer)

    def test_the_stage_filter_narrows_the_list(self, client, bob, awaiting_a):
        requested = _open(bob, title="Still requested")
        client.force_login(bob)

        answer = client.get("/portal/changes/?stage=requested")

        assert [c.number for c in answer.context["page"].object_list] == [requested.number]

    def test_a_bad_filter_shows_everything_and_says_nothing_broke(self, client, bob, change_a):
        client.force_login(bob)

        answer = client.get("/portal/changes/?stage=nonsense&page=x")

        assert answer.status_code == 200
        assert [c.number for c in answer.context["page"].object_list] == [change_a.number]


class TestPage:
    def test_it_shows_what_the_customer_may_see_and_not_the_internal_notes(
        self, client, bob, alice, change_a
    ):
        change = services.update_change(
            change=change_a,
            by=alice,
            impact="The companies form gets one more field.",
            risk="None for existing reports.",
            feasibility="Needs a migration of the CRM schema by our team.",
            resources="Two days of Pierre's time.",
            lessons_learned="Estimate migrations higher.",
            scheduled_for=date(2026, 12, 1),
        )
        services.set_plan(
            change=change, steps=[Step("Add the field", responsible="Pierre")], by=alice
        )
        client.force_login(bob)

        page = _text(client.get(f"/portal/changes/{change.number}/"))

        assert change.title in page and "Sales want to see when each contract ends." in page
        assert "The companies form gets one more field." in page
        assert "None for existing reports." in page and "Add the field" in page
        assert "Not decided yet" in page and "Not estimated yet" in page
        assert "Tuesday 1 December 2026" in page
        for internal in ("Needs a migration", "Two days of Pierre", "Estimate migrations"):
            assert internal not in page

    def test_the_history_is_in_words_in_the_readers_time_zone(self, client, bob_admin, alice, bob):
        bob_admin.timezone = "Europe/Oslo"
        bob_admin.save(update_fields=["timezone"])
        with time_machine.travel(TUESDAY, tick=False):
            change = services.move_stage(
                change=_open(bob), to=Stage.ASSESSMENT, by=alice, reason="Internal: Pierre is on it"
            )
            services.update_change(
                change=change, by=alice, effort_hours=Decimal("8"), feasibility="Internal note"
            )
        client.force_login(bob_admin)

        answer = client.get(f"/portal/changes/{change.number}/")

        lines = [(line.what, line.at) for line in answer.context["history"]]
        assert [what for what, _at in lines] == [
            "Change request opened",
            "Stage: Requested → Assessment",
            "Effort estimate: Not estimated yet → 8.0 h",
        ]
        page = _text(answer)
        assert "3 Nov 2026 13:30" in page  # 12:30 UTC, in Oslo
        assert "Internal: Pierre is on it" not in page and "Internal note" not in page
        assert "assessment</" not in page and "effort_hours" not in page

    def test_the_ticket_it_came_from_is_linked_when_the_customer_may_see_it(
        self, client, bob, alice
    ):
        ticket = make_ticket(requester=bob, subject="Can we have a contract end field?")
        change = services.convert_ticket(ticket=ticket, by=alice)
        client.force_login(bob)

        answer = client.get(f"/portal/changes/{change.number}/")

        assert f'href="/portal/tickets/{ticket.number}/"' in _text(answer)
        assert f"Opened from ticket {ticket.reference}" in _text(answer)

    def test_it_speaks_the_readers_language(self, client, bob, change_a):
        bob.language = "fr"
        bob.save(update_fields=["language"])
        client.force_login(bob)

        page = _text(client.get(f"/portal/changes/{change_a.number}/"))

        assert '<html lang="fr">' in page


class TestDecision:
    def test_the_administrator_approves_with_a_comment(self, client, bob_admin, awaiting_a):
        client.force_login(bob_admin)
        page = _text(client.get(f"/portal/changes/{awaiting_a.number}/"))
        assert 'value="approve"' in page and 'value="unapprove"' in page

        answer = client.post(
            f"/portal/changes/{awaiting_a.number}/decision/",
            _decision(awaiting_a, comment="Go ahead before the year end."),
            follow=True,
        )

        change = _fresh(awaiting_a)
        assert (change.stage, change.decided_by, change.decision_comment) == (
            Stage.APPROVED,
            bob_admin,
            "Go ahead before the year end.",
        )
        assert answer.redirect_chain[-1][0] == f"/portal/changes/{change.number}/"
        assert _messages(answer) == [
            f"You approved {change.reference}: we will schedule it and tell you when."
        ]
        assert [line.what for line in answer.context["history"]][-1] == "Approved"
        assert answer.context["history"][-1].comment == "Go ahead before the year end."
        assert 'value="approve"' not in _text(answer)

    def test_the_administrator_does_not_approve(self, client, bob_admin, awaiting_a):
        client.force_login(bob_admin)

        client.post(
            f"/portal/changes/{awaiting_a.number}/decision/",
            _decision(awaiting_a, "unapprove", comment="Not this year."),
        )

        change = _fresh(awaiting_a)
        assert (change.stage, change.decision) == (Stage.UNAPPROVED, "unapproved")

    @pytest.mark.parametrize("who", ["lena", "bob"])
    def test_a_logger_or_an_end_user_cannot_decide_and_is_told_why(
        self, client, request, who, awaiting_a
    ):
        person = request.getfixturevalue(who)
        client.force_login(person)
        before = _events(awaiting_a)
        page = _text(client.get(f"/portal/changes/{awaiting_a.number}/"))
        assert 'value="approve"' not in page
        assert "Awaiting your administrator’s decision" in page

        answer = client.post(
            f"/portal/changes/{awaiting_a.number}/decision/", _decision(awaiting_a)
        )

        assert answer.status_code == 403
        assert "Only the organisation&#x27;s administrator approves a change request." in _text(
            answer
        )
        assert _fresh(awaiting_a).stage == Stage.AWAITING_APPROVAL
        assert _events(awaiting_a) == before

    def test_the_waiting_page_names_the_administrators(self, client, lena, bob_admin, awaiting_a):
        client.force_login(lena)

        page = _text(client.get(f"/portal/changes/{awaiting_a.number}/"))

        assert bob_admin.display_name in page

    def test_a_decision_on_an_estimate_since_revised_is_refused(
        self, client, bob_admin, alice, awaiting_a
    ):
        stale = awaiting_a.approval_round
        change = services.move_stage(change=awaiting_a, to=Stage.ASSESSMENT, by=alice)
        change = services.update_change(change=change, by=alice, effort_hours=Decimal("40"))
        change = services.move_stage(change=change, to=Stage.AWAITING_APPROVAL, by=alice)
        client.force_login(bob_admin)

        answer = client.post(
            f"/portal/changes/{change.number}/decision/",
            {"decision": "approve", "approval_round": stale},
        )

        assert answer.status_code == 409
        assert "not awaiting your decision any more" in _text(answer)
        assert _fresh(change).stage == Stage.AWAITING_APPROVAL

    def test_nothing_to_decide_before_the_desk_asks(self, client, bob_admin, change_a):
        client.force_login(bob_admin)

        answer = client.post(
            f"/portal/changes/{change_a.number}/decision/",
            {"decision": "approve", "approval_round": 1},
        )

        assert answer.status_code == 409
        assert _fresh(change_a).stage == Stage.REQUESTED

    @pytest.mark.parametrize(
        "data",
        [
            {"decision": "maybe", "approval_round": 1},
            {"approval_round": 1},
            {"decision": "approve"},
            {"decision": "approve", "approval_round": "one"},
            {"decision": "approve", "approval_round": 1, "comment": "x" * 5001},
        ],
    )
    def test_bad_input_is_refused_and_changes_nothing(self, client, bob_admin, awaiting_a, data):
        client.force_login(bob_admin)
        before = _events(awaiting_a)

        answer = client.post(f"/portal/changes/{awaiting_a.number}/decision/", data)

        assert answer.status_code == 400
        assert 'class="error"' in _text(answer)
        assert _events(awaiting_a) == before

    def test_the_decision_is_a_post_with_csrf(self, bob_admin, awaiting_a):
        from django.test import Client

        strict = Client(enforce_csrf_checks=True)
        strict.force_login(bob_admin)

        assert strict.get(f"/portal/changes/{awaiting_a.number}/decision/").status_code == 405
        refused = strict.post(
            f"/portal/changes/{awaiting_a.number}/decision/", _decision(awaiting_a)
        )
        assert refused.status_code == 403
        assert _fresh(awaiting_a).stage == Stage.AWAITING_APPROVAL


class TestUrgent:
    def test_any_customer_who_sees_it_marks_it_urgent(self, client, bob, change_a):
        client.force_login(bob)

        answer = client.post(f"/portal/changes/{change_a.number}/urgent/", follow=True)

        assert _fresh(change_a).urgent
        assert ChangeEvent.objects.filter(change=change_a, kind=ChangeEventKind.URGENT).count() == 1
        assert _messages(answer) == [
            f"{change_a.reference} is marked urgent: your administrators are asked for their "
            "decision."
        ]
        assert "Marked urgent" in [line.what for line in answer.context["history"]]
        assert f'action="/portal/changes/{change_a.number}/urgent/"' not in _text(answer)

    def test_an_approved_change_request_is_not_marked_urgent(
        self, client, bob, bob_admin, awaiting_a
    ):
        services.decide(change=awaiting_a, approved=True, by=bob_admin)
        client.force_login(bob)
        assert "/urgent/" not in _text(client.get(f"/portal/changes/{awaiting_a.number}/"))

        answer = client.post(f"/portal/changes/{awaiting_a.number}/urgent/")

        assert answer.status_code == 409
        assert "Only a change request not yet approved can be marked urgent." in _text(answer)
        assert not _fresh(awaiting_a).urgent

    def test_marking_urgent_is_a_post(self, client, bob, change_a):
        client.force_login(bob)

        assert client.get(f"/portal/changes/{change_a.number}/urgent/").status_code == 405


class TestNewChange:
    def test_a_customer_requests_a_change_for_their_organisation(self, client, bob, org_a):
        product = ProductFactory(name="OpenCRM")
        client.force_login(bob)
        assert client.get("/portal/changes/new/").status_code == 200

        answer = client.post(
            "/portal/changes/new/",
            {
                "title": "  A VAT number field ",
                "description": "For invoices to EU companies.",
                "product": product.pk,
                "urgent": "on",
            },
            follow=True,
        )

        change = ChangeRequest.objects.get()
        assert (change.organisation, change.requester, change.product, change.urgent) == (
            org_a,
            bob,
            product,
            True,
        )
        assert change.title == "A VAT number field"
        assert answer.redirect_chain[-1][0] == f"/portal/changes/{change.number}/"
        assert change.reference in _messages(answer)[0]
        kinds = list(ChangeEvent.objects.filter(change=change).values_list("kind", flat=True))
        assert kinds == [ChangeEventKind.CREATED, ChangeEventKind.URGENT]

    @pytest.mark.parametrize(
        "data",
        [
            {"title": "", "description": "Something"},
            {"title": "A title", "description": "   "},
            {"title": "x" * 251, "description": "Something"},
            {"title": "A title", "description": "Something", "product": "999999"},
        ],
    )
    def test_bad_input_gets_a_form_error_and_opens_nothing(self, client, bob, data):
        client.force_login(bob)

        answer = client.post("/portal/changes/new/", data)

        assert answer.status_code == 400
        assert "Please correct the fields marked below." in _text(answer) or "needs" in _text(
            answer
        )
        assert not ChangeRequest.objects.exists()

    def test_a_customer_without_an_organisation_is_told_why_not(self, client, db):
        loner = CustomerFactory(email="loner@example.com", organisation=None)
        client.force_login(loner)

        shown = client.get("/portal/changes/new/")
        sent = client.post("/portal/changes/new/", {"title": "T", "description": "D"})

        assert shown.status_code == 200 and sent.status_code == 400
        assert "belongs to no organisation" in _text(shown)
        assert 'name="title"' not in _text(shown)
        assert not ChangeRequest.objects.exists()


class TestReport:
    def test_the_administrator_sees_the_current_report_with_the_decision_buttons(
        self, client, bob_admin, alice, bob, charlie
    ):
        with time_machine.travel(TUESDAY, tick=False):
            older = _awaiting(_open(bob, title="Older request"), alice)
        newer = _open(bob, title="Newer request")
        done = _awaiting(_open(bob, title="Already approved"), alice)
        services.decide(change=done, approved=True, by=bob_admin)
        _open(charlie, title="Another organisation's")
        client.force_login(bob_admin)

        answer = client.get("/portal/changes/report/")

        rows = answer.context["rows"]
        assert [row["change"].number for row in rows] == [older.number, newer.number]
        assert [row["can_decide"] for row in rows] == [True, False]
        page = _text(answer)
        assert page.count('value="approve"') == 1
        assert "Already approved" not in page and "Another organisation" not in page
        assert "Sales want to see when each contract ends." in page

    def test_a_decision_from_the_report_comes_back_to_it(self, client, bob_admin, awaiting_a):
        client.force_login(bob_admin)

        answer = client.post(
            f"/portal/changes/{awaiting_a.number}/decision/",
            _decision(awaiting_a, back="report"),
        )

        assert answer["Location"] == "/portal/changes/report/"
        assert _fresh(awaiting_a).stage == Stage.APPROVED

    def test_a_logger_reads_the_report_without_buttons(self, client, lena, awaiting_a):
        client.force_login(lena)

        answer = client.get("/portal/changes/report/")

        assert answer.status_code == 200
        assert awaiting_a.reference in _text(answer)
        assert 'value="approve"' not in _text(answer)

    def test_end_users_and_staff_have_no_report(self, client, bob, alice, awaiting_a):
        for person in (bob, alice):
            client.force_login(person)
            assert client.get("/portal/changes/report/").status_code == 404

    def test_a_recorded_month_shows_the_change_requests_it_listed(
        self, client, bob_admin, alice, bob, org_a
    ):
        listed = _awaiting(_open(bob, title="Listed in November"), alice)
        services.send_monthly_report(organisation=org_a, month=date(2026, 11, 1), now=TUESDAY)
        services.decide(change=listed, approved=True, by=bob_admin)
        _open(bob, title="Requested after the report")
        client.force_login(bob_admin)

        answer = client.get("/portal/changes/report/?month=2026-11")

        assert answer.status_code == 200
        assert [row["change"].number for row in answer.context["rows"]] == [listed.number]
        page = _text(answer)
        assert "Requested after the report" not in page
        assert "Approved (scheduled)" in page and 'value="approve"' not in page
        assert '<option value="2026-11" selected>' in page
        assert (
            "The report of November 2026, sent on 3 November 2026, 12:30 to 1 administrator."
            in page
        )

    def test_a_month_without_a_report_says_so(self, client, bob_admin, awaiting_a):
        client.force_login(bob_admin)

        answer = client.get("/portal/changes/report/?month=2025-01")

        assert answer.status_code == 404
        assert "No report was sent for January 2025." in _text(answer)

    @pytest.mark.parametrize("month", ["2026-13", "2026-1", "November", "2026-11-01"])
    def test_a_bad_month_is_a_clear_400(self, client, bob_admin, month):
        client.force_login(bob_admin)

        answer = client.get(f"/portal/changes/report/?month={month}")

        assert answer.status_code == 400
        assert "That is not a month" in _text(answer)


def _statements(client, path: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        answer = client.get(path)
    assert answer.status_code == 200
    return len(captured)


class TestQueryCounts:
    def test_the_list_costs_the_same_for_one_and_for_many(self, client, bob_admin, bob, alice):
        _awaiting(_open(bob), alice)
        _open(bob)
        client.force_login(bob_admin)
        few = _statements(client, "/portal/changes/")

        for _n in range(4):
            _awaiting(_open(bob), alice)
            _open(CustomerFactory(organisation=bob.organisation))

        assert _statements(client, "/portal/changes/") == few

    def test_a_change_request_page_costs_the_same_however_long_its_history(
        self, client, bob_admin, alice, bob
    ):
        short = _open(bob)
        long = _awaiting(_open(bob), alice)
        services.set_plan(
            change=long, steps=[Step(f"Step {n}", responsible="Pierre") for n in range(5)], by=alice
        )
        services.mark_urgent(change=long, by=bob)
        client.force_login(bob_admin)

        assert _statements(client, f"/portal/changes/{long.number}/") == _statements(
            client, f"/portal/changes/{short.number}/"
        )

    def test_the_report_costs_the_same_for_one_row_and_for_many(
        self, client, bob_admin, alice, bob
    ):
        _awaiting(_open(bob), alice)
        client.force_login(bob_admin)
        few = _statements(client, "/portal/changes/report/")

        for _n in range(4):
            _awaiting(_open(bob), alice)
            _open(bob)

        assert _statements(client, "/portal/changes/report/") == few


def test_a_converted_tickets_page_links_the_change_request_it_became(client, bob, alice):
    ticket = make_ticket(requester=bob, subject="A field for the VAT number")
    client.force_login(bob)
    assert "<dt>Change request</dt>" not in _text(client.get(f"/portal/tickets/{ticket.number}/"))

    change = services.convert_ticket(ticket=ticket, by=alice)

    page = _text(client.get(f"/portal/tickets/{ticket.number}/"))
    assert "<dt>Change request</dt>" in page
    assert f'href="/portal/changes/{change.number}/">{change.reference}</a>' in page
