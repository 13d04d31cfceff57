"""The full-text index of tickets (see ``servicedesk.search.index``): an FTS5 table on
SQLite; on PostgreSQL a table with a weighted tsvector under a GIN index, and the
``servicedesk_search`` text search configuration (``simple`` words, accents removed by the
``unaccent`` extension, which this creates: a trusted extension since PostgreSQL 13, so the
database's owner may create it).

Not a model: Django has no field for an FTS5 table, and the two databases need different
tables. No foreign key on PostgreSQL either, so that flushing the tickets (tests) never
trips over the index; rows of deleted tickets are never found (every query joins the
tickets) and ``servicedesk search reindex`` drops them.

Tickets that exist when this runs are indexed by it, through ``index.reindex_tickets``
(``servicedesk search reindex`` does the same at any time). It reads the ticket and comment
columns of tickets 0007; should it ever read a column a later migration adds, give this
migration a frozen copy of today's statement.
"""

from django.db import migrations

SQLITE = [
    "CREATE VIRTUAL TABLE search_ticket_text USING fts5("
    "subject, body, notes, tokenize = 'unicode61 remove_diacritics 2')",
]
SQLITE_REVERSE = ["DROP TABLE IF EXISTS search_ticket_text"]

POSTGRES = [
    "CREATE EXTENSION IF NOT EXISTS unaccent",
    "CREATE TEXT SEARCH CONFIGURATION servicedesk_search (COPY = simple)",
    "ALTER TEXT SEARCH CONFIGURATION servicedesk_search ALTER MAPPING FOR "
    "asciiword, asciihword, hword_asciipart, word, hword, hword_part WITH unaccent, simple",
    "CREATE TABLE search_ticket_text (ticket_id bigint PRIMARY KEY, subject text NOT NULL, "
    "body text NOT NULL, notes text NOT NULL, vector tsvector NOT NULL)",
    "CREATE INDEX search_ticket_text_vector ON search_ticket_text USING gin (vector)",
]
POSTGRES_REVERSE = [  # the extension stays: something else may use it
    "DROP TABLE IF EXISTS search_ticket_text",
    "DROP TEXT SEARCH CONFIGURATION IF EXISTS servicedesk_search",
]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        statements = statements_by_vendor.get(schema_editor.connection.vendor)
        if statements is None:
            raise RuntimeError(f"search: no index for {schema_editor.connection.vendor}")
        for statement in statements:
            schema_editor.execute(statement)

    return run


def index_existing(apps, schema_editor):
    from servicedesk.search import index

    Ticket = apps.get_model("tickets", "Ticket")
    ids = list(Ticket.objects.order_by("pk").values_list("pk", flat=True))
    index.reindex_tickets(ids)


class Migration(migrations.Migration):
    initial = True

    dependencies = [("tickets", "0007_channel_desk")]

    operations = [
        migrations.RunPython(
            _run({"sqlite": SQLITE, "postgresql": POSTGRES}),
            _run({"sqlite": SQLITE_REVERSE, "postgresql": POSTGRES_REVERSE}),
        ),
        migrations.RunPython(index_existing, migrations.RunPython.noop),
    ]
