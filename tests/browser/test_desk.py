"""The agent desk in a real browser: signing in, finding a ticket, triage, replies and notes,
the board's drag and drop and menu, the collision notice, a stale reply, the shortcuts."""

import re

import pytest
from playwright.sync_api import expect

from servicedesk.mail.models import OutboxMessage
from servicedesk.tickets import services
from servicedesk.tickets.models import Comment, Ticket
from servicedesk.tickets.workflow import Status
from tests.browser.conftest import DATABASE_TURN, PASSWORD, with_password
from tests.factories import StaffFactory, make_ticket

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def ticket(bob):
    return make_ticket(
        requester=bob, subject="Outlook add-in does not sync contacts", urgency=2, impact=2
    )


def _status_of(ticket: Ticket) -> str:
    with DATABASE_TURN:
        return Ticket.objects.get(pk=ticket.pk).status


def test_an_agent_signs_in_and_goes_to_a_ticket_by_its_number(browser_for, alice, ticket):
    with_password(alice)
    agent = browser_for(None)
    page = agent.page
    agent.go("/desk/")
    expect(page).to_have_url(re.compile(r"/login/\?next=/desk/$"))

    page.get_by_label("Email address").fill(alice.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(agent.base + "/desk/")
    page.get_by_role("searchbox", name="Ticket number or words").fill(str(ticket.number))
    page.keyboard.press("Enter")

    expect(page).to_have_url(f"{agent.base}/desk/tickets/{ticket.number}/")
    expect(page.get_by_role("heading", level=1)).to_contain_text(ticket.subject)


def test_a_visitor_asks_for_a_new_password_from_the_sign_in_page(browser_for, alice):
    visitor = browser_for(None)
    page = visitor.page
    visitor.go("/login/")

    page.get_by_role("link", name="Forgotten your password?").click()
    expect(page.get_by_role("heading", name="Reset your password")).to_be_visible(timeout=1000)
    page.get_by_label("Email address").fill(alice.email)
    page.get_by_role("button", name="Send the link").click(timeout=1000)

    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    with DATABASE_TURN:
        assert OutboxMessage.objects.filter(to=[alice.email]).exists()


def test_the_triage_preview_follows_the_choices_and_the_confirmation_shows(
    browser_for, alice, ticket
):
    agent = browser_for(alice)
    page = agent.page
    agent.go(f"/desk/tickets/{ticket.number}/")
    preview = page.locator("#triage-preview")
    expect(preview).to_have_text("4 → Medium")  # the customer's proposal: 2 × 2

    page.get_by_label("Urgency").select_option("4")
    expect(preview).to_have_text("Score 8 → priority High")
    page.get_by_label("Impact").select_option("3")
    expect(preview).to_have_text("Score 12 → priority Critical")
    page.get_by_role("button", name="Confirm the triage").click()

    expect(page.locator("#messages")).to_contain_text("Triage confirmed.")
    expect(page.locator(".pairs").first).to_contain_text("urgency 4 × impact 3 = 12, Critical")
    expect(page.locator(".meta")).to_contain_text("Priority Critical (score 12)")
    expect(page.get_by_role("button", name="Correct the triage")).to_be_visible()


def test_a_reply_sets_waiting_on_customer_in_the_same_action(browser_for, alice, ticket):
    agent = browser_for(alice)
    page = agent.page
    agent.go(f"/desk/tickets/{ticket.number}/")

    page.get_by_label("Message").fill("Please restart Outlook and tell us if it syncs.")
    page.get_by_label("Then set the status to").select_option(label="Waiting on customer")
    page.get_by_role("button", name="Send").click()

    expect(page.locator("#messages")).to_contain_text("Reply sent.")
    expect(page.locator(".meta .status")).to_have_text("Waiting on customer")
    reply = page.locator(".thread li.entry").last
    expect(reply).to_have_class(re.compile(r"\breply\b"))
    expect(reply.locator(".kind")).to_have_text("Public reply")
    expect(reply).to_contain_text("Please restart Outlook and tell us if it syncs.")
    assert _status_of(ticket) == Status.WAITING_ON_CUSTOMER


def test_a_note_is_internal_and_looks_different_from_a_reply(browser_for, alice, ticket):
    with DATABASE_TURN:
        services.respond(ticket=ticket, author=alice, body="We are looking into it.")
    agent = browser_for(alice)
    page = agent.page
    agent.go(f"/desk/tickets/{ticket.number}/")

    page.get_by_label("Internal note").check()
    page.get_by_label("Message").fill("Logs show a timeout on the CRM side.")
    page.get_by_role("button", name="Send").click()

    expect(page.locator("#messages")).to_contain_text("Note added.")
    note = page.locator(".thread li.entry").filter(has_text="Logs show a timeout")
    reply = page.locator(".thread li.entry").filter(has_text="We are looking into it.")
    expect(note).to_have_class(re.compile(r"\bnote\b"))
    expect(note.locator(".kind")).to_have_text("Internal note")
    background = "element => getComputedStyle(element).backgroundColor"
    assert note.evaluate(background) != reply.evaluate(background)
    with DATABASE_TURN:
        assert Comment.objects.get(body__startswith="Logs show").internal


def _column(page, label: str):
    return page.locator(".column").filter(has=page.get_by_role("heading", name=label))


def _card(page, ticket: Ticket):
    return page.locator(f'.card[data-number="{ticket.number}"]')


def test_a_card_dragged_to_another_column_changes_status(browser_for, alice, ticket):
    agent = browser_for(alice)
    page = agent.page
    agent.go("/desk/board/")
    card = _card(page, ticket)
    expect(_column(page, "New").locator(".card")).to_have_count(1)

    card.drag_to(_column(page, "In progress"))

    expect(_column(page, "In progress").locator(".card")).to_have_count(1)
    expect(page.locator("#board-status")).to_have_text(f"{ticket.reference}: In progress")
    assert _status_of(ticket) == Status.IN_PROGRESS
    page.reload()
    expect(_column(page, "In progress").locator(f'[data-number="{ticket.number}"]')).to_be_visible()
    expect(_column(page, "New").locator(".card")).to_have_count(0)


def test_a_card_moves_by_its_menu(browser_for, alice, ticket):
    agent = browser_for(alice)
    page = agent.page
    agent.go("/desk/board/")

    page.get_by_label(f"Move {ticket.reference} to…").select_option(label="Waiting on third party")
    _card(page, ticket).get_by_role("button", name="Move").click()

    expect(page).to_have_url(agent.base + "/desk/board/")
    expect(page.locator("#messages")).to_contain_text(f"{ticket.reference}: Waiting on third party")
    expect(_column(page, "Waiting on third party").locator(".card")).to_have_count(1)
    assert _status_of(ticket) == Status.WAITING_ON_THIRD_PARTY


def test_a_forbidden_drag_snaps_back_and_says_why(browser_for, alice, ticket):
    with DATABASE_TURN:
        services.change_status(ticket=ticket, to=Status.RESOLVED, by=alice)
    agent = browser_for(alice)
    page = agent.page
    agent.go("/desk/board/")
    card = _card(page, ticket)

    card.drag_to(_column(page, "Waiting on customer"))

    reason = "Refused: A ticket cannot move from Resolved to Waiting on customer."
    expect(card.locator(".refusal")).to_have_text(reason)
    expect(card).to_have_class(re.compile(r"\brefused\b"))
    expect(_column(page, "Resolved").locator(".card")).to_have_count(1)
    expect(_column(page, "Waiting on customer").locator(".card")).to_have_count(0)
    expect(page.locator("#board-status")).to_have_text(reason)
    assert _status_of(ticket) == Status.RESOLVED


def test_a_second_agent_sees_who_else_is_on_the_ticket_and_typing(browser_for, alice, ticket):
    bea = StaffFactory(full_name="Bea Agent")
    first, second = browser_for(alice), browser_for(bea)
    for agent in (first, second):
        agent.context.clock.install()  # the pages' timers: the 10 s poll runs on demand
    first.go(f"/desk/tickets/{ticket.number}/")

    second.go(f"/desk/tickets/{ticket.number}/")

    expect(second.page.locator("#watchers")).to_have_text("Alice Agent is viewing this ticket")
    expect(first.page.locator("#watchers")).to_have_text("")
    first.page.clock.run_for("00:11")
    expect(first.page.locator("#watchers")).to_have_text("Bea Agent is viewing this ticket")

    second.page.get_by_label("Message").press_sequentially("Looking at it")
    with second.page.expect_response(re.compile(r"/ping/$")) as typing_poll:
        second.page.clock.run_for("00:11")
    assert typing_poll.value.ok
    first.page.clock.run_for("00:11")
    expect(first.page.locator("#watchers")).to_have_text("Bea Agent is typing a reply")


def test_a_reply_to_a_ticket_that_changed_meanwhile_is_stopped(browser_for, alice, bob, ticket):
    agent = browser_for(alice)
    page = agent.page
    agent.go(f"/desk/tickets/{ticket.number}/")
    page.get_by_label("Message").fill("Have you tried restarting?")

    with DATABASE_TURN:
        services.add_comment(ticket=ticket, author=bob, body="Actually it works now!")
    page.get_by_role("button", name="Send").click()

    stale = page.get_by_role("alert")
    expect(stale).to_contain_text("This ticket changed while you were writing")
    expect(stale).to_contain_text("Your message was not sent.")
    expect(page.get_by_label("Message")).to_have_value("Have you tried restarting?")
    expect(page.locator(".thread")).to_contain_text("Actually it works now!")
    with DATABASE_TURN:
        assert not Comment.objects.filter(body__contains="restarting").exists()


def test_question_mark_lists_the_shortcuts_and_slash_goes_to_the_search(browser_for, alice, ticket):
    agent = browser_for(alice)
    page = agent.page
    agent.go("/desk/")
    page.wait_for_selector("html[data-desk-ready]")
    dialog = page.get_by_role("dialog", name="Keyboard shortcuts")

    page.keyboard.press("?")

    expect(dialog).to_be_visible()
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    page.keyboard.press("/")
    expect(page.get_by_role("searchbox", name="Ticket number or words")).to_be_focused()


def test_single_key_shortcuts_can_be_turned_off(browser_for, alice, ticket):
    agent = browser_for(alice)
    page = agent.page
    agent.go("/desk/")
    page.wait_for_selector("html[data-desk-ready]")
    dialog = page.get_by_role("dialog", name="Keyboard shortcuts")
    page.keyboard.press("?")
    page.get_by_label("Single-key shortcuts on").uncheck()
    page.keyboard.press("Escape")

    agent.go("/desk/")  # the choice is kept in this browser
    page.wait_for_selector("html[data-desk-ready]")
    page.keyboard.press("?")
    page.keyboard.press("/")

    expect(dialog).to_be_hidden()
    expect(page.get_by_role("searchbox", name="Ticket number or words")).not_to_be_focused()
    page.get_by_role("button", name="Shortcuts").click()  # still reachable by its button
    expect(page.get_by_label("Single-key shortcuts on")).not_to_be_checked()


def test_j_and_k_on_a_ticket_go_to_the_next_and_previous_of_the_queue(browser_for, alice, bob):
    with DATABASE_TURN:
        first = make_ticket(requester=bob, subject="First in the queue")
        second = make_ticket(requester=bob, subject="Second in the queue")
    agent = browser_for(alice)
    page = agent.page
    agent.go("/desk/?sort=number")
    page.wait_for_selector("html[data-desk-ready]")
    page.get_by_role("link", name=first.reference).click()
    expect(page).to_have_url(f"{agent.base}/desk/tickets/{first.number}/")
    page.wait_for_selector("html[data-desk-ready]")

    page.keyboard.press("j")
    expect(page).to_have_url(f"{agent.base}/desk/tickets/{second.number}/")
    page.keyboard.press("k")
    expect(page).to_have_url(f"{agent.base}/desk/tickets/{first.number}/")
