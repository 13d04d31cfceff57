"""Import speed: N tickets from "another desk" through POST /api/v1/imports/tickets.

    .venv/bin/python bench/import_tickets.py --tickets 100000                 # SQLite
    .venv/bin/python bench/import_tickets.py --tickets 100000 \\
        --database-url postgres://postgres@127.0.0.1:5432/sd_bench_import     # PostgreSQL

A fresh data dir (and database), `servicedesk migrate`, an IT administrator and a token; then
the tickets (random.Random(7): 70 % closed or resolved, the rest active; 1–4 thread entries
each, a quarter of them from staff, some internal; 2,000 distinct requesters) are sent in
calls of --batch tickets (default 5,000) through Django's test client in this process — the
API's own code and the database, not the HTTP server (W1/W2 measure that). Timed: the calls.
Then it checks that every ticket, comment and clock arrived, and that sending the first
batch again creates nothing. Not a test: prints figures.
"""

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COMMAND = str(ROOT / ".venv" / "bin" / "servicedesk")


def tickets(count: int) -> list[dict]:
    rng = random.Random(7)
    start = datetime.now(UTC) - timedelta(days=365)
    items = []
    for n in range(count):
        created = start + timedelta(minutes=rng.randrange(0, 364 * 24 * 60))
        requester = f"contact{rng.randrange(2000)}@customer{rng.randrange(50)}.example"
        status = rng.choices(
            ["closed", "resolved", "open", "in_progress", "waiting_on_customer", "new"],
            [55, 15, 15, 8, 4, 3],
        )[0]
        thread, at = [], created
        for _ in range(rng.randint(1, 4)):
            at += timedelta(minutes=rng.randint(5, 3000))
            staff = rng.random() < 0.25
            thread.append(
                {
                    "author_email": "agent@desk.example" if staff else requester,
                    "body": "We looked at the sync log and restarted the service.",
                    "internal": staff and rng.random() < 0.3,
                    "created_at": min(at, datetime.now(UTC)).isoformat(),
                }
            )
        items.append(
            {
                "external_id": f"legacy-{n}",
                "subject": f"Outlook add-in does not sync contacts ({n})",
                "description": "Since the last update the add-in shows an error on start.",
                "requester_email": requester,
                "status": status,
                "urgency": rng.randint(1, 4),
                "impact": rng.randint(1, 4),
                "created_at": created.isoformat(),
                "thread": thread,
            }
        )
    return items


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=5000)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()

    data_dir = tempfile.mkdtemp(prefix="sd-bench-import-")
    os.environ.update(SERVICEDESK_DATA_DIR=data_dir, SERVICEDESK_API_RATE_LIMIT="0")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "servicedesk.settings")
    if args.database_url:
        name = args.database_url.rsplit("/", 1)[1]
        admin_url = args.database_url.rsplit("/", 1)[0] + "/postgres"
        for sql in (f"DROP DATABASE IF EXISTS {name}", f"CREATE DATABASE {name}"):
            subprocess.run(["psql", admin_url, "-qc", sql], check=True)
        os.environ["DATABASE_URL"] = args.database_url
    subprocess.run([COMMAND, "migrate", "-v0"], check=True)

    import django

    django.setup()
    from django.test import Client

    from servicedesk.accounts.models import StaffRole, User
    from servicedesk.api.tokens import create_token
    from servicedesk.sla.models import TicketClock
    from servicedesk.tickets.models import Comment, Ticket

    admin = User.objects.create_user(
        "it@desk.example", is_staff=True, staff_role=StaffRole.IT_ADMINISTRATOR
    )
    User.objects.create_user("agent@desk.example", is_staff=True)
    _, token = create_token(user=admin)
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    items = tickets(args.tickets)
    expected_comments = sum(len(i["thread"]) for i in items)

    began = time.perf_counter()
    for i in range(0, len(items), args.batch):
        response = client.post(
            "/api/v1/imports/tickets",
            json.dumps(items[i : i + args.batch]),
            content_type="application/json",
        )
        if response.status_code != 200:
            sys.exit(f"FAIL: {response.status_code} {response.content[:500]!r}")
    elapsed = time.perf_counter() - began

    again = client.post(
        "/api/v1/imports/tickets", json.dumps(items[: args.batch]), content_type="application/json"
    ).json()
    found = Ticket.objects.count(), Comment.objects.count()
    active = Ticket.objects.exclude(status__in=["resolved", "closed"]).count()
    clocks = TicketClock.objects.values("ticket").distinct().count()
    ok = found == (args.tickets, expected_comments) and again["created"] == 0 and clocks == active
    engine = "postgresql" if args.database_url else "sqlite"
    print(
        f"{engine}: {args.tickets:,} tickets, {expected_comments:,} thread entries in "
        f"{elapsed:.1f} s = {args.tickets / elapsed:,.0f} tickets/s "
        f"(batches of {args.batch}); clocks for {clocks:,} active tickets; re-import created "
        f"{again['created']}; {'OK' if ok else 'FAIL'}"
    )
    if not ok:
        sys.exit(f"FAIL: found {found}, expected {(args.tickets, expected_comments)}")


if __name__ == "__main__":
    main()
