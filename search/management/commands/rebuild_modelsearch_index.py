"""modelsearch's name for ``update_index`` (same command, same progress bar)."""

from search.management.commands.update_index import Command  # noqa: F401
