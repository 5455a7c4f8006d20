"""A change segment: the documents added or replaced since the base index was built, and the base
documents it hides.

A knowledge-base change must be live in seconds even when the base holds 100,000 chunks, so it never
rebuilds the base: it writes a new *delta version* — a small folder with the changed documents' chunks,
their vectors (a flat FAISS index), their BM25 tokens, the list of base documents that are removed or
replaced, and the whole catalog — that points at the unchanged base. Workers that already hold the base
load only the delta. ``python -m ingest`` folds the delta into a new base (compaction).

BM25 over the delta uses the base's statistics (document frequencies, document count, average length)
with the same Lucene formula bm25s uses, so delta and base scores are comparable.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import faiss
import numpy as np

DELTA_DIR = "delta"
DELTA_CHUNKS = "chunks.jsonl"
DELTA_DOCUMENTS = "documents.jsonl"
DELTA_EMBEDDINGS = "embeddings.npy"
DELTA_DENSE = "dense.faiss"
DELTA_TOKENS = "tokens.jsonl"
REMOVED = "removed.json"
CATALOG = "catalog.json"

# bm25s's defaults (method "lucene"), which the base index is built with.
K1, B = 1.5, 0.75


@dataclass(frozen=True)
class BM25Stats:
    """What scoring a new chunk like the base's chunks needs: document frequencies, count, mean length."""

    df: dict[str, int]
    n_docs: int
    avg_len: float

    @classmethod
    def of(cls, bm25: Any, avg_len: float) -> BM25Stats:
        vocab = bm25.vocab_dict if isinstance(bm25.vocab_dict, dict) else {}
        indptr = np.asarray(bm25.scores["indptr"])
        df = {tok: int(indptr[i + 1] - indptr[i]) for tok, i in vocab.items() if i + 1 < len(indptr)}
        return cls(df, int(bm25.scores.get("num_docs", 0)), float(avg_len) or 1.0)


class DeltaBM25:
    """BM25 (Lucene) over a few chunks, scored with the base's document frequencies."""

    def __init__(self, tokens: list[list[str]], stats: BM25Stats):
        self.stats = stats
        self.lengths = [len(t) for t in tokens]
        # token → [(row, term frequency)]: scoring touches only the rows that hold a query word
        self.postings: dict[str, list[tuple[int, int]]] = {}
        for i, t in enumerate(tokens):
            for tok, tf in Counter(t).items():
                self.postings.setdefault(tok, []).append((i, tf))
        n = stats.n_docs + len(tokens)
        self.idf = {tok: math.log(1 + (n - (stats.df.get(tok, 0) + len(p)) + 0.5) /
                                  (stats.df.get(tok, 0) + len(p) + 0.5))
                    for tok, p in self.postings.items()}

    def __len__(self) -> int:
        return len(self.lengths)

    def retrieve(self, query: list[str], k: int) -> list[tuple[int, float]]:
        scores: dict[int, float] = {}
        avg = self.stats.avg_len
        for tok in query:
            idf = self.idf.get(tok)
            if idf is None:
                continue
            for i, tf in self.postings[tok]:
                scores[i] = scores.get(i, 0.0) + idf * tf / (K1 * (1 - B + B * self.lengths[i] / avg) + tf)
        out = sorted(((i, s) for i, s in scores.items() if s > 0), key=lambda x: (-x[1], x[0]))
        return out[:k]


@dataclass
class DeltaSegment:
    """The delta of one version: its chunks come after the base's chunks in the global numbering."""

    documents: dict[str, dict[str, Any]]
    chunks: list[dict[str, Any]]
    vectors: np.ndarray
    tokens: list[list[str]]
    removed: frozenset[str]
    dense: faiss.Index = field(init=False)

    def __post_init__(self) -> None:
        vecs = np.ascontiguousarray(self.vectors, dtype=np.float32)
        dim = vecs.shape[1] if vecs.ndim == 2 and vecs.shape[0] else 0
        self.dense = faiss.IndexFlatIP(dim or 1)
        if len(vecs):
            self.dense.add(vecs)

    @property
    def empty(self) -> bool:
        return not self.chunks and not self.removed


def write_delta(folder: Path, documents: list[dict[str, Any]], chunks: list[dict[str, Any]], vectors: np.ndarray,
                tokens: list[list[str]], removed: set[str]) -> None:
    d = folder / DELTA_DIR
    d.mkdir(parents=True, exist_ok=True)
    _write_jsonl(d / DELTA_DOCUMENTS, documents)
    _write_jsonl(d / DELTA_CHUNKS, chunks)
    _write_jsonl(d / DELTA_TOKENS, [{"tokens": t} for t in tokens])
    np.save(d / DELTA_EMBEDDINGS, np.ascontiguousarray(vectors, dtype=np.float32))
    (d / REMOVED).write_text(json.dumps(sorted(removed), ensure_ascii=False), encoding="utf-8")


def read_delta(folder: Path) -> DeltaSegment:
    d = folder / DELTA_DIR
    docs = {r["doc_id"]: r for r in _read_jsonl(d / DELTA_DOCUMENTS)}
    chunks = _read_jsonl(d / DELTA_CHUNKS)
    tokens = [r["tokens"] for r in _read_jsonl(d / DELTA_TOKENS)]
    vectors = np.load(d / DELTA_EMBEDDINGS)
    removed = frozenset(json.loads((d / REMOVED).read_text(encoding="utf-8")))
    if len(chunks) != len(tokens) or len(chunks) != len(vectors):
        raise ValueError(f"{d}: {len(chunks)} chunks, {len(tokens)} token rows and {len(vectors)} vectors")
    return DeltaSegment(docs, chunks, vectors, tokens, removed)


def _write_jsonl(path: Path, records: list[dict[str, Any]]) -> None:
    with open(path, "w", encoding="utf-8") as f:
        for rec in records:
            f.write(json.dumps(rec, ensure_ascii=False) + "\n")


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]
