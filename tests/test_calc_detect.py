"""Detecting numeric questions, their kind and their inputs."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qa.calc_detect import CalcRequest, _persons, detect
from qa.calculator import KINDS, CalcError
from qa.normalize import normalise_question

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


# ----------------------------------------------------------------------------- the way people type


def result_of(question: str, today: date | None = None) -> Any:
    r = req(question, today)
    assert r.complete, (question, r.missing)
    return r.compute().calculation.result


@pytest.mark.parametrize(
    ("question", "kind", "params", "result"),
    [
        ("我医保断了半年,工资两千五,补缴多少钱", "back_payment", {"months": 6, "wage": 2500}, 1500.00),
        ("断了一年半没交,工资三千二,补多少", "back_payment", {"months": 18, "wage": 3200}, 5760.00),
        ("断了仨月,工资三千二百,要补多少钱", "back_payment", {"months": 3, "wage": 3200}, 960.00),
        ("断了俩月 工资1万2 补缴多少", "back_payment", {"months": 2, "wage": 12000}, 2400.00),
        ("断了俩月 工资一万二 补缴多少", "back_payment", {"months": 2, "wage": 12000}, 2400.00),
        ("工资4.5k 断了3个月 补缴多少", "back_payment", {"months": 3, "wage": 4500}, 1350.00),
        ("帮我算下 工资5k 断了半年 补多少钱", "back_payment", {"months": 6, "wage": 5000}, 3000.00),
        ("医保断了一年零三个月,工资6000,补缴多少", "back_payment", {"months": 15}, 9000.00),
        ("缴费基数５２００，费率４％，每月交多少", "monthly_contribution", {"base": 5200, "rate": D("0.04")}, 208.00),
        ("基数5200块钱 费率4个点 每个月交多少", "monthly_contribution", {"base": 5200}, 208.00),
        ("基数5200元 费率百分之四 每个月交多少", "monthly_contribution", {"base": 5200}, 208.00),
        ("基数5200 费率0.04 每个月交多少", "monthly_contribution", {"rate": D("0.04")}, 208.00),
        ("欠了2000块 晚了90天 滞纳金按万分之3 多少", "late_fee", {"daily_rate": D("0.0003")}, 54.00),
        ("欠了2000块 晚了90天 滞纳金按0.05% 多少", "late_fee", {"daily_rate": D("0.0005")}, 90.00),
        ("欠了1万2 拖了45天 滞纳金多少", "late_fee", {"owed": 12000, "days": 45}, 270.00),
        ("欠了三千五 晚了二十天 滞纳金多少", "late_fee", {"owed": 3500, "days": 20}, 35.00),
        ("一家四口居民医保一年交多少", "resident_premium", {"persons": 4}, 1600.00),
        ("俩人参加居民医保,每人400,一年一共交多少", "resident_premium", {"persons": 2, "personal": 400}, 800.00),
        ("我和老婆孩子三个人 居民医保一年一共交多少", "resident_premium", {"persons": 3}, 1200.00),
        ("我和老婆两口子参加居民医保,每人380,一年一共交多少", "resident_premium", {"persons": 2}, 760.00),
        ("全家5口人新农合,每人每年400,总共多少钱", "resident_premium", {"persons": 5}, 2000.00),
    ],
)
def test_number_forms(question: str, kind: str, params: dict[str, Any], result: float) -> None:
    r = req(question)
    assert r.kind == kind
    for name, value in params.items():
        assert r.params[name] == value, (name, r.params)
    assert result_of(question) == result


def test_late_fee_days_from_months_and_days() -> None:
    r = req("欠了2000块 三个月零十天了 滞纳金多少")
    assert r.params["days"] == 100  # 3 × 30 + 10, and said so
    assert any("30天" in a and "100天" in a for a in r.assumptions)
    assert r.compute().calculation.result == 100.00
    r = req("欠了2000块 仨月了 滞纳金多少")  # months alone: still a request for days
    assert r.missing_names == ["days"]
    assert any("仨月" in a and "天数" in a for a in r.assumptions)


def test_part_month_break_counts_as_a_month() -> None:
    r = req("医保断了三个月零十天,工资6000,补缴多少")
    assert r.params["months"] == 4
    assert any("不足一个月按一个月计" in a for a in r.assumptions)
    r = req("断缴3个月零10天了,什么时候能恢复报销")
    assert (r.kind, r.params["interruption_months"]) == ("benefit_dates", 4)


# ----------------------------------------------------------------------------- arrears plus late fee


@pytest.mark.parametrize(
    ("question", "params", "result"),
    [
        ("每月交300,欠了5个月,晚了60天,连本带滞纳金一共多少", {"owed": 1500, "days": 60}, 1545.00),
        ("欠费2000元逾期30天,加上滞纳金一共要交多少", {"owed": 2000, "days": 30}, 2030.00),
        ("连本带利一共多少,欠了2000,晚了30天", {"owed": 2000}, 2030.00),
        ("补缴2000加滞纳金一共多少 逾期30天", {"owed": 2000}, 2030.00),
        ("欠费2000元逾期30天滞纳金多少,一共要交多少", {"owed": 2000}, 2030.00),
        ("欠了1500 拖了20天 公司原因 本金加滞纳金总共多少", {"employer_caused": True}, 1500.00),
        ("欠了1500 拖了20天 单位原因 本金加滞纳金总共多少", {"employer_caused": True}, 1500.00),
        ("我们这滞纳金按万分之三 欠费2000元 逾期30天 本金和滞纳金一共多少", {"daily_rate": D("0.0003")}, 2018.00),
    ],
)
def test_arrears_total_questions(question: str, params: dict[str, Any], result: float) -> None:
    r = req(question)
    assert r.kind == "arrears_total"
    for name, value in params.items():
        assert r.params[name] == value, (name, r.params)
    assert result_of(question) == result


def test_arrears_total_reads_monthly_times_months() -> None:
    r = req("每月交300,欠了5个月,晚了60天,连本带滞纳金一共多少")
    assert r.params == {"owed": D(1500), "days": D(60)}
    assert r.evidence["owed"] == "300×5个月"
    assert any("300元 × 5个月 = 1500元" in a for a in r.assumptions)
    result = r.compute()
    assert result.calculation.details["late_fee"] == 45.00
    assert "45.00" in result.sentence and "1545.00" in result.sentence
    # Without the days: ask for them; the 5 months are the arrears, not a late period to convert.
    r = req("每月交300,欠了5个月,连本带滞纳金一共多少")
    assert (r.kind, r.params, r.missing_names) == ("arrears_total", {"owed": D(1500)}, ["days"])
    assert not any("换算" in a for a in r.assumptions)
    # The same reading serves the late fee alone.
    assert result_of("每月交300,欠了5个月,晚了60天,滞纳金多少") == 45.00


def test_arrears_total_refs() -> None:
    refs = req("欠了1500 拖了20天 公司原因 本金加滞纳金总共多少").compute().refs
    assert [r.quote for r in refs] == ["缴纳欠费及滞纳金(按日加收万分之五)", "单位补缴后,个人无需承担滞纳金"]
    refs = req("欠费2000元逾期30天,加上滞纳金一共要交多少").compute().refs
    assert [r.quote for r in refs] == ["缴纳欠费及滞纳金(按日加收万分之五)"]


@pytest.mark.parametrize(
    "question",
    ["欠费2000元逾期30天滞纳金一共多少", "一共要交多少滞纳金,欠了2000,晚了30天", "欠费2000元逾期30天滞纳金多少"],
)
def test_asking_for_the_fee_alone_stays_late_fee(question: str) -> None:
    r = req(question)
    assert r.kind == "late_fee"
    assert r.compute().calculation.result == 30.00


# ----------------------------------------------------------------------------- rules the asker states


@pytest.mark.parametrize(
    ("question", "params", "result", "note"),
    [
        ("我们这要求交满15年,我交了9年,还差几年", {"required_years": 15, "paid_years": 9}, 6, "15年"),
        ("我交了9年,我们这要求交满15年,还要交几年", {"required_years": 15, "paid_years": 9}, 6, "15年"),
        ("退休要交15年 我交了9年 还差几年", {"required_years": 15, "paid_years": 9}, 6, "15年"),
        ("从2019到现在交了6年,我们这要求交满15年,还差几年", {"required_years": 15, "paid_years": 6}, 9, "15年"),
        (
            "我们这每多断一年加2个月,我断保3年了,等待期几个月",
            {"per_year_months": 2, "break_years": 3},
            7,  # 3 + (3 − 1) × 2
            "每多断保1年增加2个月",
        ),
        (
            "基础等待期2个月,每多断保1年增加1个月,我断保了3年,等待期多久",
            {"base_months": 2, "break_years": 3},
            4,  # 2 + (3 − 1) × 1
            "基础等待期2个月",
        ),
        ("我们这滞纳金按万分之三,欠了2000块,晚了30天,滞纳金多少", {"daily_rate": D("0.0003")}, 18.00, "万分之三"),
        ("我们这缴费比例是11%,断了4个月,工资6000,补缴多少", {"rate": D("0.11")}, 2640.00, "11%"),
        ("我们这费率是2%,5000的基数,每月交多少", {"rate": D("0.02"), "base": 5000}, 100.00, "费率2%"),
    ],
)
def test_stated_rules_take_precedence(question: str, params: dict[str, Any], result: float, note: str) -> None:
    r = req(question)
    for name, value in params.items():
        assert r.params[name] == value, (name, r.params)
    c = r.compute().calculation
    assert c.result == result
    stated = [a for a in c.assumptions if a.startswith("按您说明的") and "优先于文章中的规定" in a]
    assert any(note in a for a in stated), c.assumptions


def test_a_stated_requirement_is_not_the_paid_years() -> None:
    r = req("已经交满15年了退休还要交几年")  # what was paid, not the rule
    assert r.params == {"paid_years": D(15)}
    assert r.compute().calculation.result == 10  # against article 001's 25 years


# ----------------------------------------------------------------------------- which month benefits start


@pytest.mark.parametrize(
    ("question", "params", "start"),
    [
        ("居民医保断保2年,2025年3月交的费,几月份能报销", {"break_years": 2, "payment_month": "2025-03"}, "2025-07"),
        ("断保两年了 2025年3月补交的居民医保 哪个月能用", {"break_years": 2}, "2025-07"),
        ("新农合断了3年,2025-06交的,什么时候能看病报销", {"break_years": 3, "payment_month": "2025-06"}, "2025-11"),
        ("居民医保断保一年多,2025年3月交的,几月份能报销", {"break_years": 2}, "2025-07"),  # a started year counts
        (
            "我们这基础等待期2个月,每多断一年加1个月,断保3年,2025年3月交的,哪个月能报销",
            {"base_months": 2, "break_years": 3},
            "2025-07",  # 2 + 2 = 4 months
        ),
    ],
)
def test_resident_start_month(question: str, params: dict[str, Any], start: str) -> None:
    r = req(question)
    assert r.kind == "resident_waiting_period"
    for name, value in params.items():
        assert r.params[name] == value, (name, r.params)
    result = r.compute()
    assert result.calculation.details["start_month"] == start
    assert f"{int(start[:4])}年{int(start[5:])}月" in result.sentence


def test_resident_start_month_with_relative_dates() -> None:
    r = req("新农合断了两年,这个月刚交,什么时候能用", today=TODAY)
    assert (r.kind, r.params["payment_month"]) == ("resident_waiting_period", "2025-05")
    c = r.compute().calculation
    assert (c.result, c.details["start_month"]) == (4, "2025-09")
    r = req("断保两年了 3月份补交的居民医保 哪个月能用")  # no year and no today: ask, do not guess
    assert r.kind == "resident_waiting_period" and r.missing_names == ["payment_month"]
    r = req("断保两年了 3月份补交的居民医保 哪个月能用", today=TODAY)
    assert r.params["payment_month"] == "2025-03" and r.complete


@pytest.mark.parametrize(
    "question",
    [
        "2025年3月补缴的职工医保,中断了4个月,什么时候能报销",
        "居民医保断了3个月,2025年3月交的,几月份能报销",  # months, not years of 断保
        "职工医保断保2年,2025年3月交的,几月份能报销",
        "居民医保断了一年多 补缴后几个月能报销",  # no payment month
    ],
)
def test_other_when_questions_stay_benefit_dates(question: str) -> None:
    assert req(question).kind == "benefit_dates"


# ----------------------------------------------------------------------------- labels and stories


@pytest.mark.parametrize(
    ("question", "params", "result"),
    [
        ("5000的基数 4%的费率 每月交多少", {"base": 5000, "rate": D("0.04")}, 200.00),
        ("8000块工资断了4个月补多少", {"wage": 8000, "months": 4}, 3200.00),
        ("8000的工资断了4个月补多少", {"wage": 8000, "months": 4}, 3200.00),
        ("断了4个月补多少,8000块工资", {"wage": 8000, "months": 4}, 3200.00),
        ("工资8000,基数按5000交,费率4%,每月交多少", {"base": 5000}, 200.00),  # the stated base, not the pay
        ("我工资8000,当地平均工资6000,断了3个月,补缴多少", {"wage": 6000}, 1800.00),  # article 003's average
        ("费率4 基数5000 每月交多少", {"rate": D("0.04")}, 200.00),
        (
            "我今年45岁,2019年开始在单位上班,去年断了4个月,工资6000,电话13812345678,补缴多少钱",
            {"months": 4, "wage": 6000},
            2400.00,
        ),
        ("手机13812345678 断了3个月 工资5000 补交多少", {"wage": 5000}, 1500.00),
        ("45岁,断缴了4个月,月薪7000,要补多少", {"wage": 7000}, 2800.00),
        ("欠了2000块钱,我今年45岁,晚了30天,滞纳金多少", {"owed": 2000, "days": 30}, 30.00),
        ("工资6000元欠费2000元,逾期30天,滞纳金多少", {"owed": 2000}, 30.00),  # 欠费 labels the 2000, not the 6000
        ("我45岁,2019年开始交医保,一共交了6年,退休要满25年,还要交几年", {"paid_years": 6}, 19),
    ],
)
def test_labels_after_numbers_and_irrelevant_numbers(question: str, params: dict[str, Any], result: float) -> None:
    r = req(question)
    for name, value in params.items():
        assert r.params[name] == value, (name, r.params)
    assert result_of(question) == result


@pytest.mark.parametrize(
    "question",
    ["我今年45,医保断了3个月,补缴多少钱", "住院花了2万,医保断了3个月,补缴多少", "从2019到现在断了3个月,补缴多少"],
)
def test_story_numbers_are_not_the_wage(question: str) -> None:
    r = req(question)
    assert r.kind == "back_payment"
    assert "wage" not in r.params and r.missing_names == ["wage"]


def test_a_bare_rate_says_how_it_was_read() -> None:
    r = req("费率4 基数5000 每月交多少")
    assert any("未写%" in a and "4%" in a for a in r.assumptions)


def test_year_like_amounts_and_late_months() -> None:
    assert req("工资在2000左右,断了3个月,补缴多少").params["wage"] == 2000  # a wage, though 1980–2099
    r = req("每月交300,拖了2个月,滞纳金多少")  # months late, not months owed
    assert r.params == {"owed": D(300)} and r.missing_names == ["days"]


# ----------------------------------------------------------------------------- asking forms and totals


@pytest.mark.parametrize(
    ("question", "kind", "params", "result"),
    [
        # 要多少 / 得花多少 / 得掏多少 / 补缴额是多少 ask for an amount
        ("医保停了三个月 当地社平工资六千 补齐得花多少", "back_payment", {"months": 3, "wage": 6000}, 1800.00),
        ("断了5个月工资9000补缴额大概多少", "back_payment", {"months": 5, "wage": 9000}, 4500.00),
        ("断缴8个月,平均工资7500,补缴金额是多少", "back_payment", {"months": 8}, 6000.00),
        ("我们家一家三口交新农合 自己要掏多少", "resident_premium", {"persons": 3}, 1200.00),
        # a whole year of monthly contributions
        ("基数6000费率5%交一整年多少钱", "monthly_contribution", {"months": 12}, 3600.00),
        ("基数5000,费率百分之六,两整年一共交多少", "monthly_contribution", {"months": 24}, 7200.00),
        ("the whole year 基数 5000 费率 4% how much", "monthly_contribution", {"months": 12}, 2400.00),
        # the arrears with the fee: 再加上…滞纳金, 本钱加滞纳金
        ("补缴两千 再加上30天滞纳金 一共要出多少", "arrears_total", {"owed": 2000, "days": 30}, 2030.00),
        ("每个月欠260 欠了5个月 逾期40天 本钱加滞纳金多少", "arrears_total", {"owed": 1300}, 1326.00),
    ],
)
def test_asking_forms(question: str, kind: str, params: dict[str, Any], result: float) -> None:
    r = req(question)
    assert r.kind == kind
    for name, value in params.items():
        assert r.params[name] == value, (name, r.params)
    assert result_of(question) == result


@pytest.mark.parametrize(
    "question", ["补缴需要多少材料", "补贴能领多少钱", "公司补贴多少钱", "个人账户每月能拿多少", "补缴医保要多少个月的"]
)
def test_how_much_of_something_else_is_not_a_premium(question: str) -> None:
    assert detect(question) is None


def test_per_day_next_to_a_rate_is_not_the_days_late() -> None:
    r = req("滞纳金一天万分之三,欠款1800,拖了40天,滞纳金多少")
    assert r.params["daily_rate"] == D("0.0003") and r.params["days"] == 40
    assert result_of("滞纳金按万分之三一天,欠款1800,拖了40天,滞纳金多少") == 21.60
    # a day late that is not the rate's unit is still a day late
    assert req("欠了3000,滞纳金万分之五,拖了1天,滞纳金多少").params["days"] == 1


@pytest.mark.parametrize(
    "question",
    [
        "工厂一直没给我缴医保,欠费2000,晚了30天,滞纳金我要交多少",
        "厂子没给俺们交,欠了2000,拖了30天,我得出多少滞纳金",
        "my employer didn't pay, 欠费2000, 30天 late, 滞纳金多少",
    ],
)
def test_employer_caused_wordings(question: str) -> None:
    r = req(question)
    assert r.params["employer_caused"] is True
    assert r.compute().calculation.result == 0.00


# ----------------------------------------------------------------------------- the state's part of the premium


def test_stated_government_part_makes_a_resident_premium() -> None:
    r = req("个人交350 政府补600 我们三口人一共多少钱")
    assert r.kind == "resident_premium"
    assert r.params == {"personal": D(350), "subsidy": D(600), "persons": 3}
    assert r.compute().calculation.result == 2850.00


@pytest.mark.parametrize(
    ("question", "persons", "result"),
    [
        ("居民医保个人缴费加上政府补贴 一家四口合计多少钱", 4, 4280.00),
        ("居民医保算上财政补助每人一共多少", None, 1070.00),
        ("resident 居民医保 per person in 嘉峪关 2025, including the government subsidy, total?", None, 1070.00),
    ],
)
def test_total_with_the_government_part_uses_the_reference_subsidy(
    question: str, persons: int | None, result: float
) -> None:
    r = req(question)
    assert r.kind == "resident_premium"
    assert r.params.get("include_subsidy") is True and "subsidy" not in r.params
    assert r.params.get("persons") == persons and "personal" not in r.params  # 2025 is a year
    assert r.has_numbers  # a sum of the articles' figures is still a calculation
    c = r.compute().calculation
    assert c.result == result
    assert any("670" in a and "文章002" in a for a in c.assumptions)


def test_total_without_the_government_part() -> None:
    r = req("一家三口居民医保,不算政府补贴,自己出多少")
    assert "include_subsidy" not in r.params
    assert r.compute().calculation.result == 1200.00


@pytest.mark.parametrize(
    ("text", "persons"),
    [
        ("居民医保 for me + my 3 kids", 4),
        ("我和两个孩子交居民医保", 3),
        ("我和老婆还有俩娃", 4),
        ("我老婆和两个孩子", 3),  # 我 is "my" here
        ("给两个孩子交居民医保", 2),
        ("我跟爸妈还有1个孩子", 4),
        ("居民医保 my wife and me", 2),
        ("for my parents and me", 3),
    ],
)
def test_household_members(text: str, persons: int) -> None:
    found = _persons(text)
    assert found is not None and found[0] == persons


def test_a_count_of_children_is_not_the_premium() -> None:
    r = req("Jiayuguan 2025 居民医保 for me and my 2 kids, how much in total?")
    assert r.params == {"persons": 3}
    assert r.compute().calculation.result == 1200.00


# ----------------------------------------------------------------------------- stated rules and story years


def test_stated_requirement_with_actual_years() -> None:
    r = req("我们规定累计满30年、实际缴费满8年,我累计22年,实际6年,还差几年")
    assert r.params == {
        "paid_years": D(22),
        "actual_years": D(6),
        "required_years": D(30),
        "required_actual_years": D(8),
    }
    assert r.compute().calculation.result == 8  # max(30 − 22, 8 − 6)


def test_deemed_plus_actual_total_and_time_before_retiring() -> None:
    r = req("视同和实际加起来一共18年,其中实际只认了3年,离退休还有6年,按满25年、实际满5年的要求还要交几年")
    assert r.params["paid_years"] == 18 and r.params["actual_years"] == 3
    assert r.params["required_years"] == 25 and r.params["required_actual_years"] == 5
    assert r.compute().calculation.result == 7  # the 6 years before retiring are no input


def test_english_requirement_and_years_paid() -> None:
    r = req("my city requires 20年 of 职工医保 at retirement, I've paid 12年, how many more years?")
    assert r.kind == "years_to_retirement"
    assert r.params == {"paid_years": D(12), "required_years": D(20)}


def test_stated_waiting_rule_with_base_and_whole_break() -> None:
    q = "我们这等待期基本是2个月,每多断一年加2个月,我断保了整整两年,2025年3月交的,哪个月能报"
    r = req(q)
    assert r.kind == "resident_waiting_period"
    assert r.params == {"base_months": 2, "per_year_months": 2, "break_years": 2, "payment_month": "2025-03"}
    c = r.compute().calculation
    assert c.result == 4 and c.details["start_month"] == "2025-07"


@pytest.mark.parametrize(
    ("question", "break_years", "start"),
    [
        ("I missed 居民医保 for 2年 and paid in March 2025, which month can I use it?", 2, "2025-07"),
        ("I had a 3年 gap in 居民医保, paid again in Feb 2025, which month am I covered?", 3, "2025-07"),
    ],
)
def test_english_break_and_month(question: str, break_years: int, start: str) -> None:
    r = req(question)
    assert r.kind == "resident_waiting_period"
    assert r.params["break_years"] == break_years
    assert r.compute().calculation.details["start_month"] == start


def test_monthly_amount_further_back_in_the_clause() -> None:
    r = req("monthly 医保 is 400, missed 3个月, paying 60天 late, total including 滞纳金?")
    assert r.kind == "arrears_total"
    assert r.params["owed"] == 1200 and r.params["days"] == 60
    assert r.compute().calculation.result == 1236.00


def test_both_parts_asked_separately_are_not_summed() -> None:
    assert detect("居民医保个人缴费和政府补贴分别是多少") is None  # figures to look up, not to compute
    r = req("一家三口居民医保,个人缴费和政府补贴分别要多少钱")
    assert r.kind == "resident_premium" and "include_subsidy" not in r.params


# ----------------------------------------------------------------------------- issue 14, part 5 wordings


@pytest.mark.parametrize(
    ("question", "params", "result"),
    [
        # The stated 累计 total wins over a part of it given earlier with 交了.
        ("在农机站干了八年算视同缴费,后来自己交了十五年,这样累计是23年,按累计满25年的规定还要再交几年",
         {"paid_years": D(23)}, 2),
        # 实际交了 / 视同交了: the 实际/视同 of the clause names the part.
        ("要交满25年,我视同交费6年,实际交了十年,退休前还差几年", {"paid_years": D(16), "actual_years": D(10)}, 9),
        # The part named right after the number.
        ("交了8年视同 5年实际 还要几年", {"paid_years": D(13), "actual_years": D(5)}, 12),
        # A bare 要 before the years states the requirement.
        ("俺交了十七年咧 俺们这要二十年 还得几年", {"paid_years": D(17), "required_years": D(20)}, 3),
        # 还需要缴纳几年 asks for the years left.
        ("医保缴费年限:累计20年,实际3年。请问还需要缴纳几年?", {"paid_years": D(20), "actual_years": D(3)}, 5),
        ("I've paid 职工医保 for 19年; the requirement here is 20年. 几年 left?", {"required_years": D(20)}, 1),
    ],
)
def test_years_wordings(question: str, params: dict[str, Any], result: float) -> None:
    _check_reading(question, "years_to_retirement", params, result)


def _check_reading(question: str, kind: str, params: dict[str, Any], result: float) -> None:
    """The question is read as ``kind`` with these inputs, and computes ``result``."""
    r = req(question)
    assert r.kind == kind
    for name, value in params.items():
        assert r.params[name] == value, (name, r.params)
    assert r.compute().calculation.result == result


@pytest.mark.parametrize(
    ("question", "params", "result"),
    [
        ("嘉峪关居民医保断了三年 重新交了 等待期多长", {"break_years": D(3)}, 5),  # 断了N年 + 等待期
        ("嘉峪关居民医保我断保了6年 要等多久才能报销", {"break_years": D(6)}, 8),  # 断保N年 + 多久
        # The asker's base wait with words between 等待期 and its number.
        ("等待期按我们这的规定是6个月 每多断一年加2个月 断了3年 要等几个月",
         {"base_months": D(6), "per_year_months": D(2)}, 10),
    ],
)
def test_resident_wait_wordings(question: str, params: dict[str, Any], result: float) -> None:
    _check_reading(question, "resident_waiting_period", params, result)


def test_resident_wait_without_its_words_stays_benefit_dates() -> None:
    assert req("居民医保断了一年多 补缴后几个月能报销").kind == "benefit_dates"
    assert req("职工医保断保2年 要等多久才能报销").kind == "benefit_dates"


@pytest.mark.parametrize(
    ("question", "persons"),
    [("俺家俩口子加俩娃,嘉峪关居民医保一年个人得掏多少钱", 4), ("我们俩和我妈的居民医保一共交多少", 3),
     ("嘉峪关 2025 居民 医保 for a family of 5 — 多少钱 do we 缴费 ourselves in total?", 5),
     ("居民医保 4 of us 一共多少钱", 4)],
)
def test_couples_with_others_and_english_counts(question: str, persons: int) -> None:
    r = req(question)
    assert r.kind == "resident_premium"
    assert r.params["persons"] == persons and "personal" not in r.params, r.params  # the 5 is no premium
    assert r.compute().calculation.result == 400 * persons


def test_income_in_a_story_is_not_the_premium() -> None:
    r = req("一家四口在嘉峪关交居民医保。去年种地收入两万多。2025年个人缴费部分一共要交多少?")
    assert r.params == {"persons": 4}
    assert r.compute().calculation.result == 1600


@pytest.mark.parametrize(
    ("question", "owed", "result"),
    [
        ("每个月要交468。去年8月到11月有4个月忘了交,现在已经超期90天了。想一次把欠的医保和滞纳金(按每天万分之五)都交清,"
         "总共得准备多少?", 1872, 1956.24),  # 忘了交: months owed
        ("欠了医保3个月的钱 每月350 现在逾期30天 加上滞纳金一共多少钱", 1050, 1065.75),
        ("医保欠费了 一个月三百二 欠了半年 又超了一百天 连本带滞纳金得交多少钱", 1920, 2016),  # 一个月 is a label
        ("医保补缴3个月 每月300块 滞纳金按天万分之五 拖了60天 一共要交多少钱", 900, 927),
    ],
)
def test_monthly_amount_times_months_owed(question: str, owed: int, result: float) -> None:
    r = req(question)
    assert r.kind == "arrears_total"
    assert r.params["owed"] == owed, r.params
    assert r.compute().calculation.result == result


def test_the_named_rate_beside_a_share_of_pay() -> None:
    r = req("灵活就业的基数是月薪的60%我选的是4000那档 费率4% 每月扣多少")
    assert r.params["rate"] == D("0.04") and r.params["base"] == 4000


@pytest.mark.parametrize(
    ("question", "kind", "result"),
    [
        ("每个月交医保 基数是三千五百元 比例是百分之八点五 多少", "monthly_contribution", 297.5),  # bare 多少
        ("欠费一千二百五十元 逾期八十天 滞纳金", "late_fee", 50),  # inputs, then the fee asked for
        ("医保断了3个月,这边平均工资是一万一千五,补缴按10%算多少?", "back_payment", 3450),  # 算多少
        ("居民医保 一家五口 每人交380 一年共多少", "resident_premium", 1900),  # 共多少
    ],
)
def test_more_ways_of_asking_for_the_amount(question: str, kind: str, result: float) -> None:
    r = req(question)
    assert r.kind == kind
    assert r.compute().calculation.result == result


def test_an_employer_named_in_english_is_the_cause() -> None:
    r = req("my 单位 没交 my 医保 for 3个月 (¥3,600 owed), 60天 late — 多少钱 滞纳金 do I 缴费 myself?")
    assert r.params["employer_caused"] is True
    assert r.compute().calculation.result == 0


def test_english_no_cover_is_a_break() -> None:
    r = req("Jiayuguan 居民医保: no cover for 3年, paid again in Mar 2025 — which month can I claim from?")
    assert r.kind == "resident_waiting_period" and r.params["break_years"] == 3


# ----------------------------------------------------------------------------- natural wording (round 5)


@pytest.mark.parametrize(
    ("question", "kind", "params", "result"),
    [
        # 四百二 then 一家: the longest numeral start, not the unreadable run 四百二一
        ("居民医保个人一年交三百六一家四口一共多少", "resident_premium", {"personal": D(360), "persons": 4}, 1440.00),
        # 每月医保费…元 is a monthly amount (its 费 is no arrears label), × the months owed
        ("每月医保费二百五十元,欠缴三个月,逾期二十天,本金加滞纳金一共多少", "arrears_total", {"owed": D(750)}, 757.50),
        # the state's part named first, "counted too" after it
        ("嘉峪关居民医保三口人 把财政补贴也加上 一年一共多少", "resident_premium", {"include_subsidy": True}, 3210.00),
        # a period the question pays for wins over one the story tells
        ("我开出租车8年了,自己按灵活就业交,基数4500,费率8%,半年到底要交多少", "monthly_contribution",
         {"months": D(6)}, 2160.00),
        # the inputs filled in like a form ask for the sum
        ("缴费基数:5000元 费率:6% 缴费月数:3个月", "monthly_contribution", {"months": D(3)}, 900.00),
        ("灵活就业 基数5000 费率8% 交4个月多少", "monthly_contribution", {"months": D(4)}, 1600.00),
    ],
)
def test_natural_wording(question: str, kind: str, params: dict[str, Any], result: float) -> None:
    r = req(normalise_question(question).text)
    assert r.kind == kind
    for name, value in params.items():
        assert r.params[name] == value, (name, r.params)
    assert r.complete, r.missing
    assert r.compute().calculation.result == result


@pytest.mark.parametrize(
    "question",
    ["灵活就叶 基树四千八 费律百分之八 一个月叫多少", "我灵活就业,基数揀咗四千八,费率百分之八,每个月要俾几多?"],
)
def test_typed_and_cantonese_ways_of_asking_how_much(question: str) -> None:
    r = req(normalise_question(question).text)
    assert r.kind == "monthly_contribution" and r.compute().calculation.result == 384.00


def test_a_year_right_after_the_insurance_name_is_no_amount() -> None:
    r = detect(normalise_question("居民医保 2025 一家三口一共交多少").text)
    assert r is not None and r.params.get("personal") != D(2025)


@pytest.mark.parametrize("question, years", [("居民医保断了2年 重新参保要等几个月", 2),
                                             ("居民医保断了3年 从新参保以后多久能报销", 3)])
def test_rejoining_after_years_without_cover_is_article_002s_wait(question, years):
    req = detect(normalise_question(question).text, today=date(2026, 12, 7))
    assert req is not None and req.kind == "resident_waiting_period" and req.params["break_years"] == years


def test_taking_up_work_again_is_not_rejoining():
    req = detect(normalise_question("医保断了2年 又参加工作了 要等几个月才能报销").text, today=date(2026, 12, 7))
    assert req is None or req.kind != "resident_waiting_period"
