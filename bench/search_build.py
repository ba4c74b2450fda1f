"""Where a Whoosh index build spends its time and its bytes. Not a test.

Runs ``update_index`` for the Whoosh backend on a copy of a ``bench/search.py`` database (its
``bench.sqlite3``, migrated first) and reports the build time, articles per second, the index size
broken down by Whoosh file (postings, term dictionary, stored fields, per-document columns) and by
field (terms and postings of each field), and optionally a cProfile of the build.

    .venv/bin/python bench/search_build.py DB.sqlite3 [--profile] [--top 40] [--keep DIR] [--processes N]

``--processes 1`` builds in one process (the backend's ``REBUILD_PROCESSES``; default 2: part of the
documents are written by a forked child, whose CPU time is reported separately).
"""

import argparse
import cProfile
import os
import pstats
import shutil
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))

SETTINGS = """
from kb_site.settings.test import *  # noqa

VAR_DIR = Path({var_dir!r})
MEDIA_ROOT = VAR_DIR / "media"
DATABASES["default"]["NAME"] = {db!r}
INSTALLED_APPS = [app for app in INSTALLED_APPS if app != "modelsearch.test.testapp"]
WAGTAILSEARCH_BACKENDS = {{
    "default": {{"BACKEND": "search.backend", "PATH": VAR_DIR / "whoosh", "AUTO_UPDATE": False, "FSYNC": False,
                "REBUILD_PROCESSES": {processes}}},
}}
"""


def _children_cpu():
    """CPU seconds of the ended child processes (a rebuild's writing child, ``search.backend.parallel``)."""
    times = os.times()
    return times.children_user + times.children_system


def file_sizes(generation_dir):
    """Bytes per Whoosh file kind (extension) in one generation directory."""
    sizes = Counter()
    for path in Path(generation_dir).iterdir():
        if path.is_file():
            sizes[path.suffix or path.name] += path.stat().st_size
    return sizes


def print_fields(generation_dir):
    """Per field of one generation: terms, postings, bytes of postings (inlined ones included) and of
    term texts."""
    import pickle

    from whoosh import index as whoosh_index

    ix = whoosh_index.open_dir(str(generation_dir), indexname="MAIN")
    reader = ix.reader()
    readers = [r for r, _offset in reader.leaf_readers() if hasattr(r, "_terms")]
    per_field = defaultdict(lambda: [0, 0, 0, 0])
    for segment_reader in readers:
        for (fieldname, btext), info in segment_reader._terms.items():
            row = per_field[fieldname]
            row[0] += 1
            row[1] += info.doc_frequency()
            if info.is_inlined():
                row[2] += len(pickle.dumps(info._inlined, 2))
            else:
                length = info._length
                row[2] += length[0] if isinstance(length, tuple) else length
            row[3] += len(btext)
    print(f"  per field of {generation_dir.name} ({len(readers)} segments):")
    print(f"    {'field':28} {'terms':>9} {'postings':>10} {'posting bytes':>14} {'term bytes':>11}")
    for fieldname, (terms, postings, pbytes, tbytes) in sorted(per_field.items(), key=lambda kv: -kv[1][2]):
        print(f"    {fieldname:28} {terms:9} {postings:10} {pbytes:14} {tbytes:11}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("db", help="a bench/search.py bench.sqlite3 (copied, not changed)")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--processes", type=int, default=2, help="the backend's REBUILD_PROCESSES")
    parser.add_argument("--keep", help="directory to keep the work in (default: a temporary one, removed)")
    args = parser.parse_args()

    var_dir = Path(args.keep or tempfile.mkdtemp(prefix="callbook-bench-build-"))
    var_dir.mkdir(parents=True, exist_ok=True)
    db = var_dir / "bench.sqlite3"
    shutil.copyfile(args.db, db)
    shutil.rmtree(var_dir / "whoosh", ignore_errors=True)
    settings_dir = var_dir / "settings"
    settings_dir.mkdir(exist_ok=True)
    (settings_dir / "bench_build_settings.py").write_text(
        SETTINGS.format(var_dir=str(var_dir), db=str(db), processes=args.processes)
    )
    sys.path.insert(0, str(settings_dir))
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench_build_settings"

    import django

    django.setup()
    from django.core.management import call_command

    from kb_site.content.models import ArticlePage

    call_command("migrate", verbosity=0)
    articles = ArticlePage.objects.count()

    profiler = cProfile.Profile() if args.profile else None
    started = time.perf_counter()
    cpu_started = time.process_time()
    children_started = _children_cpu()
    if profiler:
        profiler.enable()
    call_command("update_index", backend_name="default", verbosity=0)
    if profiler:
        profiler.disable()
    seconds = time.perf_counter() - started
    cpu_seconds = time.process_time() - cpu_started
    child_seconds = _children_cpu() - children_started

    whoosh_dir = var_dir / "whoosh"
    total = 0
    kinds = Counter()
    largest = None
    for pointer in whoosh_dir.glob("*.current"):
        generation = whoosh_dir / pointer.read_text().strip()
        sizes = file_sizes(generation)
        kinds.update(sizes)
        size = sum(sizes.values())
        total += size
        if largest is None or size > largest[1]:
            largest = (generation, size)
    print(
        f"{articles} articles: build {seconds:.1f} s ({articles / seconds:.0f} articles/s; CPU {cpu_seconds:.1f} s, "
        f"{articles / cpu_seconds:.0f} articles/CPU s; child processes' CPU {child_seconds:.1f} s), "
        f"index {total / 1e6:.1f} MB"
    )
    for kind, size in kinds.most_common():
        print(f"  {kind:10} {size / 1e6:8.2f} MB")

    if profiler:
        stats = pstats.Stats(profiler)
        stats.sort_stats("cumulative").print_stats(args.top)
        stats.sort_stats("tottime").print_stats(args.top)
    if largest:
        print_fields(largest[0])
    if not args.keep:
        shutil.rmtree(var_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
