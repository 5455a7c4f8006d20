"""`QAService`: the one entry point for answering, used by the API, the CLI and the evaluation."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from ingest.embed import Embedder, ModelError
from ingest.settings import Settings, get_settings
from ingest.store import IndexData, IndexLoadError, load_index
from ingest.tokenize import warm_up

from . import calculator
from .answer import YES_NO_POOL, compose, specific_coverage
from .calc_answer import answer_calculation, is_out_of_scope_calculation, missing_prompt
from .models import Answer, Calculation, SearchHit
from .normalize import Query, normalise_question
from .quantity import answers_quantity
from .retrieve import HybridRetriever, to_hit
from .scope import has_domain_words, out_of_scope_topic, refusal_message

# Refusal thresholds on the best chunk's cosine similarity (m3e-small), chosen on
# eval/questions.jsonl: in-domain questions score ≥ 0.80 on their best chunk,
# unrelated ones (weather, cars, loans) stay below 0.78.
MIN_DENSE_NO_DOMAIN_WORDS = 0.84
MIN_DENSE = 0.70
MIN_SPECIFIC_COVERAGE = 0.5
STRONG_DENSE = 0.86


class IndexNotReady(RuntimeError):
    """The index folder cannot be served; the message names the cause and the fix."""


class QAService:
    """Load once, then answer many questions; safe to call from several threads."""

    def __init__(self, data: IndexData, embedder: Embedder, settings: Settings):
        self.settings = settings
        self.data = data
        self.embedder = embedder
        self.retriever = HybridRetriever(data, embedder, settings)
        self.weights = self.retriever.terms
        self._chunk_counts: dict[str, int] = {}
        for c in data.chunks:
            self._chunk_counts[c["doc_id"]] = self._chunk_counts.get(c["doc_id"], 0) + 1

    @classmethod
    def load(cls, settings: Settings | None = None, index_dir: Path | None = None,
             embedder: Embedder | None = None) -> QAService:
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
        built_with = data.manifest.get("model_signature")
        if built_with != embedder.signature:
            raise IndexNotReady(
                f"Index in {index_dir} was built with model {built_with!r} but the service is configured for "
                f"{embedder.signature!r}; rebuild it with `python -m ingest --force` or set YIBAO_EMBED_MODEL."
            )
        warm_up()  # jieba's dictionaries too: the first /api/ask took 1.1 s without this, later ones ~10 ms
        return cls(data, embedder, settings)

    # -- public API -----------------------------------------------------------------------
    def search(self, query: str, top_k: int = 10) -> list[SearchHit]:
        return [to_hit(s) for s in self.retriever.search(normalise_question(query), top_k)]

    def ask(self, question: str, top_k: int = 5) -> Answer:
        """Answer one question from the ``top_k`` best-ranked chunks."""
        t0 = time.perf_counter()
        query = normalise_question(question)
        timings: dict[str, float] = {}

        def done(**kw: Any) -> Answer:
            timings["total"] = round((time.perf_counter() - t0) * 1000, 2)
            return Answer(question=query.original, timings_ms=timings, **kw)

        topic = out_of_scope_topic(query.text) or is_out_of_scope_calculation(query)
        if topic:
            return done(answer=refusal_message(topic), refused=True)

        t = time.perf_counter()
        scored = self.retriever.search(query, max(top_k, YES_NO_POOL))
        timings["retrieve"] = round((time.perf_counter() - t) * 1000, 2)

        t = time.perf_counter()
        calc = answer_calculation(query, self.data)
        if calc is not None:
            timings["calculate"] = round((time.perf_counter() - t) * 1000, 2)
            return done(answer=calc.text, refused=False, citations=calc.citations, calculation=calc.calculation,
                        conflict=calc.conflict)

        best_dense = max((s.dense for s in scored[:top_k]), default=0.0)
        if not scored or best_dense < MIN_DENSE or (
            not has_domain_words(query.text) and best_dense < MIN_DENSE_NO_DOMAIN_WORDS
        ):
            return done(answer=refusal_message(no_evidence=True), refused=True)

        comp = compose(query, scored, self.weights, self.data.documents, top_k)
        timings["compose"] = round((time.perf_counter() - t) * 1000, 2)
        if comp is None:
            return done(answer=refusal_message(no_evidence=True), refused=True)
        coverage = specific_coverage(query, comp.units, self.weights)
        if coverage < MIN_SPECIFIC_COVERAGE and best_dense < STRONG_DENSE:
            return done(answer=refusal_message(no_evidence=True), refused=True)
        if not answers_quantity(query.text, [f"{c.unit.context} {c.unit.text}" for c in comp.units]):
            return done(answer=refusal_message(no_evidence=True), refused=True)
        return done(answer=comp.text + missing_prompt(query), refused=False, citations=comp.citations,
                    conflict=comp.conflict)

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
