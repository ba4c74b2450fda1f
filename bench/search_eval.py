"""Evaluation: does search find the right page for what agents type? Whoosh vs Wagtail's database backend.

Not a test. Builds the demo in a temporary directory (its own settings module: migrate, ``load_demo``,
``update_index`` for each backend), then runs every labelled query of ``bench/search_eval_queries.yaml``
through the real search path (``search.results.search_all`` with a request for the demo agent) against

* the project's Whoosh backend (``search.backend``), and
* Wagtail's database backend (``wagtail.search.backends.database``: SQLite FTS5 here), on the same data,

and prints, per category, recall@5 (the share of queries with a labelled answer among the first five
hits) and MRR@10 (the mean of 1/rank of the first labelled answer, 0 when it is not in the first ten),
and for the noise set how many queries returned anything and the largest count. The labels come from
the content (see the query file's header), not from what search returns.

``--clicks`` also measures click feedback (Whoosh only): the colloquial queries are split in two halves
(seeded); for each query of the training half the demo agent opens the labelled result through
``GET /search/open/?q=&kind=&id=&pos=`` (the best-ranked labelled hit, at its position in the results,
without searching again; a query whose answers are not among its results is not clicked), then the
other half is scored again, and the rest for regressions. Skipped, with a message, while that URL does
not exist.

``--backend pg`` compares Whoosh with the PostgreSQL backend (``search.backend_pg``) instead: the demo is
built in a throwaway PostgreSQL 15 cluster (``bench.serving.postgres``: initdb as the ``postgres`` user on
a free port, removed at the end; or ``DATABASE_URL`` when set), and both backends search it.

    .venv/bin/python bench/search_eval.py [--backend database|pg] [--clicks] [--seed 13] [--json out.json] [--misses]

It measures the code it is run from, uncommitted changes included (the table says so). To measure a
commit alone, run it from a clean checkout with the same virtualenv, e.g.
``git worktree add --detach /tmp/eval-tree HEAD && .venv/bin/python /tmp/eval-tree/bench/search_eval.py``
(then ``git worktree remove /tmp/eval-tree``).
"""

import argparse
import json
import os
import random
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import yaml

BASE_DIR = Path(__file__).resolve().parent.parent
QUERY_FILE = BASE_DIR / "bench" / "search_eval_queries.yaml"
FIXTURES_DIR = BASE_DIR / "fixtures" / "demo"
PHRASING_PREFIX = "话术:"
DOCUMENT_PREFIX = "文档:"
TOP = 5
MRR_DEPTH = 10
BACKENDS = (("default", "Whoosh (search.backend)"), ("database", "database (SQLite FTS5)"))
PG_BACKENDS = (("default", "Whoosh (search.backend)"), ("pg", "PostgreSQL (search.backend_pg)"))

SETTINGS = """
from kb_site.settings.test import *  # noqa

VAR_DIR = Path({var_dir!r})
MEDIA_ROOT = VAR_DIR / "media"
if not os.environ.get("DATABASE_URL"):
    DATABASES["default"]["NAME"] = VAR_DIR / "eval.sqlite3"
ALLOWED_HOSTS = ["*"]
DEBUG = False
INSTALLED_APPS = [app for app in INSTALLED_APPS if app != "modelsearch.test.testapp"]
WAGTAILSEARCH_BACKENDS = {{
    "default": {{"BACKEND": "search.backend", "PATH": VAR_DIR / "whoosh", "AUTO_UPDATE": False, "FSYNC": False}},
    "database": {{"BACKEND": "wagtail.search.backends.database", "AUTO_UPDATE": False}},
}}
if os.environ.get("DATABASE_URL"):  # the PostgreSQL backend and Wagtail's would share one table
    WAGTAILSEARCH_BACKENDS["pg"] = {{"BACKEND": "search.backend_pg", "AUTO_UPDATE": False}}
    del WAGTAILSEARCH_BACKENDS["database"]
LOGGING = {{"version": 1, "disable_existing_loggers": False,
           "handlers": {{"console": {{"class": "logging.StreamHandler"}}}},
           "root": {{"handlers": ["console"], "level": "ERROR"}}}}
"""


# --- the query file (plain Python: tests/search/test_search_eval_queries.py uses these too) -----------


def load_queries(path=QUERY_FILE):
    """``(categories, queries)``: categories as ``{name: {"label", "min"}}``, queries as dicts with
    ``q``, ``cat`` and ``answers`` (a list, empty for the noise set), in file order."""
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    categories = data["categories"]
    queries = [
        {"q": str(item["q"]), "cat": item["cat"], "answers": [str(a) for a in item.get("answers") or []]}
        for item in data["queries"]
    ]
    return categories, queries


def fixture_labels(fixtures_dir=FIXTURES_DIR):
    """Every name a label may use, read from the demo fixtures: ``section/page`` for each article (and
    its children) and procedure, ``话术:title`` for each phrasing."""
    fixtures_dir = Path(fixtures_dir)
    labels = set()

    def pages(section, items, prefix):
        for item in items or []:
            path = f"{prefix}/{item['slug']}"
            labels.add(path)
            pages(section, item.get("children"), path)

    for path in sorted((fixtures_dir / "sections").glob("*.yaml")):
        section = yaml.safe_load(path.read_text(encoding="utf-8"))
        pages(section["slug"], section.get("articles"), section["slug"])
        for phrasing in section.get("phrasings") or []:
            labels.add(PHRASING_PREFIX + phrasing["title"])
    for path in sorted((fixtures_dir / "procedures").glob("*.yaml")):
        procedure = yaml.safe_load(path.read_text(encoding="utf-8"))
        labels.add(f"{procedure['section']}/{procedure['slug']}")
    return labels


def check_queries(categories, queries, labels, minimum_total=150):
    """What is wrong with a query file, as a list of sentences (empty when it is well-formed)."""
    problems = []
    if len(queries) < minimum_total:
        problems.append(f"{len(queries)} queries, fewer than {minimum_total}")
    counts = Counter(query["cat"] for query in queries)
    for name, spec in categories.items():
        if counts[name] < spec["min"]:
            problems.append(f"category {name}: {counts[name]} queries, fewer than {spec['min']}")
    seen = set()
    for query in queries:
        text, cat, answers = query["q"], query["cat"], query["answers"]
        if not text.strip():
            problems.append("an empty query")
        if (text, cat) in seen:
            problems.append(f"{text!r} twice in {cat}")
        seen.add((text, cat))
        if cat not in categories:
            problems.append(f"{text!r}: unknown category {cat!r}")
        if cat == "noise" and answers:
            problems.append(f"{text!r}: a noise query has answers")
        if cat != "noise" and not answers:
            problems.append(f"{text!r}: no answers")
        for answer in answers:
            if answer not in labels:
                problems.append(f"{text!r}: {answer!r} names nothing in the demo fixtures")
    return problems


# --- measuring ----------------------------------------------------------------------------------------


def setup_django(var_dir):
    settings_dir = var_dir / "settings"
    settings_dir.mkdir()
    (settings_dir / "search_eval_settings.py").write_text(SETTINGS.format(var_dir=str(var_dir)))
    sys.path.insert(0, str(settings_dir))
    sys.path.insert(0, str(BASE_DIR))
    os.environ["DJANGO_SETTINGS_MODULE"] = "search_eval_settings"
    import django

    django.setup()


def build_demo():
    """Migrate, load the demo (with its accounts: the searches are the demo agent's), index it twice."""
    from django.core.management import call_command

    timings = {}
    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    call_command("load_demo", "--demo-users", verbosity=0)
    timings["demo"] = time.perf_counter() - started
    for backend_name, _label in BACKENDS:
        started = time.perf_counter()
        call_command("update_index", backend_name=backend_name, verbosity=0)
        timings[backend_name] = time.perf_counter() - started
    return timings


class Labeller:
    """The label of a hit, as the query file names it: ``section/page`` or ``话术:title``."""

    def __init__(self):
        from wagtail.models import Page

        from kb_site.content.models import CallbookDocument, Phrasing

        self.pages = {}
        for pk, url_path in Page.objects.values_list("id", "url_path"):
            parts = [part for part in url_path.split("/") if part]
            self.pages[pk] = "/".join(parts[1:])  # without the site's root page
        self.phrasings = {pk: PHRASING_PREFIX + t for pk, t in Phrasing.objects.values_list("id", "title")}
        self.documents = {
            pk: DOCUMENT_PREFIX + t for pk, t in CallbookDocument.objects.values_list("id", "title")
        }
        self.by_label = {label: ("page", pk) for pk, label in self.pages.items()}
        self.by_label.update({label: ("phrasing", pk) for pk, label in self.phrasings.items()})

    def label(self, hit):
        if hit.kind == "phrasing":
            return self.phrasings.get(hit.pk, f"phrasing #{hit.pk}")
        if hit.kind == "document":
            return self.documents.get(hit.pk, f"document #{hit.pk}")
        if hit.pk in self.pages:
            return self.pages[hit.pk]
        return f"{hit.kind}:{hit.title}"


def agent_request(username="agent"):
    from django.contrib.auth import get_user_model
    from django.contrib.sessions.backends.db import SessionStore
    from django.test import RequestFactory

    request = RequestFactory().get("/search/")
    request.user = get_user_model().objects.get(username=username)
    request.session = SessionStore()
    return request


def as_default(backend_name):
    from django.conf import settings
    from django.test import override_settings

    return override_settings(
        WAGTAILSEARCH_BACKENDS={"default": settings.WAGTAILSEARCH_BACKENDS[backend_name]}
    )


def run_query(request, query, labeller):
    """What one query returns: the labels of its hits in order, the total, the rank of the first labelled
    answer (None if absent) and the hit that is, for a click."""
    from search import results

    outcome = results.search_all(request, query["q"])
    labels = [labeller.label(hit) for hit in outcome.hits]
    rank, first = None, None
    answers = set(query["answers"])
    for position, (label, hit) in enumerate(zip(labels, outcome.hits, strict=True), start=1):
        if label in answers:
            rank, first = position, hit
            break
    return {
        "q": query["q"],
        "cat": query["cat"],
        "total": outcome.total,
        "rank": rank,
        "top": labels[:TOP],
        "failed": outcome.failed,
        "click": None
        if first is None
        else {"kind": first.kind, "id": first.pk, "pos": rank, "label": labels[rank - 1]},
    }


def run_all(request, queries, labeller):
    return [run_query(request, query, labeller) for query in queries]


def score(rows):
    """recall@5, MRR@10 and counts over ``rows`` (labelled queries)."""
    n = len(rows)
    found = sum(1 for r in rows if r["rank"] is not None and r["rank"] <= TOP)
    rr = sum(1.0 / r["rank"] for r in rows if r["rank"] is not None and r["rank"] <= MRR_DEPTH)
    return {
        "queries": n,
        "found_at_5": found,
        "recall_at_5": found / n if n else float("nan"),
        "mrr_at_10": rr / n if n else float("nan"),
        "no_results": sum(1 for r in rows if r["total"] == 0),
        "failed": sum(1 for r in rows if r["failed"]),
    }


def noise_score(rows):
    returned = [r for r in rows if r["total"] > 0]
    return {
        "queries": len(rows),
        "returned_results": len(returned),
        "largest": max((r["total"] for r in rows), default=0),
        "failed": sum(1 for r in rows if r["failed"]),
    }


def summarise(categories, rows):
    summary = {}
    for name in categories:
        subset = [r for r in rows if r["cat"] == name]
        summary[name] = noise_score(subset) if name == "noise" else score(subset)
    summary["all"] = score([r for r in rows if r["cat"] != "noise"])
    return summary


# --- click feedback -----------------------------------------------------------------------------------


def split_colloquial(queries, seed):
    """The colloquial queries in two halves, seeded: (train, held out)."""
    colloquial = [q for q in queries if q["cat"] == "colloquial"]
    order = list(range(len(colloquial)))
    random.Random(seed).shuffle(order)
    half = len(order) // 2
    return [colloquial[i] for i in sorted(order[:half])], [colloquial[i] for i in sorted(order[half:])]


def replay_clicks(train_rows, username="agent"):
    """Open the labelled result of each training query through ``/search/open/`` as the demo agent.

    Returns ``(outcome, counts)``: outcome is None when clicks were recorded, else why they were not.
    A query whose labelled answer is not among its results is not clicked (the agent found nothing to open).
    """
    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.urls import Resolver404, resolve

    try:
        resolve("/search/open/")
    except Resolver404:
        return "/search/open/ does not exist yet (the clicks part of issue 13): click evaluation skipped", {}
    client = Client()
    client.force_login(get_user_model().objects.get(username=username))
    statuses = Counter()
    clicked = 0
    for row in train_rows:
        click = row["click"]
        if click is None:
            statuses["not listed"] += 1
            continue
        params = {"q": row["q"], "kind": click["kind"], "id": click["id"], "pos": click["pos"]}
        response = client.get("/search/open/", params)
        statuses[response.status_code] += 1
        clicked += response.status_code in (301, 302, 303)
    attempted = sum(n for key, n in statuses.items() if key != "not listed")
    if attempted and statuses[404] == attempted:
        return (
            f"/search/open/ answered 404 for every one of {attempted} clicks: click evaluation skipped",
            statuses,
        )
    if not clicked:
        return f"no click was recorded ({dict(statuses)}): click evaluation skipped", statuses
    return None, statuses


def click_evaluation(request, queries, labeller, baseline_rows, seed):
    train, held_out = split_colloquial(queries, seed)
    by_query = {(r["q"], r["cat"]): r for r in baseline_rows}
    train_rows = [by_query[(q["q"], q["cat"])] for q in train]
    held_rows = [by_query[(q["q"], q["cat"])] for q in held_out]
    from search.models import LearnedLink, SearchClick

    last_click = SearchClick.objects.order_by("-id").values_list("id", flat=True).first() or 0
    links_before = LearnedLink.objects.count()  # the demo's own, if it has any
    skipped, statuses = replay_clicks(train_rows)
    clicked = {row["click"]["label"] for row in train_rows if row["click"] is not None}
    result = {
        # held-out queries one of whose answers was opened for a training query (what clicks could teach)
        "held_out_with_clicked_answer": sum(1 for q in held_out if clicked & set(q["answers"])),
        "seed": seed,
        "train": len(train),
        "held_out": len(held_out),
        "clicks": {str(k): v for k, v in statuses.items()},
        "before": score(held_rows),
        "train_before": score(train_rows),
    }
    if skipped:
        result["skipped"] = skipped
        return result
    new_clicks = SearchClick.objects.filter(id__gt=last_click)
    result["recorded_clicks"] = new_clicks.count()
    result["returned_clicks"] = new_clicks.exclude(returned_at=None).count()
    result["demo_links"] = links_before
    result["learned_links"] = LearnedLink.objects.count() - links_before
    after = run_all(request, held_out, labeller)
    result["after"] = score(after)
    result["train_after"] = score(run_all(request, train, labeller))
    others = [q for q in queries if q["cat"] != "colloquial"]
    other_rows = run_all(request, others, labeller)
    result["noise_after"] = noise_score([r for r in other_rows if r["cat"] == "noise"])
    result["others_after"] = score([r for r in other_rows if r["cat"] != "noise"])
    result["others_before"] = score([r for r in baseline_rows if r["cat"] not in ("colloquial", "noise")])
    result["held_out_rows"] = after
    return result


# --- output -------------------------------------------------------------------------------------------


def fmt_recall(s):
    return f"{s['found_at_5']}/{s['queries']} ({s['recall_at_5']:.2f})"


def markdown_table(categories, summaries):
    names = [label for _name, label in BACKENDS]
    lines = [
        "| category | queries | " + " | ".join(f"{n} recall@5 | {n} MRR@10" for n in names) + " |",
        "|---|---:|" + "---:|---:|" * len(names),
    ]
    for name, spec in categories.items():
        if name == "noise":
            continue
        cells = []
        for backend_name, _label in BACKENDS:
            s = summaries[backend_name][name]
            cells += [fmt_recall(s), f"{s['mrr_at_10']:.2f}"]
        lines.append(
            f"| {spec['label']} ({name}) | {summaries['default'][name]['queries']} | "
            + " | ".join(cells)
            + " |"
        )
    cells = []
    for backend_name, _label in BACKENDS:
        s = summaries[backend_name]["all"]
        cells += [fmt_recall(s), f"{s['mrr_at_10']:.2f}"]
    lines.append(
        f"| **all labelled** | {summaries['default']['all']['queries']} | " + " | ".join(cells) + " |"
    )
    lines.append("")
    lines.append("| noise set (must return nothing) | queries | " + " | ".join(names) + " |")
    lines.append("|---|---:|" + "---|" * len(names))
    noise = [summaries[b]["noise"] for b, _ in BACKENDS]
    lines.append(
        f"| {categories['noise']['label']} | {noise[0]['queries']} | "
        + " | ".join(f"{s['returned_results']} returned results, largest {s['largest']}" for s in noise)
        + " |"
    )
    return "\n".join(lines)


def click_table(result):
    if result.get("skipped"):
        return f"Click feedback: {result['skipped']}."
    b, a = result["before"], result["after"]
    tb, ta = result["train_before"], result["train_after"]
    ob, oa = result["others_before"], result["others_after"]
    lines = [
        f"Click feedback (Whoosh; seed {result['seed']}): {result['train']} colloquial queries train, "
        f"{result['held_out']} held out ({result['held_out_with_clicked_answer']} of them have an answer that was "
        f"opened for a training query); clicks {result['clicks']}, {result['recorded_clicks']} recorded, "
        f"{result['returned_clicks']} of them marked returned, {result['learned_links']} new learned links "
        f"(the demo has {result['demo_links']} of its own).",
        "",
        "| queries | before recall@5 | before MRR@10 | after recall@5 | after MRR@10 |",
        "|---|---:|---:|---:|---:|",
        f"| held-out colloquial | {fmt_recall(b)} | {b['mrr_at_10']:.2f} | {fmt_recall(a)} | {a['mrr_at_10']:.2f} |",
        f"| training colloquial (clicked) | {fmt_recall(tb)} | {tb['mrr_at_10']:.2f} | {fmt_recall(ta)} | "
        f"{ta['mrr_at_10']:.2f} |",
        f"| other labelled categories | {fmt_recall(ob)} | {ob['mrr_at_10']:.2f} | {fmt_recall(oa)} | "
        f"{oa['mrr_at_10']:.2f} |",
        f"| noise set after clicks | | | {result['noise_after']['returned_results']} returned results, "
        f"largest {result['noise_after']['largest']} | |",
    ]
    return "\n".join(lines)


def print_misses(label, rows):
    print(f"\nMisses ({label}): query → first five hits")
    for r in rows:
        if r["cat"] == "noise":
            if r["total"]:
                print(f"  [noise] {r['q']} → {r['total']} results: {', '.join(r['top'])}")
        elif r["rank"] is None or r["rank"] > TOP:
            where = f"rank {r['rank']}" if r["rank"] else "absent"
            print(f"  [{r['cat']}] {r['q']} ({where}, {r['total']} results) → {', '.join(r['top']) or '—'}")


def provenance():
    """When and on what the figures were measured: UTC time, commit, and whether the tree had changes."""
    import datetime
    import subprocess

    def git(*args):
        try:
            return subprocess.run(["git", *args], cwd=BASE_DIR, capture_output=True, text=True).stdout.strip()
        except OSError:
            return ""

    commit = git("rev-parse", "--short", "HEAD") or "unknown commit"
    dirty = bool(git("status", "--porcelain", "--untracked-files=no"))
    when = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"{when}, {commit}" + (" with uncommitted changes" if dirty else "")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--queries", default=str(QUERY_FILE), help="the labelled query file")
    parser.add_argument("--clicks", action="store_true", help="also measure click feedback (Whoosh)")
    parser.add_argument("--seed", type=int, default=13, help="seed of the click evaluation's split")
    parser.add_argument("--json", metavar="FILE", help="save the figures (and every query's outcome) as JSON")
    parser.add_argument("--misses", action="store_true", help="list the queries each backend misses")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    parser.add_argument(
        "--backend",
        choices=("database", "pg"),
        default="database",
        help="the backend compared with Whoosh: Wagtail's database backend on SQLite, or search.backend_pg "
        "on a throwaway PostgreSQL cluster",
    )
    args = parser.parse_args()
    if args.backend == "pg":
        global BACKENDS
        BACKENDS = PG_BACKENDS
        sys.path.insert(0, str(BASE_DIR))
        from bench.serving import postgres

        with postgres(database="search_eval") as url:
            os.environ["DATABASE_URL"] = url
            evaluate(args)
        return
    evaluate(args)


def evaluate(args):

    categories, queries = load_queries(args.queries)
    problems = check_queries(categories, queries, fixture_labels())
    if problems:
        sys.exit("The query file is not well-formed:\n  " + "\n  ".join(problems))

    started = time.perf_counter()
    measured_on = provenance()
    var_dir = Path(tempfile.mkdtemp(prefix="callbook-search-eval-"))
    setup_django(var_dir)
    timings = build_demo()
    other, other_label = BACKENDS[1]
    print(
        f"Demo built in {var_dir} in {timings['demo']:.0f} s; indexed in {timings['default']:.1f} s (Whoosh), "
        f"{timings[other]:.1f} s ({other_label})."
    )
    labeller = Labeller()
    unknown = sorted({a for q in queries for a in q["answers"]} - set(labeller.by_label))
    if unknown:
        print(f"Warning: labels the built demo does not have: {', '.join(unknown)}")
    request = agent_request()

    rows, summaries = {}, {}
    for backend_name, label in BACKENDS:
        with as_default(backend_name):
            rows[backend_name] = run_all(request, queries, labeller)
        summaries[backend_name] = summarise(categories, rows[backend_name])
        if args.misses:
            print_misses(label, rows[backend_name])

    click_result = None
    if args.clicks:
        with as_default("default"):
            click_result = click_evaluation(request, queries, labeller, rows["default"], args.seed)

    elapsed = time.perf_counter() - started
    print(
        f"\n{len(queries)} queries from {Path(args.queries).name}, measured {measured_on}; "
        f"recall@{TOP} and MRR@{MRR_DEPTH} per category.\n"
    )
    print(markdown_table(categories, summaries))
    if click_result is not None:
        print()
        print(click_table(click_result))
    print(f"\nTook {elapsed:.0f} s in all.")

    if args.json:
        out = {
            "queries": len(queries),
            "measured": measured_on,
            "timings_s": {**timings, "total": elapsed},
            "metrics": {"recall": f"recall@{TOP}", "mrr": f"MRR@{MRR_DEPTH}"},
            "summaries": {label: summaries[name] for name, label in BACKENDS},
            "rows": {label: rows[name] for name, label in BACKENDS},
            "clicks": click_result,
        }
        Path(args.json).write_text(
            json.dumps(out, ensure_ascii=False, indent=1, default=str), encoding="utf-8"
        )
        print(f"Figures saved to {args.json}.")
    if not args.keep:
        import shutil

        shutil.rmtree(var_dir, ignore_errors=True)
    else:
        print(f"Data left in {var_dir}.")


if __name__ == "__main__":
    main()
