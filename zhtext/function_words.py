"""Function words: particles, pronouns, fillers and politeness that say nothing about what is searched for.

Agents type what the customer said (包裹丢了, 请问怎么退款, 好的好的); ``了``, ``请问`` or ``好的`` alone
would match most of the knowledge base. They are dropped from queries (never from the index):

* ``FUNCTION_WORDS``: the words, each compared with a whole segmented word (``zhtext.query_words``), so
  a word that merely contains one stays (``不满意`` is segmented 不 / 满意, but ``没收`` and
  ``可不可以``… are words of their own);
* ``is_function_word(word)``; ``NEGATIONS`` (不, 没有…), kept in a query next to the word they negate;
* ``content_words(text)``: the query words of ``text`` that are not function words (empty for 了, 的,
  请问, 好的好的);
* ``strip_function_words(text)``: ``text`` without its function words, for a query: words that stood
  next to each other stay together, words a function word separated are separated by a space
  (付了款三天还不发货 → ``付 款三天 不发货``: a negation stays with the word it negates, see
  ``NEGATIONS``); ``""`` when nothing is left, ``text`` itself when it has no function word.
"""

from zhtext.segment import query_words

__all__ = ["FUNCTION_WORDS", "NEGATIONS", "content_words", "is_function_word", "strip_function_words"]

# Negations are function words as terms of their own (xyzabc不存在 must not find every page with 不), but
# in a query they stay attached to the word they negate: 不发货 and 没有收到 are searched as written.
_NEGATIONS = "不 没 没有 别 不能 不是"

_GROUPS = (
    # particles and interjections
    "了 的 地 得 着 过 吗 啊 呢 吧 呀 嘛 哦 喔 么 啦 哈 呗 嗯 哎 唉 诶 之",
    # fillers, politeness and question words agents copy from the customer
    "请问 请 想 想问 问 我想 一下 怎么 怎么办 怎样 怎么样 如何 为什么 什么 为啥 咋 咋办 哪 哪里 哪儿",
    "这个 那个 这 那 这样 那样 这些 那些 好 好的 行 对 是的 您好 你好 谢谢 谢谢您 谢谢你 麻烦 麻烦您",
    "是不是 能不能 可不可以 可以 能 能否 会 要 想要 的话 然后 就是 还是 那么 或者 或 及 与 和 跟",
    # pronouns
    "我 你 您 他 她 它 我们 你们 他们 她们 咱们 自己 人家",
    # adverbs and connectors
    "就 都 也 还 又 再 才 只 很 太 挺 非常 已经 一个 个 在 是 有 把 被 给 让",
    _NEGATIONS,
)

FUNCTION_WORDS = frozenset(word for group in _GROUPS for word in group.split())
NEGATIONS = frozenset(_NEGATIONS.split())


def is_function_word(word):
    """True when ``word`` (one segmented, normalised word) is a function word."""
    return word in FUNCTION_WORDS


def content_words(text):
    """The query words of ``text`` without its function words, in order."""
    return [word for word in query_words(text) if word not in FUNCTION_WORDS]


def strip_function_words(text):
    """``text`` as a query without its function words (see the module docstring); ``""`` if none is left."""
    words = query_words(text)
    if not any(word in FUNCTION_WORDS for word in words):
        return text
    runs, current = [], []
    for index, word in enumerate(words):
        following = words[index + 1] if index + 1 < len(words) else None
        negating = word in NEGATIONS and following is not None and following not in FUNCTION_WORDS
        if word in FUNCTION_WORDS and not negating:
            if current:
                runs.append(current)
            current = []
        else:
            current.append(word)
    if current:
        runs.append(current)
    return " ".join(_join(run) for run in runs)


def _join(words):
    """Words that stood next to each other, as one query word (a space only between two Latin words)."""
    out = words[0]
    for word in words[1:]:
        out += (" " if out[-1].isascii() and word[0].isascii() else "") + word
    return out
