"""Many rows of one model inserted at once: one prepared statement (``executemany``), or
``COPY`` on PostgreSQL.

For loads of tens of thousands of rows (imports, the demo desk) whose ids nobody needs
back: ``bulk_create`` builds a model instance per row and prepares every value through its
field, which costs more than the inserts themselves. Here only the values whose database
form differs from the Python one (times, dates, JSON) are prepared by their field.
"""

from collections.abc import Callable, Iterable, Sequence

from django.db import connection, models

# Fields whose values go to the database as Python has them (ids for foreign keys).
_AS_IS = (
    models.CharField,
    models.TextField,
    models.BooleanField,
    models.IntegerField,
    models.ForeignKey,
)


def _preparer(field: models.Field, ops) -> Callable | None:
    """What turns a Python value of ``field`` into its database form (None: nothing)."""
    if isinstance(field, _AS_IS):
        return None
    if isinstance(field, models.DateTimeField):  # aware datetimes, as the ORM would save them
        return ops.adapt_datetimefield_value
    if isinstance(field, models.JSONField):  # None is SQL NULL, as in ``get_db_prep_save``
        return lambda v, encoder=field.encoder: (
            None if v is None else ops.adapt_json_value(v, encoder)
        )
    return lambda v: field.get_db_prep_save(v, connection)


def insert(model: type[models.Model], columns: Sequence[str], rows: Iterable[Sequence]) -> int:
    """Insert ``rows`` (one value per name in ``columns``; a foreign key as its id) into
    ``model``'s table; the other columns but the id take their field's default. Returns how
    many rows. Call inside the caller's transaction."""
    fields = [model._meta.get_field(name) for name in columns]
    prepare = [_preparer(f, connection.ops) for f in fields]
    rest = [f for f in model._meta.concrete_fields if not f.primary_key and f not in fields]
    defaults = tuple(f.get_db_prep_save(f.get_default(), connection) for f in rest)
    fields += rest
    values = [
        (*(v if p is None else p(v) for p, v in zip(prepare, row, strict=True)), *defaults)
        for row in rows
    ]
    if not values:
        return 0
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    names = ", ".join(quote(f.column) for f in fields)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":  # COPY: a row-by-row executemany is 10x slower
            with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in values:
                    copy.write_row(row)
        else:
            marks = ", ".join(["%s"] * len(fields))
            cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", values)
    return len(values)


def insert_objects(objects: Sequence[models.Model]) -> int:
    """``insert`` for unsaved instances of one model: every concrete field but the id, as the
    instance holds it (no ``pre_save``: set times yourself). Their ids are not read back."""
    if not objects:
        return 0
    fields = [f for f in type(objects[0])._meta.concrete_fields if not f.primary_key]
    return insert(
        type(objects[0]),
        [f.name for f in fields],
        ([getattr(o, f.attname) for f in fields] for o in objects),
    )
