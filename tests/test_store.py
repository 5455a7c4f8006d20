"""Dense index choice: exact search for small collections, HNSW above ``ann_threshold``, recall vs exact."""

from __future__ import annotations

import faiss
import numpy as np

from ingest import store


def _unit(n: int, dim: int, seed: int) -> np.ndarray:
    x = np.random.default_rng(seed).standard_normal((n, dim)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_flat_at_or_below_threshold_hnsw_above():
    vecs = _unit(300, 16, 0)
    index, kind = store.build_dense_index(vecs, ann_threshold=300)
    assert kind == "flat" and isinstance(index, faiss.IndexFlatIP) and index.ntotal == 300
    index, kind = store.build_dense_index(vecs, ann_threshold=299)
    assert kind == "hnsw" and isinstance(index, faiss.IndexHNSWFlat) and index.ntotal == 300
    assert index.hnsw.efSearch == store.HNSW_EF_SEARCH and index.metric_type == faiss.METRIC_INNER_PRODUCT


def test_empty_collection_is_flat():
    index, kind = store.build_dense_index(np.zeros((0, 8), dtype=np.float32), ann_threshold=10)
    assert kind == "flat" and index.ntotal == 0


def test_hnsw_recall_against_exact_and_ef_search(tmp_path):
    vecs, queries = _unit(4000, 32, 1), _unit(200, 32, 2)
    exact, _ = store.build_dense_index(vecs, ann_threshold=10**9)
    hnsw, kind = store.build_dense_index(vecs, ann_threshold=1000)
    assert kind == "hnsw"
    truth = exact.search(queries, 10)[1]
    high = store.recall_at_k(hnsw, truth, queries, k=10)
    assert high >= 0.95
    assert store.recall_at_k(exact, exact, queries, k=10) == 1.0
    store.set_ef_search(hnsw, 10)
    low = store.recall_at_k(hnsw, truth, queries, k=10)
    assert low < high
    # efSearch is part of the saved index, so the service searches the way it was built
    store.set_ef_search(hnsw, 96)
    faiss.write_index(hnsw, str(tmp_path / "dense.faiss"))
    loaded = faiss.read_index(str(tmp_path / "dense.faiss"))
    assert faiss.downcast_index(loaded).hnsw.efSearch == 96
    store.set_ef_search(exact, 5)  # a no-op on exact indexes


def test_scores_are_cosine_for_normalised_vectors():
    vecs = _unit(50, 24, 3)
    index, _ = store.build_dense_index(vecs, ann_threshold=10)
    scores, ids = index.search(vecs[:5], 1)
    assert list(ids[:, 0]) == [0, 1, 2, 3, 4] and np.allclose(scores[:, 0], 1.0, atol=1e-5)


def test_ivf_above_ivf_threshold(tmp_path):
    vecs, queries = _unit(6000, 32, 4), _unit(100, 32, 5)
    index, kind = store.build_dense_index(vecs, ann_threshold=1000, ivf_threshold=5000, nprobe=8)
    assert kind == "ivf" and index.ntotal == 6000 and index.nlist == store.ivf_nlist(6000) == 256
    exact, _ = store.build_dense_index(vecs, ann_threshold=10**9)
    truth = exact.search(queries, 10)[1]
    low = store.recall_at_k(index, truth, queries)
    store.set_nprobe(index, index.nlist)  # every list: exact
    assert store.recall_at_k(index, truth, queries) > 0.99 > low
    store.set_nprobe(index, 16)
    faiss.write_index(index, str(tmp_path / "dense.faiss"))
    assert faiss.extract_index_ivf(faiss.read_index(str(tmp_path / "dense.faiss"))).nprobe == 16
    # HNSW keeps the range between the two thresholds
    assert store.build_dense_index(vecs, ann_threshold=1000, ivf_threshold=10_000)[1] == "hnsw"
