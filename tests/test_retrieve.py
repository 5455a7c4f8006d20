"""Fusion on hand-made rankings, and retrieval on the real index."""

import pytest

from ingest.settings import Settings
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
