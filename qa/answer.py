"""Compose an extractive answer: pick the few sentences that answer, cite each, note conflicts."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ingest.tokenize import canonical, content_words, tokenize

from . import quantity
from .conflict import Version, break_condition, compatible, disagree, is_when_question, version_of
from .models import Citation
from .normalize import Query
from .retrieve import Scored
from .scope import GENERIC_TERMS
from .sentences import Unit, split_units
from .terms import TermWeights

# Selection knobs, chosen on eval/questions.jsonl (`python -m eval`): 5 units from at
# most 4 chunks gave keyword coverage 0.850 vs 0.832 for 4 from 3, at equal hit@1;
# a dense-similarity chunk prior and an "action sentence" bonus were tried and lost.
MAX_UNITS = 5
MAX_CHUNKS = 4
KEEP_RATIO = 0.72
# A unit that states the kind of quantity asked for (元 for 多少钱, % for 比例 …).
QUANTITY_BONUS = 1.25
# Words found only in the chunk's heading path count this much (the heading says
# what a list of short lines is about: "嘉峪关居民医保的缴费标准" › "每人每年400元").
HEADING_MATCH_WEIGHT = 0.3  # keep units scoring at least this share of the best unit
LEXICAL_WEIGHT = 0.6  # the rest is the chunk's retrieval score relative to the best chunk
DUPLICATE_JACCARD = 0.6
# The articles often disagree or complement each other: when a second document has a
# unit nearly as good as the best, one slot goes to it so the answer shows both.
SECOND_SOURCE_RATIO = 0.85
# Yes/no questions ("…会清零吗?", "…还能补缴吗?") are where the articles contradict each
# other most (eval/QUESTIONS.md, conflict-004/005); a second document's unit is looked for
# among YES_NO_POOL chunks and kept down to this share of the best unit's score.
YES_NO_QUESTION = re.compile(r"(吗|么)[?？]?$|能否|能不能|会不会|是否|可不可以|算不算|要不要|有没有")
YES_NO_POOL = 10
YES_NO_SECOND_SOURCE_RATIO = 0.5
# A document's statement counts as a version if its unit matches the question at
# least this well relative to the best unit; at most MAX_VERSIONS are listed.
VERSION_MIN_LEXICAL = 0.3
MAX_VERSIONS = 4


@dataclass(frozen=True)
class Candidate:
    unit: Unit
    scored: Scored
    rank: int
    lexical: float
    score: float


@dataclass
class Composition:
    text: str
    citations: list[Citation]
    units: list[Candidate]
    conflict: bool = False


def _bigrams(text: str) -> set[str]:
    text = re.sub(r"\W", "", text)
    return {text[i : i + 2] for i in range(len(text) - 1)}


def _near_duplicate(a: str, b: str) -> bool:
    x, y = _bigrams(a), _bigrams(b)
    return bool(x and y) and len(x & y) / len(x | y) >= DUPLICATE_JACCARD


def _display(unit: Unit, chunk_heading_leaf: str) -> str:
    """Sentence text, prefixed by a short condition heading such as 【断缴3个月以内】."""
    ctx = unit.context
    if ctx and len(ctx) <= 14 and ctx not in unit.text and ctx != chunk_heading_leaf[:0]:
        return f"【{ctx}】{unit.text}"
    return unit.text


def candidates(query: Query, scored: list[Scored], weights: TermWeights,
               top_k: int = 5) -> tuple[list[Candidate], set[str]]:
    q_terms = set(tokenize(query.text))
    w = weights
    total = sum(w(t) for t in q_terms) or 1.0
    top = scored[0].score if scored else 1.0
    asked = quantity.asked_type(query.text)
    out: list[Candidate] = []
    for rank, sc in enumerate(scored[:top_k]):
        c = sc.chunk
        leaf = c["heading_path"][-1] if c.get("heading_path") else ""
        prior = sc.score / top if top > 0 else 0.0
        heading_terms = set(tokenize(f"{c['title']} {c.get('heading', '')}")) & q_terms
        for unit in split_units(c["text"], c["start"], leaf):
            terms = set(tokenize(f"{unit.context} {unit.text}"))
            lexical = (sum(w(t) for t in q_terms & terms)
                       + HEADING_MATCH_WEIGHT * sum(w(t) for t in heading_terms - terms)) / total
            score = LEXICAL_WEIGHT * lexical + (1 - LEXICAL_WEIGHT) * prior
            if unit.text.endswith((":", "：")):
                score *= 0.5  # a lead-in ("…如下:") says nothing by itself
            if asked and quantity.states(asked, unit.text):
                score *= QUANTITY_BONUS
            out.append(Candidate(unit, sc, rank, lexical, score))
    out.sort(key=lambda c: (-c.score, c.rank, c.unit.position))
    return out, q_terms


def specific_terms(query: Query) -> set[str]:
    """The words that say what exactly is asked: not generic domain words, digits or single characters."""
    return {w for w in content_words(query.text) if len(w) >= 2 and w not in GENERIC_TERMS and not w.isdigit()}


def specific_coverage(query: Query, chosen: list[Candidate], weights: TermWeights) -> float:
    """Share (by IDF) of the question's specific words found in the chosen evidence."""
    specific = specific_terms(query)
    if not specific:
        return 1.0
    evidence = canonical(
        " ".join(f"{c.scored.chunk.get('heading', '')} {c.unit.context} {c.unit.text}" for c in chosen).lower()
    )
    return sum(weights(t) for t in specific if t in evidence) / sum(weights(t) for t in specific)


def is_yes_no_question(question: str) -> bool:
    return bool(YES_NO_QUESTION.search(question))


def may_differ(question: str) -> bool:
    """Yes/no, when and how-much questions: the kinds on which the articles disagree."""
    return is_yes_no_question(question) or is_when_question(question) or quantity.asked_type(question) is not None


def pick(cands: list[Candidate], second_pool: list[Candidate] | None = None,
         second_ratio: float = SECOND_SOURCE_RATIO) -> list[Candidate]:
    """The answer's units; ``second_pool`` (default ``cands``) is where a second document's unit is sought."""
    if not cands:
        return []
    best = cands[0].score
    first_doc = cands[0].scored.chunk["doc_id"]
    pool = cands if second_pool is None else second_pool
    second = next((c for c in pool if c.scored.chunk["doc_id"] != first_doc), None)
    if second is not None and second.score >= second_ratio * best and second not in cands[:MAX_UNITS - 1]:
        cands = [*cands[: MAX_UNITS - 1], second, *(c for c in cands[MAX_UNITS - 1 :] if c is not second)]
        second_kept = second
    else:
        second_kept = None
    chosen: list[Candidate] = []
    chunks: set[str] = set()
    for c in cands:
        if len(chosen) >= MAX_UNITS:
            break
        if c.score < KEEP_RATIO * best and c is not second_kept:
            continue
        cid = c.scored.chunk["chunk_id"]
        if cid not in chunks and len(chunks) >= MAX_CHUNKS:
            continue
        if any(_near_duplicate(c.unit.text, o.unit.text) for o in chosen):
            continue
        chosen.append(c)
        chunks.add(cid)
    return chosen


def _version(query: Query, kind: str | None, c: Candidate) -> Version | None:
    if is_when_question(query.text):
        return version_of(c.unit.text, c.unit.context)
    if kind is None:
        return None
    vals = quantity.values(kind, c.unit.text)
    return Version("/".join(dict.fromkeys(vals)), "") if vals else None


def pick_versions(query: Query, cands: list[Candidate]) -> list[Candidate] | None:
    """For a question asking a time or quantity on which the documents disagree:
    each document's best unit stating its version, in order of relevance."""
    kind = quantity.asked_type(query.text)
    if kind is None and not is_when_question(query.text):
        return None
    wanted = break_condition(query.text)
    best_lex = max((c.lexical for c in cands), default=0.0)
    found: list[tuple[str, Candidate, Version]] = []
    for c in cands:
        doc = c.scored.chunk["doc_id"]
        if c.lexical < VERSION_MIN_LEXICAL * best_lex or any(doc == d for d, _, _ in found):
            continue
        v = _version(query, kind, c)
        if v is not None and compatible(v, wanted):
            found.append((doc, c, v))
    if not disagree([(d, v) for d, _, v in found]):
        return None
    return [c for _, c, _ in found[:MAX_VERSIONS]]


def cite(chosen: list[Candidate], documents: dict[str, dict[str, Any]]) -> tuple[list[Citation], dict[str, int]]:
    """One citation per chunk, numbered in order of first use."""
    numbers: dict[str, int] = {}
    highlights: dict[str, list[tuple[int, int]]] = {}
    for c in chosen:
        cid = c.scored.chunk["chunk_id"]
        numbers.setdefault(cid, len(numbers) + 1)
        highlights.setdefault(cid, []).append((c.unit.start, c.unit.end))
    citations = []
    for c in chosen:
        ch = c.scored.chunk
        n = numbers[ch["chunk_id"]]
        if any(x.n == n for x in citations):
            continue
        meta = documents.get(ch["doc_id"], {}).get("metadata", {})
        citations.append(
            Citation(n=n, doc_id=ch["doc_id"], title=ch["title"], chunk_id=ch["chunk_id"], text=ch["text"],
                     start=ch["start"], end=ch["end"], score=round(c.scored.score, 6),
                     highlights=sorted(highlights[ch["chunk_id"]]), region=list(meta.get("regions", [])),
                     date=meta.get("date"))
        )
    return citations, numbers


def _region_note(query: Query, citations: list[Citation]) -> str:
    if not query.regions:
        return ""
    asked = "、".join(query.regions)
    others = [
        c for c in citations
        if c.region and "全国" not in c.region and not any(q in r or r in q for r in c.region for q in query.regions)
    ]
    general = [c for c in citations if not c.region or "全国" in c.region]
    notes = []
    for c in others:
        notes.append(f"[{c.n}]出自{('、'.join(c.region))}的文章")
    if general and not any(
        any(q in r or r in q for r in c.region for q in query.regions) for c in citations
    ):
        notes.append("".join(f"[{c.n}]" for c in general) + "为全国通用的说明")
    if not notes:
        return ""
    return f"(注:资料中没有专门针对{asked}的规定,{';'.join(notes)},{asked}的具体规定请以当地医保部门为准。)"


def compose(query: Query, scored: list[Scored], weights: TermWeights,
            documents: dict[str, dict[str, Any]], top_k: int = 5) -> Composition | None:
    """An answer drawn from the ``top_k`` best-ranked chunks of ``scored``."""
    cands, q_terms = candidates(query, scored, weights, top_k)
    if not cands:
        return None
    versions = pick_versions(query, cands)
    if versions:
        chosen = versions
    elif may_differ(query.text) and len(scored) > top_k:
        # A question on which the articles may differ: look further down the ranking for
        # another document's statement, and accept a weaker one than for other questions.
        wider, _ = candidates(query, scored, weights, len(scored))
        chosen = pick(cands, wider, YES_NO_SECOND_SOURCE_RATIO)
    else:
        chosen = pick(cands)
    citations, numbers = cite(chosen, documents)
    if versions:
        order = chosen
        body = "".join(f"{_display(c.unit, '')}[{numbers[c.scored.chunk['chunk_id']]}]" for c in order)
        text = f"各地规定不同,资料中的说法不一致:{body}具体以参保地医保经办机构的规定为准。"
    else:
        # Readable order: by citation number, then by position in the document.
        order = sorted(chosen, key=lambda c: (numbers[c.scored.chunk["chunk_id"]], c.unit.start))
        text = "".join(f"{_display(c.unit, '')}[{numbers[c.scored.chunk['chunk_id']]}]" for c in order)
    text += _region_note(query, citations)
    return Composition(text, citations, order, conflict=bool(versions))
