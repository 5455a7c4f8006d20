"""One published version of the index, with everything derived from it, swapped as a whole.

A knowledge-base change publishes a new version while the service runs. Every request takes the
current ``LiveIndex`` once, at its start, and uses only that object: a request never mixes one
version's chunk numbers with another's documents. A worker loads a new version when the first
request after the change arrives (``QAService.refresh``); a delta version reuses the base it already
holds, so only the small delta is read and only its chunks are tokenised.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ingest.embed import Embedder
from ingest.rules import RuleBook, default_rules
from ingest.settings import Settings
from ingest.store import IndexData

from .lexicon import Lexicon
from .retrieve import HybridRetriever
from .sentences import Unit
from .terms import TermWeights
from .unitvec import UnitVectors

log = logging.getLogger("yibao.qa")


@dataclass
class LiveIndex:
    data: IndexData
    retriever: HybridRetriever
    weights: TermWeights
    lexicon: Lexicon
    unit_vectors: UnitVectors
    rules: RuleBook = field(default_factory=default_rules)
    chunk_counts: dict[str, int] = field(default_factory=dict)
    # doc_id → positions of its live chunks (calculation citations look a quote up in its document)
    doc_chunks: dict[str, list[int]] = field(default_factory=dict)

    @classmethod
    def build(cls, data: IndexData, embedder: Embedder, settings: Settings,
              previous: LiveIndex | None = None) -> LiveIndex:
        same_base = previous is not None and data.base is not None and (
            previous.data is data.base or previous.data.base is data.base)
        if same_base:
            assert previous is not None and data.delta is not None
            base_weights = previous.weights if previous.data is data.base else _base_part(previous)
            weights = TermWeights.extended(base_weights, data.delta.chunks)
            lexicon, unit_vectors = previous.lexicon, previous.unit_vectors
        else:
            weights = TermWeights(data.chunks)
            lexicon = Lexicon(weights.df, n_chunks=weights.n_counted)
            unit_vectors = UnitVectors(embedder.encode, data.chunks)
        retriever = HybridRetriever(data, embedder, settings, terms=weights,
                                    faq_bm25=previous.retriever.faq_bm25 if same_base and previous else None)
        counts: dict[str, int] = {}
        doc_chunks: dict[str, list[int]] = {}
        for i, c in enumerate(data.chunks):
            if i in data.dead:
                continue
            counts[c["doc_id"]] = counts.get(c["doc_id"], 0) + 1
            doc_chunks.setdefault(c["doc_id"], []).append(i)
        return cls(data, retriever, weights, lexicon, unit_vectors, rule_book(data), counts, doc_chunks)

    def similarity(self, text: str, items: list[tuple[dict[str, Any], Unit]]) -> np.ndarray:
        """Cosine similarity of each sentence to ``text`` (both vectors are normalised)."""
        return self.unit_vectors.vectors(items) @ self.retriever.embed_query(text)

    def chunk_at(self, doc_id: str, offset: int) -> dict[str, Any] | None:
        """The live chunk of ``doc_id`` that holds character ``offset`` of its text."""
        for i in self.doc_chunks.get(doc_id, ()):
            c = self.data.chunks[i]
            if c["start"] <= offset < c["end"]:
                return c
        return None


def rule_book(data: IndexData) -> RuleBook:
    """The calculator's rules: ``corpus/rules.toml`` plus the rules given with uploaded documents (their
    ``rules`` metadata). A rule whose document is gone, or whose quote its text no longer holds, is left out
    when the calculator uses the book (``qa.calc_answer.rules_for``): a document's rules leave with it."""
    base = default_rules()
    extra = [{**rec, "doc_id": doc_id}
             for doc_id, entry in (data.catalog or {}).get("documents", {}).items()
             for rec in (entry.get("given") or {}).get("rules", []) or [] if isinstance(rec, dict)]
    if not extra:
        return base
    try:
        return RuleBook((*base, *RuleBook.from_records(extra)))
    except ValueError as exc:  # checked at upload; a hand-edited catalog may still be wrong
        log.error("rules given with uploaded documents ignored: %s", exc)
        return base


def _base_part(previous: LiveIndex) -> TermWeights:
    """The word weights of the base alone, from a live index that is itself base + delta."""
    return previous.weights.first(previous.data.n_base)
