"""The customer portal in a real browser: a customer submits with the triage and a
screenshot, sees the priority before sending, receives the acknowledgement from a real SMTP
server, replies and confirms the resolution; who sees whose tickets; every portal page
checked with axe-core at a desktop's and a phone's width, without horizontal scrolling."""

import re
import struct
import zlib
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from servicedesk.ops import relay
from servicedesk.tickets import services
from servicedesk.tickets.models import Attachment, Ticket
from servicedesk.tickets.workflow import Status
from tests.browser.conftest import DATABASE_TURN
from tests.factories import CustomerFactory, make_ticket
from tests.mail.conftest import smtp  # noqa: F401  (a real SMTP server: aiosmtpd)

pytestmark = pytest.mark.django_db(transaction=True)

SERIOUS = {"serious", "critical"}
AXE = Axe()
PHONE = {"width": 390, "height": 844}


def _png(path: Path) -> Path:
    """A small real PNG (4×4, blue), as a screenshot would be."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\x00" + b"\x1f\x6f\xc3" * 4 for _ in range(4))
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 4, 4, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )
    return path


def _status_of(ticket: Ticket) -> str:
    with DATABASE_TURN:
        return Ticket.objects.get(pk=ticket.pk).status


def test_a_customer_submits_follows_replies_and_confirms(browser_for, bob, alice, smtp, tmp_path):  # noqa: F811
    smtp.start()
    customer = browser_for(bob)
    page = customer.page
    customer.go("/portal/")
    page.get_by_role("link", name="New ticket").first.click()

    page.get_by_label("Subject").fill("Invoices do not export")
    page.get_by_label("Description").fill("The export button does nothing since Monday.")
    preview = page.locator("#triage-preview")
    expect(preview).to_contain_text("Choose an urgency and an impact")
    page.get_by_role("radio", name=re.compile(r"^3 — High")).check()
    page.get_by_role("radio", name=re.compile(r"^3 — Significant")).check()
    expect(preview).to_have_text("Urgency 3 × impact 3 = score 9: priority High.")
    page.get_by_role("radio", name=re.compile(r"^4 — Imperative")).check()
    expect(preview).to_have_text("Urgency 4 × impact 3 = score 12: priority Critical.")
    page.get_by_label("Attachments (screenshots)").set_input_files(_png(tmp_path / "export.png"))
    page.get_by_role("button", name="Send the ticket").click()

    expect(page.locator("#messages")).to_contain_text("is logged")
    with DATABASE_TURN:
        ticket = Ticket.objects.get(subject="Invoices do not export")
        assert Attachment.objects.get(ticket=ticket).filename == "export.png"
    expect(page).to_have_url(f"{customer.base}/portal/tickets/{ticket.number}/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Invoices do not export")
    expect(page.locator(".summary")).to_contain_text("urgency 4 × impact 3 = 12, Critical")
    expect(page.locator("#promise")).to_contain_text("We will reply by")
    expect(page.get_by_role("link", name="export.png")).to_be_visible()

    with DATABASE_TURN:
        assert relay.run_once()["mail"].get("sent", 0) >= 1
    acknowledgement = [m for m in smtp.received if bob.email in m.rcpt_tos]
    assert len(acknowledgement) == 1
    assert ticket.reference in acknowledgement[0].content.decode()

    page.get_by_label("Your reply").fill("It also fails for credit notes.")
    page.get_by_role("button", name="Send the reply").click()
    expect(page.locator("#messages")).to_contain_text("Your reply was sent.")
    expect(page.locator(".thread")).to_contain_text("It also fails for credit notes.")

    with DATABASE_TURN:
        services.add_comment(ticket=ticket, author=alice, body="Fixed in the export template.")
        services.change_status(ticket=ticket, to=Status.RESOLVED, by=alice)
    page.reload()
    expect(page.locator(".summary .status")).to_have_text("Resolved")
    page.get_by_role("button", name="Yes, it is solved: close the ticket").click()

    expect(page.locator("#messages")).to_contain_text("the ticket is closed")
    expect(page.locator(".summary .status")).to_have_text("Closed")
    assert _status_of(ticket) == Status.CLOSED


def test_without_script_the_priority_is_shown_before_sending(browser, desk_url, bob, settings):
    from django.test import Client

    context = browser.new_context(base_url=desk_url, java_script_enabled=False)
    client = Client()
    with DATABASE_TURN:
        client.force_login(bob)
    context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": desk_url,
            }
        ]
    )
    page = context.new_page()
    page.goto("/portal/tickets/new/")

    page.get_by_label("Subject").fill("Printer offline")
    page.get_by_role("radio", name=re.compile(r"^2 — Medium")).check()
    page.get_by_role("radio", name=re.compile(r"^1 — Individual")).check()
    page.get_by_role("button", name="Check the priority before sending").click()

    expect(page.locator("#triage-preview")).to_have_text(
        "Urgency 2 × impact 1 = score 2: priority Medium."
    )
    expect(page.get_by_label("Subject")).to_have_value("Printer offline")
    with DATABASE_TURN:
        assert not Ticket.objects.exists()
    context.close()


def test_an_administrator_sees_a_colleagues_ticket_and_an_end_user_does_not(
    browser_for, bob, bob_admin, org_a
):
    colleague = CustomerFactory(full_name="Dora Colleague", organisation=org_a)
    ticket = make_ticket(requester=bob, subject="Bob's calendar does not sync")
    administrator, other = browser_for(bob_admin), browser_for(colleague)

    administrator.go("/portal/")
    administrator.page.get_by_role("link", name=ticket.reference).click()
    expect(administrator.page.get_by_role("heading", level=1)).to_contain_text("calendar")

    other.go("/portal/")
    expect(other.page.locator("main")).to_contain_text("You have no tickets.")
    answer = other.go(f"/portal/tickets/{ticket.number}/")
    assert answer is not None and answer.status == 404
    other.go("/portal/")
    other.page.get_by_label("Go to ticket").fill(ticket.reference)
    other.page.get_by_role("button", name="Go", exact=True).click()
    expect(other.page.locator("#messages")).to_contain_text("None of your tickets has that number.")


def test_the_language_switcher_changes_the_portals_language(browser_for, bob):
    customer = browser_for(bob)
    customer.go("/portal/")

    customer.page.get_by_label("Language").select_option("fr")
    customer.page.get_by_role("button", name="Change language").click()

    expect(customer.page.locator("html")).to_have_attribute("lang", "fr")
    expect(customer.page).to_have_url(f"{customer.base}/portal/")


def _violations(page) -> list[str]:
    found = AXE.run(page).response["violations"]
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:5]}"
        for v in found
        if v["impact"] in SERIOUS
    ]


def test_every_portal_page_is_accessible_and_fits_a_phone(browser_for, alice, bob_admin, bob):
    busy = make_ticket(requester=bob, subject="A rather long subject " * 6, urgency=3, impact=2)
    services.add_comment(ticket=busy, author=alice, body="Which version of the add-in?")
    services.add_comment(ticket=busy, author=bob, body="Version 4.2.1.")
    resolved = make_ticket(requester=bob, subject="Printer offline")
    services.change_status(ticket=resolved, to=Status.RESOLVED, by=alice)
    for n in range(22):
        make_ticket(requester=bob, subject=f"Ticket {n}")
    customer = browser_for(bob_admin)
    pages = [
        "/portal/",
        "/portal/?status=active&page=2",
        f"/portal/tickets/{busy.number}/",
        f"/portal/tickets/{resolved.number}/",
        "/portal/tickets/new/",
    ]
    findings: dict[str, list[str]] = {}
    too_wide: list[str] = []

    for size in ({"width": 1280, "height": 900}, PHONE):
        customer.page.set_viewport_size(size)
        for path in pages:
            response = customer.go(path)
            assert response is not None and response.ok, path
            for summary in customer.page.locator("details > summary").all():
                summary.click()
            if problems := _violations(customer.page):
                findings[f"{path} at {size['width']} px"] = problems
            scroll = "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            if size == PHONE and customer.page.evaluate(scroll) > 0:
                too_wide.append(path)

    assert findings == {}, findings
    assert too_wide == []
    errors = [e for e in customer.console.errors if "favicon.ico" not in e]
    assert errors == []
