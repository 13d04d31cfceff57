"""Mail never speaks for the desk unverified (issue 12): who a message is from, threading
by headers, delivery reports, control characters and the size limit."""

from email.message import EmailMessage

import pytest
from django.utils.timezone import now

from servicedesk.mail import ingest
from servicedesk.mail.models import InboundMessage, OutboxMessage, Outcome
from servicedesk.tickets.models import Comment, Ticket
from tests.mail.test_ingest import mail

TRUSTED = "mx.desk.example"
AR_PASS = f"{TRUSTED}; dkim=pass header.d=desk.example; dmarc=pass header.from=desk.example"


@pytest.fixture
def trusted_server(settings):
    settings.SERVICEDESK_MAIL_TRUSTED_AUTHSERV_IDS = [TRUSTED]


def _staff_reply(ticket, *, headers=None, sender="Alice Agent <alice@desk.example>"):
    return mail(
        sender=sender,
        subject=f"Re: [SD#{ticket.number}] CRM sync fails",
        body="Please restart the sync service; it will pick up from where it stopped.",
        headers=headers,
    )


def raw_mail(sender: str, *, subject: str = "CRM sync fails", cc: str = "") -> bytes:
    """A message written byte for byte (a library would re-encode the headers under test)."""
    lines = [f"From: {sender}", "To: support@servicedesk.localhost"]
    lines += [f"Cc: {cc}"] if cc else []
    lines += [f"Subject: {subject}", f"Message-ID: <raw-{abs(hash(sender + cc))}@x.example>"]
    lines += ["Content-Type: text/plain; charset=utf-8", "", "Contacts stopped syncing."]
    return "\r\n".join(lines).encode()


def _sent_to(ticket) -> list[list[str]]:
    return [m.to + m.cc for m in OutboxMessage.objects.filter(ticket=ticket)]


def test_staff_from_without_a_vouching_server_becomes_an_unverified_note(
    ticket_a, alice, trusted_server
):
    before = OutboxMessage.objects.filter(ticket=ticket_a).count()

    outcome = ingest.ingest(_staff_reply(ticket_a), source="test")

    assert (outcome.outcome, outcome.ticket) == ("replied", ticket_a.reference)
    assert "Unverified sender alice@desk.example" in outcome.reason
    note = Comment.objects.get(ticket=ticket_a)
    assert note.internal and note.author is None
    assert note.body.startswith("Unverified email from Alice Agent <alice@desk.example>")
    assert "restart the sync service" in note.body
    assert OutboxMessage.objects.filter(ticket=ticket_a).count() == before  # nothing mailed


def test_staff_from_vouched_for_by_the_trusted_server_is_a_public_reply(
    ticket_a, alice, trusted_server
):
    before = OutboxMessage.objects.filter(ticket=ticket_a).count()

    outcome = ingest.ingest(
        _staff_reply(ticket_a, headers={"Authentication-Results": AR_PASS}), source="test"
    )

    assert outcome.outcome == "replied" and not outcome.reason
    reply = Comment.objects.get(ticket=ticket_a)
    assert (reply.author, reply.internal) == (alice, False)
    assert OutboxMessage.objects.filter(ticket=ticket_a).count() == before + 1  # mailed


@pytest.mark.parametrize(
    "results",
    [
        # another server's word counts for nothing
        "mx.attacker.example; dmarc=pass header.from=desk.example",
        # the trusted server, but the check failed
        f"{TRUSTED}; dmarc=fail header.from=desk.example; dkim=fail header.d=desk.example",
        # DKIM passed for the attacker's own domain: not aligned with From
        f"{TRUSTED}; dkim=pass header.d=attacker.example; spf=pass smtp.mailfrom=m@attacker.example",
        # unreadable
        f"{TRUSTED}; ;;; dmarc",
    ],
)
def test_results_that_do_not_vouch_leave_staff_mail_unverified(
    ticket_a, alice, trusted_server, results
):
    outcome = ingest.ingest(
        _staff_reply(ticket_a, headers={"Authentication-Results": results}), source="test"
    )

    assert "Unverified sender" in outcome.reason
    assert not Comment.objects.filter(ticket=ticket_a, author=alice).exists()


def test_with_no_trusted_server_configured_staff_mail_is_never_taken_as_staff(ticket_a, alice):
    outcome = ingest.ingest(
        _staff_reply(ticket_a, headers={"Authentication-Results": AR_PASS}), source="test"
    )

    assert "no receiving mail server is trusted" in outcome.reason
    assert Comment.objects.get(ticket=ticket_a).internal


def test_unverified_staff_mail_naming_no_ticket_is_quarantined(alice, trusted_server):
    outcome = ingest.ingest(mail(sender="alice@desk.example", subject="Hello"), source="test")

    assert outcome.outcome == "quarantined" and "names no ticket" in outcome.reason
    assert not Ticket.objects.exists()


def test_an_address_in_an_encoded_display_name_is_only_a_name(ticket_a, alice, trusted_server):
    raw = raw_mail(
        "=?utf-8?q?Alice_Agent_=3Calice=40desk.example=3E?= <mallory@attacker.example>",
        subject=f"Re: [SD#{ticket_a.number}] CRM sync fails",
    )

    outcome = ingest.ingest(raw, source="test")

    inbound = InboundMessage.objects.get()
    assert inbound.sender == "mallory@attacker.example"
    assert outcome.outcome == "created"  # a stranger: a ticket of their own
    ticket = Ticket.objects.exclude(pk=ticket_a.pk).get()
    assert ticket.requester.email == "mallory@attacker.example"
    assert ticket.requester.full_name == "Alice Agent <alice@desk.example>"
    assert not Comment.objects.filter(ticket=ticket_a).exists()


def test_line_breaks_in_an_encoded_name_add_no_recipient(db):
    # "Eve\r\nBcc: victim@target.example" as an encoded display name
    raw = raw_mail(
        "=?utf-8?q?Eve=0D=0ABcc=3A_victim=40target=2Eexample?= <eve@customer.example>",
        cc="=?utf-8?b?Q2MgDQpCY2M6IHZpY3RpbUB0YXJnZXQuZXhhbXBsZQ==?= <carol@customer.example>",
    )

    ingest.ingest(raw, source="test")

    ticket = Ticket.objects.get()
    assert ticket.requester.email == "eve@customer.example"
    assert "\n" not in ticket.requester.full_name and "\r" not in ticket.requester.full_name
    assert ticket.cc == ["carol@customer.example"]
    recipients = [a for r in _sent_to(ticket) for a in r]
    assert recipients and not any("victim" in a for a in recipients)
    ack = OutboxMessage.objects.get(ticket=ticket)
    assert not any("victim" in str(v) for v in ack.headers.values())


def test_a_stranger_quoting_a_message_id_of_another_conversation_opens_a_new_ticket(
    ticket_a, charlie
):
    sent = OutboxMessage.objects.create(
        ticket=ticket_a, to=["bob@alpha.example"], subject="x", body_text="x",
        message_id="<reply-1@servicedesk.localhost>", dedupe_key="t1", next_attempt_at=now(), created_at=now(),
    )  # fmt: skip
    raw = mail(
        sender=charlie.email,
        subject="Re: your message",
        headers={"In-Reply-To": sent.message_id, "References": sent.message_id},
    )

    outcome = ingest.ingest(raw, source="test")

    assert outcome.outcome == "created" and outcome.ticket != ticket_a.reference
    assert not Comment.objects.filter(ticket=ticket_a).exists()


def test_a_participant_replying_by_message_id_still_lands_on_the_ticket(ticket_a, bob):
    sent = OutboxMessage.objects.create(
        ticket=ticket_a, to=[bob.email], subject="x", body_text="x",
        message_id="<reply-2@servicedesk.localhost>", dedupe_key="t2", next_attempt_at=now(), created_at=now(),
    )  # fmt: skip

    outcome = ingest.ingest(
        mail(sender=bob.email, subject="Re: x", headers={"In-Reply-To": sent.message_id}),
        source="test",
    )

    assert (outcome.outcome, outcome.ticket) == ("replied", ticket_a.reference)


def test_a_forged_delivery_report_naming_a_token_writes_nothing(ticket_a):
    report = EmailMessage()
    report["From"] = "MAILER-DAEMON@anywhere.example"
    report["To"] = "support@servicedesk.localhost"
    report["Subject"] = f"Undelivered: [SD#{ticket_a.number}] CRM sync fails"
    report.set_content("Your message could not be delivered.")
    original = EmailMessage()
    original["Message-ID"] = "<not-ours@anywhere.example>"
    original["Subject"] = f"[SD#{ticket_a.number}] CRM sync fails"
    original.set_content("…")
    report.add_attachment(original)

    outcome = ingest.ingest(report.as_bytes(), source="test")

    assert outcome.outcome == "bounced" and outcome.ticket is None
    assert "names no message the desk sent" in outcome.reason
    assert not Comment.objects.filter(ticket=ticket_a).exists()


def test_nul_and_control_characters_are_removed_before_storing(bob):
    raw = (
        b"From: Bob\x00 Customer <bob@alpha.example>\r\n"
        b"To: support@servicedesk.localhost\r\n"
        b"Subject: CRM\x00 sync\x07 fails\r\n"
        b"Message-ID: <nul-1@alpha.example>\r\n"
        b"Content-Type: text/plain; charset=utf-8\r\n\r\n"
        b"Contacts\x00 stopped\x1b syncing.\r\n\tIndented line.\r\n"
    )

    outcome = ingest.ingest(raw, source="test")

    assert outcome.outcome == "created"
    ticket = Ticket.objects.get()
    assert ticket.subject == "CRM sync fails"
    assert ticket.description == "Contacts stopped syncing.\n\tIndented line."
    inbound = InboundMessage.objects.get()
    assert "\x00" not in inbound.subject + inbound.text
    assert bytes(inbound.raw) == raw  # the original is kept as received


def test_a_message_over_the_size_limit_is_kept_raw_and_quarantined(db, settings):
    settings.SERVICEDESK_MAIL_MAX_BYTES = 2000
    raw = mail(body="x" * 5000)

    outcome = ingest.ingest(raw, source="test")

    assert outcome.outcome == "quarantined"
    assert "over the limit of 2,000" in outcome.reason
    inbound = InboundMessage.objects.get()
    assert (bytes(inbound.raw), inbound.outcome, inbound.subject) == (raw, Outcome.QUARANTINED, "")
    assert not Ticket.objects.exists()


def test_many_messages_in_one_run_quarantine_the_oversized_one_only(db, settings):
    settings.SERVICEDESK_MAIL_MAX_BYTES = 2000
    batch = [("small", mail(subject="small")), ("big", mail(body="y" * 5000))]

    outcomes = dict(ingest.ingest_many(batch))

    assert (outcomes["small"].outcome, outcomes["big"].outcome) == ("created", "quarantined")


class TestCustomerVerification:
    def test_off_by_default_a_customer_is_who_their_from_says(self, ticket_a, bob, settings):
        settings.SERVICEDESK_MAIL_TRUSTED_AUTHSERV_IDS = [TRUSTED]
        outcome = ingest.ingest(
            mail(sender=bob.email, subject=f"Re: [SD#{ticket_a.number}] x"), source="test"
        )
        assert outcome.outcome == "replied"
        assert Comment.objects.get(ticket=ticket_a).author == bob

    def test_on_an_unverified_customer_reply_is_a_note_and_a_new_message_quarantined(
        self, ticket_a, bob, settings
    ):
        settings.SERVICEDESK_MAIL_TRUSTED_AUTHSERV_IDS = [TRUSTED]
        settings.SERVICEDESK_MAIL_VERIFY_CUSTOMERS = True

        reply = ingest.ingest(
            mail(sender=bob.email, subject=f"Re: [SD#{ticket_a.number}] x"), source="test"
        )
        new = ingest.ingest(mail(sender=bob.email, subject="Another problem"), source="test")

        assert reply.outcome == "replied" and "Unverified sender" in reply.reason
        assert Comment.objects.get(ticket=ticket_a).internal
        assert new.outcome == "quarantined"
        assert Ticket.objects.count() == 1

    def test_on_a_vouched_customer_is_served_as_usual(self, ticket_a, bob, settings):
        settings.SERVICEDESK_MAIL_TRUSTED_AUTHSERV_IDS = [TRUSTED]
        settings.SERVICEDESK_MAIL_VERIFY_CUSTOMERS = True
        results = f"{TRUSTED}; spf=pass smtp.mailfrom=bounces@mail.alpha.example"

        outcome = ingest.ingest(
            mail(sender=bob.email, subject="New", headers={"Authentication-Results": results}),
            source="test",
        )

        assert outcome.outcome == "created"
