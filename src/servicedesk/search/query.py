"""Finding tickets by their words (reads): ranked hits with snippets (``find``), or a narrowing
of a ticket listing (``narrow``, for the API's ``q``).

Every query starts from ``Ticket.objects.visible_to(user)``; staff search subjects,
descriptions and whole threads, anyone else subjects, descriptions and public replies only
(never the words of an internal note). A ticket matches when it holds every word the user
typed; words of three letters or more also match as prefixes ("print" finds "printer"), and
accents do not matter ("tache" finds "tâche"). What the user typed is never passed to the
engines as query syntax (``terms``).
"""

from collections.abc import Sequence
from dataclasses import dataclass

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import Q, QuerySet
from django.db.models.expressions import RawSQL
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe

from servicedesk.search import terms
from servicedesk.search.index import CONFIG, TABLE
from servicedesk.tickets.models import Ticket

SNIPPET_WORDS = 16  # about how many words a snippet shows around its matches
_CUSTOMER_COLUMNS = ("subject", "body")  # never "notes"
_HEADLINE = (
    f"StartSel={terms.START}, StopSel={terms.STOP}, MaxWords={SNIPPET_WORDS + 4}, "
    f'MinWords={SNIPPET_WORDS // 2}, MaxFragments=2, FragmentDelimiter=" … "'
)


@dataclass(frozen=True)
class Hit:
    """One ticket found: how well it matched (higher is better; comparable within one search
    only) and a snippet of its text around the matches."""

    ticket: Ticket
    rank: float
    pieces: tuple[tuple[str, bool], ...]  # the snippet: (text, is_match), text not escaped

    @property
    def snippet(self) -> SafeString:
        """The snippet as HTML: the ticket's text escaped, each match in ``<mark>``."""
        return mark_safe(  # every piece is escaped here; the only markup is <mark>
            "".join(
                format_html("<mark>{}</mark>", text) if match else escape(text)
                for text, match in self.pieces
            )
        )


def _staff(user) -> bool:
    return bool(user is not None and user.is_authenticated and user.is_staff)


def _visible_sql(user) -> tuple[str, tuple] | None:
    """The SQL of the ids of the tickets ``user`` may see (None: none)."""
    try:
        return Ticket.objects.visible_to(user).order_by().values("pk").query.sql_with_params()
    except EmptyResultSet:
        return None


# -- the two engines ------------------------------------------------------------------------


def _pg_query(found: list[str]) -> tuple[str, list]:
    """A tsquery from plainto_tsquery (which ANDs the words and knows no syntax), with each
    lexeme of ``PREFIX_FROM`` letters or more made a prefix. The words come from
    ``terms.words``: no quote in them, so the tsquery's text holds only its own quotes."""
    sql = (
        f"CAST(regexp_replace(CAST(plainto_tsquery('{CONFIG}', %s) AS text), %s, %s, 'g') "
        "AS tsquery)"
    )
    pattern = r"'([^'\s]{" + str(terms.PREFIX_FROM) + ",})'"  # a lexeme holds no space
    return sql, [terms.plain_text(found), pattern, r"'\1':*"]


def _where(found: list[str], staff: bool, visible: tuple[str, tuple]) -> tuple[str, list]:
    """The FROM and WHERE of a search: the index's rows matching, of visible tickets."""
    if connection.vendor == "postgresql":
        tsquery, params = _pg_query(found)
        where = f"FROM {TABLE} d WHERE d.vector @@ {tsquery}"
        if not staff:
            where += f" AND ts_filter(d.vector, '{{a,b}}') @@ {tsquery}"
            params = params + params
        return f"{where} AND d.ticket_id IN ({visible[0]})", [*params, *visible[1]]
    columns = () if staff else _CUSTOMER_COLUMNS
    match = terms.fts5_query(found, columns=columns)
    # "+rowid": the visible ids filter the matches; given to FTS5 as a rowid constraint,
    # they would run the full-text query once per visible ticket instead.
    return (
        f"FROM {TABLE} WHERE {TABLE} MATCH %s AND +rowid IN ({visible[0]})",
        [match, *visible[1]],
    )


def _ranked(
    found: list[str], staff: bool, visible, *, limit: int, offset: int
) -> list[tuple[int, float]]:
    where, params = _where(found, staff, visible)
    if connection.vendor == "postgresql":
        tsquery, query_params = _pg_query(found)
        vector = "d.vector" if staff else "ts_filter(d.vector, '{a,b}')"
        sql = (
            f"SELECT d.ticket_id, ts_rank({vector}, {tsquery}) AS score {where} "
            "ORDER BY score DESC, d.ticket_id DESC LIMIT %s OFFSET %s"
        )
        params = [*query_params, *params]
    else:
        # bm25: lower is better; the subject weighs as much as four times the rest.
        sql = (
            f"SELECT rowid, -bm25({TABLE}, 4.0, 1.0, 1.0) AS score {where} "
            "ORDER BY score DESC, rowid DESC LIMIT %s OFFSET %s"
        )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, limit, offset])
        return [(pk, float(rank)) for pk, rank in cursor.fetchall()]


def _count(found: list[str], staff: bool, visible) -> int:
    where, params = _where(found, staff, visible)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) {where}", params)
        return cursor.fetchone()[0]


def _snippets(found: list[str], staff: bool, ids: list[int]) -> dict[int, str]:
    """The snippets of the tickets ``ids`` (customers': from subject and body only)."""
    if not ids:
        return {}
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            tsquery, params = _pg_query(found)
            text = "d.subject || E'\\n' || d.body"
            if staff:
                text += " || E'\\n' || d.notes"
            cursor.execute(
                f"SELECT d.ticket_id, ts_headline('{CONFIG}', {text}, {tsquery}, %s) "
                f"FROM {TABLE} d WHERE d.ticket_id = ANY(%s)",
                [*params, _HEADLINE, ids],
            )
        else:
            # The column filter of a customer's query confines its matches, so the snippet's
            # column (-1: the best one) is never "notes" for them.
            match = terms.fts5_query(found, columns=() if staff else _CUSTOMER_COLUMNS)
            marks = ", ".join(["%s"] * len(ids))
            cursor.execute(
                f"SELECT rowid, snippet({TABLE}, -1, %s, %s, '…', %s) FROM {TABLE} "
                f"WHERE {TABLE} MATCH %s AND rowid IN ({marks})",
                [terms.START, terms.STOP, SNIPPET_WORDS, match, *ids],
            )
        return dict(cursor.fetchall())


# -- the public API -------------------------------------------------------------------------


def find(
    user,
    text: str,
    *,
    limit: int = 25,
    offset: int = 0,
    related: Sequence[str] = ("organisation", "assignee"),
) -> tuple[list[Hit], int]:
    """The tickets ``user`` may see that hold every word of ``text``, best first: the hits
    from ``offset`` (at most ``limit``, each with its ticket, ``related`` joined) and how
    many there are in all. Never raises on what a user types. Four queries at most,
    whatever the number of hits."""
    found = terms.words(text)
    visible = _visible_sql(user)
    if not found or visible is None or limit <= 0:
        return [], 0
    staff = _staff(user)
    ranked = _ranked(found, staff, visible, limit=limit, offset=max(offset, 0))
    if len(ranked) < limit and (ranked or offset <= 0):
        total = max(offset, 0) + len(ranked)  # the last page: no need to count
    else:
        total = _count(found, staff, visible)
    ids = [pk for pk, _ in ranked]
    tickets = Ticket.objects.visible_to(user).select_related(*related).in_bulk(ids)
    snippets = _snippets(found, staff, ids)
    hits = [
        Hit(ticket=tickets[pk], rank=rank, pieces=terms.pieces(snippets.get(pk, "")))
        for pk, rank in ranked
        if pk in tickets
    ]
    return hits, total


def narrow(rows: QuerySet, *, user, text: str) -> QuerySet:
    """``rows`` (tickets from ``visible_to(user)``) that hold every word of ``text``, in
    whatever order the caller asks: one subquery of the index, uncapped."""
    found = terms.words(text)
    if not found:
        return rows.none()
    if connection.vendor == "postgresql":
        tsquery, params = _pg_query(found)
        sql = f"SELECT d.ticket_id FROM {TABLE} d WHERE d.vector @@ {tsquery}"
        if not _staff(user):
            sql += f" AND ts_filter(d.vector, '{{a,b}}') @@ {tsquery}"
            params = params + params
    else:
        sql = f"SELECT rowid FROM {TABLE} WHERE {TABLE} MATCH %s"
        params = [terms.fts5_query(found, columns=() if _staff(user) else _CUSTOMER_COLUMNS)]
    return rows.filter(Q(pk__in=RawSQL(sql, params)))
