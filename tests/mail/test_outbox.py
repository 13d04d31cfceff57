"""The outbox against a real SMTP server (aiosmtpd on loopback)."""

from datetime import timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.db import transaction
from django_tasks_db.models import DBTaskResult

from servicedesk.core import clock, delivery
from servicedesk.mail import outbox
from servicedesk.mail.models import OutboxMessage, OutboxStatus
from servicedesk.mail.tasks import send_due_outbox, send_outbox_message
from servicedesk.ops import relay


def _queue(**extra):
    return outbox.queue_email(
        to=["customer@example.com"],
        subject="Your ticket [SD#10001]",
        body_text="Hello",
        body_html="<p>Hello</p>",
        message_id="<sd-10001-1@servicedesk.localhost>",
        **extra,
    )


def test_a_committed_email_is_sent_by_the_relay_without_a_task_of_its_own(db, smtp):
    smtp.start()
    with transaction.atomic():
        message = _queue()

    assert not DBTaskResult.objects.exists()  # the outbox row is the queue
    assert relay.run_once()["mail"] == {"sent": 1}
    (envelope,) = smtp.received
    raw = envelope.content.decode()
    assert envelope.rcpt_tos == ["customer@example.com"]
    assert "Message-ID: <sd-10001-1@servicedesk.localhost>" in raw
    assert "text/html" in raw and "Subject: Your ticket [SD#10001]" in raw
    message.refresh_from_db()
    assert message.status == OutboxStatus.SENT and message.sent_at is not None
    assert relay.run_once()["mail"] == {}  # sent once


def test_a_batch_goes_over_one_connection_and_a_bad_message_waits_alone(db, smtp):
    smtp.start()
    _queue()
    second = _queue(dedupe_key="second")
    OutboxMessage.objects.filter(pk=second.pk).update(subject="Injected\nBcc: x@example.com")

    assert outbox.send_due() == {"sent": 1, "retry": 1}
    assert len(smtp.received) == 1
    second.refresh_from_db()
    assert second.status == OutboxStatus.PENDING and second.attempts == 1 and second.last_error


def test_while_the_server_is_away_the_whole_batch_waits_for_its_backoff(db, smtp):
    _queue(), _queue(dedupe_key="second")  # nobody listens on the port yet

    assert outbox.send_due() == {"retry": 2}
    assert outbox.send_due() == {}  # not due again before the backoff
    smtp.start()
    with time_machine.travel(clock.now() + delivery.backoff(1) + timedelta(seconds=1), tick=False):
        assert outbox.send_due() == {"sent": 2}


def test_a_rolled_back_change_sends_nothing(db, smtp, django_capture_on_commit_callbacks):
    smtp.start()

    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        _queue()
        raise RuntimeError("the change failed")

    assert callbacks == []
    assert not OutboxMessage.objects.exists()
    assert not DBTaskResult.objects.exists()  # the task went with the change
    assert smtp.received == []


def test_a_server_that_is_down_delays_mail_and_loses_none(db, smtp):
    message = _queue()

    outcome = outbox.send(message_id=message.pk)  # nobody listens on the port yet

    message.refresh_from_db()
    assert outcome == "retry"
    assert (message.status, message.attempts) == (OutboxStatus.PENDING, 1)
    assert "Error" in message.last_error
    assert message.next_attempt_at >= clock.now() + timedelta(seconds=25)
    assert outbox.send_due() == {}  # not due yet

    smtp.start()
    with time_machine.travel(clock.now() + timedelta(minutes=1), tick=False):
        assert outbox.send_due() == {"sent": 1}
        assert outbox.send_due() == {}

    assert len(smtp.received) == 1


def test_a_message_fails_for_good_after_the_last_attempt(db, smtp):
    message = _queue()
    OutboxMessage.objects.filter(pk=message.pk).update(attempts=delivery.MAX_ATTEMPTS - 1)

    assert outbox.send(message_id=message.pk) == "failed"

    message.refresh_from_db()
    assert message.status == OutboxStatus.FAILED


def test_a_message_claimed_by_a_worker_that_died_is_sent_later(db, smtp):
    smtp.start()
    message = _queue()
    OutboxMessage.objects.filter(pk=message.pk).update(
        status=OutboxStatus.SENDING, next_attempt_at=clock.now() + delivery.STALE_CLAIM
    )

    assert outbox.send_due() == {}
    with time_machine.travel(clock.now() + delivery.STALE_CLAIM + timedelta(seconds=1), tick=False):
        assert outbox.send_due() == {"sent": 1}

    assert len(smtp.received) == 1


def test_sending_the_same_message_twice_delivers_it_once(db, smtp):
    smtp.start()
    message = _queue()

    outcomes = [outbox.send(message_id=message.pk), outbox.send(message_id=message.pk)]

    assert outcomes == ["sent", "not due"]
    assert len(smtp.received) == 1


def test_a_dedupe_key_queues_an_email_once(db):
    assert _queue(dedupe_key="sla-breach:1:2") is not None
    assert _queue(dedupe_key="sla-breach:1:2") is None
    assert OutboxMessage.objects.count() == 1


def test_the_worker_batch_runs_its_tasks_then_a_relay_pass(
    reseed_after_flush, transactional_db, smtp
):
    smtp.start()
    with transaction.atomic():
        _queue()

    call_command("worker", "--batch")

    assert len(smtp.received) == 1
    assert OutboxMessage.objects.get().status == OutboxStatus.SENT


def test_task_names_are_stable():
    assert send_outbox_message.module_path == "servicedesk.mail.tasks.send_outbox_message"
    assert send_due_outbox.module_path == "servicedesk.mail.tasks.send_due_outbox"


def test_every_scheduled_job_is_a_task_and_the_scheduler_enqueues_each_once(
    reseed_after_flush, transactional_db
):
    from django.utils.module_loading import import_string
    from django_tasks_db.models import DBTaskResult

    from servicedesk.schedule import SCHEDULE

    call_command("scheduler", "--once")

    assert {import_string(job.task).module_path for job in SCHEDULE} == {
        job.task for job in SCHEDULE
    }
    assert sorted(DBTaskResult.objects.values_list("task_path", flat=True)) == sorted(
        j.task for j in SCHEDULE
    )
    assert {j.name for j in SCHEDULE} == {
        "sla-sweep",
        "outbox-retry",
        "mail-poll",
        "webhook-retry",
        "closing-sweep",
        "vendor-promises",
        "change-reports",
        "db-analyze",
        "orphan-files",
    }


# ---- Invalid addresses, and sending failed mail again (issue 12) -------------------------


def test_an_invalid_address_is_not_queued_and_the_others_still_are(db, caplog):
    message = outbox.queue_email(
        to=["customer@example.com", "p1@x..example"],
        cc=["copy@example.com", "not an address"],
        subject="Your ticket",
        body_text="Hello",
    )

    assert message.to == ["customer@example.com"] and message.cc == ["copy@example.com"]
    assert "p1@x..example" in caplog.text


def test_a_ticket_whose_requester_has_an_invalid_address_gets_a_note_not_a_mail(
    db, django_capture_on_commit_callbacks
):
    from servicedesk.tickets.models import Comment
    from tests.factories import CustomerFactory, make_ticket

    requester = CustomerFactory(email="p1@x..example")  # the API and mail ingest accept it

    with django_capture_on_commit_callbacks(execute=True):
        ticket = make_ticket(requester=requester)

    assert not OutboxMessage.objects.exists()
    note = Comment.objects.get(ticket=ticket)
    assert note.internal and note.author is None
    assert "p1@x..example" in note.body and "not a valid email address" in note.body


def test_when_the_main_recipient_is_refused_the_copied_addresses_still_get_the_mail(
    db, django_capture_on_commit_callbacks
):
    from servicedesk.tickets.models import Comment
    from tests.factories import make_ticket

    ticket = make_ticket()
    OutboxMessage.objects.all().delete()  # the acknowledgement

    with django_capture_on_commit_callbacks(execute=True):
        message = outbox.queue_email(
            to=["p1@x..example"],
            cc=["copy@example.com"],
            subject="Re",
            body_text="Hi",
            ticket=ticket,
        )

    assert message.to == ["copy@example.com"] and message.cc == []
    assert Comment.objects.get(ticket=ticket, internal=True).body.startswith("Mail about this")


def _failed(**extra):
    message = _queue(**extra)
    OutboxMessage.objects.filter(pk=message.pk).update(
        status=OutboxStatus.FAILED, attempts=delivery.MAX_ATTEMPTS, last_error="SMTP away"
    )
    return message


def test_the_admin_sends_failed_messages_again(admin_client, smtp):
    from django.urls import reverse

    smtp.start()
    failed, sent = _failed(), _queue(dedupe_key="sent")
    OutboxMessage.objects.filter(pk=sent.pk).update(status=OutboxStatus.SENT)

    response = admin_client.post(
        reverse("admin:mail_outboxmessage_changelist"),
        {"action": "send_again", "_selected_action": [failed.pk, sent.pk]},
        follow=True,
    )

    assert response.status_code == 200
    assert "1 of 2 messages queued again" in response.content.decode()
    failed.refresh_from_db()
    assert (failed.status, failed.attempts) == (OutboxStatus.PENDING, 0)
    assert relay.run_once()["mail"] == {"sent": 1}
    assert len(smtp.received) == 1  # the one that had been sent is not sent twice


def test_the_command_sends_failed_messages_again(db, smtp):
    from io import StringIO

    from django.core.management.base import CommandError

    smtp.start()
    first, second, waiting = _failed(), _failed(dedupe_key="2"), _queue(dedupe_key="3")

    out = StringIO()
    call_command("mail", "resend", str(first.pk), str(waiting.pk), stdout=out)
    assert f"queued again {first.pk}" in out.getvalue()
    assert f"left alone   {waiting.pk}" in out.getvalue()
    assert relay.run_once()["mail"] == {"sent": 2}  # first, and waiting (already due)

    out = StringIO()
    call_command("mail", "resend", "--all-failed", stdout=out)
    assert f"queued again {second.pk}" in out.getvalue()
    assert "1 message(s) queued again." in out.getvalue()
    assert relay.run_once()["mail"] == {"sent": 1}
    assert OutboxMessage.objects.filter(status=OutboxStatus.SENT).count() == 3
    with pytest.raises(CommandError):
        call_command("mail", "resend", "999999")
    with pytest.raises(CommandError):
        call_command("mail", "resend")
