"""A general Chinese synonym dictionary, for widening a query that finds too little.

The words come from the ``cnsyn`` package (Apache-2.0; pinned in ``requirements-nodeps.txt``): its
``chinese_dictionary/sim_words.txt`` lists one group of synonyms a line (道歉 致歉 赔罪 赔礼…). Only the
file is read: importing ``cnsyn`` would load an 83 MB nearest-neighbour model. Its first 28,043 lines
are titles from an encyclopedia (费城, 费拉拉…), of no use to a service line; the dictionary part after
them is kept, lines of at most 12 words (longer ones are categories: 停电 停工 停学 停车…), and of
them only words of two to six Chinese characters that are not function words.

Memory: every worker process may widen a query, so the groups are kept as one string with line offsets
and each word as a 64-bit hash in a sorted array (about 1 MB for ~17,000 groups), built on first use
(~0.1 s). ``related(word)`` hashes the word, finds its lines and reads the words back from the string
(a hash collision is checked against the line itself). Which of them occur in the knowledge base is
for the caller to ask (``search.synonyms``): the dictionary knows nothing of the index.

Without the package (not installed), ``related`` finds nothing and searches work as before.
"""

import importlib.util
import logging
import re
import threading
from pathlib import Path

import numpy as np

from zhtext import is_function_word, normalize

__all__ = ["Thesaurus", "dictionary_path", "related", "thesaurus"]

logger = logging.getLogger(__name__)

# Lines up to here are the encyclopedia part of the file (``cnsyn.utils_index``: origin "wiki").
FIRST_DICTIONARY_LINE = 28044
_WORD_RE = re.compile(r"^[\u3400-\u9fff]{2,6}$")
# Longer lines are categories rather than synonyms (停电 停工 停学 停车… , 500 names of plants).
MAX_GROUP_WORDS = 12


def dictionary_path():
    """Where the installed ``cnsyn`` keeps its word list, found without importing the package; or None."""
    try:
        spec = importlib.util.find_spec("cnsyn")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        path = Path(location) / "chinese_dictionary" / "sim_words.txt"
        if path.is_file():
            return path
    return None


def _hash(word):
    return hash(word) & 0x7FFF_FFFF_FFFF_FFFF


class Thesaurus:
    """Groups of synonyms, looked up by any of their words (see the module docstring)."""

    def __init__(self, lines):
        groups = []
        for line in lines:
            if len(line.split()) > MAX_GROUP_WORDS:
                continue
            words = []
            for word in line.split():
                if _WORD_RE.match(word) and not is_function_word(word) and word not in words:
                    words.append(word)
            if len(words) >= 2:
                groups.append(" ".join(words))
        self.text = "\n".join(groups)
        offsets = [0]
        hashes, numbers = [], []
        for number, group in enumerate(groups):
            offsets.append(offsets[-1] + len(group) + 1)
            for word in group.split(" "):
                hashes.append(_hash(word))
                numbers.append(number)
        self.offsets = np.array(offsets, dtype=np.int64)
        order = np.argsort(np.array(hashes, dtype=np.int64), kind="stable")
        self.hashes = np.array(hashes, dtype=np.int64)[order]
        self.groups = np.array(numbers, dtype=np.int32)[order]

    def __len__(self):
        return len(self.offsets) - 1

    def group(self, number):
        return self.text[self.offsets[number] : self.offsets[number + 1] - 1].split(" ")

    def related(self, word):
        """The other words of every group ``word`` is in, in the dictionary's order, without repeats."""
        word = normalize(word or "").strip()
        if not word:
            return []
        key = _hash(word)
        start = int(np.searchsorted(self.hashes, key, side="left"))
        end = int(np.searchsorted(self.hashes, key, side="right"))
        found = []
        for number in self.groups[start:end]:
            group = self.group(int(number))
            if word in group:
                found.extend(other for other in group if other != word and other not in found)
        return found

    @classmethod
    def from_file(cls, path, first_line=FIRST_DICTIONARY_LINE):
        with open(path, encoding="utf-8") as handle:
            lines = [line for number, line in enumerate(handle, start=1) if number >= first_line]
        return cls(lines)


_lock = threading.Lock()
_loaded = []


def thesaurus():
    """The process's dictionary, read on first use; an empty one when ``cnsyn`` is not installed."""
    if not _loaded:
        with _lock:
            if not _loaded:
                path = dictionary_path()
                if path is None:
                    logger.warning("cnsyn is not installed: searches are not widened with its synonyms")
                    _loaded.append(Thesaurus([]))
                else:
                    _loaded.append(Thesaurus.from_file(path))
    return _loaded[0]


def related(word):
    """``thesaurus().related(word)``."""
    return thesaurus().related(word)
