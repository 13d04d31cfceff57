"""Keeping the database fit: the query planner informed, SQLite's write-ahead log short.

SQLite chooses indexes well only with statistics (``ANALYZE``): without them it filtered the
ticket list by status and sorted thousands of rows (10 ms) instead of reading the first 25 in
due order from the index (0.04 ms). PostgreSQL's autovacuum analyzes by itself; a bulk load
(demo data, imports) is followed by an explicit ANALYZE on both.
"""

import fcntl
from contextlib import contextmanager

from django.conf import settings
from django.core.management import call_command
from django.db import connection


def analyze() -> str:
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return connection.vendor


def checkpoint() -> None:
    """Copy SQLite's write-ahead log back into the database (PASSIVE: waits for nobody).

    Web processes leave this to the worker's relay, which calls it every second: a checkpoint
    run by a committing request (SQLite's default, every 1,000 pages) made that request, and
    the writers queued behind it, wait for the copy and its fsync (W1 over HTTP, p99: ~530
    ms with them, ~370 ms without). Connections still checkpoint by themselves past 10,000 pages, so
    the log stays bounded when no worker runs."""
    if connection.vendor == "sqlite" and not connection.is_in_memory_db():  # no log in memory
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA wal_checkpoint(PASSIVE)")


MIGRATE_LOCK = 0x5D_1660  # a number of our own: PostgreSQL's advisory lock for migrations


def migrate(*, verbosity: int = 1) -> None:
    """Apply migrations, one process at a time: ``servicedesk run`` and ``servicedesk demo``
    started together on a new data directory would otherwise both create the same tables."""
    with _one_at_a_time():
        call_command("migrate", interactive=False, verbosity=verbosity)


@contextmanager
def _one_at_a_time():
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s)", [MIGRATE_LOCK])
        try:
            yield
        finally:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [MIGRATE_LOCK])
        return
    settings.DATA_DIR.mkdir(parents=True, exist_ok=True)
    with open(settings.DATA_DIR / "migrate.lock", "a") as lock:
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
        yield
