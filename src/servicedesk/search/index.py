"""The full-text index of tickets (writes): one row per ticket, three texts.

- ``subject``;
- ``body``: description, steps to reproduce, investigations, business impact and the public
  replies — what the ticket's requester and organisation may read;
- ``notes``: the internal notes — staff only. Customers' queries are confined to the first
  two (an FTS5 column filter; ``ts_filter`` on the weights in PostgreSQL), so a customer never
  finds a ticket by the words of a note, and never sees one in a snippet.

SQLite keeps them in an FTS5 table (``unicode61 remove_diacritics 2``: "tache" finds
"tâche"); PostgreSQL in a table with a weighted ``tsvector`` (subject A, body B, notes C)
under a GIN index, built with the ``servicedesk_search`` configuration (``simple`` with
``unaccent``). Both are created by migration 0001. A row is rewritten whole from the ticket
and its comments by one ``INSERT … SELECT`` per batch of tickets: the text never travels
through Python.

Kept current by the ``search-index`` subscriber (``servicedesk.subscribers``) inside the
change's transaction: a rolled-back change leaves the index as it was. Bulk loads (imports,
the demo desk) publish nothing, so their callers index what they loaded
(``reindex_tickets``); ``servicedesk search reindex`` rebuilds everything.
"""

from collections.abc import Callable, Iterable, Sequence

from django.db import connection, transaction

from servicedesk.search.terms import START, STOP
from servicedesk.tickets.models import Comment, EventKind, Ticket

TABLE = "search_ticket_text"
CONFIG = "servicedesk_search"  # PostgreSQL's text search configuration: simple + unaccent
# Characters indexed of each text (the description, …, the thread, the notes; the latest of
# a thread): a tsvector holds at most 1 MB, and so much text says what a ticket is about.
MAX_PART = 40_000
_TICKET_TEXTS = ("description", "steps_to_reproduce", "investigations_done", "business_impact")
BATCH = 2000  # tickets per statement (and per transaction when rebuilding)

# What a field event must name to change the indexed text.
TEXT_FIELDS = frozenset({"subject", *_TICKET_TEXTS})


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def _sqlite_insert(marks: str) -> str:
    ticket, comment = _q(Ticket._meta.db_table), _q(Comment._meta.db_table)

    def thread(internal: int) -> str:  # the comments' bodies in the order they were written
        return (
            f"ifnull((SELECT group_concat(c.body, char(10)) FROM (SELECT body FROM {comment} "
            f"WHERE ticket_id = t.id AND internal = {internal} ORDER BY created_at, id) c), '')"
        )

    def part(text: str, *, latest: bool = False) -> str:  # bounded; no snippet marker in it
        text = f"replace(replace({text}, char({ord(START)}), ''), char({ord(STOP)}), '')"
        return f"substr({text}, {-MAX_PART if latest else 1}, {MAX_PART})"

    body = " || char(10) || ".join(
        [*(part(f"t.{name}") for name in _TICKET_TEXTS), part(thread(0), latest=True)]
    )
    return (
        f"INSERT OR REPLACE INTO {TABLE} (rowid, subject, body, notes) "
        f"SELECT t.id, {part('t.subject')}, {body}, {part(thread(1), latest=True)} "
        f"FROM {ticket} t WHERE t.id IN ({marks})"
    )


def _postgres_insert() -> str:
    ticket, comment = _q(Ticket._meta.db_table), _q(Comment._meta.db_table)

    def thread(internal: str) -> str:
        return (
            f"coalesce((SELECT string_agg(c.body, E'\\n' ORDER BY c.created_at, c.id) "
            f"FROM {comment} c WHERE c.ticket_id = t.id AND {internal}c.internal), '')"
        )

    def part(text: str, *, latest: bool = False) -> str:
        text = f"translate({text}, chr({ord(START)}) || chr({ord(STOP)}), '')"
        return f"{'right' if latest else 'left'}({text}, {MAX_PART})"

    body = ", ".join(
        [*(part(f"t.{name}") for name in _TICKET_TEXTS), part(thread("NOT "), latest=True)]
    )
    # Punctuation becomes a space first: PostgreSQL's parser would read "XX-1" as "xx-1",
    # "xx" and "-1", and "mail.example.com" as one host, while a search is cut into plain
    # words (terms.words), as SQLite's unicode61 cuts the text. Letters are never touched.
    vector = " || ".join(
        f"setweight(to_tsvector('{CONFIG}', regexp_replace(s.{name}, '[[:punct:]]', ' ', 'g')), "
        f"'{weight}')"
        for name, weight in (("subject", "A"), ("body", "B"), ("notes", "C"))
    )
    return (
        f"INSERT INTO {TABLE} (ticket_id, subject, body, notes, vector) "
        f"SELECT s.id, s.subject, s.body, s.notes, {vector} FROM ("
        f"SELECT t.id, {part('t.subject')} AS subject, concat_ws(E'\\n', {body}) AS body, "
        f"{part(thread(''), latest=True)} AS notes FROM {ticket} t WHERE t.id = ANY(%s)) s "
        "ON CONFLICT (ticket_id) DO UPDATE SET subject = EXCLUDED.subject, "
        "body = EXCLUDED.body, notes = EXCLUDED.notes, vector = EXCLUDED.vector"
    )


def reindex_tickets(ids: Iterable[int]) -> None:
    """Write the index rows of the tickets ``ids`` afresh from their current text (ids of no
    ticket are ignored). One statement per ``BATCH`` tickets; call inside the transaction that
    changed them, so the index commits or rolls back with the change."""
    ids = sorted(set(ids))
    with connection.cursor() as cursor:
        for start in range(0, len(ids), BATCH):
            chunk = ids[start : start + BATCH]
            if connection.vendor == "postgresql":
                cursor.execute(_postgres_insert(), [chunk])
            else:
                cursor.execute(_sqlite_insert(", ".join(["%s"] * len(chunk))), chunk)


def reindex_numbers(numbers: Iterable[int]) -> None:
    """``reindex_tickets`` for tickets named by their numbers (what an import reports)."""
    numbers = list(numbers)
    for start in range(0, len(numbers), BATCH):
        chunk = numbers[start : start + BATCH]
        reindex_tickets(Ticket.objects.filter(number__in=chunk).values_list("pk", flat=True))


def on_events(events: Sequence, hints: dict) -> None:
    """The ``search-index`` subscriber (of new tickets, replies, notes and edited fields):
    re-index the tickets whose text the events changed. One statement."""
    ids = {e.ticket_id for e in events if e.kind != EventKind.FIELD or e.field in TEXT_FIELDS}
    if ids:
        reindex_tickets(ids)


def forget_missing() -> int:
    """Delete the rows of tickets that no longer exist; return how many."""
    ticket = _q(Ticket._meta.db_table)
    key = "ticket_id" if connection.vendor == "postgresql" else "rowid"
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {TABLE} WHERE {key} NOT IN (SELECT id FROM {ticket})")
        return cursor.rowcount


def optimize() -> None:
    """After a bulk load: merge SQLite's FTS5 segments into one (faster queries); PostgreSQL
    updates the planner's statistics of the index table."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"ANALYZE {TABLE}")
        else:
            cursor.execute(f"INSERT INTO {TABLE} ({TABLE}) VALUES ('optimize')")


def rebuild(*, batch: int = BATCH, progress: Callable[[int], None] | None = None) -> int:
    """Re-index every ticket, ``batch`` tickets per transaction (searches keep working, and
    SQLite's writers wait for one batch at most); then drop the rows of deleted tickets and
    optimize. Safe to run twice, and while the desk is in use. Returns how many tickets."""
    ids = list(Ticket.objects.order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(ids), batch):
        with transaction.atomic():
            reindex_tickets(ids[start : start + batch])
        if progress is not None:
            progress(min(start + batch, len(ids)))
    with transaction.atomic():
        forget_missing()
    optimize()
    return len(ids)
