"""Benchmark: the SLA sweep over many open tickets.

Shows that a sweep with nothing due touches no ticket rows (one indexed read of the clock
table that returns nothing), and that a sweep with k clocks due does work proportional to k.

    .venv/bin/python bench/sla_sweep.py --tickets 100000                      # SQLite
    .venv/bin/python bench/sla_sweep.py --tickets 1000000 \\
        --database-url postgres://postgres@127.0.0.1:5432/sd_bench_sla         # PostgreSQL

The data set is loaded through the product's own paths: ``servicedesk demo --tickets N``
then ``servicedesk sla backfill`` (clocks from each ticket's creation time). A first,
set-up step settles every clock the generated history left past due; then the sweeps run.
With PostgreSQL the named database is dropped and created afresh.
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
BIN = ROOT / ".venv" / "bin"


def prepare(args, env) -> None:
    if args.database_url:
        name = args.database_url.rsplit("/", 1)[1]
        base = args.database_url.rsplit("/", 1)[0] + "/postgres"
        import psycopg

        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            conn.execute(f'CREATE DATABASE "{name}"')
    for command in (
        ["migrate", "-v0"],
        ["demo", "--tickets", str(args.tickets)],
        ["sla", "backfill"],
    ):
        started = time.perf_counter()
        subprocess.run(
            [BIN / "servicedesk", *command], env=env, check=True, stdout=subprocess.DEVNULL
        )
        print(f"servicedesk {' '.join(command)}: {time.perf_counter() - started:.1f} s", flush=True)


def measure(args) -> None:
    from datetime import timedelta

    import django

    django.setup()
    from django.db import connection
    from django.db.models import F

    from servicedesk.core import clock
    from servicedesk.sla import services
    from servicedesk.sla.models import TicketClock
    from servicedesk.tickets.models import Ticket

    print(
        f"tickets {Ticket.objects.count():,}, active {Ticket.objects.active().count():,}, "
        f"clocks {TicketClock.objects.count():,} on {connection.vendor}"
    )
    # The generated history leaves many clocks long past due. Settle them in one statement
    # (set-up, not measured; a live desk's sweep records them one by one as they fall due).
    settled = TicketClock.objects.filter(
        due_at__lte=clock.now(), met_at=None, breached_at=None, stopped=False
    ).update(breached_at=F("due_at"), warned_at=F("warn_at"))
    print(f"settled {settled:,} clocks already past due before measuring")
    if connection.vendor == "postgresql":
        # What autovacuum does on a live desk: drop the settled rows' dead index entries.
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE sla_ticketclock")

    due_query = TicketClock.objects.filter(
        due_at__lte=clock.now(), met_at=None, breached_at=None, stopped=False, due_at__isnull=False
    ).order_by("due_at")[:500]
    print("\nplan of the breach query:\n" + due_query.explain())

    statements = []

    def count(execute, sql, params, many, context):
        statements.append(sql)
        return execute(sql, params, many, context)

    running = list(
        TicketClock.objects.filter(met_at=None, stopped=False, due_at__isnull=False).values_list(
            "pk", flat=True
        )[:10000]
    )
    print(f"\n{len(running):,} running clocks available to make due")
    print("\n| clocks due (k) | sweep p50 ms | min ms | max ms | queries | ms per due clock |")
    print("|---:|---:|---:|---:|---:|---:|")
    for k in (0, 10, 100, 1000, 10000):
        if k > len(running) or k > args.max_k:
            break
        timings = []
        for _ in range(args.runs if k < 10000 else 1):
            # Make exactly k clocks due a minute ago, not yet breached or warned.
            now = clock.now()
            TicketClock.objects.filter(pk__in=running[:k]).update(
                due_at=now - timedelta(minutes=1),
                warn_at=now - timedelta(minutes=2),
                breached_at=None,
                warned_at=None,
            )
            statements.clear()
            with connection.execute_wrapper(count):
                started = time.perf_counter()
                result = services.sweep()
                timings.append((time.perf_counter() - started) * 1000)
            assert len(result.breaches) == k, (k, len(result.breaches))
        p50 = statistics.median(timings)
        per = f"{p50 / k:.2f}" if k else "—"
        print(
            f"| {k:,} | {p50:.1f} | {min(timings):.1f} | {max(timings):.1f} | {len(statements):,} | {per} |",
            flush=True,
        )
    with connection.execute_wrapper(count):
        statements.clear()
        services.sweep()
    print("\nstatements of an idle sweep:")
    for sql in statements:
        print("  ", sql)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--data-dir", default="", help="the SQLite data dir (default: a new one)")
    parser.add_argument(
        "--max-k", type=int, default=10000, help="largest number of due clocks to time"
    )
    parser.add_argument("--reuse", action="store_true", help="measure the data already loaded")
    args = parser.parse_args()
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="servicedesk.settings")
    if args.database_url:
        env["DATABASE_URL"] = args.database_url
    env["SERVICEDESK_DATA_DIR"] = args.data_dir or tempfile.mkdtemp(prefix="sd-bench-sla-")
    if not args.reuse:
        prepare(args, env)
    os.environ.update(env)
    measure(args)


if __name__ == "__main__":
    sys.exit(main())
