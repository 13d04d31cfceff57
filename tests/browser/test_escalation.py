"""Escalation in a real browser: an agent escalates to a vendor choosing what to send, the
vendor's answer shows in the vendor thread beside the customer's, the agent returns the
ticket from the vendor and takes it back down a level; axe-core on the escalation pages."""

from datetime import timedelta

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from servicedesk.core import clock
from servicedesk.escalation import services as escalation
from servicedesk.escalation.models import Direction, Escalation, VendorMessage
from servicedesk.tickets import services
from servicedesk.tickets.models import Ticket
from servicedesk.tickets.workflow import Status
from tests.browser.conftest import DATABASE_TURN
from tests.factories import VendorFactory, make_ticket

pytestmark = pytest.mark.django_db(transaction=True)

SERIOUS = {"serious", "critical"}


@pytest.fixture
def vendor():
    with DATABASE_TURN:
        return VendorFactory(name="SuperOffice AS", email="support@superoffice.example")


@pytest.fixture
def ticket(alice, bob):
    with DATABASE_TURN:
        ticket = make_ticket(requester=bob, subject="Contacts do not sync", urgency=2, impact=2)
        services.respond(ticket=ticket, author=alice, body="Which version of the add-in?")
        services.add_comment(ticket=ticket, author=bob, body="Version 4.2.1, log attached.")
        return ticket


def _serious(page) -> list[str]:
    found = Axe().run(page).response["violations"]
    return [
        f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:5]}"
        for v in found
        if v["impact"] in SERIOUS
    ]


def test_an_agent_escalates_to_a_vendor_and_reads_the_answer_beside_the_customer(
    browser_for, alice, bob, ticket, vendor
):
    agent = browser_for(alice)
    page = agent.page
    agent.go(f"/desk/tickets/{ticket.number}/")
    page.get_by_role("link", name="Escalate…").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Escalate")
    assert _serious(page) == []

    form = page.locator("form", has=page.locator("input[name=kind][value=vendor]"))
    form.get_by_label("Vendor", exact=True).select_option(label="SuperOffice AS")
    form.get_by_label("Their reference").fill("SO-4711")
    form.get_by_label("Answer promised by").fill(
        (clock.now() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    )
    form.get_by_label("Reason").fill("Sync bug in their add-in")
    form.get_by_label("Version 4.2.1, log attached.", exact=False).check()
    form.get_by_label("Logs").check()
    form.get_by_label("What is missing, and why").fill("No screenshot: nothing to see")
    form.get_by_role("button", name="Escalate to the vendor").click()

    expect(page.locator("#messages")).to_contain_text("Escalated to SuperOffice AS.")
    expect(page.locator("#escalation")).to_contain_text("SO-4711")
    with DATABASE_TURN:
        made = Escalation.objects.get(ticket=ticket)
        assert len(made.sent_items["comments"]) == 1
        assert Ticket.objects.get(pk=ticket.pk).status == Status.WAITING_ON_THIRD_PARTY
        VendorMessage.objects.create(
            escalation=made,
            direction=Direction.IN,
            sender="ann@superoffice.example",
            body="Reproduced: bug BUG-77, fixed in 10.3.2.",
            created_at=clock.now(),
        )
        escalation.record_vendor_answer(escalation=made)

    page.reload()
    vendor_thread = page.locator("#vendor-thread")
    expect(vendor_thread).to_contain_text("Reproduced: bug BUG-77")
    expect(vendor_thread).to_contain_text("From the vendor")
    expect(page.locator(".customer-thread")).not_to_contain_text("BUG-77")
    expect(page.locator(".customer-thread")).to_contain_text("Version 4.2.1")
    assert _serious(page) == []

    page.get_by_text("Actions with SuperOffice AS").click()
    page.get_by_label("Reason", exact=True).last.fill("Not needed")
    page.locator("#escalation").get_by_role("button", name="Return from the vendor").click()

    expect(page.locator("#messages")).to_contain_text("Back from SuperOffice AS.")
    with DATABASE_TURN:
        assert Ticket.objects.get(pk=ticket.pk).status == Status.IN_PROGRESS


def test_an_agent_escalates_to_l2_then_takes_it_back_down(browser_for, alice, ticket):
    agent = browser_for(alice)
    page = agent.page
    agent.go(f"/desk/tickets/{ticket.number}/escalate/")

    form = page.locator("form", has=page.locator("input[name=kind][value=internal]"))
    form.get_by_label("Support level").select_option("L2")
    form.get_by_label("Reason").fill("Needs a CRM specialist")
    form.get_by_role("button", name="Escalate internally").click()
    expect(page.locator("#messages")).to_contain_text("Escalated to CRM specialists.")

    page.get_by_label("Why it goes back down").fill("Answered by the specialist")
    page.keyboard.press("Enter")

    expect(page.locator("#messages")).to_contain_text("Back down a level.")
    with DATABASE_TURN:
        assert Ticket.objects.get(pk=ticket.pk).group.level == "L1"


def test_the_releases_pages_have_no_serious_accessibility_violation(
    browser_for, alice, ticket, vendor
):
    with DATABASE_TURN:
        made = escalation.escalate_to_vendor(
            ticket=ticket, vendor=vendor, reason="Bug", by=alice, reference="SO-1"
        )
        release = escalation.add_release(vendor=vendor, name="10.3.2", by=alice)
        escalation.record_bug(escalation=made, bug_reference="BUG-9", release=release, by=alice)
    agent = browser_for(alice)
    page = agent.page

    agent.go("/desk/releases/")
    assert _serious(page) == []
    page.get_by_role("button", name="Mark 10.3.2 shipped").click()
    expect(page.locator("#messages")).to_contain_text("1 ticket waits on it")
    assert _serious(page) == []
    page.get_by_role("button", name="Tell the requesters").click()

    expect(page.locator("#messages")).to_contain_text("1 requester told.")
    agent.go("/desk/queues/waiting-vendor/")
    assert _serious(page) == []
