"""What kind of quantity a question asks for, and whether a sentence states one.

"多少钱" wants an amount in 元, "比例" a percentage, "几年" years, "多久" a duration.
A sentence that merely contains *some* digit does not answer it: "连续参保满4年" does
not say how much 大病保险 pays, and "缴费比例10%-12%" is not a 报销比例.
"""

from __future__ import annotations

import re

from ingest.tokenize import canonical, content_words

from .scope import GENERIC_TERMS

_ASK = [
    ("money", re.compile(r"多少钱|多少元|几块|交多少|缴多少|补多少|罚多少|费用是多少|金额是多少|多少费用")),
    ("percent", re.compile(r"比例|费率|百分之几|几成|百分比")),
    ("years", re.compile(r"多少年|几年")),
    ("duration", re.compile(r"多久|多长时间|多长|几个月|多少个月|多少天|几天|什么时候|何时|哪天|哪个月|等待期")),
    ("number", re.compile(r"多少|几[个次岁]")),
]

_STATES = {
    "money": re.compile(r"\d[\d,.]*\s*(万)?元|\d+\s*块"),
    "percent": re.compile(r"\d+(\.\d+)?\s*%|百分之|万分之|千分之"),
    "years": re.compile(r"\d+\s*年(?!\d)|[一二两三四五六七八九十]+年"),
    "duration": re.compile(
        r"\d+\s*[-~至到]?\s*\d*\s*个?(月|天|年|个工作日)|[一二两三四五六七八九十]+个月|半年|次月|当月|"
        r"第[一二三四五六七八九十]+个自然月|\d{4}年\d{1,2}月|下一年度|立即|不设待遇享受等待期"
    ),
    "number": re.compile(r"\d|[一二两三四五六七八九十]+(个月|年|天|元|次|岁)|半年"),
}

# "…X是多少?" / "…X是多少年?" at the end of a question: X is what is asked.
_QUESTION_WORD = re.compile(r"(是)?(多少|几)[年钱元天个月]*[?？。!！呢啊呀吗]*$")


def asked_type(question: str) -> str | None:
    for name, pattern in _ASK:
        if pattern.search(question):
            return name
    return None


def states(kind: str, text: str) -> bool:
    return bool(_STATES[kind].search(re.sub(r"\[\d+\]", "", text)))


def values(kind: str, text: str) -> list[str]:
    return [re.sub(r"\s+", "", m.group(0)) for m in _STATES[kind].finditer(text)]


def asked_phrase(question: str) -> str:
    """The specific noun phrase right before 多少/几 ("报销比例是多少" → "报销比例"), or ''."""
    m = _QUESTION_WORD.search(question)
    if not m:
        return ""
    head = question[: m.start()]
    words = content_words(head)
    if not words or len(words[-1]) < 2 or words[-1] in GENERIC_TERMS or not canonical(head).endswith(words[-1]):
        return ""
    last = words[-1]
    if len(words) >= 2 and len(words[-2]) >= 2 and canonical(head).endswith(words[-2] + last):
        return words[-2] + last
    return last


def answers_quantity(question: str, evidence: list[str]) -> bool:
    """True unless the question asks a quantity that no evidence sentence states."""
    kind = asked_type(question)
    if kind is None:
        return True
    phrase = canonical(asked_phrase(question))
    return any(states(kind, text) and (not phrase or phrase in canonical(text)) for text in evidence)
