"""Decide whether a question asks for a number or date we can calculate, and read its inputs.

``detect(question, today=None) -> CalcRequest | None``

* ``None``: the question is not numeric (断缴了怎么补交, 需要什么材料), or it is numeric
  but about nothing we calculate (报销比例是多少, 大病保险最高能报销多少钱).
* ``CalcRequest(out_of_scope=True, scope_topic=…)``: a numeric look-alike about another
  subject (信用卡滞纳金, 公积金补缴多少, 车险, 电费, 个税, 养老金); the QA service refuses.
  The topics and their labels are ``qa.scope.OUT_OF_SCOPE``, the table the service uses.
* otherwise a request for one of ``calculator.KINDS`` with ``params`` read from the
  question only, ``missing`` required inputs with Chinese prompts, and ``examples``:
  typical values the articles give (4340元 base, 4% rate, 8000元 wage, 万分之五 …),
  each with its ``SourceRef`` and labelled as an example. Examples are never put in
  ``params``: nothing the user did not say is silently used as their input.
  (Kinds whose optional parameters have documented defaults — the 10%–12% rate range,
  万分之五, the 25/5-year requirement, the 400元 resident premium — still use them in
  the calculator, which says so in ``assumptions``.)

``params`` empty means the user stated no value at all (每月交多少?): the QA service
may prefer a retrieved answer plus the prompts over a calculation.

Pure functions, no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from qa.calculator import (
    KINDS,
    REF_002_WAIT,
    REF_BACK_EXAMPLE,
    REF_BACK_FORMULA,
    REF_LATE_RATE,
    REF_MONTHLY_EXAMPLE,
    REF_RESIDENT_PERSONAL,
    REF_RESIDENT_SUBSIDY,
    REF_YEARS_15,
    REF_YEARS_25,
    CalcResult,
    SourceRef,
    compute,
)
from qa.models import Calculation
from qa.numparse import CalendarDate, Duration, Quantity, cn_to_decimal, find_quantities, to_halfwidth
from qa.scope import MEDICAL, out_of_scope_topic

__all__ = ["CalcRequest", "Example", "MissingParam", "detect"]


@dataclass(frozen=True)
class MissingParam:
    name: str
    prompt_zh: str


@dataclass(frozen=True)
class Example:
    """A typical value from an article — an illustration, never the user's input."""

    param: str
    value: Any
    label_zh: str
    ref: SourceRef


@dataclass(frozen=True)
class CalcRequest:
    kind: str  # a KINDS key; "" when out of scope
    params: dict[str, Any] = field(default_factory=dict)
    missing: tuple[MissingParam, ...] = ()
    examples: tuple[Example, ...] = ()
    assumptions: tuple[str, ...] = ()
    # param name → the words of the question it was read from
    evidence: dict[str, str] = field(default_factory=dict)
    out_of_scope: bool = False
    scope_topic: str = ""

    @property
    def complete(self) -> bool:
        return not self.out_of_scope and not self.missing

    @property
    def has_numbers(self) -> bool:
        """Whether the question stated any number or date (not just 单位原因/职工 flags)."""
        return any(not isinstance(v, (bool, str)) or k == "payment_month" for k, v in self.params.items())

    @property
    def missing_names(self) -> list[str]:
        return [m.name for m in self.missing]

    @property
    def label_zh(self) -> str:
        return KINDS[self.kind].label_zh if self.kind in KINDS else ""

    def compute(self) -> CalcResult:
        """Run the calculation; raises ``CalcError`` when inputs are missing or bad."""
        result = compute(self.kind, self.params)
        if not self.assumptions:
            return result
        calc = result.calculation.model_copy(
            update={"assumptions": list(self.assumptions) + list(result.calculation.assumptions)}
        )
        return CalcResult(calc, result.refs, result.sentence)

    def pending_calculation(self) -> Calculation:
        """A ``Calculation`` with no result, listing the prompts for what is missing."""
        spec = KINDS[self.kind]
        return Calculation(
            kind=self.kind,
            formula=spec.formula_zh,
            inputs={k: _jsonable(v) for k, v in self.params.items()},
            result=None,
            unit=spec.unit,
            assumptions=list(self.assumptions),
            details={
                "examples": [
                    {"param": e.param, "value": _jsonable(e.value), "label_zh": e.label_zh, "doc_id": e.ref.doc_id}
                    for e in self.examples
                ]
            },
            missing=[m.prompt_zh for m in self.missing],
        )


def _jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


# --------------------------------------------------------------------------------------
# Text normalisation
# --------------------------------------------------------------------------------------

# Frequent typos and variants, mapped one character string to one of the same length so
# spans from numparse still line up: 断交→断缴, 补交→补缴, 医宝→医保.
_FOLD = [("断交", "断缴"), ("补交", "补缴"), ("续交", "续缴"), ("医宝", "医保"), ("醫保", "医保"), ("交费", "缴费")]


def _fold(text: str) -> str:
    text = to_halfwidth(text).lower()
    for a, b in _FOLD:
        text = text.replace(a, b)
    return text


# --------------------------------------------------------------------------------------
# Intent
# --------------------------------------------------------------------------------------

_PAY = r"[缴交付出扣]"
_ASK = re.compile(
    r"多少|几[个年月天号次]|几块|多久|多长|什么时候|啥时候|什么时间|何时|哪天|哪个月|哪一天|几月|"
    r"怎么算|咋算|如何算|如何计算|怎么计算|怎样计算|算一下|算算|帮我算|计算|一共|总共|合计|还差|差几|要[缴交]几|"
    r"马上|立刻|立即|当月就|次月就|下个?月.{0,3}(能|可以)"
)
# Asking for an amount of money (not for a published figure such as 缴费基数下限是多少).
_AMOUNT_ASK = re.compile(
    rf"{_PAY}多少|多少钱|{_PAY}几|罚多少|怎么算|咋算|如何算|如何计算|怎么计算|怎样计算|算一下|算算|帮我算|"
    rf"一共|总共|合计|加起来"
)
# Questions about a rule or a standard, not about the user's numbers.
_FACT_ASK = re.compile(r"哪一?年的|哪些|哪种|什么标准|按什么|是什么(?!时候)|标准是多少|下限是多少|上限是多少")
_DATE_ASK = re.compile(r"什么时候|啥时候|什么时间|何时|哪天|哪个月|哪一天|几月|几号")
_RECOVER = re.compile(r"恢复|报销|能用|可以用|生效|享受|看病|待遇|用上|起效|有效")
_TIMING = re.compile(r"多久|多长时间|多长|几个月|多少天|几天|等多久|马上|立刻|立即|当月就|次月就|下个月|下月")
_STOPPED = re.compile(r"停止|停保|会停|就停|被停|停了|停掉|断多久|多久不[缴交]|多久没[缴交]")
_LATE = re.compile(r"滞纳金|罚款|罚金|罚多少|罚几")
_WAIT_PERIOD = re.compile(r"等待期")
_MORE_BREAK = re.compile(r"多断保|每多断|断保\s*[\d一二两三四五六七八九十]+\s*年|断保了")
_YEARS_ASK = re.compile(
    rf"(还|再|尚|仍)(要|需|需要|得|应)?{_PAY}?(几|多少)年|还?差(几|多少)年|剩(几|多少)年|"
    rf"补(几|多少)年|(还|再)(要|需要?|得)?{_PAY}(多久|多长时间)|还?差多久|[缴交]够|[缴交]满.{{0,6}}(几|多少)年"
)
_YEARS_CONTEXT = re.compile(
    r"年限|退休|[缴交]了?\s*[\d一二两三四五六七八九十几]+\s*年|满\s*[\d一二两三四五六七八九十]+\s*年"
)
_RESIDENT = re.compile(r"居民医保|城乡居民|居民|新农合|合作医疗|农合")
_EMPLOYEE = re.compile(r"职工|单位|公司|灵活就业|在职|上班|企业|个体")
_BACK = re.compile(r"补[缴交]|补[缴交]?多少|补的|补上|补齐|补回")
_BACK_CONTEXT = re.compile(r"断[缴交了]|中断|停[缴交]|欠[缴交费]|漏[缴交]|没[缴交]|未[缴交]")
# Money coming in (个人账户每月打进多少钱), not a contribution.
_INCOMING = re.compile(r"打进|打入|划入|划拨|返还|到账|领|拿到|能拿|发多少|报销|能报|报多少")
_MONTHLY = re.compile(
    rf"每月|每个月|一个月|月{_PAY}|按月|月均|每年|一年|全年|一共|总共|合计|费率|基数|灵活就业|{_PAY}多少|{_PAY}几"
)


def _is_numeric_question(t: str) -> bool:
    return bool(_ASK.search(t) or _LATE.search(t) and re.search(r"算|多少|几", t))


def _choose_kind(t: str) -> str | None:
    if _LATE.search(t):
        return "late_fee"
    if _WAIT_PERIOD.search(t) and _MORE_BREAK.search(t) and re.search(r"几个月|多少个月|多久|多长|几月", t):
        return "resident_waiting_period"
    recover_ask = _RECOVER.search(t) and (_DATE_ASK.search(t) or _TIMING.search(t))
    wait_ask = _WAIT_PERIOD.search(t) and re.search(r"多久|多长|几个月|多少天", t)
    if (recover_ask or wait_ask) and not _STOPPED.search(t):
        return "benefit_dates"
    if _YEARS_ASK.search(t) and _YEARS_CONTEXT.search(t):
        return "years_to_retirement"
    if not _AMOUNT_ASK.search(t):
        return None
    resident = _RESIDENT.search(t) and not re.search(r"职工|工资|基数|费率|灵活就业", t)
    if resident or re.search(r"财政补助|政府补贴", t) and re.search(r"一共|总共|合计|加起来", t):
        return "resident_premium"
    if _BACK.search(t) or _BACK_CONTEXT.search(t):
        return "back_payment"
    if _MONTHLY.search(t) and re.search(r"[缴交扣]|费率|基数|医保.{0,8}多少钱", t) and not _INCOMING.search(t):
        return "monthly_contribution"
    return None


# --------------------------------------------------------------------------------------
# Reading parameters
# --------------------------------------------------------------------------------------


@dataclass
class _Ctx:
    question: str
    t: str  # folded text, same length as question
    quantities: list[Quantity]
    used: set[int] = field(default_factory=set)
    params: dict[str, Any] = field(default_factory=dict)
    evidence: dict[str, str] = field(default_factory=dict)
    assumptions: list[str] = field(default_factory=list)
    extra_missing: list[MissingParam] = field(default_factory=list)

    def before(self, q: Quantity, width: int = 8) -> str:
        return self.t[max(0, q.start - width) : q.start]

    def after(self, q: Quantity, width: int = 5) -> str:
        return self.t[q.end : q.end + width]

    def label(self, q: Quantity, labels: dict[str, re.Pattern[str]], width: int = 8, after: int = 0) -> str | None:
        """The label whose keyword ends nearest before ``q`` (or, failing that, right after it)."""
        window = self.before(q, width)
        best: tuple[int, str] | None = None
        for name, pattern in labels.items():
            for m in pattern.finditer(window):
                if best is None or m.end() > best[0]:
                    best = (m.end(), name)
        if best is not None:
            return best[1]
        if after:
            tail = self.after(q, after)
            for name, pattern in labels.items():
                if pattern.match(tail.lstrip("的 ")):
                    return name
        return None

    def take(self, name: str, value: Any, q: Quantity | None = None, text: str | None = None) -> None:
        self.params[name] = value
        if q is not None:
            self.used.add(q.start)
            self.evidence[name] = q.text
        elif text is not None:
            self.evidence[name] = text

    def free(self, *kinds: str) -> list[Quantity]:
        return [q for q in self.quantities if q.kind in kinds and q.start not in self.used]

    def note_approx(self, q: Quantity) -> None:
        if q.approx:
            self.assumptions.append(f"“{q.text}”按{_plain(q)}计算。")


def _plain(q: Quantity) -> str:
    v = q.value
    if isinstance(v, Duration):
        unit = {"day": "天", "week": "周", "month": "个月", "year": "年"}[v.unit]
        return f"{format(v.amount.normalize(), 'f')}{unit}"
    if isinstance(v, Decimal):
        return f"{format(v.normalize(), 'f')}元"
    return q.text


def _amounts(ctx: _Ctx, min_bare: Decimal = Decimal(10)) -> list[Quantity]:
    """Money, and bare numbers big enough to be money (基数4340, 工资八千)."""
    out = []
    for q in ctx.free("money", "number"):
        if q.kind == "number" and (
            q.value < min_bare or re.match(r"\s*(个|年|月|天|日|周|%|号|次|人|口)", ctx.after(q, 2))
        ):
            continue
        out.append(q)
    return out


_BREAK_LABEL = re.compile(r"断|停|中断|欠|漏|没[缴交]|未[缴交]|没有[缴交]|差")


def _months_of(q: Quantity) -> Decimal | None:
    d: Duration = q.value
    return d.months


def _interruption(ctx: _Ctx, name: str = "interruption_months") -> Quantity | None:
    """The duration that is the length of a break: labelled 断/停/欠…, else the first months/years."""
    durations = [q for q in ctx.free("duration") if _months_of(q) is not None]
    labelled = [q for q in durations if _BREAK_LABEL.search(ctx.before(q, 6))]
    pick = (labelled or durations or [None])[0]
    return pick


def _read_break(ctx: _Ctx, q: Quantity, name: str, strict_more_means_plus_one: bool) -> None:
    months = _months_of(q)
    assert months is not None
    before, after = ctx.before(q, 3), ctx.after(q, 3)
    more = re.search(r"超过|超出|超\s*$|多于|大于", before) or after.startswith("多")
    if strict_more_means_plus_one and more and months == months.to_integral_value():
        ctx.assumptions.append(f"“超过{q.text}”按{int(months) + 1}个月计算(“超过”不含本数)。")
        months += 1
    ctx.note_approx(q)
    ctx.take(name, months, q)


def _read_rate(ctx: _Ctx, single: str | None, low: str | None = None, high: str | None = None) -> None:
    rates = ctx.free("rate")
    ranges = ctx.free("rate_range")
    if ranges and low and high:
        q = ranges[0]
        ctx.take(low, q.value[0], q)
        ctx.take(high, q.value[1], q)
        ctx.evidence[high] = q.text
    elif rates and single:
        ctx.take(single, rates[0].value, rates[0])


# Per kind ------------------------------------------------------------------------------

_BASE_LABELS = {
    "base": re.compile(r"基数|工资|月薪|薪资|收入|薪水|按"),
}


def _monthly(ctx: _Ctx) -> None:
    _read_rate(ctx, "rate")
    if "rate" not in ctx.params and ctx.free("rate_range"):
        ctx.assumptions.append("每月缴费需要一个确切费率,您给的是比例范围。")
    amounts = _amounts(ctx, Decimal(100))
    labelled = [q for q in amounts if ctx.label(q, _BASE_LABELS)]
    pick = (labelled or amounts or [None])[0]
    if pick is not None:
        ctx.take("base", pick.value, pick)
    # A total over a period: "一年一共交多少", "3个月交多少", "每年交多少".
    for q in ctx.free("duration"):
        months = _months_of(q)
        if months is not None and months != 1 and not _BREAK_LABEL.search(ctx.before(q, 4)):
            ctx.take("months", months, q)
            break
    else:
        m = re.search(r"每年|全年|一年下来", ctx.t)
        if m:
            ctx.take("months", Decimal(12), text=m.group(0))


_WAGE_LABELS = {"wage": re.compile(r"基数|工资|月薪|薪资|收入|薪水|平均|按")}


def _back(ctx: _Ctx) -> None:
    q = _interruption(ctx)
    if q is not None:
        _read_break(ctx, q, "months", strict_more_means_plus_one=False)
    _read_rate(ctx, "rate", "rate_low", "rate_high")
    amounts = _amounts(ctx, Decimal(100))
    labelled = [q for q in amounts if ctx.label(q, _WAGE_LABELS)]
    pick = (labelled or amounts or [None])[0]
    if pick is not None:
        ctx.take("wage", pick.value, pick)


_EMPLOYER_CAUSED = re.compile(
    r"(单位|公司|用人单位|老板|企业|厂里|雇主)(的)?(原因|没|未|漏|欠|忘|断|少|拖|不给|不交|不缴)|因单位|单位造成"
)
_PERSONAL_CAUSED = re.compile(r"个人原因|自己原因|自己没|自己忘|我自己")
_OWED_LABELS = {"owed": re.compile(r"欠|欠费|欠缴|补缴|应缴|本金|金额|费用|保费")}


def _late(ctx: _Ctx) -> None:
    days = [q for q in ctx.free("duration") if q.value.days is not None]
    if days:
        ctx.take("days", days[0].value.days, days[0])
    else:
        other = [q for q in ctx.free("duration") if _months_of(q) is not None]
        if other:
            ctx.assumptions.append(f"滞纳金按日计算,“{other[0].text}”需要换算成天数,请提供具体天数。")
    _read_rate(ctx, "daily_rate")
    amounts = _amounts(ctx, Decimal(1))
    labelled = [q for q in amounts if ctx.label(q, _OWED_LABELS)]
    pick = (labelled or amounts or [None])[0]
    if pick is not None:
        ctx.take("owed", pick.value, pick)
    m = _EMPLOYER_CAUSED.search(ctx.t)
    if m:
        ctx.take("employer_caused", True, text=m.group(0))
    else:
        m = _PERSONAL_CAUSED.search(ctx.t)
        if m:
            ctx.take("employer_caused", False, text=m.group(0))


_RESIDENT_LABELS = {
    "subsidy": re.compile(r"补助|补贴|财政|政府|国家"),
    "personal": re.compile(r"个人|每人|自己|自付|本人|个人缴费|每年|缴费|标准"),
}
_PERSONS = re.compile(r"([\d一二两三四五六七八九十]+)\s*(?:口人|口|个人(?!缴|账|部|原|承|支|出|负)|人(?![民员均]))")


def _resident_premium(ctx: _Ctx) -> None:
    for q in _amounts(ctx, Decimal(1)):
        name = ctx.label(q, _RESIDENT_LABELS, width=8)
        if name and name not in ctx.params:
            ctx.take(name, q.value, q)
    if "personal" not in ctx.params:
        rest = _amounts(ctx, Decimal(1))
        if rest:
            ctx.take("personal", rest[0].value, rest[0])
    m = _PERSONS.search(ctx.t)
    if m:
        try:
            n = int(m.group(1)) if m.group(1).isdigit() else int(cn_to_decimal(m.group(1)))
        except ValueError:
            n = 0
        if n > 1:
            ctx.take("persons", n, text=m.group(0))


_YEAR_LABELS = {
    "deemed": re.compile(r"视同"),
    "actual": re.compile(r"实际"),
    "required": re.compile(r"满|要求|规定|最低|法定|至少|够|需要?|应|年限为|标准"),
    "paid": re.compile(r"[缴交]了|已[缴交经]|已经|累计[缴交]|一共[缴交]|[缴交]过"),
}


def _years(ctx: _Ctx) -> None:
    found: dict[str, Decimal] = {}
    unlabelled: list[Quantity] = []
    for q in ctx.free("duration"):
        d: Duration = q.value
        years = d.years
        if years is None:
            continue
        name = ctx.label(q, _YEAR_LABELS, width=8)
        if name is None and re.match(r"\s*的?(要求|规定|标准)", ctx.after(q, 5)):
            name = "required"
        if name is None:
            unlabelled.append(q)
            continue
        if name in found:
            continue
        found[name] = years
        ctx.used.add(q.start)
        ctx.evidence[name] = q.text
        ctx.note_approx(q)
    if "paid" not in found and unlabelled and not ({"deemed", "actual"} & set(found)):
        found["paid"] = unlabelled[0].value.years
        ctx.evidence["paid"] = unlabelled[0].text
    deemed, actual = found.get("deemed"), found.get("actual")
    if "paid" in found:
        ctx.take("paid_years", found["paid"], text=ctx.evidence.pop("paid"))
        if actual is not None:
            ctx.take("actual_years", actual, text=ctx.evidence.pop("actual"))
    elif deemed is not None or actual is not None:
        total = (deemed or Decimal(0)) + (actual or Decimal(0))
        parts = [ctx.evidence.get(k, "") for k in ("deemed", "actual") if k in found]
        ctx.take("paid_years", total, text="+".join(parts))
        if deemed is not None and actual is not None:
            ctx.assumptions.append(
                f"已缴费年限 = 视同缴费年限 + 实际缴费年限 = {format(total.normalize(), 'f')}年。"
            )
        elif deemed is None:
            ctx.assumptions.append("只给出实际缴费年限,按没有视同缴费年限计算。")
        if actual is not None:
            ctx.take("actual_years", actual, text=ctx.evidence.get("actual"))
    if "required" in found:
        ctx.take("required_years", found["required"], text=ctx.evidence.pop("required"))
    for key in ("deemed", "actual"):
        ctx.evidence.pop(key, None)


def _waiting(ctx: _Ctx) -> None:
    for q in ctx.free("duration"):
        d: Duration = q.value
        before = ctx.before(q, 6)
        if re.search(r"每多?断保?\s*$|每\s*$", before):
            continue  # the rule's own "每多断保1年"
        if d.unit == "year" and re.search(r"多断保?了?\s*$", before):
            ctx.take("extra_years", d.amount, q)
        elif d.unit == "year" and re.search(r"断保?了?\s*$|断缴了?\s*$|停了?\s*$", before):
            ctx.take("break_years", d.amount, q)
        elif d.unit == "month" and re.search(r"等待期?为?\s*$|等\s*$", before):
            ctx.take("base_months", d.amount, q)
        elif d.unit == "month" and re.search(r"增加|加\s*$|延长", before):
            ctx.take("per_year_months", d.amount, q)
    if "extra_years" in ctx.params and "break_years" in ctx.params:
        del ctx.params["break_years"]
        ctx.evidence.pop("break_years", None)


_SUPPLEMENTARY = re.compile(r"补充缴费期")
_NOW = re.compile(r"今天|这个月|本月|刚刚|刚才|刚[缴交补]|现在[缴交补]")
_LAST_MONTH = re.compile(r"上个月|上月")


def _shift_month(y: int, m: int, k: int) -> tuple[int, int]:
    i = y * 12 + m - 1 + k
    return i // 12, i % 12 + 1


def _benefit(ctx: _Ctx, today: date | None) -> None:
    dates = [q for q in ctx.free("date") if q.value.month is not None]
    if dates:
        q = dates[0]
        cd: CalendarDate = q.value
        year = cd.year
        if year is None and today is not None:
            year = today.year + (cd.year_offset or 0)
            ctx.assumptions.append(f"“{q.text}”按{year}年计算。")
        if year is None:
            ctx.used.add(q.start)
            ctx.extra_missing.append(MissingParam("payment_month", "请提供补缴的年份和月份,如2025-03"))
        else:
            iso = f"{year:04d}-{cd.month:02d}" + (f"-{cd.day:02d}" if cd.day else "")
            ctx.take("payment_month", iso, q)
    elif today is not None:
        m = _NOW.search(ctx.t) or _LAST_MONTH.search(ctx.t)
        if m:
            y, mo = (today.year, today.month) if _NOW.match(m.group(0)) else _shift_month(today.year, today.month, -1)
            ctx.take("payment_month", f"{y:04d}-{mo:02d}", text=m.group(0))
    # Interruption: 累计 → cumulative; the rest → consecutive.
    for q in [q for q in ctx.free("duration") if _months_of(q) is not None]:
        before = ctx.before(q, 6)
        if re.search(r"累计", before) and "cumulative_months" not in ctx.params:
            _read_break(ctx, q, "cumulative_months", strict_more_means_plus_one=True)
    q = _interruption(ctx)
    if q is not None:
        _read_break(ctx, q, "interruption_months", strict_more_means_plus_one=True)
    elif "cumulative_months" in ctx.params:
        ctx.params["interruption_months"] = ctx.params["cumulative_months"]
        ctx.assumptions.append("只说了累计中断月数,连续中断月数按同一数值计算。")
    if _EMPLOYEE.search(ctx.t) and not _RESIDENT.search(ctx.t):
        ctx.take("insurance_type", "employee", text=_EMPLOYEE.search(ctx.t).group(0))  # type: ignore[union-attr]
    elif _RESIDENT.search(ctx.t) and not _EMPLOYEE.search(ctx.t):
        ctx.take("insurance_type", "resident", text=_RESIDENT.search(ctx.t).group(0))  # type: ignore[union-attr]
    if _SUPPLEMENTARY.search(ctx.t):
        ctx.take("supplementary", True, text="补充缴费期")


# --------------------------------------------------------------------------------------
# Examples from the articles
# --------------------------------------------------------------------------------------

_EXAMPLES: dict[str, list[Example]] = {
    "monthly_contribution": [
        Example("base", Decimal(4340), "示例(非您的数据):文章中某地灵活就业缴费基数下限为4340元", REF_MONTHLY_EXAMPLE),
        Example("rate", Decimal("0.04"), "示例(非您的数据):同一例子中费率为4%,最低月缴费173.60元", REF_MONTHLY_EXAMPLE),
    ],
    "back_payment": [
        Example("wage", Decimal(8000), "示例(非您的数据):深圳例子按平均工资8000元计算", REF_BACK_EXAMPLE),
        Example("months", Decimal(4), "示例(非您的数据):深圳例子断缴4个月,补缴约3200元", REF_BACK_EXAMPLE),
        Example(
            "rate_low", Decimal("0.10"), "缴费比例一般为单位+个人合计10%-12%(未提供时按此范围计算)", REF_BACK_FORMULA
        ),
    ],
    "late_fee": [
        Example("daily_rate", Decimal("0.0005"), "滞纳金一般按日加收万分之五(未提供时按此计算)", REF_LATE_RATE),
    ],
    "resident_premium": [
        Example("personal", Decimal(400), "2025年度个人缴费标准每人每年400元(未提供时按此计算)", REF_RESIDENT_PERSONAL),
        Example("subsidy", Decimal(670), "示例(非您的数据):2025年度财政补助不低于670元", REF_RESIDENT_SUBSIDY),
    ],
    "years_to_retirement": [
        Example("required_years", Decimal(25), "累计满25年(其中实际缴费满5年)(未提供时按此计算)", REF_YEARS_25),
        Example("required_years", Decimal(15), "示例(非您的数据):也有地区为15年", REF_YEARS_15),
    ],
    "resident_waiting_period": [
        Example("base_months", 3, "等待3个月,每多断保1年增加1个月(未提供时按此计算)", REF_002_WAIT),
    ],
    "benefit_dates": [],
}


def _examples_for(kind: str, given: Iterable[str]) -> tuple[Example, ...]:
    given = set(given)
    return tuple(e for e in _EXAMPLES[kind] if e.param not in given)


# --------------------------------------------------------------------------------------
# Entry point
# --------------------------------------------------------------------------------------


def detect(question: str, today: date | None = None) -> CalcRequest | None:
    """Is ``question`` asking for a number or date we calculate? Read what it states.

    ``today`` (optional) places 今年/这个月/3月 in a year; without it such dates are
    reported as missing rather than guessed.
    """
    if not isinstance(question, str) or not question.strip():
        return None
    t = _fold(question)
    if not _is_numeric_question(t):
        return None
    topic = out_of_scope_topic(t)
    if topic is not None:
        return CalcRequest(kind="", out_of_scope=True, scope_topic=topic)
    kind = _choose_kind(t)
    if kind is None:
        return None
    quantities = find_quantities(question)
    if _FACT_ASK.search(t) and not quantities:
        return None
    ctx = _Ctx(question, t, quantities)
    if kind == "monthly_contribution":
        _monthly(ctx)
    elif kind == "back_payment":
        _back(ctx)
    elif kind == "late_fee":
        _late(ctx)
    elif kind == "resident_premium":
        _resident_premium(ctx)
    elif kind == "years_to_retirement":
        _years(ctx)
    elif kind == "resident_waiting_period":
        _waiting(ctx)
    else:
        _benefit(ctx, today)

    spec = KINDS[kind]
    missing = [MissingParam(p.name, p.prompt_zh) for p in spec.params if p.required and p.name not in ctx.params]
    for group in spec.one_of:
        if not any(name in ctx.params for name in group):
            missing.append(MissingParam(group[0], spec.param(group[0]).prompt_zh))
    for m in ctx.extra_missing:
        if m.name not in {x.name for x in missing}:
            missing.append(m)
    if re.search(r"社保", t) and not MEDICAL.search(t):
        ctx.assumptions.append("问题说的是社保,这里只计算其中的医保部分。")
    return CalcRequest(
        kind=kind,
        params=dict(ctx.params),
        missing=tuple(missing),
        examples=_examples_for(kind, ctx.params),
        assumptions=tuple(dict.fromkeys(ctx.assumptions)),
        evidence=dict(ctx.evidence),
    )
