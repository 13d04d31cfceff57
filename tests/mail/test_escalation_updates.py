"""The customer kept informed of escalations: a short update in their language and time
zone, where the case is (never the vendor's name or references) and by when they will next
hear from us; nothing when the agent chose not to tell them."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from servicedesk.escalation import services as escalations
from servicedesk.mail import escalation_updates
from servicedesk.mail.models import OutboxMessage
from servicedesk.sla.selectors import current_clocks
from servicedesk.tickets import services as tickets
from tests.factories import VendorFactory, make_ticket

H = timedelta(hours=1)
MONDAY_9 = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)


def at(moment):
    return time_machine.travel(moment, tick=False)


@pytest.fixture
def vendor(db):
    return VendorFactory(name="SuperOffice AS", email="support@superoffice.example")


@pytest.fixture
def french_ticket(bob):
    bob.language, bob.timezone = "fr", "Europe/Paris"
    bob.save()
    with at(MONDAY_9):
        return make_ticket(requester=bob, urgency=2, impact=2)


@pytest.fixture
def norwegian_ticket(charlie):
    charlie.language, charlie.timezone = "nb", "Europe/Oslo"
    charlie.save()
    with at(MONDAY_9):
        return make_ticket(requester=charlie, urgency=2, impact=2)


def updates(ticket) -> list[OutboxMessage]:
    return list(
        OutboxMessage.objects.filter(
            to=[ticket.requester.email], dedupe_key__startswith="escalation-update:"
        ).order_by("pk")
    )


def test_a_vendor_escalation_tells_the_customer_without_naming_the_vendor(
    french_ticket, alice, vendor
):
    with at(MONDAY_9 + H):
        escalations.escalate_to_vendor(
            ticket=french_ticket,
            vendor=vendor,
            reason="Sync bug in the add-in",
            by=alice,
            reference="SO-4711",
            contact="kari@superoffice.example",
            promised_by=MONDAY_9 + 48 * H,
        )

    (update,) = updates(french_ticket)
    assert update.subject.startswith(french_ticket.subject_token)
    assert update.body_text.startswith("Bonjour Bob Customer,")  # the requester's language
    assert "l'éditeur du logiciel" in update.body_text  # the software vendor, in French
    for secret in ("SuperOffice", "SO-4711", "kari", "Sync bug"):
        assert secret not in update.body_text and secret not in update.subject
    # The vendor's promise, in the requester's zone: 09:00 UTC is 10:00 in Paris.
    assert "18 novembre 2026 10:00 (Europe/Paris)" in update.body_text
    assert "/portal/enter/" in update.body_text  # the login link


def test_an_internal_escalation_tells_the_customer_in_norwegian_when_we_write_next(
    norwegian_ticket, alice
):
    due = escalation_updates.next_update(norwegian_ticket)
    assert due is not None and due > MONDAY_9 + H  # the first response is still owed

    with at(MONDAY_9 + H):
        escalations.escalate_internal(
            ticket=norwegian_ticket, to_level="L2", reason="Needs a specialist", by=alice
        )

    (update,) = updates(norwegian_ticket)
    assert update.body_text.startswith("Hei Charlie Other,")
    assert "spesialistteam" in update.body_text  # a specialist team, in Norwegian
    assert "Needs a specialist" not in update.body_text
    assert "(Europe/Oslo)" in update.body_text
    assert "senest" not in update.body_text  # no vendor promise here ("at the latest")


def test_the_running_next_update_clock_is_the_expected_update(norwegian_ticket, alice):
    with at(MONDAY_9 + H):  # a public reply meets the first response and starts next update
        tickets.add_comment(ticket=norwegian_ticket, author=alice, body="Looking into it.")
    due = escalation_updates.next_update(norwegian_ticket)

    with at(MONDAY_9 + 2 * H):
        escalations.escalate_internal(
            ticket=norwegian_ticket, to_level="L2", reason="Specialist", by=alice
        )

    assert due == current_clocks(norwegian_ticket.pk)["next_update"].due_at
    (update,) = updates(norwegian_ticket)
    assert "Du hører fra oss igjen innen" in update.body_text  # you will hear from us by
    assert "(Europe/Oslo)" in update.body_text


def test_no_update_when_the_agent_chose_not_to_tell_the_customer(french_ticket, alice, vendor):
    with at(MONDAY_9 + H):
        escalations.escalate_to_vendor(
            ticket=french_ticket,
            vendor=vendor,
            reason="Quick check",
            by=alice,
            notify_customer=False,
            no_notice_reason="A quick question to the vendor",
        )
        escalations.escalate_internal(
            ticket=french_ticket,
            to_level="L2",
            reason="Specialist",
            by=alice,
            notify_customer=False,
            no_notice_reason="Internal routing only",
        )
        escalations.de_escalate(ticket=french_ticket, reason="Back", by=alice)

    assert updates(french_ticket) == []
    # … while the vendor is still mailed.
    assert OutboxMessage.objects.filter(to=["support@superoffice.example"]).count() == 1


def test_coming_back_down_is_told_too(french_ticket, alice):
    with at(MONDAY_9 + H):
        escalations.escalate_internal(
            ticket=french_ticket, to_level="L2", reason="Specialist", by=alice
        )
        escalations.de_escalate(ticket=french_ticket, reason="Solved at L2", by=alice)

    first, second = updates(french_ticket)
    assert "équipe spécialisée" in first.body_text  # with a specialist team
    assert "équipe de support" in second.body_text  # back with the service desk team


def test_the_receiving_group_is_told_of_an_internal_escalation(french_ticket, alice):
    """Issue 15, item 1: the receiving group is notified — its lead and members, each in
    their own language, not the agent who escalated, once."""
    from servicedesk.accounts.models import Group
    from tests.factories import StaffFactory

    group = Group.objects.get(name="CRM specialists")
    claire = StaffFactory(email="claire@desk.example", language="fr")
    raj = StaffFactory(email="raj@desk.example", language="en")
    group.lead = claire
    group.save()
    group.members.add(claire, raj, alice)

    with at(MONDAY_9 + H):
        escalations.escalate_internal(
            ticket=french_ticket, to_level="L2", reason="Needs the CRM team", by=alice
        )

    told = OutboxMessage.objects.filter(dedupe_key__startswith="escalation-received:")
    assert sorted(m.to[0] for m in told) == ["claire@desk.example", "raj@desk.example"]
    english = told.get(to=["raj@desk.example"])
    assert english.subject.startswith("Escalated to CRM specialists:")
    assert "Needs the CRM team" in english.body_text
    assert f"/desk/tickets/{french_ticket.number}/" in english.body_text
    assert told.get(to=["claire@desk.example"]).subject.startswith("Escaladé vers")
