"""Threading by the subject token with the configured prefix, through the one parser of
ticket references; the command's output names tickets as everything else does (``HD-10001``)."""

import io
import json

import pytest
from django.core.management import call_command

from servicedesk.mail import ingest
from servicedesk.tickets.models import Comment, Ticket
from tests.factories import make_ticket
from tests.mail.test_ingest import mail

pytestmark = pytest.mark.django_db


@pytest.fixture
def hd(settings):
    settings.SERVICEDESK_TICKET_PREFIX = "HD"


def test_a_reply_threads_by_the_token_with_the_configured_prefix(hd, bob):
    ticket = make_ticket(requester=bob)
    assert ticket.subject_token == f"[HD#{ticket.number}]"

    outcome = ingest.ingest(
        mail(subject=f"RE: AW: [hd#{ticket.number}] Sync", message_id="<hd-1@x>"), source="test"
    )

    assert (outcome.outcome, outcome.ticket) == ("replied", f"HD-{ticket.number}")
    assert Comment.objects.get(ticket=ticket).body == "Contacts stopped syncing this morning."


@pytest.mark.parametrize(
    "subject",
    [
        "Re: [SD#{n}] Sync",  # the prefix of another desk, or of this one before
        "Re: HD-{n} Sync",  # a reference in words is no token
        "Re: [HD#0{n}x] Sync",
        "Re: [HD#99999999999999999999] Sync",  # no column holds it: a new ticket, no error
    ],
)
def test_anything_else_opens_a_new_ticket(hd, bob, subject):
    ticket = make_ticket(requester=bob)

    outcome = ingest.ingest(mail(subject=subject.format(n=ticket.number)), source="test")

    assert outcome.outcome == "created"
    assert outcome.ticket != ticket.reference
    assert Ticket.objects.count() == 2
    assert not Comment.objects.filter(ticket=ticket).exists()


def test_the_ingest_command_names_tickets_with_the_prefix(hd, bob, tmp_path, capsys):
    ticket = make_ticket(requester=bob)
    path = tmp_path / "reply.eml"
    path.write_bytes(mail(subject=f"Re: {ticket.subject_token}", message_id="<hd-2@x>"))

    call_command("mail", "ingest", "--json", str(path))
    (line,) = capsys.readouterr().out.splitlines()

    assert json.loads(line)["ticket"] == f"HD-{ticket.number}"
    out = io.StringIO()
    call_command("mail", "ingest", str(path), stdout=out)  # again: a duplicate, same name
    assert f"HD-{ticket.number}" in out.getvalue()
