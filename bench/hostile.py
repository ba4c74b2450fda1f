"""Hostile input against the demo site under gunicorn: every URL pattern, every role, no 5xx (not a test).

Builds the demo in a temporary ``CALLBOOK_VAR_DIR`` (migrate, ``load_demo --demo-users``,
``update_index``, plus a few rows the demo lacks: runs of several users, a document, an image, a
workflow in progress, a redirect, a promoted query, a private page), serves it with gunicorn on
127.0.0.1 (``DEBUG = False``), logs in as every demo user (passwords from ``manage.py demo_logins``)
and fires, as each of them and as an anonymous visitor:

* every URL pattern of the URLconf (front end and Wagtail admin), its ids filled with existing ids:
  the permission matrix, each cell checked against the roles the README describes (who may see the
  admin, the run records, another agent's run, user management...);
* every pattern again with each id replaced by a nonexistent, huge (10**30), negative, non-numeric,
  NUL, U+FFFE, traversal or SQL value, and runs of other users' uuids;
* the listings, reports and search pages with hostile query strings (control characters, U+FFFE,
  NUL, invalid UTF-8, long values, SQL/HTML/JS payloads, format strings, 1e1000000, malformed
  pagination and filters), and every report exported with ``?export=csv`` and ``?export=xlsx``;
* POSTs to every pattern without a CSRF token, and with the token but missing or tampered fields
  (every field of the form the page shows set to each hostile value); the start and step forms of
  runs tampered field by field; double submits; login attempts with hostile fields and ``next``;
* traversal in document and static URLs;
* last, destructive admin POSTs on existing rows (deleting a procedure with runs, a user with runs,
  a role, a phrasing used by procedures).

Counts requests by status class and prints every 5xx with its URL and the exception the server
logged, every permission violation, every payload reflected unescaped in HTML, every traversal that
returned a file and every redirect off the site. Exit status 1 if there is any of those (Wagtail's
deliberate error page ``/admin/failwhale/`` is listed apart and does not count).

    .venv/bin/python bench/hostile.py [--concurrency 6] [--workers 3] [--keep]

It only ever talks to the gunicorn it starts itself.
"""

import argparse
import http.client
import importlib.util
import json
import os
import re
import shutil
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import quote, unquote, urlencode, urlsplit

import requests

BASE_DIR = Path(__file__).resolve().parent.parent


def _bench_procedures():
    """bench/procedures.py by path: its name would shadow the ``procedures`` app on sys.path."""
    spec = importlib.util.spec_from_file_location("bench_procedures", BASE_DIR / "bench" / "procedures.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_bench = _bench_procedures()
free_port, manage, PYTHON, gunicorn = _bench.free_port, _bench.manage, _bench.PYTHON, _bench.gunicorn
CSRF, HIDDEN, ANSWER, CHECK, FIELD = _bench.CSRF, _bench.HIDDEN, _bench.ANSWER, _bench.CHECK, _bench.FIELD

SETTINGS = """
from kb_site.settings.dev import *  # noqa

DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1"]
WHITENOISE_USE_FINDERS = True
STATIC_ROOT = VAR_DIR / "static"
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
LOGGING = {{
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {{"plain": {{"format": "@@ %(asctime)s %(levelname)s %(name)s %(message)s"}}}},
    "handlers": {{"errors": {{"class": "logging.FileHandler", "filename": {log!r}, "formatter": "plain",
                             "level": "ERROR"}}}},
    "root": {{"handlers": ["errors"], "level": "ERROR"}},
}}
"""

# Run in ``manage.py shell``: the rows the demo lacks, then everything the sweep needs to know, as JSON.
SETUP_DATA = r"""
import io, json, re
from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.files.base import ContentFile
from django.core.files.images import ImageFile
from django.urls import URLResolver, get_resolver
from django.urls.resolvers import RegexPattern
from wagtail.contrib.redirects.models import Redirect
from wagtail.contrib.search_promotions.models import Query
from wagtail.documents import get_document_model
from wagtail.images import get_image_model
from wagtail.models import (Collection, Page, PageViewRestriction, Revision, Site, Task, TaskState,
                            Workflow, WorkflowState)
from procedures.models import ProcedurePage, ProcedureRun
from procedures.runs import apply_move, start_run

User = get_user_model()
users = {u.username: u for u in User.objects.all()}
procedures = list(ProcedurePage.objects.live().order_by("pk"))

runs = {}
for username in ("agent", "newhire", "supervisor", "trainer"):
    mine = runs.setdefault(username, [])
    for index, page in enumerate(procedures[:2]):
        run = start_run(page, users[username], practice=username == "newhire", ref=f"HOSTILE-{index}")
        if index == 1:
            run.refresh_from_db()
            apply_move(run.pk, users[username], step=run.current_step, seq=run.next_seq, action="escalate")
        mine.append(str(run.pk))

Document = get_document_model()
document = Document(title="hostile 测试文档", collection=Collection.get_first_root_node())
document.file.save("hostile-test.txt", ContentFile(b"hostile test document\n"), save=False)
document.save()

from PIL import Image as PILImage
buffer = io.BytesIO()
PILImage.new("RGB", (8, 8), (200, 30, 30)).save(buffer, "PNG")
image = get_image_model()(title="hostile 测试图片", collection=Collection.get_first_root_node())
image.file.save("hostile-test.png", ImageFile(buffer, name="hostile-test.png"), save=False)
image.save()

redirect = Redirect.objects.create(old_path="/hostile-old-path", redirect_link="/")
query = Query.get("退货")
query.add_hit()

articles = [p for p in Page.objects.live().specific() if type(p).__name__ == "ArticlePage"]
private = articles[-1]
restriction = PageViewRestriction.objects.create(
    page=private, restriction_type=PageViewRestriction.PASSWORD, password="hostile")
moderated = articles[0]
moderated.save_revision(user=users["trainer"])
workflow = moderated.get_workflow()
if workflow is not None:
    workflow.start(moderated, users["trainer"])


def segment(pattern):
    if not isinstance(pattern, RegexPattern):
        return str(pattern)
    rx = str(pattern._regex).lstrip("^").rstrip("$")
    out, i, n = [], 0, 0
    while i < len(rx):
        if rx[i] == "(":
            depth, j = 0, i
            while True:
                depth += {"(": 1, ")": -1}.get(rx[j], 0) if rx[j - 1] != "\\" or j == i else 0
                if depth == 0:
                    break
                j += 1
            body = rx[i + 1:j]
            named = re.match(r"\?P<(\w+)>(.*)", body, re.S)
            name, inner = (named.group(1), named.group(2)) if named else (f"_g{n}", body)
            n += 1
            if inner == r"\d+":
                kind = "int"
            elif "live|" in inner:
                kind = "rev"
            elif inner.startswith("(?:"):
                kind = "pagepath"
            elif inner == ".*":
                kind = "path"
            else:
                kind = "str"
            out.append(f"<{kind}:{name}>")
            i = j + 1
        elif rx.startswith(".*", i):
            out.append("<path:_any>")
            i += 2
        elif rx[i] == "\\":
            out.append(rx[i + 1])
            i += 2
        else:
            out.append(rx[i])
            i += 1
    return "".join(out)


def filter_names(view_class):
    filterset_class = getattr(view_class, "filterset_class", None)
    if filterset_class is None:
        return []
    try:
        form = filterset_class().form
    except Exception:
        return []
    names = []
    for name, field in form.fields.items():
        widget = field.widget
        subwidgets = getattr(widget, "widgets", None)
        if subwidgets:
            suffixes = getattr(widget, "widgets_names", None) or [f"_{i}" for i in range(len(subwidgets))]
            names += [name + suffix for suffix in suffixes]
        else:
            names.append(name)
    return names


def walk(patterns, prefix="", namespace=""):
    for p in patterns:
        if isinstance(p, URLResolver):
            yield from walk(p.url_patterns, prefix + segment(p.pattern),
                            namespace + (p.namespace + ":" if p.namespace else ""))
            continue
        view_class = getattr(p.callback, "view_class", None) or getattr(p.callback, "cls", None)
        model = (getattr(p.callback, "view_initkwargs", None) or {}).get("model")
        model = model or getattr(view_class, "model", None)
        yield {
            "template": prefix + segment(p.pattern),
            "name": namespace + (p.name or ""),
            "model": model._meta.label_lower if hasattr(model, "_meta") else "",
            "filters": filter_names(view_class) if view_class else [],
        }


def pks(label, limit=3):
    try:
        return [str(pk) for pk in apps.get_model(label).objects.order_by("pk").values_list("pk", flat=True)[:limit]]
    except Exception:
        return []


patterns = list(walk(get_resolver().url_patterns))
labels = {p["model"] for p in patterns if p["model"]}
page_revision = Revision.objects.filter(object_id=str(procedures[0].pk)).order_by("-pk").first()
phrasing_model = apps.get_model("content", "phrasing")
phrasing = phrasing_model.objects.order_by("pk").first()
phrasing_revision = Revision.objects.filter(
    base_content_type=phrasing.get_base_content_type(), object_id=str(phrasing.pk)).order_by("-pk").first()
sections = [p for p in Page.objects.live().specific() if type(p).__name__ == "SectionPage"]
data = {
    "patterns": patterns,
    "ids": {label: pks(label) for label in labels | {
        "wagtailcore.page", "wagtailcore.task", "wagtailcore.taskstate", "wagtailcore.workflow",
        "wagtailcore.workflowstate", "wagtailcore.collection", "auth.group", "auth.user"}},
    "users": {u.username: u.pk for u in users.values()},
    "groups": {g.name: g.pk for g in Group.objects.all()},
    "runs": runs,
    "procedures": [
        {"id": p.pk, "url": p.url, "variables": list(p.to_procedure().variables)} for p in procedures
    ],
    "articles": [{"id": p.pk, "url": p.url} for p in articles],
    "sections": [{"id": p.pk, "url": p.url} for p in sections],
    "private_page": {"id": private.pk, "url": private.url, "restriction": restriction.pk},
    "document": {"id": document.pk, "url": document.url, "filename": document.filename},
    "image": image.pk,
    "redirect": redirect.pk,
    "query": query.pk,
    "page_revision": page_revision.pk,
    "phrasing": phrasing.pk,
    "phrasing_revision": phrasing_revision.pk if phrasing_revision else 1,
    "task_states": [str(pk) for pk in TaskState.objects.values_list("pk", flat=True)[:3]] or ["1"],
    "workflow_states": [str(pk) for pk in WorkflowState.objects.values_list("pk", flat=True)[:3]] or ["1"],
    "moderated_page": moderated.pk,
}
print("HOSTILE_DATA " + json.dumps(data, ensure_ascii=False))
"""

IDENTITIES = ["anonymous", "agent", "newhire", "trainer", "supervisor", "admin"]

# Reachable without logging in, by design (login pages, password reset, the icon sprite, the
# admin's JS translation catalogue, the page/document password forms).
PUBLIC = {
    "login",
    "wagtailadmin_login",
    "wagtailadmin_password_reset",
    "wagtailadmin_password_reset_done",
    "wagtailadmin_password_reset_confirm",
    "wagtailadmin_password_reset_complete",
    "wagtailadmin_sprite",
    "wagtailadmin_javascript_catalog",
    "wagtailcore_login",
    "wagtailcore_authenticate_with_password",
    "wagtaildocs_authenticate_with_password",
}
# Admin areas no role has a permission for: only the superuser.
SUPERUSER_ONLY = re.compile(
    r"^(wagtailusers_users:|wagtailusers_groups:|wagtailsites:|wagtailadmin_collections:|wagtailredirects:"
    r"|wagtailadmin_workflows:(index|add|edit|enable|disable"
    r"|usage|remove|add_task|select_task_type|task_index|edit_task|disable_task|enable_task))"
)
RUN_RECORDS = re.compile(r"^procedures_runs:")  # 主管 (and the superuser) only
RUN_STATS = re.compile(r"^procedures_(stats|agents|abandonment|paths):")  # 培训师, 主管
# POSTs that change or remove existing rows whatever the fields say: only against nonexistent ids,
# except in the destructive phase at the end.
DESTRUCTIVE = re.compile(
    r"delete|unpublish|revert|move|set_page_position|convert_alias|disable|enable|remove|workflow_action"
    r"|logout|release|unschedule|confirm_workflow_cancellation|wagtail_bulk_action|password_reset"
    r"|wagtailusers_|wagtailsites:|wagtailadmin_account|lock|copy"
)
DELIBERATE_500 = {"wagtailadmin_error_test"}  # Wagtail's /admin/failwhale/ raises on purpose

XSS_MARK = '<script>alert("cbx")</script>'
XSS_MARK_2 = "<img src=x onerror=alert('cbx')>"
LONG_GET = 3000  # gunicorn refuses request lines over 4094 bytes before Django sees them

# Hostile values for query strings and form fields (encoded by the sender).
# fmt: off
HOSTILE_VALUES = [
    "", "\x00", "a\x00b", "\x01\x02\x1b[31m\x7f\x08", "\ufffe", "\uffff", "\u202egnp.exe", "🙂" * 5,
    "ＳＥＬＥＣＴ １", "A" * LONG_GET, "长" * 300,
    "' OR '1'='1' --", "1; DROP TABLE procedures_runevent; --", "1 UNION SELECT username, password FROM auth_user --",
    XSS_MARK, '">' + XSS_MARK_2, "javascript:alert(1)",
    "%s%s%s%s%n", "{0.__class__.__mro__}", "{{7*7}}${7*7}%(secret)s",
    "1e1000000", "-1", "99999999999999999999999999999999", "NaN", "9" * LONG_GET, "1.7976931348623157e309",
    "2024-02-30", "-2024-01-01", "../../../../etc/passwd", '{"a": [',
]
# Raw (already encoded) query strings: invalid UTF-8, structure attacks, malformed pagination and ordering.
RAW_QUERIES = [
    "q=%FF%FE%FD", "q=%ED%A0%80", "q=%C0%AE%C0%AE%2F", "q=%", "q=%zz", "%00=%00", "p", "&&&=&=x&",
    "p=1&p=2&p=abc", "p[]=1&q[]=x", "&".join(f"a{i}=1" for i in range(400)),
    "export=csv&export=xlsx", "export=../../etc/passwd", "ordering=-password", "ordering=user__password",
    "ordering=__class__", "per_page=1000000000", "page=0&p=0", "page=-1&p=-1", "p=" + "9" * 30, "p=1e1000000&page=1e1000000",
    "p=last", "collection_id=" + "1" + "0" * 30, "id=1&id=abc&id=" + "1" + "0" * 30,
]
# fmt: on
# The same values for path parameters, already encoded.
INT_PATH_VALUES = [
    "0",
    "999999999",
    "1" + "0" * 30,
    "-1",
    "abc",
    "1e1000000",
    "%00",
    "%EF%BF%BE",
    "1%20OR%201=1",
    "..%2F..%2Fetc%2Fpasswd",
    "9" * LONG_GET,
]
STR_PATH_VALUES = [
    "..",
    "%2e%2e%2f%2e%2e",
    "%00",
    "%EF%BF%BE",
    quote(XSS_MARK, safe=""),
    "'%20OR%201=1--",
    "%25s%25n",
    "A" * 2000,
    "%E4%B8%AD%E6%96%87",
    "%FF%FE",
]
TRAVERSAL = [
    "/static/../manage.py",
    "/static/../../../../etc/passwd",
    "/static/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
    "/static/..%2f..%2fkb_site%2fsettings%2fbase.py",
    "/static/css/..%2F..%2F..%2Fmanage.py",
    "/static/%c0%ae%c0%ae/manage.py",
    "/static/%00",
    "/static/css/%00.css",
    "/static/..\\..\\manage.py",
    "/static//etc/passwd",
    "/media/../manage.py",
    "/media/documents/../../manage.py",
    "/documents/{doc}/../../../../etc/passwd",
    "/documents/{doc}/..%2F..%2F..%2Fmanage.py",
    "/documents/{doc}/%2e%2e%2f%2e%2e%2fmanage.py",
    "/documents/{doc}/{filename}%00.pdf",
    "/documents/{doc}/..",
    "/documents/{doc}/",
    "/documents/{doc}/other-name.txt",
    "/documents/{doc}/{filename}/../../manage.py",
    "/documents/999999999/{filename}",
    "/documents/100000000000000000000000000000/{filename}",
    "/documents/-1/{filename}",
    "/documents/{doc}/{filename}?download=../../etc/passwd",
    "/../../../../etc/passwd",
    "/%2e%2e/%2e%2e/etc/passwd",
    "/admin/../../manage.py",
    "//etc/passwd",
]
# Listings, reports, search and choosers get every hostile query; other admin pages a short list.
LISTING = re.compile(r"index|list|results|search|report|explore|top_queries|zero_results")
SHORT_VALUES = ["\x00", "\ufffe", "A" * LONG_GET, "' OR '1'='1' --", XSS_MARK, "1e1000000", "-1", "%s%n{0}"]
LINE_LIMIT = 3800  # request line budget (gunicorn: 4094) for path + query
SHORT_RAW_QUERIES = ["q=%FF%FE%FD", "p=1e1000000", "ordering=-password", "p[]=1&q[]=x"]
LEAK_MARKERS = ("root:x:0:0", "SECRET_KEY", "DJANGO_SETTINGS_MODULE", "from .base import")


class Stats:
    """Everything the sweep found, shared by the worker threads."""

    def __init__(self):
        self.lock = threading.Lock()
        self.statuses = Counter()
        self.server_errors = []  # (identity, method, path, status)
        self.deliberate = []
        self.connection_errors = []
        self.violations = []
        self.reflected = []
        self.leaks = []
        self.offsite = []
        self.cells = Counter()  # by tag: requests checked against a rule
        self.cells_with_rule = Counter()  # by tag: ... where a rule applied
        self.tags = Counter()

    def record(self, job, status, headers, body):
        with self.lock:
            self.tags[job["tag"]] += 1
            if status is None:
                self.connection_errors.append((job["identity"], job["method"], job["path"], body))
                return
            self.statuses[f"{status // 100}xx"] += 1
            where = (job["identity"], job["method"], job["path"], status)
            if status >= 500:
                if job.get("name") in DELIBERATE_500:
                    self.deliberate.append(where)
                else:
                    self.server_errors.append((*where, job.get("name") or "", describe(job.get("data"))))
            content_type = headers.get("content-type", "")
            if "html" in content_type and (XSS_MARK in body or XSS_MARK_2 in body):
                self.reflected.append(where)
            if job.get("traversal") and status == 200 and any(marker in body for marker in LEAK_MARKERS):
                self.leaks.append(where)
            location = headers.get("location", "")
            if location:
                parts = urlsplit(location)
                if (
                    parts.netloc
                    and not parts.netloc.startswith("127.0.0.1")
                    or location.startswith("//")
                    or location.startswith("/\\")
                ):
                    self.offsite.append((*where, location))
            rule = job.get("rule")
            if rule is not None:
                self.cells[job["tag"]] += 1
                problem = rule(status, headers)  # None: no role rule for this cell; "": held; text: broken
                if problem is not None:
                    self.cells_with_rule[job["tag"]] += 1
                if problem:
                    self.violations.append((*where, problem))


class Identity:
    """One logged-in user (or anonymous) with a requests session; raw paths go through http.client."""

    def __init__(self, name, base, password=None):
        self.name = name
        self.base = base
        self.password = password
        self.session = requests.Session()
        self.session.headers["User-Agent"] = "callbook-hostile/1"
        # No keep-alive: a connection the server closed while idle must not look like a dropped request.
        self.session.headers["Connection"] = "close"
        self.session_cookie = None
        host, port = urlsplit(base).netloc.split(":")
        self.host, self.port = host, int(port)

    def login(self):
        page = self.session.get(self.base + "/login/", timeout=60)
        if self.password is None:
            return
        token = CSRF.search(page.text).group(1)
        response = self.session.post(
            self.base + "/login/",
            {"username": self.name, "password": self.password, "csrfmiddlewaretoken": token},
            allow_redirects=False,
            timeout=60,
        )
        if response.status_code != 302:
            raise RuntimeError(f"login failed for {self.name}: HTTP {response.status_code}")
        self.session_cookie = self.session.cookies.get("sessionid")

    @property
    def csrf(self):
        return self.session.cookies.get("csrftoken", "")

    def send(self, method, path, *, data=None, headers=None, csrf=True, raw=False, files=None):
        """Returns (status, headers with lower-case names, body text); status None on a connection error."""
        headers = dict(headers or {})
        if self.session_cookie and "sessionid" not in self.session.cookies:
            # Wagtail's admin logout view deletes the session cookie even when it refuses a GET (405)
            # without logging out: the session is still valid on the server, so keep using it.
            self.session.cookies.set("sessionid", self.session_cookie)
        if method == "POST" and csrf:
            data = dict(data or {})
            data.setdefault("csrfmiddlewaretoken", self.csrf)
            headers["X-CSRFToken"] = self.csrf
        try:
            if raw:
                return self._raw(method, path, headers)
            response = self.session.request(
                method,
                self.base + path,
                data=data,
                files=files,
                headers=headers,
                allow_redirects=False,
                timeout=120,
            )
            return (
                response.status_code,
                {k.lower(): v for k, v in response.headers.items()},
                response.content.decode("utf-8", "replace"),
            )
        except (requests.RequestException, OSError, http.client.HTTPException) as error:
            return None, {}, f"{type(error).__name__}: {error}"

    def _raw(self, method, path, headers):
        connection = http.client.HTTPConnection(self.host, self.port, timeout=120)
        cookie = "; ".join(f"{c.name}={c.value}" for c in self.session.cookies)
        if cookie:
            headers["Cookie"] = cookie
        headers["Connection"] = "close"
        connection.putrequest(method, path, skip_accept_encoding=True)
        for key, value in headers.items():
            connection.putheader(key, value)
        connection.endheaders()
        response = connection.getresponse()
        body = response.read().decode("utf-8", "replace")
        result = response.status, {k.lower(): v for k, v in response.getheaders()}, body
        connection.close()
        return result


def encode_query(params):
    """A query string with every value percent-encoded as UTF-8 (NUL, U+FFFE... included)."""
    return urlencode([(k, v) for k, v in params], quote_via=quote, safe="")


def with_query(path, names, value, extra=()):
    """``path`` with every name set to ``value``, as many names as fit gunicorn's request line."""
    joiner = "&" if "?" in path else "?"
    names = list(names)
    query = encode_query([*extra, *[(n, value) for n in names]])
    while len(path) + len(query) >= LINE_LIMIT and len(names) > 1:
        names.pop()
        query = encode_query([*extra, *[(n, value) for n in names]])
    while len(path) + len(query) >= LINE_LIMIT and value:
        value = value[: len(value) // 2]
        query = encode_query([*extra, *[(n, value) for n in names]])
    return path + joiner + query


PARAM = re.compile(r"<(?:(\w+):)?(\w+)>")


class Sweep:
    def __init__(self, base, data, identities, stats):
        self.base = base
        self.data = data
        self.identities = identities
        self.stats = stats
        self.ids = data["ids"]
        self.patterns = [p for p in data["patterns"] if p["template"] is not None]

    # --- filling URL patterns ------------------------------------------------------------------

    def other_run(self, identity):
        for username in ("agent", "newhire", "supervisor", "trainer"):
            if username != identity and self.data["runs"].get(username):
                return self.data["runs"][username][0]
        raise LookupError

    def existing(self, pattern, conv, param, identity):
        """The value of an existing row for ``param`` of ``pattern``, as ``identity`` sees it."""
        name, model, d = pattern["name"], pattern["model"], self.data
        procedure = str(d["procedures"][0]["id"])
        first = lambda label, default="1": (self.ids.get(label) or [default])[0]  # noqa: E731
        if param in ("page_id", "page_to_move_id", "page_pk", "object_id"):
            return str(d["moderated_page"]) if "workflow" in name else procedure
        if param in ("parent_page_id", "destination_id"):
            return str(d["sections"][0]["id"])
        if param == "run_id":
            return (d["runs"].get(identity) or [self.other_run(identity)])[0]
        if param == "pk":
            if name.startswith("wagtailadmin_api:pages") or name == "wagtailadmin_pages:revisions_compare":
                return procedure
            if name.startswith("wagtailadmin_api:documents") or name.startswith("wagtaildocs_chooser"):
                return str(d["document"]["id"])
            if name.startswith("wagtailadmin_api:images") or name.startswith("wagtailimages_chooser"):
                return str(d["image"])
            if name.startswith("wagtailadmin_workflows:"):
                return first("wagtailcore.task") if "task" in name else first("wagtailcore.workflow")
            if name.startswith("wagtailsnippets_content_phrasing") or "phrasing" in name:
                return str(d["phrasing"])
            if model == "auth.user":
                return str(d["users"]["agent"])
            if model == "auth.group":
                return str(d["groups"].get("坐席", first("auth.group")))
            return first(model or "wagtailcore.page")
        table = {
            "revision_id": str(d["phrasing_revision"]) if "phrasing" in name else str(d["page_revision"]),
            "revision_id_a": "earliest",
            "revision_id_b": "latest",
            "task_state_id": d["task_states"][0],
            "task_id": first("wagtailcore.task"),
            "workflow_state_id": d["workflow_states"][0],
            "workflow_pk": first("wagtailcore.workflow"),
            "document_id": str(d["document"]["id"]),
            "doc_id": str(d["document"]["id"]),
            "image_id": str(d["image"]),
            "uploaded_file_id": "1",
            "redirect_id": str(d["redirect"]),
            "query_id": str(d["query"]),
            "collection_id": first("wagtailcore.collection"),
            "restriction_id": str(d["private_page"]["restriction"]),
            "page_view_restriction_id": str(d["private_page"]["restriction"]),
            "session_id": "1",
            "filter_spec": "original",
            "uidb64": "MQ",
            "token": "set-password",
            "action_name": "copy" if "api" in name else "approve",
            "action": "delete",
            "_any": "no-such-admin-page",
        }
        if param in table:
            return table[param]
        if param in ("app_label", "content_type_app_name", "app_name"):
            if name.startswith("wagtailadmin_workflows:"):
                return "wagtailcore"
            if name == "wagtail_bulk_action" or "editing_sessions" in name:
                return "wagtailcore"
            return "procedures"
        if param in ("model_name", "content_type_model_name"):
            if name.startswith("wagtailadmin_workflows:"):
                return "groupapprovaltask"
            if name == "wagtail_bulk_action" or "editing_sessions" in name:
                return "page"
            return "procedurepage"
        if name == "wagtaildocs_serve":
            return str(d["document"]["id"]) if conv == "int" else d["document"]["filename"]
        if name == "wagtail_serve":
            return d["procedures"][0]["url"].strip("/") + "/"
        return "1"

    def fill(self, pattern, identity, override=None):
        """The path of ``pattern`` with existing ids, one parameter replaced by ``override``=(param, value)."""

        def value(match):
            conv, param = match.group(1) or "str", match.group(2)
            if override and override[0] == param:
                return override[1]
            return self.existing(pattern, conv, param, identity)

        path = "/" + PARAM.sub(value, pattern["template"])
        if pattern["name"] == "wagtail_serve" and path == "//":
            path = "/"
        return path.replace("//", "/") if not path.startswith("//") else path

    # --- the rules each cell of the permission matrix is checked against ------------------------

    def rule_for(self, pattern, identity, run_owner=None):
        name, admin = pattern["name"], pattern["template"].startswith("admin/")

        def rule(status, headers):
            ok = 200 <= status < 300

            def broken(condition, message):
                return message if condition else ""

            if name in PUBLIC:
                return None  # public by design
            if identity == "anonymous":
                return broken(ok, "anonymous visitor reached a page that needs a login")
            if admin and identity in ("agent", "newhire"):
                return broken(ok, f"{identity} (no admin access) reached the admin")
            if identity != "admin" and SUPERUSER_ONLY.match(name):
                return broken(ok, f"{identity} reached a superuser-only admin area")
            if RUN_RECORDS.match(name) and identity not in ("supervisor", "admin"):
                return broken(ok, f"{identity} reached the run records")
            if RUN_STATS.match(name) and identity not in ("trainer", "supervisor", "admin"):
                return broken(ok, f"{identity} reached the run statistics")
            if run_owner is not None:
                if name == "procedures:run":
                    if run_owner == identity:
                        return broken(not ok, f"{identity} could not open their own run (HTTP {status})")
                    return broken(status != 404, f"{identity} opened another user's run page (HTTP {status})")
                if name == "procedures:run_json" and run_owner != identity:
                    if identity in ("supervisor", "admin"):
                        return broken(not ok, f"{identity} could not read a run as JSON (HTTP {status})")
                    return broken(
                        status != 404, f"{identity} read another user's run as JSON (HTTP {status})"
                    )
                if name == "procedures:move":
                    return broken(ok, f"GET on a move answered {status}")
            if name == "procedures_runs:index" and identity == "supervisor":
                return broken(not ok, f"supervisor could not open the run records (HTTP {status})")
            if name == "wagtailadmin_home" and identity in ("trainer", "supervisor"):
                return broken(not ok, f"{identity} could not open the admin (HTTP {status})")
            if name == "search:search" and identity in ("agent", "newhire"):
                return broken(not ok, f"{identity} could not search (HTTP {status})")
            return None  # no role rule: checked for 5xx only

        return rule

    # --- job lists --------------------------------------------------------------------------------

    def job(self, identity, method, path, tag, **extra):
        return {"identity": identity, "method": method, "path": path, "tag": tag, **extra}

    def matrix_jobs(self):
        jobs = []
        for pattern in self.patterns:
            for identity in IDENTITIES:
                owners = [None]
                if "<uuid:run_id>" in pattern["template"]:
                    owners = [
                        u for u in ("agent", "newhire", "supervisor", "trainer") if self.data["runs"].get(u)
                    ]
                for owner in owners:
                    if owner is None:
                        path = self.fill(pattern, identity)
                    else:
                        path = self.fill(pattern, identity, ("run_id", self.data["runs"][owner][0]))
                    if pattern["name"] == "wagtail_bulk_action":
                        path += "?" + encode_query(
                            [("id", str(p["id"])) for p in self.data["procedures"][:2]]
                        )
                    jobs.append(
                        self.job(
                            identity,
                            "GET",
                            path,
                            "matrix",
                            name=pattern["name"],
                            rule=self.rule_for(pattern, identity, owner),
                            pattern=pattern,
                        )
                    )
        # Every kind of page the site serves, not only the one procedure wagtail_serve was filled with.
        serve = next(p for p in self.patterns if p["name"] == "wagtail_serve")
        d = self.data
        pages = ["/", d["articles"][0]["url"], d["sections"][0]["url"], d["private_page"]["url"]]
        pages += [p["url"] for p in d["procedures"][1:]]
        for identity in IDENTITIES:
            for url in pages:
                path = urlsplit(url).path
                rule = self.rule_for(serve, identity)
                jobs.append(
                    self.job(identity, "GET", path, "matrix", name="wagtail_serve", rule=rule, pattern=serve)
                )
        return jobs

    def bad_id_jobs(self):
        jobs = []
        for pattern in self.patterns:
            params = PARAM.findall(pattern["template"])
            front = not pattern["template"].startswith("admin/")
            who = ["agent", "anonymous"] if front else ["admin"]
            for conv, param in params:
                if conv == "uuid":
                    values = [str(uuid.uuid4()), "not-a-uuid", "00000000-0000-0000-0000-000000000000"]
                    values += [r.upper() for rs in self.data["runs"].values() for r in rs[:1]]
                    values += [r.replace("-", "") for r in self.data["runs"]["agent"][:1]]
                elif conv in ("int", "id", "rev"):
                    values = INT_PATH_VALUES + (["live", "earliest", "latest"] if conv == "rev" else [])
                else:
                    values = STR_PATH_VALUES
                for identity in who:
                    for value in values:
                        path = self.fill(pattern, identity, (param, value))
                        jobs.append(
                            self.job(identity, "GET", path, "bad ids", name=pattern["name"], raw=True)
                        )
                # other users' runs (uuid) for everybody: covered by the matrix; a run id as a page id:
                if conv in ("int", "id"):
                    path = self.fill(pattern, who[0], (param, self.data["runs"]["agent"][0]))
                    jobs.append(self.job(who[0], "GET", path, "bad ids", name=pattern["name"], raw=True))
        return jobs

    def query_targets(self, matrix_results):
        """(identity, path, pattern) of every GET that answered 200 in the matrix, one identity each."""
        preferred = {}
        for job, status in matrix_results:
            if status != 200 or job["identity"] == "anonymous":
                continue
            name = job["name"]
            rank = ["admin", "supervisor", "trainer", "agent", "newhire"].index(job["identity"])
            if name == "wagtailadmin_error_test" or "logout" in name:
                continue
            if name not in preferred or rank < preferred[name][0]:
                preferred[name] = (rank, job["identity"], job["path"], job["pattern"])
        targets = [(identity, path, pattern) for _, identity, path, pattern in preferred.values()]
        # Every front-end page for agents too, not only for the superuser.
        for identity, path, pattern in list(targets):
            if not pattern["template"].startswith("admin/") and identity != "agent":
                targets.append(("agent", path, pattern))
        return targets

    def query_jobs(self, targets):
        jobs = []
        common = ["q", "p", "page", "ordering", "sort", "per_page", "type", "section", "ref", "next"]
        for identity, path, pattern in targets:
            names = list(dict.fromkeys(common + pattern["filters"]))
            if pattern["name"] == "wagtail_serve":
                for procedure in self.data["procedures"][:1]:
                    names += procedure["variables"]
            joiner = "&" if "?" in path else "?"
            listing = (
                not pattern["template"].startswith("admin/")
                or pattern["filters"]
                or LISTING.search(pattern["name"])
            )
            values, raws = (HOSTILE_VALUES, RAW_QUERIES) if listing else (SHORT_VALUES, SHORT_RAW_QUERIES)
            for value in values:
                url = with_query(path, names, value)
                jobs.append(self.job(identity, "GET", url, "query strings", name=pattern["name"]))
            for raw in raws:
                url = path + joiner + raw
                jobs.append(self.job(identity, "GET", url, "query strings", name=pattern["name"], raw=True))
            for name in pattern["filters"]:
                for value in ("1e1000000", "-1", "\x00", "9" * 30, "abc", "2024-02-30"):
                    url = with_query(path, [name], value)
                    jobs.append(self.job(identity, "GET", url, "filters", name=pattern["name"]))
        return jobs

    def export_jobs(self, targets):
        jobs = []
        values = ("\x00", "\ufffe", "=cmd|' /C calc'!A0", "1e1000000", "-1", "A" * 2000, XSS_MARK)
        for identity, path, pattern in targets:
            name = pattern["name"]
            if not pattern["template"].startswith("admin/"):
                continue
            if not (
                "reports" in pattern["template"] or pattern["filters"] or name.endswith((":index", ":list"))
            ):
                continue
            readers = [identity]
            if RUN_RECORDS.match(name) or RUN_STATS.match(name) or "search_" in name:
                readers += ["supervisor", "trainer"]  # the roles that may read them, as well
            for export in ("csv", "xlsx"):
                for reader in readers:
                    url = with_query(path, [], "", extra=[("export", export)])
                    jobs.append(self.job(reader, "GET", url, "exports", name=name))
                for value in values:
                    url = with_query(path, pattern["filters"] or ["q"], value, extra=[("export", export)])
                    jobs.append(self.job(identity, "GET", url, "exports", name=name))
        return jobs

    def traversal_jobs(self):
        doc = self.data["document"]
        jobs = []
        for identity in ("anonymous", "agent", "admin"):
            for template in TRAVERSAL:
                path = template.format(doc=doc["id"], filename=doc["filename"])
                jobs.append(self.job(identity, "GET", path, "traversal", raw=True, traversal=True))
        return jobs

    def nocsrf_jobs(self):
        """POST without a CSRF token to every pattern: refused (403), never acted on."""
        jobs = []
        for pattern in self.patterns:
            for identity in ("anonymous", "agent", "admin"):
                path = self.fill(pattern, identity)

                def rule(status, headers):
                    to_login = 300 <= status < 400 and "login" in headers.get("location", "")
                    acted = 200 <= status < 400 and not to_login
                    return f"POST without a CSRF token answered {status}" if acted else ""

                jobs.append(
                    self.job(
                        identity,
                        "POST",
                        path,
                        "POST without CSRF",
                        name=pattern["name"],
                        csrf=False,
                        data={"title": "no csrf"},
                        rule=rule,
                    )
                )
        return jobs

    @staticmethod
    def form_fields(body):
        """Names of the fields of the POST forms of a page."""
        names = []
        for form in re.findall(r'<form[^>]*method="post"[^>]*>(.*?)</form>', body, re.S | re.I):
            names += re.findall(r'<(?:input|select|textarea)[^>]*\bname="([^"]+)"', form)
        return [n for n in dict.fromkeys(names) if n != "csrfmiddlewaretoken"]

    def tampered_post_jobs(self, matrix_results, bodies):
        """POST with the token but missing or tampered fields, to every pattern (as the superuser)."""
        jobs = []
        values = ["\x00", "A" * 100_000, "1e1000000", "9" * 5000, XSS_MARK, "-1", '{"x":', "\ufffe"]
        for pattern in self.patterns:
            destructive = bool(DESTRUCTIVE.search(pattern["name"]))
            params = PARAM.findall(pattern["template"])
            if destructive and not params:
                continue  # nothing to point at a nonexistent row (logout, password reset...): left out
            for identity in ("admin", "supervisor", "agent"):
                if destructive:
                    # nonexistent ids only: never acts on a real row
                    override = next(((p, "999999999") for c, p in params if c in ("int", "id")), None)
                    if override is None:
                        continue
                    path = self.fill(pattern, identity, override)
                else:
                    path = self.fill(pattern, identity)
                fields = bodies.get((identity, pattern["name"]), [])
                jobs.append(self.job(identity, "POST", path, "tampered POST", name=pattern["name"], data={}))
                if identity != "admin":
                    continue
                for value in values:
                    data = dict.fromkeys(fields, value) or {"title": value, "q": value}
                    data.update({"action-publish": "", "next": "https://evil.example/"})
                    jobs.append(
                        self.job(identity, "POST", path, "tampered POST", name=pattern["name"], data=data)
                    )
                # StreamField and formset counters pushed to the extreme.
                counters = [n for n in fields if n.endswith(("-count", "TOTAL_FORMS", "INITIAL_FORMS"))]
                if counters:
                    for value in ("1000000000", "-5", "1e1000000", "9" * 5000):
                        data = dict.fromkeys(fields, "x")
                        data.update(dict.fromkeys(counters, value))
                        jobs.append(
                            self.job(identity, "POST", path, "tampered POST", name=pattern["name"], data=data)
                        )
        return jobs


# --- the front-end forms, in order (runs must exist before they are tampered with) ------------------


def form_state(html):
    return dict(HIDDEN.findall(html))


def tampered_runs(sweep, stats, identities):
    """Start forms and step forms of real runs, field by field; double submits."""
    data = sweep.data
    for username, procedures in (("agent", data["procedures"]), ("newhire", data["procedures"][:3])):
        me = identities[username]
        for procedure in procedures:
            start = f"/procedures/start/{procedure['id']}/"
            variables = procedure["variables"]
            bodies = [
                {},
                {"practice": "maybe"},
                {"ref": "A" * 100_000},
                {"ref": "\x00" * 10},
                {"unknown": "x"},
            ]
            for value in (
                "\x00",
                "1e1000000",
                "9" * 5000,
                "-1",
                XSS_MARK,
                "2024-02-30",
                "A" * 100_000,
                "\ufffe",
            ):
                bodies.append({f"v-{name}": value for name in variables} | {"ref": value})
            for body in bodies:
                run_job(stats, me, "POST", start, "start form", data=body)
        # page ids that are not procedures, or not there
        for page_id in (data["articles"][0]["id"], data["sections"][0]["id"], 999999999, 1):
            run_job(stats, me, "POST", f"/procedures/start/{page_id}/", "start form", data={})
        run_job(stats, me, "POST", "/procedures/start/" + "1" + "0" * 30 + "/", "start form", data={})

        for procedure in procedures:
            status, headers, _ = run_job(
                stats,
                me,
                "POST",
                f"/procedures/start/{procedure['id']}/",
                "start form",
                data=valid_start(me, procedure),
            )
            if status != 302:
                continue
            run_path = urlsplit(headers["location"]).path
            move = run_path + "move/"
            for attempt in range(8):
                status, _, html = run_job(stats, me, "GET", run_path, "step form")
                state = form_state(html)
                if status != 200 or "step" not in state:
                    break
                fields = {f"v-{name}": "1" for _, name, _ in FIELD.findall(html)}
                tampered = [
                    {},
                    {**state, "seq": "-1", "action": "next"},
                    {**state, "seq": "1" + "0" * 30, "action": "next"},
                    {**state, "seq": "1e1000000", "action": "next"},
                    {**state, "seq": "abc", "action": "next"},
                    {**state, "step": "no-such-step", "action": "next"},
                    {**state, "step": "\x00", "action": "next"},
                    {**state, "action": "delete"},
                    {**state, "action": "\x00"},
                    {**state, "answer": "99"},
                    {**state, "answer": "-1"},
                    {**state, "answer": "9" * 5000},
                    {**state, "answer": "1e1000000"},
                    {**state, "action": "next", "check": ["999", "-1", "abc", "9" * 5000]},
                    {**state, "action": "next", **dict.fromkeys(fields, "1e1000000")},
                    {**state, "action": "next", **dict.fromkeys(fields, "9" * 5000)},
                    {**state, "action": "next", **dict.fromkeys(fields, "\x00")},
                    {**state, "action": "next", **dict.fromkeys(fields, XSS_MARK)},
                    {**state, "action": "back", "note": "\x00" + "注" * 100_000},
                    {**state, "seq": [state["seq"], "1"], "action": "next"},
                ]
                for body in tampered if attempt == 0 else tampered[:2]:
                    run_job(stats, me, "POST", move, "step form", data=body)
                # then a real move, posted twice at once (a double click) and once more after
                status, _, html = run_job(stats, me, "GET", run_path, "step form")
                state = form_state(html)
                if "step" not in state:
                    break
                body = {**state, **fields}
                if ANSWER.findall(html):
                    body["answer"] = ANSWER.findall(html)[0]
                else:
                    body["action"] = "next"
                    body["check"] = CHECK.findall(html)
                threads = [
                    threading.Thread(
                        target=run_job, args=(stats, me, "POST", move, "double submit"), kwargs={"data": body}
                    )
                    for _ in range(2)
                ]
                for thread in threads:
                    thread.start()
                for thread in threads:
                    thread.join()
                run_job(stats, me, "POST", move, "double submit", data=body)
            # the run of somebody else, moved by this user: 404
            other = sweep.other_run(username)
            run_job(
                stats,
                me,
                "POST",
                f"/procedures/runs/{other}/move/",
                "step form",
                data={"action": "next"},
                rule=lambda status, headers: (
                    f"moved another user's run (HTTP {status})" if status != 404 else ""
                ),
            )


def valid_start(identity, procedure):
    values = {"ref": "HOSTILE"}
    status, _, html = identity.send("GET", procedure["url"])
    for _tag, name, attrs in FIELD.findall(html):
        if 'type="date"' in attrs:
            values[f"v-{name}"] = "2024-01-01"
        elif 'inputmode="decimal"' in attrs:
            values[f"v-{name}"] = "10"
        else:
            values[f"v-{name}"] = "测试"
    for name, options in re.findall(r'<select name="v-([^"]+)"[^>]*>(.*?)</select>', html, re.S):
        choices = re.findall(r'<option value="([^"]+)"', options)
        if choices:
            values[f"v-{name}"] = choices[0]
    return values


def login_attempts(base, stats):
    """Hostile logins from a fresh anonymous session (django-axes may lock the address: not a 5xx).

    First real logins with a hostile ``next``: the redirect must stay on the site.
    """
    for target in ("https://evil.example/", "//evil.example/", "/\\evil.example/", "javascript:alert(1)"):
        visitor = Identity("agent", base, "callbook-agent")
        visitor.session.get(base + "/login/", timeout=60)
        run_job(
            stats,
            visitor,
            "POST",
            "/login/?" + encode_query([("next", target)]),
            "login form",
            data={"username": "agent", "password": "callbook-agent", "next": target},
        )
    for body in (
        {},
        {"username": "\x00", "password": "x"},
        {"username": "agent\x00", "password": "callbook-agent"},
        {"username": "A" * 100_000, "password": "x"},
        {"username": "agent", "password": "A" * 1_000_000},
        {"username": XSS_MARK, "password": XSS_MARK},
        {"username": "' OR '1'='1", "password": "' OR '1'='1"},
        {"username": ["agent", "admin"], "password": "x"},
        {"username": "\ufffe", "password": "\ufffe"},
    ):
        visitor = Identity("anonymous", base)
        visitor.login()
        run_job(stats, visitor, "POST", "/login/", "login form", data=body)
        run_job(stats, visitor, "POST", "/admin/login/", "login form", data=body)


def destructive_phase(sweep, stats, admin):
    """Existing rows, as the superuser: the refusals must be pages, not errors."""
    d = sweep.data
    with_runs = d["procedures"][0]["id"]
    phrasing = d["phrasing"]
    jobs = [
        (f"/admin/pages/{with_runs}/delete/", {}),
        ("/admin/bulk/wagtailcore/page/delete/?" + encode_query([("id", str(with_runs))]), {}),
        (f"/admin/pages/{with_runs}/unpublish/", {"include_descendants": "on"}),
        ("/admin/pages/{}/move/{}/confirm/".format(d["sections"][0]["id"], d["sections"][0]["id"]), {}),
        (
            f"/admin/pages/{with_runs}/copy/",
            {"new_title": "\x00", "new_slug": "../..", "new_parent_page": "-1"},
        ),
        ("/admin/pages/{}/revisions/{}/revert/".format(with_runs, d["page_revision"]), {}),
        ("/admin/users/delete/{}/".format(d["users"]["agent"]), {}),
        (
            "/admin/users/edit/{}/".format(d["users"]["newhire"]),
            {"username": "\x00", "email": "x", "password1": "a", "password2": "b", "groups": ["-1", "abc"]},
        ),
        ("/admin/groups/delete/{}/".format(d["groups"].get("坐席", 1)), {}),
        (f"/admin/snippets/content/phrasing/delete/{phrasing}/", {}),
        (f"/admin/snippets/content/phrasing/unpublish/{phrasing}/", {}),
        ("/admin/documents/delete/{}/".format(d["document"]["id"]), {}),
        ("/admin/images/{}/delete/".format(d["image"]), {}),
        ("/admin/redirects/{}/delete/".format(d["redirect"]), {}),
        ("/admin/searchpicks/{}/delete/".format(d["query"]), {}),
        ("/admin/workflows/disable/{}/".format((d["ids"].get("wagtailcore.workflow") or ["1"])[0]), {}),
        ("/admin/collections/{}/delete/".format((d["ids"].get("wagtailcore.collection") or ["1"])[0]), {}),
        ("/admin/sites/delete/{}/".format((d["ids"].get("wagtailcore.site") or ["1"])[0]), {}),
        ("/admin/pages/{}/delete/".format(d["sections"][0]["id"]), {}),
    ]
    for path, body in jobs:
        run_job(stats, admin, "POST", path, "destructive POST", data=body)
        run_job(stats, admin, "POST", path, "destructive POST", data=body)  # double submit
    run_job(stats, admin, "POST", "/admin/logout/", "destructive POST", data={})


def run_job(stats, identity, method, path, tag, data=None, rule=None, **extra):
    job = {"identity": identity.name, "method": method, "path": path, "tag": tag, "rule": rule, **extra}
    status, headers, body = identity.send(method, path, data=data, csrf=extra.get("csrf", True))
    stats.record(job, status, headers, body)
    return status, headers, body


def execute(jobs, identities, stats, concurrency, keep_bodies=False):
    """Run jobs in parallel; returns [(job, status)] and, if asked, the form fields of each 200 page."""
    results, bodies = [], {}
    lock = threading.Lock()

    def one(job):
        identity = identities[job["identity"]]
        status, headers, body = identity.send(
            job["method"],
            job["path"],
            data=job.get("data"),
            csrf=job.get("csrf", True),
            raw=job.get("raw", False),
        )
        stats.record(job, status, headers, body)
        with lock:
            results.append((job, status))
            if keep_bodies and status == 200 and "html" in headers.get("content-type", ""):
                bodies[(job["identity"], job["name"])] = Sweep.form_fields(body)

    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        list(pool.map(one, jobs))
    return results, bodies


def server_causes(log_path):
    """{request path: [(exception line, where, in project code?)]} from the server's error log."""
    causes = defaultdict(list)
    if not log_path.exists():
        return causes
    for record in log_path.read_text(encoding="utf-8", errors="replace").split("\n@@ "):
        lines = record.strip().splitlines()
        match = re.search(r"Internal Server Error: (.+)$", lines[0]) if lines else None
        if not match:
            continue
        last = next((line for line in reversed(lines) if line and not line.startswith(" ")), lines[0])
        frames = [line.strip() for line in lines if line.strip().startswith("File ")]
        project = [f for f in frames if str(BASE_DIR) in f and "site-packages" not in f]
        upstream = [f for f in frames if re.search(r"/(wagtail|modelsearch|laces)/", f)]
        where = (project or upstream or frames or [""])[-1]
        found = re.match(r'File "(.*)", line (\d+), in (\S+)', where)
        if found:
            file = found.group(1).split("site-packages/")[-1].replace(str(BASE_DIR) + "/", "")
            where = f"{file}:{found.group(2)} {found.group(3)}"
        causes[match.group(1)].append((last[:200], where[:120], bool(project)))
    return causes


def describe(data):
    """A short note of what a POST sent, for the list of 5xx."""
    if not data:
        return ""
    fields = [k for k in data if k != "csrfmiddlewaretoken"]
    sample = next((repr(data[k]) for k in fields if data[k] not in ("", None)), "''")
    return f"POST of {len(fields)} field(s) ({', '.join(fields[:3])}{', …' if len(fields) > 3 else ''}) = {shorten(sample, 24)}"


def shorten(text, width=150):
    return text if len(text) <= width else text[: width - 1] + "…"


def report_server_errors(rows, causes):
    """5xx grouped by URL pattern (or path) and exception; returns how many groups involve project code."""
    groups = defaultdict(list)
    for identity, method, path, status, name, sent in rows:
        raw = urlsplit(path).path
        # Django logs the decoded path with control characters escaped (log injection).
        logged = [unquote(raw).encode("unicode_escape").decode("ascii"), unquote(raw), raw]
        cause = Counter(next((causes[p] for p in logged if p in causes), [])).most_common(1)
        cause = cause[0][0] if cause else ("(no traceback logged)", "", False)
        key = (method, name or urlsplit(path).path, re.sub(r"got .*", "got …", cause[0]), cause[1], cause[2])
        groups[key].append((identity, path, status, sent))
    for (method, name, exception, where, in_project), hits in sorted(
        groups.items(), key=lambda g: -len(g[1])
    ):
        who = ", ".join(sorted({identity for identity, _, _, _ in hits}))
        origin = "PROJECT CODE" if in_project else "upstream"
        print(f"   {len(hits):4d}× {method} {shorten(name, 100)} ({who}) [{origin}]")
        print(f"          {shorten(exception)}  at {where}")
        print(f"          e.g. {shorten(hits[0][1])} {hits[0][3]}")
    return sum(1 for key in groups if key[4]), len(groups)


def setup(var_dir):
    settings_dir = Path(var_dir) / "settings"
    settings_dir.mkdir()
    log = Path(var_dir) / "errors.log"
    (settings_dir / "hostile_settings.py").write_text(SETTINGS.format(log=str(log)), encoding="utf-8")
    env = {
        **os.environ,
        "PYTHONPATH": f"{settings_dir}{os.pathsep}{BASE_DIR}",
        "DJANGO_SETTINGS_MODULE": "hostile_settings",
        "CALLBOOK_VAR_DIR": str(var_dir),
    }
    env.pop("DATABASE_URL", None)  # always the throwaway SQLite database in var_dir
    started = time.monotonic()
    manage(env, "migrate", "--noinput", "-v0")
    manage(env, "load_demo", "--demo-users")
    manage(env, "update_index", capture=True)
    (Path(var_dir) / "static").mkdir()
    logins = manage(env, "demo_logins", capture=True)
    passwords = dict(re.findall(r"^\s*\S+\s+(\S+)\s+/\s+(\S+)\s*$", logins, re.M))
    output = manage(env, "shell", "-c", SETUP_DATA, capture=True)
    data = json.loads(output.split("HOSTILE_DATA ", 1)[1])
    print(
        f"setup: migrate + demo + index + extra rows in {time.monotonic() - started:.0f}s; "
        f"{len(data['patterns'])} URL patterns; logins for {', '.join(sorted(passwords))}"
    )
    return env, log, passwords, data


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--concurrency", type=int, default=6, help="requests in flight")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=2, help="gunicorn threads per worker")
    parser.add_argument(
        "--keep", action="store_true", help="keep the temporary directory (database, error log)"
    )
    args = parser.parse_args()

    var_dir = tempfile.mkdtemp(prefix="callbook-hostile-")
    started = time.monotonic()
    env, log, passwords, data = setup(var_dir)
    stats = Stats()
    with (
        open(Path(var_dir) / "gunicorn.log", "w") as gunicorn_log,
        gunicorn(
            env,
            workers=args.workers,
            threads=args.threads,
            options=["--timeout", "120"],
            log_file=gunicorn_log,
        ) as base,
    ):
        identities = {name: Identity(name, base, passwords.get(name)) for name in IDENTITIES}
        for identity in identities.values():
            identity.login()
        sweep = Sweep(base, data, identities, stats)

        matrix = sweep.matrix_jobs()
        matrix_results, bodies = execute(matrix, identities, stats, args.concurrency, keep_bodies=True)
        print(f"  permission matrix: {len(matrix_results)} requests", flush=True)
        targets = sweep.query_targets(matrix_results)
        for title, jobs in (
            ("bad ids", sweep.bad_id_jobs()),
            ("query strings and filters", sweep.query_jobs(targets)),
            ("exports", sweep.export_jobs(targets)),
            ("traversal", sweep.traversal_jobs()),
            ("POST without CSRF", sweep.nocsrf_jobs()),
            ("tampered POSTs", sweep.tampered_post_jobs(matrix_results, bodies)),
        ):
            execute(jobs, identities, stats, args.concurrency)
            print(f"  {title}: {len(jobs)} requests", flush=True)
        before = sum(stats.tags.values())
        tampered_runs(sweep, stats, identities)
        login_attempts(base, stats)
        print(
            f"  run forms, double submits, logins: {sum(stats.tags.values()) - before} requests", flush=True
        )
        before = sum(stats.tags.values())
        destructive_phase(sweep, stats, identities["admin"])
        print(f"  destructive admin POSTs: {sum(stats.tags.values()) - before} requests", flush=True)

    causes = server_causes(log)
    total = sum(stats.tags.values())
    print(f"\n{total} requests in {time.monotonic() - started:.0f}s (setup included)")
    print("by status class: " + ", ".join(f"{k} {v}" for k, v in sorted(stats.statuses.items())))
    print("by kind: " + ", ".join(f"{k} {v}" for k, v in stats.tags.items()))
    print(f"5xx: {len(stats.server_errors)}")
    in_project, groups = report_server_errors(stats.server_errors, causes)
    failed = bool(stats.server_errors)
    for title, rows in (
        ("dropped connections and timeouts (over 120 s)", stats.connection_errors),
        ("permission violations", stats.violations),
        ("payloads reflected unescaped in HTML", stats.reflected),
        ("traversal that returned a file", stats.leaks),
        ("redirects off the site", stats.offsite),
    ):
        print(f"{title}: {len(rows)}")
        for row in sorted(set(map(tuple, rows)))[:50]:
            print("   ", *(shorten(str(part)) for part in row))
        failed = failed or bool(rows)
    if stats.deliberate:
        print(
            f"deliberate 5xx (Wagtail's error test page /admin/failwhale/, admin users only): {len(stats.deliberate)}"
        )
    gunicorn_errors = [
        line
        for line in (Path(var_dir) / "gunicorn.log").read_text(errors="replace").splitlines()
        if "CRITICAL" in line or "WORKER TIMEOUT" in line or "Request Line is too large" in line
    ]
    if gunicorn_errors:
        failed = True
        print("gunicorn:", *gunicorn_errors[:20], sep="\n    ")
    matrix, csrf = stats.cells["matrix"], stats.cells["POST without CSRF"]
    print(
        f"\nREADME: {total:,} hostile requests ({len(IDENTITIES)} identities, {len(data['patterns'])} URL patterns); "
        + ", ".join(f"{k} {stats.statuses.get(k, 0):,}" for k in ("2xx", "3xx", "4xx"))
        + f", 5xx {len(stats.server_errors):,}"
        + (f" in {groups} groups, {in_project} in project code" if stats.server_errors else "")
        + (
            f" (and {len(stats.deliberate)} at Wagtail's deliberate /admin/failwhale/)"
            if stats.deliberate
            else ""
        )
        + f"; {matrix:,} permission cells checked ({stats.cells_with_rule['matrix']:,} under a role rule) and "
        f"{csrf:,} POSTs without a CSRF token: {len(stats.violations)} violations; "
        f"{len(stats.reflected)} reflected payloads, {len(stats.leaks)} traversal leaks, "
        f"{len(stats.offsite)} off-site redirects, {len(stats.connection_errors)} dropped or over 120 s"
    )
    if args.keep:
        print(f"kept: {var_dir}")
    else:
        shutil.rmtree(var_dir, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
