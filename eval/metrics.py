"""Evaluation metrics for yibao-qa: pure functions, no I/O.

Per-question scores are floats in [0, 1] (or booleans for pass/fail checks); the
aggregator :func:`aggregate` averages them overall and per category, and reports
them under snake_case names in the spirit of Haystack's evaluators (which return a
mean ``score`` plus ``individual_scores``):

=====================  ===============================================================
metric                 meaning (questions it is computed over)
=====================  ===============================================================
``doc_hit_at_1``       first distinct cited doc is an expected doc (answerable)
``doc_hit_at_5``       an expected doc is among the first 5 distinct cited docs (answerable)
``doc_mrr``            mean reciprocal rank of the first expected doc among distinct
                       cited docs, 0 when none is cited (answerable)
``keyword_coverage``   mean fraction of keyword groups found in the answer (answerable)
``numeric_accuracy``   calculation result within ``tol`` of ``expected_number``; for
                       ``numeric-missing`` questions correct means *no* result
                       (categories ``numeric`` and ``numeric-missing``)
``refusal_rate``       share not answered (out-of-scope questions; higher is better)
``false_refusal_rate`` share not answered (answerable questions; lower is better)
``multi_source_rate``  distinct cited docs >= ``min_distinct_docs`` (conflict questions)
``latency_p50_ms``     median end-to-end latency in ms (all questions with a latency)
``latency_p95_ms``     95th percentile latency in ms, linear interpolation
=====================  ===============================================================

A metric with no applicable question is ``None``, never 0, so "not measured" and
"all wrong" stay distinguishable. Refused answerable questions stay in the retrieval
and keyword metrics: what they cite (usually nothing) counts as a miss.

The retrieval-benchmark helpers :func:`recall_at_k` and :func:`span_in_top_k` are for
the external data sets, whose gold answers are doc ids or answer spans.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from eval.questions import CONFLICT, NUMERIC_CATEGORIES, OUT_OF_SCOPE, Question

METRICS: dict[str, str] = {
    "doc_hit_at_1": "first distinct cited doc is expected (answerable questions)",
    "doc_hit_at_5": "an expected doc among the first 5 distinct cited docs (answerable questions)",
    "doc_mrr": "mean reciprocal rank of the first expected cited doc (answerable questions)",
    "keyword_coverage": "mean fraction of keyword groups found in the answer (answerable questions)",
    "numeric_accuracy": "calculation matches expected_number within tol (numeric, numeric-missing)",
    "refusal_rate": "share of out-of-scope questions not answered (higher is better)",
    "false_refusal_rate": "share of answerable questions not answered (lower is better)",
    "multi_source_rate": "share of conflict questions citing >= min_distinct_docs distinct docs",
    "latency_p50_ms": "median latency in milliseconds",
    "latency_p95_ms": "95th percentile latency in milliseconds (linear interpolation)",
}

DEFAULT_NUMERIC_TOL = 0.01


# --------------------------------------------------------------------------- helpers


def unique_in_order(items: Iterable[str]) -> list[str]:
    """Drop repeats, keeping the first occurrence: ``[a, b, a, c] -> [a, b, c]``."""
    seen: set[str] = set()
    out: list[str] = []
    for item in items:
        if item not in seen:
            seen.add(item)
            out.append(item)
    return out


def normalize_text(text: str) -> str:
    """The normalisation used for every text match in this module.

    NFKC (full-width letters, digits and ``％`` become ASCII), case-folded, and all
    whitespace removed, so ``"ＡＰＰ"``, ``"app"`` and ``"A P P"`` all match ``"APP"``.
    """
    return "".join(unicodedata.normalize("NFKC", text).casefold().split())


def _check_k(k: int) -> None:
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ValueError(f"k must be a positive integer, got {k!r}")


# ------------------------------------------------------------- per-question metrics


def hit_at_k(cited_doc_ids: Sequence[str], expected: Collection[str], k: int) -> float:
    """1.0 if any of the first ``k`` distinct cited docs (in citation order) is expected, else 0.0.

    Citations are deduplicated first, so three citations of one doc use one of the
    ``k`` places. An empty ``expected`` gives 0.0 (there is nothing to hit).
    """
    _check_k(k)
    wanted = set(expected)
    return 1.0 if any(doc in wanted for doc in unique_in_order(cited_doc_ids)[:k]) else 0.0


def reciprocal_rank(cited_doc_ids: Sequence[str], expected: Collection[str], k: int | None = None) -> float:
    """``1 / rank`` of the first expected doc among the distinct cited docs, 0.0 if none.

    Ranks count distinct docs in citation order, starting at 1. With ``k`` only the
    first ``k`` distinct docs are looked at (MRR@k). An empty ``expected`` gives 0.0.
    """
    if k is not None:
        _check_k(k)
    wanted = set(expected)
    ranked = unique_in_order(cited_doc_ids)
    if k is not None:
        ranked = ranked[:k]
    for rank, doc in enumerate(ranked, start=1):
        if doc in wanted:
            return 1.0 / rank
    return 0.0


def keyword_coverage(answer_text: str, groups: Sequence[Sequence[str]]) -> float:
    """Fraction of keyword groups found in ``answer_text``.

    A group is found when any of its alternatives is a substring of the answer, both
    compared after :func:`normalize_text`. **No groups means nothing is required, so
    the coverage is 1.0.** A group with no alternatives, or a blank alternative, is a
    malformed expectation and raises ``ValueError`` (a blank string would match anything).
    """
    if not groups:
        return 1.0
    answer = normalize_text(answer_text)
    found = 0
    for group in groups:
        alternatives = [normalize_text(alt) for alt in group]
        if not alternatives or not all(alternatives):
            raise ValueError(f"keyword group {list(group)!r} must hold non-blank strings")
        if any(alt in answer for alt in alternatives):
            found += 1
    return found / len(groups)


def numeric_correct(result: float | None, expected: float | None, tol: float = DEFAULT_NUMERIC_TOL) -> bool:
    """Whether a calculation ``result`` matches ``expected`` within an absolute ``tol``.

    ``tol`` is in the answer's own unit (0.01 = one fen for amounts in yuan); a 1e-9
    slack absorbs float noise such as ``4340 * 0.04 = 173.60000000000002``.
    ``expected=None`` means the question lacks an input and the calculator must not
    produce a number: correct iff ``result`` is None. NaN, infinities and booleans
    are never correct.
    """
    if tol < 0:
        raise ValueError(f"tol must be >= 0, got {tol!r}")
    if expected is None:
        return result is None
    if result is None or isinstance(result, bool) or not math.isfinite(result):
        return False
    return abs(float(result) - float(expected)) <= tol + 1e-9


def multi_source(cited_doc_ids: Sequence[str], min_distinct_docs: int) -> bool:
    """Whether the answer cites at least ``min_distinct_docs`` distinct documents."""
    return len(set(cited_doc_ids)) >= min_distinct_docs


def percentile(values: Iterable[float], p: float) -> float:
    """The ``p``-th percentile (0-100) with linear interpolation, like ``numpy.percentile``'s default.

    With the values sorted as ``x[0..n-1]``, the position is ``(n - 1) * p / 100``;
    the result interpolates between the two neighbouring values. Raises ``ValueError``
    for no values, a NaN value or ``p`` outside [0, 100].
    """
    xs = sorted(float(v) for v in values)
    if not xs:
        raise ValueError("percentile of no values")
    if any(math.isnan(x) for x in xs):
        raise ValueError("percentile of a NaN value")
    if not 0 <= p <= 100:
        raise ValueError(f"p must be within [0, 100], got {p!r}")
    pos = (len(xs) - 1) * p / 100
    lo = math.floor(pos)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


# ------------------------------------------------------- retrieval benchmark metrics


def recall_at_k(ranked_doc_ids: Sequence[str], relevant: Collection[str], k: int) -> float:
    """Share of the relevant docs found among the first ``k`` distinct ranked doc ids.

    Repeats are dropped before cutting at ``k`` (several chunks of one doc count once).
    Recall is undefined without relevant docs, so an empty ``relevant`` raises ``ValueError``.
    """
    _check_k(k)
    wanted = set(relevant)
    if not wanted:
        raise ValueError("recall_at_k needs at least one relevant doc")
    top = set(unique_in_order(ranked_doc_ids)[:k])
    return len(top & wanted) / len(wanted)


def span_in_top_k(chunks_texts: Sequence[str], answer_text: str | Sequence[str], k: int) -> float:
    """1.0 if the gold answer span occurs in one of the first ``k`` retrieved chunks, else 0.0.

    ``answer_text`` may be one span or several acceptable spans (any one suffices);
    matching is substring after :func:`normalize_text`. A blank span raises ``ValueError``.
    """
    _check_k(k)
    spans = [answer_text] if isinstance(answer_text, str) else list(answer_text)
    needles = [normalize_text(s) for s in spans]
    if not needles or not all(needles):
        raise ValueError("span_in_top_k needs non-blank answer text")
    hay = [normalize_text(t) for t in chunks_texts[:k]]
    return 1.0 if any(n in h for h in hay for n in needles) else 0.0


# ------------------------------------------------------------------------ aggregation


@dataclass(frozen=True)
class EvalRecord:
    """What the QA service did for one question, paired with the question.

    ``cited_doc_ids`` are the doc ids of the answer's citations in citation order
    (repeats allowed); ``numeric_result`` is the calculation result, None when the
    service computed nothing; ``latency_ms`` is None when not measured.
    """

    question: Question
    cited_doc_ids: tuple[str, ...] = ()
    answer_text: str = ""
    refused: bool = False
    numeric_result: float | None = None
    latency_ms: float | None = None


@dataclass(frozen=True)
class MetricResult:
    """One metric over a set of questions: the mean ``score`` and the per-question values."""

    score: float | None
    individual_scores: dict[str, float] = field(default_factory=dict)

    @property
    def n(self) -> int:
        return len(self.individual_scores)


@dataclass(frozen=True)
class EvalReport:
    """Overall and per-category metrics; plain data, ``to_dict()`` gives JSON-ready dicts."""

    n_questions: int
    overall: dict[str, MetricResult]
    per_category: dict[str, dict[str, MetricResult]]
    category_counts: dict[str, int]

    def scores(self) -> dict[str, float | None]:
        """Overall ``{metric: score}``."""
        return {name: m.score for name, m in self.overall.items()}

    def category_scores(self) -> dict[str, dict[str, float | None]]:
        """``{category: {metric: score}}``."""
        return {cat: {name: m.score for name, m in ms.items()} for cat, ms in self.per_category.items()}

    def to_dict(self) -> dict[str, Any]:
        return {
            "n_questions": self.n_questions,
            "category_counts": dict(self.category_counts),
            "overall": {name: {"score": m.score, "n": m.n} for name, m in self.overall.items()},
            "per_category": {
                cat: {name: {"score": m.score, "n": m.n} for name, m in ms.items()}
                for cat, ms in self.per_category.items()
            },
            "individual_scores": {name: dict(m.individual_scores) for name, m in self.overall.items()},
        }


def _mean(values: Iterable[float]) -> float | None:
    xs = list(values)
    return sum(xs) / len(xs) if xs else None


def _per_question(records: Sequence[EvalRecord], tol: float) -> dict[str, dict[str, float]]:
    """``{metric: {question_id: value}}`` for the questions each metric applies to."""
    out: dict[str, dict[str, float]] = {name: {} for name in METRICS}
    for r in records:
        q = r.question
        qid = q.id
        if q.answerable:
            expected = set(q.expected_docs)
            out["doc_hit_at_1"][qid] = hit_at_k(r.cited_doc_ids, expected, 1)
            out["doc_hit_at_5"][qid] = hit_at_k(r.cited_doc_ids, expected, 5)
            out["doc_mrr"][qid] = reciprocal_rank(r.cited_doc_ids, expected)
            out["keyword_coverage"][qid] = keyword_coverage(r.answer_text, q.keywords)
            out["false_refusal_rate"][qid] = float(r.refused)
        if q.category == OUT_OF_SCOPE:
            out["refusal_rate"][qid] = float(r.refused)
        if q.category in NUMERIC_CATEGORIES:
            out["numeric_accuracy"][qid] = float(numeric_correct(r.numeric_result, q.expected_number, tol))
        if q.category == CONFLICT:
            out["multi_source_rate"][qid] = float(multi_source(r.cited_doc_ids, q.min_distinct_docs))
        if r.latency_ms is not None:
            out["latency_p50_ms"][qid] = float(r.latency_ms)
            out["latency_p95_ms"][qid] = float(r.latency_ms)
    return out


def _summarise(per_question: dict[str, dict[str, float]], ids: set[str] | None) -> dict[str, MetricResult]:
    result: dict[str, MetricResult] = {}
    for name, values in per_question.items():
        chosen = values if ids is None else {qid: v for qid, v in values.items() if qid in ids}
        if name == "latency_p50_ms":
            score = percentile(chosen.values(), 50) if chosen else None
        elif name == "latency_p95_ms":
            score = percentile(chosen.values(), 95) if chosen else None
        else:
            score = _mean(chosen.values())
        result[name] = MetricResult(score=score, individual_scores=chosen)
    return result


def aggregate(records: Sequence[EvalRecord], tol: float = DEFAULT_NUMERIC_TOL) -> EvalReport:
    """Score every record and return overall and per-category metrics (see module docstring).

    Question ids must be unique across ``records``.
    """
    ids = [r.question.id for r in records]
    if len(set(ids)) != len(ids):
        raise ValueError("aggregate() needs unique question ids")
    per_question = _per_question(records, tol)
    by_category: dict[str, set[str]] = {}
    for r in records:
        by_category.setdefault(r.question.category, set()).add(r.question.id)
    return EvalReport(
        n_questions=len(records),
        overall=_summarise(per_question, None),
        per_category={cat: _summarise(per_question, qids) for cat, qids in sorted(by_category.items())},
        category_counts={cat: len(qids) for cat, qids in sorted(by_category.items())},
    )
