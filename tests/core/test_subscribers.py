"""The reactions to recorded events are declared in one list; this test pins it, so adding,
removing or re-pointing a reaction is a visible decision."""

import pytest
from django.db import transaction
from django.utils.module_loading import import_string

from servicedesk.changes.models import ChangeEventKind, MonthlyReport
from servicedesk.core import events
from servicedesk.mail.models import OutboxMessage
from servicedesk.subscribers import SUBSCRIBERS
from servicedesk.tickets import services
from servicedesk.tickets.models import Channel, EventKind
from tests.factories import make_ticket

EXPECTED = [
    ("acknowledgement-mail", {"created"}, "servicedesk.mail.notifications.acknowledge_new_ticket"),
    ("public-reply-mail", {"reply"}, "servicedesk.mail.notifications.mail_public_reply"),
    ("triage-confirmed-mail", {"triage"}, "servicedesk.mail.notifications.mail_confirmed_triage"),
    (
        "sla-alert-mail",
        {"sla_warning", "sla_breach"},
        "servicedesk.mail.notifications.mail_sla_alert",
    ),
    ("resolution-mail", {"status"}, "servicedesk.mail.closing.mail_resolution"),
    (
        "closing-reminder-mail",
        {"closing_reminder"},
        "servicedesk.mail.closing.mail_closing_reminder",
    ),
    ("auto-closed-mail", {"auto_closed"}, "servicedesk.mail.closing.mail_auto_closed"),
    ("vendor-escalation-mail", {"escalated"}, "servicedesk.mail.vendors.mail_vendor_escalation"),
    ("vendor-message-mail", {"vendor_message"}, "servicedesk.mail.vendors.mail_vendor_message"),
    ("vendor-overdue-mail", {"vendor_overdue"}, "servicedesk.mail.vendors.mail_vendor_overdue"),
    ("escalation-received-mail", {"escalated"}, "servicedesk.mail.vendors.mail_receiving_group"),
    (
        "escalation-update-mail",
        {"escalated", "de_escalated"},
        "servicedesk.mail.escalation_updates.mail_escalation_update",
    ),
    ("change-converted-mail", {"converted"}, "servicedesk.mail.changes.mail_conversion"),
    (
        "change-approval-mail",
        {"change_approval_asked"},
        "servicedesk.mail.changes.mail_approval_request",
    ),
    ("change-urgent-mail", {"change_urgent"}, "servicedesk.mail.changes.mail_urgent"),
    ("change-decision-mail", {"change_decided"}, "servicedesk.mail.changes.mail_decision"),
    ("change-report-mail", {"change_report"}, "servicedesk.mail.changes.mail_report"),
    ("webhooks", None, "servicedesk.api.webhooks.on_events"),
    (
        "search-index",
        {"created", "reply", "note", "field"},
        "servicedesk.search.index.on_events",
    ),
]


def test_the_subscriber_list_is_pinned():
    declared = [(s.name, None if s.kinds is None else set(s.kinds), s.handler) for s in SUBSCRIBERS]
    assert declared == EXPECTED


def test_every_subscriber_names_a_real_handler_and_real_event_kinds():
    # Tickets' events, change requests' events, and the monthly report published as one.
    kinds = {*EventKind.values, *ChangeEventKind.values, MonthlyReport.kind}
    for subscriber in SUBSCRIBERS:
        assert callable(import_string(subscriber.handler)), subscriber.name
        assert subscriber.kinds is None or subscriber.kinds <= kinds, subscriber.name


def test_a_subscriber_gets_only_the_kinds_it_names(monkeypatch):
    seen = []
    monkeypatch.setattr(
        events, "_handlers", lambda: ((frozenset({"reply"}), lambda e, h: seen.append((e, h))),)
    )

    class Fact:
        def __init__(self, kind):
            self.kind = kind

    reply, note = Fact("reply"), Fact("note")
    events.publish([note, reply, note], why="test")
    events.publish([note])

    assert seen == [([reply], {"why": "test"})]


def test_a_rolled_back_change_sends_nothing(reseed_after_flush, transactional_db, alice, bob):
    """The subscribers write their outbox rows inside the change's transaction."""
    ticket = make_ticket(requester=bob)
    OutboxMessage.objects.all().delete()

    with pytest.raises(RuntimeError), transaction.atomic():
        services.add_comment(ticket=ticket, author=alice, body="Fixed.", channel=Channel.PORTAL)
        assert OutboxMessage.objects.count() == 1  # written with the reply …
        raise RuntimeError("the change fails after the reply")

    assert not OutboxMessage.objects.exists()  # … and gone with it
