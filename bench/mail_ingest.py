"""W5 email ingestion: 2,000 messages into the desk through `servicedesk mail ingest` on a folder
of .eml files (and, with --imap, through `servicedesk mail poll` from a throwaway dovecot), on
a fresh data set per run.

    .venv/bin/python bench/mail_ingest.py --tickets 10000 --runs 3 --imap            # SQLite
    .venv/bin/python bench/mail_ingest.py --tickets 10000 --runs 3 \\
        --database-url postgres://postgres@127.0.0.1:5432/sd_bench_mail               # PostgreSQL

Per run and path: a new data dir (and for PostgreSQL the named database, dropped and created),
`servicedesk migrate`, `servicedesk demo --tickets N` (untimed). The corpus (random.Random(5),
as /work/shared/BENCH.md describes): 700 plain text (half quoted-printable), 300 HTML only,
300 multipart/alternative, 200 multipart/mixed with a small .txt/.pdf/.png attachment, 500
replies `Re: [SD#n] <subject>` from the ticket's requester (half with In-Reply-To naming a
message the desk sent for that ticket, seeded in the outbox beforehand); 10 % carry a Cc, a
third have non-ASCII text. Timed: ONE `servicedesk mail ingest --json FOLDER` (or `mail poll
--json`) process, wall time including its start-up; the start-up alone (nothing to do) is
timed too, to report the figure without it.

Then it checks that nothing was lost, from the JSON lines and from the database: 2,000
outcomes, 1,500 created and 500 replied, each reply on the ticket its token names, 2,000 stored
messages and none unprocessed or quarantined, 1,500 new tickets, 500 new comments, 200 new
attachments. A failure prints FAIL, keeps the data for inspection and exits non-zero.
"""

import argparse
import imaplib
import json
import os
import random
import shlex
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COMMAND = str(ROOT / ".venv" / "bin" / "servicedesk")
sys.path.insert(0, str(ROOT))
from tests.ports import start_dovecot, stop_dovecot  # noqa: E402 (the tests' own IMAP server)

# django-helpdesk 2.6.1 (`get_email` on a local folder), emails/s, and ours at 5x (BENCH.md).
PEER = {("sqlite", 10_000): 86, ("postgresql", 10_000): 45,
        ("sqlite", 100_000): 51, ("postgresql", 100_000): 34}  # fmt: skip
TARGET = {("sqlite", 10_000): 430, ("postgresql", 10_000): 226,
          ("sqlite", 100_000): 256, ("postgresql", 100_000): 169}  # fmt: skip
# Share of each kind in the corpus: 700 / 300 / 300 / 200 / 500 of 2,000.
KINDS = {"plain": 0.35, "html": 0.15, "alternative": 0.15, "mixed": 0.10, "reply": 0.25}
SUBJECTS = [
    "Outlook add-in does not sync contacts", "Dynamics 365 workflow fails on save",
    "SuperOffice export times out", "GoldMine calendar shows the wrong time",
    "ERP integration returns 500", "Invoice for the licence renewal is wrong",
    "Portal login loops back to the start page", "Duplicate contacts after the import",
    "Mobile app cannot log in", "Sales report totals are wrong", "Mailing list bounces",
    "Custom field missing on the company card",
]  # fmt: skip
SENTENCES = [
    "Since this morning the contact sync stops half-way and the log shows a timeout.",
    "Three users in the sales team see the same error when they save a company card.",
    "We changed nothing on our side; the problem started after your update last night.",
    "The export of all activities for last quarter never finishes.",
    "Could you please check the integration user's permissions?",
    "Attached is what the client shows; it happens every time we try.",
    "Our account manager asked us to open a ticket for this.",
    "The field values are imported, but the selection lists stay empty.",
    "This blocks the month-end reporting, so an answer this week would help.",
]
NON_ASCII = [
    "Hilsen fra Bjørn i Ålesund — takk for hjelpen!",
    "Cordialement, Hélène (équipe CRM, Besançon).",
    "Grüße aus Köln, Jürgen Weiß.",
]
ATTACHMENTS = [
    ("sync-log.txt", "text", "plain", b"2026-11-20 09:14:02 sync: timeout after 30 s\n" * 8),
    ("invoice.pdf", "application", "pdf", b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n" * 7),
    ("screen.png", "image", "png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 1),
]


class Database:
    """Plain DB-API access (sqlite3 or psycopg) for the set-up rows and the checks."""

    def __init__(self, data_dir: Path, url: str | None):
        self.pg = bool(url)
        if self.pg:
            import psycopg

            self.conn = psycopg.connect(url, autocommit=True)
        else:
            self.conn = sqlite3.connect(data_dir / "servicedesk.sqlite3", isolation_level=None)

    def _sql(self, statement: str) -> str:
        return statement if self.pg else statement.replace("%s", "?")

    def rows(self, statement: str, params: tuple = ()) -> list[tuple]:
        cursor = self.conn.execute(self._sql(statement), params)
        return cursor.fetchall() if cursor.description else []

    def value(self, statement: str, params: tuple = ()):
        return self.rows(statement, params)[0][0]

    def insert_many(self, statement: str, rows: list[tuple]) -> None:
        if self.pg:
            with self.conn.cursor() as cursor:
                cursor.executemany(statement, rows)
        else:
            self.conn.executemany(self._sql(statement), rows)

    def json(self, value):
        if self.pg:
            from psycopg.types.json import Jsonb

            return Jsonb(value)
        return json.dumps(value)

    def time(self, moment: datetime):
        # Django keeps SQLite datetimes as naive UTC text.
        return moment if self.pg else moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")

    def counts(self) -> dict[str, int]:
        tables = ("tickets_ticket", "tickets_comment", "tickets_attachment")
        return {t: self.value(f"SELECT COUNT(*) FROM {t}") for t in tables}

    def close(self) -> None:
        self.conn.close()


def _env(data_dir: Path, database_url: str | None, messages: int) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(
        SERVICEDESK_DATA_DIR=str(data_dir),
        SERVICEDESK_TASKS_BACKEND="database",
        # The demo data has 12 requesters, so 500 replies within seconds come ~40 from each:
        # the loop guard (30 a sender an hour) would rightly ignore the rest. It stays on (its
        # query runs for every message) with a ceiling above what this batch sends.
        SERVICEDESK_MAIL_SENDER_LIMIT=str(messages + 1),
    )
    if database_url:
        env["DATABASE_URL"] = database_url
    return env


def _recreate(database_url: str, *, create: bool = True) -> None:
    import psycopg

    name = database_url.rsplit("/", 1)[1]
    admin = database_url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        if create:
            conn.execute(f'CREATE DATABASE "{name}"')


def _fresh(args) -> tuple[Path, dict]:
    data_dir = Path(tempfile.mkdtemp(prefix="sd-bench-mail-"))
    if args.database_url:
        _recreate(args.database_url)
    env = _env(data_dir, args.database_url, args.messages)
    started = time.perf_counter()
    subprocess.run([COMMAND, "migrate", "-v0"], env=env, check=True)
    subprocess.run([COMMAND, "demo", "--tickets", str(args.tickets)], env=env, check=True,
                   stdout=subprocess.DEVNULL)  # fmt: skip
    print(f"  set-up: migrate + demo --tickets {args.tickets:,}: "
          f"{time.perf_counter() - started:.1f} s (untimed)", flush=True)  # fmt: skip
    return data_dir, env


def _corpus(db: Database, count: int) -> tuple[list[bytes], dict[str, int], int]:
    """The W5 messages; the ticket number each reply names, by Message-ID; how many attach."""
    rng = random.Random(5)
    sizes = {kind: round(count * share) for kind, share in KINDS.items()}
    sizes["plain"] += count - sum(sizes.values())
    kinds = [kind for kind, n in sizes.items() for _ in range(n)]
    rng.shuffle(kinds)
    with_cc = set(rng.sample(range(count), count // 10))
    # Replies go to tickets that are not closed (a reply to a closed ticket rightly opens a
    # new one), from the requester: the desk takes a subject token only from a participant.
    candidates = db.rows(
        "SELECT t.number, t.subject, u.email, t.id FROM tickets_ticket t"
        " JOIN accounts_user u ON u.id = t.requester_id"
        " WHERE t.status <> 'closed' ORDER BY t.number"
    )
    targets = rng.sample(candidates, sizes["reply"])
    threaded = targets[: len(targets) // 2]
    threaded_numbers = {t[0] for t in threaded}
    # For half of them, the desk's own earlier mail on the ticket, as its outbox keeps it;
    # those replies answer it with In-Reply-To.
    now = datetime.now(UTC)
    sent = db.time(now - timedelta(days=1))
    db.insert_many(
        'INSERT INTO mail_outboxmessage ("to", cc, subject, body_text, body_html, headers,'
        " message_id, status, attempts, next_attempt_at, created_at, sent_at, ticket_id,"
        " dedupe_key, last_error) VALUES (%s, %s, %s, %s, '', %s, %s, 'sent', 1, %s, %s, %s,"
        " %s, NULL, '')",
        [
            (db.json([email]), db.json([]), f"[SD#{number}] {subject}",
             "We have received your request.", db.json({}),
             f"<bench-{number}@servicedesk.localhost>", sent, sent, sent, ticket_id)
            for number, subject, email, ticket_id in threaded
        ],
    )  # fmt: skip
    start = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    messages, expected, attached = [], {}, 0
    replies = iter(targets)
    for i, kind in enumerate(kinds):
        m, quote = EmailMessage(), ""
        message_id = f"w5-{i:05d}@customer.example"
        text = " ".join(rng.sample(SENTENCES, rng.randint(2, 5)))
        if rng.random() < 1 / 3:
            text += "\n\n" + rng.choice(NON_ASCII)
        if kind == "reply":
            number, subject, email, _ = next(replies)
            m["From"] = email
            m["Subject"] = f"Re: [SD#{number}] {subject}"
            if number in threaded_numbers:
                m["In-Reply-To"] = f"<bench-{number}@servicedesk.localhost>"
            quote = (
                f"\n\nOn 19 Nov 2026, Support wrote:\n> We have received your request.\n> {subject}"
            )
            expected[message_id] = number
        else:
            m["From"] = f"Customer {i} <customer{i}@example.com>"
            m["Subject"] = rng.choice(SUBJECTS)
        m["To"] = "support@servicedesk.localhost"
        if i in with_cc:
            m["Cc"] = f"colleague{i}@example.com"
        m["Date"] = format_datetime(start + timedelta(seconds=30 * i))
        m["Message-ID"] = f"<{message_id}>"
        # Lines kept short, so only the quoted-printable half is encoded (the rest 7bit/8bit).
        text = "\n\n".join(textwrap.fill(p, 72) for p in text.split("\n\n")) + quote
        cte = "quoted-printable" if i % 2 else None
        html = (
            "<html><body>\n"
            + "\n".join(f"<p>{p}</p>" for p in text.replace("> ", "").split("\n\n"))
            + "\n</body></html>"
        )
        if kind == "html":
            m.set_content(html, subtype="html", cte=cte)
        else:
            m.set_content(text, cte=cte)
            if kind == "alternative":
                m.add_alternative(html, subtype="html", cte=cte)
            elif kind == "mixed":
                name, maintype, subtype, data = rng.choice(ATTACHMENTS)
                m.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
                attached += 1
        if m.is_multipart():
            m.set_boundary(f"bench-{i:05d}")  # the same bytes every time
        messages.append(m.as_bytes())
    return messages, expected, attached


def _timed(command: list[str], env: dict) -> tuple[float, list[dict], str]:
    """Wall time of one process, its JSON lines, and what went wrong ("" if nothing)."""
    started = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    lines, problem = [], ""
    for line in done.stdout.splitlines():
        try:
            lines.append(json.loads(line))
        except json.JSONDecodeError:
            problem = f"not JSON on stdout: {line[:200]!r}"
    if done.returncode:
        problem = f"exit status {done.returncode}: {done.stderr.strip()[-1500:]}"
    return seconds, lines, problem


def _startup(command: list[str], env: dict) -> float:
    """The command's start-up: the median of three runs with nothing to do."""
    times = []
    for _ in range(3):
        seconds, lines, problem = _timed(command, env)
        if problem or lines:
            raise SystemExit(f"start-up run of {command} failed: {problem or lines}")
        times.append(seconds)
    return statistics.median(times)


def _verify(
    lines: list[dict],
    expected: dict[str, int],
    attached: int,
    db: Database,
    before: dict[str, int],
    count: int,
) -> list[str]:
    problems = []
    created_expected, replied_expected = count - len(expected), len(expected)
    outcomes: dict[str, int] = {}
    for line in lines:
        outcomes[line["outcome"]] = outcomes.get(line["outcome"], 0) + 1
    if len(lines) != count:
        problems.append(f"{len(lines)} outcome lines for {count} messages")
    if outcomes != {"created": created_expected, "replied": replied_expected}:
        problems.append(f"outcomes {outcomes}, expected {created_expected} created and "
                        f"{replied_expected} replied")  # fmt: skip
    by_id = {line["message_id"].strip("<>"): line for line in lines}
    wrong = [
        f"{mid} → {by_id[mid]['outcome']} {by_id[mid]['ticket']}, not SD-{number}"
        for mid, number in expected.items()
        if mid in by_id
        and (by_id[mid]["outcome"] != "replied" or by_id[mid]["ticket"] != f"SD-{number}")
    ]
    if wrong:
        problems.append(f"{len(wrong)} replies not on their ticket (JSON), e.g. {wrong[:3]}")
    stored = dict(db.rows("SELECT outcome, COUNT(*) FROM mail_inboundmessage GROUP BY outcome"))
    if stored != {"created": created_expected, "replied": replied_expected}:
        problems.append(f"mail_inboundmessage by outcome: {stored}")
    landed = dict(
        db.rows(
            "SELECT i.message_id, t.number FROM mail_inboundmessage i"
            " JOIN tickets_ticket t ON t.id = i.ticket_id WHERE i.outcome = 'replied'"
        )
    )
    misplaced = [mid for mid, number in expected.items() if landed.get(mid) != number]
    if misplaced:
        problems.append(f"{len(misplaced)} replies not on their ticket (database), e.g. "
                        f"{[(m, landed.get(m), expected[m]) for m in misplaced[:3]]}")  # fmt: skip
    after = db.counts()
    grown = {table: after[table] - before[table] for table in after}
    wanted = {
        "tickets_ticket": created_expected,
        "tickets_comment": replied_expected,
        "tickets_attachment": attached,
    }
    if grown != wanted:
        problems.append(f"rows added {grown}, expected {wanted}")
    return problems


def _one_run(args, path: str) -> dict:
    data_dir, env = _fresh(args)
    db = Database(data_dir, args.database_url)
    messages, expected, attached = _corpus(db, args.messages)
    before = db.counts()
    db.close()  # nothing of ours holds the database while the command runs
    dovecot = None
    try:
        if path == "pipe":
            empty = data_dir / "empty"
            empty.mkdir()
            startup = _startup([COMMAND, "mail", "ingest", "--json", str(empty)], env)
            folder = data_dir / "in"
            folder.mkdir()
            for i, raw in enumerate(messages):
                (folder / f"{i:05d}.eml").write_bytes(raw)
            command = [COMMAND, "mail", "ingest", "--json", str(folder)]
        else:
            env["BENCH_IMAP_SECRET"] = "secret"
            startup = _startup([COMMAND, "mail", "poll", "--json"], env)  # no mailbox yet
            dovecot, port = start_dovecot(prefix="sd-bench-imap-")
            client = imaplib.IMAP4("127.0.0.1", port)
            client.login("desk", "secret")
            for raw in messages:
                client.append("INBOX", "", imaplib.Time2Internaldate(time.time()), raw)
            client.logout()
            db = Database(data_dir, args.database_url)
            db.insert_many(
                "INSERT INTO mail_mailbox (name, host, port, security, login, username,"
                " secret_env, folder, move_to, is_active, last_error) VALUES"
                " ('bench', '127.0.0.1', %s, 'plain', 'password', 'desk', 'BENCH_IMAP_SECRET',"
                " 'INBOX', '', %s, '')",
                [(port, True)],
            )
            db.close()
            command = [COMMAND, "mail", "poll", "--json"]
        seconds, lines, problem = _timed(command, env)
    finally:
        if dovecot:
            stop_dovecot(dovecot)
    db = Database(data_dir, args.database_url)
    problems = ([problem] if problem else []) + _verify(
        lines, expected, attached, db, before, args.messages
    )
    db.close()
    result = {"path": path, "seconds": seconds, "startup": startup, "problems": problems}
    if problems:
        names = ("SERVICEDESK_DATA_DIR", "DATABASE_URL", "SERVICEDESK_TASKS_BACKEND",
                 "SERVICEDESK_MAIL_SENDER_LIMIT", "BENCH_IMAP_SECRET")  # fmt: skip
        shown = " ".join(f"{k}={shlex.quote(env[k])}" for k in names if k in env)
        print("  FAIL: " + "\n  FAIL: ".join(problems))
        print(f"  data kept (after the run) in {data_dir}; the timed command was:\n"
              f"    {shown} {shlex.join(command)}")  # fmt: skip
    else:
        shutil.rmtree(data_dir, ignore_errors=True)
        if args.database_url:
            _recreate(args.database_url, create=False)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tickets", type=int, default=10_000)
    parser.add_argument("--messages", type=int, default=2_000)
    parser.add_argument("--database-url", default="", help="PostgreSQL (default: SQLite)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--imap", action="store_true", help="also measure `mail poll` (IMAP)")
    args = parser.parse_args()
    vendor = "postgresql" if args.database_url else "sqlite"
    paths = ["pipe", "imap"] if args.imap else ["pipe"]
    results: list[dict] = []
    for run in range(1, args.runs + 1):
        for path in paths:
            print(f"run {run}, {path}:", flush=True)
            r = _one_run(args, path)
            r["run"] = run
            results.append(r)
            rate = args.messages / r["seconds"]
            net = args.messages / (r["seconds"] - r["startup"])
            print(f"  {r['seconds']:.2f} s (start-up {r['startup']:.2f} s): {rate:.0f} msg/s, "
                  f"{net:.0f} msg/s without start-up — "
                  f"{'FAIL' if r['problems'] else 'ok, nothing lost'}", flush=True)  # fmt: skip

    key = (vendor, args.tickets)
    peer, target = PEER.get(key), TARGET.get(key)
    print(f"\nW5 email ingestion on {vendor}, {args.tickets:,} tickets, "
          f"{args.messages:,} messages\n")  # fmt: skip
    print("| path | run | wall s | start-up s | msg/s | msg/s without start-up | check |")
    print("|---|---:|---:|---:|---:|---:|---|")
    for r in results:
        print(f"| {r['path']} | {r['run']} | {r['seconds']:.2f} | {r['startup']:.2f} | "
              f"{args.messages / r['seconds']:.0f} | "
              f"{args.messages / (r['seconds'] - r['startup']):.0f} | "
              f"{'FAIL' if r['problems'] else 'ok'} |")  # fmt: skip
    print(f"\n| path | msg/s (median of {args.runs}) | without start-up | peer | target |")
    print("|---|---:|---:|---:|---:|")
    for path in paths:
        rows = [r for r in results if r["path"] == path]
        rate = statistics.median(args.messages / r["seconds"] for r in rows)
        net = statistics.median(args.messages / (r["seconds"] - r["startup"]) for r in rows)
        print(f"| {path} | {rate:.0f} | {net:.0f} | {peer or '—'} | "
              f"{f'>= {target}' if target else '—'} |")  # fmt: skip
    if any(r["problems"] for r in results):
        print("\nFAIL: messages were lost or misplaced (see above)")
        sys.exit(1)


if __name__ == "__main__":
    main()
