"""Reads a move makes on every request, written out once per process instead of built by the ORM.

A move (the POST of the step form and the GET of the next step page) reads the run twice, its events
and the user's row each request: small statements SQLite answers in microseconds, while building and
compiling a queryset for each (``filter()``, ``Query.add_q``, ``SQLCompiler.as_sql``) cost more than
running it (issue 14, measured with py-spy). ``Rows`` writes the SELECT from the model's fields once per
database connection vendor, prepares the parameters and converts the values as the ORM does (each
field's ``get_db_prep_value``; the backend's and the field's converters), and builds the instances with
``Model.from_db``: the same objects the ORM would give, signals included.

A JSON column named in ``kept_json`` (the run's definition snapshot, tens of kB read on every request)
is decoded once per process per text: the decoded value is kept by the text itself (an LRU of
``KEPT_JSON_ENTRIES`` texts of ``KEPT_JSON_CHARS`` characters in all: a few large procedures cannot
swell a worker), so a changed column is a new key and nothing needs forgetting; runs of one
revision share one decoded snapshot. Who reads such a value must not change it in place (the run's
``definition`` is replaced, never changed, and its steps are shared already: ``current_procedure``).
"""

from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from django.db.models.signals import post_save, pre_save

from search.caches import LRUCache

KEPT_JSON_ENTRIES = 64
KEPT_JSON_CHARS = 4_000_000  # 64 snapshots of 60 kB; decoded, some tens of MB at most


def text_length(text, _value):
    return len(text)


kept_json = LRUCache(KEPT_JSON_ENTRIES, max_weight=KEPT_JSON_CHARS, weigh=text_length)


def _kept_decoder(functions):
    """One converter doing ``functions`` (a JSON field's converters) in turn, its results kept per text."""

    def convert(value, expression, connection):
        for function in functions:
            value = function(value, expression, connection)
        return value

    def decode(value, expression, connection):
        if not isinstance(value, str) or len(value) < 256:  # small values: decoding is cheaper than keeping
            return convert(value, expression, connection)
        return kept_json.get_or_compute(value, lambda: convert(value, expression, connection))

    return decode


class Rows:
    """``model``'s rows (every concrete field) where each of ``where`` (field names) equals a value,
    ordered by ``order_by`` (field names), locked with ``FOR UPDATE`` when ``for_update`` and the
    database has it (SQLite locks by its IMMEDIATE transactions instead); the JSON fields named in
    ``kept_json`` are decoded once per text (see above)."""

    def __init__(self, model, where, order_by=(), for_update=False, kept_json=()):
        self.model = model
        self.kept_json = set(kept_json)
        self.where = [model._meta.get_field(name) for name in where]
        self.order_by = [model._meta.get_field(name) for name in order_by]
        self.for_update = for_update
        self._prepared = {}  # vendor → (sql, converters)

    def _prepare(self, connection):
        if connection.vendor not in self._prepared:
            meta = self.model._meta
            quote = connection.ops.quote_name
            table = quote(meta.db_table)

            def column(field):
                return f"{table}.{quote(field.column)}"

            fields = meta.concrete_fields
            sql = f"SELECT {', '.join(column(f) for f in fields)} FROM {table} WHERE " + " AND ".join(
                f"{column(field)} = %s" for field in self.where
            )
            if self.order_by:
                sql += f" ORDER BY {', '.join(f'{column(field)} ASC' for field in self.order_by)}"
            if self.for_update and connection.features.has_select_for_update:
                sql += " FOR UPDATE"
            converters = []
            for index, field in enumerate(fields):
                expression = field.get_col(meta.db_table)
                found = connection.ops.get_db_converters(expression) + field.get_db_converters(connection)
                if found and field.name in self.kept_json:
                    found = [_kept_decoder(found)]
                if found:
                    converters.append((index, found, expression))
            self._prepared[connection.vendor] = (sql, converters)
        return self._prepared[connection.vendor]

    def all(self, *values, using=DEFAULT_DB_ALIAS):
        """The instances whose ``where`` fields equal ``values``, in order."""
        connection = connections[using]
        sql, converters = self._prepare(connection)
        params = [
            field.get_db_prep_value(value, connection)
            for field, value in zip(self.where, values, strict=True)
        ]
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        model = self.model
        names = [field.attname for field in model._meta.concrete_fields]
        found = []
        for row in rows:
            if converters:
                row = list(row)
                for index, functions, expression in converters:
                    value = row[index]
                    for function in functions:
                        value = function(value, expression, connection)
                    row[index] = value
            found.append(model.from_db(using, names, row))
        return found

    def first(self, *values, using=DEFAULT_DB_ALIAS):
        """The first instance ``all`` finds, or None."""
        found = self.all(*values, using=using)
        return found[0] if found else None


class Update:
    """``instance.save(update_fields=fields)`` of a ``model`` instance, the UPDATE written out once per
    database vendor: the same statement and parameters (each field's ``pre_save`` and
    ``get_db_prep_save``), ``pre_save`` and ``post_save`` sent as Django sends them, and Django's error
    when no row was updated."""

    def __init__(self, model, fields):
        self.model = model
        self.fields = [model._meta.get_field(name) for name in fields]
        self.update_fields = frozenset(field.name for field in self.fields)
        self._sql = {}  # vendor → sql

    def save(self, instance, using=None):
        using = using or instance._state.db or DEFAULT_DB_ALIAS
        connection = connections[using]
        meta = self.model._meta
        if connection.vendor not in self._sql:
            quote = connection.ops.quote_name
            columns = ", ".join(f"{quote(field.column)} = %s" for field in self.fields)
            self._sql[connection.vendor] = (
                f"UPDATE {quote(meta.db_table)} SET {columns} WHERE {quote(meta.pk.column)} = %s"
            )
        pre_save.send(
            sender=self.model, instance=instance, raw=False, using=using, update_fields=self.update_fields
        )
        params = [
            field.get_db_prep_save(field.pre_save(instance, False), connection) for field in self.fields
        ]
        params.append(meta.pk.get_db_prep_value(instance.pk, connection))
        with connection.cursor() as cursor:
            cursor.execute(self._sql[connection.vendor], params)
            if cursor.rowcount == 0:
                raise DatabaseError("Save with update_fields did not affect any rows.")
        instance._state.db = using
        instance._state.adding = False
        post_save.send(
            sender=self.model,
            instance=instance,
            created=False,
            update_fields=self.update_fields,
            raw=False,
            using=using,
        )


class Insert:
    """``model.objects.bulk_create(instances)`` of a model with an automatic primary key, the INSERT
    written out once per database vendor (every concrete field but the key, prepared as the ORM
    prepares them); like ``bulk_create``, no signals and no keys read back."""

    def __init__(self, model):
        self.model = model
        self.fields = [field for field in model._meta.concrete_fields if not field.primary_key]
        self._sql = {}

    def create(self, instances, using=DEFAULT_DB_ALIAS):
        if not instances:
            return
        connection = connections[using]
        if connection.vendor not in self._sql:
            quote = connection.ops.quote_name
            columns = ", ".join(quote(field.column) for field in self.fields)
            values = ", ".join(["%s"] * len(self.fields))
            self._sql[connection.vendor] = (
                f"INSERT INTO {quote(self.model._meta.db_table)} ({columns}) VALUES ({values})"
            )
        rows = []
        for instance in instances:
            instance._prepare_related_fields_for_save(operation_name="bulk_create")
            rows.append(
                [field.get_db_prep_save(field.pre_save(instance, True), connection) for field in self.fields]
            )
        with connection.cursor() as cursor:
            cursor.executemany(self._sql[connection.vendor], rows)
        for instance in instances:
            instance._state.db = using
            instance._state.adding = False
