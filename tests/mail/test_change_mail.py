"""The mail of change management (issue 16 items 1, 4, 5): the requester told of the
conversion, the administrators asked to approve with their own signed links, told at once of
an urgent CR, the decision told to the requester and the owner, and the monthly report with
its PDF; each once, to the right people, in their language and time zone."""

import base64
import email
import io
import re
from datetime import UTC, datetime
from decimal import Decimal
from email import policy

import pypdf
import pytest
import time_machine

from servicedesk.accounts.models import CustomerRole
from servicedesk.changes import services
from servicedesk.changes.links import read_approval_token
from servicedesk.changes.models import ChangeEvent, ChangeEventKind, ChangeRequest
from servicedesk.changes.workflow import Stage
from servicedesk.core import events
from servicedesk.mail import changes as change_mail
from servicedesk.mail import outbox
from servicedesk.mail.models import OutboxMessage
from tests.factories import CustomerFactory, make_ticket

NOW = datetime(2026, 12, 3, 9, 30, tzinfo=UTC)  # Thursday 3 December, 10:30 in Oslo
LINK = re.compile(r"https://desk\.example/portal/changes/decide/([^/\s]+)/")


@pytest.fixture(autouse=True)
def _desk(settings):
    settings.SERVICEDESK_BASE_URL = "https://desk.example"


@pytest.fixture(autouse=True)
def _now():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def nora(org_a):
    """org_a's second administrator, who reads Norwegian in Oslo."""
    return CustomerFactory(
        email="nora@alpha.example",
        full_name="Nora Admin",
        organisation=org_a,
        customer_role=CustomerRole.CUSTOMER_ADMIN,
        language="nb",
        timezone="Europe/Oslo",
    )


def _open(requester, **fields) -> ChangeRequest:
    fields.setdefault("title", "A field for the contract end date")
    fields.setdefault("description", "Sales want to see when each contract ends.")
    return services.open_change(
        organisation=requester.organisation, requester=requester, by=requester, **fields
    )


def _assessed(change: ChangeRequest, staff, *, hours: str = "12.5") -> ChangeRequest:
    change = services.move_stage(change=change, to=Stage.ASSESSMENT, by=staff)
    return services.update_change(
        change=change, by=staff, effort_hours=Decimal(hours), chargeable=True
    )


def _awaiting(change: ChangeRequest, staff) -> ChangeRequest:
    return services.move_stage(
        change=_assessed(change, staff), to=Stage.AWAITING_APPROVAL, by=staff
    )


def _mails(prefix: str) -> list[OutboxMessage]:
    return list(OutboxMessage.objects.filter(dedupe_key__startswith=prefix).order_by("pk"))


def _to(mails) -> dict[str, OutboxMessage]:
    return {m.to[0]: m for m in mails}


# ---- Conversion ---------------------------------------------------------------------------


def test_a_converted_ticket_tells_its_requester_in_their_language_in_the_ticket_thread(
    alice, bob, bob_admin
):
    bob.language = "nb"
    bob.save()
    ticket = make_ticket(requester=bob, subject="Contract end date on companies")

    change = services.convert_ticket(ticket=ticket, by=alice)

    (mail,) = _mails("change-converted:")
    assert mail.to == ["bob@alpha.example"]
    assert mail.ticket == ticket  # in the ticket's thread
    assert change.reference in mail.subject
    assert ticket.subject_token in mail.subject
    assert change.reference in mail.body_text
    assert "1. januar 2027" in mail.body_text  # the next report, in Norwegian
    assert "/portal/enter/" in mail.body_text  # bob's own login link
    assert not _mails("change-approval:")  # nobody is asked anything yet


def test_a_converted_ticket_says_it_is_queued_for_the_report_on_the_first(alice, bob):
    ticket = make_ticket(requester=bob)

    services.convert_ticket(ticket=ticket, by=alice)

    (mail,) = _mails("change-converted:")
    assert "Change Request queue" in mail.body_text
    assert "Change Request Update report" in mail.body_text
    assert "Jan. 1, 2027" in mail.body_text
    assert "mark it urgent" in mail.body_text


# ---- Approval requested -------------------------------------------------------------------


def test_each_administrator_is_asked_once_with_their_own_links_in_their_language(
    alice, bob, bob_admin, nora
):
    change = _awaiting(_open(bob, description="Sales want it.\nOn every company."), alice)

    mails = _to(_mails("change-approval:"))

    assert set(mails) == {"admin@alpha.example", "nora@alpha.example"}  # not bob
    english, norwegian = mails["admin@alpha.example"], mails["nora@alpha.example"]
    assert english.subject == (
        f"[{change.reference}] Your approval is requested: A field for the contract end date"
    )
    assert "Chargeable: Yes" in english.body_text
    assert "12.5 h" in english.body_text
    assert "    On every company." in english.body_text
    assert "Dec. 3, 2026, 9:30 a.m." in english.body_text  # London
    assert "12,5 h" in norwegian.body_text
    assert "3. desember 2026 10:30" in norwegian.body_text  # Oslo
    for address, mail in mails.items():
        approve, unapprove = LINK.findall(mail.body_text)
        links = [read_approval_token(approve), read_approval_token(unapprove)]
        assert [link.administrator.email for link in links] == [address, address]
        assert [link.approved for link in links] == [True, False]
        assert {link.approval_round for link in links} == {change.approval_round}


def test_the_approval_request_is_not_mailed_twice_for_the_same_round(alice, bob, bob_admin):
    change = _awaiting(_open(bob), alice)
    asked = list(ChangeEvent.objects.filter(change=change, kind=ChangeEventKind.APPROVAL_REQUESTED))

    events.publish(asked)  # delivered again

    assert len(_mails("change-approval:")) == 1


def test_a_resubmitted_change_asks_again_with_the_new_rounds_links(alice, bob, bob_admin):
    change = _awaiting(_open(bob), alice)
    change = services.decide(change=change, approved=False, by=bob_admin)

    change = services.move_stage(change=change, to=Stage.AWAITING_APPROVAL, by=alice)

    first, second = _mails("change-approval:")
    assert read_approval_token(LINK.findall(first.body_text)[0]).approval_round == 1
    assert read_approval_token(LINK.findall(second.body_text)[0]).approval_round == 2


# ---- Urgent -------------------------------------------------------------------------------


def test_an_urgent_change_awaiting_approval_mails_the_administrators_at_once_with_links(
    alice, bob, bob_admin, nora
):
    change = _awaiting(_open(bob), alice)

    services.mark_urgent(change=change, by=bob)

    mails = _to(_mails("change-urgent:"))
    assert set(mails) == {"admin@alpha.example", "nora@alpha.example"}
    mail = mails["admin@alpha.example"]
    assert mail.subject.startswith(f"[{change.reference}] URGENT")
    assert "Bob Customer marked change request" in mail.body_text
    assert len(LINK.findall(mail.body_text)) == 2


def test_an_urgent_change_still_in_assessment_says_the_approval_request_follows(
    alice, bob, bob_admin
):
    change = _assessed(_open(bob), alice)

    services.mark_urgent(change=change, by=bob)

    (mail,) = _mails("change-urgent:")
    assert not LINK.findall(mail.body_text)
    assert "We are assessing it urgently" in mail.body_text


def test_a_change_opened_urgent_tells_the_administrators_once(bob, bob_admin):
    _open(bob, urgent=True)

    assert [m.to for m in _mails("change-urgent:")] == [["admin@alpha.example"]]


# ---- Decision -----------------------------------------------------------------------------


def test_the_decision_is_told_to_the_requester_and_the_owner_not_to_who_decided(
    alice, bob, bob_admin
):
    change = _awaiting(_open(bob), alice)
    services.update_change(change=change, by=alice, assignee=alice)

    services.decide(change=change, approved=True, by=bob_admin, comment="Go ahead in January.")

    mails = _to(_mails("change-decided:"))
    assert set(mails) == {"bob@alpha.example", "alice@desk.example"}
    for mail in mails.values():
        assert mail.subject == f"[{change.reference}] Approved: A field for the contract end date"
        assert "Go ahead in January." in mail.body_text
    assert "/portal/enter/" in mails["bob@alpha.example"].body_text
    assert "/portal/enter/" not in mails["alice@desk.example"].body_text  # staff: no login link


def test_a_change_not_approved_tells_the_requester_in_their_language(alice, bob, bob_admin):
    bob.language = "nb"
    bob.save()
    change = _awaiting(_open(bob), alice)

    services.decide(change=change, approved=False, by=bob_admin)

    (mail,) = _mails("change-decided:")
    assert mail.to == ["bob@alpha.example"]
    assert "3. desember 2026" in mail.body_text


# ---- The monthly report -------------------------------------------------------------------


def _pdf_text(message: OutboxMessage) -> str:
    (made,) = [a for a in message.attachments if isinstance(a, dict)]
    assert made["content_type"] == "application/pdf"
    reader = pypdf.PdfReader(io.BytesIO(base64.b64decode(made["base64"])))
    return "\n".join(page.extract_text() for page in reader.pages)


def test_the_report_mails_each_administrator_html_text_and_a_pdf_of_the_crs_not_approved(
    org_a, alice, bob, bob_admin, nora
):
    waiting = _awaiting(_open(bob, title="Contract end date"), alice)
    requested = _open(bob, title="Export to the ERP")
    done = _awaiting(_open(bob, title="Already approved"), alice)
    services.decide(change=done, approved=True, by=bob_admin)

    services.send_monthly_report(organisation=org_a, month=NOW.date())

    mails = _to(_mails("change-report:"))
    assert set(mails) == {"admin@alpha.example", "nora@alpha.example"}
    for address, mail in mails.items():
        for text in (mail.body_text, mail.body_html, _pdf_text(mail)):
            assert waiting.reference in text
            assert requested.reference in text
            assert done.reference not in text
        # The links of the CR awaiting approval, the reader's own; none in the PDF.
        for body in (mail.body_text, mail.body_html):
            tokens = LINK.findall(body)
            assert len(tokens) == 2
            assert {read_approval_token(t).change.pk for t in tokens} == {waiting.pk}
            assert {read_approval_token(t).administrator.email for t in tokens} == {address}
        assert "/portal/changes/decide/" not in _pdf_text(mail)
        assert f"https://desk.example/portal/changes/{requested.number}/" in mail.body_text
    assert "Change Request Update: Alpha Logistics Ltd, December 2026" in (
        mails["admin@alpha.example"].subject
    )
    assert "desember 2026" in mails["nora@alpha.example"].subject
    assert "<table" in mails["nora@alpha.example"].body_html


def test_the_report_goes_out_as_an_email_with_the_pdf_attached(smtp, org_a, alice, bob, bob_admin):
    change = _awaiting(_open(bob), alice)
    OutboxMessage.objects.all().delete()  # the approval request
    services.send_monthly_report(organisation=org_a, month=NOW.date())
    smtp.start()

    outbox.send_due()

    (envelope,) = smtp.received
    message = email.message_from_bytes(envelope.content, policy=policy.default)
    assert envelope.rcpt_tos == ["admin@alpha.example"]
    assert message.get_body(("plain",)).get_content().count(change.reference) >= 1
    assert "<table" in message.get_body(("html",)).get_content()
    (attachment,) = list(message.iter_attachments())
    assert attachment.get_filename() == "change-request-update-2026-12.pdf"
    assert attachment.get_content_type() == "application/pdf"
    pdf = pypdf.PdfReader(io.BytesIO(attachment.get_content()))
    assert change.reference in pdf.pages[0].extract_text()


def test_a_report_delivered_twice_mails_nobody_twice(org_a, alice, bob, bob_admin):
    _awaiting(_open(bob), alice)
    report = services.send_monthly_report(organisation=org_a, month=NOW.date())

    change_mail.mail_report([report], {})

    assert len(_mails("change-report:")) == 1
