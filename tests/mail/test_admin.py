"""The inbox in the admin: staff see the quarantine with its reasons, download the raw
message, and process it again; nothing can be deleted."""

from django.urls import reverse

from servicedesk.mail import ingest
from servicedesk.mail.models import InboundMessage
from servicedesk.tickets.models import Ticket


def test_the_quarantine_lists_the_reason_and_gives_the_raw_message(admin_client):
    raw = b"Subject: <b>who</b>\r\n\r\nno sender"
    ingest.ingest(raw, source="pipe")
    inbound = InboundMessage.objects.get()

    listing = admin_client.get(
        reverse("admin:mail_inboundmessage_changelist") + "?outcome=quarantined"
    )
    page = admin_client.get(reverse("admin:mail_inboundmessage_change", args=[inbound.pk]))
    download = admin_client.get(reverse("admin:mail_inboundmessage_raw", args=[inbound.pk]))

    assert listing.status_code == page.status_code == 200
    assert b"no sender address" in page.content
    assert b"<b>who</b>" not in listing.content  # escaped
    assert download.content == raw
    assert download["Content-Type"] == "application/octet-stream"


def test_processing_again_turns_a_fixed_cause_into_a_ticket(admin_client, settings):
    settings.SERVICEDESK_MAIL_SENDER_LIMIT = 1
    ingest.ingest(b"From: a@x.example\r\nSubject: one\r\n\r\nfirst", source="pipe")
    InboundMessage.objects.update(outcome="quarantined", reason="simulated failure")
    settings.SERVICEDESK_MAIL_SENDER_LIMIT = 30
    Ticket.objects.all().delete()

    response = admin_client.post(
        reverse("admin:mail_inboundmessage_changelist"),
        {
            "action": "process_again",
            "_selected_action": list(InboundMessage.objects.values_list("pk", flat=True)),
        },
        follow=True,
    )

    assert response.status_code == 200
    assert InboundMessage.objects.get().outcome == "created"
    assert Ticket.objects.count() == 1


def test_nothing_in_the_inbox_can_be_deleted(admin_client):
    ingest.ingest(b"From: a@x.example\r\nSubject: one\r\n\r\nfirst", source="pipe")
    inbound = InboundMessage.objects.get()

    response = admin_client.post(reverse("admin:mail_inboundmessage_delete", args=[inbound.pk]))

    assert response.status_code in (403, 302)
    assert InboundMessage.objects.filter(pk=inbound.pk).exists()
