"""The shapes the QA service hands out: the API returns them unchanged."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class SearchHit(_Frozen):
    """One retrieved chunk; offsets index the cleaned document text."""

    doc_id: str
    chunk_id: str
    title: str
    text: str
    start: int
    end: int
    score: float
    heading: str = ""


class Citation(_Frozen):
    """A passage an answer sentence rests on; ``n`` is the marker number ``[n]``."""

    n: int
    doc_id: str
    title: str
    chunk_id: str
    text: str
    start: int
    end: int
    score: float
    # The sentence(s) inside the passage that the answer actually quotes, as
    # offsets into the cleaned document, so a page can highlight them.
    highlights: list[tuple[int, int]] = Field(default_factory=list)
    region: list[str] = Field(default_factory=list)
    date: str | None = None


class Calculation(_Frozen):
    """A deterministic calculation; ``sources`` are citation numbers."""

    kind: str
    formula: str
    inputs: dict[str, Any]
    result: float | None
    unit: str
    sources: list[int] = Field(default_factory=list)
    assumptions: list[str] = Field(default_factory=list)
    # Extra values some kinds produce (a range's upper bound, per-rule dates …).
    details: dict[str, Any] = Field(default_factory=dict)
    missing: list[str] = Field(default_factory=list)


Status = Literal["answered", "partial", "no_answer", "out_of_scope"]


class FAQMatch(_Frozen):
    """The FAQ pair whose stored answer is given verbatim, and which of its questions matched."""

    pair_id: str
    question: str  # the matched question (the main one or a 相似问法)
    main_question: str
    similarity: float
    source: str | None = None  # the article the pair was written from, when the list says so


class Answer(_Frozen):
    """One answer. ``status`` grades it; ``refused`` is true exactly for ``no_answer`` and ``out_of_scope``."""

    question: str
    answer: str
    refused: bool
    status: Status = "answered"
    # The question the service answered, in full (after reading typos, instructions, pinyin, and, in a
    # conversation, what earlier turns established).
    understood_as: str = ""
    # For ``partial``: what the sources do not say (e.g. "北京的规定").
    missing: list[str] = Field(default_factory=list)
    # P(answered) from the answerability model (None when a rule decided: out of scope, a calculation).
    confidence: float | None = None
    # Set when a FAQ pair matched strongly and its stored answer is the answer.
    faq: FAQMatch | None = None
    # In a conversation: its id, this answer's id (for feedback) and what earlier turns supplied.
    conversation_id: str | None = None
    answer_id: str | None = None
    inherited: list[str] = Field(default_factory=list)
    citations: list[Citation] = Field(default_factory=list)
    calculation: Calculation | None = None
    conflict: bool = False
    timings_ms: dict[str, float] = Field(default_factory=dict)
