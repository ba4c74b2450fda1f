"""Build the demo knowledge base from the YAML files in ``fixtures/demo/``.

Idempotent: pages are matched by slug under their parent and phrasings by title within their
section; existing content is left alone unless ``update=True``.
"""

import datetime
import uuid
from pathlib import Path

import yaml
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils.html import escape
from wagtail.models import Page, Site

from kb_site.demo import DemoReport

from . import roles
from .models import ArticlePage, HomePage, Phrasing, SectionPage
from .profiles import AgentProfile, ensure_site_company_name

DEMO_DIR = Path(settings.BASE_DIR) / "fixtures" / "demo"

# Development-only accounts, one per role (printed by `make run`); the 工号 phrasings speak as {工号}.
DEMO_USERS = [
    {
        "username": "agent",
        "password": "callbook-agent",
        "first_name": "小王",
        "role": roles.AGENT,
        "工号": "1001",
    },
    {
        "username": "trainer",
        "password": "callbook-trainer",
        "first_name": "李培训",
        "role": roles.TRAINER,
        "工号": "2001",
    },
    {
        "username": "supervisor",
        "password": "callbook-supervisor",
        "first_name": "张主管",
        "role": roles.SUPERVISOR,
        "工号": "3001",
    },
    {
        "username": "newhire",
        "password": "callbook-newhire",
        "first_name": "小陈",
        "role": roles.NEW_HIRE,
        "工号": "1002",
    },
    {"username": "admin", "password": "callbook-admin", "first_name": "管理员", "role": None},
]


def text_to_html(text):
    """Plain fixture text to safe rich-text HTML: blank lines separate paragraphs."""
    paragraphs = [p.strip() for p in str(text or "").split("\n\n") if p.strip()]
    return "".join(f"<p>{escape(p).replace(chr(10), '<br/>')}</p>" for p in paragraphs)


# libyaml's parser when PyYAML has it (its wheels do): the same safe loading, about ten times faster
# than the pure-Python one, which was a quarter of ``load_demo``'s time.
_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_yaml(path):
    """A demo fixture file (the project's own, not an upload: see ``procedures.interchange.parse``)."""
    with open(path, encoding="utf-8") as handle:
        return yaml.load(handle, Loader=_SafeLoader) or {}  # noqa: S506 (a safe loader)


def section_files():
    return sorted((DEMO_DIR / "sections").glob("*.yaml"))


def ensure_users(report):
    User = get_user_model()
    users = {}
    for spec in DEMO_USERS:
        user, created = User.objects.get_or_create(
            username=spec["username"], defaults={"first_name": spec["first_name"]}
        )
        if created:
            user.set_password(spec["password"])
            if spec["role"] is None:
                user.is_staff = user.is_superuser = True
            user.save()
        if spec["role"]:
            user.groups.add(Group.objects.get(name=spec["role"]))
        if spec.get("工号"):
            AgentProfile.objects.get_or_create(user=user, defaults={"employee_number": spec["工号"]})
        report.add("users", created)
        users[spec["username"]] = user
    return users


def publish(page_or_snippet, user=None):
    revision = page_or_snippet.save_revision(user=user, log_action=True)
    revision.publish(user=user, skip_permission_checks=True)
    return revision


def save_child_page(parent, model, existing, values, tags, user=None):
    """Create ``model`` under ``parent`` (or refresh ``existing``) with ``values`` and ``tags``; publish it.

    The create-or-update step every demo loader shares (articles here, procedures in their app).
    """
    if existing is None:
        page = model(**values)
        parent.add_child(instance=page)
    else:
        page = existing
        for name, value in values.items():
            setattr(page, name, value)
    page.tags.set([str(tag) for tag in tags or []])
    publish(page, user=user)
    return page


def ensure_home(site_spec, report):
    """The demo HomePage becomes the default site's root, replacing Wagtail's welcome page."""
    root = Page.get_first_root_node()
    home = HomePage.objects.first()
    created = home is None
    if created:
        home = HomePage(
            title=site_spec.get("title", "Callbook 客服知识库"),
            slug="callbook",
            intro=site_spec.get("intro", ""),
        )
        root.add_child(instance=home)
        publish(home)
    report.add("home", created)

    site = Site.objects.filter(is_default_site=True).first()
    if site is None:
        Site.objects.create(
            hostname="localhost",
            port=80,
            root_page=home,
            is_default_site=True,
            site_name=settings.WAGTAIL_SITE_NAME,
        )
    elif site.root_page_id != home.pk:
        old_root = site.root_page
        site.root_page = home
        site.site_name = settings.WAGTAIL_SITE_NAME
        site.save()
        if old_root.depth == 2 and old_root.specific_class is Page:
            old_root.delete()  # Wagtail's "Welcome to your new Wagtail site!" placeholder
    if site_spec.get("company_name"):
        ensure_site_company_name(Site.objects.get(is_default_site=True), site_spec["company_name"])
    return home


def ensure_section(home, spec, update, report):
    section = SectionPage.objects.child_of(home).filter(slug=spec["slug"]).first()
    created = section is None
    if created:
        section = SectionPage(title=spec["title"], slug=spec["slug"], summary=spec.get("summary", ""))
        home.add_child(instance=section)
    elif update:
        section.title = spec["title"]
        section.summary = spec.get("summary", "")
    if created or update:
        publish(section)
    report.add("sections", created)
    return section


def ensure_phrasing(section, spec, trainer, update, report):
    phrasing = Phrasing.objects.filter(section=section, title=spec["title"]).first()
    created = phrasing is None
    if created:
        phrasing = Phrasing(section=section, title=spec["title"])
    if created or update:
        phrasing.scenario = spec.get("scenario", "")
        phrasing.text = str(spec["text"]).strip()
        phrasing.save()
        phrasing.tags.set([str(tag) for tag in spec.get("tags") or []])
        phrasing.save()
        publish(phrasing, user=trainer)
    report.add("phrasings", created)
    return phrasing


def block(block_type, value):
    return {"type": block_type, "value": value, "id": str(uuid.uuid4())}


def build_body(spec_blocks, phrasings_by_title, where):
    """Translate the fixture's block list into StreamField raw data."""
    body = []
    for item in spec_blocks or []:
        (kind, value), *extra = item.items()
        if extra:
            raise ValueError(f"{where}: each block needs exactly one key, got {list(item)}")
        if kind == "heading":
            body.append(block("heading", str(value)))
        elif kind == "paragraph":
            body.append(block("paragraph", text_to_html(value)))
        elif kind == "steps":
            steps = []
            for step in value["items"]:
                if isinstance(step, str):
                    step = {"title": step}
                steps.append({"title": step["title"], "detail": text_to_html(step.get("detail", ""))})
            body.append(block("steps", {"title": value.get("title", ""), "steps": steps}))
        elif kind == "phrasing":
            if isinstance(value, str):
                if value not in phrasings_by_title:
                    raise ValueError(f"{where}: unknown phrasing {value!r}")
                body.append(
                    block(
                        "phrasing",
                        {"phrasing": phrasings_by_title[value].pk, "label": "", "scenario": "", "text": ""},
                    )
                )
            else:
                body.append(
                    block(
                        "phrasing",
                        {
                            "phrasing": None,
                            "label": value.get("label", ""),
                            "scenario": value.get("scenario", ""),
                            "text": str(value["text"]).strip(),
                        },
                    )
                )
        elif kind == "callout":
            body.append(block("callout", {"kind": value.get("kind", "do"), "items": list(value["items"])}))
        elif kind == "time_limits":
            rows = [
                {
                    "stage": row["stage"],
                    "amount": int(row["amount"]),
                    "unit": row.get("unit", "hour"),
                    "note": row.get("note", ""),
                }
                for row in value["rows"]
            ]
            body.append(block("time_limits", {"title": value.get("title", ""), "rows": rows}))
        elif kind == "table":
            header = value.get("header")
            data = ([header] if header else []) + [list(map(str, row)) for row in value["rows"]]
            body.append(
                block(
                    "table",
                    {
                        "data": data,
                        "first_row_is_table_header": bool(header),
                        "first_col_is_header": False,
                        "table_header_choice": "row" if header else "neither",
                        "table_caption": value.get("caption", ""),
                    },
                )
            )
        else:
            raise ValueError(f"{where}: unknown block type {kind!r}")
    return body


def review_values(spec, trainer):
    """The ReviewMixin fields of a fixture page: owner, last review and interval."""
    return {
        "maintainer": trainer,
        "review_interval_days": spec.get(
            "review_interval_days", settings.CALLBOOK_DEFAULT_REVIEW_INTERVAL_DAYS
        ),
        "last_reviewed": spec.get("last_reviewed") or datetime.date.today(),
    }


def ensure_article(section, spec, phrasings_by_title, trainer, update, report):
    article = ArticlePage.objects.child_of(section).filter(slug=spec["slug"]).first()
    created = article is None
    if not created and not update:
        report.add("articles", False)
        return article
    values = {
        "title": spec["title"],
        "summary": spec.get("summary", ""),
        "body": build_body(spec.get("body"), phrasings_by_title, f"{section.slug}/{spec['slug']}"),
        **review_values(spec, trainer),
    }
    article = save_child_page(
        section, ArticlePage, article, {"slug": spec["slug"], **values}, spec.get("tags"), user=trainer
    )
    report.add("articles", created)
    return article


def load(update=False, report=None, with_users=True, **options):
    """Create (or with ``update`` refresh) the demo site: users, home, sections, phrasings, articles.

    The content app's ``register_demo_loader`` hook. Returns the ``DemoReport``.
    """
    report = report if report is not None else DemoReport()
    with transaction.atomic():
        users = ensure_users(report) if with_users else {}
        trainer = users.get("trainer")
        site_spec = load_yaml(DEMO_DIR / "site.yaml") if (DEMO_DIR / "site.yaml").exists() else {}
        home = ensure_home(site_spec, report)
        for path in section_files():
            spec = load_yaml(path)
            section = ensure_section(home, spec, update, report)
            phrasings = {
                p["title"]: ensure_phrasing(section, p, trainer, update, report)
                for p in spec.get("phrasings", [])
            }
            for article in spec.get("articles", []):
                ensure_article(section, article, phrasings, trainer, update, report)
    return report
