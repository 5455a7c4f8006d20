"""Deterministic calculations about interrupted medical insurance (医保断缴/补缴).

Pure functions, no I/O (the rule book is read once by ``ingest.rules.default_rules``). The figures and
the passages each result rests on are not in this module: they are the rules of ``corpus/rules.toml``
(``ingest.rules``), one entry per rule of an article, each quoting its article. This module keeps the
arithmetic and the generic readings of the articles' wording (below). Each result carries the
passages it rests on as ``SourceRef`` (``quote`` is an exact substring of the article's cleaned text).

Entry point: ``compute(kind, params, rules=None, regions=()) -> CalcResult``. ``rules`` is a
``RuleBook`` (default: ``corpus/rules.toml``); ``regions`` are the places the question names: a rule
for one of them (or for a province containing it) is used before a general one, and another region's
rule only where it is marked as the documented default (see ``ingest.rules``). ``borrowed_rules`` tells
which values would come from another region's rule. ``KINDS`` describes each kind's parameters (name,
type, required, default, Chinese label and prompt) so an API can validate ``{"kind", "params"}`` and a
page can show labels; ``kinds_schema()`` is the same as plain JSON data. The defaults ``KINDS``
documents are those of the shipped rules; the values used come from the rule book.

Kinds: monthly_contribution (base × rate; with ``months`` the result is the total),
back_payment (months × wage × rate, the rule's rate range (10%–12%) by default; result = lower bound),
late_fee (owed × the daily rate (万分之五) × days; 0 when the employer caused the break and a rule
says so), arrears_total (owed + that late fee: what clearing the arrears costs),
resident_premium ((personal + subsidy) × persons; without a stated subsidy only what residents pay
themselves, unless ``include_subsidy`` asks for the total with the state's part: then the rule's
reference subsidy (670元) is used and said so), resident_waiting_period (base + per extra year without
cover (3 + 1); with a payment month also the month benefits start), years_to_retirement (against the
rule's required years, 25/5), benefit_dates (one date per rule of every article; without a payment
month the waits are relative to it).

A rule the asker states (their city's required years, waiting period, late-fee rate,
contribution rate or base) replaces the rule book's, and ``assumptions`` says
so: "按您说明的…计算,优先于文章中的规定(…)".

Arithmetic is ``decimal.Decimal`` throughout; money is rounded to 0.01 with
ROUND_HALF_UP. ``Calculation.result`` is a float made from the rounded Decimal,
formulas and sentences show the exact two-decimal strings.

How the rules' wording is read (each also appears in the result's ``assumptions``; the rules give the
numbers, e.g. article 001's "3个月(含)以内" is ``interruption_months_max = 3``):

* 以内/以上 include the number, 超过 excludes it (the usual reading in Chinese
  legal texts, cf. 民法典第1259条): "3个月(含)以内" is ≤3, "超过3个月" is >3,
  "连续3个月中断" / "三个月以上" is ≥3.
* "等待N个月" (``wait_months``) — benefits from the payment month + N (month granularity).
* "次月" — payment month + 1; "缴费当月" — the payment month itself.
* "从缴费月起的第N个自然月" (``natural_month``, 004) — the payment month counts as the first, so + N − 1.
* "连续缴费满N个月后 / 满1年后" (``paid_months``, 000) — the payment month is the first paid month,
  so benefits from + N.
* "等待N个月,每多断保1年增加M个月" (``base_months``/``per_year_months``, 002) — residents pay per
  year, so any part of a year without cover counts as a year of 断保: years = ceil(months / 12),
  waiting = N + (years − 1) × M months.
* "设置N天待遇等待期,最早从…起" (``wait_days``/``earliest``, 002) — benefits from payment date + N
  days, not before the earliest date for payments of that year (paying on 2025-01-01, the first day
  of the 补充缴费期, gives 2025-04-01, the article's "最早从2025年4月1日起"); without a day of month
  the 1st is assumed. A payment in the rule's 补充缴费期 (``when.paid_from``–``paid_to``) counts as one
  made in it unless the asker says otherwise.
"""

from __future__ import annotations

import datetime as _dt
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, Literal

from ingest.rules import EFFECTS, Rule, RuleBook, Selection, SourceRef, default_rules, rule_pairs
from qa.models import Calculation
from qa.numparse import (
    CalendarDate,
    Duration,
    parse_amount,
    parse_date,
    parse_duration,
    parse_number,
    parse_rate,
)

__all__ = [  # noqa: F822 - ALL_REFS and DOCS come from the module's __getattr__
    "ALL_REFS",
    "DOCS",
    "KINDS",
    "CalcError",
    "CalcResult",
    "KindSpec",
    "ParamSpec",
    "SourceRef",
    "borrowed_rules",
    "compute",
    "format_money",
    "format_rate",
    "kinds_schema",
    "rule_kinds",
    "select_rules",
]

# --------------------------------------------------------------------------------------
# Sources: the rule book
# --------------------------------------------------------------------------------------

# The rule kinds each calculation reads (its own first): the total of arrears and late fee uses the
# late-fee rules; one waiting rule feeds both the resident waiting period and the benefit dates.
RULE_KINDS: dict[str, tuple[str, ...]] = {
    "arrears_total": ("late_fee", "arrears_total"),
    "resident_waiting_period": ("resident_waiting_period", "benefit_dates"),
    "benefit_dates": ("benefit_dates", "resident_waiting_period"),
}
# Kinds that list every article's version rather than take one value per parameter.
LISTING_KINDS = frozenset({"benefit_dates"})
# Reference values a flag asks for: the rule's subsidy when the asker wants the total with it.
REFERENCE_PARAMS: dict[str, dict[str, str]] = {"resident_premium": {"subsidy": "include_subsidy"}}


def rule_kinds(kind: str) -> tuple[str, ...]:
    return RULE_KINDS.get(kind, (kind,))


def select_rules(kind: str, rules: RuleBook | None = None, regions: tuple[str, ...] = ()) -> Selection:
    """The rules a calculation of ``kind`` uses for a question about ``regions``."""
    book = rules if rules is not None else default_rules()
    return book.select(rule_kinds(kind), regions, listing=kind in LISTING_KINDS)


def __getattr__(name: str) -> Any:
    # ALL_REFS / DOCS: the shipped rule book's passages and articles (read on first use).
    if name == "ALL_REFS":
        return tuple(dict.fromkeys(rule.ref for rule in default_rules()))
    if name == "DOCS":
        return default_rules().doc_ids
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# --------------------------------------------------------------------------------------
# Errors and results
# --------------------------------------------------------------------------------------


class CalcError(ValueError):
    """Bad input: ``param`` names the offending parameter ("kind", "params" or a param name)."""

    def __init__(self, param: str, message_zh: str, message_en: str) -> None:
        super().__init__(message_en if message_en.startswith(param) else f"{param}: {message_en}")
        self.param = param
        self.message_zh = message_zh
        self.message_en = message_en

    def to_dict(self) -> dict[str, str]:
        return {"param": self.param, "message_zh": self.message_zh, "message_en": self.message_en}


@dataclass(frozen=True)
class CalcResult:
    """``calculation.sources`` is left empty: the QA service turns ``refs`` into citation numbers."""

    calculation: Calculation
    refs: tuple[SourceRef, ...]
    sentence: str


# --------------------------------------------------------------------------------------
# Parameter specs
# --------------------------------------------------------------------------------------

ParamType = Literal["money", "rate", "months", "count", "years", "days", "month", "bool", "choice"]

MAX_MONEY = Decimal("100000000")  # 1亿元: anything above is a typo, not a premium
MAX_MONTHS = 600
MAX_YEARS = Decimal(60)
MAX_DAYS = 3650
MIN_YEAR, MAX_YEAR = 1990, 2100


@dataclass(frozen=True)
class ParamSpec:
    name: str
    type: ParamType
    required: bool
    label_zh: str
    prompt_zh: str
    default: Any = None
    choices: tuple[str, ...] = ()
    unit_zh: str = ""
    help_zh: str = ""

    def to_dict(self) -> dict[str, Any]:
        default = self.default
        if isinstance(default, Decimal):
            default = str(default)
        return {
            "name": self.name,
            "type": self.type,
            "required": self.required,
            "label_zh": self.label_zh,
            "prompt_zh": self.prompt_zh,
            "default": default,
            "choices": list(self.choices),
            "unit_zh": self.unit_zh,
            "help_zh": self.help_zh,
        }


@dataclass(frozen=True)
class KindSpec:
    kind: str
    label_zh: str
    label_en: str
    unit: str
    formula_zh: str
    params: tuple[ParamSpec, ...]
    # Groups of optional parameters of which exactly one must be given.
    one_of: tuple[tuple[str, ...], ...] = ()

    def param(self, name: str) -> ParamSpec:
        for p in self.params:
            if p.name == name:
                return p
        raise KeyError(name)

    @property
    def param_names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.params)

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.params if p.required)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "label_zh": self.label_zh,
            "label_en": self.label_en,
            "unit": self.unit,
            "formula_zh": self.formula_zh,
            "params": [p.to_dict() for p in self.params],
            "one_of": [list(group) for group in self.one_of],
        }


_RATE_HELP = "可写4%、百分之四或0.04(小数表示比例)"
DEFAULT_DAILY_RATE = Decimal("0.0005")  # 文章003: 按日加收万分之五

KINDS: dict[str, KindSpec] = {
    spec.kind: spec
    for spec in (
        KindSpec(
            "monthly_contribution", "每月缴费金额", "monthly contribution", "元/月",
            "缴费基数 × 费率(给出月数时再 × 月数,结果为合计)",
            (
                ParamSpec("base", "money", True, "缴费基数", "请提供缴费基数", unit_zh="元"),
                ParamSpec("rate", "rate", True, "费率", "请提供缴费费率", unit_zh="%", help_zh=_RATE_HELP),
                ParamSpec(
                    "months", "months", False, "缴费月数(可选,给出时结果为合计)", "请提供缴费月数", unit_zh="个月",
                ),
            ),
        ),
        KindSpec(
            "back_payment", "补缴金额", "back payment", "元", "断缴月数 × 月缴费基数(上年度职工月平均工资) × 缴费比例",
            (
                ParamSpec("months", "months", True, "断缴月数", "请提供断缴了几个月", unit_zh="个月"),
                ParamSpec(
                    "wage", "money", True, "上年度职工月平均工资(或月缴费基数)",
                    "请提供当地上年度职工月平均工资或您的缴费基数", unit_zh="元",
                ),
                ParamSpec(
                    "rate", "rate", False, "缴费比例(单位+个人合计,已知确切比例时填写)", "请提供缴费比例",
                    unit_zh="%", help_zh=_RATE_HELP,
                ),
                ParamSpec(
                    "rate_low", "rate", False, "缴费比例下限", "请提供缴费比例下限", Decimal("0.10"), unit_zh="%",
                    help_zh="默认10%(文章003:单位+个人合计10%-12%)",
                ),
                ParamSpec(
                    "rate_high", "rate", False, "缴费比例上限", "请提供缴费比例上限", Decimal("0.12"), unit_zh="%",
                    help_zh="默认12%(文章003:单位+个人合计10%-12%)",
                ),
            ),
        ),
        KindSpec(
            "late_fee", "滞纳金", "late fee", "元", "欠费金额 × 日滞纳金率 × 天数",
            (
                ParamSpec("owed", "money", True, "欠费金额", "请提供欠缴的医保费金额", unit_zh="元"),
                ParamSpec("days", "days", True, "欠费天数", "请提供欠费天数(滞纳金按日计算)", unit_zh="天"),
                ParamSpec(
                    "daily_rate", "rate", False, "日滞纳金率", "请提供每日滞纳金比例", DEFAULT_DAILY_RATE,
                    unit_zh="%", help_zh="默认万分之五(文章003)",
                ),
                ParamSpec(
                    "employer_caused", "bool", False, "是否因单位原因断缴", "请说明是否因单位原因断缴", False,
                    help_zh="单位补缴后,个人无需承担滞纳金(文章003)",
                ),
            ),
        ),
        KindSpec(
            "arrears_total", "欠费加滞纳金合计", "arrears plus late fee", "元",
            "欠费金额 + 欠费金额 × 日滞纳金率 × 天数(单位原因断缴时滞纳金为0)",
            (
                ParamSpec(
                    "owed", "money", True, "欠费金额", "请提供欠缴的医保费金额(或每月金额和欠缴月数)", unit_zh="元",
                ),
                ParamSpec("days", "days", True, "欠费天数", "请提供欠费天数(滞纳金按日计算)", unit_zh="天"),
                ParamSpec(
                    "daily_rate", "rate", False, "日滞纳金率", "请提供每日滞纳金比例", DEFAULT_DAILY_RATE,
                    unit_zh="%", help_zh="默认万分之五(文章003)",
                ),
                ParamSpec(
                    "employer_caused", "bool", False, "是否因单位原因断缴", "请说明是否因单位原因断缴", False,
                    help_zh="单位补缴后,个人无需承担滞纳金(文章003),合计只含欠费",
                ),
            ),
        ),
        KindSpec(
            "resident_premium", "居民医保年缴费", "resident premium", "元/年", "(个人缴费 + 财政补助) × 人数",
            (
                ParamSpec(
                    "personal", "money", False, "个人缴费(每人每年)", "请提供个人每年缴费金额", Decimal("400"),
                    unit_zh="元", help_zh="默认400元(文章002、003:2025年度每人每年400元)",
                ),
                ParamSpec(
                    "subsidy", "money", False, "财政补助(每人每年,可选)", "请提供财政补助金额",
                    unit_zh="元", help_zh="不填则只算个人缴纳部分;文章002:财政补助不低于670元",
                ),
                ParamSpec(
                    "include_subsidy", "bool", False, "合计是否含财政补助", "请说明合计是否包含财政补助",
                    help_zh="是:未填财政补助时按文章002的670元计入合计;不填或否:只算个人缴纳部分",
                ),
                ParamSpec("persons", "count", False, "参保人数", "请提供参保人数", 1, unit_zh="人"),
            ),
        ),
        KindSpec(
            "years_to_retirement", "退休前还需缴费年限", "years still to pay", "年",
            "max(要求累计年限 − 已缴年限, 要求实际年限 − 实际已缴年限)",
            (
                ParamSpec(
                    "paid_years", "years", True, "已缴费年限(视同+实际累计)", "请提供已经缴费的年限", unit_zh="年",
                ),
                ParamSpec("actual_years", "years", False, "其中实际缴费年限", "请提供实际缴费年限", unit_zh="年"),
                ParamSpec(
                    "required_years", "years", False, "要求的累计缴费年限", "请提供当地要求的缴费年限", Decimal(25),
                    unit_zh="年", help_zh="默认25年(文章001);各地不同,如15年(文章003)",
                ),
                ParamSpec(
                    "required_actual_years", "years", False, "其中要求的实际缴费年限", "请提供要求的实际缴费年限",
                    Decimal(5), unit_zh="年", help_zh="默认5年(文章001)",
                ),
            ),
        ),
        KindSpec(
            "resident_waiting_period", "居民医保待遇等待期", "resident waiting period", "个月",
            "基础等待期 + 多断保年数 × 每年增加月数",
            (
                ParamSpec(
                    "extra_years", "years", False, "多断保的年数", "请提供多断保了几年(或断保总年数)", unit_zh="年",
                    help_zh="“每多断保1年”中的多断保年数;与断保年数二选一",
                ),
                ParamSpec(
                    "break_years", "years", False, "断保年数", "请提供断保了几年", unit_zh="年",
                    help_zh="断保总年数,第一年对应基础等待期,多断保年数 = 断保年数 − 1",
                ),
                ParamSpec(
                    "base_months", "months", False, "基础等待期", "请提供基础等待期月数", 3, unit_zh="个月",
                    help_zh="默认3个月(文章002)",
                ),
                ParamSpec(
                    "per_year_months", "months", False, "每多断保1年增加的月数", "请提供每年增加的月数", 1,
                    unit_zh="个月", help_zh="默认1个月(文章002)",
                ),
                ParamSpec(
                    "payment_month", "month", False, "缴费时间(年月,可选)", "请提供缴费的年月,如2025-03",
                    help_zh="给出时另算开始享受待遇的月份 = 缴费月 + 等待期",
                ),
            ),
            one_of=(("extra_years", "break_years"),),
        ),
        KindSpec(
            "benefit_dates", "待遇恢复时间", "benefit dates", "日期", "缴费月 + 各文章规定的等待期",
            (
                ParamSpec(
                    "payment_month", "month", False, "补缴/缴费时间(年月,可含日)", "请提供补缴(缴费)的年月,如2025-03",
                    help_zh="YYYY-MM 或 YYYY-MM-DD;不填则只给出相对缴费月的等待时间",
                ),
                ParamSpec(
                    "interruption_months", "months", True, "连续中断月数", "请提供医保中断(断缴)了几个月",
                    unit_zh="个月",
                ),
                ParamSpec(
                    "cumulative_months", "months", False, "累计中断月数(可选)", "请提供累计中断了几个月",
                    unit_zh="个月", help_zh="不填则等于连续中断月数",
                ),
                ParamSpec(
                    "insurance_type", "choice", False, "参保类型", "请说明是职工医保还是居民医保",
                    choices=("employee", "resident"),
                    help_zh="employee=职工医保(含灵活就业),resident=居民医保;不填则列出全部规定",
                ),
                ParamSpec(
                    "supplementary", "bool", False, "是否在补充缴费期缴费(居民医保)", "请说明是否在补充缴费期缴费",
                    help_zh="不填时:居民医保且缴费日期在2025年1月1日至2月28日之间即视为补充缴费期",
                ),
            ),
        ),
    )
}  # fmt: skip


def kinds_schema() -> dict[str, Any]:
    """``KINDS`` as plain JSON-serialisable data, for ``GET``-style discovery endpoints and pages."""
    return {name: spec.to_dict() for name, spec in KINDS.items()}


# --------------------------------------------------------------------------------------
# Formatting
# --------------------------------------------------------------------------------------

_CENT = Decimal("0.01")


def money(value: Decimal) -> Decimal:
    return value.quantize(_CENT, rounding=ROUND_HALF_UP)


def format_money(value: Decimal) -> str:
    """Two decimals, no thousands separators: ``4340.00``."""
    return f"{money(value):.2f}"


def _plain(value: Decimal) -> str:
    """A Decimal without exponent or trailing zeros: 4.50 → "4.5", 4E+1 → "40"."""
    text = format(value.normalize(), "f")
    return text


_CN_DIGITS = "零一二三四五六七八九"


def _cn_small(n: int) -> str:
    """1…99 as a Chinese numeral, for 万分之N: 3 → 三, 10 → 十, 25 → 二十五."""
    tens, ones = divmod(n, 10)
    head = ("" if tens == 1 else _CN_DIGITS[tens]) + "十" if tens else ""
    return head + (_CN_DIGITS[ones] if ones else "")


def format_rate(rate: Decimal) -> str:
    """0.04 → "4%", 0.045 → "4.5%", 0.0005 → "0.05%(万分之五)", 0.0003 → "0.03%(万分之三)".

    Daily late-fee rates are stated as 万分之N in the articles and by askers, so they are
    shown that way too.
    """
    text = f"{_plain(rate * 100)}%"
    per_10k = rate * 10000
    if per_10k == per_10k.to_integral_value() and 1 <= per_10k <= 99 and per_10k % 10:  # 0.1% is 千分之一
        text += f"(万分之{_cn_small(int(per_10k))})"
    return text


def _stated(what: str, article: str | None, same: bool = False) -> str:
    """An assumption line for a rule the asker stated: it is used instead of the article's."""
    if article is None:  # no rule in the rule book to compare with
        return f"按您说明的{what}计算。"
    if same:
        return f"按您说明的{what}计算,与文章中的规定一致({article})。"
    return f"按您说明的{what}计算,优先于文章中的规定({article})。"


def _num_out(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


# --------------------------------------------------------------------------------------
# Input coercion
# --------------------------------------------------------------------------------------


def _err(spec: ParamSpec, zh: str, en: str) -> CalcError:
    return CalcError(spec.name, f"{spec.label_zh}:{zh}", f"{spec.name}: {en}")


def _to_decimal(spec: ParamSpec, value: Any, parser: Callable[[str], Decimal | None] | None) -> Decimal:
    if isinstance(value, bool):
        raise _err(spec, "应为数值,而不是是/否", "expected a number, got a boolean")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise _err(spec, "不是有效数值", "not a finite number")
        result = Decimal(repr(value))
    elif isinstance(value, str):
        parsed = parser(value) if parser else None
        if parsed is None:
            parsed = parse_number(value)
        if parsed is None:
            raise _err(spec, f"无法识别“{value}”", f"cannot read {value!r} as a number")
        result = parsed
    else:
        raise _err(spec, "应为数值", f"expected a number, got {type(value).__name__}")
    if not result.is_finite():
        raise _err(spec, "不是有效数值", "not a finite number")
    return result


def _coerce_money(spec: ParamSpec, value: Any, allow_zero: bool = False) -> Decimal:
    amount = _to_decimal(spec, value, parse_amount)
    if amount < 0 or (amount == 0 and not allow_zero):
        raise _err(spec, "金额必须大于0", "amount must be greater than 0")
    if amount > MAX_MONEY:
        raise _err(spec, "金额过大(超过1亿元)", "amount is implausibly large (over 100,000,000)")
    return amount


def _coerce_rate(spec: ParamSpec, value: Any) -> Decimal:
    rate = _to_decimal(spec, value, parse_rate)
    if rate <= 0:
        raise _err(spec, "比例必须大于0", "rate must be greater than 0")
    if rate > 1:
        raise _err(
            spec,
            "比例不能超过100%;若指4%,请写作“4%”或0.04",
            "rate must not exceed 100%; write 4% as \"4%\" or 0.04",
        )
    return rate


def _duration_or_number(spec: ParamSpec, value: Any) -> Duration | Decimal:
    if isinstance(value, str):
        duration = parse_duration(value)
        if duration is not None:
            return duration
    return _to_decimal(spec, value, None)


def _coerce_months(spec: ParamSpec, value: Any) -> int:
    got = _duration_or_number(spec, value)
    if isinstance(got, Duration):
        months = got.months
        if months is None:
            raise _err(spec, "请以月或年为单位", "give the length in months or years")
    else:
        months = got
    if months <= 0:
        raise _err(spec, "月数必须大于0", "number of months must be greater than 0")
    if months != months.to_integral_value():
        raise _err(spec, "月数须为整月", "number of months must be whole")
    if months > MAX_MONTHS:
        raise _err(spec, f"月数过大(超过{MAX_MONTHS}个月)", f"more than {MAX_MONTHS} months is implausible")
    return int(months)


def _coerce_years(spec: ParamSpec, value: Any) -> Decimal:
    got = _duration_or_number(spec, value)
    if isinstance(got, Duration):
        years = got.years
        if years is None:
            raise _err(spec, "请以年或月为单位", "give the length in years or months")
    else:
        years = got
    if years < 0:
        raise _err(spec, "年限不能为负数", "number of years must not be negative")
    if years > MAX_YEARS:
        raise _err(spec, f"年限过大(超过{MAX_YEARS}年)", f"more than {MAX_YEARS} years is implausible")
    return years


def _coerce_days(spec: ParamSpec, value: Any) -> int:
    got = _duration_or_number(spec, value)
    if isinstance(got, Duration):
        days = got.days
        if days is None:
            raise _err(spec, "请以天为单位(滞纳金按日计算)", "give the length in days")
    else:
        days = got
    if days <= 0:
        raise _err(spec, "天数必须大于0", "number of days must be greater than 0")
    if days != days.to_integral_value():
        raise _err(spec, "天数须为整数", "number of days must be whole")
    if days > MAX_DAYS:
        raise _err(spec, f"天数过大(超过{MAX_DAYS}天)", f"more than {MAX_DAYS} days is implausible")
    return int(days)


def _coerce_count(spec: ParamSpec, value: Any) -> int:
    got = _to_decimal(spec, value, None)
    if got != got.to_integral_value() or got < 1:
        raise _err(spec, "应为正整数", "expected a whole number of at least 1")
    if got > 100:
        raise _err(spec, "人数过多(超过100人)", "more than 100 is implausible")
    return int(got)


_TRUE = {"true", "yes", "y", "1", "是", "对", "有"}
_FALSE = {"false", "no", "n", "0", "否", "不是", "没有", "无"}


def _coerce_bool(spec: ParamSpec, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        v = value.strip().lower()
        if v in _TRUE:
            return True
        if v in _FALSE:
            return False
    raise _err(spec, "应为是或否", f"expected true or false, got {value!r}")


_CHOICE_ALIASES = {
    "insurance_type": {
        "employee": "employee", "职工": "employee", "职工医保": "employee", "灵活就业": "employee",
        "resident": "resident", "居民": "resident", "居民医保": "resident", "城乡居民": "resident",
        "城乡居民医保": "resident", "新农合": "resident",
    },
}  # fmt: skip


def _coerce_choice(spec: ParamSpec, value: Any) -> str:
    aliases = _CHOICE_ALIASES.get(spec.name, {c: c for c in spec.choices})
    if isinstance(value, str) and value.strip().lower() in aliases:
        return aliases[value.strip().lower()]
    raise _err(spec, f"可选值为{'/'.join(spec.choices)}", f"expected one of {', '.join(spec.choices)}")


@dataclass(frozen=True)
class _Month:
    """A payment date at month granularity, with the day when it was given."""

    year: int
    month: int
    day: int | None = None

    def plus(self, months: int) -> str:
        index = self.year * 12 + (self.month - 1) + months
        return f"{index // 12:04d}-{index % 12 + 1:02d}"

    @property
    def iso(self) -> str:
        base = f"{self.year:04d}-{self.month:02d}"
        return base if self.day is None else f"{base}-{self.day:02d}"

    @property
    def first_day(self) -> _dt.date:
        return _dt.date(self.year, self.month, self.day or 1)


def _coerce_month(spec: ParamSpec, value: Any) -> _Month:
    if isinstance(value, _dt.datetime):
        value = value.date()
    if isinstance(value, _dt.date):
        got = CalendarDate(value.year, value.month, value.day)
    elif isinstance(value, str):
        parsed = parse_date(value)
        if parsed is None:
            raise _err(spec, f"无法识别日期“{value}”,请写作2025-03", f"cannot read {value!r} as YYYY-MM")
        got = parsed
    else:
        raise _err(spec, "应为年月,如2025-03", "expected a YYYY-MM string")
    if got.year is None or got.month is None:
        raise _err(spec, "请写明年份和月份,如2025-03", "year and month are both required (YYYY-MM)")
    if not MIN_YEAR <= got.year <= MAX_YEAR:
        raise _err(spec, f"年份须在{MIN_YEAR}至{MAX_YEAR}之间", f"year must be between {MIN_YEAR} and {MAX_YEAR}")
    return _Month(got.year, got.month, got.day)


_COERCE: dict[str, Callable[[ParamSpec, Any], Any]] = {
    "money": _coerce_money,
    "rate": _coerce_rate,
    "months": _coerce_months,
    "count": _coerce_count,
    "years": _coerce_years,
    "days": _coerce_days,
    "month": _coerce_month,
    "bool": _coerce_bool,
    "choice": _coerce_choice,
}



@dataclass
class _Inputs:
    values: dict[str, Any]
    defaults_used: list[str] = field(default_factory=list)
    sel: Selection = field(default_factory=lambda: RuleBook().select(()))
    # param → the rule its default value came from
    sources: dict[str, Rule] = field(default_factory=dict)

    def __getitem__(self, name: str) -> Any:
        return self.values.get(name)


def rule_defaults(spec: KindSpec) -> tuple[str, ...]:
    """The parameters whose default is a rule's value (``KINDS`` documents the shipped one)."""
    keys = {key for kind in rule_kinds(spec.kind) for key in EFFECTS.get(kind, {})}
    return tuple(p.name for p in spec.params if p.default is not None and p.name in keys)


def _validate(spec: KindSpec, params: Mapping[str, Any] | None, sel: Selection) -> _Inputs:
    if params is None:
        params = {}
    if not isinstance(params, Mapping):
        raise CalcError("params", "参数应为键值对象", "params must be an object")
    for name in params:
        if name not in spec.param_names:
            raise CalcError(
                str(name),
                f"未知参数“{name}”,{spec.label_zh}可用参数:{'、'.join(spec.param_names)}",
                f"unknown parameter {name!r} for {spec.kind}; expected one of {', '.join(spec.param_names)}",
            )
    values: dict[str, Any] = {}
    defaults_used: list[str] = []
    sources: dict[str, Rule] = {}
    from_rules = rule_defaults(spec)
    for p in spec.params:
        raw = params.get(p.name)
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            if p.required:
                raise CalcError(p.name, p.prompt_zh, f"missing required parameter {p.name!r}")
            if p.name in from_rules:
                rule = sel.rule_for(p.name)
                if rule is None:
                    raise CalcError(
                        p.name, p.prompt_zh, f"missing parameter {p.name!r}: no rule in the rule book gives it"
                    )
                values[p.name] = rule.effect[p.name]
                sources[p.name] = rule
                defaults_used.append(p.name)
            elif p.default is not None:
                values[p.name] = p.default
                defaults_used.append(p.name)
            continue
        values[p.name] = _COERCE[p.type](p, raw)
    for group in spec.one_of:
        given = [name for name in group if name in values]
        if len(given) != 1:
            labels = "或".join(spec.param(name).label_zh for name in group)
            first = given[1] if len(given) > 1 else group[0]
            raise CalcError(
                first,
                f"请提供{labels}(只填其一)",
                f"{first}: give exactly one of {', '.join(group)}",
            )
    return _Inputs(values, defaults_used, sel, sources)


# --------------------------------------------------------------------------------------
# Reading the rules
# --------------------------------------------------------------------------------------


def _labels(rules: list[Rule]) -> str:
    """``文章002/003`` for rules of articles 002 and 003 (each article once, in order)."""
    shorts = list(dict.fromkeys(r.label.removeprefix("文章") for r in rules))
    return "文章" + "/".join(shorts) if shorts else ""


def _rate_words(rate: Decimal) -> str:
    """万分之五 for 0.0005 (how articles and askers state daily rates), else 0.1%."""
    per_10k = rate * 10000
    if per_10k == per_10k.to_integral_value() and 1 <= per_10k <= 99 and per_10k % 10:
        return f"万分之{_cn_small(int(per_10k))}"
    return format_rate(rate)


def _date_zh(day: _dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def _since_zh(day: _dt.date) -> str:
    """2025-01-01 → 2025年 (a rule in force from the start of a year), else the full date."""
    return f"{day.year}年" if (day.month, day.day) == (1, 1) else _date_zh(day)


def _ordered(first: list[Rule | None], rest: tuple[Rule, ...]) -> tuple[SourceRef, ...]:
    """The refs of ``first`` (the rules the result rests on), then the other rules in file order."""
    head = [r for r in first if r is not None]
    return tuple(dict.fromkeys([r.ref for r in head] + [r.ref for r in rest if r not in head]))


# --------------------------------------------------------------------------------------
# The kinds
# --------------------------------------------------------------------------------------


def _calc(
    spec: KindSpec,
    inputs: dict[str, Any],
    formula: str,
    result: Decimal | None,
    assumptions: list[str],
    details: dict[str, Any],
    unit: str | None = None,
) -> Calculation:
    return Calculation(
        kind=spec.kind,
        formula=formula,
        inputs=inputs,
        result=float(result) if result is not None else None,
        unit=unit or spec.unit,
        assumptions=assumptions,
        details=details,
    )


def _monthly_contribution(spec: KindSpec, inp: _Inputs) -> CalcResult:
    base: Decimal = inp["base"]
    rate: Decimal = inp["rate"]
    months: int | None = inp["months"]
    monthly = money(base * rate)
    formula = f"{format_money(base)} × {format_rate(rate)} = {format_money(monthly)}"
    details: dict[str, Any] = {"monthly": float(monthly)}
    inputs: dict[str, Any] = {"base": float(money(base)), "rate": float(rate)}
    sentence = f"按缴费基数{format_money(base)}元、费率{format_rate(rate)}计算,每月应缴{format_money(monthly)}元。"
    result, unit = monthly, spec.unit
    basis = next((r for r in inp.sel if not r.example), None)
    example = next((r for r in inp.sel if r.example and "base" in r.effect and "rate" in r.effect), None)
    article = []
    if basis is not None:
        article.append(f"{basis.label}:缴费基数和费率按各市政策执行")
    if example is not None:
        where = "" if basis is not None and basis.doc_id == example.doc_id else f"{example.label}"
        article.append(
            f"{where}例子中基数下限{_plain(example.effect['base'])}元、费率{format_rate(example.effect['rate'])}"
        )
    assumptions = [
        _stated(f"缴费基数{format_money(base)}元、费率{format_rate(rate)}", ",".join(article) or None),
        "金额四舍五入到分。",
    ]
    if months is not None:
        # The question asked for a total over several months: that total is the result.
        total = monthly * months
        result, unit = total, "元"
        details["months"] = months
        details["total"] = float(total)
        inputs["months"] = months
        formula += f";{format_money(monthly)} × {months}个月 = {format_money(total)}"
        sentence = sentence[:-1] + f",{months}个月合计{format_money(total)}元。"
        assumptions.append("给出月数时,结果为合计金额 = 每月金额(已四舍五入到分) × 月数;每月金额见details.monthly。")
    calc = _calc(spec, inputs, formula, result, assumptions, details, unit=unit)
    return CalcResult(calc, _ordered([], inp.sel.rules), sentence)


def _back_payment(spec: KindSpec, inp: _Inputs) -> CalcResult:
    months: int = inp["months"]
    wage: Decimal = inp["wage"]
    rate: Decimal | None = inp["rate"]
    if rate is not None:
        if "rate_low" not in inp.defaults_used or "rate_high" not in inp.defaults_used:
            raise CalcError(
                "rate",
                "缴费比例:请只填写确切比例(rate)或比例范围(rate_low/rate_high)之一",
                "rate: give either rate or rate_low/rate_high, not both",
            )
        low = high = rate
        defaults: list[str] = []
    else:
        low, high = inp["rate_low"], inp["rate_high"]
        defaults = [n for n in ("rate_low", "rate_high") if n in inp.defaults_used]
        if low > high:
            raise CalcError(
                "rate_low", "缴费比例下限不能高于上限", "rate_low: the lower rate must not exceed rate_high"
            )
    # The rule giving the rate range is the formula's source, whether or not its range is used.
    rule = inp.sources.get("rate_low") or inp.sources.get("rate_high") or inp.sel.rule_for("rate_low")
    # Contributions are billed per month, so the monthly amount is rounded first and
    # the total is exactly months × that amount.
    monthly_low, monthly_high = money(wage * low), money(wage * high)
    total_low, total_high = monthly_low * months, monthly_high * months
    inputs: dict[str, Any] = {"months": months, "wage": float(money(wage))}
    details: dict[str, Any] = {
        "low": float(total_low),
        "high": float(total_high),
        "monthly_low": float(monthly_low),
        "monthly_high": float(monthly_high),
        "rate_low": float(low),
        "rate_high": float(high),
    }
    if low == high:
        inputs["rate"] = float(low)
        formula = f"{months} × {format_money(wage)} × {format_rate(low)} = {format_money(total_low)}"
        sentence = (
            f"按断缴{months}个月、月缴费基数{format_money(wage)}元、缴费比例{format_rate(low)}计算,"
            f"补缴金额为{format_money(total_low)}元(不含滞纳金)。"
        )
    else:
        inputs["rate_low"], inputs["rate_high"] = float(low), float(high)
        formula = (
            f"{months} × {format_money(wage)} × {format_rate(low)}~{format_rate(high)} = "
            f"{format_money(total_low)}~{format_money(total_high)}"
        )
        sentence = (
            f"按断缴{months}个月、月缴费基数{format_money(wage)}元、缴费比例{format_rate(low)}~{format_rate(high)}"
            f"计算,补缴金额约{format_money(total_low)}~{format_money(total_high)}元(不含滞纳金)。"
        )
    source = f"({rule.label})" if rule is not None else ""
    assumptions = [
        f"补缴金额 = 断缴月数 × 月缴费基数(当地上年度职工月平均工资) × 缴费比例{source}。",
        "结果为下限,上限见details.high;金额不含滞纳金,滞纳金另算。",
        "每月金额先四舍五入到分,再乘以月数。",
    ]
    ranged = None
    if rule is not None and "rate_low" in rule.effect and "rate_high" in rule.effect:
        ranged = f"单位+个人合计{format_rate(rule.effect['rate_low'])}-{format_rate(rule.effect['rate_high'])}"
    if defaults:
        what = f"{rule.label}所列{ranged}" if rule is not None and ranged else "资料所列比例"
        assumptions.insert(1, f"未提供确切缴费比例,按{what}计算,各地比例不同。")
    if len(defaults) < 2:
        stated = format_rate(low) if low == high else f"{format_rate(low)}~{format_rate(high)}"
        article = f"{rule.label}:{ranged}" if rule is not None and ranged else None
        assumptions.insert(1, _stated(f"缴费比例{stated}", article))
    details["defaults_used"] = defaults
    calc = _calc(spec, inputs, formula, total_low, assumptions, details)
    return CalcResult(calc, _ordered([rule], inp.sel.rules), sentence)


@dataclass(frozen=True)
class _LateRules:
    rate: Rule | None  # the rule whose daily rate applies (the asker's own rate still cites it)
    personal: tuple[Rule, ...]  # the rate for a break of the person's own doing
    employer: tuple[Rule, ...]  # the employer's break: the person pays no late fee

    @property
    def exempt(self) -> Rule | None:
        return next((r for r in self.employer if r.effect.get("personal_fee") == 0), None)


def _late_rules(inp: _Inputs) -> _LateRules:
    rate = inp.sources.get("daily_rate") or inp.sel.rule_for("daily_rate")
    personal = tuple(r for r in inp.sel if r.when.get("employer_caused") is False and r is not rate)
    employer = tuple(r for r in inp.sel if r.when.get("employer_caused") is True)
    return _LateRules(rate, personal, employer)


def _late_fee(spec: KindSpec, inp: _Inputs) -> CalcResult:
    owed: Decimal = inp["owed"]
    days: int = inp["days"]
    rate: Decimal = inp["daily_rate"]
    employer: bool = inp["employer_caused"]
    rules = _late_rules(inp)
    inputs: dict[str, Any] = {
        "owed": float(money(owed)),
        "days": days,
        "daily_rate": float(rate),
        "employer_caused": employer,
    }
    assumptions = _late_assumptions(inp, rules)
    if employer and rules.exempt is not None:
        reason = "因单位原因断缴,单位补缴后个人无需承担滞纳金"
        formula = (
            f"单位原因断缴:个人承担滞纳金 = 0.00"
            f"(若由个人缴纳则为{format_money(owed)} × {format_rate(rate)} × {days}天)"
        )
        details = {"reason": reason, "would_be": float(money(owed * rate * days)), "personal_fee": 0.0}
        sentence = "因单位原因断缴、由单位补缴的,个人无需承担滞纳金,个人应付0.00元。"
        calc = _calc(spec, inputs, formula, Decimal("0.00"), assumptions, details)
        return CalcResult(calc, _ordered([*rules.employer, rules.rate], ()), sentence)
    fee = money(owed * rate * days)
    formula = f"{format_money(owed)} × {format_rate(rate)} × {days}天 = {format_money(fee)}"
    sentence = f"欠费{format_money(owed)}元、按日加收{format_rate(rate)}、共{days}天,滞纳金为{format_money(fee)}元。"
    details = {"per_day": float(owed * rate)}
    calc = _calc(spec, inputs, formula, fee, assumptions, details)
    return CalcResult(calc, _ordered([rules.rate, *rules.personal], ()), sentence)


def _late_assumptions(inp: _Inputs, rules: _LateRules) -> list[str]:
    """How the late fee is counted, and whose daily rate is used (the asker's goes first)."""
    rate: Decimal = inp["daily_rate"]
    rule = rules.rate
    if rule is not None and rule.general:
        notes = [f"滞纳金按日单利计算,不计复利;并非所有地区都收取滞纳金({rule.label}:部分地区)。"]
    else:
        notes = ["滞纳金按日单利计算,不计复利。"]
    if "daily_rate" in inp.defaults_used:
        notes.append(f"未提供日滞纳金率,按{rule.label}所列{_rate_words(rate)}计算。" if rule else "")
    else:
        article = f"{rule.label}:按日加收{_rate_words(rule.effect['daily_rate'])}" if rule is not None else None
        same = rule is not None and rate == rule.effect["daily_rate"]
        notes.append(_stated(f"日滞纳金率{format_rate(rate)}", article, same))
    if inp["employer_caused"] and rules.exempt is None:
        notes.append("资料中没有单位原因断缴免收滞纳金的规定,滞纳金按一般情况计算。")
    return [n for n in notes if n]


def _arrears_total(spec: KindSpec, inp: _Inputs) -> CalcResult:
    """What clearing the arrears costs: the arrears themselves plus the late fee on them."""
    owed: Decimal = money(inp["owed"])
    days: int = inp["days"]
    rate: Decimal = inp["daily_rate"]
    rules = _late_rules(inp)
    employer: bool = inp["employer_caused"]
    exempt = employer and rules.exempt is not None
    would_be = money(owed * rate * days)
    fee = Decimal("0.00") if exempt else would_be
    total = owed + fee
    inputs: dict[str, Any] = {"owed": float(owed), "days": days, "daily_rate": float(rate), "employer_caused": employer}
    details: dict[str, Any] = {
        "owed": float(owed),
        "late_fee": float(fee),
        "total": float(total),
        "per_day": float(owed * rate),
    }
    fee_formula = f"{format_money(owed)} × {format_rate(rate)} × {days}天 = {format_money(would_be)}"
    assumptions = [*_late_assumptions(inp, rules), "合计 = 欠费 + 滞纳金,不含欠费以外的其他费用。"]
    first: list[Rule | None] = [rules.rate]
    if exempt:
        details["would_be"] = float(would_be)
        details["reason"] = "因单位原因断缴,单位补缴后个人无需承担滞纳金"
        formula = (
            f"{format_money(owed)} + 0.00(单位原因断缴,个人不承担滞纳金;否则滞纳金为{fee_formula}) = "
            f"{format_money(total)}"
        )
        sentence = (
            f"欠费{format_money(owed)}元;因单位原因断缴、由单位补缴的,个人无需承担滞纳金(0.00元),"
            f"合计{format_money(total)}元。"
        )
        first += list(rules.employer)
    else:
        formula = f"滞纳金 {fee_formula};合计 {format_money(owed)} + {format_money(fee)} = {format_money(total)}"
        sentence = (
            f"欠费{format_money(owed)}元,滞纳金按日加收{format_rate(rate)}、共{days}天为{format_money(fee)}元,"
            f"连本带滞纳金合计{format_money(total)}元。"
        )
    calc = _calc(spec, inputs, formula, total, assumptions, details)
    return CalcResult(calc, _ordered(first, ()), sentence)


WAIT_MONTHS_NOTE = "“等待N个月”按缴费月加N个月的那个月开始享受待遇(按月计,不细到日)。"


def _resident_premium(spec: KindSpec, inp: _Inputs) -> CalcResult:
    personal: Decimal = inp["personal"]
    subsidy: Decimal | None = inp["subsidy"]
    persons: int = inp["persons"]
    sel = inp.sel
    personal_rule = inp.sources.get("personal") or sel.rule_for("personal")
    subsidy_rule = sel.rule_for("subsidy")
    reference: Decimal | None = subsidy_rule.effect["subsidy"] if subsidy_rule is not None else None
    reference_used = subsidy is None and bool(inp["include_subsidy"])
    if reference_used:
        if reference is None:
            raise CalcError("subsidy", "请提供财政补助金额", "subsidy: no rule gives a reference subsidy; state it")
        subsidy = reference
    per_person = money(personal + (subsidy or 0))
    total = per_person * persons
    total_monthly = money(per_person / 12)
    personal_monthly = money(personal / 12)
    inputs: dict[str, Any] = {"personal": float(money(personal)), "persons": persons}
    details: dict[str, Any] = {
        "per_person": float(per_person),
        "total_monthly": float(total_monthly),
        "personal": float(money(personal)),
        "personal_monthly": float(personal_monthly),
        "personal_total": float(money(personal) * persons),
        "defaults_used": list(inp.defaults_used),
    }
    assumptions = ["居民医保一般一年缴费一次,折合每月金额仅供对比,四舍五入到分。"]
    year = personal_rule.when.get("year") if personal_rule is not None else None
    standard = f"{year}年度" if year else ""
    if "personal" in inp.defaults_used:
        assert personal_rule is not None
        same_figure = [r for r in sel if r is not personal_rule and r.effect.get("personal") == personal]
        sources = _labels([personal_rule, *same_figure])
        assumptions.append(f"个人缴费未提供,按{sources}所列{standard}标准每人每年{_plain(personal)}元计算,各地标准不同。")
    else:
        stated = f"个人缴费每人每年{format_money(personal)}元"
        if personal_rule is not None:
            ref_personal = personal_rule.effect["personal"]
            article = f"{personal_rule.label}:{standard}每人每年{_plain(ref_personal)}元"
            assumptions.append(_stated(stated, article, personal == ref_personal))
        else:
            assumptions.append(_stated(stated, None))
    if reference_used:
        assert subsidy_rule is not None and reference is not None
        assumptions.append(
            f"未提供财政补助金额,合计按{subsidy_rule.label}所列财政补助不低于{format_money(reference)}元计算"
            "(实际补助以当地公布为准;财政补助由政府承担,个人实际缴纳的只是个人缴费部分)。"
        )
    elif subsidy is not None:
        stated = f"财政补助每人每年{format_money(subsidy)}元"
        if subsidy_rule is not None and reference is not None:
            article = f"{subsidy_rule.label}:财政补助不低于{_plain(reference)}元"
            assumptions.append(_stated(stated, article, subsidy == reference))
        else:
            assumptions.append(_stated(stated, None))
    times = f" × {persons}" if persons != 1 else ""
    who = f"{persons}人" if persons != 1 else ""
    if reference_used:
        inputs["include_subsidy"] = True
        details["reference_subsidy"] = float(reference)  # type: ignore[arg-type]
    if subsidy is not None:
        inputs["subsidy"] = float(money(subsidy))
        details["subsidy"] = float(money(subsidy))
        formula = f"({format_money(personal)} + {format_money(subsidy)}){times} = {format_money(total)}"
        sentence = (
            f"居民医保个人缴费{format_money(personal)}元加财政补助{format_money(subsidy)}元,"
            f"{who}每年合计{format_money(total)}元"
        )
    else:
        # What residents pay themselves; the subsidy is paid by the state (文章000: 居民本人缴费,政府补贴).
        formula = f"{format_money(personal)}{times} = {format_money(total)}" if persons != 1 else "个人缴费"
        sentence = f"居民医保个人缴费每人每年{format_money(personal)}元,{who}每年共缴{format_money(total)}元"
        if subsidy_rule is not None and reference is not None:
            with_ref = money(personal + reference)
            details["reference_subsidy"] = float(reference)
            details["per_person_with_reference_subsidy"] = float(with_ref)
            assumptions.append(
                f"未提供财政补助,结果只含个人缴纳部分;{subsidy_rule.label}所列财政补助不低于{_plain(reference)}元,"
                f"连同补助每人每年约{format_money(with_ref)}元(仅供参考,不是您要缴的钱)。"
            )
        else:
            assumptions.append("未提供财政补助,结果只含个人缴纳部分。")
    formula += (
        f";每人 {format_money(per_person)} ÷ 12 = {format_money(total_monthly)}/月,"
        f"个人部分 {format_money(personal)} ÷ 12 = {format_money(personal_monthly)}/月"
    )
    sentence += f",每人折合每月约{format_money(total_monthly)}元"
    if subsidy is not None:
        sentence += f"(个人部分每月约{format_money(personal_monthly)}元)"
    sentence += "。"
    calc = _calc(spec, inputs, formula, total, assumptions, details)
    # The per-person standard the result is compared with comes first, not the file's first rule (an
    # article's worked example such as 400+670=1070).
    return CalcResult(calc, _ordered([personal_rule, subsidy_rule], sel.rules), sentence)


def _wait_rule_text(rule: Rule, sep: str = ",", grow: str = "增加") -> str:
    """等待3个月,每多断保1年增加1个月 — a per-year waiting rule in words."""
    return f"等待{rule.effect['base_months']}个月{sep}每多断保1年{grow}{rule.effect['per_year_months']}个月"


def _scope_zh(rule: Rule) -> str:
    """(自2025年起,甘肃嘉峪关居民医保): when and where a rule applies, for an assumption line."""
    parts = []
    if "valid_from" in rule.when:
        parts.append(f"自{_since_zh(rule.when['valid_from'])}起")
    place = "" if rule.general else "、".join(rule.regions)
    kind = {"居民": "居民医保", "职工": "职工医保"}.get(rule.insurance_type or "", "")
    if place or kind:
        parts.append(place + kind)
    return f"({','.join(parts)})" if parts else ""


def _period_rule(sel: Selection, near: Rule | None = None) -> Rule | None:
    """The rule saying which payment dates fall in the 补充缴费期 (the same article's first)."""
    periods = [r for r in sel if r.effect.get("supplementary") is True and "paid_from" in r.when]
    same = [r for r in periods if near is not None and r.doc_id == near.doc_id]
    return (same or sorted(periods, key=lambda r: -sel.rank(r)) or [None])[0]


def _period_zh(period: Rule) -> str:
    """2025年补充缴费期(1月1日至2月28日)."""
    start, end = period.when["paid_from"], period.when["paid_to"]
    if start.year == end.year:
        return f"{start.year}年补充缴费期({start.month}月{start.day}日至{end.month}月{end.day}日)"
    return f"补充缴费期({_date_zh(start)}至{_date_zh(end)})"


def _in_period(period: Rule | None, day: _dt.date) -> bool:
    return period is not None and period.when["paid_from"] <= day <= period.when["paid_to"]


def _resident_waiting_period(spec: KindSpec, inp: _Inputs) -> CalcResult:
    base: int = inp["base_months"]
    per_year: int = inp["per_year_months"]
    extra: Decimal | None = inp["extra_years"]
    break_years: Decimal | None = inp["break_years"]
    rule = inp.sources.get("base_months") or inp.sources.get("per_year_months") or inp.sel.rule_for("base_months")
    assumptions: list[str] = []
    inputs: dict[str, Any] = {"base_months": base, "per_year_months": per_year}
    if extra is None:
        assert break_years is not None
        inputs["break_years"] = _num_out(break_years)
        # Resident insurance is paid per year: a part year without cover counts as a year.
        whole_break = break_years.to_integral_value(rounding=ROUND_CEILING)
        extra = max(whole_break - 1, Decimal(0))
        assumptions.append(
            f"断保{_plain(break_years)}年:第一年对应基础等待期,多断保年数 = {_plain(whole_break)} − 1 = {_plain(extra)}"
            "(居民医保按年缴费,不满一年按一年计)。"
        )
    else:
        inputs["extra_years"] = _num_out(extra)
    if extra != extra.to_integral_value():
        raise CalcError("extra_years", "多断保的年数:请填写整年数", "extra_years: must be a whole number of years")
    months = base + int(extra) * per_year
    formula = f"{base} + {_plain(extra)} × {per_year} = {months}"
    rule_parts = (("base_months", f"基础等待期{base}个月"), ("per_year_months", f"每多断保1年增加{per_year}个月"))
    stated = [text for name, text in rule_parts if name not in inp.defaults_used]
    if stated:
        if rule is not None:
            same = base == rule.effect["base_months"] and per_year == rule.effect["per_year_months"]
            assumptions.append(_stated("、".join(stated), f"{rule.label}:{_wait_rule_text(rule)}", same))
        else:
            assumptions.append(_stated("、".join(stated), None))
    if rule is not None and ("base_months" in inp.defaults_used or "per_year_months" in inp.defaults_used):
        assumptions.append(f"按{rule.label}:{_wait_rule_text(rule)}{_scope_zh(rule)}。")
    sentence = f"基础等待期{base}个月,多断保{_plain(extra)}年,每年增加{per_year}个月,待遇等待期共{months}个月。"
    details: dict[str, Any] = {"extra_years": _num_out(extra), "months": months}
    first: list[Rule | None] = [rule]
    pay: _Month | None = inp["payment_month"]
    if pay is not None:
        start = pay.plus(months)
        inputs["payment_month"] = pay.iso
        details["start_month"] = start
        formula += f";{pay.iso[:7]} + {months}个月 = {start}"
        sentence = sentence[:-1] + f",{_month_zh(pay.iso)}缴费的,从{_month_zh(start)}起可以享受医保待遇。"
        assumptions.append(WAIT_MONTHS_NOTE)
        valid_from = rule.when.get("valid_from") if rule is not None else None
        supp = next((r for r in inp.sel if r.when.get("supplementary") is True and "wait_days" in r.effect
                     and "居民" in inp.sel.types(r)), None)  # fmt: skip
        period = _period_rule(inp.sel, supp) if supp is not None else None
        if rule is not None and valid_from is not None and pay.first_day < valid_from:
            since = _since_zh(valid_from)
            assumptions.append(f"{rule.label}的等待期规定自{since}起施行,缴费时间早于{since},结果仅供参考。")
        elif supp is not None and period is not None and _in_period(period, pay.first_day):
            earliest = supp.effect.get("earliest")
            assumptions.append(
                f"缴费时间在{period.label}所列{_period_zh(period)}内,该期间缴费设置{supp.effect['wait_days']}天"
                "待遇等待期" + (f"、最早{_date_zh(earliest)}起享受待遇" if earliest else "")
                + ",可能与按月计算的结果不同。"
            )
            first.append(supp)
    calc = _calc(spec, inputs, formula, Decimal(months), assumptions, details)
    return CalcResult(calc, _ordered(first, ()), sentence)


def _month_zh(iso: str) -> str:
    """``2025-07`` → ``2025年7月`` (a day, if any, is left out)."""
    return f"{int(iso[:4])}年{int(iso[5:7])}月"


def _years_to_retirement(spec: KindSpec, inp: _Inputs) -> CalcResult:
    paid: Decimal = inp["paid_years"]
    actual: Decimal | None = inp["actual_years"]
    required: Decimal = inp["required_years"]
    required_actual: Decimal = inp["required_actual_years"]
    if required <= 0:
        raise CalcError("required_years", "要求的缴费年限必须大于0", "required_years must be greater than 0")
    if required_actual > required:
        raise CalcError(
            "required_actual_years",
            "要求的实际缴费年限不能超过累计年限",
            "required_actual_years must not exceed required_years",
        )
    if actual is not None and actual > paid:
        raise CalcError(
            "actual_years",
            "实际缴费年限不能超过已缴费的累计年限",
            "actual_years must not exceed paid_years (actual years are part of the total)",
        )
    sel = inp.sel
    rule = inp.sources.get("required_years") or sel.rule_for("required_years")
    rule_total = rule.effect["required_years"] if rule is not None else None
    rule_actual = rule.effect.get("required_actual_years", required_actual) if rule is not None else None
    remaining_total = max(required - paid, Decimal(0))
    inputs: dict[str, Any] = {
        "paid_years": _num_out(paid),
        "required_years": _num_out(required),
        "required_actual_years": _num_out(required_actual),
    }
    details: dict[str, Any] = {"remaining_total_years": _num_out(remaining_total)}
    others = [r for r in sel if r.example and "required_years" in r.effect and r is not rule
              and not r.when.get("other_than_default")]  # fmt: skip
    if rule is not None:
        default_line = (
            f"缴费年限要求各地不同,默认按{rule.label}的累计满{_plain(rule_total)}年(其中实际缴费满{_plain(rule_actual)}年)计算"
        )
    else:
        default_line = "缴费年限要求各地不同"
    for other in others:
        default_line += f";{other.label}提到“如{_plain(other.effect['required_years'])}年”"
    assumptions = [default_line + ",可按当地规定修改。"]
    stated = []
    if "required_years" not in inp.defaults_used:
        stated.append(f"累计缴费年限要求{_plain(required)}年")
    if "required_actual_years" not in inp.defaults_used:
        stated.append(f"实际缴费年限要求{_plain(required_actual)}年")
    if stated:
        if rule is not None:
            same = required == rule_total and required_actual == rule_actual
            article = f"{rule.label}:累计满{_plain(rule_total)}年,其中实际缴费满{_plain(rule_actual)}年"
            assumptions[0] = _stated("、".join(stated), article, same)
        else:
            assumptions[0] = _stated("、".join(stated), None)
    if actual is not None:
        inputs["actual_years"] = _num_out(actual)
        remaining_actual = max(required_actual - actual, Decimal(0))
        details["remaining_actual_years"] = _num_out(remaining_actual)
        remaining = max(remaining_total, remaining_actual)
        formula = (
            f"max({_plain(required)} − {_plain(paid)}, {_plain(required_actual)} − {_plain(actual)}) = "
            f"{_plain(remaining)}"
        )
        assumptions.append("实际缴费年限也计入累计年限,所以还需缴费的年数取两项差额中较大者。")
    else:
        remaining = remaining_total
        formula = f"max({_plain(required)} − {_plain(paid)}, 0) = {_plain(remaining)}"
        assumptions.append(f"未提供实际缴费年限,未检查“实际缴费满{_plain(required_actual)}年”这一条件。")
    remaining_months = int(money(remaining * 12).to_integral_value(rounding=ROUND_CEILING))
    details["remaining_months"] = remaining_months
    details["remaining_years"] = _num_out(remaining)
    if remaining == 0:
        sentence = f"已缴费{_plain(paid)}年,已达到累计{_plain(required)}年的要求,达到退休年龄后可不再缴费。"
    else:
        sentence = f"已缴费{_plain(paid)}年,按累计满{_plain(required)}年"
        if actual is not None:
            sentence += f"(其中实际缴费满{_plain(required_actual)}年)"
        sentence += f"的要求,还需缴费{_plain(remaining)}年(约{remaining_months}个月)。"
    # A requirement other than the default rule's does not rest on that rule; it rests on the
    # passages saying requirements differ by city (``when.other_than_default``).
    own = [r for r in sel if "required_years" in r.when.get("other_than_default", ())]
    uses_own = rule is None or required != rule_total
    # The rule that defines the requirement (article 001's 累计/实际 years) stays the basis, cited first;
    # a requirement of the asker's own adds the passages saying requirements differ by city.
    first = [r for r in (rule, *(own if uses_own else ())) if r is not None]
    rest = tuple(r for r in sel if r is not rule and r not in own)
    calc = _calc(spec, inputs, formula, remaining, assumptions, details)
    return CalcResult(calc, _ordered(first, rest), sentence)


# The generic readings of the rules' wording, listed with every benefit-dates result; the readings
# of particular wordings (第N个自然月, 连续缴费满N个月后, 每多断保1年, N天待遇等待期) follow, one line per
# article whose rules use them.
BENEFIT_READINGS = (
    "“以内”“以上”包含本数,“超过”不含本数:中断3个月按“3个月以内”处理,也按“连续中断3个月”处理。",
    WAIT_MONTHS_NOTE,
    "“次月”为缴费月的下一个月;“缴费当月即可享受”为缴费月本身。",
)


def _months_words(months: int) -> str:
    return f"{months // 12}年" if months % 12 == 0 else f"{months}个月"


def _benefit_readings(rules: list[Rule]) -> list[str]:
    lines = list(BENEFIT_READINGS)
    for rule in rules:
        if "natural_month" in rule.effect:
            n = rule.effect["natural_month"]
            lines.append(
                f"{rule.label}“从缴费月起的第{_cn_small(n)}个自然月”把缴费月算作第一个月,即缴费月加{n - 1}个月。"
            )
    paid: dict[str, list[int]] = {}
    for rule in rules:
        if "paid_months" in rule.effect:
            paid.setdefault(rule.label, []).append(rule.effect["paid_months"])
    for label, values in paid.items():
        months = sorted(set(values))
        words = _months_words(months[0]) + "".join(f"({_months_words(m)})" for m in months[1:])
        numbers = str(months[0]) + "".join(f"({m})" for m in months[1:])
        lines.append(f"{label}“连续缴费满{words}后”把恢复缴费的当月算作第一个缴费月,即缴费月加{numbers}个月。")
    for rule in rules:
        if "base_months" in rule.effect:
            per = rule.effect["per_year_months"]
            times = "" if per == 1 else f" × {per}"
            lines.append(
                f"{rule.label}“每多断保1年”:居民医保按年缴费,不满一年按一年计,"
                f"等待期 = {rule.effect['base_months']} + (断保年数 − 1){times} 个月。"
            )
    for rule in rules:
        if "wait_days" in rule.effect:
            days = rule.effect["wait_days"]
            lines.append(
                f"{rule.label}“{days}天待遇等待期”按缴费日期加{days}天计算;只给出年月时按当月1日算(实际可能更晚)。"
            )
    return list(dict.fromkeys(lines))


def when_zh(wait: int) -> str:
    """A wait relative to the payment month, in words: 0 → 缴费当月, 1 → 缴费次月, 3 → 缴费月+3个月."""
    return {0: "缴费当月", 1: "缴费次月"}.get(wait, f"缴费月+{wait}个月")


def _months_apply(rule: Rule, n: int, cumulative: int) -> bool:
    w = rule.when
    return (
        w.get("interruption_months_min", 0) <= n <= w.get("interruption_months_max", n)
        and w.get("cumulative_months_min", 0) <= cumulative <= w.get("cumulative_months_max", cumulative)
    )


def _stop_note(rule: Rule, n: int, cumulative: int) -> str | None:
    """An article's rule on when benefits stop, when the break is too short for it: no date from it."""
    after, after_cumulative = rule.effect.get("stops_after_months"), rule.effect.get("stops_after_cumulative_months")
    if (after is not None and n >= after) or (after_cumulative is not None and cumulative >= after_cumulative):
        return None
    parts = []
    if after is not None:
        parts.append(f"连续中断不足{after}个月")
    if after_cumulative is not None:
        parts.append(f"累计不足{after_cumulative}个月")
    return f"{rule.label}:{'且'.join(parts)},未达到停止享受待遇的条件,该文未给恢复日期。"


def _in_force(rule: Rule, pay: _Month | None) -> bool:
    """In force for this payment (``valid_from``/``valid_to``), and paid in the rule's period if it
    names one (a period cannot be judged without the payment date)."""
    when = rule.when
    if pay is not None and "valid_from" in when and pay.first_day < when["valid_from"]:
        return False
    if pay is not None and "valid_to" in when and pay.first_day > when["valid_to"]:
        return False
    return "paid_from" not in when or (pay is not None and when["paid_from"] <= pay.first_day <= when["paid_to"])


def _benefit_rule_applies(rule: Rule, inp: _Inputs, type_zh: str | None) -> bool:
    """Whether a benefit-dates rule speaks to these inputs (used to let the asked region's own rules
    displace others). Definitions (when benefits stop, the 补充缴费期) always do."""
    effect = rule.effect
    if "stops_after_months" in effect or "stops_after_cumulative_months" in effect:
        return True
    if effect.get("supplementary") is not None:
        return True
    if type_zh is not None and type_zh not in rule.types:
        return False
    pay: _Month | None = inp["payment_month"]
    if not _in_force(rule, pay):
        return False
    if rule.when.get("supplementary") is True:
        if inp["supplementary"] is not None:
            return bool(inp["supplementary"])
        period = _period_rule(inp.sel, rule)
        return pay is not None and _in_period(period, pay.first_day)
    n: int = inp["interruption_months"]
    return _months_apply(rule, n, inp["cumulative_months"] or n)


def _benefit_dates(spec: KindSpec, inp: _Inputs) -> CalcResult:
    # Without a payment month every rule is still given as a wait relative to it.
    pay: _Month | None = inp["payment_month"]
    n: int = inp["interruption_months"]
    cumulative: int = inp["cumulative_months"] or n
    if cumulative < n:
        raise CalcError(
            "cumulative_months",
            "累计中断月数不能少于连续中断月数",
            "cumulative_months must be at least interruption_months",
        )
    kind: str | None = inp["insurance_type"]
    supplementary: bool | None = inp["supplementary"]
    sel = inp.sel
    type_zh = {"employee": "职工", "resident": "居民"}.get(kind or "")
    listed = [r for r in sel if not r.example]
    # The asked region's own rules that apply to these inputs displace, for the insurance types
    # they cover, the general rules and other regions' defaults (and a city's those of its province).
    applying = [r for r in listed if sel.rank(r) > 0 and _benefit_rule_applies(r, inp, type_zh)]

    def left(rule: Rule) -> frozenset[str]:
        """The insurance types ``rule`` still speaks for."""
        floor = max(sel.rank(rule), 0)
        cover = {p for a in applying if sel.rank(a) > floor for p in rule_pairs(a, listing=True)}
        slots = {slot for slot, _ in rule_pairs(rule, listing=True)}
        if not slots or not cover:
            return rule.types
        return frozenset(t for t in rule.types if any((slot, t) not in cover for slot in slots))

    def wanted(rule: Rule) -> bool:
        types = left(rule)
        return bool(types) if type_zh is None else type_zh in types

    rules: list[dict[str, Any]] = []
    notes: list[str] = []
    extra_refs: list[SourceRef] = []
    applies_to = {"职工": "职工", "居民": "居民", None: "通用"}

    def add(rule: Rule, text: str, wait: int, wait_to: int | None = None) -> None:
        """A month-granular rule: benefits from the payment month + ``wait`` (to + ``wait_to``)."""
        item: dict[str, Any] = {
            "rule": text,
            "date": pay.plus(wait) if pay else None,
            "source_doc": rule.doc_id,
            "quote": rule.quote,
            "applies_to": applies_to[rule.insurance_type],
            "wait_months": wait,
            "when_zh": when_zh(wait),
        }
        if wait_to is not None:
            item["date_to"] = pay.plus(wait_to) if pay else None
            item["wait_months_to"] = wait_to
            item["when_zh"] = f"{when_zh(wait)}至{when_zh(wait_to)}"
        rules.append(item)

    for rule in listed:
        effect, when = rule.effect, rule.when
        if not left(rule):
            continue  # displaced by the asked region's own rule
        if "stops_after_months" in effect or "stops_after_cumulative_months" in effect:
            note = _stop_note(rule, n, cumulative)
            if note:
                notes.append(note)
            continue
        if effect.get("supplementary") is not None:
            continue  # a definition of the 补充缴费期, cited with the rules that use it
        valid_from = when.get("valid_from")
        if pay is not None and valid_from is not None and pay.first_day < valid_from:
            what = _wait_rule_text(rule, "、", "加") if "base_months" in effect else rule.text
            since = _since_zh(valid_from)
            notes.append(f"{rule.label}的“{what}”自{since}起施行,缴费时间早于{since},未适用。")
            continue
        if not _in_force(rule, pay):
            continue
        if when.get("supplementary") is True:
            _supplementary(rule, inp, wanted, rules, notes, extra_refs)
            continue
        if not wanted(rule) or not _months_apply(rule, n, cumulative):
            continue
        if "base_months" in effect:
            break_years = -(-n // 12)
            wait = effect["base_months"] + max(break_years - 1, 0) * effect["per_year_months"]
            add(rule, f"{rule.text}(断保{break_years}年,等待{wait}个月)", wait)
        elif "natural_month" in effect:
            add(rule, rule.text, effect["natural_month"] - 1)
        elif "paid_months" in effect:
            add(rule, rule.text, effect["paid_months"])
        elif "wait_months" in effect:
            add(rule, rule.text, effect["wait_months"], effect.get("wait_months_to"))

    if not rules:
        raise CalcError(
            "insurance_type", "按所给条件没有适用的规定", "no rule in the articles applies to these inputs"
        )

    month_waits = [r["wait_months"] for r in rules if "wait_months" in r]
    month_waits_to = [r.get("wait_months_to", r["wait_months"]) for r in rules if "wait_months" in r]
    min_wait = min(month_waits) if month_waits else None
    max_wait = max(month_waits_to) if month_waits_to else None
    conflict = len({(r.get("wait_months"), r.get("wait_months_to"), r.get("wait_days")) for r in rules}) > 1
    head = f"连续中断{n}个月" + (f"(累计{cumulative}个月)" if cumulative != n else "")
    type_name = {"employee": "职工医保", "resident": "居民医保", None: "医保"}[kind]
    inputs: dict[str, Any] = {"interruption_months": n, "cumulative_months": cumulative}
    if pay is not None:
        starts = sorted(r["date"] for r in rules)
        ends = sorted(r.get("date_to") or r["date"] for r in rules)
        earliest, latest = starts[0], ends[-1]
        inputs["payment_month"] = pay.iso
        formula = f"缴费{pay.iso}," + head + ":" + ";".join(
            f"{r['source_doc'][:3]}→{r['date']}" + (f"~{r['date_to']}" if "date_to" in r else "") for r in rules
        )
        lead = f"{pay.iso}补缴、{type_name}连续中断{n}个月:"
    else:
        earliest = latest = None
        formula = head + ":" + ";".join(f"{r['source_doc'][:3]}→{r['when_zh']}" for r in rules)
        lead = f"{type_name}连续中断{n}个月后补缴:"
        if min_wait is not None and max_wait is not None:
            earliest, latest = when_zh(min_wait), when_zh(max_wait)
        else:  # only day-counted rules
            earliest = latest = next(r["when_zh"] for r in rules)
    if kind is not None:
        inputs["insurance_type"] = kind
    if supplementary is not None:
        inputs["supplementary"] = supplementary
    if conflict:
        sentence = f"{lead}各文章说法不一,最早{earliest}、最晚{latest}起恢复待遇,具体以当地医保部门为准。"
    else:
        sentence = f"{lead}按文章规定,{earliest}起恢复待遇。"
    details = {
        "rules": rules,
        "earliest": earliest,
        "latest": latest,
        "min_wait_months": min_wait,
        "max_wait_months": max_wait,
        "conflict": conflict,
        "notes": notes,
    }
    refs: list[SourceRef] = []
    for ref in [SourceRef(r["source_doc"], r["quote"]) for r in rules] + extra_refs:
        if ref not in refs:
            refs.append(ref)
    calc = _calc(spec, inputs, formula, None, _benefit_readings(listed), details)
    return CalcResult(calc, tuple(refs), sentence)


def _supplementary(
    rule: Rule,
    inp: _Inputs,
    wanted: Callable[[Rule], bool],
    rules: list[dict[str, Any]],
    notes: list[str],
    extra_refs: list[SourceRef],
) -> None:
    """A rule for payments in the 补充缴费期: payment date + N days, not before its earliest date."""
    pay: _Month | None = inp["payment_month"]
    supplementary: bool | None = inp["supplementary"]
    period = _period_rule(inp.sel, rule)
    in_window = pay is not None and _in_period(period, pay.first_day)
    use = supplementary if supplementary is not None else in_window
    if not use or not wanted(rule):
        return
    days: int = rule.effect["wait_days"]
    earliest: _dt.date | None = rule.effect.get("earliest")
    start: _dt.date | None = None
    if pay is not None:
        start = pay.first_day + _dt.timedelta(days=days)
        if earliest is not None and pay.year == earliest.year:
            start = max(start, earliest)
    rules.append(
        {
            "rule": rule.text,
            "date": start.isoformat() if start else None,
            "source_doc": rule.doc_id,
            "quote": rule.quote,
            "applies_to": {"职工": "职工", "居民": "居民", None: "通用"}[rule.insurance_type],
            "wait_days": days,
            "when_zh": f"缴费日+{days}天",
        }
    )
    if period is None:
        return
    extra_refs.append(period.ref)
    if supplementary is None:
        notes.append(f"缴费日期在{period.label}所列{_period_zh(period)}内,按补充缴费期规则加算{days}天。")
    elif pay is not None and not in_window:
        notes.append(f"缴费日期不在{period.label}所列{_period_zh(period)}内,仍按您说明的补充缴费期计算。")


_HANDLERS: dict[str, Callable[[KindSpec, _Inputs], CalcResult]] = {
    "monthly_contribution": _monthly_contribution,
    "back_payment": _back_payment,
    "late_fee": _late_fee,
    "arrears_total": _arrears_total,
    "resident_premium": _resident_premium,
    "resident_waiting_period": _resident_waiting_period,
    "years_to_retirement": _years_to_retirement,
    "benefit_dates": _benefit_dates,
}
assert set(_HANDLERS) == set(KINDS) == set(EFFECTS), "ingest.rules.KIND_NAMES and the calculator disagree"


def _regions(regions: Any) -> tuple[str, ...]:
    if isinstance(regions, str):
        regions = (regions,)
    try:
        return tuple(r for r in regions if isinstance(r, str) and r.strip())
    except TypeError:
        return ()


def compute(
    kind: str,
    params: Mapping[str, Any] | None = None,
    rules: RuleBook | None = None,
    regions: tuple[str, ...] = (),
) -> CalcResult:
    """Run one calculation. Raises ``CalcError`` (a ``ValueError``) naming the bad parameter.

    ``rules``: the rule book (default ``corpus/rules.toml``); ``regions``: the places the question
    names, which choose among the rules (see ``ingest.rules``).
    """
    spec = KINDS.get(kind) if isinstance(kind, str) else None
    if spec is None:
        raise CalcError(
            "kind",
            f"未知的计算类型“{kind}”,可选:{'、'.join(KINDS)}",
            f"unknown kind {kind!r}; expected one of {', '.join(KINDS)}",
        )
    sel = select_rules(spec.kind, rules, _regions(regions))
    inputs = _validate(spec, params, sel)
    try:
        return _HANDLERS[spec.kind](spec, inputs)
    except InvalidOperation as exc:  # pragma: no cover - guarded by validation
        raise CalcError("params", "数值无法计算", f"arithmetic error: {exc}") from exc


def _given(params: Mapping[str, Any], name: str) -> bool:
    value = params.get(name)
    return value is not None and not (isinstance(value, str) and not value.strip())


def borrowed_rules(
    kind: str, params: Mapping[str, Any] | None, rules: RuleBook | None = None, regions: tuple[str, ...] = ()
) -> tuple[Rule, ...]:
    """Other regions' rules whose values a calculation for ``regions`` would fill in for the asker.

    Empty when no region is asked (a question naming no place gets the documented defaults) and for
    kinds that list every article's rule with its own source (benefit dates).
    """
    spec = KINDS.get(kind) if isinstance(kind, str) else None
    regions = _regions(regions)
    if spec is None or not regions or kind in LISTING_KINDS:
        return ()
    params = params if isinstance(params, Mapping) else {}
    sel = select_rules(kind, rules, regions)
    found = _filling_defaults(spec, params, sel, sel.is_borrowed)
    for name, flag in REFERENCE_PARAMS.get(kind, {}).items():
        rule = sel.rule_for(name)
        wanted = params.get(flag) is True or str(params.get(flag, "")).strip().lower() in ("true", "是", "1", "yes")
        if wanted and not _given(params, name) and rule is not None and sel.is_borrowed(rule):
            found.append(rule)
    return tuple(dict.fromkeys(found))


def regional_defaults(kind: str, params: Mapping[str, Any] | None, rules: RuleBook | None = None) -> tuple[Rule, ...]:
    """One region's rules whose values a calculation for a question naming no place fills in (居民医保
    一家三口 takes 嘉峪关's 400元 a person): the answer says whose standard it used."""
    spec = KINDS.get(kind) if isinstance(kind, str) else None
    if spec is None or kind in LISTING_KINDS:
        return ()
    params = params if isinstance(params, Mapping) else {}
    sel = select_rules(kind, rules, ())
    return tuple(dict.fromkeys(_filling_defaults(spec, params, sel, lambda r: not r.general and not r.example)))


def _filling_defaults(spec: KindSpec, params: Mapping[str, Any], sel: Selection,
                      keep: Callable[[Rule], bool]) -> list[Rule]:
    """The selected rules (``keep``-filtered) whose values fill in the inputs the asker did not give."""
    return [rule for name in rule_defaults(spec) if not _given(params, name)
            and (rule := sel.rule_for(name)) is not None and keep(rule)]
