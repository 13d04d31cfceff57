"""Escalation to a vendor by email, end to end (issue 15): an agent escalates in the browser
choosing what to send; a real SMTP server (aiosmtpd) receives the vendor's mail, with its own
token and the chosen file, and the customer's update in their language; the vendor's answer
comes back through the ingest pipeline into the vendor thread; the agent returns the ticket
from the vendor and takes it back down a level."""

from datetime import timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from django.core.files.base import ContentFile
from playwright.sync_api import expect

from servicedesk.core import clock
from servicedesk.escalation import services as escalation
from servicedesk.escalation.models import Escalation, VendorMessage
from servicedesk.mail import ingest
from servicedesk.ops import relay
from servicedesk.tickets import services
from servicedesk.tickets.models import Attachment, Comment, Ticket
from servicedesk.tickets.workflow import Status
from tests.browser.conftest import DATABASE_TURN
from tests.factories import CustomerFactory, VendorFactory, make_ticket
from tests.mail.conftest import smtp  # noqa: F401  (a real SMTP server: aiosmtpd)

pytestmark = pytest.mark.django_db(transaction=True)

LOG = b"2026-11-16 09:02 ERROR 0x80004005 contact sync failed"


@pytest.fixture
def vendor():
    with DATABASE_TURN:
        return VendorFactory(name="SuperOffice AS", email="support@superoffice.example")


@pytest.fixture
def customer(org_b):
    """A customer who reads Norwegian."""
    with DATABASE_TURN:
        return CustomerFactory(
            email="ola@bravo.example",
            full_name="Ola Nordmann",
            organisation=org_b,
            language="nb",
            timezone="Europe/Oslo",
        )


@pytest.fixture
def ticket(alice, customer, settings, tmp_path):
    """The customer's ticket: the desk's reply, the customer's answer with a log and a
    screenshot; already with the CRM specialists (L2), the customer not told of that."""
    settings.MEDIA_ROOT = tmp_path
    with DATABASE_TURN:
        ticket = make_ticket(
            requester=customer, subject="Contacts do not sync", urgency=2, impact=2
        )
        services.respond(ticket=ticket, author=alice, body="Which version of the add-in?")
        services.add_comment(
            ticket=ticket,
            author=customer,
            body="Version 4.2.1, log attached.",
            uploads=[
                services.Upload("sync.log", "text/plain", ContentFile(LOG, name="sync.log")),
                services.Upload(
                    "desktop.png", "image/png", ContentFile(b"\x89PNG\r\n", name="desktop.png")
                ),
            ],
        )
        escalation.escalate_internal(
            ticket=ticket,
            to_level="L2",
            reason="Needs a CRM specialist",
            by=alice,
            notify_customer=False,
            no_notice_reason="A hand-over inside the desk",
        )
        return ticket


def _parsed(envelope) -> EmailMessage:
    return message_from_bytes(envelope.content, policy=policy.default)


def _text(message: EmailMessage) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def _mails_to(smtp, address: str) -> list[EmailMessage]:  # noqa: F811
    return [_parsed(m) for m in smtp.received if address in m.rcpt_tos]


def _updates(smtp, customer) -> list[EmailMessage]:  # noqa: F811
    return [m for m in _mails_to(smtp, customer.email) if "Oppdatering" in m["Subject"]]


def _relay() -> None:
    with DATABASE_TURN:
        sent = relay.run_once()["mail"]
    assert sent.get("failed", 0) == 0, sent


def test_an_agent_escalates_by_email_the_vendor_answers_and_the_agent_de_escalates(
    browser_for,
    alice,
    customer,
    ticket,
    vendor,
    smtp,  # noqa: F811
):
    smtp.start()
    agent = browser_for(alice)
    page = agent.page
    agent.go(f"/desk/tickets/{ticket.number}/")
    page.get_by_role("link", name="Escalate…").click()

    form = page.locator("form", has=page.locator("input[name=kind][value=vendor]"))
    form.get_by_label("Vendor", exact=True).select_option(label="SuperOffice AS")
    form.get_by_label("Their reference").fill("SO-4711")
    form.get_by_label("Answer promised by").fill(
        (clock.now() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    )
    form.get_by_label("Reason").fill("Contacts stop syncing in your add-in 4.2.1")
    form.get_by_label("Version 4.2.1, log attached.", exact=False).check()
    form.get_by_label("sync.log").check()
    form.get_by_label("Logs").check()
    form.get_by_label("Steps to reproduce").check()
    form.get_by_label("What is missing, and why").fill("No screenshot: nothing to see")
    form.get_by_role("button", name="Escalate to the vendor").click()

    expect(page.locator("#messages")).to_contain_text("Escalated to SuperOffice AS.")
    expect(page.locator(".meta .status")).to_have_text("Waiting on third party")
    with DATABASE_TURN:
        made = Escalation.objects.get(ticket=ticket, kind="vendor")
        log = Attachment.objects.get(ticket=ticket, filename="sync.log")
        assert made.sent_items["attachments"] == [log.pk]

    _relay()
    token = f"[SD#{ticket.number}-V{made.pk}]"
    (to_vendor,) = _mails_to(smtp, vendor.email)
    assert to_vendor["Subject"].startswith(token)
    assert f"[SD#{ticket.number}]" not in to_vendor["Subject"]  # not the customer's thread
    assert "Version 4.2.1, log attached." in _text(to_vendor)
    assert "Which version of the add-in?" not in _text(to_vendor)  # not ticked, not sent
    assert "Ola Nordmann" not in _text(to_vendor)
    files = [(a.get_filename(), a.get_content()) for a in to_vendor.iter_attachments()]
    assert files == [("sync.log", LOG.decode())]  # the file chosen, not the screenshot

    (update,) = _updates(smtp, customer)
    assert update["Subject"].startswith(f"[SD#{ticket.number}] Oppdatering: Contacts do not sync")
    assert f"Vi har tatt opp sak {ticket.reference} med programvareleverandøren" in _text(update)
    assert "SuperOffice" not in _text(update) and "SO-4711" not in _text(update)

    answer = EmailMessage()
    answer["From"] = f"SuperOffice Support <{vendor.email}>"
    answer["To"] = to_vendor["From"]
    answer["Subject"] = "Re: " + to_vendor["Subject"]
    answer["Message-ID"] = "<answer-1@superoffice.example>"
    answer["In-Reply-To"] = to_vendor["Message-ID"]
    answer["References"] = to_vendor["Message-ID"]
    answer.set_content("Reproduced: bug BUG-77, fixed in 10.3.2.\n\n> We are escalating a case")
    with DATABASE_TURN:
        comments = Comment.objects.filter(ticket=ticket).count()
        outcome = ingest.ingest(answer.as_bytes(), source="browser-test")
        assert (outcome.outcome, outcome.ticket, outcome.reason) == (
            "replied",
            ticket.reference,
            "vendor thread",
        )
        assert Comment.objects.filter(ticket=ticket).count() == comments
        assert VendorMessage.objects.get(escalation=made, direction="in").sender == vendor.email

    page.reload()
    vendor_thread = page.locator("#vendor-thread")
    expect(vendor_thread.locator(".vendor-in")).to_contain_text("Reproduced: bug BUG-77")
    expect(vendor_thread.locator(".vendor-in")).to_contain_text("From the vendor")
    expect(vendor_thread.locator(".vendor-out")).to_contain_text(token)
    expect(page.locator(".customer-thread")).not_to_contain_text("BUG-77")
    expect(page.locator("#escalation .state.answered")).to_be_visible()

    page.get_by_text("Actions with SuperOffice AS").click()
    page.get_by_label("Reason", exact=True).last.fill("Fix known: 10.3.2")
    page.locator("#escalation").get_by_role("button", name="Return from the vendor").click()
    expect(page.locator("#messages")).to_contain_text("Back from SuperOffice AS.")
    expect(page.locator(".meta .status")).to_have_text("In progress")

    page.get_by_label("Why it goes back down").fill("The specialist's part is done")
    page.get_by_role("button", name="Back down a level").click()
    expect(page.locator("#messages")).to_contain_text("Back down a level.")
    expect(page.locator("#escalation")).to_contain_text("Support level: L1")
    expect(page.get_by_label("Why it goes back down")).to_have_count(0)
    with DATABASE_TURN:
        back = Ticket.objects.select_related("group").get(pk=ticket.pk)
        assert (back.status, back.group.level) == (Status.IN_PROGRESS, "L1")
        assert not Escalation.objects.open().filter(ticket=ticket).exists()

    _relay()  # told the case is back with the desk; not of the hand-over never announced
    updates = _updates(smtp, customer)
    assert len(updates) == 2
    assert f"Teamet vårt jobber med sak {ticket.reference} igjen" in _text(updates[1])
    assert [e for e in agent.console.errors if "favicon.ico" not in e] == []  # no icon yet
