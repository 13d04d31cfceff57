"""The portal's ways in from an email, in Chromium: a customer rates a closed ticket; a
stranger's status look-up reveals nothing; a login link signs in once; and axe-core finds
no serious or critical violation on those pages (status, link, rating, people)."""

import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from servicedesk.core import links
from servicedesk.mail.models import OutboxMessage
from servicedesk.portal.rating import rating_token
from servicedesk.tickets import services
from servicedesk.tickets.models import Rating
from servicedesk.tickets.workflow import Status
from tests.browser.conftest import DATABASE_TURN
from tests.factories import make_ticket

pytestmark = pytest.mark.django_db(transaction=True)
AXE = Axe()


def _serious(page) -> list[str]:
    found = AXE.run(page).response["violations"]
    return [f"{v['id']}: {v['help']}" for v in found if v["impact"] in ("serious", "critical")]


@pytest.fixture
def closed(bob, alice):
    with DATABASE_TURN:
        ticket = make_ticket(requester=bob, subject="Export fails")
        services.change_status(ticket=ticket, to=Status.RESOLVED, by=alice)
        services.change_status(ticket=ticket, to=Status.CLOSED, by=alice)
    return ticket


def test_a_customer_rates_a_closed_ticket_on_the_portal(browser_for, bob, closed):
    customer = browser_for(bob)
    page = customer.page
    customer.go(f"/portal/tickets/{closed.number}/")

    page.get_by_role("radio", name="Good").check()
    page.get_by_label("Comment (optional)").fill("Quick and clear.")
    page.get_by_role("button", name="Send the rating").click()

    expect(page.locator("#messages")).to_contain_text("Thank you for your rating.")
    with DATABASE_TURN:
        rating = Rating.objects.get(ticket=closed)
    assert (rating.by, rating.value, rating.comment) == (bob, "good", "Quick and clear.")
    assert _serious(page) == []


def test_a_one_click_rating_link_asks_before_it_records(browser_for, bob, closed):
    with DATABASE_TURN:
        token = rating_token(closed, bob, "bad")
    visitor = browser_for(None)
    page = visitor.page
    visitor.go(f"/portal/rate/{token}/")

    assert _serious(page) == []
    with DATABASE_TURN:
        assert not Rating.objects.exists()  # opening the link records nothing
    page.get_by_role("button", name="Send the rating").click()

    expect(page.get_by_text("Thank you for your rating.")).to_be_visible()
    with DATABASE_TURN:
        assert Rating.objects.get(ticket=closed).value == "bad"


def test_a_strangers_status_look_up_reveals_nothing(browser_for, bob, closed):
    visitor = browser_for(None)
    page = visitor.page
    answers = []
    for email in (bob.email, "stranger@elsewhere.example"):
        visitor.go("/status/")
        page.get_by_label("Ticket number").fill(closed.reference)
        page.get_by_label("Your email address").fill(email)
        page.get_by_role("button", name="Send me a link").click()
        answers.append(page.locator("main").inner_text())

    assert answers[0] == answers[1]
    assert closed.reference in answers[0] and "on its way" in answers[0]
    assert _serious(page) == []
    with DATABASE_TURN:
        mailed = [m for m in OutboxMessage.objects.all() if "Your link to ticket" in m.subject]
    assert [m.to for m in mailed] == [[bob.email]]  # only the requester got a link


def test_a_login_link_signs_in_once_and_the_used_link_says_so(browser_for, bob, closed):
    with DATABASE_TURN:
        token = links.login_token(bob, ticket_number=closed.number)
    visitor = browser_for(None)
    page = visitor.page
    visitor.go(f"/portal/enter/{token}/")
    assert _serious(page) == []

    page.get_by_role("button", name=re.compile(f"Continue to {closed.reference}")).click()
    expect(page).to_have_url(f"{visitor.base}/portal/tickets/{closed.number}/")

    second = browser_for(None)
    second.go(f"/portal/enter/{token}/")
    expect(second.page.get_by_role("heading", name="This link no longer works")).to_be_visible()
    assert _serious(second.page) == []


def test_the_people_page_is_accessible(browser_for, bob_admin, bob):
    admin = browser_for(bob_admin)
    admin.go("/portal/people/")
    expect(admin.page.get_by_role("heading", level=1)).to_contain_text("People of")
    assert _serious(admin.page) == []
