"""Settings for modelsearch's OpenSearch and Elasticsearch backends with Chinese analysis.

Whoosh (``search.backend``) is the default and needs nothing. A deployment that already runs an
OpenSearch or Elasticsearch cluster can point Callbook at it instead, in its own settings module::

    from .production import *  # noqa: F403
    from .search_clusters import cluster_backend

    WAGTAILSEARCH_BACKENDS = {
        "default": cluster_backend("opensearch3", ["https://search.internal:9200"], plugins=("ik", "pinyin")),
    }

then ``manage.py update_index``. ``plugins`` says which analysis plugins every node of the cluster has:

- ``"ik"`` (elasticsearch-analysis-ik / opensearch-analysis-ik): ``ik_max_word`` indexes every word
  it can find (投诉处理流程 → 投诉, 处理, 流程, 处理流程…), ``ik_smart`` reads queries as the fewest words;
- ``"smartcn"`` (analysis-smartcn, shipped with both engines as an optional plugin): one segmentation
  for both;
- neither: the built-in CJK analysis (width folding, lower case, overlapping bigrams: 投诉处理 → 投诉,
  诉处, 处理), which finds any two adjacent characters typed;
- ``"pinyin"`` (analysis-pinyin) adds pinyin to the autocomplete analyzer: ``tousu`` and ``ts`` find
  投诉, as Callbook's own suggestions do.

What the settings do: modelsearch's mappings leave full-text fields to the index's default analyzer,
so ``default`` (indexing) and ``default_search`` (queries) are the Chinese analyzers above; its
autocomplete fields (``AutocompleteField`` and ``_edgengrams``) name ``edgengram_analyzer`` and read
the query with ``standard`` (one token per Chinese character, Latin words whole), so
``edgengram_analyzer`` is redefined to emit the n-grams of each word (and of its pinyin): every
character typed, and every start of a Latin or pinyin word, is found. Traditional characters are
not folded to simplified by these analyzers (the IK and smartcn dictionaries are simplified; the
``stconvert`` plugin would do it): Callbook's own Whoosh analysis does, a cluster does not.

No OpenSearch or Elasticsearch server can be installed on the machines Callbook is developed and
tested on: ``tests/search/test_search_clusters.py`` only checks that modelsearch builds its OpenSearch 3
and Elasticsearch 9 backends (the clients opensearch-py and elasticsearch are in requirements-dev.txt)
from these settings, with the analyzers merged and the mappings naming them. Nothing has been run
against a cluster: an analyzer a cluster refuses would show only at ``update_index``.
"""

from copy import deepcopy

# modelsearch backend modules, by the engine and major version the cluster runs.
ENGINES = {
    "opensearch2": "modelsearch.backends.opensearch2",
    "opensearch3": "modelsearch.backends.opensearch3",
    "elasticsearch7": "modelsearch.backends.elasticsearch7",
    "elasticsearch8": "modelsearch.backends.elasticsearch8",
    "elasticsearch9": "modelsearch.backends.elasticsearch9",
}
SEGMENTERS = ("ik", "smartcn")
PLUGINS = (*SEGMENTERS, "pinyin")

# Names modelsearch's mappings use: the index's default analyzers for text, its autocomplete analyzer.
TEXT_ANALYZER = "default"
TEXT_SEARCH_ANALYZER = "default_search"
AUTOCOMPLETE_ANALYZER = "edgengram_analyzer"

AUTOCOMPLETE_MAX_GRAM = 10  # modelsearch allows max_gram - min_gram up to its index.max_ngram_diff (12)

_CJK_FILTERS = ["cjk_width", "lowercase"]


def _text_analyzers(plugins):
    if "ik" in plugins:
        return (
            {"type": "custom", "tokenizer": "ik_max_word", "filter": _CJK_FILTERS},
            {"type": "custom", "tokenizer": "ik_smart", "filter": _CJK_FILTERS},
        )
    if "smartcn" in plugins:
        analyzer = {"type": "custom", "tokenizer": "smartcn_tokenizer", "filter": _CJK_FILTERS}
        return analyzer, deepcopy(analyzer)
    # The built-in ``cjk`` analyzer, spelt out so that it keeps Latin words (product codes) as they are.
    analyzer = {"type": "custom", "tokenizer": "standard", "filter": [*_CJK_FILTERS, "cjk_bigram"]}
    return analyzer, deepcopy(analyzer)


def chinese_analysis(plugins=()):
    """``INDEX_SETTINGS`` for modelsearch's OpenSearch / Elasticsearch backends: Chinese analyzers for
    full text and autocomplete, using the analysis ``plugins`` the cluster has (see the module)."""
    plugins = tuple(plugins)
    unknown = set(plugins) - set(PLUGINS)
    if unknown:
        raise ValueError(f"Unknown analysis plugins {sorted(unknown)}: choose from {PLUGINS}")
    if all(segmenter in plugins for segmenter in SEGMENTERS):
        raise ValueError("Choose one Chinese segmenter: ik or smartcn")
    text, text_search = _text_analyzers(plugins)
    filters = {
        "callbook_autocomplete_ngram": {"type": "ngram", "min_gram": 1, "max_gram": AUTOCOMPLETE_MAX_GRAM},
    }
    autocomplete_filters = list(_CJK_FILTERS)
    if "pinyin" in plugins:
        filters["callbook_pinyin"] = {
            "type": "pinyin",
            "keep_original": True,  # the Chinese word itself
            "keep_full_pinyin": False,
            "keep_joined_full_pinyin": True,  # 投诉 → tousu
            "keep_first_letter": True,  # 投诉 → ts
            "keep_separate_first_letter": False,
            "keep_none_chinese": True,
            "none_chinese_pinyin_tokenize": False,
            "lowercase": True,
            "remove_duplicated_term": True,
        }
        autocomplete_filters.append("callbook_pinyin")
    autocomplete_filters.append("callbook_autocomplete_ngram")
    return {
        "settings": {
            "analysis": {
                "analyzer": {
                    TEXT_ANALYZER: text,
                    TEXT_SEARCH_ANALYZER: text_search,
                    AUTOCOMPLETE_ANALYZER: {
                        "type": "custom",
                        "tokenizer": text["tokenizer"],
                        "filter": autocomplete_filters,
                    },
                },
                "filter": filters,
            },
        }
    }


def cluster_backend(engine, urls, plugins=(), index_prefix="callbook_", **options):
    """A ``WAGTAILSEARCH_BACKENDS`` entry for a cluster of ``engine`` (a key of ``ENGINES``) at ``urls``
    with Chinese analysis (``chinese_analysis(plugins)``); ``options`` are added as they are (``TIMEOUT``,
    ``OPTIONS`` for the client, ``ATOMIC_REBUILD``…)."""
    if engine not in ENGINES:
        raise ValueError(f"Unknown search engine {engine!r}: choose from {sorted(ENGINES)}")
    return {
        "BACKEND": ENGINES[engine],
        "URLS": list(urls),
        "INDEX_PREFIX": index_prefix,
        "INDEX_SETTINGS": chinese_analysis(plugins),
        "AUTO_UPDATE": True,
        **options,
    }
