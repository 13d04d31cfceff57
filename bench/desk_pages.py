"""The agent desk's pages against the peer, in one run (issue 13): W2 queue, W3 ticket, W4 search.

    .venv/bin/python bench/desk_pages.py                                        # SQLite, 10k and 100k
    .venv/bin/python bench/desk_pages.py --sizes 10000 \\
        --database-url postgres://postgres@127.0.0.1:5432/sd_bench_desk          # PostgreSQL

Ours (/work/shared/BENCH.md's workloads, as pages an agent opens in a browser):

- W2  GET /desk/ (All open, first page of 25, default sort) at concurrency 4;
- W3  GET /desk/tickets/<n>/ over 20 open tickets with exactly 20 thread entries each, at
      concurrency 1 (p50) and 4;
- W4  GET /desk/search/?q=<word> over webhook, refund, outlook, certificate, timezone (each in
      1 % of the tickets' descriptions and nowhere else) at concurrency 1 (p50) and 4;
- and GET /health at concurrency 4, the floor of any request (the peer's L1).

Data, once per size and engine (untimed; ``--keep-template`` keeps it): ``bench/api_http.py``'s
template (``migrate``, ``demo --tickets N``), then, in a Django process: 20 open tickets
topped up to exactly 20 comments through ``tickets.services.add_comment`` (replies by the
requester and by the desk in turn), "Outlook" taken out of the demo's subjects, and the five
keyword sentences of ``bench/search.py`` appended to the description of 1 % of the tickets
each (its placement: ticket i of the pk order carries keyword k when (i + 37 k) % 100 == 0),
re-indexed with ``search.index.reindex_tickets``. Each size gets a fresh copy of it.

Served as ``make run`` serves it: ``servicedesk run --web-only --no-migrate`` (gunicorn, sync
workers, WEB_CONCURRENCY or 2 x cores + 1 of them, DEBUG off) on a free loopback port, signed
in through POST /login/ (CSRF token and cookie from GET /login/) as sam@demo.example, a staff
agent who is not a superuser. Every page is checked before timing (W2: 25 rows; W3: 20 thread
entries; W4: 25 rows with marked snippets and the expected total per word). Load: wrk with the
peer harness's wrk/bench.lua in "get" mode, one thread, closed loop, 3 s warm-up per run.

The peer, in the same run and just before ours: the harness's ``run_readers`` (django-helpdesk
on its gunicorn at BENCH_BIND, default here 127.0.0.1:8785) on its prepared set of the same
size, plus its search page (``/tickets/?q=``) at concurrency 1, which the harness measures at
4 only. Its W2 and W4 are two requests (the page shell, then the DataTables rows); the tables
compare our one page with its rows request, with its page request, and with both (the
screen: p50s summed, throughput 1 / (1/page + 1/rows)).
"""

import argparse
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.api_http import (  # noqa: E402
    COMMAND,
    Template,
    _admin,
    _env,
    _pg_exists,
    _template_key,
    stop_gracefully,
    wait_until_healthy,
)
from bench.search import KEYWORD_SENTENCES  # noqa: E402
from tests.ports import free_port  # noqa: E402

PEER_BENCH = Path(os.environ.get("PEER_BENCH", ROOT.parent / "shared" / "peer-bench"))
AGENT, PASSWORD = "sam@demo.example", "demo"  # staff, service representative, not a superuser
KEYWORDS = list(KEYWORD_SENTENCES)
THREAD = 20  # W3: entries in each measured ticket's thread
W3_TICKETS = 20
TARGET = 5.0
COMMENTS = (  # what the top-up replies say (no search keyword in them)
    "Thanks, we tried again this morning and the problem is still there.",
    "Could you send a screenshot of the error and the time it happened?",
    "Here is the screenshot; it happens for every user of the sales team.",
    "We reproduced it on our side and passed it to the specialists.",
    "Any news? The month-end report is due on Friday.",
    "A fix is being tested; we will let you know when it is deployed.",
)


# -- the data set ---------------------------------------------------------------------------


class DeskTemplate(Template):
    """``api_http.Template`` (migrate, demo, token) plus W3's threads and W4's keywords."""

    def __init__(self, tickets: int, database_url: str):
        self.url = database_url
        self.vendor = "postgresql" if self.url else "sqlite"
        key = _template_key(tickets)
        self.dir = Path(tempfile.gettempdir()) / f"sd-bench-desk-{self.vendor}-{tickets}-{key}"
        self.db_name = f"{self.url.rsplit('/', 1)[1]}_tpl_{key}" if self.url else ""
        self.db_url = f"{self.url.rsplit('/', 1)[0]}/{self.db_name}" if self.url else ""
        ready = (self.dir / "desk.json").exists() and (
            not self.url or _pg_exists(self.url, self.db_name)
        )
        if ready:
            print(f"template: reusing {self.db_name or self.dir} (--keep-template)", flush=True)
        else:
            self._seed(tickets)
        self.token = (self.dir / "token").read_text().strip()
        self.facts = json.loads((self.dir / "desk.json").read_text())

    def _seed(self, tickets: int) -> None:
        super()._seed(tickets)
        started = time.perf_counter()
        out = self.dir / "desk.json.part"
        env = _env(self.dir, self.db_url)
        subprocess.run([sys.executable, __file__, "_enrich", str(out)], env=env, cwd=ROOT,
                       check=True)  # fmt: skip
        if self.url:
            _admin(self.db_url, "VACUUM ANALYZE")
        else:  # copy() takes the one file: no WAL left beside it
            with sqlite3.connect(self.dir / "servicedesk.sqlite3") as conn:
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        out.rename(self.dir / "desk.json")
        print(f"template: W3 threads and W4 keywords in {time.perf_counter() - started:.1f} s "
              "(untimed)", flush=True)  # fmt: skip


def enrich(out: Path) -> None:
    """In the template's environment: W3's 20 tickets with 20 entries, W4's keywords."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "servicedesk.settings")
    import django

    django.setup()
    from django.db import connection, transaction

    from servicedesk.accounts.models import User
    from servicedesk.desk import queues
    from servicedesk.search import index
    from servicedesk.tickets import services
    from servicedesk.tickets.models import Channel, Comment, Ticket

    agent = User.objects.get(email=AGENT)
    table = connection.ops.quote_name(Ticket._meta.db_table)
    with transaction.atomic():
        # W4: the words only where they are placed. The demo's subjects say "Outlook" (English,
        # French, Norwegian templates): made "Mail" here.
        outlook = list(
            Ticket.objects.filter(subject__icontains="outlook").values_list("pk", flat=True)
        )
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} SET subject = replace(subject, 'Outlook', 'Mail') "
                "WHERE subject LIKE '%%Outlook%%'"
            )
        for word in KEYWORDS:
            left = (
                Ticket.objects.filter(subject__icontains=word).count()
                + Ticket.objects.filter(description__icontains=word).count()
                + Comment.objects.filter(body__icontains=word).count()
            )
            if left:
                sys.exit(f"FAIL: {word!r} is in the demo's text {left} times before placement")
        # bench/search.py's placement, 1 % of the tickets per word.
        ids = list(Ticket.objects.order_by("pk").values_list("pk", flat=True))
        placed = {}
        with connection.cursor() as cursor:
            for k, (word, sentence) in enumerate(KEYWORD_SENTENCES.items()):
                chosen = [pk for i, pk in enumerate(ids) if (i + 37 * k) % 100 == 0]
                for start in range(0, len(chosen), 1000):
                    part = chosen[start : start + 1000]
                    cursor.execute(
                        f"UPDATE {table} SET description = description || ' ' || %s "
                        f"WHERE id IN ({', '.join(['%s'] * len(part))})",
                        [sentence, *part],
                    )
                placed[word] = chosen
        index.reindex_tickets({*outlook, *(pk for chosen in placed.values() for pk in chosen)})

    # W3: open tickets spread over the pk range, each topped up to exactly THREAD comments.
    candidates = list(
        Ticket.objects.filter(status__in=queues.OPEN).order_by("pk").values_list("pk", flat=True)
    )
    step = max(1, len(candidates) // W3_TICKETS)
    numbers = []
    for pk in candidates[step // 2 :: step][:W3_TICKETS]:
        ticket = Ticket.objects.select_related("requester").get(pk=pk)
        have = Comment.objects.filter(ticket=ticket).count()
        for n in range(have, THREAD):
            by_customer = n % 2 == 0
            services.add_comment(
                ticket=Ticket.objects.get(pk=pk),
                author=ticket.requester if by_customer else agent,
                body=COMMENTS[n % len(COMMENTS)],
                channel=Channel.EMAIL if by_customer else Channel.DESK,
            )
        ticket.refresh_from_db()
        count = Comment.objects.filter(ticket=ticket).count()
        if count != THREAD or ticket.status not in queues.OPEN:
            sys.exit(f"FAIL: ticket {ticket.number}: {count} comments, status {ticket.status}")
        numbers.append(ticket.number)
    with transaction.atomic():
        index.reindex_tickets(candidates[step // 2 :: step][:W3_TICKETS])
    index.optimize()
    facts = {
        "tickets": Ticket.objects.count(),
        "open": Ticket.objects.filter(status__in=queues.OPEN).count(),
        "w3_numbers": numbers,
        "w4_hits": {word: len(chosen) for word, chosen in placed.items()},
    }
    out.write_text(json.dumps(facts))
    print(f"  {facts['tickets']:,} tickets, {facts['open']:,} open; W3 tickets {numbers}; "
          f"W4 hits {facts['w4_hits']}", flush=True)  # fmt: skip


# -- our server -----------------------------------------------------------------------------


class Server:
    """``servicedesk run --web-only`` (what ``make run`` starts, without worker and scheduler)
    on a free loopback port; gunicorn's access log (stdout) is discarded."""

    def __init__(self, data_dir: Path, env: dict):
        self.port = free_port()
        self.log = data_dir / "server.log"
        self.command = [COMMAND, "run", "--web-only", "--no-migrate", "--host", "127.0.0.1",
                        "--port", str(self.port)]  # fmt: skip
        with open(self.log, "w") as log:
            self.process = subprocess.Popen(
                self.command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=log
            )
        wait_until_healthy(self, within=60, what="our server")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        stop_gracefully(self.process)


def sign_in(run, base: str) -> tuple[object, str]:
    """POST /login/ as a browser does; returns the opener and the Cookie header for wrk."""
    jar, opener = run.http_client()
    with opener.open(base + "/login/", timeout=30) as answer:
        token = run.form_token(answer.read().decode())
    data = urllib.parse.urlencode(
        {"csrfmiddlewaretoken": token, "email": AGENT, "password": PASSWORD}
    ).encode()
    try:
        opener.open(base + "/login/", data=data, timeout=30)
    except urllib.error.HTTPError as error:
        if error.code != 302:
            raise SystemExit(f"FAIL: sign-in answered {error.code}") from None
    if not any(c.name == "sessionid" for c in jar):
        raise SystemExit("FAIL: sign-in gave no session")
    return opener, run.cookie_header(jar, {"sessionid", "csrftoken"})


def _page(opener, url: str) -> str:
    try:
        with opener.open(url, timeout=120) as answer:
            if answer.status == 200:
                return answer.read().decode()
            status = answer.status
    except urllib.error.HTTPError as error:
        status = error.code
    raise SystemExit(f"FAIL: GET {url} answered {status}")


def check_pages(opener, base: str, facts: dict) -> list[str]:
    """Each measured page answers 200 with what it must show; the lines say what was seen."""
    seen = []
    html = _page(opener, base + "/desk/")
    rows = html.count('name="tickets" value=')
    if rows != 25:
        raise SystemExit(f"FAIL: /desk/ shows {rows} rows, not 25")
    seen.append("W2 /desk/: 25 rows")
    entries = set()
    for number in facts["w3_numbers"]:
        html = _page(opener, f"{base}/desk/tickets/{number}/")
        entries.add(len(re.findall(r'<li class="entry (?:reply|note)"', html)))
    if entries != {THREAD}:
        raise SystemExit(f"FAIL: the W3 tickets show {sorted(entries)} thread entries, not 20")
    seen.append(f"W3: {len(facts['w3_numbers'])} tickets, 20 thread entries each")
    for word in KEYWORDS:
        html = _page(opener, f"{base}/desk/search/?q={word}")
        rows = html.count('<tr><td><a href="/desk/tickets/')
        total = re.search(r'<span class="count">([\d,.\s\u202f\xa0]+)</span>', html)
        total = int(re.sub(r"\D", "", total.group(1))) if total else None
        wanted = min(25, facts["w4_hits"][word])
        if rows != wanted or "<mark>" not in html or total != facts["w4_hits"][word]:
            raise SystemExit(f"FAIL: search {word!r}: {rows} rows, total {total}, expected "
                             f"{wanted} of {facts['w4_hits'][word]} with marked snippets")  # fmt: skip
    seen.append("W4: first page of " + ", ".join(f"{w} {n}" for w, n in facts["w4_hits"].items()))
    return seen


def wrk(run, base: str, paths: list[str], conns: int, seconds: int, cookie: str,
        paths_file: Path) -> dict:  # fmt: skip
    """``run.wrk`` against ours, with a paths file of our own (the peer's is shared)."""
    paths_file.write_text("\n".join(paths) + "\n")
    env = dict(os.environ, BENCH_MODE="get", BENCH_PATHS=str(paths_file), BENCH_COOKIE=cookie,
               BENCH_EXPECT="200")  # fmt: skip
    cmd = ["wrk", "-t1", f"-c{conns}", "--timeout", "60s", "-s", str(run.LUA), base + paths[0]]
    subprocess.run([cmd[0], "-d3s", *cmd[1:]], env=env, capture_output=True, check=True)
    load = os.getloadavg()[0]
    out = subprocess.run([cmd[0], f"-d{seconds}s", *cmd[1:]], env=env, capture_output=True,
                         text=True, check=True).stdout  # fmt: skip
    line = next(x for x in out.splitlines() if x.startswith("WRKJSON "))
    result = json.loads(line.removeprefix("WRKJSON "))
    result.update(conns=conns, seconds=seconds, loadavg_before=round(load, 2))
    return result


def run_ours(run, template: DeskTemplate, database_url: str, seconds: int) -> tuple[dict, list]:
    data_dir = template.copy()
    server = Server(data_dir, _env(data_dir, database_url))
    try:
        opener, cookie = sign_in(run, server.url)
        seen = check_pages(opener, server.url, template.facts)
        detail = [f"/desk/tickets/{n}/" for n in template.facts["w3_numbers"]]
        search = [f"/desk/search/?q={w}" for w in KEYWORDS]
        paths = data_dir / "wrk-paths.txt"

        def measure(name, urls, conns, duration):
            r = wrk(run, server.url, urls, conns, duration, cookie, paths)
            print(f"  ours {name:10} {r['rps']:8.1f} req/s  p50 {r['p50_ms']:8.2f}  "
                  f"p95 {r['p95_ms']:8.2f} ms  load {r['loadavg_before']}", flush=True)  # fmt: skip
            return r

        res = {
            "L1_c4": measure("health c4", ["/health"], 4, seconds),
            "W2_c4": measure("W2 c4", ["/desk/"], 4, seconds + 5),
            "W3_c1": measure("W3 c1", detail, 1, seconds),
            "W3_c4": measure("W3 c4", detail, 4, seconds),
            "W4_c1": measure("W4 c1", search, 1, seconds + 5),
            "W4_c4": measure("W4 c4", search, 4, seconds + 5),
        }
    finally:
        server.stop()
    shutil.rmtree(data_dir, ignore_errors=True)
    if database_url:
        name = database_url.rsplit("/", 1)[1]
        _admin(database_url, f'DROP DATABASE IF EXISTS "{name}"')
    return res, seen


def run_peer(run, engine: str, size: int, short: bool) -> dict | None:
    store = run.Store(engine)
    key = f"base{run.label(size)}"
    if not (store.dir / f"manifest-{run.label(size)}.json").exists():
        print(f"  PEER SKIPPED: no prepared {engine} set of {size:,} tickets "
              f"(python3 {PEER_BENCH}/run.py prepare --engine {engine})", flush=True)  # fmt: skip
        return None
    out: dict = {}
    run.run_readers(store, size, out, short)
    res = out[run.label(size)]
    # The harness times the search page at concurrency 4 only; W4's c1 screen needs it at 1.
    with run.Server(store, key):
        _, cookie = run.agent_session(store.manifest(size))
        pages = [f"/tickets/?q={w}" for w in KEYWORDS]
        res["W4_page_c1"] = run.wrk(pages, 1, 5 if short else 10, cookie)
    for name, r in res.items():
        print(f"  peer {name:10} {r['rps']:8.1f} req/s  p50 {r['p50_ms']:8.2f}  "
              f"p95 {r['p95_ms']:8.2f} ms  load {r['loadavg_before']}", flush=True)  # fmt: skip
    return res


# -- the tables -----------------------------------------------------------------------------


def _screen(page: dict, rows: dict) -> dict:
    """Two requests one after the other: p50s and p95s summed, throughput of both."""
    return {
        "rps": 1 / (1 / page["rps"] + 1 / rows["rps"]),
        "p50_ms": page["p50_ms"] + rows["p50_ms"],
        "p95_ms": page["p95_ms"] + rows["p95_ms"],
        "loadavg_before": max(page["loadavg_before"], rows["loadavg_before"]),
        "unexpected_status": page["unexpected_status"] + rows["unexpected_status"],
        "errors": _errors(page) + _errors(rows),
    }


def _errors(r: dict) -> int:
    return r.get(
        "errors", sum(r.get(k, 0) for k in ("err_connect", "err_read", "err_write", "err_timeout"))
    )


def _bad(r: dict) -> str:
    return " !" if r["unexpected_status"] or _errors(r) else ""


ROWS = [
    # (workload, conc., ours, peer key or (page, rows), what the peer's figure is, headline)
    ("L1 bare view", 4, "L1_c4", "L1_c4", "peer L1 /bench/ping/; ours /health", False),
    ("W2 queue", 4, "W2_c4", "W2_rows_c4", "peer rows (JSON)", False),
    ("W2 queue", 4, "W2_c4", "W2_page_c4", "peer page shell", False),
    ("W2 queue", 4, "W2_c4", ("W2_page_c4", "W2_rows_c4"), "peer page + rows", True),
    ("W3 ticket, 20 entries", 1, "W3_c1", "W3_c1", "peer page", True),
    ("W3 ticket, 20 entries", 4, "W3_c4", "W3_c4", "peer page", True),
    ("W4 search", 1, "W4_c1", "W4_rows_c1", "peer rows (JSON)", False),
    ("W4 search", 1, "W4_c1", "W4_page_c1", "peer page shell", False),
    ("W4 search", 1, "W4_c1", ("W4_page_c1", "W4_rows_c1"), "peer page + rows", True),
    ("W4 search", 4, "W4_c4", "W4_rows_c4", "peer rows (JSON)", False),
    ("W4 search", 4, "W4_c4", "W4_page_c4", "peer page shell", False),
    ("W4 search", 4, "W4_c4", ("W4_page_c4", "W4_rows_c4"), "peer page + rows", True),
]  # fmt: skip


def table(engine: str, size: int, ours: dict, peer: dict | None) -> list[str]:
    lines = [
        f"\n{engine}, {size:,} tickets: peer django-helpdesk 2.6 vs ours, one run each "
        "(req/s; p50 / p95 ms; load = 1-min load average before the run; ratio: throughput "
        "ours/peer, p50 peer/ours; * = headline row)\n",
        "| workload | conc. | peer request(s) | peer req/s | peer p50 / p95 | load | ours req/s "
        "| ours p50 / p95 | load | ratio req/s | ratio p50 | target | met |",
        "|---|---:|---|---:|---|---:|---:|---|---:|---:|---:|---:|---|",
    ]
    for name, conc, mine, theirs, what, headline in ROWS:
        o = ours[mine]
        if peer is None:
            p = None
        elif isinstance(theirs, tuple):
            p = _screen(peer[theirs[0]], peer[theirs[1]])
        else:
            p = peer[theirs]
        ours_text = f"{o['rps']:.1f} | {o['p50_ms']:.1f} / {o['p95_ms']:.1f}{_bad(o)} | " + (
            f"{o['loadavg_before']:.2f}"
        )
        if p is None:
            lines.append(f"| {name} | {conc} | {what} | — | — | — | {ours_text} | — | — | "
                         f"{TARGET:g} | — |")  # fmt: skip
            continue
        rps_ratio, p50_ratio = o["rps"] / p["rps"], p["p50_ms"] / o["p50_ms"]
        if mine == "L1_c4":
            met = "(floor)"
        else:  # c1: latency is what is measured; c4: throughput and latency
            met = "yes" if p50_ratio >= TARGET and (conc == 1 or rps_ratio >= TARGET) else "no"
        lines.append(
            f"| {name}{' *' if headline else ''} | {conc} | {what} | {p['rps']:.1f} | "
            f"{p['p50_ms']:.1f} / {p['p95_ms']:.1f}{_bad(p)} | {p['loadavg_before']:.2f} | "
            f"{ours_text} | {rps_ratio:.2f} | {p50_ratio:.2f} | {TARGET:g} | {met} |"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--database-url", default="", help="PostgreSQL (default: SQLite)")
    parser.add_argument("--duration", type=int, default=10,
                        help="seconds per timed run (W2 and W4: 5 more, as the harness)")  # fmt: skip
    parser.add_argument("--short", action="store_true", help="5 s runs, both sides")
    parser.add_argument("--no-peer", action="store_true", help="ours alone")
    parser.add_argument("--keep-template", action="store_true")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("terminated"))
    seconds = 5 if args.short else args.duration
    engine = "postgres" if args.database_url else "sqlite"
    # The peer harness reads its settings when imported: its own port, and the PostgreSQL
    # role of --database-url (on this machine: postgres, trust authentication).
    os.environ.setdefault("BENCH_BIND", "127.0.0.1:8785")
    if args.database_url:
        parts = urllib.parse.urlsplit(args.database_url)
        os.environ.setdefault("BENCH_PG_USER", parts.username or "postgres")
        os.environ.setdefault("BENCH_PG_PASSWORD", parts.password or "")
        os.environ.setdefault("BENCH_PG_HOST", parts.hostname or "127.0.0.1")
        os.environ.setdefault("BENCH_PG_PORT", str(parts.port or 5432))
    sys.path.insert(0, str(PEER_BENCH))
    import run  # the peer harness (/work/shared/peer-bench/run.py)

    tables = []
    for size in [int(s) for s in args.sizes.split(",")]:
        print(f"\n== {engine}, {size:,} tickets", flush=True)
        template = DeskTemplate(size, args.database_url)
        try:
            peer = None if args.no_peer else run_peer(run, engine, size, args.short)
            ours, seen = run_ours(run, template, args.database_url, seconds)
        finally:
            if args.keep_template:
                print(f"template kept: {template.db_name or template.dir}")
            else:
                template.drop()
        lines = table(engine, size, ours, peer)
        lines.append(f"\nchecks (ours): {'; '.join(seen)}; ours {template.facts['tickets']:,} "
                     f"tickets ({template.facts['open']:,} open)")  # fmt: skip
        print("\n".join(lines), flush=True)
        tables += lines
    print("\n\n" + "\n".join(tables))


if __name__ == "__main__":
    if sys.argv[1:2] == ["_enrich"]:
        enrich(Path(sys.argv[2]))
    else:
        main()
