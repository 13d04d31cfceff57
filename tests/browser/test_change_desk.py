"""The desk's change request pages in a real browser: a ticket turned into a CR from its page,
a section saved, a CR card dragged on the CR board and a forbidden drag snapping back with
its reason, the new CR form's contacts following the organisation (htmx); axe-core finds no
serious violation on any CR page, and no page breaks the Content-Security-Policy."""

import re
from decimal import Decimal

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from servicedesk.changes import services
from servicedesk.changes.models import ChangeRequest
from servicedesk.changes.workflow import Stage
from servicedesk.tickets.models import Ticket
from servicedesk.tickets.workflow import Status
from tests.browser.conftest import DATABASE_TURN
from tests.factories import make_ticket

pytestmark = pytest.mark.django_db(transaction=True)

SERIOUS = {"serious", "critical"}
AXE = Axe()


@pytest.fixture
def change(alice, bob):
    with DATABASE_TURN:
        return services.open_change(
            organisation=bob.organisation,
            requester=bob,
            title="Add a VAT number field to accounts",
            description="Finance needs it on every invoice.",
            by=alice,
        )


def _stage_of(change: ChangeRequest) -> str:
    with DATABASE_TURN:
        return ChangeRequest.objects.get(pk=change.pk).stage


def _column(page, label: str):
    return page.locator(".column").filter(has=page.get_by_role("heading", name=label))


def _card(page, change: ChangeRequest):
    return page.locator(f'.card[data-number="{change.number}"]')


def test_an_agent_turns_a_ticket_into_a_cr_and_lands_on_it(browser_for, alice, bob):
    with DATABASE_TURN:
        ticket = make_ticket(requester=bob, subject="Please add a VAT field", urgency=2, impact=2)
    agent = browser_for(alice)
    page = agent.page
    agent.go(f"/desk/tickets/{ticket.number}/")

    page.get_by_text("Turn into a change request", exact=True).first.click()  # the disclosure
    page.get_by_label("Scope").select_option(label="Standard software")
    page.get_by_label("Note (optional, added to the description)").fill("Agreed by phone.")
    page.get_by_role("button", name="Turn into a change request").click()

    with DATABASE_TURN:
        change = ChangeRequest.objects.get()
        status = Ticket.objects.get(pk=ticket.pk).status
    expect(page).to_have_url(agent.base + f"/desk/changes/{change.number}/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Please add a VAT field")
    expect(page.locator("#messages")).to_contain_text(change.reference)
    assert status == Status.CLOSED
    page.get_by_role("link", name=ticket.reference).first.click()
    expect(page.locator("#change-request")).to_contain_text(change.reference)


def test_a_section_is_edited_in_place(browser_for, alice, change):
    agent = browser_for(alice)
    page = agent.page
    agent.go(f"/desk/changes/{change.number}/")

    page.get_by_text("Edit: Assessment").click()
    page.get_by_label("Effort estimate (hours)").fill("12.5")
    page.locator("#assessment").get_by_label("Chargeable").select_option(label="Chargeable")
    page.locator("#assessment").get_by_role("button", name="Save").click()

    expect(page.locator("#messages")).to_contain_text("Assessment saved.")
    expect(page.locator("#history")).to_contain_text("Effort estimate: — → 12.5 h")
    with DATABASE_TURN:
        assert ChangeRequest.objects.get(pk=change.pk).effort_hours == Decimal("12.5")


def test_a_cr_card_dragged_to_the_next_stage_moves(browser_for, alice, change):
    agent = browser_for(alice)
    page = agent.page
    agent.go("/desk/changes/board/")

    _card(page, change).drag_to(_column(page, "Assessment"))

    expect(page.locator("#board-status")).to_have_text(f"{change.reference}: Assessment")
    expect(_column(page, "Assessment").locator(".card")).to_have_count(1)
    assert _stage_of(change) == Stage.ASSESSMENT


def test_a_forbidden_cr_drag_snaps_back_and_says_why(browser_for, alice, change):
    agent = browser_for(alice)
    page = agent.page
    agent.go("/desk/changes/board/")
    card = _card(page, change)

    card.drag_to(_column(page, "Approved (scheduled)"))

    reason = "Refused: A change request cannot move from Requested to Approved (scheduled)."
    expect(card.locator(".refusal")).to_have_text(reason)
    expect(card).to_have_class(re.compile(r"\brefused\b"))
    expect(_column(page, "Requested").locator(".card")).to_have_count(1)
    expect(page.locator("#board-status")).to_have_text(reason)
    assert _stage_of(change) == Stage.REQUESTED


def test_the_new_cr_form_lists_the_organisations_contacts(browser_for, alice, bob, charlie):
    agent = browser_for(alice)
    page = agent.page
    agent.go("/desk/changes/new/")
    page.wait_for_function("document.documentElement.dataset.deskReady === 'true'")

    page.get_by_label("Organisation", exact=True).select_option(label=bob.organisation.name)
    requester = page.get_by_label("Requested by (a contact of the organisation)")
    expect(requester.locator("option", has_text=bob.email)).to_have_count(1)
    expect(requester.locator("option", has_text=charlie.email)).to_have_count(0)
    requester.select_option(value=str(bob.pk))
    page.get_by_label("Title").fill("Quarterly dashboard")
    page.get_by_label("Description").fill("For the board meeting.")
    page.get_by_role("button", name="Open the change request").click()

    expect(page.get_by_role("heading", level=1)).to_contain_text("Quarterly dashboard")
    with DATABASE_TURN:
        assert ChangeRequest.objects.get().requester == bob


def test_the_change_request_pages_have_no_serious_accessibility_violation(
    browser_for, alice, bob_admin, change
):
    with DATABASE_TURN:
        services.move_stage(change=change, to=Stage.ASSESSMENT, by=alice)
        services.update_change(change=change, by=alice, chargeable=True, effort_hours=8)
        services.move_stage(change=change, to=Stage.AWAITING_APPROVAL, by=alice)
        services.decide(change=change, approved=True, by=bob_admin, comment="Go.")
        services.set_plan(change=change, steps=[services.Step("Build", None, "Erik")], by=alice)
    agent = browser_for(alice)
    findings: dict[str, list[str]] = {}

    def open_details(page):
        for summary in page.locator("details > summary").all():
            summary.click()

    for path, prepare in (
        ("/desk/changes/", open_details),
        ("/desk/changes/?stage=all", None),
        (f"/desk/changes/{change.number}/", open_details),
        ("/desk/changes/board/", open_details),
        ("/desk/changes/reports/", None),
        ("/desk/changes/new/", None),
    ):
        response = agent.go(path)
        assert response is not None and response.ok, path
        if prepare is not None:
            prepare(agent.page)
        found = AXE.run(agent.page).response["violations"]
        problems = [f"{v['id']}: {v['help']}" for v in found if v["impact"] in SERIOUS]
        if problems:
            findings[path] = problems

    assert findings == {}, findings
    assert agent.console.errors == [], agent.console.errors
