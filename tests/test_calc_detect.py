"""Detecting numeric questions, their kind and their inputs."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qa.calc_detect import CalcRequest, detect
from qa.calculator import KINDS, CalcError

RAW = Path(__file__).resolve().parent.parent / "corpus" / "raw"
D = Decimal
TODAY = date(2025, 5, 20)


def req(question: str, today: date | None = None) -> CalcRequest:
    r = detect(question, today=today)
    assert r is not None, question
    assert not r.out_of_scope, question
    return r


# ----------------------------------------------------------------------------- complete questions → results


@pytest.mark.parametrize(
    ("question", "kind", "params", "result"),
    [
        # monthly_contribution
        ("缴费基数4340元费率4%每月交多少", "monthly_contribution", {"base": D(4340), "rate": D("0.04")}, 173.60),
        ("灵活就业缴费基数5000元,费率4%,每月医保交多少?", "monthly_contribution", {"base": D(5000)}, 200.00),
        ("灵活就业每月交多少 基数4340 费率百分之四", "monthly_contribution", {"base": D(4340)}, 173.60),
        ("基数４３４０元，费率４％，一个月交多少钱", "monthly_contribution", {"base": D(4340)}, 173.60),
        ("缴费基数4340元费率4%,一年职工医保一共交多少钱?", "monthly_contribution", {"months": D(12)}, 2083.20),
        ("基数八千块,费率8%,一年交多少钱", "monthly_contribution", {"base": D(8000), "months": D(12)}, 7680.00),
        ("按0.5万的基数 4个点的费率 每个月缴多少", "monthly_contribution", {"base": D(5000)}, 200.00),
        ("灵活就业每年交多少钱,基数4340,费率4%", "monthly_contribution", {"months": D(12)}, 2083.20),
        # back_payment
        ("断缴4个月按平均工资8000元补缴多少", "back_payment", {"months": D(4), "wage": D(8000)}, 3200.00),
        ("断缴5个月,上年度职工月平均工资7000元,缴费比例12%,要补缴多少?", "back_payment", {"rate": D("0.12")}, 4200.00),
        ("断缴6个月,当地上年度职工月平均工资5000元,按10%的比例补缴多少钱?", "back_payment", {"wage": D(5000)}, 3000.00),
        ("社保断了4个月补缴多少钱工资6000", "back_payment", {"months": D(4), "wage": D(6000)}, 2400.00),
        ("我医保断交了半年 工资八千 补交要多少钱", "back_payment", {"months": D("6.0"), "wage": D(8000)}, 4800.00),
        (
            "断了两年没交 月薪1.2万 补缴多少 比例10%-12%",
            "back_payment",
            {"months": D(24), "rate_high": D("0.12")},
            28800.00,  # 24 × 12000 × 10%
        ),
        # late_fee
        ("欠费2000元逾期30天滞纳金多少", "late_fee", {"owed": D(2000), "days": D(30)}, 30.00),
        ("单位原因断缴,欠费3000元逾期10天滞纳金多少", "late_fee", {"employer_caused": True}, 0.00),
        ("个人原因断缴医保,欠费5000元逾期60天,滞纳金要交多少?", "late_fee", {"employer_caused": False}, 150.00),
        (
            "欠缴医保费1200元,按日加收万分之五滞纳金,逾期100天要交多少滞纳金?",
            "late_fee",
            {"daily_rate": D("0.0005")},
            60.00,
        ),
        ("个人补缴医保欠费10000元,逾期15天,滞纳金多少钱?", "late_fee", {"owed": D(10000), "days": D(15)}, 75.00),
        ("欠了两千块钱逾期三十天滞纳金多少", "late_fee", {"owed": D(2000), "days": D(30)}, 30.00),
        ("公司没给我交医保 欠了1500 拖了20天 滞纳金我要出多少", "late_fee", {"employer_caused": True}, 0.00),
        ("医保欠费3000块两周了罚多少钱", "late_fee", {"days": D(14)}, 21.00),
        # resident_premium
        ("居民医保个人400财政补助670一共多少", "resident_premium", {"personal": D(400), "subsidy": D(670)}, 1070.00),
        (
            "一家三口都在嘉峪关参加居民医保,个人缴费每人每年400元,一年一共交多少?",
            "resident_premium",
            {"personal": D(400), "persons": 3},
            1200.00,
        ),
        ("新农合一家五口一年交多少钱", "resident_premium", {"persons": 5}, 2000.00),
        ("居民医保一年交多少钱啊", "resident_premium", {}, 400.00),
        ("城乡居民医保个人交380 政府补贴640 加起来多少", "resident_premium", {"subsidy": D(640)}, 1020.00),
        # years_to_retirement
        ("已经缴了18年职工医保退休要求25年还要交几年", "years_to_retirement", {"paid_years": D(18)}, 7),
        (
            "视同缴费年限10年,实际缴费年限12年,退休要累计满25年,还差几年?",
            "years_to_retirement",
            {"paid_years": D(22), "actual_years": D(12), "required_years": D(25)},
            3,
        ),
        ("广州医保最低缴费年限15年,已经缴了9年,还差几年?", "years_to_retirement", {"required_years": D(15)}, 6),
        ("我交了十八年医保还要交几年", "years_to_retirement", {"paid_years": D(18)}, 7),
        ("医保交了二十年了退休前还差多少年", "years_to_retirement", {"paid_years": D(20)}, 5),
        ("实际缴费3年 视同缴费20年 退休还要再交几年", "years_to_retirement", {"paid_years": D(23)}, 2),
        # resident_waiting_period
        (
            "居民医保待遇等待期3个月,每多断保1年增加1个月,多断保了2年,等待期一共几个月?",
            "resident_waiting_period",
            {"extra_years": D(2)},
            5,
        ),
        ("居民医保断保3年了 等待期有几个月 每多断保1年加1个月", "resident_waiting_period", {"break_years": D(3)}, 5),
    ],
)
def test_complete_questions(question: str, kind: str, params: dict[str, Any], result: float) -> None:
    r = req(question)
    assert r.kind == kind
    for name, value in params.items():
        assert r.params[name] == value, (name, r.params)
    assert r.complete, r.missing
    assert r.compute().calculation.result == result


# ----------------------------------------------------------------------------- benefit dates


def test_benefit_dates_with_date_and_length() -> None:
    r = req("2025年3月补缴的职工医保,中断了4个月,什么时候能报销")
    assert r.kind == "benefit_dates"
    assert r.params == {"payment_month": "2025-03", "interruption_months": D(4), "insurance_type": "employee"}
    c = r.compute().calculation
    assert {x["source_doc"][:3] for x in c.details["rules"]} == {"001", "003", "000"}


def test_benefit_dates_month_without_year_needs_today() -> None:
    r = req("我3月补交的医保断了五个月啥时候能报销")
    assert r.kind == "benefit_dates"
    assert "payment_month" not in r.params
    assert r.missing_names == ["payment_month"]
    r = req("我3月补交的医保断了五个月啥时候能报销", today=TODAY)
    assert r.params["payment_month"] == "2025-03"
    assert r.complete
    assert any("2025" in a for a in r.assumptions)
    assert any("2025" in a for a in r.compute().calculation.assumptions)


def test_benefit_dates_relative_words_with_today() -> None:
    r = req("医保断了4个月 这个月刚补上 下个月能用吗", today=TODAY)
    assert r.params["payment_month"] == "2025-05"
    r = req("上个月补缴的 断了两个月 什么时候恢复待遇", today=TODAY)
    assert r.params["payment_month"] == "2025-04"


@pytest.mark.parametrize(
    ("question", "params"),
    [
        ("医保断缴超过3个月,补缴后要等多久才能报销?", {"interruption_months": D(4)}),  # 超过 excludes 3
        ("医保断缴3个月以内,补缴后从什么时候开始恢复待遇?", {"interruption_months": D(3)}),
        ("职工医保断了4个月,补缴后马上就能报销吗?", {"interruption_months": D(4), "insurance_type": "employee"}),
        ("医保累计断缴6个月以后,要缴多久才能恢复待遇?", {"interruption_months": D(6), "cumulative_months": D(6)}),
        ("断交半年了现在补交下个月能用吗", {"interruption_months": D("6.0")}),
        ("居民医保断了一年多 补缴后几个月能报销", {"interruption_months": D(12), "insurance_type": "resident"}),
        ("在补充缴费期缴的居民医保 2025年1月10日交的 断了1个月 哪天能报销", {"supplementary": True}),
    ],
)
def test_benefit_dates_questions(question: str, params: dict[str, Any]) -> None:
    r = req(question)
    assert r.kind == "benefit_dates"
    for name, value in params.items():
        assert r.params[name] == value, r.params
    assert r.complete
    c = r.compute().calculation
    assert c.details["rules"]


def test_more_than_is_exclusive() -> None:
    r = req("医保断缴超过3个月,补缴后要等多久才能报销?")
    assert any("超过" in a for a in r.assumptions)
    c = r.compute().calculation
    assert any(x["rule"].startswith("中断超过3个月") for x in c.details["rules"])


def test_supplementary_rule_date_from_question() -> None:
    r = req("在补充缴费期缴的居民医保 2025年1月10日交的 断了1个月 哪天能报销")
    assert r.params["payment_month"] == "2025-01-10"
    c = r.compute().calculation
    assert "2025-04-10" in {x["date"] for x in c.details["rules"]}


# ----------------------------------------------------------------------------- missing inputs and examples


@pytest.mark.parametrize(
    ("question", "kind", "missing"),
    [
        ("断缴3个月要补缴多少钱", "back_payment", ["wage"]),
        ("按4%的费率交灵活就业医保每月交多少", "monthly_contribution", ["base"]),
        ("医保逾期没交滞纳金按万分之五算要交多少", "late_fee", ["owed", "days"]),
        ("月平均工资8000元按10%比例补缴医保要交多少钱", "back_payment", ["months"]),
        ("补缴医保要交多少钱", "back_payment", ["months", "wage"]),
        ("灵活就业医保一个月最少交多少", "monthly_contribution", ["base", "rate"]),
        ("医保欠费一天罚多少钱", "late_fee", ["owed"]),
        ("欠费两千块一个月滞纳金多少", "late_fee", ["days"]),
        ("补交完医保多久能用", "benefit_dates", ["interruption_months"]),
        ("还要交几年医保才够退休", "years_to_retirement", ["paid_years"]),
        ("居民医保等待期每多断保1年加1个月 我的等待期多久", "resident_waiting_period", ["extra_years"]),
    ],
)
def test_missing_inputs_are_prompted(question: str, kind: str, missing: list[str]) -> None:
    r = req(question)
    assert r.kind == kind
    assert r.missing_names == missing
    assert not r.complete
    prompts = {m.name: m.prompt_zh for m in r.missing}
    for name in missing:
        assert prompts[name].startswith("请")
    with pytest.raises(CalcError):
        r.compute()
    pending = r.pending_calculation()
    assert pending.result is None
    assert pending.missing == [m.prompt_zh for m in r.missing]
    assert pending.formula == KINDS[kind].formula_zh


def test_examples_are_labelled_and_never_used_as_input() -> None:
    r = req("按4%的费率交灵活就业医保每月交多少")
    assert "base" not in r.params
    (example,) = [e for e in r.examples if e.param == "base"]
    assert example.value == D(4340)
    assert "示例" in example.label_zh and "非您的数据" in example.label_zh
    assert example.ref.quote in (RAW / f"{example.ref.doc_id}.txt").read_text(encoding="utf-8")
    assert not [e for e in r.examples if e.param == "rate"]  # the user gave the rate
    details = r.pending_calculation().details["examples"]
    assert details[0]["value"] == 4340 and details[0]["doc_id"] == example.ref.doc_id

    r = req("断缴3个月要补缴多少钱")
    assert {e.param for e in r.examples} >= {"wage", "rate_low"}
    assert "wage" not in r.params
    assert [e.value for e in r.examples if e.param == "wage"] == [D(8000)]


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_example_quote_is_verbatim(kind: str) -> None:
    from qa import calc_detect

    for example in calc_detect._EXAMPLES[kind]:
        assert example.ref.quote in (RAW / f"{example.ref.doc_id}.txt").read_text(encoding="utf-8")
        assert example.param in KINDS[kind].param_names


def test_has_numbers() -> None:
    assert not req("补交完医保多久能用").has_numbers
    assert not req("公司原因断缴 滞纳金怎么算").has_numbers
    assert req("断缴3个月要补缴多少钱").has_numbers
    assert req("2025-03补缴的 什么时候恢复 断了2个月").has_numbers


def test_evidence_points_at_the_words() -> None:
    r = req("缴费基数４３４０元，费率４％，每月交多少")
    assert r.evidence["base"] == "４３４０元"
    assert r.evidence["rate"] == "４％"


# ----------------------------------------------------------------------------- out of scope


@pytest.mark.parametrize(
    ("question", "topic"),
    [
        ("信用卡逾期滞纳金怎么算", "信用卡"),
        ("信用卡滞纳金多少钱", "信用卡"),
        ("公积金断缴补缴多少", "公积金"),
        ("公积金断了3个月 补缴要多少钱", "公积金"),
        ("车险断保一年补交多少钱", "车险"),
        ("电费滞纳金怎么算?", "电费"),
        ("电费欠了200块滞纳金怎么算", "电费"),
        ("个税每个月交多少", "个税"),
        ("个人所得税怎么计算", "个税"),
        ("养老金还要交几年", "养老"),
        ("退休以后每月养老金能领多少", "养老"),
        ("养老保险断缴4个月补缴多少钱", "养老"),
        ("房贷利率现在是多少", "贷"),
        ("商业医疗保险一年交多少钱", "商业"),
        ("暖气费滞纳金怎么算", "电费"),
        ("违章罚款多少钱", "违章"),
        ("城乡居民养老保险每年交多少", "养老"),
    ],
)
def test_out_of_scope_lookalikes_are_flagged(question: str, topic: str) -> None:
    r = detect(question)
    assert r is not None and r.out_of_scope, question
    assert topic in r.scope_topic
    assert r.kind == "" and not r.complete


def test_medical_insurance_with_other_topic_stays_in_scope() -> None:
    r = req("医保和养老保险一起断了4个月,工资6000,医保补缴多少钱")
    assert r.kind == "back_payment"


def test_social_insurance_with_another_topic_is_that_topic() -> None:
    """社保 covers 养老 too; a 社保 question about 养老保险 is not calculated as 医保."""
    r = detect("社保断了3个月养老保险补缴多少钱")
    assert r is not None and r.out_of_scope and "养老" in r.scope_topic
    assert req("社保断缴3个月,工资5000,补缴多少钱").kind == "back_payment"


def test_maternity_and_instalments_are_not_refused() -> None:
    """The corpus covers 生育待遇 after a 医保 break and 分期付款 of a back payment."""
    r = req("断缴3个月后多久能享受生育津贴")
    assert r.kind == "benefit_dates" and r.params["interruption_months"] == 3
    r = req("医保断了3个月,补缴一次交不起可以分期吗,每月交多少")
    assert r.kind == "back_payment" and not r.out_of_scope


@pytest.mark.parametrize(
    "question",
    [
        # non-numeric
        "断缴了怎么补交",
        "断交了怎么补交",
        "需要什么材料",
        "医保断了咋办",
        "医宝断交了还能补交吗",
        "公积金断缴怎么补缴",
        "车险断保了怎么办",
        "职工医保断缴超过3个月还能补缴吗?",
        "断缴医保有啥后果",
        "医保断缴后以前的缴费年限会清零吗?",
        "手机上咋补交医保",
        "明天天气怎么样",
        # numeric, but nothing we calculate
        "医保报销比例是多少",
        "大病保险最高能报销多少钱?",
        "住院起付线是多少",
        "医保个人账户每月打进多少钱",
        "医保连续几个月没缴费就会停止享受待遇?",
        "医保断缴多久会停止享受待遇?",
        "医保多久不交就停了",
        "广州医保最低缴费年限是多少年?",
        "职工医保退休时累计缴费要满多少年?",
        "灵活就业人员职工医保的缴费基数下限是多少?",
        "2025年嘉峪关居民医保财政补助标准是多少?",
        "嘉峪关2025年度居民医保的集中缴费期是什么时候?",
        "职工医保补缴的费用按哪一年的标准计算?",
        "赤峰有几家三甲医院",
        "",
        "   ",
    ],
)
def test_not_a_calculation(question: str) -> None:
    assert detect(question) is None


def test_non_string_input() -> None:
    assert detect(None) is None  # type: ignore[arg-type]


# ----------------------------------------------------------------------------- robustness


@pytest.mark.parametrize(
    "question",
    [
        "断交4个月工资8000补交多少",  # no punctuation, 断交/补交 typos
        "断缴4个月，工资8000元，补缴多少钱？",  # full-width punctuation
        "我的医保断了四个月了 现在想补上 工资大概八千 要多少钱",
        "医宝断交4个月 平均工资8千 补交要交多少",
        "断缴４个月 平均工资８０００ 补缴多少",
    ],
)
def test_colloquial_back_payment(question: str) -> None:
    r = req(question)
    assert r.kind == "back_payment"
    assert r.params["months"] == 4
    assert r.params["wage"] == 8000
    assert r.compute().calculation.result == 3200.00


def test_every_complete_request_computes() -> None:
    questions = [
        "缴费基数4340元费率4%每月交多少",
        "居民医保一年交多少钱",
        "医保断缴超过3个月,补缴后要等多久才能报销?",
        "我交了十八年医保还要交几年",
        "欠费2000元逾期30天滞纳金多少",
    ]
    for q in questions:
        r = req(q)
        assert r.complete
        result = r.compute()
        assert result.refs and result.sentence


def test_deductions_and_incoming_money() -> None:
    r = req("我一个月工资5000,医保每月扣多少,费率2%")
    assert (r.kind, r.params) == ("monthly_contribution", {"base": D(5000), "rate": D("0.02")})
    assert r.compute().calculation.result == 100.00
    assert req("医保一个月多少钱").missing_names == ["base", "rate"]
    for question in ("医保报销一个月多少钱", "医保每个月能报销多少钱", "住院能报多少"):
        assert detect(question) is None, question


# ----------------------------------------------------------------------------- properties


def to_fullwidth(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


@settings(max_examples=60, deadline=None)
@given(
    st.integers(min_value=1000, max_value=60000),
    st.decimals(min_value=D("0.5"), max_value=D("20"), places=1),
    st.booleans(),
)
def test_monthly_question_round_trip(base: int, pct: Decimal, fullwidth: bool) -> None:
    text = f"缴费基数{base}元,费率{pct}%,每月交多少?"
    r = req(to_fullwidth(text) if fullwidth else text)
    assert r.params == {"base": D(base), "rate": pct / 100}
    want = (D(base) * pct / 100).quantize(D("0.01"), rounding="ROUND_HALF_UP")
    assert D(repr(r.compute().calculation.result)) == want


@settings(max_examples=60, deadline=None)
@given(st.integers(min_value=1, max_value=600), st.integers(min_value=1, max_value=3650), st.booleans())
def test_late_fee_question_round_trip(owed: int, days: int, spaces: bool) -> None:
    sep = " " if spaces else ","
    r = req(f"欠费{owed}元{sep}逾期{days}天{sep}滞纳金多少")
    assert r.params == {"owed": D(owed), "days": D(days)}
    want = (D(owed) * D("0.0005") * days).quantize(D("0.01"), rounding="ROUND_HALF_UP")
    assert D(repr(r.compute().calculation.result)) == want


@settings(max_examples=60, deadline=None)
@given(st.integers(min_value=1, max_value=120), st.integers(min_value=1000, max_value=50000))
def test_back_payment_question_round_trip(months: int, wage: int) -> None:
    r = req(f"断缴{months}个月,月平均工资{wage}元,补缴多少钱")
    assert r.params == {"months": D(months), "wage": D(wage)}
    c = r.compute().calculation
    assert D(repr(c.result)) == months * (D(wage) * D("0.10")).quantize(D("0.01"), rounding="ROUND_HALF_UP")
