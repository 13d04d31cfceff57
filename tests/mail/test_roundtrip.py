"""The whole loop through real mail servers: a customer's mail opens a ticket, the
acknowledgement and the desk's reply leave by SMTP (aiosmtpd) threaded to it, an internal
note never leaves, and the customer's answer to the desk's reply lands on the same ticket."""

from email import message_from_bytes, policy
from email.message import EmailMessage

from servicedesk.mail import ingest, outbox
from servicedesk.tickets import services
from servicedesk.tickets.models import Comment, Ticket
from servicedesk.tickets.workflow import Status


def _delivered(smtp) -> list:
    outbox.send_due()
    return [message_from_bytes(e.content, policy=policy.default) for e in smtp.received]


def test_customer_mail_desk_reply_and_customer_answer_stay_on_one_ticket(bob, alice, smtp):
    smtp.start()
    first = EmailMessage()
    first["From"] = "Bob Customer <bob@alpha.example>"
    first["To"] = "support@servicedesk.localhost"
    first["Cc"] = "manager@alpha.example"
    first["Subject"] = "Dynamics 365 plug-in throws an error"
    first["Message-ID"] = "<q1@alpha.example>"
    first.set_content("Since the update the plug-in fails on save.")

    created = ingest.ingest(first.as_bytes(), source="pipe")
    ticket = Ticket.objects.get()
    (ack,) = _delivered(smtp)

    assert created.outcome == "created"
    assert ack["To"] == "bob@alpha.example"
    assert ticket.subject_token in ack["Subject"]
    assert ack["In-Reply-To"] == "<q1@alpha.example>"
    assert ack["Auto-Submitted"] == "auto-replied"

    services.confirm_triage(ticket=ticket, urgency=3, impact=2, by=alice)
    services.add_comment(ticket=ticket, author=alice, body="Please send the trace log.")
    services.add_comment(
        ticket=ticket, author=alice, body="Looks like the known SDK bug", internal=True
    )
    _ack, triaged, reply, copy = _delivered(smtp)

    assert len(smtp.received) == 4  # the internal note never left
    assert "score 6 of 16" in triaged.get_content()  # seed 004: the confirmed score, by mail
    assert triaged["In-Reply-To"] == "<q1@alpha.example>"
    assert "Looks like the known SDK bug" not in reply.as_string()
    assert "Please send the trace log." in reply.get_content()
    assert ticket.subject_token in reply["Subject"]
    # The copied address gets the reply on its own, without the requester's login link.
    assert reply["To"] == "bob@alpha.example" and reply["Cc"] is None
    assert copy["To"] == "manager@alpha.example"
    assert "/portal/enter/" in reply.get_content()
    assert "Please send the trace log." in copy.get_content()
    assert "/portal/enter/" not in copy.get_content()
    assert copy["In-Reply-To"] == "<q1@alpha.example>"
    assert reply["In-Reply-To"] == "<q1@alpha.example>"
    assert "<q1@alpha.example>" in reply["References"]
    assert reply["Message-ID"] != ack["Message-ID"]

    answer = EmailMessage()
    answer["From"] = "bob@alpha.example"
    answer["To"] = "support@servicedesk.localhost"
    answer["Subject"] = "Re: the log"  # no token: the headers alone thread it
    answer["Message-ID"] = "<q2@alpha.example>"
    answer["In-Reply-To"] = reply["Message-ID"]
    answer["References"] = f"{reply['References']} {reply['Message-ID']}"
    answer.set_content(
        "Here it is.\n\nOn Mon, 23 Nov 2026, Alice Agent wrote:\n> Please send the trace log."
    )

    replied = ingest.ingest(answer.as_bytes(), source="pipe")

    assert (replied.outcome, replied.ticket) == ("replied", ticket.reference)
    comment = Comment.objects.filter(ticket=ticket, author=bob).get()
    assert comment.body == "Here it is."
    assert "Please send the trace log." in comment.folded
    assert Ticket.objects.count() == 1


def test_a_customer_reply_by_mail_resumes_a_ticket_waiting_on_them(bob, alice, smtp):
    smtp.start()
    ticket = services.create_ticket(by=bob, requester=bob, subject="Export", channel="portal")
    services.confirm_triage(ticket=ticket, urgency=2, impact=2, by=alice)
    services.add_comment(ticket=ticket, author=alice, body="Which version do you run?")
    services.change_status(ticket=ticket, to=Status.WAITING_ON_CUSTOMER, by=alice)
    question = _delivered(smtp)[-1]
    answer = EmailMessage()
    answer["From"] = "bob@alpha.example"
    answer["Subject"] = f"Re: {question['Subject']}"
    answer["In-Reply-To"] = question["Message-ID"]
    answer.set_content("Version 9.2")

    ingest.ingest(answer.as_bytes(), source="pipe")

    assert Ticket.objects.get(pk=ticket.pk).status != Status.WAITING_ON_CUSTOMER
