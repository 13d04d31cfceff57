"""Django's database sessions, with the session read by a prepared statement: every signed-in
request reads it, and the ORM spent more building that read than the database answering."""

from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.contrib.sessions.models import Session
from django.utils import timezone

from servicedesk.core.prepared import Prepared

_COLUMNS = ("session_key", "session_data", "expire_date")
_CURRENT = Prepared(
    lambda key, now: Session.objects.filter(session_key=key, expire_date__gt=now).values_list(
        *_COLUMNS
    )
)


class SessionStore(DatabaseSessionStore):
    def _get_session_from_db(self):
        rows = _CURRENT(self.session_key, timezone.now()) if self.session_key else []
        if not rows:
            self._session_key = None
            return None
        return Session.from_db(Session.objects.db, _COLUMNS, rows[0])
