"""Rows to deliver are written with the change; the worker's relay sends them, or, with the
immediate backend (no worker), a task runs once the change commits."""

import threading
import time

from django.db import transaction
from django_tasks_db.models import DBTaskResult

from servicedesk.core.delivery import claim_due, send_soon
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
