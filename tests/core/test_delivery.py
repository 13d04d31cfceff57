"""Rows to deliver are written with the change; the worker's relay sends them, or, with the
immediate backend (no worker), a task runs once the change commits."""

import threading
import time

from django.db import transaction
from django_tasks_db.models import DBTaskResult

from servicedesk.core import clock
from servicedesk.core.delivery import (
    MAX_ATTEMPTS,
    claim_due,
    record_failure,
    requeue,
    send_soon,
)
from servicedesk.mail import outbox
from servicedesk.mail.models import OutboxMessage, OutboxStatus
from servicedesk.mail.tasks import send_outbox_message
from servicedesk.ops import relay


def _queue(n=1):
    return [
        outbox.queue_email(to=["c@example.com"], subject=f"s{i}", body_text="b") for i in range(n)
    ]


def test_with_a_worker_nothing_is_queued_beside_the_row(db, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks, transaction.atomic():
        send_soon(send_outbox_message, message_id=1)

    assert callbacks == [] and not DBTaskResult.objects.exists()


def test_without_a_worker_the_task_runs_only_once_the_change_commits(
    db, settings, django_capture_on_commit_callbacks
):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    with django_capture_on_commit_callbacks(execute=False) as callbacks, transaction.atomic():
        send_soon(send_outbox_message, message_id=1)

    assert len(callbacks) == 1


def test_two_relays_never_claim_the_same_row(db):
    rows = _queue(5)

    first = claim_due(OutboxMessage, limit=3)
    second = claim_due(OutboxMessage, limit=10)

    assert len(first) == 3 and len(second) == 2
    assert set(first) | set(second) == {r.pk for r in rows}
    assert claim_due(OutboxMessage, limit=10) == []


def test_the_relay_thread_sends_a_committed_email_within_moments(
    reseed_after_flush, transactional_db, smtp
):
    smtp.start()
    stop = threading.Event()
    thread = threading.Thread(target=relay.run, args=(stop,), kwargs={"interval": 0.05})
    thread.start()
    try:
        with transaction.atomic():
            (message,) = _queue()
        deadline = time.monotonic() + 10
        while not smtp.received and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        stop.set()
        thread.join(timeout=10)

    assert len(smtp.received) == 1
    assert OutboxMessage.objects.get(pk=message.pk).status == OutboxStatus.SENT


def test_a_relay_pass_sends_everything_due_in_small_batches(db, smtp):
    smtp.start()
    _queue(7)

    assert relay.run_once(batch=3) == {"mail": {"sent": 7}, "webhooks": {}}
    assert len(smtp.received) == 7
    assert relay.run_once(batch=3) == {"mail": {}, "webhooks": {}}


def test_an_error_quoting_unstorable_characters_is_still_recorded(db):
    (message,) = _queue()
    message.attempts = 1

    record_failure(message, "ValueError: bad \x00 and \udce9 here", what="outbox message")
    message.save()  # neither NUL (PostgreSQL) nor a lone surrogate (UTF-8) may stop the save

    message.refresh_from_db()
    assert message.status == OutboxStatus.PENDING
    assert message.last_error == "ValueError: bad  and ? here"


def test_a_permanent_failure_fails_at_once(db):
    (message,) = _queue()
    message.attempts = 1

    record_failure(message, "InvalidRecipients: x", what="outbox message", permanent=True)

    assert message.status == OutboxStatus.FAILED


def test_requeue_takes_only_failed_rows_and_gives_them_a_fresh_series(db):
    failed, pending = _queue(2)
    OutboxMessage.objects.filter(pk=failed.pk).update(
        status=OutboxStatus.FAILED, attempts=MAX_ATTEMPTS, last_error="gone"
    )

    assert requeue(OutboxMessage, ids=[failed.pk, pending.pk]) == [failed.pk]
    assert requeue(OutboxMessage) == []  # nothing failed any more

    failed.refresh_from_db()
    assert (failed.status, failed.attempts, failed.last_error) == ("pending", 0, "gone")
    assert failed.next_attempt_at <= clock.now()
