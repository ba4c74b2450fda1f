"""``update_index``: rebuild every search index into a fresh generation and swap it in atomically.

Overrides Wagtail's command of the same name (the ``search`` app precedes ``wagtail.search`` in
INSTALLED_APPS). The rebuild itself is modelsearch's; this adds a tqdm progress bar per model. Searches keep
using the old index until the swap.
"""

import sys

from modelsearch.management.commands.rebuild_modelsearch_index import (
    DEFAULT_CHUNK_SIZE,
)
from modelsearch.management.commands.rebuild_modelsearch_index import (
    Command as RebuildCommand,
)
from tqdm import tqdm


class Command(RebuildCommand):
    help = "重建全文搜索索引（在新目录中构建后原子切换）"

    def queryset_chunks(self, qs, chunk_size=DEFAULT_CHUNK_SIZE):
        total = qs.count() if self.verbosity > 0 else 0
        with tqdm(
            total=total,
            unit="条",
            file=sys.stderr,
            disable=self.verbosity == 0,
            leave=True,
            dynamic_ncols=True,
        ) as bar:
            for chunk in super().queryset_chunks(qs, chunk_size):
                yield chunk
                bar.update(len(chunk))

    def print_iter_progress(self, iterable):
        # The tqdm bar in queryset_chunks replaces modelsearch's dots.
        return iterable
