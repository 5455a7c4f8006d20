"""Fusion on hand-made rankings, and retrieval on the real index."""

import pytest

from ingest.settings import Settings
from ingest.tokenize import tokenize
from qa.normalize import normalise_question
from qa.retrieve import HybridRetriever


class _Bare(HybridRetriever):
    def __init__(self, settings):  # fusion needs only the settings
        self.settings = settings


def test_rrf_rewards_agreement():
    r = _Bare(Settings(fusion="rrf", rrf_k=60))
    fused = r.fuse(dense=[(1, 0.9), (2, 0.8), (3, 0.7)], sparse=[(3, 9.0), (1, 5.0)])
    assert fused[1] == pytest.approx(1 / 61 + 1 / 62)
    assert fused[3] == pytest.approx(1 / 63 + 1 / 61)
    assert fused[1] > fused[3] > fused[2]


def test_weights_zero_out_one_side():
    r = _Bare(Settings(fusion="rrf", bm25_weight=0.0))
    fused = r.fuse(dense=[(1, 0.9), (2, 0.8)], sparse=[(2, 9.0)])
    assert fused[1] > fused[2]


def test_weighted_fusion_min_max():
    r = _Bare(Settings(fusion="weighted", dense_weight=1.0, bm25_weight=1.0))
    fused = r.fuse(dense=[(1, 0.9), (2, 0.5)], sparse=[(2, 4.0), (3, 2.0)])
    assert fused == {1: 1.0, 2: 1.0, 3: 0.0}


class _Terms:
    """Word weights with fixed coverage per chunk (the real ones are tested on the index below)."""

    def __init__(self, coverage):
        self._coverage = coverage

    def coverage(self, query_terms, index):
        return self._coverage[index]


def _adaptive(coverage, **kw):
    r = _Bare(Settings(fusion="adaptive", **kw))
    r.terms = _Terms(coverage)
    return r


# Dense prefers chunk 1, BM25 prefers chunk 2, each by a clear margin.
DENSE = [(1, 0.86), (2, 0.83), (3, 0.82), (4, 0.81)]
SPARSE = [(2, 12.0), (1, 6.0), (3, 5.0), (5, 4.0)]


def test_adaptive_follows_bm25_when_its_best_chunk_holds_the_question():
    fused = _adaptive({2: 0.9}).fuse(DENSE, SPARSE, {"断缴", "补缴"})
    assert max(fused, key=fused.get) == 2


def test_adaptive_follows_dense_when_bm25_best_chunk_misses_the_question():
    fused = _adaptive({2: 0.2}).fuse(DENSE, SPARSE, {"断缴", "补缴"})
    assert max(fused, key=fused.get) == 1


def test_adaptive_scores_are_positive_and_a_zero_weight_side_adds_nothing():
    fused = _adaptive({2: 0.9}).fuse(DENSE, SPARSE, {"断缴"})
    assert set(fused) == {1, 2, 3, 4, 5} and all(0 < v < 1 for v in fused.values())
    dense_only = _adaptive({2: 0.9}, bm25_weight=0.0).fuse(DENSE, SPARSE, {"断缴"})
    assert set(dense_only) == {1, 2, 3, 4}
    assert sorted(dense_only, key=dense_only.get, reverse=True) == [1, 2, 3, 4]


def test_bm25_weight_interpolates_between_the_coverage_bounds():
    r = _adaptive({0: 0.2, 1: 0.6, 2: 0.95})
    low, mid, high = (r.bm25_weight_for({"x"}, [(i, 1.0)]) for i in (0, 1, 2))
    assert low == pytest.approx(0.5) and high == pytest.approx(2.0)
    assert mid == pytest.approx(1.25)


@pytest.fixture(scope="module")
def service(qa_service):
    return qa_service


@pytest.mark.slow
def test_region_preference_brings_local_article_first(service):
    hits = service.retriever.search(normalise_question("嘉峪关居民医保断缴怎么补交"), 3)
    assert hits[0].chunk["doc_id"] == "002_fd26648b1f8121fa"


@pytest.mark.slow
def test_bm25_and_dense_both_contribute(service):
    q = normalise_question("补缴需要准备哪些材料")
    scored = service.retriever.search(q, 5)
    assert any(s.dense_rank is not None for s in scored) and any(s.bm25_rank is not None for s in scored)
    assert all(s.dense > 0.5 for s in scored if s.dense_rank is not None)


@pytest.mark.slow
def test_langchain_retriever(service):
    from qa.langchain import YibaoRetriever

    docs = YibaoRetriever(service=service, k=3).invoke("天津医保断交后怎么在网上补缴")
    assert len(docs) == 3
    assert docs[0].metadata["doc_id"] == "003_4866c6536e7694db"
    doc = service.document(docs[0].metadata["doc_id"])
    assert doc["text"][docs[0].metadata["start"] : docs[0].metadata["end"]] == docs[0].page_content


@pytest.mark.slow
def test_bm25_scores_in_the_calling_thread(service, monkeypatch):
    """bm25s starts a ThreadPoolExecutor per call for any n_threads > 0: one thread start per question
    (0.3–0.6 ms CPU, more under load) for a search that itself takes ~0.05 ms."""
    import bm25s

    def no_pool(*args, **kwargs):
        raise AssertionError("bm25s started a thread pool for one query")

    monkeypatch.setattr(bm25s, "ThreadPoolExecutor", no_pool)
    hits = service.retriever.bm25(normalise_question("补缴需要准备哪些材料").text, 5)
    assert hits and all(score > 0 for _, score in hits)


@pytest.mark.slow
def test_query_coverage_on_real_chunks(service):
    """The coverage that sets BM25's weight: the 嘉峪关 缴费标准 chunk holds the question's rare words."""
    terms = service.retriever.terms
    q = set(tokenize(normalise_question("嘉峪关居民医保的缴费标准是多少").text))
    idx = {c["chunk_id"]: i for i, c in enumerate(service.data.chunks)}
    local = next(i for cid, i in idx.items() if "嘉峪关居民医保的缴费标准" in service.data.chunks[i]["text"])
    other = next(i for cid, i in idx.items() if service.data.chunks[i]["doc_id"] == "003_4866c6536e7694db")
    assert terms.coverage(q, local) > 0.8 > terms.coverage(q, other)
