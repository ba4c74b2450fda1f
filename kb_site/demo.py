"""The demo registry. ``manage.py load_demo`` knows no app by name: each app loads its own part.

An app registers its loader from its ``wagtail_hooks.py``; loaders run in hook order (content first,
then what builds on it)::

    @hooks.register("register_demo_loader", order=20)
    def load_procedures_demo(update, report, **options):
        ...  # create what is missing; with ``update`` refresh what is there; report.add(kind, created)

``options`` carries ``with_users`` (whether demo accounts are wanted). An app that wants the whole load
wrapped (search batches its index writes) registers a context manager factory with
``wrap_demo_load``.
"""

from dataclasses import dataclass, field

LOADER_HOOK = "register_demo_loader"
WRAPPER_HOOK = "wrap_demo_load"


@dataclass
class DemoReport:
    """What a demo load created and what was already there, counted per kind."""

    created: dict = field(default_factory=dict)
    updated: dict = field(default_factory=dict)

    def add(self, kind, created):
        target = self.created if created else self.updated
        target[kind] = target.get(kind, 0) + 1
