"""Which sentence answers the question: a small learned ranker over measurable features.

The composer used to score a sentence by its share of the question's words plus its chunk's
retrieval score, with two hand-set bonuses. Questions people type in their own words share few words
with the sentence that answers them ("微信付吗" → "一般支持银行转账、微信支付、支付宝支付等方式"), so
the deciding fact often lost to a sentence that merely repeated the question's generic words.
Here each candidate sentence gets the features below, and a logistic regression fitted on the train
split of ``eval/users.jsonl`` (label: the sentence holds one of the question's key facts) turns them
into P(the sentence holds the answer). Parameters live in ``ranker.json``, written by
``python -m eval fit``; without that file the old fixed formula is used.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ingest.tokenize import canonical, tokenize

from . import quantity

if TYPE_CHECKING:
    from .retrieve import Scored
    from .sentences import Unit
    from .terms import TermWeights
    from .understand import Understanding

RANKER_FILE = Path(__file__).with_name("ranker.json")

# What each question type wants the answering sentence to hold.
TYPE_CUES: dict[str, re.Pattern[str]] = {
    "materials": re.compile(r"身份证|社保卡|户口|材料|证明|合同|银行卡|凭证|申请表|申请书|复印件|流水"),
    "channel": re.compile(r"线上|线下|网上|微信|支付宝|APP|app|窗口|社保局|经办机构|医保中心|公众号|热线|网站|"
                          r"小程序|银行|税务|12333|平台|电话"),
    "when": re.compile(r"\d+\s*[-~至到]?\s*\d*\s*个?(月|天|年|个工作日)|[一二两三四五六七八九十]+个月|半年|次月|当月|"
                       r"第[一二三四五六七八九十]+个自然月|\d{1,2}月\d{1,2}日|下一年度|立即|等待期"),
    "how_much": re.compile(r"\d[\d,.]*\s*(万)?元|\d+\s*%|万分之|比例|基数|标准"),
    "who_pays": re.compile(r"单位|个人|承担|财政|政府|本人|共同"),
    "consequence": re.compile(r"影响|不计入|清0|暂停|停止|无法|不能|不会|不受|降低|增加|负担|全额自费"),
    "how": re.compile(r"办理|补缴|缴纳|登录|携带|前往|提交|申请|点击|咨询|参保|窗口|线上|线下"),
    "yes_no": re.compile(r"可以|能|不能|无法|不会|会|允许|不予|不再|需要|无需|不需要|不受"),
}
def states_asked_kind(qtype: str, text: str) -> bool:
    """Whether ``text`` holds the kind of fact question type ``qtype`` wants (always true without a cue)."""
    cue = TYPE_CUES.get(qtype)
    return cue is None or bool(cue.search(text))


_TYPE_WORDS = {
    "职工医保": re.compile(r"职工|单位|在职|劳动关系"),
    "城乡居民医保": re.compile(r"居民|城乡|新农合|农村"),
    "灵活就业": re.compile(r"灵活就业|个体"),
}
_QUESTION_LIKE = re.compile(r"([?？]|[吗呢么]\s*)$")

UNIT_FEATURES = (
    "lexical",        # share (by IDF) of the question's words in the sentence (heading words count 0.3)
    "bigram",         # share of the question's character pairs in the sentence (robust to word cutting)
    "specific",       # share of the question's specific words in the sentence, its heading and title
    "prior",          # the chunk's fused retrieval score relative to the best chunk
    "rank_inv",       # 1 / (1 + the chunk's rank)
    "dense",          # the chunk's cosine similarity to the question
    "unit_dense",     # the sentence's own cosine similarity to the question
    "unit_dense_gap",  # … minus the best sentence's (0 for the closest sentence of this question)
    "lexical_gap",    # lexical minus the best sentence's lexical share
    "cue",            # the sentence holds the kind of fact the question type asks for
    "quantity",       # the sentence states the kind of figure asked for
    "question_like",  # the sentence is itself a question ("…应该怎么办呢?")
    "lead_in",        # the sentence only leads into a list ("…如下:")
    "type_match",     # the sentence (or its heading) names the insurance type asked about
    "type_clash",     # it names only another insurance type
    "region_match",   # it (or its article) names the region asked about
    "length",         # log length of the sentence
)


def _bigrams(text: str) -> set[str]:
    text = re.sub(r"\W", "", canonical(text.lower()))
    return {text[i : i + 2] for i in range(len(text) - 1)}


@dataclass(frozen=True)
class QuestionView:
    """What the features need of a question, computed once per question (not per sentence)."""

    terms: frozenset[str]
    total: float
    bigrams: frozenset[str]
    specific: frozenset[str]
    specific_total: float
    cue: re.Pattern[str] | None
    asked: str | None
    types: tuple[str, ...]
    regions: tuple[str, ...]

    @classmethod
    def of(cls, u: Understanding, weights: TermWeights) -> QuestionView:
        terms = frozenset(tokenize(u.text))
        qtype = "yes_no" if u.yes_no and u.qtype in ("what", "how") else u.qtype
        return cls(terms, sum(weights(t) for t in terms) or 1.0, frozenset(_bigrams(u.focus or u.text)),
                   u.specific, sum(weights(t) for t in u.specific) or 1.0, TYPE_CUES.get(qtype), u.asked_quantity,
                   u.insurance_types, u.regions)


def unit_features(q: QuestionView, unit: Unit, sc: Scored, rank: int, top_score: float, weights: TermWeights,
                  heading_terms: frozenset[str], where: str, unit_dense: float = 0.0) -> dict[str, float]:
    """``where`` is the chunk's title and heading path (what the sentence is about)."""
    text = unit.text
    terms = set(tokenize(f"{unit.context} {text}"))
    lexical = (sum(weights(t) for t in q.terms & terms)
               + 0.3 * sum(weights(t) for t in (heading_terms & q.terms) - terms)) / q.total
    bigrams = _bigrams(f"{unit.context}{text}")
    around = canonical(f"{where} {unit.context} {text}".lower())
    types_here = [t for t, p in _TYPE_WORDS.items() if p.search(f"{where} {unit.context} {text}")]
    return {
        "lexical": lexical,
        "bigram": len(q.bigrams & bigrams) / (len(q.bigrams) or 1),
        "specific": (sum(weights(t) for t in q.specific if t in around) / q.specific_total) if q.specific else 1.0,
        "prior": sc.score / top_score if top_score > 0 else 0.0,
        "rank_inv": 1.0 / (1 + rank),
        "dense": sc.dense,
        "unit_dense": unit_dense,
        "unit_dense_gap": 0.0,  # set by ``relative`` once every candidate is known
        "lexical_gap": 0.0,
        "cue": float(q.cue is not None and bool(q.cue.search(text))),
        "quantity": float(q.asked is not None and quantity.states(q.asked, text)),
        "question_like": float(bool(_QUESTION_LIKE.search(text))),
        "lead_in": float(text.endswith((":", "："))),
        "type_match": float(any(t in types_here for t in q.types)),
        "type_clash": float(bool(q.types) and bool(types_here) and not any(t in types_here for t in q.types)),
        "region_match": float(any(r in around for r in q.regions)),
        "length": math.log(1 + len(text)) / 5,
    }


def relative(rows: list[dict[str, float]]) -> None:
    """Fill the features that compare a sentence with the question's other candidates (in place)."""
    if not rows:
        return
    best_dense = max(r["unit_dense"] for r in rows)
    best_lex = max(r["lexical"] for r in rows)
    for r in rows:
        r["unit_dense_gap"] = r["unit_dense"] - best_dense
        r["lexical_gap"] = r["lexical"] - best_lex


@dataclass(frozen=True)
class UnitRanker:
    """Logistic regression over ``UNIT_FEATURES`` (standardised); ``neutral()`` is the old fixed formula."""

    features: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float
    info: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path = RANKER_FILE) -> UnitRanker:
        if not Path(path).is_file():
            return cls.neutral()
        try:
            d = json.loads(Path(path).read_text(encoding="utf-8"))
            r = cls(tuple(d["features"]), np.asarray(d["mean"], float), np.asarray(d["scale"], float),
                    np.asarray(d["coef"], float), float(d["intercept"]), dict(d.get("info", {})))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"{path}: cannot load the sentence ranker ({exc}); refit with `python -m eval fit`") \
                from exc
        n = len(r.features)
        if (set(r.features) - set(UNIT_FEATURES) or r.mean.shape != (n,) or r.scale.shape != (n,)
                or r.coef.shape != (n,) or np.any(r.scale <= 0)):
            raise ValueError(f"{path}: the sentence ranker's parameters do not fit its features; refit it")
        return r

    @classmethod
    def neutral(cls) -> UnitRanker:
        return cls((), np.zeros(0), np.ones(0), np.zeros(0), 0.0, {"neutral": True})

    @property
    def is_neutral(self) -> bool:
        return not self.features

    def to_json(self) -> dict[str, Any]:
        return {"features": list(self.features), "mean": self.mean.tolist(), "scale": self.scale.tolist(),
                "coef": self.coef.tolist(), "intercept": self.intercept, "info": self.info}

    def score(self, f: dict[str, float]) -> float:
        if self.is_neutral:
            # The fixed formula the composer used before a ranker was fitted.
            s = 0.6 * f["lexical"] + 0.4 * f["prior"]
            if f["lead_in"]:
                s *= 0.5
            if f["quantity"]:
                s *= 1.25
            return s
        x = (np.array([f[k] for k in self.features]) - self.mean) / self.scale
        return float(1.0 / (1.0 + math.exp(-(float(self.coef @ x) + self.intercept))))
