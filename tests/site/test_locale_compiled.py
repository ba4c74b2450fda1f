"""The project catalogue (``locale/``): each committed ``.mo`` says what its ``.po`` says (``make messages``
compiles them), its translations keep their placeholders, and together with Wagtail's own catalogues it
leaves no string of the Wagtail apps the site uses in English, in Python, templates or the admin's
JavaScript. After a Wagtail upgrade the last test lists the new strings to translate.
"""

import ast
import gettext
import json
import re
from importlib import import_module
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import translation

LOCALE = Path(settings.LOCALE_PATHS[0])
CATALOGUES = sorted(LOCALE.glob("*/LC_MESSAGES/*.po"))

WAGTAIL_APPS = [
    "wagtail",
    "wagtail.admin",
    "wagtail.documents",
    "wagtail.images",
    "wagtail.snippets",
    "wagtail.users",
    "wagtail.search",
    "wagtail.sites",
    "wagtail.contrib.forms",
    "wagtail.contrib.redirects",
    "wagtail.contrib.settings",
    "wagtail.contrib.table_block",
    "wagtail.contrib.search_promotions",
]
# Strings Chinese writes as English does.
SAME_IN_CHINESE = {"URL", "ID", "Wagtail API v2", "%(range_start)s - %(range_end)s"}

PLACEHOLDER = re.compile(r"%\(\w+\)[sdr]|%[sd]|\{\w*\}")


def read_po(path):
    """The entries of a .po file as dicts of their fields (msgctxt, msgid, msgid_plural, msgstr, msgstr[0]…)."""
    entries, entry, field = [], {}, None
    for line in [*path.read_text(encoding="utf-8").splitlines(), ""]:
        line = line.strip()
        if not line:
            if entry:
                entries.append(entry)
            entry, field = {}, None
        elif line.startswith("#"):
            continue
        elif line.startswith('"'):
            entry[field] += ast.literal_eval(line)
        else:
            field, _, value = line.partition(" ")
            entry[field] = ast.literal_eval(value)
    return entries


def catalogue(entries):
    """The entries keyed as Python's gettext keys a compiled .mo."""
    compiled = {}
    for entry in entries:
        key = entry["msgid"] if "msgctxt" not in entry else f"{entry['msgctxt']}\x04{entry['msgid']}"
        for field, value in entry.items():
            if field == "msgstr":
                compiled[key] = value
            elif field.startswith("msgstr["):
                compiled[(key, int(field[7:-1]))] = value
    return compiled


def test_the_project_has_catalogues():
    assert [po.relative_to(LOCALE).as_posix() for po in CATALOGUES] == [
        "zh_Hans/LC_MESSAGES/django.po",
        "zh_Hans/LC_MESSAGES/djangojs.po",
    ]


@pytest.mark.parametrize("po", CATALOGUES, ids=lambda po: po.name)
def test_mo_is_compiled_from_po(po):
    with po.with_suffix(".mo").open("rb") as mo:
        compiled = gettext.GNUTranslations(mo)._catalog  # the .mo as Python reads it
    assert compiled == catalogue(read_po(po)), f"{po.name} and its .mo differ: run `make messages`"


@pytest.mark.parametrize("po", CATALOGUES, ids=lambda po: po.name)
def test_translations_keep_their_placeholders(po):
    wrong = []
    for entry in read_po(po)[1:]:  # after the header
        source = sorted(PLACEHOLDER.findall(entry.get("msgid_plural", entry["msgid"])))
        for field, value in entry.items():
            if field.startswith("msgstr") and (not value or sorted(PLACEHOLDER.findall(value)) != source):
                wrong.append(f"{entry['msgid']!r}: {value!r}")
    assert not wrong, "\n".join(wrong)


def english_catalogue(app, domain):
    return Path(import_module(app).__file__).parent / "locale" / "en" / "LC_MESSAGES" / f"{domain}.po"


def untranslated(entries, is_translated):
    return [
        entry["msgid"]
        for entry in entries
        if entry["msgid"] and entry["msgid"] not in SAME_IN_CHINESE and not is_translated(entry)
    ]


def test_wagtail_python_and_template_strings_are_all_translated():
    def is_translated(entry):
        context, msgid, plural = entry.get("msgctxt"), entry["msgid"], entry.get("msgid_plural")
        if plural is not None:
            translated = (
                translation.npgettext(context, msgid, plural, 2)
                if context
                else translation.ngettext(msgid, plural, 2)
            )
            return translated != plural
        translated = translation.pgettext(context, msgid) if context else translation.gettext(msgid)
        return translated != msgid

    missing = []
    with translation.override("zh-hans"):
        for app in WAGTAIL_APPS:
            missing += untranslated(read_po(english_catalogue(app, "django")), is_translated)
    assert not missing, f"{len(missing)} strings in English:\n" + "\n".join(missing)


def test_wagtail_admin_javascript_strings_are_all_translated(client, db):
    # The admin's scripts read the catalogue Wagtail serves, built from wagtail.admin's and LOCALE_PATHS'.
    # The request finds its site in the database (it passed without ``db`` only after a test that had
    # left the site in the rendered-parts cache).
    response = client.get("/admin/jsi18n/", HTTP_ACCEPT_LANGUAGE="zh-CN")
    assert response.status_code == 200
    served = json.loads(
        re.search(r"const newcatalog = (\{.*?\});", response.content.decode(), re.DOTALL).group(1)
    )

    def is_translated(entry):
        return entry["msgid"] in served

    missing = untranslated(read_po(english_catalogue("wagtail.admin", "djangojs")), is_translated)
    assert not missing, f"{len(missing)} strings in English:\n" + "\n".join(missing)
    assert served["Autosave in progress…"] == "正在自动保存…"
