"""``servicedesk mail ingest [--json] [PATH ...]``, ``servicedesk mail poll`` and
``servicedesk mail resend [--all-failed | ID ...]``."""

import json
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from servicedesk.mail import imap, ingest, outbox
from servicedesk.mail.models import Mailbox, OutboxMessage
from servicedesk.mail.sources import messages_at

# sendmail's "temporary failure": the MTA keeps the message and delivers it again later.
EX_TEMPFAIL = 75


class Command(BaseCommand):
    help = (
        "Mail in: ingest raw messages (stdin, files, mbox, Maildir) or poll IMAP mailboxes; "
        "mail out: send failed outbox messages again."
    )
    # An MTA starts this once per message: the system checks would import the URL conf, and
    # with it the whole API (a third of a second), for nothing it needs.
    requires_system_checks = []

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        take = sub.add_parser(
            "ingest",
            help="ingest one message from standard input (an MTA pipe), or every message in "
            "each PATH: a message file, an mbox, a Maildir or a folder of message files",
        )
        take.add_argument("paths", nargs="*", type=Path, metavar="PATH")
        take.add_argument("--json", action="store_true", help="one JSON object per message")
        poll = sub.add_parser("poll", help="fetch new mail from the configured IMAP mailboxes")
        poll.add_argument("--mailbox", help="only this mailbox (by name)")
        poll.add_argument("--json", action="store_true", help="one JSON object per message")
        resend = sub.add_parser(
            "resend", help="send failed outbox messages again, with a fresh series of attempts"
        )
        resend.add_argument("ids", nargs="*", type=int, metavar="ID", help="outbox message ids")
        resend.add_argument("--all-failed", action="store_true", help="every failed message")

    def handle(self, *args, action: str, **options):
        if action == "ingest":
            self._ingest(options["paths"], as_json=options["json"])
        elif action == "resend":
            self._resend(options["ids"], all_failed=options["all_failed"])
        else:
            self._poll(options.get("mailbox"), as_json=options["json"])

    def _resend(self, ids: list[int], *, all_failed: bool) -> None:
        if bool(ids) == all_failed:
            raise CommandError("Give the ids of the messages to send again, or --all-failed.")
        if ids:
            unknown = set(ids) - set(
                OutboxMessage.objects.filter(pk__in=ids).values_list("pk", flat=True)
            )
            if unknown:
                raise CommandError(f"No outbox message {', '.join(map(str, sorted(unknown)))}.")
        requeued = outbox.resend(ids=ids or None)
        for row in OutboxMessage.objects.filter(pk__in=requeued).order_by("pk"):
            self.stdout.write(
                f"queued again {row.pk:<8} {', '.join(map(str, row.to))}  {row.subject}"
            )
        for pk in sorted(set(ids) - set(requeued)):
            self.stdout.write(f"left alone   {pk:<8} (it has not failed)")
        self.stdout.write(f"{len(requeued)} message(s) queued again.")

    def _report(self, outcome: ingest.Outcome, source: str, as_json: bool) -> None:
        if as_json:
            self.stdout.write(json.dumps(outcome.as_dict(), ensure_ascii=False))
        else:
            ticket = outcome.ticket or "-"
            reason = f"  {outcome.reason}" if outcome.reason else ""
            self.stdout.write(f"{outcome.outcome:<11} {ticket:<10} {source}{reason}")

    def _ingest(self, paths: list[Path], *, as_json: bool) -> None:
        for path in paths:
            if not path.exists():
                raise CommandError(f"{path} does not exist.")
        messages = (
            ((label, raw) for path in paths for label, raw in messages_at(path))
            if paths
            else iter([("stdin", sys.stdin.buffer.read())])
        )
        try:
            for label, outcome in ingest.ingest_many(messages):
                self._report(outcome, label, as_json)
        except DatabaseError as error:  # not stored: the sender must deliver it again
            self.stderr.write(f"not stored: {error}")
            sys.exit(EX_TEMPFAIL)

    def _poll(self, name: str | None, *, as_json: bool) -> None:
        mailboxes = Mailbox.objects.filter(is_active=True)
        if name:
            mailboxes = mailboxes.filter(name=name)
            if not mailboxes:
                raise CommandError(f"No active mailbox named {name!r}.")
        for outcome in ingest.process_unfinished():
            self._report(outcome, "unfinished", as_json)
        for mailbox in mailboxes:
            try:
                outcomes = imap.poll(mailbox)
            except Exception as error:
                raise CommandError(f"{mailbox.name}: {error}") from error
            for outcome in outcomes:
                self._report(outcome, f"imap:{mailbox.name}", as_json)
