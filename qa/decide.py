"""Whether to answer: one decision, from measurable features of the question and its evidence.

The decision replaces a chain of hand-set gates (a dense-similarity floor, a specific-word coverage
floor, a quantity check, …) that were tuned on the project's own question set and refused 41 % of the
answerable questions real people asked. Here every gate became a *feature*; a multinomial logistic
regression over them gives P(answered), P(partial) and P(unanswerable). Its parameters are data
(``decision.json`` beside this file), fitted on the train split of ``eval/users.jsonl`` with
``python -m eval fit``; the threshold on P(answered) is chosen on the dev split; the test
split is only scored. Loading needs numpy only (scikit-learn is used for fitting).

Statuses:
* ``answered``: the evidence answers the question.
* ``partial``: the articles cover the topic but not the specific thing asked (another city's figure,
  another year's standard): what is missing is said, and what the sources do say is shown, labelled
  as not about the asked place or year.
* ``no_answer``: in the domain, but nothing in the articles answers it.
* ``out_of_scope``: another domain.

Two things stay rules, because they are facts about the question rather than judgements of evidence:
a question about a topic the service never covers (``scope.OUT_OF_SCOPE``) is out of scope, and a
calculation with the asker's own numbers is answered by the calculator — unless it would fill in a
default that belongs to another region than the one asked about (then it is ``partial``).
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ingest.tokenize import canonical, content_words, tokenize

from . import quantity
from .answer import Candidate, Composition
from .rank import states_asked_kind
from .reading import HAN
from .retrieve import Scored
from .terms import TermWeights
from .understand import Understanding, region_ok, uncovered_places

DECISION_FILE = Path(__file__).with_name("decision.json")

# A question needs at least one letter or Chinese character to be about anything ("？？？！！" is not).
_WORD = re.compile(r"[A-Za-z\u4e00-\u9fff]")

ANSWERED, PARTIAL, NO_ANSWER, OUT_OF_SCOPE = "answered", "partial", "no_answer", "out_of_scope"
STATUSES = (ANSWERED, PARTIAL, NO_ANSWER, OUT_OF_SCOPE)
# The model's classes; "unanswerable" becomes no_answer or out_of_scope by whether the question uses
# the domain's words.
CLASSES = (ANSWERED, PARTIAL, "unanswerable")

FEATURES = (
    "dense_top",          # cosine similarity of the best chunk
    "bm25_coverage",      # share (by IDF) of the question's words in BM25's best chunk
    "specific_coverage",  # share of the question's specific words found in the chosen sentences
    "lexical_top",        # best sentence's share of the question's words
    "unknown_share",      # share of the question's words the corpus never uses
    "domain",             # the question uses the domain's words (医保, 断缴, 补缴 …)
    "region_unsupported",  # a region is asked and no evidence is about it
    "other_region_figure",  # the evidence is a region-specific article of another region
    "year_unsupported",   # a year is asked and no evidence states it
    "quantity_unstated",  # a figure is asked and no evidence states that kind of figure
    "phrase_missing",     # the asked-for noun ("报销比例") is absent from the evidence
    "type_unmet",         # the evidence lacks the kind of fact the question type wants
    "top_term_missing",   # the question's rarest specific word is in none of the retrieved chunks
    "best_sentence",      # the sentence ranker's score of the best sentence
    "domain_uncovered",   # insurance words of the question that no retrieved chunk mentions (0, 1 or 2+, halved)
    "domain_covered",     # share of the question's insurance words that the retrieved chunks mention
    "sentence_dense",     # cosine similarity of the closest candidate sentence to the question
    "dense_spread",       # best minus fifth chunk's cosine similarity (a clear winner, or a flat field)
)


@dataclass(frozen=True)
class Evidence:
    """The features of one question's evidence, and what a partial answer must say is missing."""

    features: dict[str, float]
    missing: tuple[str, ...] = ()
    other_regions: tuple[str, ...] = ()


@dataclass(frozen=True)
class Verdict:
    status: str
    p_answered: float
    probabilities: dict[str, float] = field(default_factory=dict)


def evidence_features(u: Understanding, scored: list[Scored], comp: Composition | None, weights: TermWeights,
                      documents: dict[str, dict[str, Any]], domain_terms: frozenset[str] = frozenset()) -> Evidence:
    """Measure how well the retrieved evidence covers what ``u`` asks.

    ``domain_terms`` are insurance words (from a public insurance Q&A corpus, see ``eval.fit``): a
    question naming one that no retrieved chunk mentions (异地就医, 起付线, 补办) asks about something else.
    """
    units: list[Candidate] = comp.units if comp is not None else []
    q_terms = set(tokenize(u.text))
    total = sum(weights(t) for t in q_terms) or 1.0
    unknown = sum(weights(t) for t in q_terms if t not in weights.idf) / total
    dense_top = max((s.dense for s in scored), default=0.0)
    best_bm25 = max(scored, key=lambda s: s.bm25, default=None)
    bm25_cov = weights.coverage(q_terms, best_bm25.index) if best_bm25 is not None and best_bm25.bm25 > 0 else 0.0
    texts = [f"{c.scored.chunk.get('heading', '')} {c.unit.context} {c.unit.text}" for c in units]
    evidence = canonical(" ".join(texts).lower())
    specific = u.specific
    spec_cov = (sum(weights(t) for t in specific if t in evidence) / (sum(weights(t) for t in specific) or 1.0)
                if specific else 1.0)
    lexical_top = max((c.lexical for c in units), default=0.0)

    missing: list[str] = []
    cited_docs = list(dict.fromkeys(c.scored.chunk["doc_id"] for c in units)) or [s.chunk["doc_id"] for s in scored[:1]]
    doc_regions = {d: list(documents.get(d, {}).get("metadata", {}).get("regions", [])) for d in cited_docs}
    region_unsupported = other_region = 0.0
    other_regions: list[str] = []
    places = u.focus_regions
    for asked in uncovered_places(places, doc_regions.values(), evidence):
        region_unsupported = 1.0
        missing.append(f"{asked}的规定")
    if places and cited_docs:
        first = doc_regions.get(cited_docs[0], [])
        if first and "全国" not in first and not any(region_ok(a, first) for a in places):
            other_region = 1.0
            other_regions = [r for r in first if r not in other_regions]
    year_unsupported = 0.0
    for year in u.focus_years:
        if str(year) not in evidence:
            year_unsupported = 1.0
            missing.append(f"{year}年的标准")
    kind = u.asked_quantity
    quantity_unstated = 0.0
    if kind is not None and not quantity.answers_quantity(u.text, texts):
        quantity_unstated = 1.0
        missing.append(f"{u.asked_phrase or '所问'}的具体数字")
    phrase = canonical(u.asked_phrase)
    phrase_missing = float(bool(phrase) and phrase not in evidence)
    type_unmet = float(not states_asked_kind(u.qtype, " ".join(texts)))
    retrieved = canonical(" ".join(f"{s.chunk.get('heading', '')} {s.chunk['text']}" for s in scored).lower())
    rarest = max(sorted(specific), key=weights, default=None)  # sorted: ties broken the same in every run
    top_term_missing = float(rarest is not None and rarest not in retrieved)
    asked_domain = [w for w in content_words(u.text) if w in domain_terms]
    uncovered = [w for w in asked_domain if w not in retrieved]
    features = {
        "dense_top": dense_top,
        "bm25_coverage": bm25_cov,
        "specific_coverage": spec_cov,
        "lexical_top": lexical_top,
        "unknown_share": unknown,
        "domain": float(u.domain),
        "region_unsupported": region_unsupported,
        "other_region_figure": other_region * float(u.qtype in ("how_much", "when") or kind is not None),
        "year_unsupported": year_unsupported,
        "quantity_unstated": quantity_unstated,
        "phrase_missing": phrase_missing,
        "type_unmet": type_unmet,
        "top_term_missing": top_term_missing,
        "best_sentence": max((c.score for c in units), default=0.0),
        "domain_uncovered": min(len(uncovered), 2) / 2,
        "domain_covered": (len(asked_domain) - len(uncovered)) / len(asked_domain) if asked_domain else 1.0,
        "sentence_dense": max((c.features.get("unit_dense", 0.0) for c in (comp.candidates if comp else [])),
                              default=0.0),
        "dense_spread": dense_top - (sorted((s.dense for s in scored), reverse=True)[4] if len(scored) >= 5 else 0.0),
    }
    return Evidence(features, tuple(dict.fromkeys(missing)), tuple(other_regions))


@dataclass(frozen=True)
class DecisionModel:
    """A multinomial logistic regression over standardised features, plus the threshold on P(answered)."""

    features: tuple[str, ...]
    classes: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray  # (n_classes, n_features)
    intercept: np.ndarray  # (n_classes,)
    threshold: float
    info: dict[str, Any] = field(default_factory=dict)
    domain_terms: frozenset[str] = frozenset()
    # Below ``threshold``, a question is refused (no_answer/out_of_scope) only when P(unanswerable)
    # reaches this; otherwise it gets a partial answer: related passages, labelled as not an answer.
    refuse_threshold: float = 0.0

    @classmethod
    def load(cls, path: Path = DECISION_FILE) -> DecisionModel:
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
            model = cls(
                features=tuple(data["features"]), classes=tuple(data["classes"]),
                mean=np.asarray(data["mean"], dtype=float), scale=np.asarray(data["scale"], dtype=float),
                coef=np.asarray(data["coef"], dtype=float), intercept=np.asarray(data["intercept"], dtype=float),
                threshold=float(data["threshold"]), info=dict(data.get("info", {})),
                domain_terms=frozenset(data.get("domain_terms", ())),
                refuse_threshold=float(data.get("refuse_threshold", 0.0)),
            )
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise DecisionError(f"{path}: cannot load the answerability model ({exc}); refit it with "
                                f"`python -m eval fit`") from exc
        model.check()
        return model

    @classmethod
    def neutral(cls) -> DecisionModel:
        """A model that answers everything: the starting point for fitting (never served)."""
        n, k = len(FEATURES), len(CLASSES)
        return cls(FEATURES, CLASSES, np.zeros(n), np.ones(n), np.zeros((k, n)), np.array([1.0, 0.0, 0.0]), 0.0,
                   {"neutral": True})

    def check(self) -> None:
        n, k = len(self.features), len(self.classes)
        unknown = [f for f in self.features if f not in FEATURES]
        if unknown:
            raise DecisionError(f"the answerability model uses unknown features {unknown}; refit it")
        if set(self.classes) != set(CLASSES):
            raise DecisionError(f"the answerability model's classes {self.classes} are not {CLASSES}; refit it")
        shapes = (self.mean.shape, self.scale.shape, self.coef.shape, self.intercept.shape)
        if shapes != ((n,), (n,), (k, n), (k,)) or not np.all(np.isfinite(self.coef)) or np.any(self.scale <= 0):
            raise DecisionError("the answerability model's parameters have the wrong shape or values; refit it")
        if not (0.0 <= self.threshold <= 1.0 and 0.0 <= self.refuse_threshold <= 1.0):
            raise DecisionError("the answerability model's thresholds are not probabilities; refit it")

    def to_json(self) -> dict[str, Any]:
        return {"features": list(self.features), "classes": list(self.classes), "mean": self.mean.tolist(),
                "scale": self.scale.tolist(), "coef": self.coef.tolist(), "intercept": self.intercept.tolist(),
                "threshold": self.threshold, "refuse_threshold": self.refuse_threshold, "info": self.info,
                "domain_terms": sorted(self.domain_terms)}

    def probabilities(self, features: dict[str, float]) -> dict[str, float]:
        x = (np.array([features[f] for f in self.features], dtype=float) - self.mean) / self.scale
        z = self.coef @ x + self.intercept
        z = np.exp(z - z.max())
        p = z / z.sum()
        return {c: float(v) for c, v in zip(self.classes, p)}

    def decide(self, u: Understanding, evidence: Evidence) -> Verdict:
        """answered when P(answered) reaches ``threshold``; refused (no_answer, or out_of_scope without
        the domain's words) when P(unanswerable) reaches ``refuse_threshold``; partial in between."""
        p = self.probabilities(evidence.features)
        if p[ANSWERED] >= self.threshold:
            status = ANSWERED
        elif not (u.domain or _names_domain(u, self)) and not (
                p[PARTIAL] > p["unanswerable"] and evidence.features.get("lexical_top", 0.0) > 0
                and HAN.search(u.text)):
            # Without a single word of the domain, "the articles cover the topic" cannot be claimed — unless
            # the model calls the evidence partial *and* the question shares words with it ("刚换了工作 中间空了
            # 十来天 新公司给交上了 啥时候能用" never says 医保): then it is not called another domain. Text with
            # nothing in common with the articles ("'; DROP TABLE documents; --", "1 OR 1=1", whose digits match
            # some chunk's) stays out of scope: the shared words must be Chinese ones.
            status = OUT_OF_SCOPE
        elif p["unanswerable"] >= self.refuse_threshold and not (evidence.missing and p[PARTIAL] >= p["unanswerable"]):
            status = NO_ANSWER
        else:
            status = PARTIAL
        if status == ANSWERED and asks_unsupported_figure(u, evidence.features):
            status = PARTIAL
        return Verdict(status, p[ANSWERED], p)


def asks_unsupported_figure(u: Understanding, features: dict[str, float]) -> bool:
    """A figure or date asked for a place or year that no evidence is about: whatever the evidence states
    is another place's or year's figure, so it is never the answer (a partial answer labels it as such).
    On users train/dev all 27 such questions are labelled partial or no_answer; the model already calls
    them so there, and this keeps it so for wordings it has not seen."""
    figure = u.asked_quantity is not None or u.qtype in ("how_much", "when")
    return figure and bool(features.get("region_unsupported") or features.get("year_unsupported"))


def _names_domain(u: Understanding, model: DecisionModel) -> bool:
    """Whether the question uses an insurance word (``domain_terms``), even one the articles lack."""
    return any(w in model.domain_terms for w in content_words(u.text))


class DecisionError(RuntimeError):
    """The model file is missing or damaged; the message says how to refit it."""


def rule_status(u: Understanding) -> str | None:
    """The statuses that are facts about the question alone (see the module docstring)."""
    if u.scope_topic or not _WORD.search(u.text):
        return OUT_OF_SCOPE
    if u.unreadable:
        return NO_ANSWER
    return None


def calibration(p: list[float], y: list[int], bins: int = 10) -> list[dict[str, float]]:
    """Reliability table: per probability bin, mean predicted P(answered) and the observed rate."""
    out = []
    for b in range(bins):
        lo, hi = b / bins, (b + 1) / bins
        idx = [i for i, v in enumerate(p) if lo <= v < hi or (b == bins - 1 and v == 1.0)]
        if idx:
            out.append({"bin": f"{lo:.1f}–{hi:.1f}", "n": len(idx), "predicted": sum(p[i] for i in idx) / len(idx),
                        "observed": sum(y[i] for i in idx) / len(idx)})
    return out


def logit(p: float) -> float:
    p = min(max(p, 1e-9), 1 - 1e-9)
    return math.log(p / (1 - p))
