"""What search's cross-process cache check costs (``search.caches.Generations``).

Each request that touches a named search cache reads every generation token in one ``get_many``; a
change bumps one token (one ``set``) after its commit. Measured here on the database cache
(``CALLBOOK_CACHE=database``) over SQLite in a temporary directory, and on the default ``LocMemCache``
for comparison, in this process: ``python bench/cache_generations.py [--rounds 5000]``.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def measure(generations, rounds):
    """Microseconds per per-request check (one read of every token) and per bump, as medians of 5 runs."""
    checks, bumps = [], []
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(rounds):
            generations.request_started()
            generations.current("sections")
        checks.append((time.perf_counter() - start) / rounds * 1e6)
        start = time.perf_counter()
        for _ in range(rounds // 10):
            generations.bump("sections")
        bumps.append((time.perf_counter() - start) / (rounds // 10) * 1e6)
    generations.request_finished()
    return statistics.median(checks), statistics.median(bumps)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5000)
    args = parser.parse_args()
    os.environ["DJANGO_SETTINGS_MODULE"] = "kb_site.settings.test"
    os.environ["CALLBOOK_CACHE"] = "database"
    os.environ.pop("DATABASE_URL", None)
    import django

    django.setup()
    from django.core.cache.backends.locmem import LocMemCache
    from django.core.management import call_command

    from search import caches

    call_command("createcachetable")
    names = sorted(caches.generations.names)
    print(f"{len(names)} named caches: {', '.join(names)}")
    print("| cache backend | check per request (µs) | bump (µs) |")
    print("| --- | ---: | ---: |")
    for label, generations in (
        ("DatabaseCache on SQLite", caches.Generations()),
        ("LocMemCache", caches.Generations(cache=LocMemCache("bench", {}))),
    ):
        for name in names:
            generations.register(name)
        check, bump = measure(generations, args.rounds)
        print(f"| {label} | {check:.0f} | {bump:.0f} |")


if __name__ == "__main__":
    main()
