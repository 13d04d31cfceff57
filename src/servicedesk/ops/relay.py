"""The relay: sends what the outbox and the webhook log hold as soon as it is due.

Outgoing mail and webhook deliveries are rows written in the transaction of the change that
causes them (``core.delivery``); the worker runs this loop beside its task queue, so each
row leaves within about a second of its commit, without a task per row, and failed ones are
retried when their backoff ends. Idle, a pass is two indexed reads and a checkpoint of
SQLite's write-ahead log that finds nothing to copy.
"""

import logging
import threading

from django.db import close_old_connections, connections

from servicedesk.api import webhooks
from servicedesk.mail import outbox
from servicedesk.ops import maintenance

logger = logging.getLogger(__name__)

INTERVAL = 1.0  # seconds between passes


# Rows claimed and saved per transaction: small enough that the web's writers never wait
# long behind the relay (saving 500 failed sends at once held SQLite's lock ~100 ms).
BATCH = 100


def run_once(*, batch: int = BATCH) -> dict[str, dict[str, int]]:
    """One pass: every due email, in batches each sent over one SMTP connection, then every
    due webhook; then SQLite's write-ahead log is checkpointed (``maintenance.checkpoint``).
    A row's failure is recorded on the row by the sender; should a whole batch fail (the
    database away), it is logged and the webhooks still get their turn after the mail."""
    outcomes = {
        "mail": _drain(outbox.send_due, batch),
        "webhooks": _drain(webhooks.deliver_due, batch),
    }
    maintenance.checkpoint()
    return outcomes


def _drain(send_due, batch: int) -> dict[str, int]:
    total: dict[str, int] = {}
    while True:
        try:
            counts = send_due(limit=batch)
        except Exception:  # what it claimed is due again once the claim goes stale
            logger.exception("relay: %s.%s failed", send_due.__module__, send_due.__name__)
            return total
        for outcome, n in counts.items():
            total[outcome] = total.get(outcome, 0) + n
        if sum(counts.values()) < batch:
            return total


def run(stop: threading.Event, *, interval: float = INTERVAL) -> None:
    """Pass after pass until ``stop`` is set; a failing pass is logged, never fatal."""
    try:
        while not stop.is_set():
            close_old_connections()
            try:
                run_once()
            except Exception:
                logger.exception("relay pass failed")
            stop.wait(interval)
    finally:
        connections.close_all()


def start() -> tuple[threading.Thread, threading.Event]:
    """The relay in a daemon thread of the calling process (the worker)."""
    stop = threading.Event()
    thread = threading.Thread(target=run, args=(stop,), name="relay", daemon=True)
    thread.start()
    return thread, stop
