"""Hybrid retrieval: FAISS dense search and jieba BM25, fused, with a metadata preference."""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np

from ingest.embed import Embedder
from ingest.faq_units import QUESTION_ROW, bm25_row_text, is_faq
from ingest.segment import DeltaBM25
from ingest.settings import Settings
from ingest.store import IndexData
from ingest.tokenize import tokenize

from .models import SearchHit
from .normalize import Query
from .terms import TermWeights

# Metadata preference, applied as a multiplier on the fused score. Small on purpose:
# it reorders near-ties (e.g. the 嘉峪关 article for a 嘉峪关 question) without
# letting metadata outvote the text.
REGION_MATCH_BOOST = 0.25
OTHER_REGION_PENALTY = 0.10
TYPE_MATCH_BOOST = 0.05
# Spread of the logistic that maps adaptive fused z-scores to (0, 1); only the composer's
# chunk prior (score ÷ best score) depends on it, rankings do not.
ADAPTIVE_TEMPERATURE = 4.0


@dataclass(frozen=True)
class Scored:
    """A chunk with every score that went into its rank."""

    index: int
    chunk: dict[str, Any]
    score: float  # fused, after metadata preference
    dense: float  # cosine similarity to the query (0 if not a dense candidate)
    bm25: float
    dense_rank: int | None
    bm25_rank: int | None
    # FAQ rows: the best similarity of the pair's own questions to the question (for a verbatim answer),
    # and which of its questions that was.
    faq_dense: float = 0.0
    faq_question: str = ""


class _LRU:
    def __init__(self, size: int):
        self.size, self.data, self.lock = size, OrderedDict(), threading.Lock()

    def get(self, key):
        with self.lock:
            if key in self.data:
                self.data.move_to_end(key)
                return self.data[key]
        return None

    def put(self, key, value) -> None:
        if self.size <= 0:
            return
        with self.lock:
            self.data[key] = value
            self.data.move_to_end(key)
            while len(self.data) > self.size:
                self.data.popitem(last=False)


class HybridRetriever:
    def __init__(self, data: IndexData, embedder: Embedder, settings: Settings, terms: TermWeights | None = None,
                 faq_bm25: DeltaBM25 | None = None):
        """``terms`` (and ``faq_bm25``) let variants over one index, and the versions of one base, share
        what is slow to build: the word weights and the base's FAQ-row scorer."""
        self.data, self.embedder, self.settings = data, embedder, settings
        self.chunks = data.chunks
        self.terms = terms if terms is not None else TermWeights(data.chunks)
        self._query_cache = _LRU(settings.query_cache_size)
        vocab = data.bm25.vocab_dict
        self._vocab = set(vocab) if isinstance(vocab, dict) else set()
        self._doc_regions = {
            d: tuple(doc.get("metadata", {}).get("regions", ())) for d, doc in data.documents.items()
        }
        # A knowledge-base change: the delta's chunks follow the base's (numbered from n_base), and the
        # base chunks of removed or replaced documents are skipped.
        self.n_base = data.dense.ntotal
        self.delta = data.delta if data.delta is not None and data.delta.chunks else None
        self.delta_bm25 = DeltaBM25(self.delta.tokens, data.bm25_stats()) if self.delta is not None else None
        self.dead = data.dead
        self._expired: tuple[date | None, frozenset[str]] = (None, frozenset())
        # FAQ rows, left out when answers are composed from the articles alone (``articles_only``).
        self.faq_rows = frozenset(i for i, c in enumerate(self.chunks) if is_faq(c))
        # The base's BM25 index holds its first ``n_bm25`` rows (the articles); its FAQ rows after them are
        # scored here with the articles' statistics (ingest.build), so they never change an article's score.
        self.n_bm25 = int((data.base or data).manifest.get("bm25_rows", self.n_base))
        if faq_bm25 is None and self.n_bm25 < self.n_base:
            faq_bm25 = DeltaBM25([tokenize(bm25_row_text(c)) for c in self.chunks[self.n_bm25:self.n_base]],
                                 data.bm25_stats())
        self.faq_bm25 = faq_bm25 if self.n_bm25 < self.n_base else None

    def expired_docs(self) -> frozenset[str]:
        """Documents past their ``expires`` date are not used for answers (checked once a day)."""
        today = date.today()
        if self._expired[0] != today:
            gone = frozenset(d for d, doc in self.data.documents.items()
                             if _before(doc.get("metadata", {}).get("expires"), today))
            self._expired = (today, gone)
        return self._expired[1]

    def _live(self, hits: list[tuple[int, float]], k: int, articles_only: bool = False) -> list[tuple[int, float]]:
        expired = self.expired_docs()
        skip_faq = articles_only and bool(self.faq_rows)
        if not self.dead and not expired and not skip_faq:
            return hits[:k]
        return [(i, s) for i, s in hits if i not in self.dead and self.chunks[i]["doc_id"] not in expired
                and not (skip_faq and i in self.faq_rows)][:k]

    # -- the two sides -------------------------------------------------------------------
    def embed_query(self, text: str) -> np.ndarray:
        vec = self._query_cache.get(text)
        if vec is None:
            vec = self.embedder.encode([text])[0]
            self._query_cache.put(text, vec)
        return vec

    def _extra(self, articles_only: bool = False) -> int:
        """How many more base hits to ask for, so that skipping dead or expired chunks (and FAQ rows)
        still leaves k."""
        extra = min(len(self.dead) + 8 * len(self.expired_docs()), 2000)
        return extra + (len(self.faq_rows) if articles_only else 0)

    def dense(self, text: str, k: int, articles_only: bool = False) -> list[tuple[int, float]]:
        if k <= 0:
            return []
        qv = self.embed_query(text)[None, :]
        hits: list[tuple[int, float]] = []
        kb = min(k + self._extra(articles_only), self.n_base)
        if kb > 0:
            scores, ids = self.data.dense.search(qv, kb)
            hits = [(int(i), float(s)) for i, s in zip(ids[0], scores[0]) if i >= 0]
        if self.delta is not None:
            kd = min(k + (len(self.faq_rows) if articles_only else 0), self.delta.dense.ntotal)
            scores, ids = self.delta.dense.search(qv, kd)
            hits += [(self.n_base + int(i), float(s)) for i, s in zip(ids[0], scores[0]) if i >= 0]
            hits.sort(key=lambda x: -x[1])
        return self._live(hits, k, articles_only)

    def bm25(self, text: str, k: int, articles_only: bool = False) -> list[tuple[int, float]]:
        all_tokens = tokenize(text)
        tokens = [t for t in all_tokens if t in self._vocab]
        if k <= 0:
            return []
        hits: list[tuple[int, float]] = []
        kb = min(k + self._extra(articles_only), self.n_bm25)
        if tokens and kb > 0:
            # n_threads=0: score in this thread (bm25s starts a ThreadPoolExecutor per call for any n_threads > 0)
            ids, scores = self.data.bm25.retrieve([tokens], k=kb, show_progress=False, n_threads=0)
            hits = [(int(i), float(s)) for i, s in zip(ids[0], scores[0]) if s > 0]
        if self.faq_bm25 is not None and not articles_only:
            hits += [(self.n_bm25 + i, s) for i, s in self.faq_bm25.retrieve(all_tokens, k + self._extra())]
            hits.sort(key=lambda x: -x[1])
        if self.delta_bm25 is not None:
            kd = k + (len(self.faq_rows) if articles_only else 0)
            hits += [(self.n_base + i, s) for i, s in self.delta_bm25.retrieve(all_tokens, kd)]
            hits.sort(key=lambda x: -x[1])
        return self._live(hits, k, articles_only)

    # -- fusion -----------------------------------------------------------------------------
    def bm25_weight_for(self, query_terms: set[str], sparse: list[tuple[int, float]]) -> float:
        """BM25's weight for this question, from how much of it BM25's best chunk contains.

        Questions copied from a document's wording (long policy texts) have most of their rare
        words in BM25's best chunk and BM25 is right there; paraphrased questions (FAQ style)
        cover less and dense retrieval is right. On ncp_policies train the best BM25 chunk holds
        0.76 of the question's IDF mass, on insurance_faq 0.43 (`python -m eval external`).
        """
        s = self.settings
        if not sparse or not query_terms or getattr(self, "terms", None) is None:
            return s.bm25_weight
        cov = self.terms.coverage(query_terms, sparse[0][0])
        lo, hi = s.adaptive_coverage_low, s.adaptive_coverage_high
        t = min(1.0, max(0.0, (cov - lo) / (hi - lo))) if hi > lo else float(cov >= lo)
        return s.bm25_weight * (s.adaptive_bm25_low + t * (s.adaptive_bm25_high - s.adaptive_bm25_low))

    def fuse(self, dense: list[tuple[int, float]], sparse: list[tuple[int, float]],
             query_terms: set[str] | None = None) -> dict[int, float]:
        """Chunk index -> fused score (higher is better; positive for every candidate).

        A side whose weight is 0 adds no candidates, so dense-only and BM25-only are exact ablations.
        """
        s = self.settings
        fused: dict[int, float] = {}
        if s.fusion == "rrf":
            for weight, ranked in ((s.dense_weight, dense), (s.bm25_weight, sparse)):
                if weight <= 0:
                    continue
                for rank, (i, _) in enumerate(ranked):
                    fused[i] = fused.get(i, 0.0) + weight / (s.rrf_k + rank + 1)
        elif s.fusion == "weighted":  # weighted sum of min-max normalised scores
            for weight, ranked in ((s.dense_weight, dense), (s.bm25_weight, sparse)):
                if weight <= 0 or not ranked:
                    continue
                vals = [v for _, v in ranked]
                lo, hi = min(vals), max(vals)
                for i, v in ranked:
                    fused[i] = fused.get(i, 0.0) + weight * ((v - lo) / (hi - lo) if hi > lo else 1.0)
        else:  # adaptive: z-scores of each side, BM25 weighted by its best chunk's query coverage
            b_weight = self.bm25_weight_for(query_terms or set(), sparse)
            sides = [(w, _zscores(r)) for w, r in ((s.dense_weight, dense), (b_weight, sparse)) if w > 0 and r]
            ids = {i for _, z in sides for i in z}
            # A candidate missing from one side's list scores that side's lowest z (it ranked below all of them).
            raw = {i: sum(w * z.get(i, min(z.values())) for w, z in sides) for i in ids}
            # Logistic map to (0, 1): positive scores whose ratios the answer composer can use as a prior.
            fused = {i: 1.0 / (1.0 + math.exp(-v / ADAPTIVE_TEMPERATURE)) for i, v in raw.items()}
        return fused

    def _preference(self, chunk: dict[str, Any], query: Query) -> float:
        factor = 1.0
        if query.regions:
            regions = self._doc_regions.get(chunk["doc_id"], ())
            if any(r in q or q in r for r in regions for q in query.regions):
                factor += REGION_MATCH_BOOST
            elif regions and "全国" not in regions:
                factor -= OTHER_REGION_PENALTY
        if query.insurance_types:
            where = chunk.get("heading", "") + chunk["text"][:80]
            if any(t in where for t in query.insurance_types):
                factor += TYPE_MATCH_BOOST
        return factor

    def search(self, query: Query, top_k: int, articles_only: bool = False) -> list[Scored]:
        """The ``top_k`` best chunks and FAQ pairs; with ``articles_only`` the FAQ rows are left out
        before fusion, so the articles rank exactly as they would without a FAQ list."""
        n = max(self.settings.candidates, top_k)
        dense = self.dense(query.text, n, articles_only)
        sparse = self.bm25(query.text, n, articles_only)
        # A FAQ pair is one unit: on each side its best row stands for it (its closest question for the
        # dense side, whichever of its questions or its answer BM25 ranks highest), so a pair found by
        # dense search on a question and by BM25 on its answer gets both sides' credit.
        best_q = self._best_questions(dense)
        dense, sparse = self._collapse_pairs(dense), self._collapse_pairs(sparse)
        # The row that stands for a pair (its best dense row, else its best BM25 row) ...
        bm25_row = {self._unit(i): i for i, _ in sparse}
        rep = bm25_row | {self._unit(i): i for i, _ in dense}
        # ... and one key per pair on both sides: a pair whose best dense row is not its best BM25 row (a
        # question found by the vectors, its answer by BM25) is one candidate with both sides' scores, not
        # two candidates with one side each. (BM25's own rows stay, for its coverage of the question.)
        dense = [(bm25_row.get(self._unit(i), i), s) for i, s in dense]
        fused = self.fuse(dense, sparse, set(tokenize(query.text)))
        d_rank = {i: r for r, (i, _) in enumerate(dense)}
        b_rank = {i: r for r, (i, _) in enumerate(sparse)}
        d_score, b_score = dict(dense), dict(sparse)
        unit = {i: self._unit(i) for i in fused}
        out = []
        for key, f in fused.items():
            i = rep.get(unit[key], key)
            chunk = self.chunks[i]
            faq_dense, faq_question = best_q.get(chunk["doc_id"], (0.0, "")) if is_faq(chunk) else (0.0, "")
            out.append(Scored(i, chunk, f * self._preference(chunk, query), d_score.get(key, 0.0),
                              b_score.get(key, 0.0), d_rank.get(key), b_rank.get(key), faq_dense, faq_question))
        out.sort(key=lambda s: (-s.score, s.index))
        # A maintained FAQ pair whose question says what was asked goes first, closest question first:
        # on paraphrases dense similarity picks the right pair more often than the fused score
        # (insurance_faq top-1, `python -m eval fusion-cv`: dense only 0.97, fused 0.93).
        strong = sorted((s for s in out if s.faq_dense >= self.settings.faq_match), key=lambda s: -s.faq_dense)
        if strong:
            out = strong + [s for s in out if s.faq_dense < self.settings.faq_match]
        return out[:top_k]

    def _unit(self, i: int) -> str | int:
        c = self.chunks[i]
        return c["doc_id"] if is_faq(c) else i

    def _collapse_pairs(self, hits: list[tuple[int, float]]) -> list[tuple[int, float]]:
        """Rows of one FAQ pair after its best row are dropped (the list is best first)."""
        seen: set[str] = set()
        out = []
        for i, s in hits:
            c = self.chunks[i]
            if is_faq(c):
                if c["doc_id"] in seen:
                    continue
                seen.add(c["doc_id"])
            out.append((i, s))
        return out

    def _best_questions(self, dense: list[tuple[int, float]]) -> dict[str, tuple[float, str]]:
        """Per FAQ pair: the cosine similarity of its closest *question* and which question that is."""
        best: dict[str, tuple[float, str]] = {}
        for i, s in dense:
            c = self.chunks[i]
            if c.get("kind") == QUESTION_ROW and s > best.get(c["doc_id"], (-1.0, ""))[0]:
                best[c["doc_id"]] = (s, c.get("matched", ""))
        return best


def _before(value: object, today: date) -> bool:
    if not isinstance(value, str):
        return False
    try:
        return date.fromisoformat(value[:10]) < today
    except ValueError:
        return False


def _zscores(ranked: list[tuple[int, float]]) -> dict[int, float]:
    vals = np.array([v for _, v in ranked], dtype=float)
    sd = float(vals.std())
    mu = float(vals.mean())
    return {i: ((v - mu) / sd if sd > 1e-12 else 0.0) for i, v in ranked}


def to_hit(s: Scored) -> SearchHit:
    c = s.chunk
    return SearchHit(doc_id=c["doc_id"], chunk_id=c["chunk_id"], title=c["title"], text=c["text"],
                     start=c["start"], end=c["end"], score=round(s.score, 6), heading=c.get("heading", ""))
