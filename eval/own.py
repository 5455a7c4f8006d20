"""Run the QA service over a question set and score it (the project's own evaluation)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tqdm import tqdm

from qa.models import Answer
from qa.service import QAService

from .metrics import EvalRecord, EvalReport, aggregate, keyword_coverage, multi_source, numeric_correct
from .questions import CONFLICT, NUMERIC_CATEGORIES, OUT_OF_SCOPE, Question, load_questions

DEFAULT_QUESTIONS = Path(__file__).with_name("questions.jsonl")


@dataclass(frozen=True)
class OwnRun:
    report: EvalReport
    records: list[EvalRecord]
    answers: dict[str, Answer]
    failures: list[dict[str, Any]]


def record_for(q: Question, answer: Answer, latency_ms: float) -> EvalRecord:
    calc = answer.calculation
    return EvalRecord(
        question=q,
        cited_doc_ids=tuple(c.doc_id for c in answer.citations),
        answer_text=answer.answer,
        # Graded statuses: a question is "refused" here when it is not answered (partial, no_answer or
        # out_of_scope). The set's out-of-scope questions include in-domain ones the articles do not
        # answer (报销比例, 医保卡密码), for which a labelled partial answer is right.
        refused=answer.status != "answered",
        numeric_result=calc.result if calc is not None else None,
        latency_ms=latency_ms,
    )


def failure_reasons(r: EvalRecord) -> list[str]:
    """Why one question counts against a metric; empty when it passes everything."""
    q, reasons = r.question, []
    if q.category == OUT_OF_SCOPE:
        if not r.refused:
            reasons.append("not refused")
        return reasons
    if r.refused:
        reasons.append("falsely refused")
    cited = list(dict.fromkeys(r.cited_doc_ids))
    if q.expected_docs and (not cited or cited[0] not in q.expected_docs):
        reasons.append(f"top cited doc {cited[0] if cited else None} not in {list(q.expected_docs)}")
    cov = keyword_coverage(r.answer_text, q.keywords)
    if cov < 1.0:
        missing = [list(g) for g in q.keywords if not any(k in r.answer_text for k in g)]
        reasons.append(f"keywords missing {missing}")
    if q.category in NUMERIC_CATEGORIES and not numeric_correct(r.numeric_result, q.expected_number):
        reasons.append(f"number {r.numeric_result} != {q.expected_number}")
    if q.category == CONFLICT and not multi_source(r.cited_doc_ids, q.min_distinct_docs):
        reasons.append(f"cites {len(set(r.cited_doc_ids))} docs < {q.min_distinct_docs}")
    return reasons


def run_own(service: QAService, questions: list[Question], *, progress: bool = True) -> OwnRun:
    records, answers, failures = [], {}, []
    service.ask("预热 warm-up")  # the first call pays one-off costs (tokenizer dictionaries, caches)
    for q in tqdm(questions, desc="questions", unit="q", disable=not progress):
        t0 = time.perf_counter()
        ans = service.ask(q.question)
        latency = (time.perf_counter() - t0) * 1000
        rec = record_for(q, ans, latency)
        records.append(rec)
        answers[q.id] = ans
        reasons = failure_reasons(rec)
        if reasons:
            failures.append({"id": q.id, "category": q.category, "question": q.question, "reasons": reasons,
                             "refused": ans.refused, "status": ans.status, "answer": ans.answer,
                             "cited": [c.doc_id for c in ans.citations],
                             "calculation": ans.calculation.model_dump() if ans.calculation else None})
    return OwnRun(aggregate(records), records, answers, failures)


def load(path: Path | None = None) -> list[Question]:
    return load_questions(path or DEFAULT_QUESTIONS)
