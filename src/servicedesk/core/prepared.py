"""Reads that the ORM compiles once per process, then runs with new values.

Building and compiling a statement costs the ORM a quarter to one millisecond; the database
answers the small reads of the pages agents load all day in a few hundredths of that. A
``Prepared`` read is written as an ordinary queryset, built once with
marker values where the real ones go; the SQL and parameters the ORM wrote are kept, and
each call puts its values in the markers' places, runs the statement and converts the rows
with the ORM's own converters. The statement is the ORM's, so it is right on SQLite and on
PostgreSQL alike; only the values change between calls, never the shape.

Values may be integers (ids), strings (keys) and aware datetimes, never ``None``. A queryset
whose SQL would change with the values (``__in`` a list, a condition on ``None``) cannot be
prepared: build it per call.
"""

from collections import namedtuple
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from django.db import connections
from django.db.models import QuerySet

# Markers nobody stores: a negative id and a time in 1901.
_INT_MARKER = -7_390_000_000_000
_TIME_MARKER = datetime(1901, 2, 3, 4, 5, 6, tzinfo=UTC)


class Prepared:
    """``build(*values)`` returns a queryset; calling the ``Prepared`` with values returns
    its rows: for a ``values_list``, named tuples (its names); for a queryset of one model
    (``only()`` allowed, no ``select_related``), instances. ``build`` may instead return
    ``(alias, sql, params)`` that it assembled from querysets' SQL itself: its rows are then
    returned as the database gives them."""

    def __init__(self, build: Callable[..., QuerySet]):
        self.build = build
        self._compiled: tuple | None = None  # a process has one database

    def __call__(self, *values) -> list:
        alias, sql, params, slots, compiler, make = self._compile(values)
        connection = connections[alias]
        params = list(params)
        for places, value in zip(slots, values, strict=True):
            if value is None or isinstance(value, bool):
                raise TypeError("a prepared read takes ids, keys and times")
            for index in places:
                params[index] = _adapt(connection, value)
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            fetched = cursor.fetchall()
        if not fetched or compiler is None:
            return fetched
        return [make(r) for r in compiler.results_iter(results=[fetched])]

    def _compile(self, values) -> tuple:
        compiled = self._compiled
        if compiled is None:
            markers = [_marker(value, i) for i, value in enumerate(values)]
            built = self.build(*markers)
            compiler = make = None
            if isinstance(built, QuerySet):
                alias = built.db
                compiler = built.query.get_compiler(using=alias)
                sql, params = compiler.as_sql()
                make = _maker(built, compiler)
            else:
                alias, sql, params = built
            connection = connections[alias]
            slots = []
            for marker in markers:
                adapted = _adapt(connection, marker)
                found = [i for i, p in enumerate(params) if p in (adapted, marker)]
                if not found:
                    raise ValueError(f"{marker!r} is not in the statement: it cannot be prepared")
                slots.append(found)
            compiled = (alias, sql, tuple(params), slots, compiler, make)
            self._compiled = compiled
        return compiled


def _maker(queryset: QuerySet, compiler) -> Callable:
    """What turns a converted row into what the queryset would have given."""
    query = queryset.query
    if queryset._fields is not None:  # values_list
        names = [*query.extra_select, *query.values_select, *query.annotation_select]
        return namedtuple("Row", names)._make
    if query.select_related or query.annotation_select or query.extra_select:
        raise ValueError("a prepared read of instances reads one model's own columns")
    names = tuple(column[0].target.attname for column in compiler.select)
    return partial(queryset.model.from_db, queryset.db, names)


def _marker(value: Any, position: int):
    if isinstance(value, bool):
        raise TypeError("a prepared read takes ids, keys and times, not booleans")
    if isinstance(value, int):
        return _INT_MARKER - position
    if isinstance(value, datetime):
        return _TIME_MARKER + timedelta(seconds=position)
    if isinstance(value, str):
        return f"\x1fprepared marker {position}\x1f"
    raise TypeError(f"a prepared read takes ids, keys and times, not {type(value).__name__}")


def _adapt(connection, value: Any):
    if isinstance(value, datetime):
        return connection.ops.adapt_datetimefield_value(value)
    return value
