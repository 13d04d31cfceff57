"""The mail the desk's subscribers write: what each says, to whom, in whose language and
time zone, and that a change which is not one sends nothing."""

from datetime import UTC, datetime

import pytest
import time_machine

from servicedesk.mail.models import OutboxMessage
from servicedesk.tickets import services
from servicedesk.tickets.models import Channel
from tests.factories import CustomerFactory, make_ticket

# A Monday inside the S4 desk's opening hours.
NOW = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _monday():
    with time_machine.travel(NOW, tick=False):
        yield


def test_the_acknowledgement_states_the_proposal_and_that_the_desk_will_confirm_it(bob):
    ticket = make_ticket(requester=bob, urgency=3, impact=2)

    ack = OutboxMessage.objects.get(ticket=ticket, dedupe_key=f"ack:{ticket.pk}")
    assert "Your proposed triage: urgency 3 × impact 2 = score 6 of 16" in ack.body_text
    assert "Our team will confirm it or correct it" in ack.body_text


def test_confirming_the_triage_mails_the_requester_the_score_priority_and_due_times(alice, org_b):
    kari = CustomerFactory(
        email="kari@bravo.example", organisation=org_b, timezone="Europe/Oslo", language="en"
    )
    ticket = make_ticket(requester=kari, urgency=1, impact=1)

    services.confirm_triage(ticket=ticket, urgency=4, impact=3, by=alice)

    mail = OutboxMessage.objects.get(ticket=ticket, dedupe_key__startswith="triage:")
    assert mail.to == ["kari@bravo.example"]
    assert ticket.subject_token in mail.subject
    assert "corrected its triage" in mail.body_text
    assert "urgency 4 × impact 3 = score 12 of 16, priority Critical" in mail.body_text
    assert "Service level: S4 triage SLA." in mail.body_text
    # Critical: first response within 1 hour on 24x7, due 10:00 UTC = 11:00 in Oslo.
    assert "First response: within 1 hour of business time" in mail.body_text
    assert "Nov. 16, 2026, 11 a.m. (Europe/Oslo)" in mail.body_text


def test_confirming_the_proposal_as_it_was_says_confirmed(alice, bob):
    ticket = make_ticket(requester=bob, urgency=2, impact=2)

    services.confirm_triage(ticket=ticket, urgency=2, impact=2, by=alice)

    mail = OutboxMessage.objects.get(ticket=ticket, dedupe_key__startswith="triage:")
    assert "confirmed its triage" in mail.body_text


def test_the_triage_mail_is_in_the_requesters_language(alice, org_b):
    kari = CustomerFactory(email="kari@bravo.example", organisation=org_b, language="nb")
    ticket = make_ticket(requester=kari)

    services.confirm_triage(ticket=ticket, urgency=2, impact=2, by=alice)

    mail = OutboxMessage.objects.get(ticket=ticket, dedupe_key__startswith="triage:")
    assert "Bekreftet" in mail.body_text or "bekreftet" in mail.body_text


def test_the_same_triage_again_is_no_change_and_sends_nothing(alice, bob):
    ticket = make_ticket(requester=bob)
    services.confirm_triage(ticket=ticket, urgency=2, impact=2, by=alice)

    services.confirm_triage(ticket=ticket, urgency=2, impact=2, by=alice)

    assert OutboxMessage.objects.filter(dedupe_key__startswith="triage:").count() == 1


def test_a_customers_own_reply_and_an_internal_note_are_not_mailed(alice, bob):
    ticket = make_ticket(requester=bob)
    before = OutboxMessage.objects.count()

    services.add_comment(ticket=ticket, author=bob, body="More detail.", channel=Channel.PORTAL)
    services.add_comment(ticket=ticket, author=alice, body="Known bug.", internal=True)

    assert OutboxMessage.objects.count() == before
