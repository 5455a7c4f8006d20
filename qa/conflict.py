"""Find where the selected evidence disagrees on the value a question asks for.

The articles disagree most on *when benefits resume* after a break: 001 says no
waiting period within 3 months and 3 months' wait beyond; 003 says 次月 within 3
months and "通常为六个月" or "1-6个月" beyond; 000 says after 6 months (or a year)
of continuous payment; 004 says from the third natural month. A "when / how long"
question is answered with every version, each with its own citation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# A question about time until benefits work again.
WHEN_QUESTION = re.compile(
    r"多久|多长时间|多长|什么时候|何时|几个月|等待期|待遇.{0,4}恢复|恢复.{0,4}待遇|生效|能.{0,3}(报销|用|享受)|"
    r"才能|等多|要等"
)

# A sentence that states such a time: a duration or a named month, next to a
# word about benefits resuming or waiting.
_TIME_VALUE = re.compile(
    r"(\d+\s*[-~至到]\s*\d+\s*个?月|\d+\s*个月|\d+\s*天|\d+\s*年|[一二两三四五六]个月|六个月|三个月|半年|一年|"
    r"次月|当月|第三个自然月|下一年度|立即|不设待遇享受等待期)"
)
_RESUME_WORD = re.compile(r"恢复|享受|等待|报销|生效|待遇")

# Conditions on the length of the break, read from the sentence (or its heading).
_WITHIN_3 = re.compile(r"3个月(\(含\))?(以内|内)|三个月(以内|内)|不超过3个月|3个月\(含\)以内|时间较短")
_BEYOND_3 = re.compile(
    r"(超过|超|以上|满)\s*(3|三)个月|3\s*[-~]\s*6个月|三个月以上|超过一定时间|时间较长|超6个月|累计中断"
)

_MONTHS_IN_QUESTION = re.compile(r"(\d+)\s*个?月")
_YEARS_IN_QUESTION = re.compile(r"(\d+)\s*年|半年")


@dataclass(frozen=True)
class Version:
    value: str  # the time value(s) the sentence states, normalised
    condition: str  # "≤3", ">3" or ""


def break_condition(question: str) -> str:
    """'≤3' / '>3' from the break length a question states, '' if it states none."""
    if re.search(r"超过\s*3\s*个?月|3个月以上|超3个月|半年|一年|\d+\s*年", question):
        return ">3"
    if re.search(r"3个月(以内|内)|不到3个月", question):
        return "≤3"
    m = _MONTHS_IN_QUESTION.search(question)
    if m:
        return "≤3" if int(m.group(1)) <= 3 else ">3"
    return ""


def is_when_question(question: str) -> bool:
    return bool(WHEN_QUESTION.search(question))


def version_of(sentence: str, context: str = "") -> Version | None:
    """The time value a sentence states about resuming benefits, if any."""
    if not _RESUME_WORD.search(sentence):
        return None
    values = [re.sub(r"\s+", "", v) for v in _TIME_VALUE.findall(sentence)]
    values = [v for v in values if v not in ("2025年",)]
    if not values:
        return None
    where = f"{context} {sentence}"
    cond = ">3" if _BEYOND_3.search(where) else "≤3" if _WITHIN_3.search(where) else ""
    return Version("/".join(dict.fromkeys(values)), cond)


def compatible(version: Version, wanted: str) -> bool:
    return not wanted or not version.condition or version.condition == wanted


def disagree(versions: list[tuple[str, Version]]) -> bool:
    """True when at least two documents state different values under compatible conditions."""
    by_doc: dict[str, set[str]] = {}
    for doc_id, v in versions:
        by_doc.setdefault(doc_id, set()).add(v.value)
    if len(by_doc) < 2:
        return False
    value_sets = list(by_doc.values())
    return any(a.isdisjoint(b) for i, a in enumerate(value_sets) for b in value_sets[i + 1 :])
