"""Benchmark: search and suggestions at 1,000 and 10,000 articles, Whoosh vs Wagtail's database backend.

Not a test. Builds a fresh SQLite database in a temporary directory, generates synthetic Chinese
articles from the vocabulary of the seed documents (``../shared/seeds/*.txt``, read here only),
indexes them with both backends (the project's Whoosh backend, and Wagtail's database backend,
which is SQLite FTS5 here) and reports, side by side:

* index build time (``update_index`` for that backend, in a process of its own as in production, timed
  inside it after Django's start-up) and index size;
* search latency p50/p95 in process, with highlighting: ``search.results.search_all`` plus
  ``describe`` of the first 20 hits, i.e. the results page minus template rendering; for common
  and for rare words; common words are also timed "first time" (postings cache emptied before
  each query), the cost of a word a worker has not searched yet;
* suggestion latency p50/p95 (``search.views.suggestions_for``) for typed prefixes and pinyin;
* recall@5 over a labelled set of agent-style queries (words of a known article's title, typed
  in another order, with or without spaces).

    .venv/bin/python bench/search.py [--sizes 1000 10000] [--queries 200] [--seed 7] [--pg]

``--pg`` runs everything on a throwaway PostgreSQL 15 cluster instead (``bench.serving.postgres``: initdb
as the ``postgres`` user on a free port, ``fsync=off``, stopped and removed at the end; or
``DATABASE_URL`` when set) and adds a third column, the project's PostgreSQL backend
(``search.backend_pg``); the database backend is then Wagtail's PostgreSQL full-text search. The two
database backends share one table, so each is rebuilt just before it is measured, and the table's size
(``pg_total_relation_size`` after ``VACUUM FULL``, indexes and TOAST included) is taken then. Target at
10,000 articles: search p95 of ``search.backend_pg`` within 2× of Whoosh's in the same run.

Targets at 10,000 articles (Whoosh): search p95 ≤ 20 ms, suggest p95 ≤ 10 ms, recall@5 ≥ 0.95; the
index at most 2.5 times SQLite FTS5's, built at ≥ 300 articles per second; at 100,000 articles search
p95 ≤ 30 ms. ``bench/search_build.py`` breaks a Whoosh build down (time, bytes per file and field).
"""

import argparse
import os
import random
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
SEEDS_DIR = BASE_DIR.parent / "shared" / "seeds"
sys.path.insert(0, str(BASE_DIR))

SETTINGS = """
from kb_site.settings.test import *  # noqa

VAR_DIR = Path({var_dir!r})
MEDIA_ROOT = VAR_DIR / "media"
if not os.environ.get("DATABASE_URL"):
    DATABASES["default"]["NAME"] = VAR_DIR / "bench.sqlite3"
ALLOWED_HOSTS = ["*"]
DEBUG = False
INSTALLED_APPS = [app for app in INSTALLED_APPS if app != "modelsearch.test.testapp"]
WAGTAILSEARCH_BACKENDS = {{
    "default": {{"BACKEND": "search.backend", "PATH": VAR_DIR / "whoosh", "AUTO_UPDATE": False, "FSYNC": False}},
    "database": {{"BACKEND": "wagtail.search.backends.database", "AUTO_UPDATE": False}},
}}
if os.environ.get("DATABASE_URL"):
    WAGTAILSEARCH_BACKENDS["pg"] = {{"BACKEND": "search.backend_pg", "AUTO_UPDATE": False}}
LOGGING = {{"version": 1, "disable_existing_loggers": False,
           "handlers": {{"console": {{"class": "logging.StreamHandler"}}}},
           "root": {{"handlers": ["console"], "level": "ERROR"}}}}
"""

SUFFIXES = ["规范", "流程", "说明", "处理办法", "操作指引", "注意事项", "话术要点", "标准"]


def percentile(values, pct):
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = (len(ordered) - 1) * pct / 100
    low, high = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (k - low)


def seed_vocabulary():
    """Words of the seed documents (segmented by the project's analyzer), with their frequencies."""
    from zhtext import query_words

    words = Counter()
    for path in sorted(SEEDS_DIR.glob("*.txt")):
        for word in query_words(path.read_text(encoding="utf-8")):
            if len(word) >= 2 and all("\u4e00" <= ch <= "\u9fff" for ch in word):
                words[word] += 1
    return words


class Corpus:
    """Synthetic articles: titles of three seed words plus a suffix, bodies sampled by frequency."""

    def __init__(self, vocabulary, rng):
        self.rng = rng
        self.words = [w for w, _ in vocabulary.most_common()]
        self.weights = [c for _, c in vocabulary.most_common()]
        self.title_words = [w for w in self.words if 2 <= len(w) <= 4]
        self.seen_titles = set()

    def title(self):
        while True:
            parts = self.rng.sample(self.title_words, 3)
            title = "".join(parts) + self.rng.choice(SUFFIXES)
            if title not in self.seen_titles:
                self.seen_titles.add(title)
                return title, parts

    def paragraph(self, n):
        words = self.rng.choices(self.words, weights=self.weights, k=n)
        out = []
        for i, word in enumerate(words):
            out.append(word)
            if i % 9 == 8:
                out.append(self.rng.choice("，，，。；"))
        return "".join(out) + "。"


def create_articles(corpus, sections, count, labelled):
    """``count`` more articles, 500 to a transaction (one SQLite commit each, not one per page)."""
    from django.db import transaction

    for start in range(0, count, 500):
        with transaction.atomic():
            _create_articles(corpus, sections, range(start, min(count, start + 500)), labelled)


def _create_articles(corpus, sections, numbers, labelled):
    from django.utils import timezone

    from kb_site.content.models import ArticlePage

    for i in numbers:
        section = sections[i % len(sections)]
        title, parts = corpus.title()
        body = [
            ("paragraph", f"<p>{corpus.paragraph(60)}</p>"),
            ("paragraph", f"<p>{corpus.paragraph(60)}</p>"),
        ]
        published = timezone.now()  # as for any published page (the snippet-text cache keys on it)
        page = ArticlePage(
            title=title,
            summary=corpus.paragraph(20),
            body=body,
            live=True,
            first_published_at=published,
            last_published_at=published,
        )
        section.add_child(instance=page)
        section.refresh_from_db(fields=["numchild"])
        labelled.append((page.pk, title, parts))


def setup_site(rng, corpus):
    from django.contrib.auth import get_user_model
    from wagtail.models import Page, Site

    from kb_site.content.models import HomePage, Phrasing, SectionPage

    root = Page.get_first_root_node()
    home = root.add_child(instance=HomePage(title="Callbook", slug="bench-home"))
    site = Site.objects.get(is_default_site=True)
    site.root_page = home
    site.save()
    sections = []
    for n in range(10):
        section = home.add_child(instance=SectionPage(title=f"业务栏目{n}", slug=f"section-{n}"))
        sections.append(section)
    for _n in range(200):
        title, _parts = corpus.title()
        Phrasing.objects.create(
            title=title, text=corpus.paragraph(25), section=rng.choice(sections), live=True
        )
    user = get_user_model().objects.create_superuser("bench", "bench@example.com", "bench-password-123")
    return sections, user


def directory_size(path):
    return sum(f.stat().st_size for f in Path(path).rglob("*") if f.is_file())


def live_index_size(path):
    """Bytes of the live generation of every index (the previous one is kept for open searchers)."""
    path = Path(path)
    return sum(directory_size(path / pointer.read_text().strip()) for pointer in path.glob("*.current"))


def sqlite_index_size():
    from django.db import connection

    if connection.vendor == "postgresql":
        return postgres_index_size()
    with connection.cursor() as cursor:
        try:
            cursor.execute(
                "SELECT SUM(pgsize) FROM dbstat WHERE name LIKE 'wagtailsearch_indexentry%'"
                " OR name LIKE 'wagtailsearch_sqliteftsindexentry%'"
            )
            return cursor.fetchone()[0] or 0
        except Exception:
            return None


def postgres_index_size():
    """Bytes of the index entries' table with its indexes and TOAST, compacted first (the other database
    backend's rows were just overwritten)."""
    from django.db import connection
    from wagtail.search.models import IndexEntry

    table = IndexEntry._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM FULL {table}")
        cursor.execute("SELECT pg_total_relation_size(%s)", [table])
        return cursor.fetchone()[0]


BACKEND_LABELS = {
    "default": "whoosh",
    "database": "database (SQLite FTS5)",
    "pg": "search.backend_pg",
}


# Run in a process of its own, as production runs ``manage.py update_index``: the build is timed inside
# that process, after Django's start-up, and prints its wall and CPU seconds as JSON.
BUILD_CHILD = """
import json, os, sys, time
import django
django.setup()
from django.core.management import call_command
def cpu():
    times = os.times()  # this process and its ended children (a Whoosh rebuild's writing child)
    return time.process_time() + times.children_user + times.children_system
started, cpu_started = time.perf_counter(), cpu()
call_command("update_index", backend_name=sys.argv[1], verbosity=0)
print(json.dumps([time.perf_counter() - started, cpu() - cpu_started]))
"""


def build_index(backend_name):
    """Wall and CPU seconds of ``update_index`` for one backend, in a fresh process as production runs it
    (not in this one, which holds every generated article; a Whoosh rebuild forks a writing child, which
    would share this process's memory). The machine may be shared: CPU seconds move less with other load;
    a two-process Whoosh build's CPU is both processes'."""
    import json
    import subprocess

    from django.db import connections

    connections.close_all()
    done = subprocess.run(  # the environment names the settings module and its directory (run())
        [sys.executable, "-c", BUILD_CHILD, backend_name], capture_output=True, text=True, check=False
    )
    if done.returncode:
        raise SystemExit(f"update_index --backend {backend_name} failed:\n{done.stderr}")
    seconds, cpu_seconds = json.loads(done.stdout.strip().splitlines()[-1])
    return seconds, cpu_seconds


def as_default(backend_name):
    from django.conf import settings
    from django.test import override_settings

    return override_settings(
        WAGTAILSEARCH_BACKENDS={"default": settings.WAGTAILSEARCH_BACKENDS[backend_name]}
    )


def make_request(user):
    from django.contrib.sessions.backends.db import SessionStore
    from django.test import RequestFactory

    request = RequestFactory().get("/search/")
    request.user = user
    request.session = SessionStore()
    return request


def time_search(request, queries):
    from search import results

    timings = []
    for query in queries:
        started = time.perf_counter()
        outcome = results.search_all(request, query)
        results.describe_all(outcome.hits[:20], request, outcome.terms)
        timings.append((time.perf_counter() - started) * 1000)
    return timings


def time_search_cold(request, queries):
    """Like ``time_search``, but every query starts with empty caches (postings in ``search.backend.fastscore``,
    snippet texts in ``search.results``): what a word costs the first time a worker sees it."""
    from search import results
    from search.backend import fastscore

    timings = []
    for query in queries:
        with fastscore._postings_lock:
            fastscore._postings_cache.clear()
            fastscore._postings_bytes = 0
        results.page_texts.clear()
        timings.extend(time_search(request, [query]))
    return timings


def time_suggest(request, prefixes):
    from search.views import suggestions_for

    timings = []
    for prefix in prefixes:
        started = time.perf_counter()
        suggestions_for(request, prefix)
        timings.append((time.perf_counter() - started) * 1000)
    return timings


def recall_at_5(request, labelled_queries):
    from search import results

    found = 0
    for query, pk in labelled_queries:
        outcome = results.search_all(request, query)
        if any(hit.pk == pk for hit in outcome.hits[:5]):
            found += 1
    return found / len(labelled_queries) if labelled_queries else float("nan")


def document_frequencies(labelled, corpus_texts):
    from zhtext import query_words

    df = Counter()
    for text in corpus_texts:
        df.update(set(query_words(text)))
    return df


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument(
        "--queries", type=int, default=200, help="labelled queries and timed queries per kind"
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--pg", action="store_true", help="run on a throwaway PostgreSQL cluster, with search.backend_pg too"
    )
    args = parser.parse_args()
    if args.pg:
        from bench.serving import postgres

        with postgres(database="bench_search") as url:
            os.environ["DATABASE_URL"] = url
            run(args)
    else:
        run(args)


def run(args):
    var_dir = Path(tempfile.mkdtemp(prefix="callbook-bench-search-"))
    settings_dir = var_dir / "settings"
    settings_dir.mkdir()
    (settings_dir / "bench_search_settings.py").write_text(SETTINGS.format(var_dir=str(var_dir)))
    sys.path.insert(0, str(settings_dir))
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench_search_settings"
    os.environ["PYTHONPATH"] = os.pathsep.join(
        [str(settings_dir), str(BASE_DIR)]
    )  # for build_index's process

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    print(f"Working directory: {var_dir}")
    call_command("migrate", verbosity=0)
    rng = random.Random(args.seed)
    vocabulary = seed_vocabulary()
    print(f"Seed vocabulary: {len(vocabulary)} words")
    corpus = Corpus(vocabulary, rng)
    sections, user = setup_site(rng, corpus)
    request = make_request(user)
    labelled = []
    rows = []

    for size in sorted(args.sizes):
        missing = size - len(labelled)
        started = time.perf_counter()
        create_articles(corpus, sections, missing, labelled)
        print(f"\n== {size} articles (created {missing} in {time.perf_counter() - started:.0f} s) ==")

        from kb_site.content.models import ArticlePage

        texts = list(ArticlePage.objects.values_list("title", "summary"))
        df = document_frequencies(labelled, [f"{t} {s}" for t, s in texts])
        ranked = [w for w, n in df.most_common() if len(w) >= 2]
        common = ranked[:20]
        rare = [w for w, n in df.items() if 1 <= n <= 3 and len(w) >= 2][:40]
        sample = rng.sample(labelled, min(args.queries, len(labelled)))
        labelled_queries = []
        for i, (pk, _title, parts) in enumerate(sample):
            words = rng.sample(parts, 3 if i % 3 else 2)
            joined = " ".join(words) if i % 2 else "".join(words)
            labelled_queries.append((joined, pk))
        prefixes = []
        for _pk, title, parts in sample[:100]:
            from zhtext import full_pinyin, initials

            prefixes += [title[:2], full_pinyin(parts[0])[:5], initials(title)[:3]]
        timed_common = (common * 10)[: args.queries]
        timed_rare = (rare * 10)[: args.queries]

        backend_names = (
            ("default", "database", "pg") if connection.vendor == "postgresql" else ("default", "database")
        )
        for backend_name in backend_names:
            label = BACKEND_LABELS[backend_name]
            if backend_name == "database" and connection.vendor == "postgresql":
                label = "database (PostgreSQL FTS)"
            seconds, cpu_seconds = build_index(backend_name)
            if backend_name == "default":
                from django.conf import settings

                size_bytes = live_index_size(settings.WAGTAILSEARCH_BACKENDS["default"]["PATH"])
            else:
                size_bytes = sqlite_index_size()
            with as_default(backend_name):
                time_search(request, common[:5])  # warm caches
                search_cold = time_search_cold(request, common) if backend_name == "default" else []
                search_common = time_search(request, timed_common)
                search_rare = time_search(request, timed_rare)
                suggest = time_suggest(request, prefixes)
                recall = recall_at_5(request, labelled_queries)
            row = {
                "size": size,
                "backend": label,
                "build_s": seconds,
                "build_cpu_s": cpu_seconds,
                "articles_per_s": size / seconds,
                "index_mb": (size_bytes or 0) / 1e6 if size_bytes is not None else None,
                "common_p50": percentile(search_common, 50),
                "common_p95": percentile(search_common, 95),
                "cold_p50": percentile(search_cold, 50),
                "cold_p95": percentile(search_cold, 95),
                "rare_p50": percentile(search_rare, 50),
                "rare_p95": percentile(search_rare, 95),
                "suggest_p50": percentile(suggest, 50),
                "suggest_p95": percentile(suggest, 95),
                "recall5": recall,
            }
            rows.append(row)
            print(
                f"{label:24} build {seconds:6.1f} s (CPU {cpu_seconds:6.1f} s, {size / seconds:5.0f} articles/s)  "
                f"index {row['index_mb'] or 0:7.1f} MB  "
                f"search common p50/p95 {row['common_p50']:6.1f}/{row['common_p95']:6.1f} ms  "
                f"common, first time {row['cold_p50']:6.1f}/{row['cold_p95']:6.1f} ms  "
                f"rare {row['rare_p50']:6.1f}/{row['rare_p95']:6.1f} ms  "
                f"suggest {row['suggest_p50']:5.1f}/{row['suggest_p95']:5.1f} ms  recall@5 {recall:.3f}"
            )
        connection.close()

    # Against the database backend of the same size (SQLite FTS5, or PostgreSQL's full-text search):
    # index size and build time as multiples.
    fts5 = {r["size"]: r for r in rows if r["backend"].startswith("database")}
    for r in rows:
        other = fts5.get(r["size"])
        r["vs_fts5"] = (
            f"{(r['index_mb'] or 0) / other['index_mb']:.2f}× / {r['build_s'] / other['build_s']:.2f}×"
            if other and other["index_mb"] and r is not other
            else "–"
        )
    print(
        "\n| articles | backend | build (s) | build CPU (s) | articles/s | index (MB) | vs database size / build "
        "| search common p50/p95 (ms) | common, first time p50/p95 (ms) | search rare p50/p95 (ms) "
        "| suggest p50/p95 (ms) | recall@5 |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['size']} | {r['backend']} | {r['build_s']:.1f} | {r['build_cpu_s']:.1f} | "
            f"{r['articles_per_s']:.0f} | {r['index_mb'] or 0:.1f} | {r['vs_fts5']} | "
            f"{r['common_p50']:.1f} / {r['common_p95']:.1f} | {r['cold_p50']:.1f} / {r['cold_p95']:.1f} | "
            f"{r['rare_p50']:.1f} / {r['rare_p95']:.1f} | "
            f"{r['suggest_p50']:.1f} / {r['suggest_p95']:.1f} | {r['recall5']:.3f} |"
        )
    print(f"\nStatistics printed above; data left in {var_dir} (delete it when done).")


if __name__ == "__main__":
    main()
