"""Compose an extractive answer: pick the few sentences that answer, cite each, note conflicts."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ingest.regions import region_matches
from ingest.tokenize import canonical, content_words, tokenize

from . import quantity
from .conflict import Version, break_condition, compatible, disagree, is_when_question, version_of
from .models import Citation
from .normalize import Query
from .rank import QuestionView, UnitRanker, relative, unit_features
from .retrieve import Scored
from .scope import another_place_advice
from .sentences import Unit, split_units
from .terms import TermWeights
from .understand import Understanding, understanding_of

_NEUTRAL = UnitRanker.neutral()
Similarity = Callable[[str, list[tuple[dict[str, Any], Unit]]], Sequence[float]]

# Selection knobs, chosen on eval/questions.jsonl (`python -m eval`): 5 units from at
# most 4 chunks gave keyword coverage 0.850 vs 0.832 for 4 from 3, at equal hit@1;
# a dense-similarity chunk prior and an "action sentence" bonus were tried and lost.
# On the users set (train/dev, the fitted ranker) 6 units gave key facts 0.638/0.671 against 0.605/0.618
# for 5 at the same first article, answers 7 % longer (221 against 207 characters); 7 units from 5
# chunks added 0.013 on train only.
MAX_UNITS = 6
MAX_CHUNKS = 4
# With the fitted sentence ranker (``qa.rank``): keep sentences scoring at least this share of the best
# one. On the train split of eval/users.jsonl 0.3 gave key-fact coverage 0.76 against 0.63 for 0.72
# (the old value, chosen for the fixed formula), at the same first article.
KEEP_RATIO = 0.3
DUPLICATE_JACCARD = 0.6
# The articles often disagree or complement each other: when a second document has a
# unit nearly as good as the best, one slot goes to it so the answer shows both.
SECOND_SOURCE_RATIO = 0.85
# Yes/no questions ("…会清零吗?", "…还能补缴吗?") are where the articles contradict each
# other most (eval/QUESTIONS.md, conflict-004/005); a second document's unit is looked for
# among YES_NO_POOL chunks and kept down to this share of the best unit's score.
YES_NO_QUESTION = re.compile(r"(吗|么)[?？]?$|能否|能不能|会不会|是否|可不可以|算不算|要不要|有没有")
YES_NO_POOL = 10
# With the fitted sentence ranker, 0.25 (chosen on the conflict questions of users train/dev and the
# own set): 28 of 30 cite two articles, against 27 with 0.5.
YES_NO_SECOND_SOURCE_RATIO = 0.25
# A document's statement counts as a version if its unit matches the question at
# least this well relative to the best unit; at most MAX_VERSIONS are listed.
VERSION_MIN_LEXICAL = 0.3
MAX_VERSIONS = 4
# A versions answer lists one sentence per document; it is filled up to this many sentences with the
# question's other best ones after the versions ("相关说明:"), since the deciding detail is often a
# second sentence of the same article. On users train/dev (refitted both ways on this machine) key facts
# went 0.664/0.724 → 0.684/0.789 with 5, the same with 6, at equal right article first.
VERSION_EXTRA = 5


@dataclass(frozen=True)
class Candidate:
    unit: Unit
    scored: Scored
    rank: int
    lexical: float
    score: float
    features: dict[str, float] = field(default_factory=dict, compare=False, hash=False)


@dataclass
class Composition:
    text: str
    citations: list[Citation]
    units: list[Candidate]
    conflict: bool = False
    # Every sentence that was considered, best first (the decision looks at them too).
    candidates: list[Candidate] = field(default_factory=list)


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


def candidates(query: Query, scored: list[Scored], weights: TermWeights, top_k: int = 5,
               ranker: UnitRanker | None = None, similarity: Similarity | None = None
               ) -> tuple[list[Candidate], set[str]]:
    """Every sentence of the ``top_k`` chunks, scored by ``ranker`` (best first).

    ``similarity(question, [(chunk, unit), …])`` gives each sentence's cosine similarity to the question.
    """
    ranker = ranker or _NEUTRAL
    u = query if isinstance(query, Understanding) else understanding_of(query.original, query.text)
    view = QuestionView.of(u, weights)
    top = scored[0].score if scored else 1.0
    items = []
    for rank, sc in enumerate(scored[:top_k]):
        c = sc.chunk
        leaf = c["heading_path"][-1] if c.get("heading_path") else ""
        items.extend((rank, sc, unit) for unit in split_units(c["text"], c["start"], leaf))
    sims = similarity(u.text, [(sc.chunk, unit) for _, sc, unit in items]) if similarity and items else None
    heading_cache: dict[str, tuple[str, frozenset[str]]] = {}
    rows = []
    for i, (rank, sc, unit) in enumerate(items):
        c = sc.chunk
        if c["chunk_id"] not in heading_cache:
            where = f"{c['title']} {c.get('heading', '')}"
            heading_cache[c["chunk_id"]] = (where, frozenset(tokenize(where)))
        where, heading_terms = heading_cache[c["chunk_id"]]
        rows.append(unit_features(view, unit, sc, rank, top, weights, heading_terms, where,
                                  float(sims[i]) if sims is not None else 0.0))
    relative(rows)
    out = [Candidate(unit, sc, rank, f["lexical"], ranker.score(f), f) for (rank, sc, unit), f in zip(items, rows)]
    out.sort(key=lambda c: (-c.score, c.rank, c.unit.position))
    return out, set(view.terms)


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
        # The second article's statement is the point of keeping it: no chunk limit for it.
        if cid not in chunks and len(chunks) >= MAX_CHUNKS and c is not second_kept:
            continue
        if any(_near_duplicate(c.unit.text, o.unit.text) for o in chosen):
            continue
        chosen.append(c)
        chunks.add(cid)
    return chosen


def _asking(query: Query) -> str:
    return query.focus or query.text if isinstance(query, Understanding) else query.text


def _version(query: Query, kind: str | None, c: Candidate) -> Version | None:
    if is_when_question(_asking(query)):
        return version_of(c.unit.text, c.unit.context)
    if kind is None:
        return None
    vals = quantity.values(kind, c.unit.text)
    return Version("/".join(dict.fromkeys(vals)), "") if vals else None


def _local_versions(query: Query, found: list[tuple[str, Candidate, Version]],
                    documents: dict[str, dict[str, Any]]) -> list[tuple[str, Candidate, Version]]:
    """For a question naming a region: when a document about that region states a version, the versions
    of documents about *other* regions are no answer to it (national ones stay)."""
    if not query.regions:
        return found

    def regions(doc_id: str) -> list[str]:
        return list(documents.get(doc_id, {}).get("metadata", {}).get("regions", []))

    local = [f for f in found if any(region_matches(q, regions(f[0])) for q in query.regions)]
    if not local:
        return found
    return [f for f in found if f in local or not regions(f[0]) or "全国" in regions(f[0])]


def pick_versions(query: Query, cands: list[Candidate],
                  documents: dict[str, dict[str, Any]] | None = None) -> list[Candidate] | None:
    """For a question asking a time or quantity on which the documents disagree:
    each document's best unit stating its version, in order of relevance."""
    # What the question asks is read from its asking sentence: a drill-down's own question ("要带什么材料"
    # after a waiting-period question), not the earlier question carried for retrieval.
    asking = _asking(query)
    kind = quantity.asked_type(asking)
    if kind is None and not is_when_question(asking):
        return None
    wanted = break_condition(asking)
    best_lex = max((c.lexical for c in cands), default=0.0)
    found: list[tuple[str, Candidate, Version]] = []
    for c in cands:
        doc = c.scored.chunk["doc_id"]
        if c.lexical < VERSION_MIN_LEXICAL * best_lex or any(doc == d for d, _, _ in found):
            continue
        v = _version(query, kind, c)
        if v is not None and compatible(v, wanted):
            found.append((doc, c, v))
    found = _local_versions(query, found, documents or {})
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


def _region_note(query: Query, citations: list[Citation], versions: bool = False) -> str:
    if not query.regions:
        # Versions already say "各地规定不同": naming one region's article there would single it out.
        return "" if versions else _whose_figure_note(query, citations)
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


def _whose_figure_note(query: Query, citations: list[Citation]) -> str:
    """A figure asked without a place and answered first from one region's article ("居民医保一个人交多少"
    → 嘉峪关's 400元): say whose standard it is, since it is not the asker's by default."""
    if not isinstance(query, Understanding) or not (query.asked_quantity or query.qtype == "how_much"):
        return ""
    first = next((c for c in citations if c.n == 1), None)  # [1]: the deciding sentence's passage
    if first is None or not first.region or "全国" in first.region:
        return ""
    return f"(注:[{first.n}]是{'、'.join(first.region)}的规定;{another_place_advice('规定')})"


# Yes/no questions: the modal verb asked with, and its two answers. Checked in this order.
_MODALS: tuple[tuple[re.Pattern[str], str, str], ...] = (
    (re.compile(r"能不能|能否|可否|还能|能"), "能", "不能"),
    (re.compile(r"可不可以|可以"), "可以", "不可以"),
    (re.compile(r"会不会|会"), "会", "不会"),
    (re.compile(r"需不需要|需要|要不要|用不用|得不得"), "需要", "不需要"),
    (re.compile(r"算不算|算"), "算", "不算"),
    (re.compile(r"有没有"), "有", "没有"),
    (re.compile(r"是不是|是否"), "是", "不是"),
)
_NEGATION = re.compile(r"不能|无法|不予|不可以|不可|不允许|不得|不会|无需|不需要|不用|没有|不再|不受|未|并不|不")
_NEGATION_SPAN = 6
# "部分地区可能不允许补缴": a rule that holds only somewhere or usually is no plain 能/不能.
_HEDGE = re.compile(r"部分地区|有的地区|可能|一般|通常|多数|视.{0,8}而定|因地而异|各地")


def _polarity(predicate: str, sentence: str) -> bool | None:
    """True/False when the sentence affirms/denies ``predicate`` (negation right before it), else None."""
    text = canonical(sentence)
    at = text.find(canonical(predicate)) if predicate else -1
    if at < 0:
        return None
    return not _NEGATION.search(text[max(0, at - _NEGATION_SPAN) : at])


def yes_no_lead(u: Understanding, order: list[Candidate]) -> str:
    """"能。"/"不能。" (in the question's own modal verb) before the answer, when the deciding sentence says
    it plainly; "不一定:" when the cited articles disagree; nothing when no sentence says it."""
    asking = u.focus or u.text
    for pattern, yes, no in _MODALS:
        m = pattern.search(asking)
        if not m:
            continue
        # The word asked about: what follows the modal ("还能补缴吗" → 补缴), else the modal itself.
        tail = re.sub(r"[吗么嘛呢啊呀?？!！。\s]+$", "", asking[m.end():])
        words = [w for w in content_words(tail) if len(w) >= 2]
        predicate = words[0] if words else ""
        verdicts = {}
        for c in order:
            v = _polarity(predicate, c.unit.text) if predicate else None
            if v is not None:
                verdicts.setdefault(c.scored.chunk["doc_id"], v)
        if not verdicts:
            return ""
        first_doc = order[0].scored.chunk["doc_id"]
        first = verdicts.get(first_doc, next(iter(verdicts.values())))
        if len(set(verdicts.values())) > 1:
            return "不一定,资料中的说法不同:"
        if _HEDGE.search(order[0].unit.text):
            return f"不一定,{'一般' + yes if first else '部分地区' + no}:"
        return f"{yes if first else no}。"
    return ""


def _rendered(units: list[Candidate], numbers: dict[str, int]) -> str:
    return "".join(f"{_display(c.unit, '')}[{numbers[c.scored.chunk['chunk_id']]}]" for c in units)


def compose(query: Query, scored: list[Scored], weights: TermWeights, documents: dict[str, dict[str, Any]],
            top_k: int = 5, ranker: UnitRanker | None = None, similarity: Similarity | None = None
            ) -> Composition | None:
    """An answer drawn from the ``top_k`` best-ranked chunks of ``scored``."""
    cands, q_terms = candidates(query, scored, weights, top_k, ranker, similarity)
    if not cands:
        return None
    versions = pick_versions(query, cands, documents)
    if versions:
        extra = [c for c in pick(cands) if c not in versions and
                 not any(_near_duplicate(c.unit.text, v.unit.text) for v in versions)]
        chosen = versions + extra[:max(0, VERSION_EXTRA - len(versions))]
    elif (may_differ(_asking(query)) or isinstance(query, Understanding) and (query.yes_no or query.doubts)) \
            and len(scored) > top_k:
        # A question on which the articles may differ: look further down the ranking for
        # another document's statement, and accept a weaker one than for other questions.
        wider, _ = candidates(query, scored, weights, len(scored), ranker, similarity)
        chosen = pick(cands, wider, YES_NO_SECOND_SOURCE_RATIO)
    else:
        chosen = pick(cands)
    citations, numbers = cite(chosen, documents)
    if versions:
        order = chosen
        more = _rendered(chosen[len(versions):], numbers)
        text = f"各地规定不同,资料中的说法不一致:{_rendered(versions, numbers)}具体以参保地医保经办机构的规定为准。"
        if more:
            text += f"相关说明:{more}"
    else:
        # The deciding sentence first, then the rest in reading order (citation number, then position).
        best = max(chosen, key=lambda c: c.score)
        rest = sorted((c for c in chosen if c is not best), key=lambda c: (numbers[c.scored.chunk["chunk_id"]],
                                                                          c.unit.start))
        order = [best, *rest]
        text = _rendered(order, numbers)
        if isinstance(query, Understanding) and query.yes_no:
            text = yes_no_lead(query, order) + text
    text += _region_note(query, citations, versions=bool(versions))
    return Composition(text, citations, order, conflict=bool(versions), candidates=cands)
