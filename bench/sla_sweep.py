"""Benchmark: the SLA sweep over many open tickets.

Shows that a sweep with nothing due touches no ticket rows (one indexed read of the clock
table that returns nothing), and that a sweep with k clocks due does work proportional to k.

    .venv/bin/python bench/sla_sweep.py --tickets 100000                      # SQLite
    .venv/bin/python bench/sla_sweep.py --tickets 1000000 \\
        --database-url postgres://postgres@127.0.0.1:5432/sd_bench_sla         # PostgreSQL

The data set is loaded through the product's own paths: ``servicedesk demo --tickets N``
then ``servicedesk sla backfill`` (clocks from each ticket's creation time). A first,
catch-up sweep records every clock already past due; then the measured sweeps run.
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
    import django

    django.setup()
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from servicedesk.core import clock
    from servicedesk.sla import services
    from servicedesk.sla.models import TicketClock
    from servicedesk.tickets.models import Ticket

    print(
        f"tickets {Ticket.objects.count():,}, active {Ticket.objects.active().count():,}, "
        f"clocks {TicketClock.objects.count():,} on {connection.vendor}"
    )
    started = time.perf_counter()
    catch_up = services.sweep()
    print(
        f"catch-up sweep: {len(catch_up.breaches):,} breaches, {len(catch_up.warnings):,} warnings "
        f"in {time.perf_counter() - started:.1f} s"
    )

    due_query = TicketClock.objects.filter(
        due_at__lte=clock.now(), met_at=None, breached_at=None, stopped=False, due_at__isnull=False
    ).order_by("due_at")[:500]
    print("\nplan of the breach query:\n" + due_query.explain())

    running = list(
        TicketClock.objects.filter(met_at=None, stopped=False).values_list("pk", flat=True)[:20000]
    )
    print("\n| clocks due (k) | sweep p50 ms | min ms | max ms | queries | ms per due clock |")
    print("|---:|---:|---:|---:|---:|---:|")
    for k in (0, 10, 100, 1000, 10000):
        if k > len(running):
            break
        timings, queries = [], 0
        for _ in range(args.runs):
            # Make exactly k clocks due a minute ago, not yet breached or warned.
            now = clock.now()
            from datetime import timedelta

            TicketClock.objects.filter(pk__in=running[:k]).update(
                due_at=now - timedelta(minutes=1),
                warn_at=now - timedelta(minutes=2),
                breached_at=None,
                warned_at=None,
            )
            with CaptureQueriesContext(connection) as captured:
                started = time.perf_counter()
                result = services.sweep()
                timings.append((time.perf_counter() - started) * 1000)
            queries = len(captured)
            assert len(result.breaches) == k, (k, len(result.breaches))
        p50 = statistics.median(timings)
        per = f"{p50 / k:.2f}" if k else "—"
        print(
            f"| {k:,} | {p50:.1f} | {min(timings):.1f} | {max(timings):.1f} | {queries:,} | {per} |",
            flush=True,
        )
    if args.show_idle_queries:
        with CaptureQueriesContext(connection) as captured:
            services.sweep()
        print("\nqueries of an idle sweep:")
        for query in captured:
            print(" ", query["sql"])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--data-dir", default="", help="the SQLite data dir (default: a new one)")
    parser.add_argument("--reuse", action="store_true", help="measure the data already loaded")
    parser.add_argument("--show-idle-queries", action="store_true")
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
