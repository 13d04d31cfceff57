"""Poll IMAP mailboxes (imap-tools). A message is marked as read, or moved, on the server only
after it is stored here; a poll that dies half-way fetches the rest next time, and what it
fetches again is recognised as a duplicate."""

import os
import re
from collections.abc import Iterator

from imap_tools import AND, MailBox, MailBoxStartTls, MailBoxUnencrypted
from imap_tools.mailbox import BaseMailBox

from servicedesk.core import clock
from servicedesk.mail.ingest import Outcome, ingest
from servicedesk.mail.models import Login, Mailbox, Security

CHUNK = 50
UID_IN_RESPONSE = re.compile(rb"UID (\d+)")


class MailboxError(Exception):
    pass


def _connect(mailbox: Mailbox) -> BaseMailBox:
    kinds = {
        Security.SSL: MailBox,
        Security.STARTTLS: MailBoxStartTls,
        Security.PLAIN: MailBoxUnencrypted,
    }
    secret = os.environ.get(mailbox.secret_env, "")
    if not secret:
        raise MailboxError(f"The environment variable {mailbox.secret_env} is not set.")
    box = kinds[mailbox.security](mailbox.host, mailbox.port)
    if mailbox.login == Login.XOAUTH2:
        return box.xoauth2(mailbox.username, secret, initial_folder=mailbox.folder)
    return box.login(mailbox.username, secret, initial_folder=mailbox.folder)


def _raw_messages(box: BaseMailBox, uids: list[str]) -> Iterator[tuple[str, bytes]]:
    """(uid, raw bytes) exactly as the server holds them, without marking them read."""
    status, data = box.client.uid("FETCH", ",".join(uids), "(UID BODY.PEEK[])")
    if status != "OK":
        raise MailboxError(f"FETCH failed: {data!r}")
    for item in data:
        if isinstance(item, tuple):
            match = UID_IN_RESPONSE.search(item[0])
            if match:
                yield match[1].decode(), item[1]


def poll(mailbox: Mailbox) -> list[Outcome]:
    """Fetch every new message of ``mailbox`` through the ingest pipeline."""
    outcomes: list[Outcome] = []
    try:
        with _connect(mailbox) as box:
            # Moving: everything in the folder is new. Marking: what is not read yet.
            criteria = AND(all=True) if mailbox.move_to else AND(seen=False)
            uids = box.uids(criteria)
            for start in range(0, len(uids), CHUNK):
                chunk = uids[start : start + CHUNK]
                kept: list[str] = []
                for uid, raw in _raw_messages(box, chunk):
                    outcomes.append(ingest(raw, source=f"imap:{mailbox.name}"))
                    kept.append(uid)
                if kept and mailbox.move_to:
                    box.move(kept, mailbox.move_to)
                elif kept:
                    box.flag(kept, "\\Seen", True)
    except Exception as error:
        mailbox.last_error = f"{type(error).__name__}: {error}"[:2000]
        mailbox.last_polled_at = clock.now()
        mailbox.save(update_fields=["last_error", "last_polled_at"])
        raise
    mailbox.last_error = ""
    mailbox.last_polled_at = clock.now()
    mailbox.save(update_fields=["last_error", "last_polled_at"])
    return outcomes


def poll_all() -> dict[str, int]:
    """Poll every active mailbox; one failing mailbox does not stop the others."""
    counts: dict[str, int] = {}
    for mailbox in Mailbox.objects.filter(is_active=True):
        try:
            for outcome in poll(mailbox):
                counts[outcome.outcome] = counts.get(outcome.outcome, 0) + 1
        except Exception:
            counts["mailbox_errors"] = counts.get("mailbox_errors", 0) + 1
    return counts
