"""A procedure as a YAML file in the fixture format (fixtures/README.md): export, and import from the admin.

Export writes what the editor holds (the latest revision): steps with their keys, phrasings by title when
they come from the 话术库 and inline otherwise, 必说, target times, follow-up rules, 子流程 and 接着进入的流程
by slug, and the related articles by slug. Import reads such a file into a section through the demo
loader's builders (``procedures.demo.procedure_values``: one loader) and validates it as the editor's save
does (``ProcedurePage.full_clean``: the graph, outcomes, variables, rules); it saves a new draft page, or a
new draft revision of the procedure with that slug in the section, never a publish. Every problem is
reported with its step, and nothing is saved.

Uploads are hostile until parsed: a size limit, UTF-8 only, ``yaml`` through the safe loader with no
aliases and bounded depth and size, and a type check of every field before any builder sees it.
"""

import datetime
from html.parser import HTMLParser

import yaml
from django.core.exceptions import ValidationError
from django.core.validators import validate_unicode_slug
from django.db import transaction
from django.utils.translation import gettext as _
from wagtail.log_actions import log

from kb_site.content.models import ArticlePage, Phrasing

from . import demo
from .choices import AssignTo, DueUnit, FollowUpKind, Operator, Priority, StepKind, VariableType
from .models import ProcedurePage, ProcedureRelatedArticle

MAX_BYTES = 512 * 1024
MAX_DEPTH = 12
MAX_NODES = 50_000
MAX_STEPS = 300

TOP_KEYS = {
    "section",
    "title",
    "slug",
    "when_to_use",
    "tags",
    "expected_minutes",
    "variables",
    "outcomes",
    "steps",
    "related",
    "last_reviewed",
    "review_interval_days",
}
STEP_KEYS = {
    "key",
    "kind",
    "title",
    "text",
    "phrasings",
    "checklist",
    "next",
    "answers",
    "variables",
    "branches",
    "default",
    "outcome",
    "follow_ups",
    "target_seconds",
    "procedure",
    "continue_with",
}


class ImportProblems(Exception):
    """A file that cannot be imported; ``problems`` are the messages, each naming its step."""

    def __init__(self, problems):
        super().__init__("; ".join(problems))
        self.problems = list(problems)


# --- export ----------------------------------------------------------------------------------------------


class _PlainText(HTMLParser):
    """Rich text back to the fixture's plain text: blocks become paragraphs, ``<br>`` a line break."""

    BLOCKS = {"p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "blockquote", "div"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.paragraphs, self.current = [], []

    def handle_starttag(self, tag, attrs):
        if tag in self.BLOCKS:
            self.flush()
        elif tag == "br":
            self.current.append("\n")

    def handle_endtag(self, tag):
        if tag in self.BLOCKS:
            self.flush()

    def handle_data(self, data):
        self.current.append(data)

    def flush(self):
        text = "".join(self.current).strip()
        if text:
            self.paragraphs.append(text)
        self.current = []


def html_to_text(html):
    parser = _PlainText()
    parser.feed(html or "")
    parser.close()
    parser.flush()
    return "\n\n".join(parser.paragraphs)


def _slug(page):
    return getattr(page, "slug", None) if page else None


def _export_phrasing(value):
    must_say = bool(value.get("must_say"))
    snippet = value.get("phrasing")
    if snippet is not None:
        return {"phrasing": snippet.title, "must_say": True} if must_say else snippet.title
    item = {key: value.get(key) for key in ("label", "scenario") if value.get(key)}
    item["text"] = value.get("text") or ""
    if must_say:
        item["must_say"] = True
    return item


def _export_rule(value):
    rule = {
        "title": value.get("title") or "",
        "kind": value.get("kind") or FollowUpKind.CALLBACK,
        "amount": value.get("amount"),
        "unit": value.get("unit") or DueUnit.DAYS,
    }
    if value.get("before_hour"):
        rule["before_hour"] = value["before_hour"]
    rule["assign_to"] = value.get("assign_to") or AssignTo.AGENT
    if (value.get("group") or "").strip():
        rule["group"] = value["group"].strip()
    rule["priority"] = value.get("priority") or Priority.NORMAL
    if _slug(value.get("procedure")):
        rule["procedure"] = _slug(value.get("procedure"))
    return rule


def _export_step(kind, value):
    step = {"key": value.get("key") or "", "kind": str(kind), "title": value.get("title") or ""}
    if value.get("target_seconds"):
        step["target_seconds"] = value["target_seconds"]
    text = value.get("text")
    if text is not None and html_to_text(getattr(text, "source", "")):
        step["text"] = html_to_text(text.source)
    if value.get("phrasings"):
        step["phrasings"] = [_export_phrasing(p) for p in value["phrasings"]]
    if kind == StepKind.INSTRUCTION:
        if value.get("checklist"):
            step["checklist"] = [str(item) for item in value["checklist"] if item]
        step["next"] = value.get("next") or ""
    elif kind == StepKind.QUESTION:
        step["answers"] = [
            {"label": a.get("label"), "next": a.get("next")} for a in value.get("answers") or []
        ]
    elif kind == StepKind.INPUT:
        step["variables"] = [str(name) for name in value.get("variables") or []]
        step["next"] = value.get("next") or ""
    elif kind == StepKind.RULE:
        step["branches"] = [
            {"variable": b.get("variable"), "op": b.get("op"), "value": b.get("value"), "next": b.get("next")}
            for b in value.get("branches") or []
        ]
        step["default"] = value.get("default") or ""
    elif kind == StepKind.SUBPROCEDURE:
        step["procedure"] = _slug(value.get("procedure")) or ""
        step["next"] = value.get("next") or ""
    elif kind == StepKind.OUTCOME:
        step["outcome"] = value.get("outcome") or ""
        if _slug(value.get("continue_with")):
            step["continue_with"] = _slug(value.get("continue_with"))
    if value.get("follow_ups"):
        step["follow_ups"] = [_export_rule(rule) for rule in value["follow_ups"]]
    return step


def _export_variable(value):
    variable = {"name": value.get("name")}
    if value.get("label"):
        variable["label"] = value["label"]
    variable["type"] = value.get("type") or VariableType.TEXT
    if value.get("choices"):
        variable["choices"] = list(value["choices"])
    if value.get("required"):
        variable["required"] = True
    return variable


def export_spec(page):
    """``page`` (a ProcedurePage as the editor holds it) as a fixture spec: plain dicts and lists."""
    section = page.get_parent()
    spec = {"section": section.slug, "title": page.title, "slug": page.slug, "when_to_use": page.when_to_use}
    tags = sorted(tag.name for tag in page.tags.all())
    if tags:
        spec["tags"] = tags
    if page.expected_minutes:
        spec["expected_minutes"] = page.expected_minutes
    if page.last_reviewed:
        spec["last_reviewed"] = page.last_reviewed
    if page.review_interval_days:
        spec["review_interval_days"] = page.review_interval_days
    spec["variables"] = [_export_variable(child.value) for child in page.variables]
    outcomes = [line.strip() for line in (page.outcomes or "").splitlines() if line.strip()]
    if outcomes:
        spec["outcomes"] = outcomes
    spec["steps"] = [_export_step(child.block_type, child.value) for child in page.steps]
    related = [link.article.slug for link in page.related_articles.all() if link.article_id]
    if related:
        spec["related"] = related
    return spec


def export_yaml(page):
    """The YAML text of ``export_spec(page)``: Chinese as written, keys in the fixture's order."""
    return yaml.safe_dump(
        export_spec(page), allow_unicode=True, sort_keys=False, default_flow_style=False, width=1000
    )


# --- reading an upload -----------------------------------------------------------------------------------


class _BoundedSafeLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` (plain data only) that also refuses aliases, whose references let a few bytes
    stand for billions of nodes once walked, and documents deeper than MAX_DEPTH or larger than MAX_NODES."""

    def __init__(self, stream):
        super().__init__(stream)
        self.depth = 0
        self.nodes = 0

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            raise ImportProblems([_("文件中有 YAML 别名（*引用），导入不支持别名，请把内容直接写出。")])
        self.depth += 1
        self.nodes += 1
        if self.depth > MAX_DEPTH:
            raise ImportProblems(
                [_("文件嵌套层次过深（超过 %(depth)s 层），不是流程文件。") % {"depth": MAX_DEPTH}]
            )
        if self.nodes > MAX_NODES:
            raise ImportProblems([_("文件内容过多，不是一个流程文件。")])
        try:
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


def parse(raw):
    """The spec (a mapping) in the uploaded bytes ``raw``; ImportProblems when it is not one."""
    if len(raw) > MAX_BYTES:
        raise ImportProblems([_("文件太大：最多 %(kb)s KB。") % {"kb": MAX_BYTES // 1024}])
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportProblems(
            [_("文件不是 UTF-8 编码的文本，请用“导出 YAML”得到的文件，或以 UTF-8 保存后再导入。")]
        ) from None
    try:
        spec = yaml.load(text, Loader=_BoundedSafeLoader)  # noqa: S506 (a SafeLoader subclass)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark else "?"
        raise ImportProblems(
            [
                _("第 %(line)s 行附近不是有效的 YAML：%(problem)s")
                % {"line": line, "problem": error.problem or error}
            ]
        ) from None
    except (yaml.YAMLError, RecursionError, ValueError, OverflowError):
        raise ImportProblems([_("文件不是有效的 YAML。")]) from None
    if not isinstance(spec, dict):
        raise ImportProblems(
            [_("文件应是一个流程：以 title、slug、steps 等键开头的映射，而不是列表或单个值。")]
        )
    return spec


# --- checking the spec's shape ---------------------------------------------------------------------------

SCALARS = (str, int, float, datetime.date)


def _is_text(value):
    return isinstance(value, SCALARS) and not isinstance(value, bool)


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


class _Checker:
    """Collects the shape problems of a spec (types, required keys, known choices), each with its place."""

    def __init__(self, phrasing_titles):
        self.phrasing_titles = phrasing_titles
        self.problems = []

    def add(self, where, message):
        self.problems.append(f"{where}：{message}" if where else message)

    def text(self, where, mapping, key, required=False):
        value = mapping.get(key)
        if value is None or value == "":
            if required:
                self.add(where, _("缺少“%(key)s”。") % {"key": key})
            return False
        if not _is_text(value):
            self.add(where, _("“%(key)s”应是文字，不能是列表或映射。") % {"key": key})
            return False
        return True

    def integer(self, where, mapping, key, required=False):
        value = mapping.get(key)
        if value is None:
            if required:
                self.add(where, _("缺少“%(key)s”。") % {"key": key})
            return
        if not _is_int(value):
            self.add(where, _("“%(key)s”应是整数。") % {"key": key})

    def choice(self, where, mapping, key, choices):
        if self.text(where, mapping, key) and str(mapping[key]) not in choices.values:
            self.add(
                where,
                _("“%(key)s”的值“%(value)s”不是可选值之一：%(choices)s")
                % {"key": key, "value": mapping[key], "choices": "、".join(choices.values)},
            )

    def items(self, where, mapping, key, kind=None):
        """The list under ``key`` (empty when missing); a problem when it is not a list of ``kind``."""
        value = mapping.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            self.add(where, _("“%(key)s”应是列表。") % {"key": key})
            return []
        if kind == "text" and not all(_is_text(item) for item in value):
            self.add(where, _("“%(key)s”中的每一项应是文字。") % {"key": key})
            return []
        if kind == "mapping" and not all(isinstance(item, dict) for item in value):
            self.add(where, _("“%(key)s”中的每一项应是映射（键: 值）。") % {"key": key})
            return []
        return value

    def unknown(self, where, mapping, known):
        extra = sorted(str(key) for key in mapping if key not in known)
        if extra:
            self.add(where, _("不认识的键：%(keys)s") % {"keys": "、".join(extra)})

    def spec(self, spec):
        self.unknown("", spec, TOP_KEYS)
        self.text("", spec, "title", required=True)
        if self.text("", spec, "slug", required=True):
            try:
                validate_unicode_slug(str(spec["slug"]))
            except ValidationError:
                self.add("", _("slug“%(slug)s”只能包含字母、数字、连字符和下划线。") % {"slug": spec["slug"]})
        self.text("", spec, "when_to_use")
        self.text("", spec, "section")
        self.integer("", spec, "expected_minutes")
        self.integer("", spec, "review_interval_days")
        if spec.get("last_reviewed") is not None and not isinstance(spec["last_reviewed"], datetime.date):
            self.add("", _("“last_reviewed”应是日期，例如 2026-03-01。"))
        self.items("", spec, "tags", "text")
        self.items("", spec, "outcomes", "text")
        self.items("", spec, "related", "text")
        for index, variable in enumerate(self.items("", spec, "variables", "mapping")):
            where = _("变量 %(n)s") % {"n": index + 1}
            self.unknown(where, variable, {"name", "label", "type", "choices", "required"})
            self.text(where, variable, "name", required=True)
            self.text(where, variable, "label")
            self.choice(where, variable, "type", VariableType)
            self.items(where, variable, "choices", "text")
            if "required" in variable and not isinstance(variable["required"], bool):
                self.add(where, _("“required”应是 true 或 false。"))
        steps = spec.get("steps")
        if not isinstance(steps, list) or not steps:
            self.add("", _("“steps”应是至少有一个步骤的列表。"))
            return
        if len(steps) > MAX_STEPS:
            self.add("", _("步骤太多：最多 %(n)s 步。") % {"n": MAX_STEPS})
            return
        for index, step in enumerate(steps):
            self.step(index, step)

    def step(self, index, step):
        if not isinstance(step, dict):
            self.add(_("第 %(n)s 步") % {"n": index + 1}, _("每个步骤应是映射（key、kind、title 等）。"))
            return
        where = step_place(index, step)
        self.unknown(where, step, STEP_KEYS)
        self.text(where, step, "key")
        self.text(where, step, "title", required=True)
        self.text(where, step, "text")
        self.integer(where, step, "target_seconds")
        kind = step.get("kind")
        if not _is_text(kind) or str(kind) not in StepKind.values:
            self.add(
                where,
                _("“kind”应是以下之一：%(kinds)s") % {"kinds": "、".join(StepKind.values)},
            )
            return
        for name in ("next", "default", "outcome", "procedure", "continue_with"):
            self.text(where, step, name)
        for item in self.items(where, step, "phrasings"):
            self.phrasing(where, item)
        self.items(where, step, "checklist", "text")
        self.items(where, step, "variables", "text")
        for answer in self.items(where, step, "answers", "mapping"):
            self.text(where, answer, "label", required=True)
            self.text(where, answer, "next", required=True)
        for branch in self.items(where, step, "branches", "mapping"):
            self.text(where, branch, "variable", required=True)
            self.choice(where, branch, "op", Operator)
            self.text(where, branch, "value", required=True)
            self.text(where, branch, "next", required=True)
        if kind == StepKind.RULE and step.get("follow_ups"):
            self.add(where, _("规则步骤不能有跟进规则（follow_ups）。"))
        for number, rule in enumerate(self.items(where, step, "follow_ups", "mapping")):
            here = _("%(step)s 跟进规则 %(n)s") % {"step": where, "n": number + 1}
            self.text(here, rule, "title", required=True)
            self.integer(here, rule, "amount", required=True)
            if _is_int(rule.get("amount")) and rule["amount"] < 1:
                self.add(here, _("“amount”应是正整数。"))
            self.integer(here, rule, "before_hour")
            self.choice(here, rule, "kind", FollowUpKind)
            self.choice(here, rule, "unit", DueUnit)
            self.choice(here, rule, "assign_to", AssignTo)
            self.choice(here, rule, "priority", Priority)
            self.text(here, rule, "group")
            self.text(here, rule, "procedure")

    def phrasing(self, where, item):
        if isinstance(item, dict):
            title = item.get("phrasing")
            if title is not None:
                if not _is_text(title):
                    self.add(where, _("话术的“phrasing”应是话术库中的标题。"))
                    return
                item = str(title)
            else:
                self.text(where, item, "text", required=True)
                self.text(where, item, "label")
                self.text(where, item, "scenario")
                return
        if not _is_text(item):
            self.add(where, _("每条话术应是话术库中的标题，或写有 text 的映射。"))
        elif str(item) not in self.phrasing_titles:
            self.add(where, _("话术库中没有标题为“%(title)s”的话术。") % {"title": item})


def step_place(index, step):
    """How a problem names a step: 第 2 步「外包装是否完好？」（ask-package）."""
    title = step.get("title") if isinstance(step, dict) else None
    key = step.get("key") if isinstance(step, dict) else None
    place = _("第 %(n)s 步") % {"n": index + 1}
    if _is_text(title) and title != "":
        place += f"「{title}」"
    if _is_text(key) and key != "":
        place += f"（{key}）"
    return place


# --- importing -------------------------------------------------------------------------------------------


def phrasings_for(section, spec):
    """Phrasing snippets by title an imported file may name: the target section's first, then those of the
    section it was exported from (``section:``), then the ones of no section."""
    found = {}
    origin = spec.get("section") if _is_text(spec.get("section")) else None
    sources = [Phrasing.objects.filter(section=section)]
    if origin and str(origin) != section.slug:
        sources.append(Phrasing.objects.filter(section__slug=str(origin)))
    sources.append(Phrasing.objects.filter(section__isnull=True))
    for queryset in sources:
        for phrasing in queryset.order_by("pk"):
            found.setdefault(phrasing.title, phrasing)
    return found


def _procedure_slugs(spec):
    slugs = set()
    for step in spec.get("steps") or []:
        for key in ("procedure", "continue_with"):
            if step.get(key):
                slugs.add(str(step[key]))
        for rule in step.get("follow_ups") or []:
            if rule.get("procedure"):
                slugs.add(str(rule["procedure"]))
    return slugs


def _field_label(model_or_block, name):
    if isinstance(name, int):
        return None
    child_blocks = getattr(model_or_block, "child_blocks", None)
    if child_blocks is not None:
        child = child_blocks.get(name)
        return str(child.label) if child is not None and child.label else str(name)
    try:
        return str(model_or_block._meta.get_field(name).verbose_name)
    except Exception:  # noqa: BLE001 (a name that is no field: say it as it is)
        return str(name)


def _leaves(error):
    """``(path, message)`` for every message of a (block) ValidationError tree; ``path`` names the field,
    step index and block fields leading to it."""
    found = []
    block_errors = getattr(error, "block_errors", None) or {}
    for key, sub in block_errors.items():
        found.extend(((key, *path), message) for path, message in _leaves(sub))
    non_block = getattr(error, "non_block_errors", None)
    for sub in non_block or []:
        found.extend(_leaves(sub))
    if block_errors or non_block:
        return found
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            for sub in errors:
                found.extend(((field, *path), message) for path, message in _leaves(sub))
        return found
    if len(error.error_list) > 1 or error.error_list[0] is not error:
        for sub in error.error_list:
            found.extend(_leaves(sub))
        return found
    message = error.message % error.params if error.params else error.message
    return [((), str(message))]


def _describe(error, spec):
    """The messages of a save's ValidationError, each with its place: a step's number, title and key."""
    steps = spec.get("steps") or []
    stream = ProcedurePage._meta.get_field("steps").stream_block
    problems = []
    for path, message in _leaves(error):
        if not path or path[0] == "__all__":
            problems.append(message)
            continue
        field, rest = path[0], path[1:]
        if field == "steps" and rest and isinstance(rest[0], int) and rest[0] < len(steps):
            index = rest[0]
            block = stream.child_blocks.get(str(steps[index].get("kind")))
            names = [_field_label(block, name) for name in rest[1:2] if block is not None]
            label = "".join(f" · {name}" for name in names if name)
            problems.append(f"{step_place(index, steps[index])}{label}：{message}")
        elif field == "variables" and rest and isinstance(rest[0], int):
            problems.append(_("变量 %(n)s：%(message)s") % {"n": rest[0] + 1, "message": message})
        else:
            problems.append(f"{_field_label(ProcedurePage, field)}：{message}")
    return problems or [str(error)]


def check(spec, section):
    """The shape problems of ``spec`` for import into ``section``, and the names it refers to that do not
    exist (phrasing titles, procedure and article slugs). An empty list when it can be built."""
    checker = _Checker(phrasings_for(section, spec))
    checker.spec(spec)
    if checker.problems:
        return checker.problems
    problems = []
    slugs = _procedure_slugs(spec)
    known = set(ProcedurePage.objects.filter(slug__in=slugs).values_list("slug", flat=True))
    if str(spec["slug"]) in slugs:
        known.add(str(spec["slug"]))  # itself: resolved once saved (a rule working the same procedure)
    for index, step in enumerate(spec["steps"]):
        if step.get("kind") == StepKind.SUBPROCEDURE and str(step.get("procedure") or "") == str(
            spec["slug"]
        ):
            problems.append(
                _("%(step)s：子流程不能运行本流程自己，否则会无限循环。") % {"step": step_place(index, step)}
            )
            continue
        names = [step.get("procedure"), step.get("continue_with")]
        names += [rule.get("procedure") for rule in step.get("follow_ups") or []]
        for slug in names:
            if slug and str(slug) not in known:
                problems.append(
                    _("%(step)s：没有地址（slug）为“%(slug)s”的流程。")
                    % {"step": step_place(index, step), "slug": slug}
                )
    related = [str(slug) for slug in spec.get("related") or []]
    articles = set(ArticlePage.objects.filter(slug__in=related).values_list("slug", flat=True))
    for slug in related:
        if slug not in articles:
            problems.append(_("相关规范：没有地址（slug）为“%(slug)s”的规范文章。") % {"slug": slug})
    return problems


def _related_articles(spec, section):
    """``related:`` article slugs as ProcedureRelatedArticle rows: an article of the section first."""
    links = []
    for slug in dict.fromkeys(str(slug) for slug in spec.get("related") or []):
        candidates = ArticlePage.objects.filter(slug=slug)
        article = candidates.child_of(section).first() or candidates.order_by("path").first()
        links.append(ProcedureRelatedArticle(article=article))
    return links


def import_procedure(spec, section, user):
    """Save ``spec`` into ``section`` as a draft: a new page, or a new revision of the procedure with its
    slug there. Returns ``(page, created)``; raises ImportProblems (nothing saved) when the file does not
    hold a valid procedure, PermissionError when ``user`` may not add or edit it there."""
    problems = check(spec, section)
    if problems:
        raise ImportProblems(problems)
    slug = str(spec["slug"])
    sibling = section.get_children().filter(slug=slug).first()
    if sibling is not None and sibling.specific_class is not ProcedurePage:
        raise ImportProblems(
            [
                _("栏目“%(section)s”下已有地址为“%(slug)s”的其他页面（%(title)s），请改用别的 slug。")
                % {"section": section.title, "slug": slug, "title": sibling.title}
            ]
        )
    if sibling is None and not section.permissions_for_user(user).can_add_subpage():
        raise PermissionError(_("你没有在这个栏目下新建页面的权限。"))
    if sibling is not None and not sibling.permissions_for_user(user).can_edit():
        raise PermissionError(_("你没有编辑流程“%(title)s”的权限。") % {"title": sibling.title})
    lock = sibling.specific.get_lock() if sibling is not None else None
    if lock is not None and lock.for_user(user):
        raise ImportProblems(
            [
                _("流程“%(title)s”已被锁定，暂时不能导入新版本：%(reason)s")
                % {"title": sibling.title, "reason": lock.get_message(user)}
            ]
        )
    unresolved = set()
    try:
        values = demo.procedure_values(spec, section, phrasings_for(section, spec), "", unresolved)
    except (demo.DemoFixtureError, KeyError, TypeError, ValueError, AttributeError) as error:
        raise ImportProblems([_("文件内容无法读取：%(error)s") % {"error": error}]) from None
    try:
        with transaction.atomic():
            page, created = _save_draft(spec, section, sibling, values, user)
    except ValidationError as error:
        raise ImportProblems(_describe(error, spec)) from None
    return page, created


def _point_at_self(raw_steps, spec, page_id):
    """Point the follow-up rules that name the imported procedure's own slug (a 回访 that is redone through
    itself) at ``page_id``: the builders resolved that slug to whatever page had it, or to nothing."""
    slug = str(spec["slug"])
    changed = False
    for block, step in zip(raw_steps, spec["steps"], strict=True):
        rules = block["value"].get("follow_ups") or []
        for item, rule in zip(rules, step.get("follow_ups") or [], strict=False):
            value = item["value"] if isinstance(item.get("value"), dict) else item
            if str(rule.get("procedure") or "") == slug and value.get("procedure") != page_id:
                value["procedure"] = page_id
                changed = True
    return changed


def _save_draft(spec, section, sibling, values, user):
    related = _related_articles(spec, section)
    tags = [str(tag) for tag in spec.get("tags") or []]
    review = {}
    if spec.get("last_reviewed"):
        review["last_reviewed"] = spec["last_reviewed"]
    if spec.get("review_interval_days"):
        review["review_interval_days"] = spec["review_interval_days"]
    if sibling is None:
        page = ProcedurePage(
            slug=str(spec["slug"]), live=False, owner=user, maintainer=user, **values, **review
        )
        page.related_articles = related
        page.tags.set(tags)
        section.add_child(instance=page)  # runs full_clean: the same checks as the editor's save
        steps = page.steps.get_prep_value()
        if _point_at_self(steps, spec, page.pk):
            page.steps = steps
        revision = page.save_revision(user=user, log_action=False)
        log(instance=page, action="wagtail.create", user=user, revision=revision, content_changed=True)
        return page, True
    page = sibling.specific.get_latest_revision_as_object()
    _point_at_self(values["steps"], spec, sibling.pk)
    for name, value in {**values, **review}.items():
        setattr(page, name, value)
    page.related_articles = related
    page.tags.set(tags)
    page.save_revision(user=user, log_action=True)  # full_clean first; the live version stays as it is
    return page, False
