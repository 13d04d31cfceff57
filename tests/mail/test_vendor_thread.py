"""The vendor's thread by email: the escalation mailed to the vendor with its own token and
the items the agent chose, the vendor's answers coming back into that thread (never the
customer's), further messages of the desk, and the owner's reminder of a broken promise."""

from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

import pytest
import time_machine
from django.core.files.base import ContentFile
from django.db import transaction

from servicedesk.core.errors import DomainError
from servicedesk.escalation import services as escalations
from servicedesk.escalation.models import Escalation, VendorMessage
from servicedesk.mail import ingest, outbox, vendors
from servicedesk.mail.models import OutboxMessage
from servicedesk.tickets import services as tickets
from servicedesk.tickets.models import Attachment, Comment, Ticket
from tests.factories import VendorFactory

H = timedelta(hours=1)
MONDAY_9 = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)
_counter = iter(range(1, 10**6))


def at(moment):
    return time_machine.travel(moment, tick=False)


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def vendor(db):
    return VendorFactory(name="SuperOffice AS", email="support@superoffice.example")


@pytest.fixture
def thread(ticket_a, alice, bob, media):
    """bob's ticket with a reply of bob's carrying a log, and two notes of alice's."""
    steps = tickets.add_comment(
        ticket=ticket_a, author=alice, body="Steps: open Outlook, press Sync.", internal=True
    )
    secret = tickets.add_comment(
        ticket=ticket_a, author=alice, body="Customer is on a trial licence.", internal=True
    )
    tickets.add_comment(
        ticket=ticket_a,
        author=bob,
        body="Here is the log.",
        uploads=[
            tickets.Upload(
                filename="sync.log",
                content_type="text/plain",
                file=ContentFile(b"ERROR 0x80004005 sync failed", name="sync.log"),
            )
        ],
    )
    return {"steps": steps, "secret": secret, "log": Attachment.objects.get(ticket=ticket_a)}


def escalate(ticket, alice, vendor, **changes) -> Escalation:
    arguments = {
        "ticket": ticket,
        "vendor": vendor,
        "reason": "Contacts stop syncing after 10.3.2: please investigate.",
        "by": alice,
        "reference": "SO-4711",
        "promised_by": MONDAY_9 + 48 * H,
        **changes,
    }
    with at(MONDAY_9):
        return escalations.escalate_to_vendor(**arguments)


def vendor_mail(escalation) -> OutboxMessage:
    return OutboxMessage.objects.get(to=[escalation.vendor.email])


def raw(*, sender, subject, body="We found the cause.", headers=None) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = "support@servicedesk.localhost"
    message["Subject"] = subject
    message["Message-ID"] = f"<v{next(_counter)}@superoffice.example>"
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(body)
    return message.as_bytes()


# -- out: the escalation mailed to the vendor ----------------------------------------------


def test_escalating_by_email_mails_the_vendor_what_the_agent_chose(
    ticket_a, alice, vendor, thread, mailoutbox
):
    escalation = escalate(
        ticket_a,
        alice,
        vendor,
        sent_comments=[thread["steps"].pk],
        sent_attachments=[thread["log"].pk],
    )

    sent = vendor_mail(escalation)
    token = f"[SD#{ticket_a.number}-V{escalation.pk}]"
    assert sent.subject.startswith(token)
    assert ticket_a.subject_token not in sent.subject  # not the customer's thread token
    assert "please investigate" in sent.body_text
    assert "SO-4711" in sent.body_text
    assert "Steps: open Outlook" in sent.body_text
    assert "trial licence" not in sent.body_text  # not chosen, not sent
    assert "Bob Customer" not in sent.body_text
    assert sent.attachments == [thread["log"].pk]
    (message,) = VendorMessage.objects.filter(escalation=escalation)
    assert (message.direction, message.author, message.subject) == ("out", alice, sent.subject)
    assert f"<{message.message_id}>" == sent.message_id

    assert outbox.send(message_id=sent.pk) == "sent"
    (email,) = mailoutbox
    assert email.to == ["support@superoffice.example"]
    assert email.extra_headers["Message-ID"] == sent.message_id
    assert email.attachments == [("sync.log", "ERROR 0x80004005 sync failed", "text/plain")]


def test_the_contact_address_is_used_when_given(ticket_a, alice, vendor):
    escalation = escalate(
        ticket_a, alice, vendor, contact="Kari Nordmann <kari@superoffice.example>"
    )

    assert OutboxMessage.objects.get(subject__contains="-V").to == ["kari@superoffice.example"]
    assert escalation.messages.count() == 1


def test_a_vendor_reached_by_phone_or_without_an_address_is_not_mailed(ticket_a, alice, vendor):
    escalate(ticket_a, alice, vendor, channel="phone")
    escalate(ticket_a, alice, VendorFactory(email=""))

    assert not OutboxMessage.objects.filter(subject__contains="-V").exists()
    assert not VendorMessage.objects.exists()


def test_a_rolled_back_escalation_mails_nothing(
    reseed_after_flush, transactional_db, ticket_a, alice, vendor
):
    OutboxMessage.objects.all().delete()

    with pytest.raises(RuntimeError), transaction.atomic():
        escalate(ticket_a, alice, vendor)
        assert OutboxMessage.objects.count() == 2  # the vendor's mail and the customer's update
        raise RuntimeError("the change fails after the escalation")

    assert not OutboxMessage.objects.exists()
    assert not VendorMessage.objects.exists()


# -- in: the vendor's answers ----------------------------------------------------------------


def test_the_vendors_reply_to_our_mail_lands_in_the_vendor_thread(ticket_a, alice, vendor):
    escalation = escalate(ticket_a, alice, vendor)
    sent = vendor_mail(escalation)
    comments = Comment.objects.count()

    with at(MONDAY_9 + 5 * H):
        outcome = ingest.ingest(
            raw(
                sender="Kari <kari@superoffice.example>",
                subject="RE: your case",  # no token: the headers thread it
                headers={"In-Reply-To": sent.message_id, "References": sent.message_id},
            ),
            source="test",
        )

    assert (outcome.outcome, outcome.ticket, outcome.reason) == (
        "replied",
        ticket_a.reference,
        "vendor thread",
    )
    answer = VendorMessage.objects.get(escalation=escalation, direction="in")
    assert answer.sender == "kari@superoffice.example"
    assert "We found the cause." in answer.body
    assert Comment.objects.count() == comments  # nothing in the customer's thread
    assert Ticket.objects.count() == 1
    assert Escalation.objects.get(pk=escalation.pk).answered_at == MONDAY_9 + 5 * H


def test_the_vendors_mail_with_the_token_lands_in_the_vendor_thread(ticket_a, alice, vendor):
    escalation = escalate(ticket_a, alice, vendor)
    comments = Comment.objects.count()

    outcome = ingest.ingest(
        raw(
            sender="other.engineer@superoffice.example",
            subject=f"Case 998 {vendors.vendor_token(escalation)} update",
        ),
        source="test",
    )

    assert (outcome.outcome, outcome.reason) == ("replied", "vendor thread")
    assert VendorMessage.objects.filter(escalation=escalation, direction="in").count() == 1
    assert Comment.objects.count() == comments
    assert Escalation.objects.get(pk=escalation.pk).answered_at is not None


def test_a_stranger_using_the_vendor_token_does_not_reach_the_vendor_thread(
    ticket_a, alice, vendor
):
    escalation = escalate(ticket_a, alice, vendor)
    sent = vendor_mail(escalation)

    outcome = ingest.ingest(
        raw(
            sender="mallory@elsewhere.example",
            subject=f"RE: {sent.subject}",
            headers={"In-Reply-To": sent.message_id},
        ),
        source="test",
    )

    assert outcome.reason != "vendor thread"
    assert not VendorMessage.objects.filter(direction="in").exists()
    assert Escalation.objects.get(pk=escalation.pk).answered_at is None
    assert not Comment.objects.filter(ticket=ticket_a, author__email="mallory@elsewhere.example")


def test_a_token_naming_another_tickets_escalation_is_no_vendor_answer(ticket_a, alice, vendor):
    escalation = escalate(ticket_a, alice, vendor)

    found = vendors.find_vendor_token(f"[SD#{ticket_a.number + 1}-V{escalation.pk}]")
    outcome = ingest.ingest(
        raw(sender="kari@superoffice.example", subject=f"[SD#{found[0]}-V{found[1]}]"),
        source="test",
    )

    assert outcome.reason != "vendor thread"
    assert not VendorMessage.objects.filter(direction="in").exists()


def test_the_customer_token_is_not_a_vendor_token():
    assert vendors.find_vendor_token("Re: [SD#10042] sync") is None
    assert vendors.find_vendor_token("Re: [sd#10042-v7] sync") == (10042, 7)


# -- the desk writes again ---------------------------------------------------------------------


def test_a_further_message_to_the_vendor_is_mailed_in_the_thread(ticket_a, alice, vendor):
    escalation = escalate(ticket_a, alice, vendor)
    first = vendor_mail(escalation)

    message = escalations.write_to_vendor(
        escalation=escalation, body="Any news? The customer is waiting.", by=alice
    )

    message.refresh_from_db()
    sent = OutboxMessage.objects.get(message_id=f"<{message.message_id}>")
    assert sent.to == ["support@superoffice.example"]
    assert vendors.vendor_token(escalation) in sent.subject
    assert "Any news?" in sent.body_text
    assert sent.headers["In-Reply-To"] == first.message_id
    assert message.direction == "out"


def test_writing_to_a_vendor_without_an_address_is_refused(ticket_a, alice):
    escalation = escalate(ticket_a, alice, VendorFactory(email=""), channel="phone")

    with pytest.raises(DomainError, match="no email address"):
        escalations.write_to_vendor(escalation=escalation, body="Hello", by=alice)
    assert not VendorMessage.objects.exists()


# -- the owner's reminder ------------------------------------------------------------------------


def test_the_owner_is_reminded_once_of_a_broken_promise(ticket_a, alice, vendor):
    tickets.assign(ticket=ticket_a, assignee=alice, by=alice)
    escalate(ticket_a, alice, vendor)

    with at(MONDAY_9 + 49 * H):
        escalations.sweep_vendor_promises()
        escalations.sweep_vendor_promises()

    (reminder,) = OutboxMessage.objects.filter(to=[alice.email], subject__contains="overdue")
    assert "SuperOffice AS" in reminder.subject
    assert "SO-4711" in reminder.body_text
    assert "2026-11-18" in reminder.body_text or "18" in reminder.body_text
    assert f"/desk/tickets/{ticket_a.number}/" in reminder.body_text
