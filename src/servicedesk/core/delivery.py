"""The one retry mechanism for what the desk sends out: outbox email and webhook deliveries.

A row to deliver has ``status`` (pending / sending / failed, plus the model's own success
state), ``attempts``, ``next_attempt_at`` and ``last_error``. ``claim`` takes a due row with a
guarded update, so two workers never send it twice; ``record_failure`` schedules the next
attempt with exponential backoff or gives up; ``claim_due`` takes a batch of what is due,
including rows claimed by a worker that died, for the relay to send; ``requeue`` sends
failed rows again.

A row's failure is that row's alone: the senders record whatever goes wrong with one row on
that row and go on with the next, so a row that can never be sent never holds up the rest.
"""

import logging
import secrets
from datetime import datetime, timedelta
from functools import partial

from django.conf import settings
from django.db import transaction

from servicedesk.core import clock

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 12
IMMEDIATE_BACKEND = "django_tasks.backends.immediate.ImmediateBackend"
# A claim older than this is taken to be a worker that died mid-send.
STALE_CLAIM = timedelta(minutes=10)


def backoff(attempts: int) -> timedelta:
    """The wait before attempt ``attempts + 1``: 30 s, 1 min, 2 min… capped at 2 hours."""
    return timedelta(seconds=min(30 * 2 ** max(attempts - 1, 0), 2 * 60 * 60))


def claim(model, pk: int) -> bool:
    """Take row ``pk`` for sending if its attempt is due; a guarded update, so two workers
    never both take it. A claim older than ``STALE_CLAIM`` is taken to be a dead worker's."""
    now = clock.now()
    return bool(
        model.objects.filter(pk=pk, status="pending", next_attempt_at__lte=now).update(
            status="sending", next_attempt_at=now + STALE_CLAIM
        )
    )


def record_failure(row, error: str, *, what: str, permanent: bool = False) -> None:
    """A failed attempt (``row.attempts`` counts it already): retry after the backoff, or
    give up after ``MAX_ATTEMPTS``, or at once when the row itself can never be sent
    (``permanent``: an address or URL that does not parse). The caller saves the row."""
    # An error that quotes the row's own data must not make its bookkeeping fail (the batch
    # would stay claimed and come round again): no NUL (PostgreSQL text refuses it), no lone
    # surrogates (not UTF-8).
    error = error.replace("\x00", "").encode("utf-8", "replace").decode()
    row.last_error = error[:2000]
    if permanent or row.attempts >= MAX_ATTEMPTS:
        row.status = "failed"
        logger.error("%s %s failed for good: %s", what, row.pk, row.last_error)
    else:
        row.status = "pending"
        row.next_attempt_at = clock.now() + backoff(row.attempts)
        logger.warning("%s %s failed, attempt %s: %s", what, row.pk, row.attempts, row.last_error)


def requeue(model, *, ids: list[int] | None = None) -> list[int]:
    """Send failed rows again (those of ``ids``, or every failed row): pending and due now,
    with a fresh series of ``MAX_ATTEMPTS`` attempts; ``last_error`` stays until the next
    attempt. Rows that did not fail are left alone. The ids requeued."""
    failed = model.objects.filter(status="failed")
    if ids is not None:
        failed = failed.filter(pk__in=ids)
    with transaction.atomic():
        chosen = list(failed.select_for_update().values_list("pk", flat=True))
        model.objects.filter(pk__in=chosen, status="failed").update(
            status="pending", attempts=0, next_attempt_at=clock.now()
        )
    return sorted(chosen)


def claim_due(model, *, limit: int, now: datetime | None = None) -> list[int]:
    """Take up to ``limit`` rows whose attempt is due, in one guarded update; their ids.
    Rows claimed by a worker that died (a claim older than ``STALE_CLAIM``) are due again.
    Two relays never take the same row: each marks its claim with its own instant."""
    now = now or clock.now()
    stale = model.objects.filter(status="sending", next_attempt_at__lte=now)
    if stale.exists():  # a read first: an idle relay writes nothing
        stale.update(status="pending")
    due = model.objects.filter(status="pending", next_attempt_at__lte=now)
    ids = list(due.order_by("next_attempt_at", "pk").values_list("pk", flat=True)[:limit])
    if not ids:
        return []
    mark = now + STALE_CLAIM + timedelta(microseconds=secrets.randbelow(1_000_000))
    model.objects.filter(pk__in=ids, status="pending").update(
        status="sending", next_attempt_at=mark
    )
    return list(
        model.objects.filter(pk__in=ids, status="sending", next_attempt_at=mark).values_list(
            "pk", flat=True
        )
    )


def send_soon(task, **kwargs) -> None:
    """A row to deliver was written in the current transaction. The worker's relay sends due
    rows within a second of their commit (``servicedesk.ops.relay``), so nothing is queued;
    with the immediate task backend there is no worker, and ``task`` runs once the change
    has committed (never before: a rolled-back change sends nothing)."""
    if settings.TASKS["default"]["BACKEND"] == IMMEDIATE_BACKEND:
        transaction.on_commit(partial(task.enqueue, **kwargs))
