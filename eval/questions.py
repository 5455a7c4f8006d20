"""The evaluation question set: its schema, and a strict loader for ``questions.jsonl``.

One JSON object per line, with exactly these keys::

    {"id", "question", "category", "answerable", "expected_docs", "keywords",
     "expected_number", "min_distinct_docs"}

The loader rejects anything else instead of guessing, and names the line of every
problem it finds, so a hand-edited file fails loudly and precisely.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CATEGORIES = frozenset({"fact", "procedure", "colloquial", "numeric", "numeric-missing", "conflict", "out_of_scope"})
#: Categories scored by ``numeric_accuracy``; ``numeric-missing`` expects *no* number.
NUMERIC_CATEGORIES = frozenset({"numeric", "numeric-missing"})
OUT_OF_SCOPE = "out_of_scope"
CONFLICT = "conflict"

FIELDS = (
    "id",
    "question",
    "category",
    "answerable",
    "expected_docs",
    "keywords",
    "expected_number",
    "min_distinct_docs",
)
MAX_KEYWORD_GROUPS = 3

_DOC_ID = re.compile(r"^\d{3}_[0-9a-f]{16}$")
_QUESTION_ID = re.compile(r"^[a-z_-]+-\d{3}$")


@dataclass(frozen=True)
class Question:
    """One evaluation question, immutable; lists from the file become tuples."""

    id: str
    question: str
    category: str
    answerable: bool
    expected_docs: tuple[str, ...]
    keywords: tuple[tuple[str, ...], ...]
    expected_number: float | None
    min_distinct_docs: int


class QuestionsFormatError(ValueError):
    """Raised by :func:`load_questions`; ``errors`` holds ``(line_number, message)`` pairs."""

    def __init__(self, source: str, errors: list[tuple[int, str]]):
        self.source = source
        self.errors = errors
        lines = "\n".join(f"{source}:{line}: {msg}" for line, msg in errors)
        super().__init__(f"{len(errors)} problem(s) in {source}:\n{lines}")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return (_is_int(value) or isinstance(value, float)) and math.isfinite(value)


def _string_list(value: Any, what: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(x, str) for x in value):
        raise ValueError(f"{what} must be a list of strings, got {value!r}")
    return value


def parse_question(obj: Any, known_doc_ids: Collection[str] | None = None) -> Question:
    """Validate one decoded JSON object and return it as a :class:`Question`.

    Raises ``ValueError`` with a human-readable message on the first problem found.
    ``known_doc_ids``, when given, is the set every ``expected_docs`` entry must belong to.
    """
    if not isinstance(obj, dict):
        raise ValueError(f"expected a JSON object, got {type(obj).__name__}")
    missing = [k for k in FIELDS if k not in obj]
    extra = sorted(k for k in obj if k not in FIELDS)
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"missing keys {missing}")
        if extra:
            parts.append(f"unexpected keys {extra}")
        raise ValueError("; ".join(parts))

    category = obj["category"]
    if not isinstance(category, str) or category not in CATEGORIES:
        raise ValueError(f"category must be one of {sorted(CATEGORIES)}, got {category!r}")

    qid = obj["id"]
    if not isinstance(qid, str) or not _QUESTION_ID.match(qid) or not qid.startswith(f"{category}-"):
        raise ValueError(f"id must look like '{category}-001', got {qid!r}")

    text = obj["question"]
    if not isinstance(text, str) or not text.strip():
        raise ValueError("question must be a non-empty string")

    answerable = obj["answerable"]
    if not isinstance(answerable, bool):
        raise ValueError(f"answerable must be true or false, got {answerable!r}")
    if answerable != (category != OUT_OF_SCOPE):
        raise ValueError(f"answerable must be {category != OUT_OF_SCOPE} for category {category!r}")

    docs = _string_list(obj["expected_docs"], "expected_docs")
    for doc in docs:
        if not _DOC_ID.match(doc):
            raise ValueError(f"expected_docs entry {doc!r} is not a doc id like '003_4866c6536e7694db'")
        if known_doc_ids is not None and doc not in known_doc_ids:
            raise ValueError(f"expected_docs entry {doc!r} is not a known document")
    if len(set(docs)) != len(docs):
        raise ValueError("expected_docs has duplicates")

    groups_raw = obj["keywords"]
    if not isinstance(groups_raw, list):
        raise ValueError(f"keywords must be a list of lists of strings, got {groups_raw!r}")
    groups = [_string_list(g, "each keyword group") for g in groups_raw]
    for group in groups:
        if not group or any(not alt.strip() for alt in group):
            raise ValueError("a keyword group must hold at least one non-blank string")

    number = obj["expected_number"]
    if number is not None and not _is_number(number):
        raise ValueError(f"expected_number must be a finite number or null, got {number!r}")

    min_docs = obj["min_distinct_docs"]
    if not _is_int(min_docs) or min_docs < 1:
        raise ValueError(f"min_distinct_docs must be an integer >= 1, got {min_docs!r}")

    if answerable:
        if not docs:
            raise ValueError("an answerable question needs at least one expected doc")
        if not 1 <= len(groups) <= MAX_KEYWORD_GROUPS:
            raise ValueError(f"an answerable question needs 1-{MAX_KEYWORD_GROUPS} keyword groups, got {len(groups)}")
        if min_docs > len(docs):
            raise ValueError(f"min_distinct_docs={min_docs} exceeds the {len(docs)} expected doc(s)")
    elif docs or groups or number is not None:
        raise ValueError("an out_of_scope question must have expected_docs [], keywords [] and expected_number null")

    if category == "numeric" and number is None:
        raise ValueError("a numeric question needs an expected_number")
    if category != "numeric" and number is not None:
        raise ValueError(f"expected_number must be null for category {category!r}")
    if category == CONFLICT and min_docs < 2:
        raise ValueError("a conflict question needs min_distinct_docs >= 2")

    return Question(
        id=qid,
        question=text,
        category=category,
        answerable=answerable,
        expected_docs=tuple(docs),
        keywords=tuple(tuple(g) for g in groups),
        expected_number=None if number is None else float(number),
        min_distinct_docs=min_docs,
    )


def parse_questions(
    lines: Iterable[str], source: str = "<questions>", known_doc_ids: Collection[str] | None = None
) -> list[Question]:
    """Parse JSON Lines text; blank lines are skipped, every problem is reported with its line.

    Raises :class:`QuestionsFormatError` if any line is malformed or an id repeats.
    """
    questions: list[Question] = []
    errors: list[tuple[int, str]] = []
    first_line_of: dict[str, int] = {}
    for lineno, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            errors.append((lineno, f"invalid JSON: {exc.msg} (column {exc.colno})"))
            continue
        try:
            q = parse_question(obj, known_doc_ids)
        except ValueError as exc:
            errors.append((lineno, str(exc)))
            continue
        if q.id in first_line_of:
            errors.append((lineno, f"duplicate id {q.id!r} (first on line {first_line_of[q.id]})"))
            continue
        first_line_of[q.id] = lineno
        questions.append(q)
    if errors:
        raise QuestionsFormatError(source, errors)
    return questions


def load_questions(path: str | Path, known_doc_ids: Collection[str] | None = None) -> list[Question]:
    """Read and strictly validate a ``questions.jsonl`` file (UTF-8).

    Raises :class:`QuestionsFormatError` naming ``path:line`` for every malformed line.
    """
    path = Path(path)
    with path.open(encoding="utf-8") as fh:
        return parse_questions(fh, source=str(path), known_doc_ids=known_doc_ids)
