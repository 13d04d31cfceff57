"""W5: 2,000 messages into the desk through `servicedesk mail ingest` on a folder (and, with
--imap, through `servicedesk mail poll` from a local dovecot), on a fresh data set per run.

    .venv/bin/python bench/mail_ingest.py [--tickets 10000] [--runs 3] [--imap]
        [--database-url postgres://postgres@127.0.0.1:5432/sd_bench_mail]

Prints messages per second with and without the command's start-up, and checks that
nothing was lost: 1,500 tickets created, 500 replies on the ticket each one names, every
message stored once, none left unprocessed or quarantined.
"""

import argparse
import imaplib
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from email.message import EmailMessage
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COMMAND = str(ROOT / ".venv" / "bin" / "servicedesk")
PEER = {"sqlite": 86, "postgresql": 45}  # django-helpdesk, 10k tickets (BENCH.md)
TARGET = {"sqlite": 430, "postgresql": 226}
SUBJECTS = [
    "Outlook add-in does not sync contacts", "Dynamics 365 workflow fails on save",
    "SuperOffice export times out", "GoldMine calendar shows wrong timezone",
    "Webhook to ERP returns 500", "Refund of licence invoice", "Certificate expired on portal",
    "Duplicate contacts after import", "Mobile app cannot log in", "Report totals are wrong",
]  # fmt: skip
WORDS = [
    "the",
    "contact",
    "sync",
    "import",
    "export",
    "field",
    "record",
    "portal",
    "licence",
    "user",
    "error",
    "after",
    "update",
]


def _env(data_dir: Path, database_url: str | None, **extra) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    # The demo data has a few dozen requesters, so 500 replies within seconds come from the
    # same people: the per-sender loop limit (30 an hour) would rightly stop them.
    env.update(
        SERVICEDESK_DATA_DIR=str(data_dir),
        SERVICEDESK_TASKS_BACKEND="database",
        SERVICEDESK_MAIL_SENDER_LIMIT="0",
        **extra,
    )
    if database_url:
        env["DATABASE_URL"] = database_url
    return env


def _sql(env: dict, statement: str) -> list:
    code = (
        "import json,sys\nfrom django.db import connection\n"
        "with connection.cursor() as c:\n"
        f"    c.execute({statement!r})\n"
        "    rows = c.fetchall() if c.description else []\n"
        "print(json.dumps(rows, default=str))"
    )
    out = subprocess.run(
        [COMMAND, "shell", "-c", code], env=env, capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def _fresh(database_url: str | None, tickets: int) -> tuple[Path, dict]:
    data_dir = Path(tempfile.mkdtemp(prefix="sd-bench-mail-"))
    if database_url:
        name = database_url.rsplit("/", 1)[1]
        admin = database_url.rsplit("/", 1)[0] + "/postgres"
        subprocess.run(["psql", admin, "-qc", f"DROP DATABASE IF EXISTS {name}"], check=True)
        subprocess.run(["psql", admin, "-qc", f"CREATE DATABASE {name}"], check=True)
    env = _env(data_dir, database_url)
    subprocess.run([COMMAND, "migrate", "-v0"], env=env, check=True)
    subprocess.run([COMMAND, "demo", "--tickets", str(tickets)], env=env, check=True,
                   capture_output=True)  # fmt: skip
    return data_dir, env


def _messages(env: dict, count: int) -> tuple[list[bytes], dict[int, int]]:
    """The W5 corpus; returns the messages and, per reply's position, the ticket it names."""
    rng = random.Random(5)
    replies = count // 4
    # Replies go to open tickets (a reply to a closed one rightly opens a new ticket).
    targets = _sql(
        env,
        "SELECT t.number, u.email, t.id FROM tickets_ticket t JOIN accounts_user u"
        " ON u.id = t.requester_id WHERE t.status NOT IN ('closed', 'resolved')"
        f" ORDER BY t.id LIMIT {replies}",
    )
    with_header = targets[: replies // 2]
    now = "2026-11-23 00:00:00+00"
    values = ", ".join(  # "the ticket's first email", one INSERT for all of them
        f"('[\"{email}\"]', '[]', 'ack', 'ack', '', '{{}}', '<bench-{number}@servicedesk.localhost>',"
        f" 'sent', 1, '{now}', '{now}', '{now}', {ticket_id}, '')"
        for number, email, ticket_id in with_header
    )
    if values:
        _sql(
            env,
            'INSERT INTO mail_outboxmessage ("to", cc, subject, body_text, body_html, headers,'
            " message_id, status, attempts, next_attempt_at, created_at, sent_at, ticket_id,"
            f" last_error) VALUES {values}",
        )
    kinds = ["plain"] * 700 + ["html"] * 300 + ["alternative"] * 300 + ["mixed"] * 200
    kinds = kinds[: count - replies] + ["reply"] * replies
    rng.shuffle(kinds)
    messages, expected, reply_index = [], {}, 0
    for i, kind in enumerate(kinds):
        m = EmailMessage()
        text = " ".join(rng.choice(WORDS) for _ in range(40)) + " — é ø å"
        if kind == "reply":
            number, email, _ = targets[reply_index]
            m["From"], m["Subject"] = email, f"Re: [SD#{number}] follow-up"
            if reply_index < len(with_header):
                m["In-Reply-To"] = f"<bench-{number}@servicedesk.localhost>"
            expected[i] = number
            reply_index += 1
        else:
            m["From"] = f"Customer {i} <customer{i}@bench{i % 50}.example>"
            m["Subject"] = f"{rng.choice(SUBJECTS)} #{i}"
        m["To"] = "support@servicedesk.localhost"
        if rng.random() < 0.1:
            m["Cc"] = f"colleague{i}@bench.example"
        m["Message-ID"] = f"<w5-{i}@bench.example>"
        if kind == "html":
            m.set_content(f"<p>{text}</p>", subtype="html")
        else:
            m.set_content(text, cte="quoted-printable" if i % 2 else None)
            if kind == "alternative":
                m.add_alternative(f"<p>{text}</p>", subtype="html")
            elif kind == "mixed":
                name, data = rng.choice([("log.txt", b"trace " * 50), ("a.pdf", b"%PDF-1.4 " * 40),
                                         ("s.png", b"\x89PNG\r\n\x1a\n" + b"0" * 300)])  # fmt: skip
                m.add_attachment(data, maintype="application", subtype="octet-stream",
                                 filename=name)  # fmt: skip
        messages.append(m.as_bytes())
    return messages, expected


def _verify(lines: list[dict], expected: dict[int, int], env: dict, count: int) -> list[str]:
    problems = []
    outcomes = [line["outcome"] for line in lines]
    if len(lines) != count:
        problems.append(f"{len(lines)} outcomes for {count} messages")
    if outcomes.count("created") != count - len(expected):
        problems.append(f"{outcomes.count('created')} created")
    if outcomes.count("replied") != len(expected):
        problems.append(f"{outcomes.count('replied')} replied")
    for index, number in expected.items():
        if index < len(lines) and lines[index]["ticket"] != f"SD-{number}":
            problems.append(f"reply {index} landed on {lines[index]['ticket']}, not SD-{number}")
            break
    stored = _sql(env, "SELECT outcome, COUNT(*) FROM mail_inboundmessage GROUP BY outcome")
    stored = dict(stored)
    if sum(stored.values()) != count or set(stored) - {"created", "replied"}:
        problems.append(f"stored: {stored}")
    return problems


def _timed(args: list[str], env: dict) -> tuple[float, list[dict]]:
    start = time.perf_counter()
    out = subprocess.run(args, env=env, capture_output=True, text=True, check=True)
    return time.perf_counter() - start, [json.loads(x) for x in out.stdout.splitlines()]


DOVECOT = """base_dir = {d}/run
state_dir = {d}/state
log_path = {d}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:{d}/mail/%n/Maildir
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%n {d}/passwd
}}
userdb {{
  driver = static
  args = uid=nobody gid=nogroup home={d}/mail/%n
}}
service anvil {{
  chroot =
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
"""


def _imap_run(messages: list[bytes], env: dict) -> tuple[float, list[dict]]:
    d = Path(tempfile.mkdtemp(prefix="sd-bench-imap-"))
    d.chmod(0o755)
    for sub in ("run", "state", "mail"):
        (d / sub).mkdir()
    shutil.chown(d / "mail", "nobody", "nogroup")
    (d / "passwd").write_text("desk:{PLAIN}secret\n")
    port = 14300 + os.getpid() % 1000
    (d / "dovecot.conf").write_text(DOVECOT.format(d=d, port=port))
    subprocess.run(["/usr/sbin/dovecot", "-c", str(d / "dovecot.conf")], check=True)
    try:
        time.sleep(0.5)
        client = imaplib.IMAP4("127.0.0.1", port)
        client.login("desk", "secret")
        for raw in messages:
            client.append("INBOX", "", imaplib.Time2Internaldate(time.time()), raw)
        client.logout()
        _sql(
            env,
            "INSERT INTO mail_mailbox (name, host, port, security, login, username, secret_env,"
            f" folder, move_to, is_active, last_error) VALUES ('bench', '127.0.0.1', {port},"
            " 'plain', 'password', 'desk', 'BENCH_IMAP_SECRET', 'INBOX', '', true, '')",
        )
        return _timed([COMMAND, "mail", "poll", "--json"], {**env, "BENCH_IMAP_SECRET": "secret"})
    finally:
        subprocess.run(["/usr/sbin/dovecot", "-c", str(d / "dovecot.conf"), "stop"], check=False)
        shutil.rmtree(d, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=10_000)
    parser.add_argument("--messages", type=int, default=2_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--database-url")
    parser.add_argument("--imap", action="store_true")
    args = parser.parse_args()
    vendor = "postgresql" if args.database_url else "sqlite"
    paths = ["pipe"] + (["imap"] if args.imap else [])
    figures: dict[str, list[tuple[float, float]]] = {p: [] for p in paths}
    for run in range(args.runs):
        for path in paths:
            data_dir, env = _fresh(args.database_url, args.tickets)
            messages, expected = _messages(env, args.messages)
            empty = data_dir / "empty"
            empty.mkdir()
            startup, _ = _timed([COMMAND, "mail", "ingest", "--json", str(empty)], env)
            if path == "pipe":
                folder = data_dir / "in"
                folder.mkdir()
                for i, raw in enumerate(messages):
                    (folder / f"{i:05d}.eml").write_bytes(raw)
                seconds, lines = _timed([COMMAND, "mail", "ingest", "--json", str(folder)], env)
            else:
                seconds, lines = _imap_run(messages, env)
            problems = _verify(lines, expected, env, args.messages)
            rate, rate_net = args.messages / seconds, args.messages / (seconds - startup)
            figures[path].append((rate, rate_net))
            status = "ok" if not problems else "FAIL " + "; ".join(problems)
            print(f"run {run + 1} {path}: {seconds:.2f} s (start-up {startup:.2f} s), "
                  f"{rate:.0f} msg/s, {rate_net:.0f} msg/s without start-up — {status}")  # fmt: skip
            shutil.rmtree(data_dir, ignore_errors=True)
            if problems:
                sys.exit(1)
    print(
        f"\nW5 on {vendor}, {args.tickets} tickets, {args.messages} messages, median of {args.runs}"
    )
    print("| path | msg/s | msg/s without start-up | peer | target |")
    print("|---|---|---|---|---|")
    for path, rows in figures.items():
        print(f"| {path} | {statistics.median(r[0] for r in rows):.0f} | "
              f"{statistics.median(r[1] for r in rows):.0f} | {PEER[vendor]} | {TARGET[vendor]} |")  # fmt: skip


if __name__ == "__main__":
    main()
