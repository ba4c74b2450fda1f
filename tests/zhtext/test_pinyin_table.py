"""zhtext.pinyin reads from its own tables (zhtext/data/) exactly as pypinyin with its whole phrase table.

The reference runs in a process of its own with a clean environment (``PYPINYIN_NO_PHRASES`` and the
like are read once, when pypinyin is imported): there ``zhtext.pinyin.lazy_pinyin``, which everything
else in the module reads through, is pypinyin's own ``lazy_pinyin``. Compared: every phrase of
pypinyin's table through ``lazy_pinyin`` (full syllables and first letters); every line of the seed
documents and every title of the demo through ``full_pinyin``, ``initials``, ``pinyin_keys`` and
``word_syllables``; ``readings`` of every character of
the Basic Multilingual Plane and every character pypinyin has a reading for.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from zhtext import full_pinyin, initials, pinyin_keys
from zhtext.pinyin import _HANS, lazy_pinyin, readings, word_syllables

REPO_ROOT = Path(__file__).resolve().parents[2]
SEEDS = REPO_ROOT.parent / "shared" / "seeds"

REFERENCE = """
import json, sys
from pypinyin import Style, lazy_pinyin, pinyin
from pypinyin.constants import PHRASES_DICT, PINYIN_DICT, RE_HANS
import zhtext.pinyin as ours

assert len(PHRASES_DICT) > 40000, "pypinyin's phrase table is not loaded"
ours.lazy_pinyin = lambda text, first_letter=False: lazy_pinyin(
    text, style=Style.FIRST_LETTER if first_letter else Style.NORMAL
)


def readings(char):  # zhtext.pinyin.readings before its tables
    if not ours.has_cjk(char):
        return ()
    found = pinyin(char, style=Style.NORMAL, heteronym=True, errors="ignore")
    return tuple(dict.fromkeys(r.lower() for r in (found[0] if found else ()) if r.isalpha()))[:3]


texts = json.load(sys.stdin)
chars = [chr(code) for code in range(0x10000)] + [chr(code) for code in sorted(PINYIN_DICT) if code >= 0x10000]
json.dump(
    {
        "re_hans": RE_HANS.pattern,
        # Every phrase through lazy_pinyin itself, which the rest reads through (both styles).
        "phrases": {
            phrase: [ours.lazy_pinyin(phrase), ours.lazy_pinyin(phrase, first_letter=True)]
            for phrase in sorted(PHRASES_DICT)
        },
        "texts": {
            text: [ours.full_pinyin(text), ours.initials(text), ours.pinyin_keys(text), ours.word_syllables(text)]
            for text in texts
        },
        "readings": {char: readings(char) for char in chars},
    },
    sys.stdout,
)
"""


def demo_titles():
    def titles(node):
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "title" and isinstance(value, str):
                    yield value
                else:
                    yield from titles(value)
        elif isinstance(node, list):
            for value in node:
                yield from titles(value)

    found = []
    for path in sorted((REPO_ROOT / "fixtures" / "demo").rglob("*.yaml")):
        found += titles(yaml.safe_load(path.read_text(encoding="utf-8")))
    return found


@pytest.fixture(scope="module")
def reference():
    seed_lines = [
        line for path in sorted(SEEDS.glob("*.txt")) for line in path.read_text(encoding="utf-8").splitlines()
    ]
    titles = demo_titles()
    assert len(seed_lines) > 100 and len(titles) > 100
    # Text around and between Chinese runs; a phrase cut short (一个半 of 一个半个: 一个, 半); a run that
    # only starts a phrase and has none at its start, read character by character (下不了 of 下不了台:
    # xia bu le, not the 不了 of the phrase table); characters pypinyin counts as Chinese without a
    # reading (a private-use one, one of Extension B).
    extra = [
        "",
        " ",
        "EMS 95598投诉",
        "Abc投诉处理流程x",
        "一个半",
        "一个半个",
        "下不了",
        "一块石头落了",
        "长城银行行长",
        "\ue817a\U00020002",
    ]
    env = {name: value for name, value in os.environ.items() if not name.startswith("PYPINYIN")}
    done = subprocess.run(
        [sys.executable, "-c", REFERENCE],
        input=json.dumps(seed_lines + titles + extra),
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO_ROOT,
        check=True,
    )
    return json.loads(done.stdout)


def test_characters_pypinyin_reads_are_the_same():
    env = {name: value for name, value in os.environ.items() if not name.startswith("PYPINYIN")}
    script = "from pypinyin.constants import RE_HANS; print(RE_HANS.pattern)"
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True)
    assert done.stdout.strip() == f"^(?:[{_HANS}])+$"


def test_phrases_read_as_pypinyin_reads_them(reference):
    different = [
        phrase
        for phrase, expected in reference["phrases"].items()
        if [lazy_pinyin(phrase), lazy_pinyin(phrase, first_letter=True)] != expected
    ]
    assert len(reference["phrases"]) > 47000
    assert different == []


def test_titles_read_as_pypinyin_reads_them(reference):
    different = [
        text
        for text, expected in reference["texts"].items()
        if [full_pinyin(text), initials(text), pinyin_keys(text), list(word_syllables(text))] != expected
    ]
    assert len(reference["texts"]) > 500
    assert different == []


def test_characters_have_pypinyins_readings(reference):
    different = [char for char, expected in reference["readings"].items() if list(readings(char)) != expected]
    assert len(reference["readings"]) > 65536
    assert different == []
    assert readings("还")[:2] == ("hai", "huan") and readings("行")[:2] == ("xing", "hang")


def test_zhtext_and_the_site_never_import_pypinyin():
    """Its phrase table took ~42 MB in every worker: Django set up (every app, the content models'
    pinyin keys), the spelling suggestions and a first reading must not import pypinyin at all."""
    script = """
import os, sys
sys.path.insert(0, os.getcwd())
os.environ["DJANGO_SETTINGS_MODULE"] = "kb_site.settings.test"
import django
django.setup()
import search.spelling, zhtext
from zhtext.pinyin import readings
print(zhtext.pinyin_keys("投诉处理流程"), readings("还")[:2], sorted(m for m in sys.modules if m.startswith("pypinyin")))
"""
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=REPO_ROOT, check=True
    )
    assert done.stdout.strip() == "tousu ts chuli cl liucheng lc tousuchuliliucheng tscllc ('hai', 'huan') []"
