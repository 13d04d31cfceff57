"""The ingest pipeline on the database: tickets, replies, threading, noise, safety."""

import io
import json
from email.message import EmailMessage

import pytest
from django.core.management import call_command

from servicedesk.accounts.models import EmailDomain, User
from servicedesk.mail import ingest, notifications
from servicedesk.mail.models import InboundMessage, OutboxMessage, Outcome
from servicedesk.tickets import services
from servicedesk.tickets.models import Comment, Event, Ticket, TicketLink
from servicedesk.tickets.workflow import Status

_counter = iter(range(1, 10**6))


def mail(
    *,
    sender="bob@alpha.example",
    subject="CRM sync fails",
    body="Contacts stopped syncing this morning.",
    html: str | None = None,
    message_id: str | None = None,
    headers: dict | None = None,
    to="support@servicedesk.localhost",
    cc: str | None = None,
) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    if cc:
        message["Cc"] = cc
    message["Subject"] = subject
    message["Message-ID"] = message_id or f"<m{next(_counter)}@mail.example>"
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(body)
    if html is not None:
        message.add_alternative(html, subtype="html")
    return message.as_bytes()


def test_a_new_message_opens_a_ticket_for_a_new_contact_in_the_domain_organisation(org_a):
    EmailDomain.objects.create(organisation=org_a, domain="alpha.example")

    outcome = ingest.ingest(
        mail(sender="Dana Doe <Dana@Mail.Alpha.Example>", cc="eve@alpha.example"), source="test"
    )

    ticket = Ticket.objects.get()
    assert (outcome.outcome, outcome.ticket) == ("created", ticket.reference)
    dana = User.objects.get(email="dana@mail.alpha.example")
    assert (dana.full_name, dana.organisation, dana.has_usable_password()) == (
        "Dana Doe",
        org_a,
        False,
    )
    assert (ticket.requester, ticket.organisation, ticket.channel) == (dana, org_a, "email")
    assert ticket.description == "Contacts stopped syncing this morning."
    assert ticket.cc == ["eve@alpha.example"]  # the desk's own address is not copied
    inbound = InboundMessage.objects.get()
    assert (inbound.outcome, inbound.ticket, inbound.sender) == (
        "created",
        ticket,
        "dana@mail.alpha.example",
    )


def test_the_acknowledgement_states_number_priority_and_sla_in_the_requesters_language(
    org_b,
):
    EmailDomain.objects.create(organisation=org_b, domain="bravo.example")

    ingest.ingest(mail(sender="kari@bravo.example", message_id="<first@bravo>"), source="test")

    ticket = Ticket.objects.get()
    ack = OutboxMessage.objects.get(ticket=ticket)
    assert ack.to == ["kari@bravo.example"]
    assert ticket.subject_token in ack.subject
    assert "Mottatt" in ack.subject  # Norwegian: the organisation's language
    assert ticket.reference in ack.body_text
    assert "S4 triage SLA" in ack.body_text
    assert "(Europe/Oslo)" in ack.body_text
    assert ack.headers["In-Reply-To"] == "<first@bravo>"
    assert ack.headers["Auto-Submitted"] == "auto-replied"
    assert ack.message_id.startswith(f"<{ticket.reference}.")


def test_a_reply_to_our_mail_is_added_to_the_same_ticket_with_the_quote_folded(bob):
    ingest.ingest(mail(), source="test")
    ticket = Ticket.objects.get()
    ack = OutboxMessage.objects.get(ticket=ticket)

    outcome = ingest.ingest(
        mail(
            subject="Re: no token here",
            body="It works again.\n\nOn Mon, 23 Nov 2026, Desk wrote:\n> Please restart",
            headers={"In-Reply-To": ack.message_id, "References": ack.message_id},
        ),
        source="test",
    )

    assert (outcome.outcome, outcome.ticket) == ("replied", ticket.reference)
    comment = Comment.objects.get(ticket=ticket)
    assert (comment.body, comment.author, comment.channel) == ("It works again.", bob, "email")
    assert comment.folded.startswith("On Mon, 23 Nov 2026, Desk wrote:")
    assert Ticket.objects.count() == 1


def test_a_reply_to_a_stored_customer_message_threads_by_references(bob):
    ingest.ingest(mail(message_id="<root@alpha>"), source="test")

    outcome = ingest.ingest(
        mail(subject="more", headers={"References": "<root@alpha>"}), source="test"
    )

    assert outcome.outcome == "replied"


def test_the_subject_token_threads_only_for_participants(bob, charlie, org_a):
    ticket = services.create_ticket(by=bob, requester=bob, subject="Sync", channel="portal")
    colleague = User.objects.create_user("carol@alpha.example", organisation=org_a)
    token = f"Re: {ticket.subject_token} Sync"

    by_colleague = ingest.ingest(mail(sender=colleague.email, subject=token), source="test")
    by_stranger = ingest.ingest(mail(sender=charlie.email, subject=token), source="test")

    assert (by_colleague.outcome, by_colleague.ticket) == ("replied", ticket.reference)
    assert by_stranger.outcome == "created"
    assert by_stranger.ticket != ticket.reference
    assert not Comment.objects.filter(ticket=ticket, author=charlie).exists()


def test_a_reply_to_a_closed_ticket_opens_a_new_linked_ticket(bob, alice):
    ticket = services.create_ticket(by=bob, requester=bob, subject="Sync", channel="portal")
    services.confirm_triage(ticket=ticket, urgency=2, impact=2, by=alice)
    services.change_status(ticket=ticket, to=Status.RESOLVED, by=alice)
    services.change_status(ticket=ticket, to=Status.CLOSED, by=alice)

    outcome = ingest.ingest(mail(subject=f"Re: {ticket.subject_token} Sync"), source="test")

    assert outcome.outcome == "created"
    assert ticket.reference in outcome.reason
    new = Ticket.objects.get(number=int(outcome.ticket.split("-")[1]))
    assert TicketLink.objects.filter(source=new, target=ticket, kind="related").exists()
    assert Ticket.objects.get(pk=ticket.pk).status == Status.CLOSED


def test_mail_headers_never_set_internal_fields(bob):
    ingest.ingest(
        mail(headers={"X-Priority": "1 (Highest)", "Importance": "high", "X-Servicedesk-Status": "closed"}),
        source="test",
    )  # fmt: skip

    ticket = Ticket.objects.get()
    assert (ticket.status, ticket.priority, ticket.score) == (Status.NEW, "medium", None)
    assert ticket.proposed_urgency is None and ticket.confirmed_urgency is None


@pytest.mark.parametrize(
    "headers",
    [{"Auto-Submitted": "auto-replied"}, {"Precedence": "bulk"}, {"X-Autoreply": "yes"}],
)
def test_automatic_mail_is_kept_but_opens_nothing_and_is_not_acknowledged(db, headers):
    outcome = ingest.ingest(mail(sender="robot@x.example", headers=headers), source="test")

    assert outcome.outcome == "ignored"
    assert "Automatic mail" in outcome.reason
    assert not Ticket.objects.exists()
    assert not OutboxMessage.objects.exists()
    assert InboundMessage.objects.get().outcome == Outcome.IGNORED


def test_mail_from_our_own_address_is_ignored(db, settings):
    outcome = ingest.ingest(mail(sender="Support <SUPPORT@servicedesk.localhost>"), source="t")

    assert outcome.outcome == "ignored"
    assert not Ticket.objects.exists()


def test_a_bounce_is_noted_on_its_ticket_for_staff_only(bob):
    ingest.ingest(mail(), source="test")
    ticket = Ticket.objects.get()
    ack = OutboxMessage.objects.get(ticket=ticket)
    report = EmailMessage()
    report["From"] = "Mail Delivery System <MAILER-DAEMON@mx.alpha.example>"
    report["To"] = "support@servicedesk.localhost"
    report["Subject"] = "Undelivered Mail Returned to Sender"
    report.set_content("The mailbox is full.")
    original = EmailMessage()
    original["Message-ID"] = ack.message_id
    original["Subject"] = ack.subject
    original.set_content("…")
    report.add_attachment(original)

    outcome = ingest.ingest(report.as_bytes(), source="test")

    assert (outcome.outcome, outcome.ticket) == ("bounced", ticket.reference)
    note = Comment.objects.get(ticket=ticket)
    assert note.internal and "could not be delivered" in note.body
    assert not Comment.objects.visible_to(bob).filter(pk=note.pk).exists()
    assert OutboxMessage.objects.filter(ticket=ticket).count() == 1  # nothing sent about it


def test_a_runaway_sender_is_stopped_by_the_rate_limit(db, settings):
    settings.SERVICEDESK_MAIL_SENDER_LIMIT = 3
    outcomes = [
        ingest.ingest(mail(sender="loop@x.example", subject=f"n{i}"), source="t").outcome
        for i in range(5)
    ]

    assert outcomes == ["created"] * 3 + ["ignored"] * 2
    assert InboundMessage.objects.count() == 5  # kept all the same


def test_the_same_message_twice_is_stored_once_and_reported_as_a_duplicate(db):
    raw = mail(message_id="<once@x>")

    first = ingest.ingest(raw, source="pipe")
    second = ingest.ingest(b"Received: from elsewhere\r\n" + raw, source="imap:desk")

    assert (first.outcome, second.outcome) == ("created", "duplicate")
    assert second.ticket == first.ticket
    assert InboundMessage.objects.count() == 1
    assert Ticket.objects.count() == 1


def test_a_message_stored_by_a_run_that_was_killed_is_processed_by_the_next_run(db):
    raw = mail(message_id="<killed@x>")
    ingest.store(raw, source="pipe")  # the process died right after storing

    again = ingest.ingest(raw, source="pipe")

    assert again.outcome == "created"
    assert InboundMessage.objects.get().outcome == Outcome.CREATED
    assert Ticket.objects.count() == 1


def test_process_unfinished_finishes_what_was_left(db):
    inbound, _ = ingest.store(mail(), source="pipe")
    InboundMessage.objects.filter(pk=inbound.pk).update(
        received_at=inbound.received_at.replace(year=2020)
    )

    outcomes = ingest.process_unfinished()

    assert [o.outcome for o in outcomes] == ["created"]


def test_an_unparseable_message_is_quarantined_with_its_reason_and_kept(db):
    raw = b"Subject: who am I\r\n\r\nno sender anywhere"

    outcome = ingest.ingest(raw, source="pipe")

    assert outcome.outcome == "quarantined"
    assert "no sender" in outcome.reason
    inbound = InboundMessage.objects.get()
    assert bytes(inbound.raw) == raw
    assert not Ticket.objects.exists()


def test_a_failure_while_applying_rolls_back_the_work_and_quarantines(db, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(notifications, "_acknowledge", broken)  # fails after the ticket is made

    outcome = ingest.ingest(mail(), source="pipe")

    assert outcome.outcome == "quarantined"
    assert "disk on fire" in outcome.reason
    assert not Ticket.objects.exists()  # the half-made ticket is gone …
    assert not Event.objects.exists()
    assert InboundMessage.objects.get().outcome == Outcome.QUARANTINED  # … the mail is kept


def test_html_only_mail_is_sanitised_and_gets_a_text_version(db):
    html = '<p>Broken <b>sync</b></p><script>alert("x")</script><img src=x onerror="alert(2)">'
    message = EmailMessage()
    message["From"] = "ann@x.example"
    message["Subject"] = "HTML"
    message.set_content(html, subtype="html")

    ingest.ingest(message.as_bytes(), source="t")

    inbound = InboundMessage.objects.get()
    assert "<script" not in inbound.html and "onerror" not in inbound.html
    assert "<b>sync</b>" in inbound.html
    assert Ticket.objects.get().description == "Broken sync"


def test_attachments_become_ticket_files_and_oversized_ones_stay_in_the_raw_mail(db, settings):
    settings.SERVICEDESK_MAX_ATTACHMENT_BYTES = 1000
    message = EmailMessage()
    message["From"] = "ann@x.example"
    message["Subject"] = "Logs"
    message.set_content("See attached.")
    message.add_attachment(b"small log", maintype="text", subtype="plain", filename="a.log")
    message.add_attachment(b"x" * 5000, maintype="application", subtype="pdf", filename="b.pdf")

    ingest.ingest(message.as_bytes(), source="t")

    ticket = Ticket.objects.get()
    assert [a.filename for a in ticket.attachments.all()] == ["a.log"]
    assert "b.pdf" in ticket.description


def test_the_command_reads_mbox_and_maildir_in_order_and_prints_json(db, tmp_path):
    mbox = tmp_path / "in.mbox"
    mbox.write_bytes(
        b"From a@x Mon Nov 23 10:00:00 2026\n"
        + mail(sender="a@x.example", subject="one")
        + b"\n\nFrom b@x Mon Nov 23 10:01:00 2026\n"
        + mail(sender="b@x.example", subject="two")
        + b"\n"
    )
    maildir = tmp_path / "Maildir"
    for sub in ("new", "cur", "tmp"):
        (maildir / sub).mkdir(parents=True)
    (maildir / "new" / "1700000002.M1P1.host").write_bytes(mail(subject="four"))
    (maildir / "cur" / "1700000001.M1P1.host:2,S").write_bytes(mail(subject="three"))
    out = io.StringIO()

    call_command("mail", "ingest", "--json", str(mbox), str(maildir), stdout=out)

    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [line["outcome"] for line in lines] == ["created"] * 4
    assert set(lines[0]) == {"outcome", "ticket", "message_id", "reason"}
    subjects = list(Ticket.objects.order_by("number").values_list("subject", flat=True))
    assert subjects == ["one", "two", "three", "four"]


def test_a_batch_is_stored_before_processing_and_repeats_inside_it_are_duplicates(db):
    one, two = mail(message_id="<b1@x>"), mail(message_id="<b2@x>", sender="carl@x.example")
    ingest.ingest(two, source="earlier")

    results = list(ingest.ingest_many([("a", one), ("b", one), ("c", two)]))

    assert [(label, o.outcome) for label, o in results] == [
        ("a", "created"),
        ("b", "duplicate"),
        ("c", "duplicate"),
    ]
    assert results[1][1].ticket == results[0][1].ticket
    assert InboundMessage.objects.count() == 2


def test_a_batch_stored_by_a_killed_run_is_processed_once_by_the_next(db):
    batch = [(str(i), mail(message_id=f"<k{i}@x>", sender=f"s{i}@x.example")) for i in range(3)]
    ingest.store_many(batch)  # killed after storing, before processing

    outcomes = [o.outcome for _, o in ingest.ingest_many(batch)]
    again = [o.outcome for _, o in ingest.ingest_many(batch)]

    assert outcomes == ["created"] * 3
    assert again == ["duplicate"] * 3
    assert Ticket.objects.count() == 3


def test_a_chunk_with_one_failing_message_keeps_the_others_and_sends_each_mail_once(
    db, monkeypatch
):
    """A chunk is processed in one transaction; when one of its messages fails, the chunk is
    rolled back and done again message by message: the failing one is quarantined, the
    others are stored once and acknowledged once."""
    apply = ingest._apply

    def fails_on_the_second(inbound, parsed):
        if parsed.subject == "second":
            raise RuntimeError("disk on fire")
        return apply(inbound, parsed)

    monkeypatch.setattr(ingest, "_apply", fails_on_the_second)
    batch = [
        (name, mail(sender=f"{name}@x.example", subject=name, message_id=f"<{name}@x>"))
        for name in ("first", "second", "third")
    ]

    outcomes = [outcome.outcome for _, outcome in ingest.ingest_many(batch)]

    assert outcomes == ["created", "quarantined", "created"]
    assert Ticket.objects.count() == 2
    assert OutboxMessage.objects.filter(dedupe_key__startswith="ack:").count() == 2
    assert InboundMessage.objects.count() == 3
