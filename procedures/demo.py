"""Load the demo procedures from ``fixtures/demo/procedures/*.yaml`` (format: fixtures/README.md).

Called by ``load_demo`` after the sections. Idempotent: a procedure is matched by slug under
its section and left alone unless ``update=True``, which publishes a new revision.
"""

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction

from kb_site.content.demo import (
    DEMO_DIR,
    DemoReport,
    block,
    load_yaml,
    review_values,
    save_child_page,
    text_to_html,
)
from kb_site.content.models import Phrasing, SectionPage

from .choices import StepKind
from .models import ProcedurePage


class DemoFixtureError(ValueError):
    """A procedure fixture that cannot be loaded; the message names the file and the problem."""


def procedure_files():
    return sorted((DEMO_DIR / "procedures").glob("*.yaml"))


def _phrasings(items, section, phrasings_by_title, where):
    result = []
    for item in items or []:
        if isinstance(item, str):
            phrasing = phrasings_by_title.get(item)
            if phrasing is None:
                raise DemoFixtureError(
                    f"{where}: phrasing {item!r} not found in section {section.slug!r} "
                    f"(known: {', '.join(sorted(phrasings_by_title)) or 'none'})"
                )
            result.append({"phrasing": phrasing.pk, "label": "", "scenario": "", "text": ""})
        else:
            result.append(
                {
                    "phrasing": None,
                    "label": item.get("label", ""),
                    "scenario": item.get("scenario", ""),
                    "text": str(item["text"]).strip(),
                }
            )
    return result


def build_steps(spec_steps, section, phrasings_by_title, where):
    """The fixture's step list as StreamField raw data."""
    steps = []
    for spec in spec_steps or []:
        kind = spec.get("kind")
        key = str(spec.get("key", ""))
        here = f"{where} step {key!r}"
        value = {"key": key, "title": str(spec.get("title", key))}
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
        elif kind == StepKind.OUTCOME:
            value["outcome"] = str(spec.get("outcome", ""))
        else:
            raise DemoFixtureError(f"{here}: unknown kind {kind!r}")
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


def ensure_procedure(path, update, report, trainer=None):
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
    phrasings_by_title = {p.title: p for p in Phrasing.objects.filter(section=section)}
    outcomes = spec.get("outcomes") or []
    values = {
        "title": spec["title"],
        "when_to_use": str(spec.get("when_to_use", "")).strip(),
        "expected_minutes": spec.get("expected_minutes"),
        "variables": build_variables(spec.get("variables")),
        "outcomes": "\n".join(outcomes),
        "steps": build_steps(spec.get("steps"), section, phrasings_by_title, where),
        **review_values(spec, trainer),
    }
    page = save_child_page(
        section, ProcedurePage, page, {"slug": spec["slug"], **values}, spec.get("tags"), user=trainer
    )
    report.add("procedures", created)
    page.refresh_from_db()
    return page


def load(update=False, report=None):
    """Create (or with ``update`` republish) every demo procedure. Returns the report."""
    report = report if report is not None else DemoReport()
    trainer = get_user_model().objects.filter(username="trainer").first()
    with transaction.atomic():
        for path in procedure_files():
            try:
                ensure_procedure(path, update, report, trainer=trainer)
            except ValidationError as error:
                raise DemoFixtureError(f"{path.name}: invalid procedure: {error}") from error
    return report
