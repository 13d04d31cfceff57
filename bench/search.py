"""Keyword search (BENCH.md W4): the five keywords over a demo desk of N tickets.

    .venv/bin/python bench/search.py --tickets 100000                        # SQLite
    .venv/bin/python bench/search.py --tickets 100000 \\
        --database-url postgres://postgres@127.0.0.1:5432/sd_bench_search    # PostgreSQL

A fresh data dir (and database) and ``servicedesk demo --tickets N`` (which indexes what it
loads). Then, as W4's data has them, each keyword gets a sentence in the description of 1 %
of the tickets (ticket i carries keyword k when (i + 37 k) % 100 == 0; the texts are edited
in SQL and re-indexed with ``search.index.reindex_tickets``; the demo's own subjects also say
"Outlook" now and then). Timed, in this process, for a staff user who is not a superuser,
--rounds rounds over the five keywords:

- ``find``: ``search.query.find(user, word)``, the desk's search (first page of 25, ranked,
  with snippets and the total);
- ``api``: ``GET /api/v1/tickets?q=word`` through Django's test client (the first 25 by SLA
  due time, as W4 measures ours).

Not a test: prints p50 / p95 in ms per kind, and the hits per keyword.
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COMMAND = str(ROOT / ".venv" / "bin" / "servicedesk")

KEYWORD_SENTENCES = {  # BENCH.md W4 (peer-bench/seedtext.py)
    "webhook": "The webhook to our billing system is no longer called.",
    "refund": "We were charged twice and would like a refund for the second payment.",
    "outlook": "The outlook add-in shows an empty panel for every contact.",
    "certificate": "Our SSO certificate expires next week and must be replaced.",
    "timezone": "Meetings appear one hour late, the timezone looks wrong.",
}


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()

    data_dir = tempfile.mkdtemp(prefix="sd-bench-search-")
    os.environ.update(SERVICEDESK_DATA_DIR=data_dir, SERVICEDESK_API_RATE_LIMIT="0")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "servicedesk.settings")
    if args.database_url:
        name = args.database_url.rsplit("/", 1)[1]
        admin_url = args.database_url.rsplit("/", 1)[0] + "/postgres"
        for sql in (f"DROP DATABASE IF EXISTS {name}", f"CREATE DATABASE {name}"):
            subprocess.run(["psql", admin_url, "-qc", sql], check=True)
        os.environ["DATABASE_URL"] = args.database_url
    began = time.perf_counter()
    subprocess.run(
        [COMMAND, "demo", "--tickets", str(args.tickets)], check=True, stdout=subprocess.DEVNULL
    )
    loaded = time.perf_counter() - began

    import django

    django.setup()
    from django.db import connection, transaction
    from django.test import Client

    from servicedesk.accounts.models import User
    from servicedesk.api.tokens import create_token
    from servicedesk.search import index, query
    from servicedesk.tickets.models import Ticket

    ids = list(Ticket.objects.order_by("pk").values_list("pk", flat=True))
    table = Ticket._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        for k, sentence in enumerate(KEYWORD_SENTENCES.values()):
            chosen = [pk for i, pk in enumerate(ids) if (i + 37 * k) % 100 == 0]
            for start in range(0, len(chosen), 1000):
                part = chosen[start : start + 1000]
                cursor.execute(
                    f"UPDATE {table} SET description = description || ' ' || %s "
                    f"WHERE id IN ({', '.join(['%s'] * len(part))})",
                    [sentence, *part],
                )
            index.reindex_tickets(chosen)
    index.optimize()

    agent = User.objects.filter(is_staff=True, is_superuser=False, is_active=True).first()
    _, token = create_token(user=agent)
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")

    timings: dict[str, list[float]] = {"find": [], "api": []}
    hits = {}
    for word in KEYWORD_SENTENCES:  # warm the caches once
        hits[word] = query.find(agent, word)[1]
        client.get("/api/v1/tickets", {"q": word})
    for _ in range(args.rounds):
        for word in KEYWORD_SENTENCES:
            started = time.perf_counter()
            found, _ = query.find(agent, word)
            timings["find"].append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            response = client.get("/api/v1/tickets", {"q": word})
            timings["api"].append((time.perf_counter() - started) * 1000)
            if len(found) != 25 or response.status_code != 200:
                sys.exit(f"FAIL: {word}: {len(found)} hits, HTTP {response.status_code}")
            if len(response.json()["items"]) != 25:
                sys.exit(f"FAIL: {word}: the API listed {len(response.json()['items'])}")
    engine = "postgresql" if args.database_url else "sqlite"
    print(
        f"{engine}: {Ticket.objects.count():,} tickets (demo loaded and indexed in "
        f"{loaded:.0f} s); hits: " + ", ".join(f"{w} {n:,}" for w, n in hits.items())
    )
    for kind, values in timings.items():
        print(
            f"  {kind:<5} p50 {statistics.median(values):6.1f} ms   "
            f"p95 {_percentile(values, 0.95):6.1f} ms   ({len(values)} searches)"
        )


if __name__ == "__main__":
    main()
