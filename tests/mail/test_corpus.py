"""Every message of the shared corpus (mail that broke other desks) through
``servicedesk mail ingest``: none crashes, each becomes a ticket, a reply, a bounce, ignored
automatic mail or a quarantine entry with a reason, and where an expected-result file lies
beside a message, the sender, subject and body match it."""

import io
import json

import pytest
import yaml
from django.core.management import call_command

from servicedesk.mail.models import InboundMessage
from servicedesk.mail.parsing import html_to_text
from servicedesk.tickets.models import Ticket
from tests.mail.conftest import CORPUS

MESSAGES = sorted(CORPUS.glob("*/*.box")) + sorted(CORPUS.glob("*/*.eml"))
KNOWN = {"created", "replied", "bounced", "ignored", "quarantined"}


class _RubyTolerantLoader(yaml.SafeLoader):
    pass


_RubyTolerantLoader.add_multi_constructor(
    "!ruby/", lambda loader, suffix, node: loader.construct_mapping(node, deep=True)
)


def _ingest(*paths) -> list[dict]:
    out = io.StringIO()
    call_command("mail", "ingest", "--json", *map(str, paths), stdout=out)
    return [json.loads(line) for line in out.getvalue().splitlines()]


def _words(text: str) -> str:
    return " ".join(text.split())


def test_the_corpus_is_there():
    assert len(MESSAGES) >= 49


def test_every_corpus_message_is_kept_with_an_outcome_and_a_second_run_stores_nothing(db):
    outcomes = _ingest(*MESSAGES)

    assert len(outcomes) == len(MESSAGES)
    for path, outcome in zip(MESSAGES, outcomes, strict=True):
        assert outcome["outcome"] in KNOWN, path.name
        if outcome["outcome"] in ("created", "replied"):
            assert outcome["ticket"], path.name
        else:
            assert outcome["reason"], path.name
    assert InboundMessage.objects.count() == len(MESSAGES)
    assert not InboundMessage.objects.filter(outcome="received").exists()
    # The corpus holds two different messages sharing one Message-ID: both are kept.
    assert (
        InboundMessage.objects.filter(message_id__contains="@app129169.gva3.jira.com").count() == 2
    )

    again = _ingest(*MESSAGES)

    assert {o["outcome"] for o in again} == {"duplicate"}
    assert InboundMessage.objects.count() == len(MESSAGES)


def test_automatic_mail_and_bounces_in_the_corpus_open_no_ticket(db):
    noisy = [
        "mail033-undelivered-mail-returned-to-sender-notification.box",  # DSN
        "mail052.box",  # MAILER-DAEMON
        "mail055.box",  # DSN of an auto-reply
        "mail067.box",  # X-KasLoop
        "mail089.box",  # ServiceNow, Precedence: bulk
        "mail090.box",
    ]
    outcomes = _ingest(*(CORPUS / "zammad" / name for name in noisy))

    assert [o["outcome"] for o in outcomes] == [
        "bounced", "bounced", "bounced", "ignored", "ignored", "ignored",
    ]  # fmt: skip
    assert not Ticket.objects.exists()


@pytest.mark.parametrize("expected", sorted(CORPUS.glob("*/*.yml")), ids=lambda p: p.name)
def test_messages_with_an_expected_result_match_it(db, expected):
    want = yaml.load(expected.read_text(), Loader=_RubyTolerantLoader)
    message = expected.with_suffix(".box")

    (outcome,) = _ingest(message)

    inbound = InboundMessage.objects.get()
    if "from_email" in want:
        assert inbound.sender == want["from_email"].lower()
    if "subject" in want:
        assert inbound.subject == _words(want["subject"])
    if want.get("body"):
        body = want["body"]
        if want.get("content_type") == "text/html":
            body = html_to_text(body)
        first_line = next(line for line in body.splitlines() if line.strip())
        assert _words(first_line) in _words(inbound.text)
    if outcome["outcome"] == "created":
        ticket = Ticket.objects.get()
        assert ticket.requester.email == inbound.sender
        assert _words(ticket.subject) == inbound.subject[:250]
