"""Every desk page checked with axe-core in Chromium: no serious or critical violation, no
console error, no Content-Security-Policy refusal. And the desk in its agent's language."""

import os
import re
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from servicedesk.desk import queues
from servicedesk.tickets import services
from servicedesk.tickets.workflow import Status
from tests.factories import StaffFactory, make_ticket

pytestmark = pytest.mark.django_db(transaction=True)

SERIOUS = {"serious", "critical"}
AXE = Axe()


def _violations(page) -> list[str]:
    found = AXE.run(page).response["violations"]
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:5]}"
        for v in found
        if v["impact"] in SERIOUS
    ]


def _check(person, path: str, findings: dict, *, prepare=None) -> None:
    response = person.go(path)
    assert response is not None and response.ok, f"{path}: {response and response.status}"
    if prepare is not None:
        prepare(person.page)
    if problems := _violations(person.page):
        findings[path] = problems


def _report(findings: dict[str, list[str]]) -> str:
    return "\n".join(f"{path}\n  " + "\n  ".join(lines) for path, lines in findings.items())


def _console_errors(person) -> list[str]:
    return [e for e in person.console.errors if "favicon.ico" not in e]  # no icon yet


@pytest.fixture
def busy_ticket(alice, bob):
    """A ticket with a public reply, an internal note, a customer's answer and a running SLA."""
    ticket = make_ticket(requester=bob, subject="Invoices do not export", urgency=3, impact=2)
    services.respond(ticket=ticket, author=alice, body="Which version of the add-in?")
    services.respond(ticket=ticket, author=alice, body="Probably the 4.2 bug.", internal=True)
    services.add_comment(ticket=ticket, author=bob, body="Version 4.2.1.")
    make_ticket(requester=bob, subject="Second ticket of the same organisation")
    return ticket


def _open_details(page) -> None:
    for summary in page.locator("details > summary").all():
        summary.click()


def _open_ticket_details(page) -> None:
    _open_details(page)
    expect(page.locator(".thread .entry.note")).to_have_count(1)
    expect(page.locator("details.explain")).to_contain_text("Business time counted")


def test_the_desk_pages_have_no_serious_accessibility_violation(browser_for, alice, busy_ticket):
    resolved = make_ticket(subject="Printer offline")
    services.change_status(ticket=resolved, to=Status.RESOLVED, by=alice)
    agent = browser_for(alice)
    findings: dict[str, list[str]] = {}

    for queue in queues.QUEUES:
        _check(agent, f"/desk/queues/{queue.slug}/", findings)
    _check(agent, "/desk/", findings, prepare=_open_details)
    _check(agent, f"/desk/tickets/{busy_ticket.number}/", findings, prepare=_open_ticket_details)
    _check(agent, "/desk/board/", findings)
    _check(agent, "/desk/search/?q=invoices", findings)
    _check(agent, "/desk/search/", findings)
    _check(agent, "/desk/calls/new/", findings)
    _check(
        agent,
        "/desk/",
        findings,
        prepare=lambda page: page.get_by_role("button", name="Shortcuts").click(),
    )

    assert findings == {}, _report(findings)
    assert _console_errors(agent) == [], "\n".join(_console_errors(agent))
    assert agent.page.locator("#shortcuts").is_visible()  # the last check saw the dialog


def _luminance(rgb: str) -> float:
    channels = [int(c) / 255 for c in re.findall(r"\d+", rgb)[:3]]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def test_what_an_agent_types_in_the_header_search_is_legible(browser_for, alice):
    """axe only lists an input's text "to review": it was the header's white on white."""
    agent = browser_for(alice)
    agent.go("/desk/")
    box = agent.page.get_by_role("searchbox", name="Ticket number or words")

    box.fill("printer")

    fg, bg = box.evaluate("e => [getComputedStyle(e).color, getComputedStyle(e).backgroundColor]")
    lighter, darker = sorted((_luminance(fg), _luminance(bg)), reverse=True)
    assert (lighter + 0.05) / (darker + 0.05) >= 4.5, (fg, bg)


def test_the_sign_in_page_and_the_portal_have_no_serious_accessibility_violation(browser_for, bob):
    visitor, customer = browser_for(None), browser_for(bob)
    findings: dict[str, list[str]] = {}

    _check(visitor, "/login/", findings)
    _check(customer, "/portal/", findings)

    assert findings == {}, _report(findings)
    errors = _console_errors(visitor) + _console_errors(customer)
    assert errors == [], "\n".join(errors)


def test_the_password_reset_pages_have_no_serious_accessibility_violation(browser_for):
    visitor = browser_for(None)
    findings: dict[str, list[str]] = {}

    for path in ("/password/reset/", "/password/reset/sent/", "/password/reset/MQ/set-password/"):
        _check(visitor, path, findings)

    assert findings == {}, _report(findings)
    assert _console_errors(visitor) == [], "\n".join(_console_errors(visitor))


def test_the_desk_speaks_its_agents_language(browser_for, bob):
    """English and French, with screenshots of the queue, a ticket and the board when
    SERVICEDESK_SCREENSHOTS names a directory (for a person to look at; not compared)."""
    english = StaffFactory(full_name="Alice Agent", language="en")
    french = StaffFactory(full_name="Amélie Agente", language="fr")
    ticket = make_ticket(requester=bob, subject="Synchronisation des contacts", urgency=3, impact=3)
    shots = os.environ.get("SERVICEDESK_SCREENSHOTS")

    for user, lang, new in ((english, "en", "New"), (french, "fr", "Nouveau")):
        agent = browser_for(user)
        for name, path in (
            ("queue", "/desk/"),
            ("ticket", f"/desk/tickets/{ticket.number}/"),
            ("board", "/desk/board/"),
        ):
            agent.go(path)
            expect(agent.page.locator("html")).to_have_attribute("lang", lang)
            if shots:
                Path(shots).mkdir(parents=True, exist_ok=True)
                agent.page.screenshot(path=Path(shots) / f"{name}-{lang}.png", full_page=True)
        expect(agent.page.locator(".column").first.get_by_role("heading")).to_contain_text(new)
