"""A two-process rebuild whose writing child dies after documents were already on their way to it (more
than one ``BATCH``, as in any rebuild of a real size): the rebuild fails with the same clear error as when
the child dies before the end (tests/search/test_index_build.py), not a bare ``BrokenPipeError``, and the
live index keeps serving."""

import os
import signal

import pytest
from django.core.management import call_command
from modelsearch.backends import get_search_backend

from kb_site.content.models import Phrasing
from search.backend.index import WhooshRebuilder
from search.backend.parallel import BATCH


@pytest.mark.django_db
def test_a_writing_child_lost_between_batches_fails_the_rebuild_with_a_clear_error(search_index, settings):
    Phrasing.objects.bulk_create(
        [Phrasing(title=f"重建话术{n}", text=f"重建索引第{n}条") for n in range(3 * BATCH)]
    )
    call_command("update_index", verbosity=0)
    settings.WAGTAILSEARCH_BACKENDS["default"].update(REBUILD_PROCESSES=2, REBUILD_SPLIT_MIN=2)
    index = get_search_backend("default").get_index_for_model(Phrasing)
    live_generation = index.store.current_generation()

    rebuild = WhooshRebuilder(index).start()
    rebuild.add_model(Phrasing)
    phrasings = list(Phrasing.objects.order_by("pk"))
    rebuild.add_items(Phrasing, phrasings[:1])  # starts the child; its share is more than one batch
    assert rebuild.worker is not None and rebuild.worker_docs > BATCH
    os.kill(rebuild.worker.pid, signal.SIGKILL)
    os.waitpid(rebuild.worker.pid, 0)  # gone (as the OOM killer leaves it) before the next batch is sent
    with pytest.raises(RuntimeError, match="writing child process"):
        rebuild.add_items(Phrasing, phrasings[1:])
    rebuild.cancel()

    assert index.store.current_generation() == live_generation
    assert len(Phrasing.objects.search("重建话术")) == 3 * BATCH
