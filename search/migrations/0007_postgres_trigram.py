"""PostgreSQL only: the ``pg_trgm`` extension and a trigram index on the index entries' ``title_text``,
which ``search.backend_pg`` fills with the autocomplete and title text (segmented) for Chinese typed from
the middle of a word and for ``Fuzzy`` queries. Does nothing on SQLite or any other database.

Creating the extension needs a role that may (``pg_trgm`` is a trusted extension: the database owner
may); where it is already installed only the index is created.
"""

from django.db import migrations

INDEX_NAME = "callbook_indexentry_title_text_trgm"


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    table = apps.get_model("wagtailsearch", "IndexEntry")._meta.db_table
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {INDEX_NAME} ON {table} USING gin (title_text gin_trgm_ops)"
    )


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX_NAME}")  # the extension may serve others: kept


class Migration(migrations.Migration):
    dependencies = [
        ("search", "0006_default_synonyms"),
        ("wagtailsearch", "0010_add_text_fields"),
    ]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
