"""`QAService`: the one entry point for answering, used by the API, the CLI and the evaluation."""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ingest.embed import Embedder, ModelError
from ingest.faq_units import is_faq
from ingest.regions import gazetteer
from ingest.settings import Settings, get_settings
from ingest.store import IndexData, IndexLoadError, load_index
from ingest.tokenize import warm_up

from . import calculator
from .answer import YES_NO_POOL, Composition, compose
from .calc_answer import CalcAnswer, answer_calculation, foreign_defaults, missing_prompt, uncovered_regions
from .conversation import TurnState, resolve, state_of
from .conversations import ConversationStore, ConversationStoreError, UnknownConversation
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
from .live import LiveIndex
from .models import Answer, Calculation, Citation, FAQMatch, SearchHit
from .normalize import Query, normalise_question, numerals_to_digits
from .rank import UnitRanker, states_asked_kind
from .reading import place_sounds
from .retrieve import HybridRetriever, Scored, to_hit
from .scope import no_answer_message, partial_lead, partial_tail, refusal_message, unreadable_message
from .sentences import Unit
from .understand import Understanding, uncovered_places, understand, with_text


@dataclass(frozen=True)
class Gathered:
    """What one question led to: a rule's status, a calculation, or evidence for the decision model."""

    u: Understanding
    path: str  # "out_of_scope" / "no_answer" (a rule), "calculation", "faq", or "model"
    scored: list[Scored] = field(default_factory=list)
    calc: CalcAnswer | None = None
    comp: Composition | None = None
    evidence: Evidence | None = None


log = logging.getLogger("yibao.qa")


class IndexNotReady(RuntimeError):
    """The index folder cannot be served; the message names the cause and the fix."""


def _states_own_numbers(u: Understanding, matched: str) -> bool:
    """The question gives inputs for a calculation (断了5个月, 基数4000) that the matched FAQ question does
    not state itself: then the calculator computes with them. A pair written for exactly that case
    ("医保断了两个月，补缴后哪个月能用") still answers it."""
    if u.calc is None or u.calc.out_of_scope or not u.calc.kind or not u.calc.evidence:
        return False
    said = numerals_to_digits(matched)
    return not all(numerals_to_digits(words) in said for words in u.calc.evidence.values())


class QAService:
    """Load once, then answer many questions; safe to call from several threads.

    The index version in use (``live``) is replaced as a whole when a knowledge-base change is
    published: ``refresh`` (called at the start of every ask/search) notices a new version of the
    watched index folder and loads it before the request goes on.
    """

    def __init__(self, data: IndexData, embedder: Embedder, settings: Settings,
                 decision: DecisionModel | None = None, ranker: UnitRanker | None = None,
                 watch: Path | None = None):
        self.settings = settings
        self.embedder = embedder
        self.decision = decision or DecisionModel.load()
        self.ranker = ranker if ranker is not None else UnitRanker.load()
        self.live = LiveIndex.build(data, embedder, settings)
        self._watch = watch
        self._broken: Path | None = None  # a version that failed to load (not retried until the link moves)
        # Set by the API (python -m api) to keep conversations; None answers every question alone.
        self.conversations: ConversationStore | None = None
        self._refresh_lock = threading.Lock()

    # The current version's parts (each request should take ``live`` once and use it throughout).
    @property
    def data(self) -> IndexData:
        return self.live.data

    @property
    def retriever(self) -> HybridRetriever:
        return self.live.retriever

    @property
    def weights(self):
        return self.live.weights

    @property
    def lexicon(self) -> Lexicon:
        return self.live.lexicon

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
        _check_model(data, embedder, index_dir)
        warm_up()  # jieba's dictionaries too: the first /api/ask took 1.1 s without this, later ones ~10 ms
        gazetteer()  # and the region gazetteer (0.75 s to build)
        place_sounds()  # and its names by sound, for places written in pinyin (0.2 s)
        return cls(data, embedder, settings, decision, ranker, watch=index_dir if index_dir.is_symlink() else None)

    # -- versions -------------------------------------------------------------------------
    def refresh(self) -> bool:
        """Load the published version if it changed since this worker loaded one (True if it did).

        Costs one readlink when nothing changed. A version pruned while it was being read (two changes
        in quick succession) is simply retried with the newer one.
        """
        if self._watch is None:
            return False
        for _ in range(3):
            try:
                target = Path(os.path.realpath(self._watch))
            except OSError:
                return False
            if target == self.live.data.path or target == self._broken:
                return False
            with self._refresh_lock:
                if Path(os.path.realpath(self._watch)) == self.live.data.path:
                    return False
                try:
                    data = load_index(self._watch, reuse=self.live.data)
                except IndexLoadError as exc:
                    if Path(os.path.realpath(self._watch)) != target:
                        continue  # replaced again while we read it
                    # A broken version (corrupted on disk, swapped in by hand) is not served: the loaded one
                    # keeps answering, and the broken one is not read again until the link moves on.
                    log.error("index %s not loaded, still serving %s: %s", target, self.live.data.path, exc)
                    self._broken = target
                    return False
                _check_model(data, self.embedder, self._watch)
                self.live = LiveIndex.build(data, self.embedder, self.settings, previous=self.live)
                return True
        return False

    def current(self) -> LiveIndex:
        self.refresh()
        return self.live

    # -- public API -----------------------------------------------------------------------
    def search(self, query: str, top_k: int = 10) -> list[SearchHit]:
        live = self.current()
        return [to_hit(s) for s in live.retriever.search(understand(query, live.lexicon), top_k)]

    def similarity(self, text: str, items: list[tuple[dict[str, Any], Unit]]) -> np.ndarray:
        return self.live.similarity(text, items)

    def understand(self, question: str, live: LiveIndex | None = None) -> Understanding:
        """The one reading of a question, with this index's vocabulary (typos, pinyin)."""
        return understand(question, (live or self.live).lexicon)

    def ask(self, question: str, top_k: int = 5, conversation_id: str | None = None, *,
            conversation: bool = False) -> Answer:
        """Answer one question from the ``top_k`` best-ranked chunks.

        With ``conversation_id`` (or ``conversation=True`` to start one) the question is a turn of a
        conversation kept in ``self.conversations``: a follow-up is completed from what earlier turns
        established, and the answer carries the conversation's id and its own ``answer_id``. A failing
        conversation store never fails the answer: the question is then answered alone and the failure
        logged. An id the store does not know raises ``UnknownConversation``.
        """
        if conversation_id is None and not conversation:
            t0 = time.perf_counter()
            live = self.current()
            u = self.understand(question, live)
            timings = {"understand": round((time.perf_counter() - t0) * 1000, 2)}
            return self.answer(u, top_k, t0=t0, timings=timings, live=live)
        return self._ask_in_conversation(question, top_k, conversation_id)

    def ask_turn(self, question: str, previous: TurnState | None, top_k: int = 5) -> tuple[Answer, TurnState]:
        """One conversation turn without storage: the answer and the state it leaves (evaluation, tests)."""
        t0 = time.perf_counter()
        live = self.current()
        alone = self.understand(question, live)
        res = resolve(alone, previous)
        u = alone if res.kind == "fresh" else with_text(alone, res.text, res.inherited, res.calc_text, res.focus)
        timings = {"understand": round((time.perf_counter() - t0) * 1000, 2)}
        answer = self.answer(u, top_k, t0=t0, timings=timings, live=live)
        if res.fallback and (answer.status in (PARTIAL, NO_ANSWER)
                             or answer.status == ANSWERED and not _meets_type(alone.qtype, answer)):
            # A drill-down that finds no answer with the previous question carried whole — or an answer that
            # says nothing of the kind asked (no material named after "要带什么材料": the carried waiting
            # question found waiting-period passages) — is asked with only the previous slots and topic
            # words ("城乡居民医保断缴补缴报销要带什么材料"); that answer is kept only when it is answered and
            # of the kind asked, and it is then what the turn is understood as.
            fb = with_text(alone, res.fallback, res.inherited, res.calc_text, None)
            retry = self.answer(fb, top_k, t0=t0, timings=dict(timings), live=live)
            if retry.status == ANSWERED and _meets_type(alone.qtype, retry):
                places = _uncovered_places(fb, retry.citations)
                if not places:
                    u, answer = fb, retry
                elif answer.status == ANSWERED:
                    # The carried answer is of another kind, and the retry is not about the place this turn
                    # names ("成都的话网上能办吗"): the retry, labelled partial as a question alone would be.
                    missing = [f"{'、'.join(places)}的规定"]
                    u, answer = fb, retry.model_copy(update={
                        "status": PARTIAL, "missing": missing, "confidence": None,
                        "answer": partial_lead(missing, []) + retry.answer + partial_tail()})
        if res.inherited:
            answer = answer.model_copy(update={"inherited": list(res.inherited)})
        if answer.status == OUT_OF_SCOPE and previous is not None:
            # A question about another domain does not change what the conversation is about:
            # "那职工医保呢" after "公积金呢" still follows the 医保 question before it.
            return answer, previous
        return answer, state_of(u)

    def _ask_in_conversation(self, question: str, top_k: int, conversation_id: str | None) -> Answer:
        store = self.conversations
        previous: TurnState | None = None
        if store is not None:
            try:
                if conversation_id is None:
                    # Retention runs daily in a long-running service, checked when a conversation starts.
                    purged = store.purge_if_due(self.settings.retention_days)
                    if purged:
                        log.info("retention: deleted %d conversations older than %d days", purged,
                                 self.settings.retention_days)
                    conversation_id = store.new_conversation()
                else:
                    previous = TurnState.from_json(store.last_state(conversation_id))
            except ConversationStoreError as exc:
                log.error("conversation store unavailable, answering alone: %s", exc)
                store = None
        answer, state = self.ask_turn(question, previous, top_k)
        answer_id = None
        if store is not None and conversation_id is not None:
            try:
                answer_id = store.add_turn(conversation_id, question=answer.question,
                                           understood_as=answer.understood_as, status=answer.status,
                                           cited_docs=[c.doc_id for c in answer.citations],
                                           timings=answer.timings_ms, state=state.to_json())
            except (ConversationStoreError, UnknownConversation) as exc:
                log.error("turn not stored: %s", exc)
        return answer.model_copy(update={"conversation_id": conversation_id, "answer_id": answer_id})

    def gather(self, u: Understanding, top_k: int = 5, timings: dict[str, float] | None = None,
               live: LiveIndex | None = None) -> Gathered:
        """Everything the decision looks at for an understood question (public for `eval fit`)."""
        live = live or self.live
        timings = {} if timings is None else timings
        ruled = rule_status(u)
        if ruled is not None:
            return Gathered(u, ruled)
        t = time.perf_counter()
        scored = live.retriever.search(u, max(top_k, YES_NO_POOL))
        timings["retrieve"] = round((time.perf_counter() - t) * 1000, 2)
        # A maintained FAQ pair that matches strongly is the approved answer — unless the asker states
        # their own numbers (the calculator computes with them) …
        faq = self._faq_match(u, scored, live)
        if faq is not None and not _states_own_numbers(u, faq.faq_question):
            return Gathered(u, "faq", [faq])
        t = time.perf_counter()
        calc = answer_calculation(u, live.data, live.rules)
        if calc is not None:
            timings["calculate"] = round((time.perf_counter() - t) * 1000, 2)
            return Gathered(u, "calculation", scored, calc=calc)
        if faq is not None:
            return Gathered(u, "faq", [faq])
        # … and otherwise answers come from the articles alone: a pair's text is never mixed into a composed
        # answer, so a FAQ list added to the corpus leaves the article answers as they were.
        articles = live.retriever.search(u, max(top_k, YES_NO_POOL), articles_only=True) \
            if live.retriever.faq_rows else scored
        comp = compose(u, articles, live.weights, live.data.documents, top_k, self.ranker, live.similarity)
        timings["compose"] = round((time.perf_counter() - t) * 1000, 2)
        evidence = evidence_features(u, articles[:top_k], comp, live.weights, live.data.documents,
                                     self.decision.domain_terms)
        return Gathered(u, "model", articles, comp=comp, evidence=evidence)

    def _faq_match(self, u: Understanding, scored: list[Scored], live: LiveIndex) -> Scored | None:
        """The FAQ pair whose closest question reaches ``faq_match``, if its place and year fit: a question
        naming a place (a year) gets a pair's answer only when the pair is about that place (names that
        year); else the articles answer, and say when the place or year is not covered."""
        pairs = [s for s in scored if is_faq(s.chunk)]
        if not pairs:
            return None
        best = max(pairs, key=lambda s: s.faq_dense)
        if best.faq_dense < self.settings.faq_match:
            return None
        doc = live.data.documents.get(best.chunk["doc_id"], {})
        if u.regions:
            places = doc.get("metadata", {}).get("regions", [])
            if not any(p in q or q in p for p in places for q in u.regions):
                return None
        if u.years:  # "嘉峪关2023年…" is not answered with a pair about 2025
            said = " ".join([doc.get("text", ""), *doc.get("metadata", {}).get("questions", [])])
            if not all(str(y) in said for y in u.years):
                return None
        return best

    def answer(self, u: Understanding, top_k: int = 5, *, t0: float | None = None,
               timings: dict[str, float] | None = None, live: LiveIndex | None = None) -> Answer:
        """Answer an understood question: retrieve, calculate or compose, decide, render."""
        live = live or self.live
        t0 = time.perf_counter() if t0 is None else t0
        timings = {} if timings is None else timings

        def done(status: str, text: str, **kw: Any) -> Answer:
            timings["total"] = round((time.perf_counter() - t0) * 1000, 2)
            lead = "".join(n for n in u.notes if status in (ANSWERED, PARTIAL))
            return Answer(question=u.original, answer=lead + text, status=status,
                          refused=status in (NO_ANSWER, OUT_OF_SCOPE), understood_as=u.text, timings_ms=timings, **kw)

        g = self.gather(u, top_k, timings, live)
        if g.path == OUT_OF_SCOPE:
            return done(OUT_OF_SCOPE, refusal_message(u.scope_topic))
        if g.path == NO_ANSWER:
            return done(NO_ANSWER, unreadable_message())
        if g.calc is not None:
            return self._calculated(u, g.calc, done, live)
        if g.path == "faq":
            return self._faq_answer(g.scored[0], done, live)
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

    def _calculated(self, u: Understanding, calc: CalcAnswer, done, live: LiveIndex) -> Answer:
        borrowed = foreign_defaults(u, live.data, live.rules)
        # The calculation would fill in another region's standard for the asked one, or still asks for a
        # standard (a local wage, a base) of a region no rule covers: partial, naming that standard.
        if borrowed or (calc.calculation.result is None and uncovered_regions(u, live.data, live.rules)):
            missing = [f"{'、'.join(u.regions)}的标准"]
            text = partial_lead(missing, borrowed) + calc.text + partial_tail()
            return done(PARTIAL, text, citations=calc.citations, calculation=calc.calculation, missing=missing)
        return done(ANSWERED, calc.text, citations=calc.citations, calculation=calc.calculation,
                    conflict=calc.conflict)

    def _faq_answer(self, top: Scored, done, live: LiveIndex) -> Answer:
        """A FAQ pair that matched strongly: its approved answer, verbatim, cited as the pair."""
        pair_id = top.chunk["doc_id"]
        doc = live.data.documents[pair_id]
        meta = doc.get("metadata", {})
        answer = doc["text"]
        citation = Citation(n=1, doc_id=pair_id, title=doc["title"], chunk_id=f"{pair_id}#a", text=answer, start=0,
                            end=len(answer), score=round(top.score, 6), highlights=[(0, len(answer))],
                            region=list(meta.get("regions", [])), date=meta.get("date"))
        match = FAQMatch(pair_id=pair_id, question=top.faq_question or doc["title"], main_question=doc["title"],
                         similarity=round(top.faq_dense, 4), source=meta.get("source"))
        return done(ANSWERED, f"{answer}[1]", citations=[citation], faq=match)

    def _partial_text(self, u: Understanding, evidence: Evidence, comp: Composition) -> str:
        return partial_lead(list(evidence.missing), list(evidence.other_regions)) + comp.text + partial_tail()

    def calculate(self, kind: str, params: dict[str, Any]) -> Calculation:
        """Direct calculation with named parameters; raises calculator.CalcError on bad input."""
        return calculator.compute(kind, params).calculation

    def calc_kinds(self) -> dict[str, Any]:
        return calculator.kinds_schema()

    def documents(self) -> list[dict[str, Any]]:
        live = self.current()
        expired = live.retriever.expired_docs()
        catalog = (live.data.catalog or {}).get("documents", {})
        return [
            {"doc_id": d, "title": doc["title"], "metadata": doc.get("metadata", {}),
             "chunks": live.chunk_counts.get(d, 0), "origin": catalog.get(d, {}).get("origin", "corpus"),
             "status": "expired" if d in expired else "active"}
            for d, doc in sorted(live.data.documents.items())
        ]

    def version(self) -> str:
        return self.current().data.version

    def document(self, doc_id: str) -> dict[str, Any] | None:
        doc = self.current().data.documents.get(doc_id)
        if doc is None:
            return None
        return {"doc_id": doc_id, "title": doc["title"], "text": doc["text"], "metadata": doc.get("metadata", {})}

    def health(self) -> dict[str, Any]:
        live = self.current()
        m = live.data.manifest
        return {"status": "ok", "documents": len(live.data.documents), "chunks": sum(live.chunk_counts.values()),
                "model": m.get("model"), "index_hash": m.get("index_hash"), "version": live.data.version,
                "worker": os.getpid()}


def _meets_type(qtype: str, answer: Answer) -> bool:
    """An answered answer states the kind of fact its question type wants (a material, a channel …)."""
    return answer.status == ANSWERED and states_asked_kind(qtype, answer.answer)


def _uncovered_places(u: Understanding, citations: list[Citation]) -> list[str]:
    """The places ``u`` asks about that no cited passage is about or names."""
    return uncovered_places(u.focus_regions, [c.region for c in citations], " ".join(c.text for c in citations))


def _check_model(data: IndexData, embedder: Embedder, index_dir: Path) -> None:
    built_with = data.manifest.get("model_signature")
    if built_with != embedder.signature:
        raise IndexNotReady(
            f"Index in {index_dir} was built with model {built_with!r} but the service is configured for "
            f"{embedder.signature!r}; rebuild it with `python -m ingest --force` or set YIBAO_EMBED_MODEL."
        )


def parse_query(question: str) -> Query:
    """Exposed for callers that want the normalised form (e.g. the evaluation's failure list)."""
    return normalise_question(question)


__all__ = ["Answer", "IndexNotReady", "QAService", "Scored", "parse_query"]
