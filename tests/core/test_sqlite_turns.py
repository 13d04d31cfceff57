"""SQLite writers take turns through a kernel lock: a second write transaction waits for the
first to end (commit or rollback) and starts the moment it does, instead of sleeping in
SQLite's busy handler."""

import fcntl
import threading
import time

import pytest
from django.db import connection
from django.db.utils import ConnectionHandler

pytestmark = pytest.mark.skipif(
    connection.vendor != "sqlite", reason="the SQLite backend's own behaviour"
)


def _wrapper(path, alias):
    handler = ConnectionHandler(
        {
            "default": {
                "ENGINE": "servicedesk.core.sqlite",
                "NAME": str(path),
                "OPTIONS": {"transaction_mode": "IMMEDIATE", "timeout": 20},
            }
        }
    )
    db = handler["default"]
    db.alias = alias
    return db


def _turn_is_taken(path) -> bool:
    with open(f"{path}.writer-lock", "a") as lock:
        try:
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(lock.fileno(), fcntl.LOCK_UN)
        return False


def _begin(db):
    db.set_autocommit(False, force_begin_transaction_with_broken_autocommit=True)


def _second_writer(path, started: threading.Event, done: threading.Event):
    db = _wrapper(path, "b")
    _begin(db)  # waits for the first writer's turn to end
    started.set()
    db.cursor().execute("INSERT INTO t VALUES (2)")
    db.commit()
    db.set_autocommit(True)
    db.close()
    done.set()


@pytest.fixture(autouse=True)
def _own_connections(django_db_blocker):
    """These tests open their own connections to their own files."""
    with django_db_blocker.unblock():
        yield


@pytest.mark.parametrize("end", ["commit", "rollback"])
def test_a_second_writer_waits_for_the_first_and_goes_as_soon_as_it_ends(tmp_path, end):
    path = tmp_path / "turns.sqlite3"
    first = _wrapper(path, "a")
    first.cursor().execute("CREATE TABLE t (n INTEGER)")
    _begin(first)
    first.cursor().execute("INSERT INTO t VALUES (1)")
    started, done = threading.Event(), threading.Event()
    thread = threading.Thread(target=_second_writer, args=(path, started, done))
    thread.start()

    time.sleep(0.3)
    assert not started.is_set()  # its turn has not come
    assert _turn_is_taken(path)
    ended_at = time.monotonic()
    getattr(first, end)()
    first.set_autocommit(True)
    assert started.wait(5)
    waited = time.monotonic() - ended_at
    thread.join(5)

    assert done.is_set()
    assert waited < 0.5
    assert not _turn_is_taken(path)  # both turns given back
    rows = sorted(n for (n,) in first.cursor().execute("SELECT n FROM t").fetchall())
    assert rows == ([1, 2] if end == "commit" else [2])
    first.close()
    assert (tmp_path / "turns.sqlite3.writer-lock").exists()


def test_an_in_memory_database_takes_no_lock_file(tmp_path):
    db = _wrapper(":memory:", "m")
    _begin(db)
    assert db._turn is None
    db.rollback()
    db.set_autocommit(True)
    db.close()
