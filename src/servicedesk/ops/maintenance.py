"""Keeping the database fit: the query planner informed, SQLite's write-ahead log short.

SQLite chooses indexes well only with statistics (``ANALYZE``): without them it filtered the
ticket list by status and sorted thousands of rows (10 ms) instead of reading the first 25 in
due order from the index (0.04 ms). PostgreSQL's autovacuum analyzes by itself; a bulk load
(demo data, imports) is followed by an explicit ANALYZE on both.
"""

import fcntl
import os
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.db import connection

from servicedesk.core import clock
from servicedesk.tickets.models import Attachment

# A file younger than this may belong to a transaction still running.
ORPHAN_GRACE = timedelta(hours=1)


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


def remove_orphan_files(*, older_than: timedelta = ORPHAN_GRACE, batch: int = 500) -> int:
    """Delete attachment files that no row names: written by a transaction that then rolled
    back or was killed (the file is written before the row commits). Only files older than
    ``older_than``, so a transaction still running keeps its file. The number deleted."""
    root = Path(settings.MEDIA_ROOT)
    cutoff = (clock.now() - older_than).timestamp()
    candidates = [
        path
        for path in (root / "attachments").rglob("*")
        if path.is_file() and path.stat().st_mtime < cutoff
    ]
    removed = 0
    for start in range(0, len(candidates), batch):
        chunk = {
            path.relative_to(root).as_posix(): path for path in candidates[start : start + batch]
        }
        named = set(Attachment.objects.filter(file__in=list(chunk)).values_list("file", flat=True))
        for name, path in chunk.items():
            if name not in named:
                path.unlink(missing_ok=True)
                removed += 1
    for directory in sorted((root / "attachments").rglob("*"), reverse=True):
        if directory.is_dir() and not any(directory.iterdir()):
            os.rmdir(directory)  # the empty month and ticket folders left behind
    return removed
