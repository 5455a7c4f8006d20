"""Hand-computed cases for eval.metrics and the strict loader in eval.questions."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from eval.metrics import (
    METRICS,
    EvalRecord,
    aggregate,
    hit_at_k,
    keyword_coverage,
    multi_source,
    normalize_text,
    numeric_correct,
    percentile,
    recall_at_k,
    reciprocal_rank,
    span_in_top_k,
    unique_in_order,
)
from eval.questions import Question, QuestionsFormatError, load_questions, parse_question

A, B, C, D = "000_aaaaaaaaaaaaaaaa", "001_bbbbbbbbbbbbbbbb", "002_cccccccccccccccc", "003_dddddddddddddddd"


# ------------------------------------------------------------------ hit@k, MRR


def test_unique_in_order():
    assert unique_in_order(["a", "b", "a", "c", "b"]) == ["a", "b", "c"]


def test_hit_at_k_counts_distinct_docs_in_citation_order():
    cited = [A, A, A, B]  # three citations of A occupy one place
    assert hit_at_k(cited, {B}, 1) == 0.0
    assert hit_at_k(cited, {B}, 2) == 1.0
    assert hit_at_k(cited, {A, C}, 1) == 1.0
    assert hit_at_k([], {A}, 5) == 0.0
    assert hit_at_k([A], set(), 5) == 0.0


def test_hit_at_k_rejects_bad_k():
    with pytest.raises(ValueError):
        hit_at_k([A], {A}, 0)


def test_reciprocal_rank():
    assert reciprocal_rank([A, B, C], {A}) == 1.0
    assert reciprocal_rank([A, A, B, C], {C}) == pytest.approx(1 / 3)  # ranks: A=1, B=2, C=3
    assert reciprocal_rank([A, B], {D}) == 0.0
    assert reciprocal_rank([A, B, C], {C}, k=2) == 0.0
    assert reciprocal_rank([B, C, A], {A, C}) == 0.5


# ------------------------------------------------------------- keyword coverage


def test_keyword_coverage_counts_groups_any_alternative():
    answer = "断缴3个月以内补缴后次月恢复医保待遇,滞纳金按日加收万分之五。"
    groups = [["次月", "当月"], ["万分之五"], ["90天"]]
    assert keyword_coverage(answer, groups) == pytest.approx(2 / 3)
    assert keyword_coverage(answer, [["当月", "次月"]]) == 1.0


def test_keyword_coverage_empty_groups_is_one():
    assert keyword_coverage("任何回答", []) == 1.0
    assert keyword_coverage("", []) == 1.0


def test_keyword_coverage_normalises_width_case_and_spaces():
    assert keyword_coverage("登录当地社保局官网或ａｐｐ", [["APP"]]) == 1.0
    assert keyword_coverage("费率为４％", [["4%"]]) == 1.0
    assert keyword_coverage("缴费 基数", [["缴费基数"]]) == 1.0
    assert normalize_text(" ＡＰＰ　支付 ") == "app支付"


def test_keyword_coverage_rejects_blank_alternatives():
    with pytest.raises(ValueError):
        keyword_coverage("abc", [[""]])
    with pytest.raises(ValueError):
        keyword_coverage("abc", [[]])


# -------------------------------------------------------------- numeric_correct


def test_numeric_correct():
    assert numeric_correct(4340 * 0.04, 173.6)  # 173.60000000000002
    assert numeric_correct(30.0, 30)
    assert numeric_correct(30.01, 30)  # exactly at tol
    assert not numeric_correct(30.02, 30)
    assert numeric_correct(3210, 3200, tol=10)
    assert not numeric_correct(None, 30)
    assert not numeric_correct(float("nan"), 30)
    assert not numeric_correct(float("inf"), 30)
    assert numeric_correct(0.0, 0)


def test_numeric_correct_missing_input_expects_no_number():
    assert numeric_correct(None, None)
    assert not numeric_correct(3200.0, None)


# ------------------------------------------------------------------- percentile


def test_percentile_hand_values():
    assert percentile([1, 2, 3, 4], 50) == 2.5  # pos 1.5
    assert percentile([15, 20, 35, 40, 50], 40) == pytest.approx(29.0)  # pos 1.6 -> 20 + 0.6 * 15
    assert percentile(range(1, 11), 95) == pytest.approx(9.55)  # pos 8.55 -> 9 + 0.55 * 1
    assert percentile([3, 1, 2], 0) == 1.0
    assert percentile([3, 1, 2], 100) == 3.0
    assert percentile([7], 95) == 7.0


def test_percentile_matches_numpy_default():
    np = pytest.importorskip("numpy")
    values = [120.0, 35.5, 80.0, 41.0, 300.0, 95.0, 61.0]
    for p in (0, 5, 25, 50, 90, 95, 99, 100):
        assert percentile(values, p) == pytest.approx(float(np.percentile(values, p)))


def test_percentile_errors():
    with pytest.raises(ValueError):
        percentile([], 50)
    with pytest.raises(ValueError):
        percentile([1, 2], 101)
    with pytest.raises(ValueError):
        percentile([1, float("nan")], 50)


# ------------------------------------------------------- retrieval benchmark metrics


def test_recall_at_k():
    ranked = ["d1", "d1", "d2", "d3", "d4"]
    assert recall_at_k(ranked, {"d2", "d4"}, 2) == 0.5  # distinct top-2: d1, d2
    assert recall_at_k(ranked, {"d2", "d4"}, 4) == 1.0
    assert recall_at_k(ranked, {"d9"}, 10) == 0.0
    with pytest.raises(ValueError):
        recall_at_k(ranked, set(), 3)


def test_span_in_top_k():
    chunks = ["医保断缴后可以补缴。", "滞纳金按日加收万分之五。", "次月恢复待遇。"]
    assert span_in_top_k(chunks, "万分之五", 2) == 1.0
    assert span_in_top_k(chunks, "万分之五", 1) == 0.0
    assert span_in_top_k(chunks, ["第三个自然月", "次月恢复"], 3) == 1.0
    assert span_in_top_k(chunks, "按日 加收", 3) == 1.0  # whitespace-insensitive
    with pytest.raises(ValueError):
        span_in_top_k(chunks, "  ", 3)


def test_multi_source():
    assert multi_source([A, A, B], 2)
    assert not multi_source([A, A, A], 2)


# ------------------------------------------------------------------ aggregation


def _q(qid, category, docs=(A,), keywords=(("次月",),), number=None, min_docs=1):
    answerable = category != "out_of_scope"
    if not answerable:
        docs, keywords = (), ()
    return Question(qid, "问题", category, answerable, tuple(docs), tuple(map(tuple, keywords)), number, min_docs)


def test_aggregate_overall_and_per_category():
    records = [
        # fact: expected A, cited B then A -> hit@1 0, hit@5 1, rr 0.5; keywords 1/2
        EvalRecord(_q("fact-001", "fact", keywords=(("次月",), ("90天",))), (B, A), "次月恢复", False, None, 100),
        # fact: cited A first -> all 1; keyword 1/1
        EvalRecord(_q("fact-002", "fact"), (A, A), "次月", False, None, 200),
        # numeric right
        EvalRecord(_q("numeric-001", "numeric", number=173.6), (A,), "次月", False, 173.6, 300),
        # numeric-missing: a number was invented -> wrong
        EvalRecord(_q("numeric-missing-001", "numeric-missing"), (A,), "次月", False, 3200.0, 400),
        # conflict: expects 2 distinct docs, cites only A; refused although answerable
        EvalRecord(_q("conflict-001", "conflict", docs=(A, B), min_docs=2), (A,), "次月", True, None, 500),
        # out of scope: one refused, one answered
        EvalRecord(_q("out_of_scope-001", "out_of_scope"), (), "", True, None, None),
        EvalRecord(_q("out_of_scope-002", "out_of_scope"), (C,), "乱答", False, None, None),
    ]
    report = aggregate(records)
    s = report.scores()
    assert set(s) == set(METRICS)
    assert report.n_questions == 7
    # answerable: fact-001, fact-002, numeric-001, numeric-missing-001, conflict-001
    assert s["doc_hit_at_1"] == pytest.approx(4 / 5)
    assert s["doc_hit_at_5"] == 1.0
    assert s["doc_mrr"] == pytest.approx((0.5 + 1 + 1 + 1 + 1) / 5)
    assert s["keyword_coverage"] == pytest.approx((0.5 + 1 + 1 + 1 + 1) / 5)
    assert s["numeric_accuracy"] == 0.5
    assert s["refusal_rate"] == 0.5
    assert s["false_refusal_rate"] == pytest.approx(1 / 5)
    assert s["multi_source_rate"] == 0.0
    assert s["latency_p50_ms"] == 300.0
    assert s["latency_p95_ms"] == pytest.approx(480.0)  # pos 3.8 over [100..500]

    cats = report.category_scores()
    assert cats["fact"]["doc_hit_at_1"] == 0.5
    assert cats["fact"]["doc_mrr"] == 0.75
    assert cats["fact"]["refusal_rate"] is None  # not applicable, not 0
    assert cats["out_of_scope"]["doc_hit_at_1"] is None
    assert cats["out_of_scope"]["latency_p50_ms"] is None
    assert cats["numeric-missing"]["numeric_accuracy"] == 0.0
    assert report.category_counts == {
        "conflict": 1,
        "fact": 2,
        "numeric": 1,
        "numeric-missing": 1,
        "out_of_scope": 2,
    }
    assert report.overall["doc_mrr"].individual_scores["fact-001"] == 0.5
    d = report.to_dict()
    assert d["overall"]["refusal_rate"] == {"score": 0.5, "n": 2}
    json.dumps(d)  # plain data


def test_aggregate_empty_and_duplicates():
    empty = aggregate([])
    assert all(v is None for v in empty.scores().values())
    rec = EvalRecord(_q("fact-001", "fact"))
    with pytest.raises(ValueError):
        aggregate([rec, rec])


# ---------------------------------------------------------------------- loader


def _line(**overrides) -> str:
    row = {
        "id": "fact-001",
        "question": "居民医保一般多久缴一次费?",
        "category": "fact",
        "answerable": True,
        "expected_docs": ["000_991f4531c80f9026"],
        "keywords": [["一年缴费一次"]],
        "expected_number": None,
        "min_distinct_docs": 1,
    }
    row.update(overrides)
    return json.dumps(row, ensure_ascii=False)


def test_load_questions_valid(tmp_path: Path):
    path = tmp_path / "q.jsonl"
    numeric = _line(id="numeric-001", category="numeric", expected_number=30, keywords=[["万分之五"]])
    oos = _line(id="out_of_scope-001", category="out_of_scope", answerable=False, expected_docs=[], keywords=[])
    path.write_text("\n".join([_line(), numeric, "", oos]) + "\n", encoding="utf-8")
    qs = load_questions(path)
    assert [q.id for q in qs] == ["fact-001", "numeric-001", "out_of_scope-001"]
    assert qs[0].keywords == (("一年缴费一次",),)
    assert qs[1].expected_number == 30.0
    with pytest.raises(AttributeError):
        qs[0].id = "x"  # type: ignore[misc]  # frozen


@pytest.mark.parametrize(
    "bad",
    [
        '{"id": "fact-002", "question": ',  # truncated JSON
        _line(id="fact-002", extra=1),  # unknown key
        _line(id="fact-002", answerable="true"),  # string, not bool
        _line(id="fact-002", keywords=[["a"], ["b"], ["c"], ["d"]]),  # too many groups
        _line(id="fact-002", keywords=[[""]]),  # blank keyword
        _line(id="fact-002", expected_docs=["003"]),  # not a doc id
        _line(id="fact-002", expected_number=5),  # number on a fact question
        _line(id="numeric-001", category="numeric"),  # numeric without a number
        _line(id="conflict-001", category="conflict"),  # conflict with min_distinct_docs 1
        _line(id="fact-002", min_distinct_docs=True),  # bool is not an int
        _line(id="fact-001"),  # duplicate id
        _line(id="procedure-001"),  # id does not match category
        _line(id="out_of_scope-001", category="out_of_scope", answerable=False),  # docs on out_of_scope
    ],
)
def test_load_questions_reports_line_number(tmp_path: Path, bad: str):
    path = tmp_path / "q.jsonl"
    path.write_text(_line() + "\n\n" + bad + "\n", encoding="utf-8")
    with pytest.raises(QuestionsFormatError) as info:
        load_questions(path)
    assert [line for line, _ in info.value.errors] == [3]
    assert f"{path}:3:" in str(info.value)


def test_load_questions_reports_every_bad_line(tmp_path: Path):
    path = tmp_path / "q.jsonl"
    path.write_text("\n".join(["not json", _line(), "[1, 2]"]), encoding="utf-8")
    with pytest.raises(QuestionsFormatError) as info:
        load_questions(path)
    assert [line for line, _ in info.value.errors] == [1, 3]


def test_parse_question_known_doc_ids():
    obj = json.loads(_line())
    assert parse_question(obj, known_doc_ids={"000_991f4531c80f9026"}).id == "fact-001"
    with pytest.raises(ValueError, match="not a known document"):
        parse_question(obj, known_doc_ids={"001_695d386600e1a571"})


def test_parse_question_rejects_non_finite_number():
    obj = json.loads(_line(id="numeric-001", category="numeric", expected_number=1))
    obj["expected_number"] = math.inf
    with pytest.raises(ValueError, match="finite"):
        parse_question(obj)
