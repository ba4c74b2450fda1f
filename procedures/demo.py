"""Load the demo procedures from ``fixtures/demo/procedures/*.yaml`` (format: fixtures/README.md).

Called by ``load_demo`` after the sections. Idempotent: a procedure is matched by slug under
its section and left alone unless ``update=True``, which publishes a new revision.

Steps may carry follow-up rules (``follow_ups:``) naming the procedure that works them by slug, and the
group they go to by name. Groups a rule names are created first (the rule block refuses an unknown
group). Files are loaded so that a procedure another one's rules name is there first; a reference that
cannot be resolved then (a cycle, a procedure naming itself) is left empty and set by a second pass,
which publishes a new revision only when a rule's procedure is still missing.
"""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import transaction

from kb_site.content.demo import (
    DEMO_DIR,
    DemoReport,
    block,
    load_yaml,
    publish,
    review_values,
    save_child_page,
    section_files,
    text_to_html,
)
from kb_site.content.models import ArticlePage, ArticleRelatedPage, Phrasing, SectionPage

from .choices import AssignTo, DueUnit, FollowUpKind, Priority, StepKind
from .models import ProcedurePage, ProcedureRelatedArticle


class DemoFixtureError(ValueError):
    """A procedure fixture that cannot be loaded; the message names the file and the problem."""


def procedure_files():
    return sorted((DEMO_DIR / "procedures").glob("*.yaml"))


def _phrasings(items, section, phrasings_by_title, where):
    """A step's phrasings: a section phrasing's title, ``{phrasing: <title>, must_say: true}``, or an inline
    ``{label, scenario, text, must_say}``."""
    result = []
    for item in items or []:
        must_say = bool(item.get("must_say")) if isinstance(item, dict) else False
        title = item if not isinstance(item, dict) else item.get("phrasing")
        if title is not None:
            phrasing = phrasings_by_title.get(str(title))
            if phrasing is None:
                raise DemoFixtureError(
                    f"{where}: phrasing {title!r} not found in section {section.slug!r} "
                    f"(known: {', '.join(sorted(phrasings_by_title)) or 'none'})"
                )
            result.append(
                {"phrasing": phrasing.pk, "label": "", "scenario": "", "text": "", "must_say": must_say}
            )
        else:
            result.append(
                {
                    "phrasing": None,
                    "label": item.get("label", ""),
                    "scenario": item.get("scenario", ""),
                    "text": str(item["text"]).strip(),
                    "must_say": must_say,
                }
            )
    return result


def _choice(value, choices, default, where, name):
    value = str(value) if value not in (None, "") else default
    if value not in choices.values:
        raise DemoFixtureError(f"{where}: {name} {value!r} is not one of {', '.join(choices.values)}")
    return value


def rule_groups(spec_steps):
    """The group names the steps' follow-up rules hand work to."""
    return {
        str(rule["group"]).strip()
        for spec in spec_steps or []
        for rule in spec.get("follow_ups") or []
        if rule.get("assign_to") == AssignTo.GROUP and str(rule.get("group") or "").strip()
    }


def ensure_groups(names, report):
    for name in sorted(names):
        _group, created = Group.objects.get_or_create(name=name)
        report.add("groups", created)


def procedure_ids(slugs):
    return dict(ProcedurePage.objects.filter(slug__in=slugs).values_list("slug", "pk"))


def build_follow_ups(items, where, unresolved=None):
    """A step's ``follow_ups:`` as FollowUpRuleBlock raw data; a procedure named by a slug not loaded yet
    is left empty and its slug added to ``unresolved``."""
    ids = procedure_ids([str(item["procedure"]) for item in items or [] if item.get("procedure")])
    rules = []
    for index, item in enumerate(items or []):
        here = f"{where} rule {index + 1}"
        if not str(item.get("title") or "").strip() or not item.get("amount"):
            raise DemoFixtureError(f"{here}: title and amount are required")
        slug = str(item["procedure"]) if item.get("procedure") else ""
        if slug and slug not in ids and unresolved is not None:
            unresolved.add(slug)
        rules.append(
            {
                "title": str(item["title"]),
                "kind": _choice(item.get("kind"), FollowUpKind, FollowUpKind.CALLBACK, here, "kind"),
                "amount": int(item["amount"]),
                "unit": _choice(item.get("unit"), DueUnit, DueUnit.DAYS, here, "unit"),
                "before_hour": int(item["before_hour"]) if item.get("before_hour") else None,
                "assign_to": _choice(item.get("assign_to"), AssignTo, AssignTo.AGENT, here, "assign_to"),
                "group": str(item.get("group") or "").strip(),
                "priority": _choice(item.get("priority"), Priority, Priority.NORMAL, here, "priority"),
                "procedure": ids.get(slug),
            }
        )
    return rules


def build_steps(spec_steps, section, phrasings_by_title, where, unresolved=None):
    """The fixture's step list as StreamField raw data (procedures named by follow-up rules, 子流程 steps
    or ``continue_with`` and not loaded yet are left empty and added to ``unresolved``)."""
    ids = procedure_ids(
        [
            str(spec[name])
            for spec in spec_steps or []
            for name in ("procedure", "continue_with")
            if spec.get(name)
        ]
    )

    def procedure_id(slug):
        if slug and str(slug) not in ids and unresolved is not None:
            unresolved.add(str(slug))
        return ids.get(str(slug)) if slug else None

    steps = []
    for spec in spec_steps or []:
        kind = spec.get("kind")
        key = str(spec.get("key", ""))
        here = f"{where} step {key!r}"
        value = {"key": key, "title": str(spec.get("title", key))}
        if spec.get("target_seconds"):
            value["target_seconds"] = int(spec["target_seconds"])
        if kind in (StepKind.INSTRUCTION, StepKind.QUESTION, StepKind.INPUT, StepKind.OUTCOME):
            value["text"] = text_to_html(spec.get("text", ""))
            value["phrasings"] = _phrasings(spec.get("phrasings"), section, phrasings_by_title, here)
        if kind == StepKind.INSTRUCTION:
            value["checklist"] = [str(c) for c in spec.get("checklist") or []]
            value["next"] = str(spec.get("next", ""))
        elif kind == StepKind.QUESTION:
            value["answers"] = [
                {"label": str(a["label"]), "next": str(a["next"])} for a in spec.get("answers") or []
            ]
        elif kind == StepKind.INPUT:
            value["variables"] = [str(v) for v in spec.get("variables") or []]
            value["next"] = str(spec.get("next", ""))
        elif kind == StepKind.RULE:
            value["branches"] = [
                {
                    "variable": str(b["variable"]),
                    "op": b["op"],
                    "value": str(b["value"]),
                    "next": str(b["next"]),
                }
                for b in spec.get("branches") or []
            ]
            value["default"] = str(spec.get("default", ""))
        elif kind == StepKind.SUBPROCEDURE:
            value["procedure"] = procedure_id(spec.get("procedure"))
            value["next"] = str(spec.get("next", ""))
        elif kind == StepKind.OUTCOME:
            value["outcome"] = str(spec.get("outcome", ""))
            value["continue_with"] = procedure_id(spec.get("continue_with"))
        else:
            raise DemoFixtureError(f"{here}: unknown kind {kind!r}")
        if spec.get("follow_ups"):
            if kind == StepKind.RULE:
                raise DemoFixtureError(f"{here}: a rule step takes no follow_ups")
            value["follow_ups"] = build_follow_ups(spec["follow_ups"], here, unresolved)
        steps.append(block(kind, value))
    return steps


def build_variables(spec_variables):
    return [
        block(
            "variable",
            {
                "name": str(v["name"]),
                "label": str(v.get("label", "")),
                "type": v.get("type", "text"),
                "choices": [str(c) for c in v.get("choices") or []],
                "required": bool(v.get("required", False)),
            },
        )
        for v in spec_variables or []
    ]


def procedure_values(spec, section, phrasings_by_title, where, unresolved=None):
    """A procedure spec's page field values (title, when to use, variables, outcomes, steps): what the demo
    loader saves and the admin's YAML import (``procedures.interchange``) validates and saves."""
    return {
        "title": spec["title"],
        "when_to_use": str(spec.get("when_to_use", "")).strip(),
        "expected_minutes": spec.get("expected_minutes"),
        "variables": build_variables(spec.get("variables")),
        "outcomes": "\n".join(str(outcome) for outcome in spec.get("outcomes") or []),
        "steps": build_steps(spec.get("steps"), section, phrasings_by_title, where, unresolved),
    }


def ensure_procedure(path, update, report, trainer=None, unresolved=None, loading=()):
    """Create (or with ``update`` republish) the procedure of one fixture file. Slugs its follow-up
    rules name but that are not loaded yet go into ``unresolved`` (see ``link_follow_up_procedures``)."""
    spec = load_yaml(path)
    where = path.name
    section = SectionPage.objects.filter(slug=spec.get("section")).first()
    if section is None:
        raise DemoFixtureError(
            f"{where}: section {spec.get('section')!r} not found (load the sections first)"
        )
    page = ProcedurePage.objects.child_of(section).filter(slug=spec["slug"]).first()
    created = page is None
    if not created and not update:
        report.add("procedures", False)
        return page
    ensure_groups(rule_groups(spec.get("steps")), report)
    ensure_called_procedures(spec, report, trainer, unresolved, (*loading, spec["slug"]))
    phrasings_by_title = {p.title: p for p in Phrasing.objects.filter(section=section)}
    values = procedure_values(spec, section, phrasings_by_title, where, unresolved)
    values.update(review_values(spec, trainer))
    page = save_child_page(
        section, ProcedurePage, page, {"slug": spec["slug"], **values}, spec.get("tags"), user=trainer
    )
    report.add("procedures", created)
    page.refresh_from_db()
    return page


def _rule_slugs(spec):
    return {
        str(rule["procedure"])
        for step in spec.get("steps") or []
        for rule in step.get("follow_ups") or []
        if rule.get("procedure")
    }


def _called_slugs(spec):
    """The procedures the file's 子流程 steps run: they must exist before it is saved (the step needs one)."""
    return {
        str(step["procedure"])
        for step in spec.get("steps") or []
        if step.get("kind") == StepKind.SUBPROCEDURE and step.get("procedure")
    }


def _continue_slugs(spec):
    return {str(step["continue_with"]) for step in spec.get("steps") or [] if step.get("continue_with")}


def ensure_called_procedures(spec, report, trainer=None, unresolved=None, loading=()):
    """Load the files of the procedures ``spec``'s 子流程 steps run and that are not there yet (a file
    loaded on its own, as the tests do, brings the procedures it calls)."""
    missing = _called_slugs(spec) - set(procedure_ids(_called_slugs(spec)))
    for path in procedure_files():
        slug = load_yaml(path).get("slug")
        if slug in missing and slug not in loading:
            ensure_procedure(path, False, report, trainer=trainer, unresolved=unresolved, loading=loading)


def load_order(paths):
    """``paths`` ordered so that a procedure named by another file's follow-up rules loads before it
    (file order otherwise; a cycle keeps file order and is resolved by the second pass)."""
    specs = {path: load_yaml(path) for path in paths}
    by_slug = {spec.get("slug"): path for path, spec in specs.items()}
    ordered, visiting = [], set()

    def visit(path):
        if path in ordered or path in visiting:
            return
        visiting.add(path)
        for slug in sorted(
            _rule_slugs(specs[path]) | _called_slugs(specs[path]) | _continue_slugs(specs[path])
        ):
            if slug in by_slug:
                visit(by_slug[slug])
        visiting.discard(path)
        ordered.append(path)

    for path in paths:
        visit(path)
    return ordered


def link_follow_up_procedures(path, report, trainer=None):
    """Second pass: set the procedure of rules whose procedure was not loaded when the page was built.

    Only rules whose procedure is empty on the page and named in the file are set, so a second load (or
    an editor's choice of another procedure) changes nothing."""
    spec = load_yaml(path)
    slugs = _rule_slugs(spec)
    if not slugs:
        return None
    section = SectionPage.objects.filter(slug=spec.get("section")).first()
    page = ProcedurePage.objects.child_of(section).filter(slug=spec["slug"]).first() if section else None
    if page is None:
        return None
    ids = procedure_ids(slugs)
    missing = sorted(slugs - set(ids))
    if missing:
        raise DemoFixtureError(f"{path.name}: follow-up rules name unknown procedures: {', '.join(missing)}")
    wanted = {
        str(step.get("key")): [
            str(rule["procedure"]) if rule.get("procedure") else "" for rule in step.get("follow_ups") or []
        ]
        for step in spec.get("steps") or []
    }
    page = page.get_latest_revision_as_object()
    steps = page.steps.raw_data
    changed = False
    for step in steps:
        rules = step["value"].get("follow_ups") or []
        for item, slug in zip(rules, wanted.get(step["value"].get("key"), []), strict=False):
            # ListBlock raw data keeps each item as {"type": "item", "value": ..., "id": ...}
            rule = item["value"] if isinstance(item.get("value"), dict) else item
            if slug and not rule.get("procedure"):
                rule["procedure"] = ids[slug]
                changed = True
    if changed:
        page.steps = steps
        publish(page, user=trainer)
        report.add("procedure follow-up links", False)
    return page


def link_continue_with(path, report, trainer=None):
    """Second pass: set the ``continue_with`` of outcome steps whose procedure was not loaded when the
    page was built (only empty ones, so a second load changes nothing)."""
    spec = load_yaml(path)
    wanted = {
        str(step.get("key")): str(step["continue_with"])
        for step in spec.get("steps") or []
        if step.get("continue_with")
    }
    if not wanted:
        return None
    section = SectionPage.objects.filter(slug=spec.get("section")).first()
    page = ProcedurePage.objects.child_of(section).filter(slug=spec["slug"]).first() if section else None
    if page is None:
        return None
    ids = procedure_ids(set(wanted.values()))
    missing = sorted(set(wanted.values()) - set(ids))
    if missing:
        raise DemoFixtureError(f"{path.name}: continue_with names unknown procedures: {', '.join(missing)}")
    page = page.get_latest_revision_as_object()
    steps = page.steps.raw_data
    changed = False
    for step in steps:
        slug = wanted.get(step["value"].get("key"))
        if slug and step["type"] == StepKind.OUTCOME and not step["value"].get("continue_with"):
            step["value"]["continue_with"] = ids[slug]
            changed = True
    if changed:
        page.steps = steps
        publish(page, user=trainer)
        report.add("procedure continue_with links", False)
    return page


def load(update=False, report=None):
    """Create (or with ``update`` republish) every demo procedure. Returns the report."""
    report = report if report is not None else DemoReport()
    trainer = get_user_model().objects.filter(username="trainer").first()
    with transaction.atomic():
        unresolved = set()
        paths = load_order(procedure_files())
        for path in paths:
            try:
                ensure_procedure(path, update, report, trainer=trainer, unresolved=unresolved)
            except ValidationError as error:
                raise DemoFixtureError(f"{path.name}: invalid procedure: {error}") from error
        if unresolved:
            for path in paths:
                try:
                    link_follow_up_procedures(path, report, trainer=trainer)
                    link_continue_with(path, report, trainer=trainer)
                except ValidationError as error:
                    raise DemoFixtureError(f"{path.name}: invalid procedure: {error}") from error
        link_related_pages(report, trainer=trainer)
    return report


def _related_targets(slugs, models, section, where):
    """The pages ``related:`` names by slug, of one of ``models``: one in ``section`` first, else anywhere."""
    pages = []
    for slug in slugs:
        candidates = [model.objects.filter(slug=str(slug)) for model in models]
        page = next(
            (qs.child_of(section).first() for qs in candidates if qs.child_of(section).exists()), None
        )
        page = page or next((qs.order_by("path").first() for qs in candidates if qs.exists()), None)
        if page is None:
            raise DemoFixtureError(f"{where}: related names unknown page {slug!r}")
        pages.append(page)
    return pages


def _add_related(page, relation, field, link_model, targets, report, trainer):
    """Add the links to ``targets`` that ``page``'s latest revision lacks; publish only when one was."""
    page = page.get_latest_revision_as_object()
    links = list(getattr(page, relation).all())
    have = {getattr(link, f"{field}_id") for link in links}
    missing = [target for target in targets if target.pk not in have]
    if not missing:
        return
    setattr(page, relation, links + [link_model(**{field: target}) for target in missing])
    publish(page, user=trainer)
    report.add("related links", True)


def link_related_pages(report, trainer=None):
    """Last pass, once every page exists: the ``related:`` slugs of articles (in the section files: articles
    or procedures, 相关页面) and of procedures (articles, 相关规范). Links are only added, so a second load,
    or a link an editor added, changes nothing."""
    for path in section_files():
        spec = load_yaml(path)
        section = SectionPage.objects.filter(slug=spec.get("slug")).first()
        for article_spec in spec.get("articles") or []:
            if not article_spec.get("related") or section is None:
                continue
            article = ArticlePage.objects.child_of(section).filter(slug=article_spec["slug"]).first()
            if article is None:
                continue
            where = f"{path.name} {article_spec['slug']}"
            targets = _related_targets(article_spec["related"], (ArticlePage, ProcedurePage), section, where)
            _add_related(article, "related_pages", "page", ArticleRelatedPage, targets, report, trainer)
    for path in procedure_files():
        spec = load_yaml(path)
        if not spec.get("related"):
            continue
        section = SectionPage.objects.filter(slug=spec.get("section")).first()
        page = ProcedurePage.objects.child_of(section).filter(slug=spec["slug"]).first() if section else None
        if page is not None:
            targets = _related_targets(spec["related"], (ArticlePage,), section, path.name)
            _add_related(
                page, "related_articles", "article", ProcedureRelatedArticle, targets, report, trainer
            )
