"""Benchmark: how long an admin document upload takes, for ordinary files and for the hostile files of
the Hardening issue, and what the task worker then spends on them (not a test).

On a fresh SQLite database in a temporary directory, with the database task backend as in production:
each file is posted to ``/admin/documents/add/`` through Django's test client (as a superuser, in this
process), timing the response and reading this process's peak memory; then the task worker
(``manage.py db_worker --batch``) runs in a process of its own, timed, reporting its own peak memory
(the extraction child's is not in it) and each document's final state.

    .venv/bin/python bench/document_upload.py

Runs against older trees too (extraction inside the request): the state columns then show "-".
"""

import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))

SETTINGS = """
from kb_site.settings.dev import *  # noqa

DEBUG = False
ALLOWED_HOSTS = ["testserver"]
VAR_DIR = Path({var_dir!r})
MEDIA_ROOT = VAR_DIR / "media"
DATABASES["default"]["NAME"] = VAR_DIR / "bench.sqlite3"
WAGTAILSEARCH_BACKENDS["default"]["PATH"] = VAR_DIR / "search-index"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
TASKS = {{"default": {{"BACKEND": "django_tasks_db.DatabaseBackend"}}}}
LOGGING = {{"version": 1, "disable_existing_loggers": False,
           "handlers": {{"console": {{"class": "logging.StreamHandler"}}}},
           "root": {{"handlers": ["console"], "level": "CRITICAL"}}}}
"""

WORKER = """
import time, django
django.setup()
from django.core.management import call_command
from bench.document_upload import peak_mb
started = time.perf_counter()
call_command("db_worker", "--batch", "--no-reload", "--no-startup-delay", verbosity=0)
print(f"{time.perf_counter() - started:.1f} {peak_mb()}")
"""

# Built in a process of their own, so that building a bomb does not count in this process's peak memory.
MAKE_FILES = """
import sys
from pathlib import Path
from tests.search.test_extraction import make_docx, make_docx_bomb, make_pdf, make_pdf_bomb
out = Path(sys.argv[1])
(out / "rules.docx").write_bytes(make_docx(*["客户投诉受理规范，先安抚情绪再记录。"] * 200))
(out / "matrix.pdf").write_bytes(make_pdf(*[f"Escalation matrix page {n}" for n in range(20)]))
(out / "bomb1.pdf").write_bytes(make_pdf_bomb(10, pages=1))
(out / "bomb3.pdf").write_bytes(make_pdf_bomb(10, pages=3))
(out / "bomb.docx").write_bytes(make_docx_bomb(2_000_000))
"""

FILES = [
    ("ordinary DOCX", "rules.docx"),
    ("ordinary PDF, 20 pages", "matrix.pdf"),
    ("PDF, 10 MB stream", "bomb1.pdf"),
    ("PDF, 10 MB stream x3 pages", "bomb3.pdf"),
    ("DOCX, 2M paragraphs", "bomb.docx"),
]


def peak_mb():
    """This process's peak resident memory in MB (VmHWM: unlike ru_maxrss, not inherited over fork/exec)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) // 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024


def main():
    var_dir = Path(tempfile.mkdtemp(prefix="callbook-bench-docs-"))
    (var_dir / "bench_settings.py").write_text(SETTINGS.format(var_dir=str(var_dir)))
    env = {**os.environ, "PYTHONPATH": f"{var_dir}:{BASE_DIR}", "DJANGO_SETTINGS_MODULE": "bench_settings"}
    os.environ.update(env)
    sys.path.insert(0, str(var_dir))
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=BASE_DIR, env=env, check=True
    )
    subprocess.run([sys.executable, "-c", MAKE_FILES, str(var_dir)], cwd=BASE_DIR, env=env, check=True)

    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.files.base import ContentFile
    from django.test import Client
    from wagtail.documents import get_document_model
    from wagtail.models import Collection

    user = get_user_model().objects.create_superuser("bench", "bench@example.com", "bench-password-123")
    client = Client()
    client.force_login(user)
    collection = Collection.get_first_root_node().id
    client.get("/admin/documents/")  # warm up
    rows = [["(before the first upload)", "", "", "", peak_mb()]]
    for label, name in FILES:
        data = (var_dir / name).read_bytes()
        started = time.perf_counter()
        response = client.post(
            "/admin/documents/add/",
            {"title": label, "file": ContentFile(data, name=name), "collection": collection},
        )
        took = time.perf_counter() - started
        rows.append([label, f"{len(data) / 1024:.0f} KB", response.status_code, f"{took:.2f}", peak_mb()])

    worker = subprocess.run(
        [sys.executable, "-c", WORKER], cwd=BASE_DIR, env=env, check=True, capture_output=True, text=True
    )
    worker_seconds, worker_mb = worker.stdout.split()[-2:]
    Document = get_document_model()
    fields = {field.name for field in Document._meta.fields}
    print("| file | size | upload status | upload (s) | web process peak (MB) | state after the worker |")
    print("| --- | --- | --- | --- | --- | --- |")
    for row in rows:
        document = Document.objects.filter(title=row[0]).first()
        state = document.extraction_summary if document and "extraction_status" in fields else "-"
        print("| " + " | ".join(str(cell) for cell in row) + f" | {state} |")
    print(f"\nWorker (db_worker --batch, all queued tasks): {worker_seconds} s, its own peak {worker_mb} MB")


if __name__ == "__main__":
    main()
