"""Numeric questions: detect, compute with the calculator, and cite the rules' sources.

The rules come from a ``RuleBook`` (default ``corpus/rules.toml``), checked against the index in use:
a rule whose article is not in it, or no longer holds the rule's quote, is not used (``rules_for``).
The question's regions choose among the rules: the asked region's own rule is used and cited; another
region's rule filled in as a default is reported by ``foreign_defaults``.
"""

from __future__ import annotations

import contextlib
import logging
import weakref
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ingest.rules import RuleBook, SourceRef, default_rules, verify
from ingest.store import IndexData
from ingest.tokenize import canonical

from . import calculator
from .calc_detect import CalcRequest, examples_for
from .models import Calculation, Citation
from .normalize import Query
from .scope import another_place_advice
from .understand import Understanding

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CalcAnswer:
    text: str
    citations: list[Citation]
    calculation: Calculation

    @property
    def conflict(self) -> bool:
        """True when the articles' rules give different results (listed with their own citations)."""
        rules = self.calculation.details.get("rules", [])
        return len({(r.get("date"), r.get("when_zh"), r.get("date_to")) for r in rules}) > 1


def _value(v: Any) -> Any:
    return float(v) if isinstance(v, Decimal) else v


def _jsonable(params: dict[str, Any]) -> dict[str, Any]:
    return {k: _value(v) for k, v in params.items()}


# The rule book last checked against an index version: (book, weak reference to the data, kept rules).
_verified: tuple[RuleBook, Any, RuleBook] | None = None


def rules_for(data: IndexData, rules: RuleBook | None = None) -> RuleBook:
    """``rules`` (default ``corpus/rules.toml``) without the rules whose article is not in ``data`` or
    does not hold their quote; each left-out rule is logged once per index version."""
    global _verified
    book = rules if rules is not None else default_rules()
    cached = _verified
    if cached is not None and cached[0] is book and cached[1]() is data:
        return cached[2]
    texts = {doc_id: doc.get("text") for doc_id, doc in data.documents.items()}
    kept, problems = verify(book, texts)
    for line in problems:
        _log.warning("calculator rules: %s", line)
    with contextlib.suppress(TypeError):  # an object without weak references is checked every time
        _verified = (book, weakref.ref(data), kept)
    return kept


def locate(ref: SourceRef, data: IndexData) -> tuple[dict[str, Any], int, int] | None:
    """The chunk holding a quoted rule, with the quote's offsets in the cleaned document."""
    doc = data.documents.get(ref.doc_id)
    if doc is None:
        return None
    at = doc["text"].find(ref.quote)
    if at < 0:
        return None
    end = at + len(ref.quote)
    dead = getattr(data, "dead", ())  # chunks of a removed or replaced version of a document
    for i, c in enumerate(data.chunks):
        if c["doc_id"] == ref.doc_id and c["start"] <= at < c["end"] and i not in dead:
            return c, at, end
    return None


def cite_refs(refs: list[SourceRef], data: IndexData) -> tuple[list[Citation], list[int]]:
    """Citations for the refs (one per chunk), and the citation number of each ref in order."""
    by_chunk: dict[str, Citation] = {}
    numbers: list[int] = []
    for ref in refs:
        found = locate(ref, data)
        if found is None:
            continue
        chunk, start, end = found
        cid = chunk["chunk_id"]
        if cid in by_chunk:
            old = by_chunk[cid]
            hl = sorted({*map(tuple, old.highlights), (start, end)})
            by_chunk[cid] = old.model_copy(update={"highlights": hl})
        else:
            meta = data.documents[chunk["doc_id"]].get("metadata", {})
            by_chunk[cid] = Citation(
                n=len(by_chunk) + 1, doc_id=chunk["doc_id"], title=chunk["title"], chunk_id=cid, text=chunk["text"],
                start=chunk["start"], end=chunk["end"], score=1.0, highlights=[(start, end)],
                region=list(meta.get("regions", [])), date=meta.get("date"),
            )
        numbers.append(by_chunk[cid].n)
    return list(by_chunk.values()), numbers


def _bigrams(text: str) -> set[str]:
    return {text[i : i + 2] for i in range(len(text) - 1)}


def _by_relevance(refs: tuple[SourceRef, ...], query: Query, data: IndexData, keep_first: bool = False) -> list:
    """Sources of the asked region (or quoting it) first, then (with ``keep_first``) the rule the
    calculation rests on (the calculator's first source), then those whose wording is closest to the
    question. A listing of every article's rule (benefit dates) has no one rule it rests on."""
    q = _bigrams(canonical(query.text))

    def key(item: tuple[int, SourceRef]) -> tuple[int, int, float, int]:
        i, ref = item
        regions = data.documents.get(ref.doc_id, {}).get("metadata", {}).get("regions", [])
        local = any(r in reg or reg in r for r in query.regions for reg in regions) or any(
            r in ref.quote for r in query.regions)
        overlap = len(q & _bigrams(canonical(ref.quote))) / (len(q) or 1)
        return (0 if local else 1, 0 if keep_first and i == 0 else 1, -overlap, i)

    return [ref for _, ref in sorted(enumerate(dict.fromkeys(refs)), key=key)]


def _rule_lines(calc: Calculation, number_of: dict[tuple[str, str], int]) -> str:
    """Each rule's own date with its own citation, for kinds whose sources disagree."""
    parts = []
    rules = calc.details.get("rules", [])
    rules = sorted(rules, key=lambda r: number_of.get((r.get("source_doc"), r.get("quote")), 99))
    for rule in rules:
        n = number_of.get((rule.get("source_doc"), rule.get("quote")))
        when = rule.get("date") or rule.get("when_zh", "")
        if rule.get("date") and rule.get("date_to"):
            when = f"{when}至{rule['date_to']}"
        marker = f"[{n}]" if n else ""
        parts.append(f"{rule.get('rule', '')}→{when}{marker}")
    return ("各文章的规则:" + ";".join(parts) + "。") if parts else ""


def answer_calculation(u: Understanding, data: IndexData, rules: RuleBook | None = None) -> CalcAnswer | None:
    """A calculated (or calculation-prompting) answer, or None when the question isn't numeric.

    A request with no stated values at all returns None too: a retrieved answer serves
    such a question better, and the service appends the prompts (see ``missing_prompt``).
    ``rules`` (default ``corpus/rules.toml``) are checked against ``data`` and chosen by the
    question's regions.
    """
    req = u.calc
    if req is None or not u.computes:
        return None
    book = rules_for(data, rules)
    spec = calculator.KINDS[req.kind]
    if req.missing:
        return _ask_for_missing(req, data, book, u.regions)
    try:
        result = req.compute(book, u.regions)
    except calculator.CalcError as exc:
        calc = Calculation(kind=req.kind, formula=spec.formula_zh, inputs=_jsonable(req.params), result=None,
                           unit=spec.unit, assumptions=[exc.message_zh], missing=[exc.param])
        return CalcAnswer(f"无法计算:{exc.message_zh}", [], calc)
    ordered = _by_relevance(result.refs, u, data, keep_first="rules" not in result.calculation.details)
    citations, numbers = cite_refs(ordered, data)
    number_of = {(r.doc_id, r.quote): n for r, n in zip(ordered, numbers)}
    calc = result.calculation.model_copy(update={"sources": sorted(set(numbers))})
    if "rules" in calc.details:
        text = result.sentence + _rule_lines(calc, number_of)
    else:
        # The rule itself, quoted, so the answer shows what the number rests on.
        basis = [f"{r.quote}[{number_of[(r.doc_id, r.quote)]}]" for r in ordered if (r.doc_id, r.quote) in number_of]
        text = result.sentence + ("依据:" + ";".join(basis) + "。" if basis else "")
        text += f"计算式:{calc.formula}。"
    if not u.regions:
        text += local_standard_note(calculator.regional_defaults(req.kind, req.params, book), number_of)
    return CalcAnswer(text, citations, calc)


def local_standard_note(rules: tuple[Any, ...], number_of: dict[tuple[str, str], int]) -> str:
    """For a question naming no place: whose standard filled in a value, since it is not everyone's."""
    places = list(dict.fromkeys(r for rule in rules for r in rule.regions))
    if not places:
        return ""
    marks = "".join(f"[{n}]" for n in dict.fromkeys(number_of.get((r.doc_id, r.quote)) for r in rules) if n)
    return f"(注:这里用的是{'、'.join(places)}的标准{marks};{another_place_advice('标准')})"


def rule_refs(
    kind: str, rules: RuleBook | None = None, regions: tuple[str, ...] = (), params: dict[str, Any] | None = None
) -> tuple[SourceRef, ...]:
    """The passages a kind's formula rests on, quoted when inputs are missing: the rules marked
    ``cite_when_asking`` (of the kind itself, or of a kind it reads when they are the asked region's
    own), for the insurance type asked about if any; the asked region's own alone when it has some."""
    own = {kind, calculator.rule_kinds(kind)[0]}
    sel = calculator.select_rules(kind, rules, regions)
    asked = {"employee": "职工", "resident": "居民"}.get(str((params or {}).get("insurance_type", "")))
    found = [
        r
        for r in sel
        if r.cite_when_asking
        and (r.kind in own or sel.is_local(r))
        and (asked is None or asked in sel.types(r))
    ]
    local = [r for r in found if sel.is_local(r)]
    return tuple(r.ref for r in (local or found))


def _ask_for_missing(
    req: CalcRequest, data: IndexData, book: RuleBook | None = None, regions: tuple[str, ...] = ()
) -> CalcAnswer:
    spec = calculator.KINDS[req.kind]
    rules = rule_refs(req.kind, book, regions, req.params)
    examples = examples_for(req.kind, req.params, book, regions)
    citations, numbers = cite_refs([*rules, *(e.ref for e in examples)], data)
    rule_numbers, numbers = numbers[: len(rules)], numbers[len(rules) :]
    text = f"要计算{spec.label_zh},还需要您提供:" + ";".join(m.prompt_zh for m in req.missing) + "。"
    if rules:
        text += "计算依据:" + ";".join(f"{r.quote}[{n}]" for r, n in zip(rules, rule_numbers)) + "。"
    if examples:
        shown = [f"{e.label_zh}[{n}]" for e, n in zip(examples, numbers)]
        text += "资料中的参考(仅为示例,不是您的数据):" + ";".join(shown) + "。"
    calc = Calculation(kind=req.kind, formula=spec.formula_zh, inputs=_jsonable(req.params), result=None,
                       unit=spec.unit, sources=sorted({*rule_numbers, *numbers}), assumptions=list(req.assumptions),
                       missing=[m.name for m in req.missing],
                       details={"examples": [{"param": e.param, "value": _value(e.value), "label": e.label_zh}
                                             for e in examples]})
    return CalcAnswer(text, citations, calc)


def missing_prompt(u: Understanding) -> str:
    """For a numeric question that stated no values: what to give for a personal calculation."""
    req = u.calc
    if req is None or req.out_of_scope or req.has_numbers or not req.missing:
        return ""
    spec = calculator.KINDS[req.kind]
    return f"如需按您的情况计算{spec.label_zh},请提供:" + ";".join(m.prompt_zh for m in req.missing) + "。"


def uncovered_regions(u: Understanding, data: IndexData, rules: RuleBook | None = None) -> list[str]:
    """The asked regions that no rule of the calculation's kind belongs to, for a calculation that still
    lacks inputs: what it asks the user for (a base, a rate, a local wage) is exactly the local standard
    the articles do not give ("2025年广州灵活就业医保一个月最少交多少", "按杭州的工资标准补缴要多少"), so the
    answer is ``partial`` for that region, not a complete answer. (Users train/dev: u-0103, u-0403.)"""
    req = u.calc
    if req is None or not u.regions or not req.missing or req.kind not in calculator.KINDS:
        return []
    sel = calculator.select_rules(req.kind, rules_for(data, rules), u.regions)
    if any(sel.is_local(r) for r in sel):
        return []
    return list(u.regions)


def foreign_defaults(u: Understanding, data: IndexData, rules: RuleBook | None = None) -> list[str]:
    """The regions whose rule the calculation would borrow for a question about another region.

    A rule of the asked region (or of a province containing it) is its own; a general rule applies
    anywhere; another region's rule marked as the documented default (article 002's 嘉峪关 figures) is
    borrowed when it fills in a value the asker did not give.
    """
    req = u.calc
    if req is None or not u.regions:
        return []
    found: list[str] = []
    for rule in calculator.borrowed_rules(req.kind, req.params, rules_for(data, rules), u.regions):
        found.extend(r for r in rule.regions if r not in found)
    return found
