"""`QAService`: the one entry point for answering, used by the API, the CLI and the evaluation."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ingest.embed import Embedder, ModelError
from ingest.settings import Settings, get_settings
from ingest.store import IndexData, IndexLoadError, load_index
from ingest.tokenize import warm_up

from . import calculator
from .answer import YES_NO_POOL, Composition, compose
from .calc_answer import CalcAnswer, answer_calculation, foreign_defaults, missing_prompt
from .decide import (
    ANSWERED,
    NO_ANSWER,
    OUT_OF_SCOPE,
    PARTIAL,
    DecisionError,
    DecisionModel,
    Evidence,
    evidence_features,
    rule_status,
)
from .lexicon import Lexicon
from .models import Answer, Calculation, SearchHit
from .normalize import Query, normalise_question
from .rank import UnitRanker
from .retrieve import HybridRetriever, Scored, to_hit
from .scope import no_answer_message, partial_lead, partial_tail, refusal_message, unreadable_message
from .sentences import Unit
from .understand import Understanding, understand
from .unitvec import UnitVectors


@dataclass(frozen=True)
class Gathered:
    """What one question led to: a rule's status, a calculation, or evidence for the decision model."""

    u: Understanding
    path: str  # "out_of_scope" / "no_answer" (a rule), "calculation", or "model"
    scored: list[Scored] = field(default_factory=list)
    calc: CalcAnswer | None = None
    comp: Composition | None = None
    evidence: Evidence | None = None


class IndexNotReady(RuntimeError):
    """The index folder cannot be served; the message names the cause and the fix."""


class QAService:
    """Load once, then answer many questions; safe to call from several threads."""

    def __init__(self, data: IndexData, embedder: Embedder, settings: Settings,
                 decision: DecisionModel | None = None, ranker: UnitRanker | None = None):
        self.settings = settings
        self.data = data
        self.embedder = embedder
        self.retriever = HybridRetriever(data, embedder, settings)
        self.weights = self.retriever.terms
        self.decision = decision or DecisionModel.load()
        self.ranker = ranker if ranker is not None else UnitRanker.load()
        self.lexicon = Lexicon(self.weights.df)
        self.unit_vectors = UnitVectors(self.embedder.encode, data.chunks)
        self._chunk_counts: dict[str, int] = {}
        for c in data.chunks:
            self._chunk_counts[c["doc_id"]] = self._chunk_counts.get(c["doc_id"], 0) + 1

    @classmethod
    def load(cls, settings: Settings | None = None, index_dir: Path | None = None,
             embedder: Embedder | None = None, decision: DecisionModel | None = None,
             ranker: UnitRanker | None = None) -> QAService:
        """Raises IndexNotReady with a readable message instead of a traceback.

        ``embedder`` lets several services (tests, evaluation variants) share one loaded model.
        """
        settings = settings or get_settings()
        index_dir = Path(index_dir or settings.index_dir)
        try:
            data = load_index(index_dir)
        except IndexLoadError as exc:
            raise IndexNotReady(f"Index not usable: {exc}") from exc
        try:
            embedder = embedder or Embedder(settings)
            embedder.encode(["预热"])  # load the model now: a broken model fails here, not on a request
        except ModelError as exc:
            raise IndexNotReady(str(exc)) from exc
        try:
            decision = decision or DecisionModel.load()
            ranker = ranker if ranker is not None else UnitRanker.load()
        except (DecisionError, ValueError) as exc:
            raise IndexNotReady(str(exc)) from exc
        built_with = data.manifest.get("model_signature")
        if built_with != embedder.signature:
            raise IndexNotReady(
                f"Index in {index_dir} was built with model {built_with!r} but the service is configured for "
                f"{embedder.signature!r}; rebuild it with `python -m ingest --force` or set YIBAO_EMBED_MODEL."
            )
        warm_up()  # jieba's dictionaries too: the first /api/ask took 1.1 s without this, later ones ~10 ms
        return cls(data, embedder, settings, decision, ranker)

    # -- public API -----------------------------------------------------------------------
    def search(self, query: str, top_k: int = 10) -> list[SearchHit]:
        return [to_hit(s) for s in self.retriever.search(self.understand(query), top_k)]

    def similarity(self, text: str, items: list[tuple[dict[str, Any], Unit]]) -> np.ndarray:
        """Cosine similarity of each sentence to ``text`` (both vectors are normalised)."""
        return self.unit_vectors.vectors(items) @ self.retriever.embed_query(text)

    def understand(self, question: str) -> Understanding:
        """The one reading of a question, with this index's vocabulary (typos, pinyin)."""
        return understand(question, self.lexicon)

    def ask(self, question: str, top_k: int = 5) -> Answer:
        """Answer one question from the ``top_k`` best-ranked chunks."""
        t0 = time.perf_counter()
        u = self.understand(question)
        timings = {"understand": round((time.perf_counter() - t0) * 1000, 2)}
        return self.answer(u, top_k, t0=t0, timings=timings)

    def gather(self, u: Understanding, top_k: int = 5, timings: dict[str, float] | None = None) -> Gathered:
        """Everything the decision looks at for an understood question (public for `eval fit`)."""
        timings = {} if timings is None else timings
        ruled = rule_status(u)
        if ruled is not None:
            return Gathered(u, ruled)
        t = time.perf_counter()
        scored = self.retriever.search(u, max(top_k, YES_NO_POOL))
        timings["retrieve"] = round((time.perf_counter() - t) * 1000, 2)
        t = time.perf_counter()
        calc = answer_calculation(u, self.data)
        if calc is not None:
            timings["calculate"] = round((time.perf_counter() - t) * 1000, 2)
            return Gathered(u, "calculation", scored, calc=calc)
        comp = compose(u, scored, self.weights, self.data.documents, top_k, self.ranker, self.similarity)
        timings["compose"] = round((time.perf_counter() - t) * 1000, 2)
        evidence = evidence_features(u, scored[:top_k], comp, self.weights, self.data.documents,
                                     self.decision.domain_terms)
        return Gathered(u, "model", scored, comp=comp, evidence=evidence)

    def answer(self, u: Understanding, top_k: int = 5, *, t0: float | None = None,
               timings: dict[str, float] | None = None) -> Answer:
        """Answer an understood question: retrieve, calculate or compose, decide, render."""
        t0 = time.perf_counter() if t0 is None else t0
        timings = {} if timings is None else timings

        def done(status: str, text: str, **kw: Any) -> Answer:
            timings["total"] = round((time.perf_counter() - t0) * 1000, 2)
            lead = "".join(n for n in u.notes if status in (ANSWERED, PARTIAL))
            return Answer(question=u.original, answer=lead + text, status=status,
                          refused=status in (NO_ANSWER, OUT_OF_SCOPE), understood_as=u.text, timings_ms=timings, **kw)

        g = self.gather(u, top_k, timings)
        if g.path == OUT_OF_SCOPE:
            return done(OUT_OF_SCOPE, refusal_message(u.scope_topic))
        if g.path == NO_ANSWER:
            return done(NO_ANSWER, unreadable_message())
        if g.calc is not None:
            return self._calculated(u, g.calc, done)
        comp, evidence = g.comp, g.evidence
        assert evidence is not None
        verdict = self.decision.decide(u, evidence)
        confidence = round(verdict.p_answered, 4)
        if verdict.status == ANSWERED and comp is not None:
            return done(ANSWERED, comp.text + missing_prompt(u), citations=comp.citations, conflict=comp.conflict,
                        confidence=confidence)
        if verdict.status in (ANSWERED, PARTIAL) and comp is not None:
            return done(PARTIAL, self._partial_text(u, evidence, comp), citations=comp.citations,
                        missing=list(evidence.missing), confidence=confidence)
        if verdict.status == OUT_OF_SCOPE:
            return done(OUT_OF_SCOPE, refusal_message(), confidence=confidence)
        return done(NO_ANSWER, no_answer_message(), confidence=confidence)

    def _calculated(self, u: Understanding, calc: CalcAnswer, done) -> Answer:
        borrowed = foreign_defaults(u, self.data)
        if borrowed:
            # The calculation would fill in another region's standard for the asked one.
            missing = [f"{'、'.join(u.regions)}的标准"]
            text = partial_lead(missing, borrowed) + calc.text + partial_tail()
            return done(PARTIAL, text, citations=calc.citations, calculation=calc.calculation, missing=missing)
        return done(ANSWERED, calc.text, citations=calc.citations, calculation=calc.calculation,
                    conflict=calc.conflict)

    def _partial_text(self, u: Understanding, evidence: Evidence, comp: Composition) -> str:
        return partial_lead(list(evidence.missing), list(evidence.other_regions)) + comp.text + partial_tail()

    def calculate(self, kind: str, params: dict[str, Any]) -> Calculation:
        """Direct calculation with named parameters; raises calculator.CalcError on bad input."""
        return calculator.compute(kind, params).calculation

    def calc_kinds(self) -> dict[str, Any]:
        return calculator.kinds_schema()

    def documents(self) -> list[dict[str, Any]]:
        return [
            {"doc_id": d, "title": doc["title"], "metadata": doc.get("metadata", {}),
             "chunks": self._chunk_counts.get(d, 0)}
            for d, doc in sorted(self.data.documents.items())
        ]

    def document(self, doc_id: str) -> dict[str, Any] | None:
        doc = self.data.documents.get(doc_id)
        if doc is None:
            return None
        return {"doc_id": doc_id, "title": doc["title"], "text": doc["text"], "metadata": doc.get("metadata", {})}

    def health(self) -> dict[str, Any]:
        m = self.data.manifest
        return {"status": "ok", "documents": len(self.data.documents), "chunks": len(self.data.chunks),
                "model": m.get("model"), "index_hash": m.get("index_hash")}


def parse_query(question: str) -> Query:
    """Exposed for callers that want the normalised form (e.g. the evaluation's failure list)."""
    return normalise_question(question)


__all__ = ["Answer", "IndexNotReady", "QAService", "Scored", "parse_query"]
