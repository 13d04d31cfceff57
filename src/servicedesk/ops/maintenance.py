"""Keeping the database's query planner informed.

SQLite chooses indexes well only with statistics (``ANALYZE``): without them it filtered the
ticket list by status and sorted thousands of rows (10 ms) instead of reading the first 25 in
due order from the index (0.04 ms). PostgreSQL's autovacuum analyzes by itself; a bulk load
(demo data, imports) is followed by an explicit ANALYZE on both.
"""

from django.db import connection


def analyze() -> str:
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return connection.vendor
