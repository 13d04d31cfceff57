"""IMAP polling against a real dovecot on loopback: new mail becomes tickets, and is marked
read (or moved) on the server only once stored; a second poll fetches nothing new."""

import imaplib
import io
import json
import time

import pytest
from django.core.management import call_command

from servicedesk.mail import imap
from servicedesk.mail.models import InboundMessage, Mailbox
from servicedesk.tickets.models import Ticket
from tests.mail.conftest import CORPUS
from tests.mail.test_ingest import mail


def _append(server, *messages: bytes, folder="INBOX") -> None:
    client = imaplib.IMAP4(server.host, server.port)
    client.login(server.user, server.password)
    client.create("Processed")
    for raw in messages:
        client.append(folder, "", imaplib.Time2Internaldate(time.time()), raw)
    client.logout()


def _flags_and_counts(server) -> dict[str, int]:
    client = imaplib.IMAP4(server.host, server.port)
    client.login(server.user, server.password)
    counts = {}
    for folder in ("INBOX", "Processed"):
        client.select(folder)
        counts[folder] = len(client.search(None, "ALL")[1][0].split())
        counts[f"{folder} unseen"] = len(client.search(None, "UNSEEN")[1][0].split())
    client.logout()
    return counts


@pytest.fixture
def mailbox(db, dovecot, monkeypatch):
    monkeypatch.setenv("SD_TEST_IMAP_SECRET", dovecot.password)
    return Mailbox.objects.create(
        name="support",
        host=dovecot.host,
        port=dovecot.port,
        security="plain",
        username=dovecot.user,
        secret_env="SD_TEST_IMAP_SECRET",
    )


def test_polling_turns_new_mail_into_tickets_and_marks_it_read_after_storing(mailbox, dovecot):
    corpus = (CORPUS / "zammad" / "mail037.box").read_bytes()
    _append(dovecot, mail(subject="first"), mail(subject="second"), corpus)

    outcomes = imap.poll(mailbox)

    assert [o.outcome for o in outcomes] == ["created"] * 3
    assert set(Ticket.objects.values_list("subject", flat=True)) == {
        "first", "second", "Example: Java 8 Neuerungen",
    }  # fmt: skip
    assert InboundMessage.objects.filter(source="imap:support").count() == 3
    assert bytes(InboundMessage.objects.get(subject__startswith="Example").raw).replace(
        b"\r\n", b"\n"
    ) == corpus.replace(b"\r\n", b"\n")
    assert _flags_and_counts(dovecot)["INBOX unseen"] == 0
    mailbox.refresh_from_db()
    assert mailbox.last_polled_at and not mailbox.last_error

    assert imap.poll(mailbox) == []  # nothing new


def test_mail_seen_on_the_server_but_not_stored_here_is_a_duplicate_only_if_stored(
    mailbox, dovecot
):
    _append(dovecot, mail(subject="once", message_id="<once@x>"))
    imap.poll(mailbox)
    # Someone marks it unread again on the server: fetched again, stored once.
    client = imaplib.IMAP4(dovecot.host, dovecot.port)
    client.login(dovecot.user, dovecot.password)
    client.select("INBOX")
    client.store("1", "-FLAGS", "\\Seen")
    client.logout()

    outcomes = imap.poll(mailbox)

    assert [o.outcome for o in outcomes] == ["duplicate"]
    assert Ticket.objects.count() == 1


def test_moving_mode_moves_processed_mail_to_a_folder(mailbox, dovecot):
    mailbox.move_to = "Processed"
    mailbox.save()
    _append(dovecot, mail(subject="a"), mail(subject="b"))

    call_command("mail", "poll", "--json", stdout=(out := io.StringIO()))

    assert [json.loads(line)["outcome"] for line in out.getvalue().splitlines()] == ["created"] * 2
    counts = _flags_and_counts(dovecot)
    assert (counts["INBOX"], counts["Processed"]) == (0, 2)


def test_a_wrong_password_is_recorded_on_the_mailbox_and_nothing_is_lost(
    mailbox, dovecot, monkeypatch
):
    monkeypatch.setenv("SD_TEST_IMAP_SECRET", "wrong")
    _append(dovecot, mail(subject="waiting"))

    with pytest.raises(Exception):  # noqa: B017 - imap-tools raises its own login error
        imap.poll(mailbox)

    mailbox.refresh_from_db()
    assert mailbox.last_error
    assert _flags_and_counts(dovecot)["INBOX unseen"] == 1  # still there for the next poll
    monkeypatch.setenv("SD_TEST_IMAP_SECRET", dovecot.password)
    assert [o.outcome for o in imap.poll(mailbox)] == ["created"]


def test_a_missing_secret_variable_says_which(mailbox, monkeypatch):
    monkeypatch.delenv("SD_TEST_IMAP_SECRET")

    with pytest.raises(imap.MailboxError, match="SD_TEST_IMAP_SECRET"):
        imap.poll(mailbox)
