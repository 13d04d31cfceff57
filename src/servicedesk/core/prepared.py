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
from typing import Any, NamedTuple

from django.db import connections
from django.db.models import QuerySet
from django.db.models.query import get_related_populators

_TIME_MARKER = datetime(1901, 2, 3, 4, 5, 6, tzinfo=UTC)


class Prepared:
    """``build(*values)`` returns a queryset; calling the ``Prepared`` with values returns
    its rows: for a ``values_list``, named tuples (its names); for a queryset of a model,
    instances (with their ``select_related`` objects and annotations, as the ORM gives them). ``build`` may instead return
    ``(alias, sql, params)`` that it assembled from querysets' SQL itself: its rows are then
    returned as the database gives them."""

    def __init__(self, build: Callable[..., QuerySet]):
        self.build = build
        self._compiled: tuple[_Built, list[list[int]]] | None = None  # one database a process

    def __call__(self, *values) -> list:
        built, slots = self._compile(values)
        connection = connections[built.alias]
        params = list(built.params)
        for places, value in zip(slots, values, strict=True):
            if value is None or isinstance(value, bool):
                raise TypeError("a prepared read takes ids, keys and times")
            for index in places:
                params[index] = _adapt(connection, value)
        with connection.cursor() as cursor:
            cursor.execute(built.sql, params)
            fetched = cursor.fetchall()
        if not fetched or built.compiler is None:
            return fetched
        return [built.make(r) for r in built.compiler.results_iter(results=[fetched])]

    def _compile(self, values) -> tuple["_Built", list[list[int]]]:
        compiled = self._compiled
        if compiled is None:
            # Built twice with different markers: the places where the parameters differ are
            # the values' places, and nothing else may differ (a shape that changes with the
            # values cannot be prepared).
            first, second = (self._statement(values, variant) for variant in (0, 1))
            if first.sql != second.sql or len(first.params) != len(second.params):
                raise ValueError("the statement changes with its values: it cannot be prepared")
            connection = connections[first.alias]
            pairs = list(enumerate(zip(first.params, second.params, strict=True)))
            slots = []
            for marker, other in zip(first.markers, second.markers, strict=True):
                one, two = (marker, _adapt(connection, marker)), (other, _adapt(connection, other))
                found = [i for i, (p, q) in pairs if p in one and q in two]
                if not found:
                    raise ValueError(f"{marker!r} is not in the statement: it cannot be prepared")
                slots.append(found)
            placed = {i for places in slots for i in places}
            if any(p != q and i not in placed for i, (p, q) in pairs):
                raise ValueError("the statement changes with its values: it cannot be prepared")
            compiled = self._compiled = (first, slots)
        return compiled

    def _statement(self, values, variant: int) -> "_Built":
        markers = [_marker(value, i, variant) for i, value in enumerate(values)]
        built = self.build(*markers)
        if isinstance(built, QuerySet):
            compiler = built.query.get_compiler(using=built.db)
            sql, params = compiler.as_sql()
            return _Built(built.db, sql, list(params), compiler, _maker(built, compiler), markers)
        alias, sql, params = built
        return _Built(alias, sql, list(params), None, None, markers)


class _Built(NamedTuple):
    """One compilation of a prepared read's statement, with the markers it was built with."""

    alias: str
    sql: str
    params: list
    compiler: Any
    make: Callable | None
    markers: list


def _maker(queryset: QuerySet, compiler) -> Callable:
    """What turns a converted row into what the queryset would have given."""
    query = queryset.query
    if queryset._fields is not None:  # values_list
        names = [*query.extra_select, *query.values_select, *query.annotation_select]
        return namedtuple("Row", names)._make
    if query.extra_select:
        raise ValueError("a prepared read of instances takes no extra()")
    # As Django's ModelIterable makes them: the model's columns, then each select_related
    # object, then the annotations.
    db, select, klass_info = queryset.db, compiler.select, compiler.klass_info
    fields = klass_info["select_fields"]
    start, end = fields[0], fields[-1] + 1
    names = [column[0].target.attname for column in select[start:end]]
    populators = get_related_populators(klass_info, select, db)
    annotations = compiler.annotation_col_map.items()
    model = klass_info["model"]

    def make(row):
        instance = model.from_db(db, names, row[start:end])
        for populator in populators:
            populator.populate(row, instance)
        for name, position in annotations:
            setattr(instance, name, row[position])
        return instance

    return make


def _marker(value: Any, position: int, variant: int):
    """A value nobody stores, of ``value``'s type, within every column's range (Django finds
    a statement empty when a number is out of its column's range)."""
    if isinstance(value, bool):
        raise TypeError("a prepared read takes ids, keys and times, not booleans")
    if isinstance(value, int):
        return 30_011 + 100 * variant + position
    if isinstance(value, datetime):
        return _TIME_MARKER + timedelta(days=variant, seconds=position)
    if isinstance(value, str):
        return f"\x1fprepared marker {variant} {position}\x1f"
    raise TypeError(f"a prepared read takes ids, keys and times, not {type(value).__name__}")


def _adapt(connection, value: Any):
    if isinstance(value, datetime):
        return connection.ops.adapt_datetimefield_value(value)
    return value
