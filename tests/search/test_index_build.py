"""Index build: the rebuild's bulk writer, the compact codec and the analysis fast path give the same index
as Whoosh's own writer, and searches on it find the same things."""

import unicodedata
from collections import Counter
from pathlib import Path

import opencc
import pytest
from django.core.management import call_command
from wagtail.models import Page
from whoosh import index as whoosh_index
from whoosh.writing import SegmentWriter

from kb_site.content.models import Phrasing
from search.analysis import (
    AutocompleteAnalyzer,
    ChineseAnalyzer,
    ShingleAnalyzer,
    index_counts,
    index_positions,
    index_terms,
)
from search.backend.codec import INLINE_LIMIT, CompactTermInfo, _weight_and_df
from search.backend.storage import INDEX_NAME
from zhtext import folding
from zhtext.folding import normalize_line

TEXTS = [
    "请按原路退款处理",
    "接到客户投诉后，先安抚情绪，再记录工单。\n重大投诉三天内办结。",
    "客戶投訴處理流程 iPhone-15 退換貨",
    "快递单号查询 ABC123 ！！ 。。",
    "  \n\n",
    "中华人民共和国消费者权益保护法实施条例规定的七日无理由退货",
    "一\n二 三\t四",
]


MORE_TEXTS = [
    "客户投诉处理\n退款规则\n\n原路退款处理",  # words touch across line breaks (and an empty line)
    "\n\n快递\n单号",
    "请按原路退款处理\n请按原路退款处理",  # the same line twice: cached, at another position
]


@pytest.mark.parametrize("text", TEXTS + MORE_TEXTS)
@pytest.mark.parametrize(
    "analyzer, options",
    [
        (ChineseAnalyzer, {}),
        (ShingleAnalyzer, {"shingles": True}),
        (AutocompleteAnalyzer, {"edge_ngrams": True}),
    ],
)
def test_index_terms_are_what_the_tokenizer_indexes(text, analyzer, options):
    tokens = [(t.text, t.pos) for t in analyzer()(text, positions=True)]
    assert index_terms(text, **options) == tokens


@pytest.mark.parametrize("text", TEXTS + MORE_TEXTS)
@pytest.mark.parametrize("edge_ngrams, shingles", [(False, False), (False, True), (True, False)])
def test_counted_terms_are_the_tokenizers_terms(text, edge_ngrams, shingles):
    terms = index_terms(text, edge_ngrams=edge_ngrams, shingles=shingles)
    counts = Counter(term.encode() for term, _pos in terms)
    assert index_counts(text, edge_ngrams, shingles) == (dict(counts), len(terms))
    if not shingles:
        positions = {}
        for term, pos in terms:
            positions.setdefault(term.encode(), []).append(pos)
        assert index_positions(text, edge_ngrams) == (positions, len(terms))


def _round_trip(info):
    return CompactTermInfo.from_bytes(info.to_bytes())


def _info(ids, weights, values, lengths, inlined=True):
    info = CompactTermInfo()
    info._weight = sum(weights)
    info._df = len(ids)
    scored = [n for n in lengths if n]
    info._minlength = min(scored) if scored else None
    info._maxlength = max(scored) if scored else 0
    info._maxweight = max(weights)
    info._minid, info._maxid = ids[0], ids[-1]
    if inlined:
        info.set_inlined(ids, weights, values)
    else:
        info.set_extent(123456789, 4321)
    return info


@pytest.mark.parametrize(
    "ids, weights, values",
    [
        ([7], [1.0], [b"\x00\x00\x00\x01"]),  # a frequency field, once
        ([0, 5, 300, 70000], [2.0, 2.0, 2.0, 2.0], [b"\x00\x00\x00\x02"] * 4),  # all equal
        ([3, 4], [1.5, 3.0], [b"\x00\x00\x00\x01", b"\x00\x00\x00\x02"]),  # fixed size, different
        ([1, 9, 12], [1.0, 2.0, 1.0], [b"\x00\x00\x00\x01\x80]q", b"\x00\x00\x00\x02\x80]q\x01", b"x"]),
        ([2, 3], [1.0, 1.0], []),  # a format without values (ids, keywords)
    ],
)
def test_compact_term_info_keeps_postings_and_statistics(ids, weights, values):
    info = _info(ids, weights, values, lengths=[0, 14, 3, 9][: len(ids)])
    back = _round_trip(info)
    assert back.is_inlined()
    back_ids, back_weights, back_values = back.inlined_postings()
    assert list(back_ids) == ids
    assert list(back_weights) == weights
    assert list(back_values) == (values or [None] * len(ids))
    for name in ("weight", "doc_frequency", "min_length", "max_length", "max_weight", "min_id", "max_id"):
        assert getattr(back, name)() == (getattr(info, name)() or 0), name  # as Whoosh 3: no length is 0
    assert _weight_and_df(info.to_bytes()) == (back.weight(), back.doc_frequency())
    # Fewer bytes than Whoosh 3's own term info, with its postings block.
    assert len(info.to_bytes()) < 35 + len(values) * 4 + 8


def test_compact_term_info_points_at_longer_posting_lists():
    info = _info(
        list(range(0, 2 * INLINE_LIMIT, 2)) + [10**6], [1.0] * (INLINE_LIMIT + 1), [], [5] * 9, False
    )
    back = _round_trip(info)
    assert not back.is_inlined()
    assert back.extent() == (123456789, 4321)
    assert (back.doc_frequency(), back.weight(), back.max_id()) == (
        INLINE_LIMIT + 1,
        INLINE_LIMIT + 1.0,
        10**6,
    )


def index_contents(store):
    """Everything searches read from the live generation, keyed by pk rather than document number:
    ``{(field, term): [(pk, weight, value)]}``, ``{(field, pk): length}`` and the stored fields."""
    store.ensure()
    ix = whoosh_index.open_dir(str(store.generation_path(store.current_generation())), indexname=INDEX_NAME)
    postings, lengths, stored = {}, {}, {}
    with ix.reader() as reader:
        pks = {}
        for docnum in range(reader.doc_count_all()):
            if not reader.is_deleted(docnum):
                pks[docnum] = reader.stored_fields(docnum)["pk"]
                stored[pks[docnum]] = reader.stored_fields(docnum)
        for fieldname, btext in reader.all_terms():
            matcher = reader.postings(fieldname, btext)
            found = []
            while matcher.is_active():
                if matcher.id() in pks:
                    found.append((pks[matcher.id()], matcher.weight(), matcher.value() or None))
                matcher.next()
            if found:
                postings[fieldname, btext] = sorted(found)
        for fieldname in reader.indexed_field_names():
            if reader.schema[fieldname].scorable:
                for docnum, pk in pks.items():
                    # (no length: None from one segment's reader, 0 from several segments')
                    lengths[fieldname, pk] = reader.doc_field_length(docnum, fieldname) or 0
        segments = len(reader.leaf_readers())
    return postings, lengths, stored, segments


def _titles(results):
    return [page.title for page in results]


class WhooshOwnWriter(SegmentWriter):
    """Whoosh's own writer, which rebuilds used before ``BulkWriter``: the reference."""

    def __init__(self, ix, flush_mb=None, **kwargs):
        super().__init__(ix, **kwargs)

    def needs_flush(self):
        return False


@pytest.mark.django_db
def test_rebuild_writes_what_whooshs_own_writer_writes(kb, refresh, search_index, monkeypatch):
    refresh()
    stores = [index.store for index in search_index.all_indexes()]
    with monkeypatch.context() as patch:
        patch.setattr("search.backend.index.BulkWriter", WhooshOwnWriter)
        call_command("update_index", verbosity=0)
    reference = {store.name: index_contents(store) for store in stores}
    expected = _titles(Page.objects.live().search("投诉"))
    assert "客户投诉处理流程" in expected

    call_command("update_index", verbosity=0)

    for store in stores:
        postings, lengths, stored, segments = index_contents(store)
        assert postings == reference[store.name][0], store.name
        assert lengths == reference[store.name][1], store.name
        assert stored == reference[store.name][2], store.name
        assert segments == 1
    assert _titles(Page.objects.live().search("投诉")) == expected
    assert "投诉安抚话术" in _titles(Phrasing.objects.search("投诉"))


@pytest.mark.django_db
def test_rebuild_beyond_its_memory_budget_writes_several_segments(kb, refresh, settings, search_index):
    refresh()
    call_command("update_index", verbosity=0)
    stores = {index.store.name: index.store for index in search_index.all_indexes()}
    one_segment = {name: index_contents(store) for name, store in stores.items()}
    expected = _titles(Page.objects.live().search("投诉 处理"))

    settings.WAGTAILSEARCH_BACKENDS["default"]["REBUILD_MB"] = 0  # a new segment after every document
    call_command("update_index", verbosity=0)

    for name, store in stores.items():
        postings, lengths, stored, segments = index_contents(store)
        assert postings == one_segment[name][0], name
        assert lengths == one_segment[name][1], name
        assert stored == one_segment[name][2], name
        if len(stored) > 1:
            assert segments == len(stored), name
    assert _titles(Page.objects.live().search("投诉 处理")) == expected
    assert "客户投诉处理流程" in expected


def _normalize_line_always_converting(line):
    line = unicodedata.normalize("NFKC", line)
    line = "".join(ch if unicodedata.category(ch)[0] != "C" or ch == "\t" else " " for ch in line)
    return folding.fix_phrases(folding._t2s.convert(line)).lower()


def _t2s_phrases():
    path = Path(opencc.__file__).parent / "dictionary" / "TSPhrases.txt"
    return [line.split("\t")[0] for line in path.read_text(encoding="utf-8").splitlines() if line]


@pytest.mark.parametrize(
    "line",
    [
        "客户投诉处理流程",
        "客戶投訴處理流程",
        "请回覆客户",  # 覆 is converted only in a phrase
        "接著处理",
        "ＡＢＣ　全角１２３",
        "控制\x07字符\u200b与\ttab",
        "显著的著作",
        "",
    ],
)
def test_normalize_line_converts_only_what_t2s_would_change(line):
    assert normalize_line.__wrapped__(line) == _normalize_line_always_converting(line)


def test_normalize_line_keeps_every_t2s_phrase():
    for phrase in _t2s_phrases():
        for line in (phrase, f"先{phrase}后"):
            assert normalize_line.__wrapped__(line) == _normalize_line_always_converting(line), line


def _pks_in_order(store):
    """The stored pks by document number, over every segment in order."""
    ix = whoosh_index.open_dir(str(store.generation_path(store.current_generation())), indexname=INDEX_NAME)
    with ix.reader() as reader:
        return [reader.stored_fields(docnum)["pk"] for docnum in range(reader.doc_count_all())]


@pytest.mark.django_db
def test_two_process_rebuild_writes_what_one_process_writes(kb, refresh, settings, search_index):
    refresh()
    backend = settings.WAGTAILSEARCH_BACKENDS["default"]
    backend["REBUILD_PROCESSES"] = 1
    call_command("update_index", verbosity=0)
    stores = {index.store.name: index.store for index in search_index.all_indexes()}
    one_process = {name: (index_contents(store), _pks_in_order(store)) for name, store in stores.items()}
    expected = _titles(Page.objects.live().search("投诉 处理"))
    assert "客户投诉处理流程" in expected
    assert all(contents[3] == 1 for contents, _pks in one_process.values())

    # A forked child writes the first documents of every index with at least two objects.
    backend["REBUILD_PROCESSES"] = 2
    backend["REBUILD_SPLIT_MIN"] = 2
    call_command("update_index", verbosity=0)

    for name, store in stores.items():
        (postings, lengths, stored, segments), pks = index_contents(store), _pks_in_order(store)
        (one_postings, one_lengths, one_stored, _one_segments), one_pks = one_process[name]
        assert postings == one_postings, name
        assert lengths == one_lengths, name
        assert stored == one_stored, name
        assert pks == one_pks, name  # every document keeps its number: the child's segment comes first
        if len(stored) >= 2:
            assert segments == 2, name
    assert _titles(Page.objects.live().search("投诉 处理")) == expected
    assert "投诉安抚话术" in _titles(Phrasing.objects.search("投诉"))
    assert _titles(Page.objects.live().autocomplete("客户投")) == ["客户投诉处理流程"]
    # Autocomplete reads each model's own ac_<path> fields: no catch-all copy of them is indexed.
    for name, store in stores.items():
        postings, _lengths, stored, _segments = index_contents(store)
        fields = {field for field, _term in postings}
        assert ("ac_title" in fields) == bool(stored), name
        assert not any(field.startswith("ac__") for field in fields), name


@pytest.mark.django_db
def test_a_writing_child_killed_mid_rebuild_fails_the_rebuild_and_the_live_index_keeps_serving(
    kb, refresh, settings, search_index
):
    """The forked writer dies (killed as the OOM killer would) before it has written its documents: the rebuild
    fails with a clear error instead of swapping in an index without them, and searches keep the live one."""
    import os
    import signal

    from modelsearch.backends import get_search_backend

    from search.backend.index import WhooshRebuilder

    refresh()
    settings.WAGTAILSEARCH_BACKENDS["default"].update(REBUILD_PROCESSES=2, REBUILD_SPLIT_MIN=2)
    backend = get_search_backend("default")
    index = backend.get_index_for_model(Page)
    live_generation = index.store.current_generation()
    expected = _titles(Page.objects.live().search("投诉 处理"))
    assert "客户投诉处理流程" in expected

    rebuilder = WhooshRebuilder(index)
    rebuild = rebuilder.start()
    rebuild.add_model(Page)
    pages = list(Page.objects.live().specific().order_by("pk"))
    rebuild.add_items(Page, pages[:1])  # the first document starts the child and goes to it
    assert rebuild.worker is not None
    os.kill(rebuild.worker.pid, signal.SIGKILL)
    rebuild.add_items(Page, pages[1:])
    with pytest.raises(RuntimeError, match="writing child process"):
        rebuilder.finish()

    assert index.store.current_generation() == live_generation
    assert _titles(Page.objects.live().search("投诉 处理")) == expected
    # The next rebuild works and drops the failed generation.
    call_command("update_index", verbosity=0)
    assert index.store.current_generation() != live_generation
    assert not (index.store.base_path / rebuild.generation).exists()
    assert _titles(Page.objects.live().search("投诉 处理")) == expected
