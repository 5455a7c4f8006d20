"""The calculator's rules as data: corpus/rules.toml, validation, verification, selection by region."""

from __future__ import annotations

import copy
import tomllib
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from ingest.corpus import load_corpus
from ingest.rules import (
    KIND_NAMES,
    RULES_FILE,
    RuleBook,
    default_rules,
    load_rules,
    region_contains,
    verify,
)
from qa import calculator
from qa.calc_answer import answer_calculation, foreign_defaults, rule_refs, rules_for
from qa.calc_detect import detect, examples_for
from qa.calculator import CalcError, SourceRef, borrowed_rules, compute
from qa.understand import understand

ROOT = Path(__file__).resolve().parent.parent
D = Decimal


@pytest.fixture(scope="module")
def texts() -> dict[str, str]:
    """doc_id → cleaned text of the shipped corpus."""
    return {d.doc_id: d.text for d in load_corpus(ROOT / "corpus")}


def records() -> list[dict[str, Any]]:
    """The shipped rules as plain records (a fresh copy each time)."""
    return copy.deepcopy(tomllib.loads(RULES_FILE.read_text(encoding="utf-8"), parse_float=Decimal)["rule"])


# A made-up city notice and its rules: what a hotline in 兰州 (or 甘肃) would add.
LANZHOU_DOC = "lanzhou_2025_notice"
LANZHOU_TEXT = (
    "兰州市2025年度城乡居民基本医疗保险缴费通知\n\n"
    "一、缴费标准:2025年度城乡居民医保个人缴费标准为每人每年380元,财政补助每人每年不低于700元。\n\n"
    "二、待遇等待期:未连续参保的,重新参保后等待期为2个月,每多断保1年增加2个月。\n\n"
    "三、滞纳金:逾期补缴的,按日加收万分之三的滞纳金。"
)
LANZHOU_PERSONAL = {
    "id": "lanzhou-resident-personal-2025",
    "doc_id": LANZHOU_DOC,
    "kind": "resident_premium",
    "regions": ["兰州"],
    "insurance_type": "居民",
    "condition": "2025年度城乡居民医保个人缴费标准",
    "when": {"year": 2025},
    "effect": {"personal": 380},
    "quote": "个人缴费标准为每人每年380元",
}
LANZHOU_WAIT = {
    "id": "lanzhou-resident-wait",
    "doc_id": LANZHOU_DOC,
    "kind": "resident_waiting_period",
    "regions": ["兰州"],
    "insurance_type": "居民",
    "condition": "未连续参保",
    "summary": "未连续参保:等待2个月,每多断保1年加2个月",
    "effect": {"base_months": 2, "per_year_months": 2},
    "quote": "重新参保后等待期为2个月,每多断保1年增加2个月",
}
GANSU_DOC = "gansu_late_fee"
GANSU_TEXT = "甘肃省医疗保障局关于欠费补缴的通知:个人逾期补缴基本医疗保险费的,按日加收万分之三的滞纳金。"
GANSU_LATE = {
    "id": "gansu-late-rate",
    "doc_id": GANSU_DOC,
    "kind": "late_fee",
    "regions": ["甘肃"],
    "condition": "个人逾期补缴",
    "effect": {"daily_rate": "万分之三"},
    "quote": "按日加收万分之三的滞纳金",
}


@pytest.fixture(scope="module")
def book_with_cities(texts: dict[str, str]) -> RuleBook:
    all_texts = {**texts, LANZHOU_DOC: LANZHOU_TEXT, GANSU_DOC: GANSU_TEXT}
    book, problems = verify(RuleBook.from_records([*records(), LANZHOU_PERSONAL, LANZHOU_WAIT, GANSU_LATE]), all_texts)
    assert problems == []
    return book


# ----------------------------------------------------------------------------- the shipped file


def test_shipped_rules_parse_and_every_quote_verifies(texts: dict[str, str]) -> None:
    book = load_rules(RULES_FILE)
    assert book is not None and len(book) >= 25
    kept, problems = verify(book, texts)
    assert problems == []
    assert len(kept) == len(book)
    for rule in book:
        assert rule.quote in texts[rule.doc_id], rule.id
        assert rule.kind in KIND_NAMES
        assert rule.condition.strip()
        assert rule.regions
    assert {r.kind for r in book} == set(KIND_NAMES) - {"arrears_total"}  # arrears reads the late-fee rules
    assert default_rules() is default_rules()  # read once
    assert default_rules().rules == book.rules


def test_every_rule_the_calculator_used_is_one_entry() -> None:
    """The constants that used to live in qa/calculator.py are entries, with their numbers."""
    book = default_rules()
    by_quote = {r.quote: r for r in book}
    assert len(by_quote) == len(book)  # one entry per passage
    expect = {
        "缴纳欠费及滞纳金(按日加收万分之五)": {"daily_rate": D("0.0005")},
        "补缴金额:按断缴月份×当地上年度职工月平均工资×缴费比例(单位+个人合计10%-12%)计算": {
            "rate_low": D("0.10"), "rate_high": D("0.12")},
        "每人每年400元": {"personal": D(400)},
        "财政补助不低于670元": {"subsidy": D(670)},
        "基本医疗保险视同缴费年限和实际缴费年限累计满25年(其中实际缴费年限需满5年以上)": {
            "required_years": D(25), "required_actual_years": D(5)},
        "累计缴费年限不足时,可一次性补缴至法规年限(如15年)": {"required_years": D(15)},
        "在补充缴费期缴费的,设置90天待遇等待期,最早从2025年4月1日起享受医保报销待遇": {"wait_days": 90},
        "补缴完成后,一般从缴费月起的第三个自然月开始恢复医保待遇": {"natural_month": 3},
        "缴费基数下限为4340元,费率为4%,最低月缴费金额为173.60元": {"base": D(4340), "rate": D("0.04")},
    }  # fmt: skip
    for quote, effect in expect.items():
        rule = by_quote[quote]
        for key, value in effect.items():
            assert rule.effect[key] == value, (rule.id, key)
    wait = by_quote[next(q for q in by_quote if q.startswith("自2025年起,未连续参保"))]
    assert (wait.effect["base_months"], wait.effect["per_year_months"]) == (3, 1)
    assert str(wait.when["valid_from"]) == "2025-01-01" and wait.regions == ("甘肃嘉峪关",) and wait.default
    period = by_quote["补充缴费期:2025年1月1日至2月28日"]
    assert (str(period.when["paid_from"]), str(period.when["paid_to"])) == ("2025-01-01", "2025-02-28")
    # Every benefit-dates rule of articles 000–004 is there.
    benefit_docs = {r.doc_id[:3] for r in book if r.kind in ("benefit_dates", "resident_waiting_period")}
    assert benefit_docs == {"000", "001", "002", "003", "004"}
    # calc_detect's examples are the rules' labelled values.
    assert examples_for("back_payment")[0].value == D(8000)


def test_all_refs_and_docs_come_from_the_rule_book() -> None:
    assert tuple(r.ref for r in default_rules()) == calculator.ALL_REFS
    assert tuple(sorted({r.doc_id for r in default_rules()})) == calculator.DOCS
    assert not any(name.startswith("REF_") or name.startswith("DOC_") for name in vars(calculator))


# ----------------------------------------------------------------------------- validation


def _one(**changes: Any) -> dict[str, Any]:
    rec = copy.deepcopy(LANZHOU_PERSONAL)
    for key, value in changes.items():
        if value is None:
            rec.pop(key, None)
        else:
            rec[key] = value
    return rec


@pytest.mark.parametrize(
    ("changes", "field_name", "words"),
    [
        ({"quote": None}, "quote", "missing"),
        ({"kind": None}, "kind", "missing"),
        ({"doc_id": 42}, "doc_id", "expected text"),
        ({"kind": "pension"}, "kind", "unknown kind 'pension'"),
        ({"regions": "兰州"}, None, None),  # one place as a string: accepted
        ({"regions": []}, "regions", "non-empty list"),
        ({"regions": ["全国", "兰州"]}, "regions", "cannot be combined"),
        ({"effect": {"personal": "很多"}}, "effect.personal", "cannot read"),
        ({"effect": {"personal": True}}, "effect.personal", "boolean"),
        ({"effect": {"daily_rate": 0.0005}}, "effect.daily_rate", "not a parameter of resident_premium"),
        ({"effect": "380"}, "effect", "expected a table"),
        ({"when": {"year": "2025"}}, "when.year", "whole number"),
        ({"when": {"paid_from": "2025-13-01"}}, "when.paid_from", "cannot read"),
        ({"when": {"someday": 1}}, "when.someday", "unknown condition"),
        ({"insurance_type": "学生"}, "insurance_type", "expected one of"),
        ({"example": "yes"}, "example", "true or false"),
        ({"examples": {"subsidy": "示例"}}, "examples.subsidy", "does not set"),
        ({"colour": "red"}, "colour", "unknown field"),
        ({"regions": ["全国"], "default": True}, "default", "region-specific"),
    ],
)
def test_bad_records_name_the_rule_and_the_field(changes: dict[str, Any], field_name: str | None, words: str) -> None:
    rec = _one(**changes)
    if field_name is None:
        assert len(RuleBook.from_records([rec])) == 1
        return
    with pytest.raises(ValueError) as info:
        RuleBook.from_records([rec])
    message = str(info.value)
    assert "lanzhou-resident-personal-2025" in message and f": {field_name}: " in message and words in message, message


def test_every_problem_is_reported_at_once_and_ids_are_unique() -> None:
    bad = [_one(kind="pension"), _one(id="x", effect={"personal": -1}), _one(), _one(), "not a table"]
    with pytest.raises(ValueError) as info:
        RuleBook.from_records(bad)
    lines = str(info.value).splitlines()
    assert any("kind: unknown kind" in line for line in lines)
    assert any("rule 'x'" in line and "effect.personal" in line for line in lines)
    assert any("already used by entry" in line for line in lines)
    assert any(line.startswith("entry 5: expected a table") for line in lines)
    with pytest.raises(ValueError):
        RuleBook.from_records({"rule": []})  # a table, not a list of rules


def test_benefit_rules_are_checked_for_consistency() -> None:
    base = {"id": "b", "doc_id": "d", "kind": "benefit_dates", "regions": ["全国"], "condition": "c", "quote": "q"}
    for effect, when, words in [
        ({"wait_months": 1, "natural_month": 3}, {}, "one way of placing"),
        ({"wait_months_to": 6}, {}, "needs wait_months"),
        ({"earliest": "2025-04-01"}, {}, "goes with wait_days"),
        ({"base_months": 3}, {}, "go together"),
        ({"supplementary": True}, {}, "needs when.paid_from"),
        ({"wait_months": 1}, {"interruption_months_min": 5, "interruption_months_max": 3}, "is after"),
    ]:
        with pytest.raises(ValueError, match=words):
            RuleBook.from_records([{**base, "effect": effect, "when": when}])


def test_load_rules_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "rules.toml"
    path.write_text('[[rule]]\nid = "a"\nkind = "nope"\n', encoding="utf-8")
    with pytest.raises(ValueError) as info:
        load_rules(path)
    assert str(path) in str(info.value) and "rule 'a'" in str(info.value) and "kind" in str(info.value)
    path.write_text("[[rule]\n", encoding="utf-8")
    with pytest.raises(ValueError, match="invalid TOML"):
        load_rules(path)
    path.write_text('[rules]\nid = "a"\n', encoding="utf-8")
    with pytest.raises(ValueError, match="top-level"):
        load_rules(path)
    with pytest.raises(ValueError, match="cannot read"):
        load_rules(tmp_path / "missing.toml")
    path.write_text("", encoding="utf-8")
    assert len(load_rules(path)) == 0


# ----------------------------------------------------------------------------- verification


def test_quote_not_in_the_text_and_unknown_document_are_reported(texts: dict[str, str]) -> None:
    bad_quote = _one(id="wrong-quote", doc_id="002_fd26648b1f8121fa", quote="每人每年380元")
    unknown_doc = _one(id="no-doc", doc_id="999_missing")
    book = RuleBook.from_records([*records(), bad_quote, unknown_doc])
    kept, problems = verify(book, texts)
    assert len(kept) == len(book) - 2
    assert {r.id for r in kept}.isdisjoint({"wrong-quote", "no-doc"})
    assert len(problems) == 2
    assert any("'wrong-quote'" in p and "does not occur" in p and "002_fd26648b1f8121fa" in p for p in problems)
    assert any("'no-doc'" in p and "'999_missing'" in p and "not in the corpus" in p for p in problems)


def test_removing_a_document_drops_its_rules(texts: dict[str, str]) -> None:
    without_003 = {k: v for k, v in texts.items() if not k.startswith("003")}
    kept, problems = verify(default_rules(), without_003)
    dropped = [r for r in default_rules() if r.doc_id.startswith("003")]
    assert dropped and len(problems) == len(dropped)
    assert not any(r.doc_id.startswith("003") for r in kept)
    # The late-fee rate and the back-payment rate range came from article 003: nothing fills them in now.
    with pytest.raises(CalcError) as info:
        compute("late_fee", {"owed": 2000, "days": 30}, rules=kept)
    assert info.value.param == "daily_rate" and "滞纳金" in info.value.message_zh
    r = compute("late_fee", {"owed": 2000, "days": 30, "daily_rate": "万分之五"}, rules=kept)
    assert r.calculation.result == 30.00 and r.refs == ()
    assert any(a == "按您说明的日滞纳金率0.05%(万分之五)计算。" for a in r.calculation.assumptions)
    # Benefit dates lose 003's rules and keep the others.
    docs = {x["source_doc"][:3] for x in compute("benefit_dates", {"interruption_months": 4}, rules=kept)
            .calculation.details["rules"]}  # fmt: skip
    assert docs == {"000", "001", "002", "004"}


# ----------------------------------------------------------------------------- selection by region


def test_region_containment() -> None:
    assert region_contains("甘肃", "嘉峪关") and region_contains("甘肃", "甘肃嘉峪关")
    assert region_contains("甘肃嘉峪关", "嘉峪关") and region_contains("嘉峪关", "甘肃嘉峪关")
    assert not region_contains("甘肃嘉峪关", "甘肃")  # a city's rule is not the province's
    assert not region_contains("甘肃嘉峪关", "兰州") and not region_contains("兰州", "嘉峪关")
    assert not region_contains("全国", "北京") and not region_contains("火星基地", "北京")
    assert region_contains("火星基地", "火星基地")


def _ids(book: RuleBook, kind: str, regions: tuple[str, ...]) -> list[str]:
    return [r.id for r in calculator.select_rules(kind, book, regions)]


def test_a_new_citys_rule_is_selected_only_for_that_city(book_with_cities: RuleBook) -> None:
    for_lanzhou = _ids(book_with_cities, "resident_premium", ("兰州",))
    assert "lanzhou-resident-personal-2025" in for_lanzhou
    assert "002-resident-personal-2025" not in for_lanzhou  # the local figure displaces the borrowed one
    for regions in (("嘉峪关",), ("北京",), ()):
        chosen = _ids(book_with_cities, "resident_premium", regions)
        assert "lanzhou-resident-personal-2025" not in chosen, regions
        assert "002-resident-personal-2025" in chosen, regions


def test_compute_uses_the_asked_citys_rule_and_cites_it(book_with_cities: RuleBook) -> None:
    lanzhou_ref = SourceRef(LANZHOU_DOC, LANZHOU_PERSONAL["quote"])
    r = compute("resident_premium", {"persons": 2}, rules=book_with_cities, regions=("兰州",))
    assert r.calculation.result == 760.00  # 2 × 380
    assert lanzhou_ref in r.refs
    assert SourceRef("002_fd26648b1f8121fa", "每人每年400元") not in r.refs
    assert any("文章lanzhou所列2025年度标准每人每年380元" in a for a in r.calculation.assumptions)
    # Another city, or no city at all: the general/default rule (article 002's 400元), not 兰州's.
    for regions in (("嘉峪关",), ()):
        r = compute("resident_premium", {"persons": 2}, rules=book_with_cities, regions=regions)
        assert r.calculation.result == 800.00 and lanzhou_ref not in r.refs
    # Without regions the result is the shipped book's, unchanged by the new city's rule.
    plain = compute("resident_premium", {"persons": 2})
    assert compute("resident_premium", {"persons": 2}, rules=book_with_cities).calculation == plain.calculation


def test_a_citys_waiting_rule_feeds_both_waiting_kinds(book_with_cities: RuleBook) -> None:
    r = compute("resident_waiting_period", {"break_years": 3}, rules=book_with_cities, regions=("兰州",))
    assert r.calculation.result == 6  # 2 + (3 − 1) × 2
    assert r.refs == (SourceRef(LANZHOU_DOC, LANZHOU_WAIT["quote"]),)
    assert any(a.startswith("按文章lanzhou:等待2个月,每多断保1年增加2个月") for a in r.calculation.assumptions)
    assert compute("resident_waiting_period", {"break_years": 3}, rules=book_with_cities,
                   regions=("嘉峪关",)).calculation.result == 5  # fmt: skip
    c = compute("benefit_dates", {"interruption_months": 36, "insurance_type": "resident", "payment_month": "2025-05"},
                rules=book_with_cities, regions=("兰州",)).calculation  # fmt: skip
    docs = {x["source_doc"] for x in c.details["rules"]}
    assert LANZHOU_DOC in docs and "002_fd26648b1f8121fa" not in docs
    assert not {"000_991f4531c80f9026", "004_454bdba9dd17ae8d"} & docs  # general resident rules give way
    assert [x["date"] for x in c.details["rules"] if x["source_doc"] == LANZHOU_DOC] == ["2025-11"]  # +6
    # No region: every article's rule as before, not 兰州's.
    c = compute("benefit_dates", {"interruption_months": 36}, rules=book_with_cities).calculation
    assert LANZHOU_DOC not in {x["source_doc"] for x in c.details["rules"]}


def test_a_province_rule_applies_to_its_cities(book_with_cities: RuleBook) -> None:
    gansu = SourceRef(GANSU_DOC, GANSU_LATE["quote"])
    for city in ("嘉峪关", "甘肃嘉峪关", "兰州", "甘肃"):
        r = compute("late_fee", {"owed": 2000, "days": 30}, rules=book_with_cities, regions=(city,))
        assert r.calculation.result == 18.00, city  # 2000 × 万分之三 × 30
        assert r.refs[0] == gansu
        assert any("按文章gansu所列万分之三计算" in a for a in r.calculation.assumptions)
    for regions in (("天津",), ()):
        r = compute("late_fee", {"owed": 2000, "days": 30}, rules=book_with_cities, regions=regions)
        assert r.calculation.result == 30.00 and gansu not in r.refs  # the general 万分之五
    # The total of arrears and late fee reads the same rules.
    r = compute("arrears_total", {"owed": 2000, "days": 30}, rules=book_with_cities, regions=("嘉峪关",))
    assert r.calculation.result == 2018.00


def test_the_more_specific_place_wins(book_with_cities: RuleBook, texts: dict[str, str]) -> None:
    city = {**GANSU_LATE, "id": "jiayuguan-late", "doc_id": "jyg", "regions": ["嘉峪关"],
            "effect": {"daily_rate": "万分之二"}, "quote": "万分之二"}  # fmt: skip
    book = RuleBook.from_records([*records(), GANSU_LATE, city])
    assert compute("late_fee", {"owed": 10000, "days": 1}, rules=book, regions=("嘉峪关",)).calculation.result == 2.00
    assert compute("late_fee", {"owed": 10000, "days": 1}, rules=book, regions=("兰州",)).calculation.result == 3.00
    ids = _ids(book, "late_fee", ("嘉峪关",))
    assert "jiayuguan-late" in ids and "gansu-late-rate" not in ids


def test_borrowed_values_are_reported_only_for_another_region(book_with_cities: RuleBook) -> None:
    def borrowed(params: dict[str, Any], regions: tuple[str, ...], kind: str = "resident_premium") -> list[str]:
        return [r.id for r in borrowed_rules(kind, params, book_with_cities, regions)]

    assert borrowed({}, ("北京",)) == ["002-resident-personal-2025"]
    assert borrowed({}, ("甘肃",)) == ["002-resident-personal-2025"]  # a city's rule is not the province's
    assert borrowed({}, ("嘉峪关",)) == [] and borrowed({}, ()) == []
    assert borrowed({}, ("兰州",)) == []  # its own rule
    assert borrowed({"include_subsidy": True}, ("兰州",)) == ["002-resident-subsidy-2025"]
    assert borrowed({"personal": 380}, ("北京",)) == []
    assert borrowed({"break_years": 2}, ("北京",), "resident_waiting_period") == ["002-resident-wait-2025"]
    assert borrowed({"break_years": 2}, ("兰州",), "resident_waiting_period") == []
    assert borrowed({"interruption_months": 4}, ("北京",), "benefit_dates") == []  # each rule cited with its region


# ----------------------------------------------------------------------------- the answer path


@dataclass
class FakeIndex:
    """The parts of ``IndexData`` the calculation answer reads: one chunk per document."""

    documents: dict[str, dict[str, Any]]
    chunks: list[dict[str, Any]] = field(default_factory=list)
    dead: frozenset[int] = frozenset()

    @classmethod
    def of(cls, texts: dict[str, str], regions: dict[str, list[str]]) -> FakeIndex:
        docs = {d: {"text": t, "title": d, "metadata": {"regions": regions.get(d, ["全国"])}} for d, t in texts.items()}
        chunks = [{"doc_id": d, "chunk_id": f"{d}-c000", "title": d, "text": t, "start": 0, "end": len(t)}
                  for d, t in texts.items()]  # fmt: skip
        return cls(docs, chunks)


@pytest.fixture(scope="module")
def index_with_lanzhou(texts: dict[str, str]) -> FakeIndex:
    regions = {LANZHOU_DOC: ["兰州"], "002_fd26648b1f8121fa": ["甘肃嘉峪关"]}
    return FakeIndex.of({**texts, LANZHOU_DOC: LANZHOU_TEXT}, regions)


@pytest.fixture(scope="module")
def lanzhou_book() -> RuleBook:
    return RuleBook.from_records([*records(), LANZHOU_PERSONAL, LANZHOU_WAIT])


def test_the_asked_citys_rule_is_used_and_cited_without_partial(index_with_lanzhou: FakeIndex,
                                                                 lanzhou_book: RuleBook) -> None:
    u = understand("兰州一家三口的居民医保一年交多少钱?")
    assert u.regions == ("兰州",)
    ans = answer_calculation(u, index_with_lanzhou, rules=lanzhou_book)
    assert ans is not None and ans.calculation.result == 1140.00  # 3 × 380
    assert any(c.doc_id == LANZHOU_DOC for c in ans.citations)
    assert LANZHOU_PERSONAL["quote"] in ans.text
    assert foreign_defaults(u, index_with_lanzhou, rules=lanzhou_book) == []
    # Another city borrows 嘉峪关's figure, and says so; the default book knows nothing of 兰州.
    u = understand("北京一家三口的居民医保一年交多少钱?")
    ans = answer_calculation(u, index_with_lanzhou, rules=lanzhou_book)
    assert ans is not None and ans.calculation.result == 1200.00
    assert foreign_defaults(u, index_with_lanzhou, rules=lanzhou_book) == ["甘肃嘉峪关"]
    u = understand("兰州一家三口的居民医保一年交多少钱?")
    assert foreign_defaults(u, index_with_lanzhou) == ["甘肃嘉峪关"]
    assert answer_calculation(u, index_with_lanzhou).calculation.result == 1200.00  # type: ignore[union-attr]


def test_rules_whose_article_is_not_in_the_index_are_not_used(texts: dict[str, str], lanzhou_book: RuleBook) -> None:
    index = FakeIndex.of(texts, {})  # no 兰州 notice in this index
    kept = rules_for(index, lanzhou_book)
    assert kept.get("lanzhou-resident-personal-2025") is None and kept.get("002-resident-personal-2025") is not None
    u = understand("兰州一家三口的居民医保一年交多少钱?")
    ans = answer_calculation(u, index, rules=lanzhou_book)
    assert ans is not None and ans.calculation.result == 1200.00  # falls back to the documented default
    assert foreign_defaults(u, index, rules=lanzhou_book) == ["甘肃嘉峪关"]
    assert rules_for(index, lanzhou_book) is kept  # checked once per index version


def test_missing_inputs_quote_the_asked_regions_rules(index_with_lanzhou: FakeIndex, lanzhou_book: RuleBook) -> None:
    shipped = {r.quote for r in default_rules()}
    refs = rule_refs("benefit_dates", lanzhou_book)
    assert [r.doc_id[:3] for r in refs] == ["001", "003", "004"]  # as before: the general rules
    assert {r.quote for r in refs} <= shipped
    refs = rule_refs("benefit_dates", lanzhou_book, ("兰州",), {"insurance_type": "resident"})
    assert [r.doc_id[:3] for r in refs] == ["003", "004"]  # 兰州's rule is not marked: the general ones for 居民 …
    marked = RuleBook.from_records([*records(), {**LANZHOU_WAIT, "cite_when_asking": True}])
    refs = rule_refs("benefit_dates", marked, ("兰州",), {"insurance_type": "resident"})
    assert [r.doc_id for r in refs] == [LANZHOU_DOC]  # … once it is, it is the basis quoted for 兰州
    assert [r.doc_id[:3] for r in rule_refs("resident_waiting_period", marked)] == ["002"]


def test_detect_examples_follow_the_rule_book(lanzhou_book: RuleBook) -> None:
    changed = records()
    for rec in changed:
        if rec["id"] == "003-late-rate":
            rec["effect"] = {"daily_rate": "万分之三"}
            rec["examples"] = {"daily_rate": "滞纳金按日加收万分之三(未提供时按此计算)"}
    book = RuleBook.from_records(changed)
    r = detect("欠费2000元逾期30天滞纳金多少", rules=book)
    assert r is not None and [(e.param, e.value) for e in r.examples] == [("daily_rate", D("0.0003"))]
    assert r.compute(book).calculation.result == 18.00
    assert detect("欠费2000元逾期30天滞纳金多少").compute().calculation.result == 30.00  # type: ignore[union-attr]
    assert [e.value for e in examples_for("resident_premium", (), lanzhou_book, ("兰州",))] == [D(670)]


def test_benefit_rules_with_a_payment_period_or_an_end_date(texts: dict[str, str]) -> None:
    """The generic conditions: in force until a date (valid_to), or for payments in a period (paid_from/to)."""
    base = {"doc_id": LANZHOU_DOC, "kind": "benefit_dates", "regions": ["兰州"], "insurance_type": "居民",
            "quote": "重新参保后等待期为2个月"}  # fmt: skip
    until = {**base, "id": "lz-until-2024", "condition": "2024年底前缴费", "when": {"valid_to": "2024-12-31"},
             "effect": {"wait_months": 1}}  # fmt: skip
    window = {**base, "id": "lz-spring-2025", "condition": "2025年一季度缴费",
              "when": {"paid_from": "2025-01-01", "paid_to": "2025-03-31"}, "effect": {"wait_months": 2}}
    book = RuleBook.from_records([*records(), until, window])

    def waits(pay: str | None) -> set[tuple[str, int]]:
        params: dict[str, Any] = {"interruption_months": 5, "insurance_type": "resident"}
        if pay:
            params["payment_month"] = pay
        c = compute("benefit_dates", params, rules=book, regions=("兰州",)).calculation
        return {(x["rule"], x["wait_months"]) for x in c.details["rules"] if x["source_doc"] == LANZHOU_DOC}

    assert waits("2024-06") == {("2024年底前缴费", 1)}
    assert waits("2025-02") == {("2025年一季度缴费", 2)}
    assert waits("2025-06") == set()
    assert waits(None) == {("2024年底前缴费", 1)}  # a payment period cannot be judged without the date
