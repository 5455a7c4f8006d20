"""The deterministic calculator: hand-computed values, properties, sources and bad input."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qa.calculator import (
    ALL_REFS,
    DOCS,
    KINDS,
    CalcError,
    CalcResult,
    SourceRef,
    compute,
    format_money,
    format_rate,
    kinds_schema,
)
from qa.models import Calculation

RAW = Path(__file__).resolve().parent.parent / "corpus" / "raw"
D = Decimal


def raw_text(doc_id: str) -> str:
    return (RAW / f"{doc_id}.txt").read_text(encoding="utf-8")


def two_decimals(x: float) -> bool:
    return D(repr(x)) == D(repr(x)).quantize(D("0.01"))


# ----------------------------------------------------------------------------- monthly_contribution


def test_monthly_corpus_example() -> None:
    r = compute("monthly_contribution", {"base": 4340, "rate": "4%"})
    assert isinstance(r, CalcResult) and isinstance(r.calculation, Calculation)
    c = r.calculation
    assert c.kind == "monthly_contribution"
    assert c.result == 173.60
    assert c.unit == "元/月"
    assert c.formula == "4340.00 × 4% = 173.60"
    assert c.sources == []
    assert c.inputs == {"base": 4340.0, "rate": 0.04}
    assert r.sentence == "按缴费基数4340.00元、费率4%计算,每月应缴173.60元。"
    assert SourceRef("001_695d386600e1a571", "缴费基数下限为4340元,费率为4%,最低月缴费金额为173.60元") in r.refs


@pytest.mark.parametrize(
    ("base", "rate", "want"),
    [
        ("4,340元", "百分之四", 173.60),
        ("0.5万", "4.5%", 225.00),  # 5000 × 0.045
        (4494, 0.08, 359.52),  # 4494 × 8%
        ("4341", "2%", 86.82),  # 86.82 exactly
        ("1234.56", "3.3%", 40.74),  # 40.74048 → 40.74
        ("1000.5", "0.5%", 5.00),  # 5.0025 → 5.00
        ("1001", "0.5%", 5.01),  # 5.005 → half up → 5.01
    ],
)
def test_monthly_values(base: Any, rate: Any, want: float) -> None:
    assert compute("monthly_contribution", {"base": base, "rate": rate}).calculation.result == want


def test_monthly_with_months_total() -> None:
    c = compute("monthly_contribution", {"base": 4340, "rate": "4%", "months": "一年"}).calculation
    assert c.result == 2083.20  # 173.60 × 12: the asked-for total is the result
    assert c.unit == "元"
    assert c.details["monthly"] == 173.60
    assert c.details["total"] == 2083.20
    assert c.details["months"] == 12
    assert "173.60 × 12个月 = 2083.20" in c.formula


# ----------------------------------------------------------------------------- back_payment


def test_back_payment_shenzhen_example_range() -> None:
    r = compute("back_payment", {"months": 4, "wage": 8000})
    c = r.calculation
    assert c.result == 3200.00  # 4 × 8000 × 10%
    assert c.details["low"] == 3200.00
    assert c.details["high"] == 3840.00  # 4 × 8000 × 12%
    assert c.details["defaults_used"] == ["rate_low", "rate_high"]
    assert c.formula == "4 × 8000.00 × 10%~12% = 3200.00~3840.00"
    assert any("10%-12%" in a for a in c.assumptions)
    assert "3200.00~3840.00元" in r.sentence
    assert {ref.doc_id for ref in r.refs} == {"003_4866c6536e7694db"}


def test_back_payment_single_rate() -> None:
    c = compute("back_payment", {"months": "两年", "wage": "6000元", "rate": "11%"}).calculation
    assert c.result == 15840.00  # 24 × 660
    assert c.details["low"] == c.details["high"] == 15840.00
    assert c.details["defaults_used"] == []
    assert c.formula == "24 × 6000.00 × 11% = 15840.00"


def test_back_payment_custom_range() -> None:
    c = compute("back_payment", {"months": 3, "wage": 7000, "rate_low": "8%", "rate_high": "10%"}).calculation
    assert (c.result, c.details["high"]) == (1680.00, 2100.00)


def test_back_payment_rounds_per_month() -> None:
    # 3333.33 × 10% = 333.333 → 333.33 a month; × 3 = 999.99 (not round(999.999) = 1000.00).
    c = compute("back_payment", {"months": 3, "wage": "3333.33", "rate": "10%"}).calculation
    assert c.result == 999.99


# ----------------------------------------------------------------------------- late_fee


def test_late_fee_example() -> None:
    r = compute("late_fee", {"owed": 2000, "days": 30})
    c = r.calculation
    assert c.result == 30.00  # 2000 × 0.0005 × 30
    assert c.formula == "2000.00 × 0.05%(万分之五) × 30天 = 30.00"
    assert c.inputs["daily_rate"] == 0.0005
    assert any("万分之五" in a for a in c.assumptions)
    assert SourceRef("003_4866c6536e7694db", "缴纳欠费及滞纳金(按日加收万分之五)") in r.refs


def test_late_fee_employer_caused_is_zero() -> None:
    r = compute("late_fee", {"owed": 2000, "days": 30, "employer_caused": True})
    c = r.calculation
    assert c.result == 0.0
    assert "单位" in c.details["reason"]
    assert c.details["would_be"] == 30.00
    assert r.refs[0] == SourceRef("003_4866c6536e7694db", "单位补缴后,个人无需承担滞纳金")
    assert "无需承担滞纳金" in r.sentence


@pytest.mark.parametrize(
    ("params", "want"),
    [
        ({"owed": "1234.56元", "days": "两周"}, 8.64),  # 1234.56 × 0.0005 × 14 = 8.64192
        ({"owed": 173.6, "days": 90}, 7.81),  # 7.812
        ({"owed": 1000, "days": 1, "daily_rate": "千分之三"}, 3.00),
        ({"owed": 10, "days": 1}, 0.01),  # 0.005 → half up
        ({"owed": 9, "days": 1}, 0.00),  # 0.0045 → 0.00
    ],
)
def test_late_fee_values(params: dict[str, Any], want: float) -> None:
    assert compute("late_fee", params).calculation.result == want


# ----------------------------------------------------------------------------- arrears_total

REF_LATE_RATE = SourceRef("003_4866c6536e7694db", "缴纳欠费及滞纳金(按日加收万分之五)")
REF_LATE_EMPLOYER = SourceRef("003_4866c6536e7694db", "单位补缴后,个人无需承担滞纳金")


def test_arrears_total_is_owed_plus_late_fee() -> None:
    r = compute("arrears_total", {"owed": 1500, "days": 60})
    c = r.calculation
    assert c.result == 1545.00  # 1500 + 1500 × 0.0005 × 60 = 1500 + 45
    assert c.unit == "元"
    assert (c.details["owed"], c.details["late_fee"], c.details["total"]) == (1500.00, 45.00, 1545.00)
    assert c.formula == "滞纳金 1500.00 × 0.05%(万分之五) × 60天 = 45.00;合计 1500.00 + 45.00 = 1545.00"
    assert "1500.00" in r.sentence and "45.00" in r.sentence and "1545.00" in r.sentence
    assert r.refs == (REF_LATE_RATE,)
    assert any("万分之五" in a for a in c.assumptions)


def test_arrears_total_employer_caused_has_no_late_fee() -> None:
    r = compute("arrears_total", {"owed": "1500元", "days": 60, "employer_caused": True})
    c = r.calculation
    assert c.result == 1500.00
    assert c.details["late_fee"] == 0.0 and c.details["would_be"] == 45.00
    assert r.refs == (REF_LATE_RATE, REF_LATE_EMPLOYER)
    assert "无需承担滞纳金" in r.sentence and "1500.00" in r.sentence


@pytest.mark.parametrize(
    ("params", "want", "fee"),
    [
        ({"owed": "1234.56", "days": "两周"}, 1243.20, 8.64),  # 1234.56 × 0.0005 × 14 = 8.64192
        ({"owed": 2000, "days": 30, "daily_rate": "万分之三"}, 2018.00, 18.00),  # 2000 × 0.0003 × 30
        ({"owed": 10, "days": 1}, 10.01, 0.01),  # 0.005 → half up
    ],
)
def test_arrears_total_values(params: dict[str, Any], want: float, fee: float) -> None:
    c = compute("arrears_total", params).calculation
    assert (c.result, c.details["late_fee"]) == (want, fee)


@settings(max_examples=100, deadline=None)
@given(
    st.decimals(min_value=D("0.01"), max_value=D("1000000"), places=2),
    st.integers(min_value=1, max_value=3650),
    st.booleans(),
)
def test_arrears_total_matches_late_fee(owed: Decimal, days: int, employer: bool) -> None:
    params = {"owed": owed, "days": days, "employer_caused": employer}
    total = compute("arrears_total", params).calculation
    fee = compute("late_fee", params).calculation
    assert D(repr(total.result)) == owed + D(repr(fee.result))
    assert D(repr(total.details["late_fee"])) == D(repr(fee.result))


# ----------------------------------------------------------------------------- resident_premium


def test_resident_premium_stated_subsidy() -> None:
    r = compute("resident_premium", {"personal": 400, "subsidy": 670})
    c = r.calculation
    assert c.result == 1070.00
    assert c.unit == "元/年"
    assert c.details["total_monthly"] == 89.17  # 1070 / 12 = 89.1666…
    assert c.details["personal_monthly"] == 33.33  # 400 / 12 = 33.333…
    assert c.formula.startswith("(400.00 + 670.00) = 1070.00")
    assert SourceRef("003_4866c6536e7694db", "个人缴费400元+补助670元=全额1070元") in r.refs
    assert "1070.00" in r.sentence and "89.17" in r.sentence and "33.33" in r.sentence


def test_resident_premium_defaults_to_what_residents_pay() -> None:
    c = compute("resident_premium", {}).calculation
    assert c.result == 400.00  # 2025 个人缴费; the 670 subsidy is paid by the state
    assert c.details["defaults_used"] == ["personal", "persons"]
    assert c.details["per_person_with_reference_subsidy"] == 1070.00
    assert c.details["personal_monthly"] == 33.33
    assert any("400" in a for a in c.assumptions) and any("670" in a for a in c.assumptions)


def test_resident_premium_cites_the_per_person_standard_first() -> None:
    # the result rests on the per-person standard (article 002), not on article 003's worked example
    r = compute("resident_premium", {"personal": 380, "persons": 5})
    assert r.refs[0] == SourceRef("002_fd26648b1f8121fa", "每人每年400元")


def test_resident_premium_household() -> None:
    c = compute("resident_premium", {"personal": "400元", "persons": 3}).calculation
    assert c.result == 1200.00  # 3 × 400
    assert c.formula.startswith("400.00 × 3 = 1200.00")
    c = compute("resident_premium", {"personal": 380, "subsidy": 640, "persons": "2"}).calculation
    assert c.result == 2040.00  # (380 + 640) × 2
    assert c.details["per_person"] == 1020.00
    assert c.details["total_monthly"] == 85.00
    assert c.details["personal_monthly"] == 31.67  # 31.666…


# ----------------------------------------------------------------------------- resident_waiting_period


@pytest.mark.parametrize(
    ("params", "want"),
    [
        ({"extra_years": 2}, 5),  # 3 + 2 × 1
        ({"extra_years": 0}, 3),
        ({"extra_years": "两年"}, 5),
        ({"break_years": 1}, 3),  # the first year is the base
        ({"break_years": 3}, 5),
        ({"break_years": "一年半"}, 4),  # a part year counts as a year
        ({"extra_years": 2, "base_months": 2, "per_year_months": 2}, 6),
    ],
)
def test_resident_waiting_period(params: dict[str, Any], want: int) -> None:
    r = compute("resident_waiting_period", params)
    assert r.calculation.result == want
    assert r.calculation.unit == "个月"
    assert r.refs == (SourceRef("002_fd26648b1f8121fa", r.refs[0].quote),)


def test_resident_waiting_period_start_month() -> None:
    r = compute("resident_waiting_period", {"break_years": 2, "payment_month": "2025-03"})
    c = r.calculation
    assert c.result == 4  # 3 + (2 − 1) × 1: still the waiting months
    assert c.details["start_month"] == "2025-07"  # 2025-03 + 4
    assert c.inputs["payment_month"] == "2025-03"
    assert c.formula == "3 + 1 × 1 = 4;2025-03 + 4个月 = 2025-07"
    assert "2025年3月" in r.sentence and "2025年7月" in r.sentence
    assert any("等待N个月" in a for a in c.assumptions)
    assert r.refs == (SourceRef("002_fd26648b1f8121fa", r.refs[0].quote),)


@pytest.mark.parametrize(
    ("params", "start"),
    [
        ({"extra_years": 2, "payment_month": "2025-11"}, "2026-04"),  # 5 months, over the year end
        ({"break_years": 1, "payment_month": "2025年6月15日"}, "2025-09"),  # the day does not move the month
        ({"break_years": 3, "payment_month": "2025-03", "base_months": 2, "per_year_months": 2}, "2025-09"),  # 6
    ],
)
def test_resident_waiting_period_start_month_values(params: dict[str, Any], start: str) -> None:
    assert compute("resident_waiting_period", params).calculation.details["start_month"] == start


def test_resident_waiting_period_start_month_notes() -> None:
    early = compute("resident_waiting_period", {"break_years": 2, "payment_month": "2024-05"}).calculation
    assert any("早于2025年" in a for a in early.assumptions)
    r = compute("resident_waiting_period", {"break_years": 2, "payment_month": "2025-02"})
    assert any("补充缴费期" in a and "90天" in a for a in r.calculation.assumptions)
    assert any(ref.quote.startswith("在补充缴费期缴费的,设置90天待遇等待期") for ref in r.refs)
    without = compute("resident_waiting_period", {"break_years": 2}).calculation
    assert "start_month" not in without.details and "payment_month" not in without.inputs


# ----------------------------------------------------------------------------- years_to_retirement


@pytest.mark.parametrize(
    ("params", "want", "details"),
    [
        ({"paid_years": 18}, 7, {"remaining_total_years": 7, "remaining_months": 84}),
        ({"paid_years": "十八年"}, 7, {}),
        ({"paid_years": 30}, 0, {"remaining_months": 0}),
        ({"paid_years": 24, "actual_years": 2}, 3, {"remaining_total_years": 1, "remaining_actual_years": 3}),
        ({"paid_years": 20, "actual_years": 20}, 5, {"remaining_actual_years": 0}),
        ({"paid_years": 10, "required_years": 15}, 5, {}),
        ({"paid_years": "一年半"}, 23.5, {"remaining_months": 282}),
        ({"paid_years": "30个月", "required_years": "15年"}, 12.5, {}),
    ],
)
def test_years_to_retirement(params: dict[str, Any], want: float, details: dict[str, Any]) -> None:
    r = compute("years_to_retirement", params)
    assert r.calculation.result == want
    for key, value in details.items():
        assert r.calculation.details[key] == value
    # Article 001's rule (累计/实际 years at retirement) is the basis and comes first; a requirement of
    # the asker's own also cites article 000's "各省市…规定不同,例如广州…15年" right after it.
    docs = [ref.doc_id for ref in r.refs]
    assert docs[0] == "001_695d386600e1a571"
    if "required_years" in params:
        assert docs[1] == "000_991f4531c80f9026"


def test_years_sentence_and_assumption() -> None:
    r = compute("years_to_retirement", {"paid_years": 24, "actual_years": 2})
    assert r.calculation.formula == "max(25 − 24, 5 − 2) = 3"
    assert r.sentence == "已缴费24年,按累计满25年(其中实际缴费满5年)的要求,还需缴费3年(约36个月)。"
    assert any("较大者" in a for a in r.calculation.assumptions)


# ----------------------------------------------------------------------------- benefit_dates


def rules_by_doc(params: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    c = compute("benefit_dates", params).calculation
    out: dict[str, list[dict[str, Any]]] = {}
    for rule in c.details["rules"]:
        out.setdefault(rule["source_doc"][:3], []).append(rule)
    return out


def test_benefit_dates_short_interruption() -> None:
    r = compute("benefit_dates", {"payment_month": "2025-03", "interruption_months": 2})
    c = r.calculation
    assert c.result is None
    by = {(x["source_doc"][:3], x["date"]) for x in c.details["rules"]}
    assert ("001", "2025-03") in by  # 缴费当月
    assert ("003", "2025-04") in by  # 次月
    assert ("004", "2025-05") in by  # 第三个自然月
    assert ("002", "2025-06") in by  # 等待3个月
    assert not any(d == "000" for d, _ in by)  # <3 months: 000 gives no date
    assert c.details["earliest"] == "2025-03" and c.details["latest"] == "2025-06"
    assert c.details["conflict"] is True
    assert any("000" in n for n in c.details["notes"])
    assert "最早2025-03、最晚2025-06" in r.sentence


def test_benefit_dates_exactly_three_months_is_both_within_and_stopped() -> None:
    by = rules_by_doc({"payment_month": "2025-03", "interruption_months": 3})
    assert by["001"][0]["date"] == "2025-03"  # 3个月(含)以内
    assert by["003"][0]["date"] == "2025-04"
    assert [x["date"] for x in by["000"]] == ["2025-09", "2025-09"]  # 连续3个月 / 三个月以上: +6


def test_benefit_dates_long_interruption() -> None:
    by = rules_by_doc({"payment_month": "2025-03", "interruption_months": 4})
    assert by["001"][0]["date"] == "2025-06"  # 等待3个月
    dates_003 = {(x["date"], x.get("date_to")) for x in by["003"]}
    assert dates_003 == {("2025-09", None), ("2025-04", "2025-09")}  # 通常六个月; 1-6个月
    assert by["004"][0]["date"] == "2025-05"
    assert by["002"][0]["date"] == "2025-06"


def test_benefit_dates_cumulative_six_months_needs_a_year() -> None:
    by = rules_by_doc({"payment_month": "2025-03", "interruption_months": 6})
    assert "2026-03" in {x["date"] for x in by["000"]}
    by = rules_by_doc({"payment_month": "2025-03", "interruption_months": 2, "cumulative_months": 7})
    assert {x["date"] for x in by["000"]} == {"2026-03"}


@pytest.mark.parametrize(("months", "wait"), [(1, 3), (12, 3), (13, 4), (24, 4), (25, 5), (60, 7)])
def test_benefit_dates_002_extra_month_per_year(months: int, wait: int) -> None:
    by = rules_by_doc({"payment_month": "2025-01", "interruption_months": months, "supplementary": False})
    (rule,) = by["002"]
    assert rule["date"] == f"2025-{1 + wait:02d}"


def test_benefit_dates_year_rollover() -> None:
    by = rules_by_doc({"payment_month": "2025-11", "interruption_months": 5, "insurance_type": "employee"})
    assert by["001"][0]["date"] == "2026-02"
    assert {x["date"] for x in by["003"]} == {"2026-05", "2025-12"}


def test_benefit_dates_supplementary_period() -> None:
    c = compute(
        "benefit_dates", {"payment_month": "2025-01-01", "interruption_months": 1, "insurance_type": "resident"}
    ).calculation
    supp = [x for x in c.details["rules"] if "90天" in x["rule"]]
    assert supp[0]["date"] == "2025-04-01"  # the article's "最早从2025年4月1日起"
    c = compute("benefit_dates", {"payment_month": "2025-02-28", "interruption_months": 1}).calculation
    assert [x["date"] for x in c.details["rules"] if "90天" in x["rule"]] == ["2025-05-29"]
    # Month only: counted from the 1st.
    c = compute("benefit_dates", {"payment_month": "2025-02", "interruption_months": 1}).calculation
    assert [x["date"] for x in c.details["rules"] if "90天" in x["rule"]] == ["2025-05-02"]  # 2025-02-01 + 90 days
    # Outside the period, not applied unless asked for.
    c = compute("benefit_dates", {"payment_month": "2025-03", "interruption_months": 1}).calculation
    assert not [x for x in c.details["rules"] if "90天" in x["rule"]]
    params = {"payment_month": "2025-03", "interruption_months": 1, "supplementary": True}
    c = compute("benefit_dates", params).calculation
    assert [x["date"] for x in c.details["rules"] if "90天" in x["rule"]] == ["2025-05-30"]
    assert any("不在" in n for n in c.details["notes"])


def test_benefit_dates_filters_by_insurance_type() -> None:
    employee = rules_by_doc({"payment_month": "2025-03", "interruption_months": 4, "insurance_type": "职工"})
    assert set(employee) == {"001", "003", "000"}
    assert all(x["applies_to"] in {"职工", "通用"} for rules in employee.values() for x in rules)
    resident = rules_by_doc({"payment_month": "2025-03", "interruption_months": 4, "insurance_type": "居民"})
    assert set(resident) == {"003", "000", "004", "002"}
    assert all(x["applies_to"] in {"居民", "通用"} for rules in resident.values() for x in rules)


def test_benefit_dates_without_payment_month_gives_relative_waits() -> None:
    r = compute("benefit_dates", {"interruption_months": 4})
    c = r.calculation
    assert "payment_month" not in c.inputs
    waits = {(x["source_doc"][:3], x["wait_months"], x.get("wait_months_to")) for x in c.details["rules"]}
    assert waits == {
        ("001", 3, None), ("003", 6, None), ("003", 1, 6), ("000", 6, None), ("004", 2, None), ("002", 3, None),
    }  # fmt: skip
    assert all(x["date"] is None for x in c.details["rules"])
    assert (c.details["min_wait_months"], c.details["max_wait_months"]) == (1, 6)
    assert (c.details["earliest"], c.details["latest"]) == ("缴费次月", "缴费月+6个月")
    assert c.details["conflict"] is True
    assert r.sentence == (
        "医保连续中断4个月后补缴:各文章说法不一,最早缴费次月、最晚缴费月+6个月起恢复待遇,具体以当地医保部门为准。"
    )
    short = compute("benefit_dates", {"interruption_months": 2, "insurance_type": "employee"}).calculation
    assert [x["when_zh"] for x in short.details["rules"]] == ["缴费当月", "缴费次月"]


def test_benefit_dates_before_2025_skips_002() -> None:
    c = compute("benefit_dates", {"payment_month": "2024-06", "interruption_months": 4}).calculation
    assert not [x for x in c.details["rules"] if x["source_doc"].startswith("002")]
    assert any("2025" in n for n in c.details["notes"])


def test_benefit_dates_rule_shape_and_assumptions() -> None:
    r = compute("benefit_dates", {"payment_month": "2025年3月", "interruption_months": "四个月"})
    c = r.calculation
    assert c.inputs["payment_month"] == "2025-03" and c.inputs["interruption_months"] == 4
    for rule in c.details["rules"]:
        assert {"rule", "date", "source_doc", "quote", "applies_to"} <= set(rule)
        assert "wait_months" in rule or "wait_days" in rule
        assert rule["quote"] in raw_text(rule["source_doc"])
        assert rule["date"] >= "2025-03"
    assert any("第三个自然月" in a for a in c.assumptions)
    assert any("等待N个月" in a for a in c.assumptions)
    assert c.formula.startswith("缴费2025-03,连续中断4个月:")
    assert {ref.quote for ref in r.refs} == {x["quote"] for x in c.details["rules"]}


# ----------------------------------------------------------------------------- rules the asker states

PRECEDES = "优先于文章中的规定"


@pytest.mark.parametrize(
    ("kind", "params", "note"),
    [
        ("years_to_retirement", {"paid_years": 9, "required_years": 15}, "按您说明的累计缴费年限要求15年计算"),
        (
            "resident_waiting_period",
            {"break_years": 3, "base_months": 2, "per_year_months": 2},
            "按您说明的基础等待期2个月、每多断保1年增加2个月计算",
        ),
        ("resident_waiting_period", {"break_years": 3, "per_year_months": 2}, "按您说明的每多断保1年增加2个月计算"),
        ("late_fee", {"owed": 2000, "days": 30, "daily_rate": "万分之三"}, "按您说明的日滞纳金率0.03%(万分之三)计算"),
        ("arrears_total", {"owed": 2000, "days": 30, "daily_rate": "0.03%"}, "按您说明的日滞纳金率0.03%(万分之三)计算"),
        ("back_payment", {"months": 4, "wage": 6000, "rate": "11%"}, "按您说明的缴费比例11%计算"),
        (
            "back_payment",
            {"months": 4, "wage": 6000, "rate_low": "8%", "rate_high": "9%"},
            "按您说明的缴费比例8%~9%计算",
        ),
        ("monthly_contribution", {"base": 5000, "rate": "2%"}, "按您说明的缴费基数5000.00元、费率2%计算"),
        ("resident_premium", {"personal": 380}, "按您说明的个人缴费每人每年380.00元计算"),
    ],
)
def test_a_stated_rule_takes_precedence_and_says_so(kind: str, params: dict[str, Any], note: str) -> None:
    assumptions = compute(kind, params).calculation.assumptions
    assert any(a.startswith(note) and PRECEDES in a for a in assumptions), assumptions


def test_a_stated_rule_equal_to_the_article_says_so() -> None:
    c = compute("resident_waiting_period", {"extra_years": 2, "base_months": 3, "per_year_months": 1}).calculation
    assert any("按您说明的" in a and "与文章中的规定一致" in a for a in c.assumptions)
    assert not any(PRECEDES in a for a in c.assumptions)
    c = compute("late_fee", {"owed": 2000, "days": 30, "daily_rate": "万分之五"}).calculation
    assert any("与文章中的规定一致" in a for a in c.assumptions)


def test_stated_waiting_rule_changes_the_result() -> None:
    assert compute("resident_waiting_period", {"break_years": 3, "per_year_months": 2}).calculation.result == 7
    assert compute("years_to_retirement", {"paid_years": 9, "required_years": 15}).calculation.result == 6
    assert compute("late_fee", {"owed": 2000, "days": 30, "daily_rate": "万分之三"}).calculation.result == 18.00


def test_defaults_are_not_called_stated() -> None:
    for kind, params in EXAMPLE_PARAMS.items():
        if kind in ("monthly_contribution", "benefit_dates"):
            continue  # base and rate are always the asker's; benefit dates have no defaults
        assert not any("按您说明的" in a for a in compute(kind, params).calculation.assumptions), kind


# ----------------------------------------------------------------------------- sources


def test_every_declared_quote_is_verbatim_in_its_article() -> None:
    assert len(ALL_REFS) >= 20
    for ref in ALL_REFS:
        assert ref.doc_id in DOCS
        assert ref.quote in raw_text(ref.doc_id), ref


EXAMPLE_PARAMS: dict[str, dict[str, Any]] = {
    "monthly_contribution": {"base": 4340, "rate": "4%", "months": 3},
    "back_payment": {"months": 4, "wage": 8000},
    "late_fee": {"owed": 2000, "days": 30},
    "arrears_total": {"owed": 1500, "days": 60},
    "resident_premium": {},
    "resident_waiting_period": {"break_years": 2},
    "years_to_retirement": {"paid_years": 18, "actual_years": 3},
    "benefit_dates": {"payment_month": "2025-01-10", "interruption_months": 14},
}


def test_example_params_cover_every_kind() -> None:
    assert set(EXAMPLE_PARAMS) == set(KINDS)


@pytest.mark.parametrize("kind", sorted(EXAMPLE_PARAMS))
def test_every_result_quote_is_verbatim(kind: str) -> None:
    r = compute(kind, EXAMPLE_PARAMS[kind])
    assert r.refs
    for ref in r.refs:
        assert ref.quote in raw_text(ref.doc_id), ref
    assert r.sentence.endswith("。")
    assert r.calculation.sources == []
    json.dumps(r.calculation.model_dump(mode="json"), ensure_ascii=False)


def test_quotes_survive_cleaning() -> None:
    """The QA service cites cleaned text: a quote must not sit in dropped boilerplate."""
    clean = pytest.importorskip("ingest.clean")
    for ref in ALL_REFS:
        assert ref.quote in clean.clean_page(raw_text(ref.doc_id)).text, ref


# ----------------------------------------------------------------------------- KINDS


def test_kinds_schema_is_json_and_complete() -> None:
    schema = kinds_schema()
    json.dumps(schema, ensure_ascii=False)
    assert set(schema) == {
        "monthly_contribution", "back_payment", "late_fee", "arrears_total", "resident_premium",
        "resident_waiting_period", "years_to_retirement", "benefit_dates",
    }  # fmt: skip
    for kind, spec in schema.items():
        assert spec["label_zh"]
        for p in spec["params"]:
            assert p["label_zh"] and p["prompt_zh"].startswith("请")
            assert isinstance(p["required"], bool)
        required = [p["name"] for p in spec["params"] if p["required"]]
        assert required == list(KINDS[kind].required)
    assert KINDS["monthly_contribution"].required == ("base", "rate")
    assert KINDS["back_payment"].param("rate_low").default == D("0.10")
    assert schema["resident_waiting_period"]["one_of"] == [["extra_years", "break_years"]]


# ----------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("kind", "params", "param"),
    [
        ("nope", {}, "kind"),
        ("monthly_contribution", [("base", 1)], "params"),
        ("monthly_contribution", {"rate": "4%"}, "base"),
        ("monthly_contribution", {"base": 4340}, "rate"),
        ("monthly_contribution", {"base": -4340, "rate": "4%"}, "base"),
        ("monthly_contribution", {"base": 0, "rate": "4%"}, "base"),
        ("monthly_contribution", {"base": "很多钱", "rate": "4%"}, "base"),
        ("monthly_contribution", {"base": True, "rate": "4%"}, "base"),
        ("monthly_contribution", {"base": float("nan"), "rate": "4%"}, "base"),
        ("monthly_contribution", {"base": "2亿", "rate": "4%"}, "base"),
        ("monthly_contribution", {"base": 4340, "rate": 4}, "rate"),
        ("monthly_contribution", {"base": 4340, "rate": "120%"}, "rate"),
        ("monthly_contribution", {"base": 4340, "rate": "0%"}, "rate"),
        ("monthly_contribution", {"base": 4340, "rate": "4%", "bas": 1}, "bas"),
        ("back_payment", {"months": 0, "wage": 8000}, "months"),
        ("back_payment", {"months": 601, "wage": 8000}, "months"),
        ("back_payment", {"months": "51年", "wage": 8000}, "months"),
        ("back_payment", {"months": "半个月", "wage": 8000}, "months"),
        ("back_payment", {"months": "30天", "wage": 8000}, "months"),
        ("back_payment", {"months": 4}, "wage"),
        ("back_payment", {"months": 4, "wage": 8000, "rate": "10%", "rate_low": "9%"}, "rate"),
        ("back_payment", {"months": 4, "wage": 8000, "rate_low": "12%", "rate_high": "10%"}, "rate_low"),
        ("late_fee", {"owed": 2000, "days": 3651}, "days"),
        ("late_fee", {"owed": 2000, "days": -1}, "days"),
        ("late_fee", {"owed": 2000, "days": "两个月"}, "days"),
        ("late_fee", {"owed": 2000, "days": 1.5}, "days"),
        ("late_fee", {"owed": 2000, "days": 30, "employer_caused": "也许"}, "employer_caused"),
        ("late_fee", {"owed": 2000, "days": 30, "daily_rate": "200%"}, "daily_rate"),
        ("resident_premium", {"personal": -400}, "personal"),
        ("resident_premium", {"subsidy": "abc"}, "subsidy"),
        ("resident_premium", {"persons": 0}, "persons"),
        ("resident_premium", {"persons": 1.5}, "persons"),
        ("resident_premium", {"persons": 1000}, "persons"),
        ("resident_waiting_period", {}, "extra_years"),
        ("resident_waiting_period", {"extra_years": 1, "break_years": 2}, "break_years"),
        ("resident_waiting_period", {"extra_years": "半年"}, "extra_years"),
        ("resident_waiting_period", {"break_years": 2, "payment_month": "3月"}, "payment_month"),
        ("resident_waiting_period", {"break_years": 2, "payment_month": "2025-13"}, "payment_month"),
        ("arrears_total", {"days": 30}, "owed"),
        ("arrears_total", {"owed": 1500}, "days"),
        ("arrears_total", {"owed": 1500, "days": "两个月"}, "days"),
        ("arrears_total", {"owed": 1500, "days": 30, "daily_rate": "200%"}, "daily_rate"),
        ("years_to_retirement", {"paid_years": 61}, "paid_years"),
        ("years_to_retirement", {"paid_years": -1}, "paid_years"),
        ("years_to_retirement", {"paid_years": "30天"}, "paid_years"),
        ("years_to_retirement", {"paid_years": 10, "actual_years": 11}, "actual_years"),
        ("years_to_retirement", {"paid_years": 10, "required_years": 0}, "required_years"),
        ("years_to_retirement", {"paid_years": 10, "required_actual_years": 30}, "required_actual_years"),
        ("benefit_dates", {"payment_month": "3月", "interruption_months": 4}, "payment_month"),
        ("benefit_dates", {"payment_month": "2025-13", "interruption_months": 4}, "payment_month"),
        ("benefit_dates", {"payment_month": "1800-01", "interruption_months": 4}, "payment_month"),
        ("benefit_dates", {"payment_month": 202503, "interruption_months": 4}, "payment_month"),
        ("benefit_dates", {"payment_month": "2025-03"}, "interruption_months"),
        ("benefit_dates", {"payment_month": "2025-03", "interruption_months": 700}, "interruption_months"),
        (
            "benefit_dates",
            {"payment_month": "2025-03", "interruption_months": 4, "insurance_type": "x"},
            "insurance_type",
        ),
        (
            "benefit_dates",
            {"payment_month": "2025-03", "interruption_months": 4, "cumulative_months": 2},
            "cumulative_months",
        ),
    ],
)
def test_bad_input_names_the_param(kind: str, params: Any, param: str) -> None:
    with pytest.raises(CalcError) as info:
        compute(kind, params)
    err = info.value
    assert isinstance(err, ValueError)
    assert err.param == param
    assert param in str(err) and param in err.message_en
    assert err.message_zh
    assert err.to_dict()["param"] == param


def test_missing_param_message_is_the_prompt() -> None:
    with pytest.raises(CalcError) as info:
        compute("monthly_contribution", {"rate": "4%"})
    assert info.value.message_zh == "请提供缴费基数"


def test_none_and_blank_mean_absent() -> None:
    c = compute("resident_premium", {"personal": None, "subsidy": " "}).calculation
    assert c.result == 400.00


# ----------------------------------------------------------------------------- properties

money_st = st.decimals(min_value=D("0.01"), max_value=D("1000000"), places=2)
rate_st = st.decimals(min_value=D("0.0001"), max_value=D("0.3"), places=4)


@settings(max_examples=100, deadline=None)
@given(money_st, rate_st, st.integers(min_value=1, max_value=600))
def test_monthly_times_months_consistency(base: Decimal, rate: Decimal, months: int) -> None:
    monthly = compute("monthly_contribution", {"base": base, "rate": rate})
    with_months = compute("monthly_contribution", {"base": base, "rate": rate, "months": months})
    back = compute("back_payment", {"months": months, "wage": base, "rate": rate})
    m = D(repr(monthly.calculation.result))
    assert m == (base * rate).quantize(D("0.01"), rounding="ROUND_HALF_UP")
    assert D(repr(with_months.calculation.details["total"])) == m * months
    assert D(repr(back.calculation.result)) == m * months
    assert two_decimals(monthly.calculation.result)
    assert monthly.calculation.formula.endswith(format_money(m))


@settings(max_examples=100, deadline=None)
@given(money_st, st.integers(min_value=1, max_value=1825), st.integers(min_value=1, max_value=1825))
def test_late_fee_linear_in_days(owed: Decimal, d1: int, d2: int) -> None:
    def fee(days: int) -> Decimal:
        result = compute("late_fee", {"owed": owed, "days": days}).calculation.result
        assert result is not None and result >= 0 and two_decimals(result)
        return D(repr(result))

    total = fee(d1 + d2)
    assert abs(total - fee(d1) - fee(d2)) <= D("0.01")
    assert total >= max(fee(d1), fee(d2))  # monotone in days
    assert total == (owed * D("0.0005") * (d1 + d2)).quantize(D("0.01"), rounding="ROUND_HALF_UP")


@settings(max_examples=100, deadline=None)
@given(money_st, st.integers(min_value=1, max_value=600), rate_st, rate_st)
def test_back_payment_range_ordered_and_non_negative(wage: Decimal, months: int, r1: Decimal, r2: Decimal) -> None:
    low, high = sorted((r1, r2))
    c = compute("back_payment", {"months": months, "wage": wage, "rate_low": low, "rate_high": high}).calculation
    assert 0 <= c.details["low"] <= c.details["high"]
    assert c.result == c.details["low"]
    assert two_decimals(c.details["low"]) and two_decimals(c.details["high"])


@settings(max_examples=100, deadline=None)
@given(money_st, money_st)
def test_resident_premium_sum_and_monthly(personal: Decimal, subsidy: Decimal) -> None:
    c = compute("resident_premium", {"personal": personal, "subsidy": subsidy}).calculation
    assert D(repr(c.result)) == personal + subsidy
    household = compute("resident_premium", {"personal": personal, "subsidy": subsidy, "persons": 3}).calculation
    assert D(repr(household.result)) == 3 * (personal + subsidy)
    assert abs(D(repr(c.details["total_monthly"])) * 12 - (personal + subsidy)) <= D("0.06")
    assert two_decimals(c.details["total_monthly"]) and two_decimals(c.details["personal_monthly"])


@settings(max_examples=100, deadline=None)
@given(
    st.decimals(min_value=0, max_value=60, places=1),
    st.decimals(min_value=1, max_value=60, places=0),
)
def test_years_remaining_never_negative(paid: Decimal, required: Decimal) -> None:
    c = compute("years_to_retirement", {"paid_years": paid, "required_years": required, "required_actual_years": 0})
    assert c.calculation.result is not None and c.calculation.result >= 0
    assert D(repr(c.calculation.result)) == max(required - paid, D(0))


@settings(max_examples=60, deadline=None)
@given(
    st.integers(min_value=2000, max_value=2090),
    st.integers(min_value=1, max_value=12),
    st.integers(min_value=1, max_value=600),
    st.sampled_from([None, "employee", "resident"]),
)
def test_benefit_dates_never_before_payment(year: int, month: int, n: int, kind: str | None) -> None:
    params: dict[str, Any] = {"payment_month": f"{year}-{month:02d}", "interruption_months": n}
    if kind:
        params["insurance_type"] = kind
    c = compute("benefit_dates", params).calculation
    pay = f"{year}-{month:02d}"
    for rule in c.details["rules"]:
        assert rule["date"][:7] >= pay
        assert rule.get("date_to", rule["date"]) >= rule["date"]
    assert c.details["earliest"] <= c.details["latest"]


def test_format_helpers() -> None:
    assert format_money(D("173.6")) == "173.60"
    assert format_money(D("0.005")) == "0.01"
    assert format_rate(D("0.04")) == "4%"
    assert format_rate(D("0.045")) == "4.5%"
    assert format_rate(D("0.10")) == "10%"
    assert format_rate(D("0.0005")) == "0.05%(万分之五)"
    assert format_rate(D("0.0003")) == "0.03%(万分之三)"
    assert format_rate(D("0.0012")) == "0.12%(万分之十二)"
    assert format_rate(D("0.001")) == "0.1%"  # 千分之一, not 万分之十


junk = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-10**12, max_value=10**12),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(alphabet=st.sampled_from(list("0123456789.,%-年月日天个半元块万千百十一二两三点分之 abc")), max_size=12),
    st.lists(st.integers(), max_size=2),
)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(sorted(KINDS)), st.data())
def test_any_junk_input_is_a_calc_error_or_a_result(kind: str, data: st.DataObject) -> None:
    names = KINDS[kind].param_names
    params = {name: data.draw(junk) for name in data.draw(st.lists(st.sampled_from(names), unique=True))}
    try:
        r = compute(kind, params)
    except CalcError as err:
        assert err.param in (*names, "params")
        return
    json.dumps(r.calculation.model_dump(mode="json"), ensure_ascii=False)
    assert r.calculation.result is None or r.calculation.result >= 0


# ----------------------------------------------------------------------------- resident_premium: include_subsidy


def test_resident_premium_total_with_reference_subsidy() -> None:
    c = compute("resident_premium", {"include_subsidy": True, "persons": 2}).calculation
    assert c.result == 2140.00  # (400 + 670) × 2
    assert c.inputs["include_subsidy"] is True and c.inputs["subsidy"] == 670.00
    assert c.details["reference_subsidy"] == 670.00
    assert c.formula.startswith("(400.00 + 670.00) × 2 = 2140.00")
    assert any("未提供财政补助金额" in a and "670" in a for a in c.assumptions)
    assert not any("按您说明的财政补助" in a for a in c.assumptions)  # the asker did not state it


def test_resident_premium_stated_subsidy_wins_over_the_reference() -> None:
    c = compute("resident_premium", {"subsidy": 600, "include_subsidy": "是"}).calculation
    assert c.result == 1000.00
    assert any("按您说明的财政补助每人每年600.00元" in a for a in c.assumptions)


@pytest.mark.parametrize("flag", [False, "否", None])
def test_resident_premium_without_include_subsidy_is_what_residents_pay(flag: Any) -> None:
    c = compute("resident_premium", {"include_subsidy": flag, "persons": 3}).calculation
    assert c.result == 1200.00
    assert "include_subsidy" not in c.inputs and "subsidy" not in c.inputs
