"""The one retry mechanism for what the desk sends out: outbox email and webhook deliveries.

A row to deliver has ``status`` (pending / sending / failed, plus the model's own success
state), ``attempts``, ``next_attempt_at`` and ``last_error``. ``claim`` takes a due row with a
guarded update, so two workers never send it twice; ``record_failure`` schedules the next
attempt with exponential backoff or gives up; ``drain_due`` sends whatever is due, including
rows claimed by a worker that died.
"""

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial

from django.conf import settings
from django.db import transaction

from servicedesk.core import clock

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 12
DATABASE_BACKEND = "django_tasks_db.DatabaseBackend"
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


def record_failure(row, error: str, *, what: str) -> None:
    """A failed attempt (``row.attempts`` counts it already): retry after the backoff, or
    give up after ``MAX_ATTEMPTS``. The caller saves the row."""
    row.last_error = error[:2000]
    if row.attempts >= MAX_ATTEMPTS:
        row.status = "failed"
        logger.error("%s %s failed for good: %s", what, row.pk, row.last_error)
    else:
        row.status = "pending"
        row.next_attempt_at = clock.now() + backoff(row.attempts)


def drain_due(
    model, send_one: Callable[[int], str], *, limit: int, now: datetime | None = None
) -> dict[str, int]:
    """``send_one(pk)`` for every row whose attempt is due (pending, or claimed by a worker
    that died); how many of each outcome."""
    now = now or clock.now()
    model.objects.filter(status="sending", next_attempt_at__lte=now).update(status="pending")
    due = model.objects.filter(status="pending", next_attempt_at__lte=now)
    outcomes: dict[str, int] = {}
    for pk in due.order_by("next_attempt_at").values_list("pk", flat=True)[:limit]:
        outcome = send_one(pk)
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    return outcomes


def enqueue_with_change(task, **kwargs) -> None:
    """Enqueue ``task`` so that it runs only if the current change commits. With the
    database backend the task row is written in the change's own transaction (a rollback
    takes it away too, and no second write transaction is needed); other backends (Redis,
    immediate) get it once the transaction has committed."""
    if settings.TASKS["default"]["BACKEND"] == DATABASE_BACKEND:
        task.enqueue(**kwargs)
    else:
        transaction.on_commit(partial(task.enqueue, **kwargs))
