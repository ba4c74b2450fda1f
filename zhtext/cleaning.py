"""Text as it may be stored: no control characters, surrogates or Unicode noncharacters.

A ticket number pasted with a vertical tab, a NUL from a browser extension or a U+FFFE from a broken
copy is harmless on screen but breaks what reads the text later (an XLSX export refuses it, a CSV
row splits). ``clean_text`` is applied where text enters (forms, queries); exports tolerate what was
stored before.
"""

import re

# C0 and C1 controls, surrogates, and the noncharacters U+FDD0–U+FDEF and U+xFFFE / U+xFFFF.
_UNSAFE = "\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufdd0-\ufdef" + "".join(
    f"{chr(plane * 0x10000 + 0xFFFE)}{chr(plane * 0x10000 + 0xFFFF)}" for plane in range(17)
)
_UNSAFE_RE = re.compile(f"[{_UNSAFE}]")
_LINE_BREAKS_RE = re.compile(r"[\t\n\r]")


def clean_text(text, multiline=False):
    """``text`` with every unsafe character replaced by a space.

    One-line values (a reference, a name, a query) also lose tabs and line breaks and have their runs
    of white space folded to one space; ``multiline`` text (a note) keeps its lines.
    """
    text = _UNSAFE_RE.sub(" ", str(text or ""))
    if multiline:
        return text.replace("\r\n", "\n").replace("\r", "\n")
    return " ".join(_LINE_BREAKS_RE.sub(" ", text).split())
