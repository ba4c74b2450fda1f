"""The OpenSearch / Elasticsearch settings of ``kb_site.settings.search_clusters`` load: modelsearch builds
its backend from them with the Chinese analyzers merged into its own, and the mappings it makes for
Callbook's pages name analyzers those settings define. No cluster is reached (none can be installed
here): building a backend and its mappings makes no request."""

import pytest
from modelsearch.backends import get_search_backend
from modelsearch.backends.elasticsearch9 import Elasticsearch9SearchBackend
from modelsearch.backends.opensearch2 import OpenSearch2SearchBackend
from modelsearch.backends.opensearch3 import OpenSearch3SearchBackend
from wagtail.documents import get_document_model

from kb_site.content.models import ArticlePage, Phrasing
from kb_site.settings.search_clusters import ENGINES, chinese_analysis, cluster_backend

# Analyzers, tokenizers and filters the engines (and the plugins named) provide without settings.
BUILT_IN = {"standard", "cjk_width", "lowercase", "cjk_bigram", "asciifolding"}
FROM_PLUGINS = {"ik": {"ik_max_word", "ik_smart"}, "smartcn": {"smartcn_tokenizer"}, "pinyin": set()}

CASES = [
    ((), "standard", "standard"),
    (("ik",), "ik_max_word", "ik_smart"),
    (("smartcn",), "smartcn_tokenizer", "smartcn_tokenizer"),
    (("ik", "pinyin"), "ik_max_word", "ik_smart"),
    (("pinyin",), "standard", "standard"),
]


def cluster(settings, engine, plugins):
    settings.WAGTAILSEARCH_BACKENDS = {
        **settings.WAGTAILSEARCH_BACKENDS,
        "cluster": cluster_backend(engine, ["https://search.internal:9200"], plugins=plugins),
    }
    return get_search_backend("cluster")


def analyzers_named(properties):
    for mapping in properties.values():
        for key in ("analyzer", "search_analyzer"):
            if key in mapping:
                yield mapping[key]
        yield from analyzers_named(mapping.get("properties", {}))


@pytest.mark.parametrize(
    ("engine", "backend_class"),
    [("opensearch3", OpenSearch3SearchBackend), ("elasticsearch9", Elasticsearch9SearchBackend)],
)
@pytest.mark.parametrize(("plugins", "tokenizer", "search_tokenizer"), CASES)
def test_backend_is_built_with_the_chinese_analyzers(
    settings, engine, backend_class, plugins, tokenizer, search_tokenizer
):
    backend = cluster(settings, engine, plugins)
    assert type(backend) is backend_class
    assert backend.index_prefix == "callbook_"
    analysis = backend.settings["settings"]["analysis"]
    analyzers = analysis["analyzer"]

    assert analyzers["default"]["tokenizer"] == tokenizer
    assert analyzers["default_search"]["tokenizer"] == search_tokenizer
    assert ("cjk_bigram" in analyzers["default"]["filter"]) == (tokenizer == "standard")
    autocomplete = analyzers["edgengram_analyzer"]
    assert autocomplete["tokenizer"] == tokenizer
    assert autocomplete["filter"][-1] == "callbook_autocomplete_ngram"
    assert ("callbook_pinyin" in autocomplete["filter"]) == ("pinyin" in plugins)
    # Merged into modelsearch's own settings, not instead of them.
    assert analyzers["ngram_analyzer"]["filter"] == ["asciifolding", "lowercase", "ngram"]
    assert {"ngram", "edgengram", "callbook_autocomplete_ngram"} <= set(analysis["filter"])
    ngram = analysis["filter"]["callbook_autocomplete_ngram"]
    assert ngram["max_gram"] - ngram["min_gram"] <= backend.settings["settings"]["index"]["max_ngram_diff"]

    # Every tokenizer and filter the analyzers use is built in, from a plugin named, or defined here.
    available = BUILT_IN | set(analysis["filter"]) | set(analysis.get("tokenizer", {}))
    for plugin in plugins:
        available |= FROM_PLUGINS[plugin]
    for analyzer in analyzers.values():
        assert {analyzer["tokenizer"], *analyzer["filter"]} <= available, analyzer


@pytest.mark.parametrize("engine", ["opensearch3", "elasticsearch9"])
@pytest.mark.parametrize("model", [ArticlePage, Phrasing, get_document_model()])
def test_mappings_use_the_analyzers_the_settings_define(settings, engine, model):
    backend = cluster(settings, engine, ("ik", "pinyin"))
    defined = set(backend.settings["settings"]["analysis"]["analyzer"])
    properties = backend.mapping_class(model).get_mapping()["properties"]

    # Full-text fields take the index's default analyzers (default / default_search): the Chinese ones.
    full_text = {
        name: mapping
        for name, mapping in properties.items()
        if mapping["type"] == "text" and mapping.get("analyzer") != "edgengram_analyzer"
    }
    assert "title" in full_text and "_all_text" in full_text
    assert not any("analyzer" in mapping for mapping in full_text.values())
    assert {"default", "default_search"} <= defined
    # Autocomplete fields name the redefined edgengram_analyzer; queries are read by ``standard``.
    assert properties["_edgengrams"]["analyzer"] == "edgengram_analyzer"
    assert properties["title_edgengrams"]["analyzer"] == "edgengram_analyzer"
    assert set(analyzers_named(properties)) <= defined | {"standard"}


def test_every_engine_entry_carries_the_same_analysis(settings):
    assert type(cluster(settings, "opensearch2", ("smartcn",))) is OpenSearch2SearchBackend
    for engine in ENGINES:
        entry = cluster_backend(engine, ["http://127.0.0.1:9200"], plugins=("ik",), TIMEOUT=30)
        assert entry["BACKEND"] == ENGINES[engine] and entry["TIMEOUT"] == 30
        assert entry["INDEX_SETTINGS"] == chinese_analysis(("ik",))


@pytest.mark.parametrize("plugins", [("ik", "smartcn"), ("jieba",)])
def test_impossible_plugin_choices_are_refused(plugins):
    with pytest.raises(ValueError):
        chinese_analysis(plugins)
    with pytest.raises(ValueError):
        cluster_backend("solr", ["http://127.0.0.1:8983"])
