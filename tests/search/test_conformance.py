"""modelsearch's own backend conformance suite (BackendTests) run against the Whoosh backend, and
against the PostgreSQL backend (``search.backend_pg``) when the database is PostgreSQL.

The suite's ``search`` fixture is not shipped in the modelsearch package; it is read from the shared
directory next to the repository (``../shared/modelsearch/search.json``). Without it the tests are skipped.
"""

import shutil
import sys
import tempfile
import unittest
import uuid
from io import StringIO
from pathlib import Path

import wagtail.search.models
from django.core import management
from django.db import connection
from django.test import TestCase, override_settings

# modelsearch's test module imports ``modelsearch.models``, whose models only exist when the "modelsearch"
# app is installed. Wagtail installs the same models as ``wagtail.search`` instead, so alias the module.
sys.modules.setdefault("modelsearch.models", wagtail.search.models)

from modelsearch.backends import get_search_backend  # noqa: E402
from modelsearch.test.testapp import models  # noqa: E402
from modelsearch.tests.test_backends import BackendTests  # noqa: E402

from search.backend import WhooshSearchBackend  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parents[2]
FIXTURE = REPO_ROOT.parent / "shared" / "modelsearch" / "search.json"


@unittest.skipUnless(
    FIXTURE.exists(),
    f"modelsearch conformance fixture not found: {FIXTURE} (shared/ must sit beside the repo)",
)
class TestWhooshBackendConformance(BackendTests, TestCase):
    backend_path = "search.backend"
    fixtures = [str(FIXTURE)]

    @classmethod
    def setUpTestData(cls):
        add_test_data()

        # Build the index once with the real rebuild command, then keep a copy of every generation so
        # each test starts from it (the database is rolled back between tests, the index on disk is not).
        management.call_command(
            "update_index", backend_name="default", stdout=StringIO(), chunk_size=50, verbosity=0
        )
        assert isinstance(get_search_backend("default"), WhooshSearchBackend)
        cls._snapshots = []
        snapshot_root = Path(tempfile.mkdtemp(prefix="whoosh-snapshot-"))
        for index in get_search_backend("default").all_indexes():
            generation = index.store.current_generation()
            target = snapshot_root / generation
            shutil.copytree(index.store.generation_path(generation), target)
            cls._snapshots.append((index.store, target))

    def setUp(self):
        self.backend_name = "default"
        self.backend = get_search_backend(self.backend_name)
        for store, snapshot in self._snapshots:
            generation = f"{store.name}.test-{uuid.uuid4().hex[:8]}"
            shutil.copytree(snapshot, store.generation_path(generation))
            store.swap(generation)

    def clear_index_entries(self):
        pass  # the Whoosh backend keeps no IndexEntry rows; every setUp rebuilds into a fresh generation


@unittest.skipUnless(
    FIXTURE.exists(),
    f"modelsearch conformance fixture not found: {FIXTURE} (shared/ must sit beside the repo)",
)
@unittest.skipIf(connection.vendor != "postgresql", "the PostgreSQL backend needs a PostgreSQL database")
@override_settings(WAGTAILSEARCH_BACKENDS={"default": {"BACKEND": "search.backend_pg", "AUTO_UPDATE": False}})
class TestPostgresBackendConformance(BackendTests, TestCase):
    backend_path = "search.backend_pg"
    fixtures = [str(FIXTURE)]

    @classmethod
    def setUpTestData(cls):
        add_test_data()
        # Built once with the real rebuild command; the index is rows in the database, which every test
        # rolls back to this state.
        management.call_command(
            "update_index", backend_name="default", stdout=StringIO(), chunk_size=50, verbosity=0
        )

    def setUp(self):
        self.backend_name = "default"
        self.backend = get_search_backend(self.backend_name)
        assert type(self.backend).__module__ == "search.backend_pg"


def add_test_data():
    """Data the newer tests need and the fixture lacks."""
    standup = models.Meeting.objects.get(name="Stand-up meeting")
    item = models.AgendaItem.objects.create(meeting=standup, topic="Detective stories")
    models.Speaker.objects.create(agenda_item=item, name="Arthur Conan Doyle")
    yoga = models.Meeting.objects.get(name="Breakfast yoga")
    item = models.AgendaItem.objects.create(meeting=yoga, topic="Sun salutation")
    models.Speaker.objects.create(agenda_item=item, name="Agatha Christie")

    for model in (models.MPAnimal, models.NSAnimal):
        animal = model.add_root(name="Animal")
        mammal = animal.add_child(name="Mammal")
        animal = model.objects.get(pk=animal.pk)
        reptile = animal.add_child(name="Reptile")
        mammal = model.objects.get(pk=mammal.pk)
        mammal.add_child(name="Dog")
        mammal = model.objects.get(pk=mammal.pk)
        mammal.add_child(name="Cat")
        reptile = model.objects.get(pk=reptile.pk)
        reptile.add_child(name="Snake")
