"""Decide whether a question asks for a number or date we can calculate, and read its inputs.

``detect(question, today=None) -> CalcRequest | None``

* ``None``: the question is not numeric (断缴了怎么补交, 需要什么材料), or it is numeric
  but about nothing we calculate (报销比例是多少, 大病保险最高能报销多少钱).
* ``CalcRequest(out_of_scope=True, scope_topic=…)``: a numeric look-alike about another
  subject (信用卡滞纳金, 公积金补缴多少, 车险, 电费, 个税, 养老金); the QA service refuses.
  The topics and their labels are ``qa.scope.OUT_OF_SCOPE``, the table the service uses.
* otherwise a request for one of ``calculator.KINDS`` with ``params`` read from the
  question only, ``missing`` required inputs with Chinese prompts, and ``examples``:
  typical values the rule book (``corpus/rules.toml``, its ``examples`` labels) gives
  (4340元 base, 4% rate, 8000元 wage, 万分之五 …), each with its ``SourceRef`` and labelled
  as an example. Examples are never put in ``params``: nothing the user did not say is
  silently used as their input. (Kinds whose optional parameters have rule defaults — the
  10%–12% rate range, 万分之五, the 25/5-year requirement, the 400元 resident premium —
  still use them in the calculator, which says so in ``assumptions``.) ``examples_for``
  gives the examples for a question about some regions (the service's path).

``params`` empty means the user stated no value at all (每月交多少?): the QA service
may prefer a retrieved answer plus the prompts over a calculation.

Numbers are read the way people type them (numparse: 两千五, 1万2, 4.5k, 仨月, 三个月零十天,
万分之3, 一整年, Jan 2025 …) and matched to their labels on either side (基数5000 / 5000的基数);
ages, years, phone numbers, counts of people (2 kids) and money spent elsewhere in a story are
not taken as inputs, nor is the 一天 of a daily rate (一天万分之三). A rule the asker states
(我们这要求交满15年, 实际缴费满10年, 等待期基本是2个月, 每多断一年加2个月, 滞纳金按万分之三) is
read as that rule, not as their own figures, and the calculator uses it ahead of the articles'
defaults. English a mixed-language question keeps (how much, total, which month, skipped … for
1年, a 2年 break, requires 20年, I've paid 9年, me + my 2 kids) is read like its Chinese.

Asking for money is read from many wordings (要多少, 得掏多少, 出多少, 补缴额是多少); a total
with the state's part that the question does not state (个人缴费加财政补助合计, 算上政府补贴)
sets ``include_subsidy`` and the calculator adds the rule book's reference subsidy (article 002's
670元), saying so.

Pure functions, no I/O (the default rule book is read once by ``ingest.rules.default_rules``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from ingest.rules import RuleBook, default_rules
from qa.calculator import KINDS, CalcResult, SourceRef, compute, select_rules
from qa.models import Calculation
from qa.numparse import CalendarDate, Duration, Quantity, cn_to_decimal, find_quantities, to_halfwidth
from qa.scope import MEDICAL, out_of_scope_topic

__all__ = ["CalcRequest", "Example", "MissingParam", "detect", "examples_for"]


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
        """Whether the question stated any number or date (not just 单位原因/职工 flags), or asked
        for a sum of the articles' figures (个人缴费加财政补助合计: ``include_subsidy``)."""
        return any(
            not isinstance(v, (bool, str)) or k in ("payment_month", "include_subsidy") for k, v in self.params.items()
        )

    @property
    def missing_names(self) -> list[str]:
        return [m.name for m in self.missing]

    @property
    def label_zh(self) -> str:
        return KINDS[self.kind].label_zh if self.kind in KINDS else ""

    def compute(self, rules: RuleBook | None = None, regions: tuple[str, ...] = ()) -> CalcResult:
        """Run the calculation (with ``rules`` for ``regions``, see ``calculator.compute``);
        raises ``CalcError`` when inputs are missing or bad."""
        result = compute(self.kind, self.params, rules, regions)
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
# English question words a mixed-language question keeps (how much, how many more, total, which month).
_EN_ASK = r"how\s*(much|many|long)|怎么\s*(much|many)|many\s+more|\btotal\b|which\s+month|what\s+month|when\s+can"
_ASK = re.compile(
    r"多少|几[个年月天号次]|几块|多久|多长|什么时候|啥时候|什么时间|何时|哪天|哪个月|哪一天|几月|"
    r"怎么算|咋算|如何算|如何计算|怎么计算|怎样计算|算一下|算算|帮我算|计算|一共|总共|合计|还差|差几|要[缴交]几|"
    rf"马上|立刻|立即|当月就|次月就|下个?月.{{0,3}}(能|可以)|{_EN_ASK}"
)
# Asking for an amount of money (not for a published figure such as 缴费基数下限是多少).
# 要多少 / 得掏多少 / 出多少 / 花多少 ask for money; 要多少年 / 要多少天 ask for a time (other kinds).
_AMOUNT_ASK = re.compile(
    rf"{_PAY}多少|多少钱|{_PAY}几|罚多少|怎么算|咋算|如何算|如何计算|怎么计算|怎样计算|算一下|算算|帮我算|"
    rf"一共|总共|合计|加起来|补[缴交]?多少|补几|[要得需]补|"
    r"(要|得|需要?|掏|花)多少(?=钱|块|元|呢|啊|呀|嘞|哇|了|吗|$|[\s,。;?!])|"
    # 按10%算多少, 算下来多少, 一年共多少: a sum or a reckoning asked for.
    r"算(下来|起来)?(是|要|得|一共)?多少|(?<![一总])共(计|要|需)?多少|"
    r"(金额|费用|[缴费]额|钱数?|总额)(是|为|有|大概|大约|约|一共|总共)?多少|"
    # "交一年多少", "一个月多少", "每月多少": a period then 多少 asks for that period's amount.
    # "交3个月多少": the period may carry its number.
    rf"(?:{_PAY}\s*(?:\d+|[一二两三四五六七八九十]+)?|每|一|1)\s*(?:年|个?月)\s*(?:要|得|需要?)?{_PAY}?多少(?![年个月天])|"
    r"how\s*much|\btotal\b|"
    # …基数三千五百元 比例百分之八点五 多少: a bare 多少 as the last clause, after the inputs.
    r"[\s,;，；]多少\s*(钱|元|块)?\s*[?？]*\s*$"
)
# Questions about a rule or a standard, not about the user's numbers.
_FACT_ASK = re.compile(r"哪一?年的|哪些|哪种|什么标准|按什么|是什么(?!时候)|标准是多少|下限是多少|上限是多少")
_DATE_ASK = re.compile(r"什么时候|啥时候|什么时间|何时|哪天|哪个月|哪一天|几月|几号|(which|what)\s+month|\bwhen\b")
_RECOVER = re.compile(r"恢复|报销|能用|可以用|生效|享受|看病|待遇|用上|起效|有效")
_TIMING = re.compile(r"多久|多长时间|多长|几个月|多少天|几天|等多久|马上|立刻|立即|当月就|次月就|下个月|下月")
_STOPPED = re.compile(r"停止|停保|会停|就停|被停|停了|停掉|断多久|多久不[缴交]|多久没[缴交]")
_LATE = re.compile(r"滞纳金|罚款|罚金|罚多少|罚几")
# The arrears and the late fee together: 连本带利, 本金加滞纳金, 加上滞纳金一共…
_WITH_FEE = re.compile(
    r"连本带|本[金钱][加和及与+]|本息|[加算]上[^,。;?!]{0,10}滞纳金|连同?滞纳金|[含包]括?滞纳金|带上?滞纳金|"
    r"加滞纳金(?=一共|总共|共|合计|后)|"
    r"(欠费|欠款|本金|本钱|补缴|医保费)[加和及与+]滞纳金|滞纳金[加和及与+](欠费|欠款|本金|本钱|补缴|医保费)|"
    r"(incl\.?|including|includ(e|ing)|plus|with)\s*(the\s+)?(late\s+fee|滞纳金)"
)
_TOTAL = re.compile(r"一共|总共|合计|总计|加起来|总额|全部|\btotal\b")
# …but "滞纳金一共多少" / "一共要交多少滞纳金" ask for the fee alone.
_FEE_TOTAL = re.compile(
    r"(滞纳金|罚款|罚金)\s*(一共|总共|合计|总计|共)|(一共|总共|合计|总计)[^,。;?!]{0,6}多少钱?的?(滞纳金|罚)"
)
_WAIT_PERIOD = re.compile(r"等待期")
_MORE_BREAK = re.compile(r"多断保|每多断|断保\s*[\d一二两三四五六七八九十]+\s*年|断保了")
_YEARS_ASK = re.compile(
    rf"(还|再|尚|仍)(要|需|需要|得|应)?(缴纳|交纳|{_PAY})?(几|多少)年|还?差(几|多少)年|剩(几|多少)年|"
    rf"补(几|多少)年|(还|再)(要|需要?|得)?{_PAY}(多久|多长时间)|还?差多久|[缴交]够|[缴交]满.{{0,6}}(几|多少)年|"
    r"(how|怎么)\s*many\s+more|many\s+more\s+(years?|年)|more\s+to\s+go|(years?|年)\s+(left|to\s+go)"
)
_YEARS_CONTEXT = re.compile(
    r"\b(paid|contributed|got|have)\b[^,。;?!]{0,8}\d+\s*(年|years?)|\b(retire|retirement|requires?|requirement)\b|"
    r"[缴交]了[^,。;?!\d]{0,10}\d+\s*年|"
    r"年限|退休|[缴交]了?\s*[\d一二两三四五六七八九十几]+\s*年|满\s*[\d一二两三四五六七八九十]+\s*年"
)
_RESIDENT = re.compile(r"居民医保|城乡居民|居民|新农合|合作医疗|农合")
# The state's part of the resident premium: 财政补助670, 政府补670, 国家贴670, government subsidy.
_SUBSIDY = re.compile(r"(政府|财政|国家)(补助|补贴|补|贴|出)|补助|补贴|subsidy|government")
# A total that includes the state's part although the question gives no figure for it
# (个人缴费加财政补助合计, 算上政府补贴一共, including the government subsidy): the calculator
# adds the articles' reference subsidy and says so.
_WITH_SUBSIDY = re.compile(
    r"(算上|加上|连同|包括|包含|含|带上|加|和|及|与|\+|include|including|incl\.?|plus|with)\s*(the\s+)?"
    r"(政府|财政|国家|government|state)[^,。;?!\d]{0,6}?(补助|补贴|补的|出的|部分|subsidy|part|contribution)|"
    r"(算上|加上|包括|包含|连同|include|including|incl\.?)\s*(the\s+)?(补助|补贴|subsidy)|"
    # 连政府补的那部分也算上 / 把财政补贴也加上: the state's part named first, "counted too" after it.
    r"(连|把|将)\s*(政府|财政|国家)[^,。;?!\d]{0,8}?(也|都)?\s*(算上|算进去|算进来|加上|加进去|包括进去|包括)"
)
_WITHOUT_SUBSIDY = re.compile(r"不(算|含|包括|包含|计)|除去|除了|去掉|扣除|excluding|without|out\s+of\s+pocket")
_SUBSIDY_STATED = re.compile(
    r"((政府|财政|国家)(补助|补贴|补|贴|出)|补助|补贴|subsidy)\s*(是|为|有|了)?\s*[\d一二两三四五六七八九]"
)
_EMPLOYEE = re.compile(r"职工|单位|公司|灵活就业|在职|上班|企业|个体")
_BACK = re.compile(r"补[缴交]|补[缴交]?多少|补的|补上|补齐|补回|补(的话)?\s*(要|得|需要?)")
_BACK_CONTEXT = re.compile(r"断[缴交了]|中断|停[缴交了]|欠[缴交费]|漏[缴交]|没[缴交]|未[缴交]")
# Money coming in (个人账户每月打进多少钱), not a contribution.
_INCOMING = re.compile(r"打进|打入|划入|划拨|返还|到账|领|拿到|能拿|发多少|报销|能报|报多少")
_MONTHLY = re.compile(
    rf"每月|每个月|一个月|月{_PAY}|按月|月均|每年|一年|全年|一共|总共|合计|费率|基数|灵活就业|{_PAY}多少|{_PAY}几"
)
# A year without cover (断保2年, 断了两年, 2年没交): the unit of article 002's waiting rule.
_BREAK_BEFORE = re.compile(
    r"(断保?|断缴|停保?|停缴|没[缴交保]|未[缴交保]|中断)了?\s*(有|快|近|差不多|整整|足足|大概|大约|约|将近)?\s*$|"
    # English left in the question: skipped 居民医保 for 1年, missed 2年, a 2年 gap.
    # …and "no cover for 3 years", "not insured for 2 years", "didn't pay for 2 years".
    r"\b(skip(ped)?|miss(ed)?|lapsed?|stopp?(ed)?|without|uninsured|unpaid|no\s+(cover|coverage|insurance)|"
    r"not\s+(covered|insured|paid)|didn'?t\s+pay)\b[^,。;?!\d]{0,24}$"
)
_BREAK_AFTER = re.compile(
    # 4个月忘了交 / 两年忘交: forgotten months are months without cover too.
    r"\s*(没|未)有?[缴交保参]|\s*忘(了|记)?[缴交]|\s*的?断保|\s*(of\s+)?(break|gap|lapse|without|uninsured)\b"
)
_NOW = re.compile(r"今天|这个月|本月|刚刚|刚才|刚[缴交补]|现在[缴交补]")
_LAST_MONTH = re.compile(r"上个月|上月")


# "欠费一千二百五十元 逾期八十天 滞纳金": a list of inputs ending in the fee asks for it.
_LATE_TAIL = re.compile(r"(滞纳金|罚金)\s*(呢|嘞|咧|啊|呀)?\s*[?？。.!！]*\s*$")


# "缴费基数:6800元/月 费率:5% 缴费月数:6个月": the inputs filled in like a form ask for the sum.
_FORM_BASE = r"基数\s*[:=]\s*[\d一二两三四五六七八九十]"
_FORM_RATE = r"费率\s*[:=]\s*[\d一二两三四五六七八九十百]"
_FORM = re.compile(rf"{_FORM_BASE}.*{_FORM_RATE}|{_FORM_RATE}.*{_FORM_BASE}")


def _is_numeric_question(t: str) -> bool:
    return bool(
        _ASK.search(t)
        or _FORM.search(t)
        or _LATE.search(t) and re.search(r"算|多少|几", t)
        or _LATE_TAIL.search(t) and re.search(r"\d|[一二两三四五六七八九十百千万]", t)
    )


def _asks_total(t: str) -> bool:
    """The arrears plus the late fee, rather than the fee alone."""
    return bool(_WITH_FEE.search(t) or _TOTAL.search(t) and not _FEE_TOTAL.search(t))


def _break_years(t: str, q: Quantity) -> bool:
    """``q`` is a number of years without cover (断保2年, 2年没交)."""
    if q.kind != "duration" or q.value.unit != "year":
        return False
    before = t[max(0, q.start - 30) : q.start]
    near = before[-6:]
    return bool(
        _BREAK_BEFORE.search(near)
        or re.search(r"[a-z]", before) and _BREAK_BEFORE.search(before)
        or _BREAK_AFTER.match(t[q.end : q.end + 14])
    )


def _resident_start_month(t: str, quantities: list[Quantity]) -> bool:
    """断保N年 + a payment month + 几月份/什么时候, from a resident: article 002's wait from that month.

    Other "when" questions (months of interruption, 职工医保) stay with benefit_dates.
    """
    if not _DATE_ASK.search(t) or _EMPLOYEE.search(t) or not (_RESIDENT.search(t) or "断保" in t):
        return False
    paid_in = any(q.kind == "date" and q.value.month is not None for q in quantities)
    paid_in = paid_in or bool(_NOW.search(t) or _LAST_MONTH.search(t))
    return paid_in and any(_break_years(t, q) for q in quantities)


_REJOIN = re.compile(r"(重新|从新|再次?|又)(参保|参加(城乡)?居民|交上|缴上|续上|接上)")


def _resident_wait_length(t: str, quantities: list[Quantity]) -> bool:
    """Years without cover and how long the wait is, in article 002's words (断保 / 等待期) and not
    about 职工医保: 居民医保断了三年 等待期多长, 断保了6年 要等多久, 居民医保断了2年 重新参保要等几个月
    (the article's 重新参加居民医保). (A "几个月能报销" without them stays with benefit_dates, which lists
    every article's rule.)"""
    rejoin = _RESIDENT.search(t) and _REJOIN.search(t)
    if _EMPLOYEE.search(t) or not (_WAIT_PERIOD.search(t) or "断保" in t or rejoin):
        return False
    if not re.search(r"多久|多长|几个月|多少个月|几月|等待期(是|为|有)?(几|多)", t):
        return False
    return any(_break_years(t, q) for q in quantities)


# Money paid *out* (大病保险最多能报多少钱, 报销比例): a benefit, not a contribution we calculate.
_BENEFIT_AMOUNT = re.compile(r"(能|可以|最多|最高|一年)?报(销)?(多少|几)|报销比例|支付限额|最高支付|能报|封顶")


def _choose_kind(t: str, quantities: list[Quantity]) -> str | None:
    if _LATE.search(t) or _WITH_FEE.search(t):
        return "arrears_total" if _asks_total(t) else "late_fee"
    if _WAIT_PERIOD.search(t) and _MORE_BREAK.search(t) and re.search(r"几个月|多少个月|多久|多长|几月", t):
        return "resident_waiting_period"
    if _resident_start_month(t, quantities) or _resident_wait_length(t, quantities):
        return "resident_waiting_period"
    recover_ask = _RECOVER.search(t) and (_DATE_ASK.search(t) or _TIMING.search(t))
    wait_ask = _WAIT_PERIOD.search(t) and re.search(r"多久|多长|几个月|多少天", t)
    if (recover_ask or wait_ask) and not _STOPPED.search(t):
        return "benefit_dates"
    if _YEARS_ASK.search(t) and _YEARS_CONTEXT.search(t):
        return "years_to_retirement"
    if not (_AMOUNT_ASK.search(t) or _FORM.search(t)) or _BENEFIT_AMOUNT.search(t):
        return None
    resident = _RESIDENT.search(t) and not re.search(r"职工|工资|基数|费率|灵活就业", t)
    # Without 居民 words: a premium when the state's part is stated (政府补670) or summed in.
    subsidy = _SUBSIDY_STATED.search(t) or _SUBSIDY.search(t) and (_TOTAL.search(t) or _WITH_SUBSIDY.search(t))
    if resident or subsidy and not _EMPLOYEE.search(t) and not _INCOMING.search(t):
        return "resident_premium"
    if _BACK.search(t) or _BACK_CONTEXT.search(t):
        return "back_payment"
    if _MONTHLY.search(t) and re.search(r"[缴交扣]|费率|基数|医保.{0,8}多少钱", t) and not _INCOMING.search(t):
        return "monthly_contribution"
    return None


# --------------------------------------------------------------------------------------
# Reading parameters
# --------------------------------------------------------------------------------------


_NEXT_NUMBER = re.compile(r"[是为:]?[\d一二两三四五六七八九十]")


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
        """The label whose keyword ends nearest before ``q`` (or, failing that, right after it:
        ``5000的基数``, ``8000块工资``)."""
        window = self.before(q, width)
        start = max(0, q.start - width)
        while start > 0 and re.fullmatch(r"[a-z']{2}", self.t[start - 1 : start + 1]):
            start -= 1  # an English label cut by the window: "requires 20年"
            window = self.t[start : q.start]
        best: tuple[int, str] | None = None
        for name, pattern in labels.items():
            for m in pattern.finditer(window):
                if best is None or m.end() > best[0]:
                    best = (m.end(), name)
        if best is not None:
            return best[1]
        if after:
            tail = self.after(q, after + 3).lstrip("的 ")
            for name, pattern in labels.items():
                m = pattern.match(tail[:after])  # alternatives longest first, so 欠费 is not read as 欠
                # "6000元欠费2000元": 欠费 introduces the next number, it does not follow this one.
                if m and not _NEXT_NUMBER.match(tail[m.end() :]):
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
        return f"{_dec(v.amount)}{unit}"
    if isinstance(v, Decimal):
        return f"{_dec(v)}元"
    return q.text


def _dec(v: Decimal) -> str:
    return format(v.normalize(), "f")


# Numbers in a story that are not amounts: 45岁, 3号楼, 电话138…, 从2019到现在.
_NOT_MONEY_AFTER = re.compile(
    r"\s*(个|年|月|天|日|周|%|号|次|人|口|岁|楼|层|栋|室|户|届|级|名|位|家(?![里中人庭])|孩子|小孩|娃|"
    r"(kids?|children|child|sons?|daughters?|people|persons?|years?|months?|days?)\b)"
)
_ID_BEFORE = re.compile(r"(电话|手机|号码|身份证|卡号|账号|工号|编号|微信|qq|邮编|社保号)[号码是为:\s]{0,3}$")
_AGE_BEFORE = re.compile(r"(今年|年龄|岁数|年纪)\s*(是|有|都)?\s*$")
_YEAR_AFTER = re.compile(
    r"\s*(开始|起|那|以来|以后|之后|以前|之前|入职|参保|参加|毕业|退休)|\s*(到|至|-|~)\s*((19|20)\d\d|现在|今年|目前)|"
    # "西安2025居民医保…": the year a standard is asked for.
    r"\s*(城乡|居民|职工|医保|社保|年度|度|的?标准|的?政策|的?规定)"
)
# …and "嘉峪关 2025", "in 2025": a year after a place or an English preposition.
_YEAR_BEFORE = re.compile(
    r"(从|自|于)\s*$|(19|20)\d\d\s*(到|至|-|~)\s*$|[市省县区州关]\s*$|\b(in|for|of|since|year)\s*$|"
    # "居民医保 2025 how much": the year right after the insurance's name.
    r"(医保|社保|医疗保险)\s*$"
)


def _not_an_amount(ctx: _Ctx, q: Quantity) -> bool:
    """A bare number that is an age, an identifier or a calendar year, not money."""
    if _NOT_MONEY_AFTER.match(ctx.after(q, 10)) or _ID_BEFORE.search(ctx.before(q, 6)):
        return True
    if _AGE_BEFORE.search(ctx.before(q, 5)) or re.fullmatch(r"\d{8,}", q.text.strip()):
        return True
    year_like = q.value == q.value.to_integral_value() and 1980 <= q.value <= 2099
    return year_like and bool(_YEAR_AFTER.match(ctx.after(q, 8)) or _YEAR_BEFORE.search(ctx.before(q, 8)))


def _amounts(ctx: _Ctx, min_bare: Decimal = Decimal(10)) -> list[Quantity]:
    """Money, and bare numbers big enough to be money (基数4340, 工资八千)."""
    return [
        q
        for q in ctx.free("money", "number")
        if q.kind == "money" or (q.value >= min_bare and not _not_an_amount(ctx, q))
    ]


# Money the story mentions that is no contribution: 住院花了2万, 报销了3000, 账户余额500.
_SPENT_BEFORE = re.compile(r"花了?|花费|医药费|医疗费|住院费|药费|报销了?|报了|余额|账户|存款|贷款|退休金|养老金|赔")


_INCOME_OR_SPENT = re.compile(rf"(收入|挣|赚|工资|月薪|薪水|年薪|营业额|利润|{_SPENT_BEFORE.pattern})[了个有约近]*\s*$")


def _pick(ctx: _Ctx, amounts: list[Quantity], labels: dict[str, re.Pattern[str]]) -> Quantity | None:
    """The amount with the first label of ``labels`` (written before it or right after it:
    基数5000 / 5000的基数), else the first unlabelled amount that is not money spent."""
    names = {q.start: ctx.label(q, labels, after=5) for q in amounts}
    for name in labels:
        for q in amounts:
            if names[q.start] == name:
                return q
    rest = [q for q in amounts if names[q.start] is None and not _SPENT_BEFORE.search(ctx.before(q, 6))]
    return rest[0] if rest else None


_BREAK_LABEL = re.compile(r"断|停|中断|欠|漏|没[缴交]|未[缴交]|没有[缴交]|差")


def _months_of(q: Quantity) -> Decimal | None:
    """Whole months of a length; 三个月零十天 counts as 4 (a started month is a month)."""
    d: Duration = q.value
    if d.plus_days and d.unit == "month" and d.amount == d.amount.to_integral_value():
        return d.amount + 1
    return d.months


def _note_part_month(ctx: _Ctx, q: Quantity) -> None:
    if q.value.plus_days:
        ctx.assumptions.append(f"“{q.text}”按{_months_of(q)}个月计算(不足一个月按一个月计)。")


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
    _note_part_month(ctx, q)
    ctx.take(name, months, q)


# A rate written as a bare number after its label: 费率0.04, 比例11, 滞纳金按0.0005.
_RATE_LABEL = re.compile(r"(费率|比例|费比)\s*(是|为|按|:)?\s*$")
_DAILY_RATE_LABEL = re.compile(r"(滞纳金率?|日利率|每天|每日|按日|按天)\s*(是|为|按|加收)?\s*$")
_RATE_LABEL_AFTER = re.compile(r"\s*的?\s*(费率|比例|缴费比例)")


def _bare_rate(ctx: _Ctx, daily: bool) -> tuple[Decimal, Quantity] | None:
    """A rate given without %: below 1 it is a fraction (0.04 = 4%); a contribution rate of
    1–30 after 费率/比例 is a percentage (费率4 = 4%). Daily late-fee rates are fractions only."""
    for q in ctx.free("number"):
        if daily:
            if _DAILY_RATE_LABEL.search(ctx.before(q, 6)) and q.value < Decimal("0.01"):
                return q.value, q
            continue
        if not (_RATE_LABEL.search(ctx.before(q, 6)) or _RATE_LABEL_AFTER.match(ctx.after(q, 5))):
            continue
        if 0 < q.value < 1:
            return q.value, q
        if 1 <= q.value <= 30:
            return q.value / 100, q
    return None


_RATE_NAME_BEFORE = re.compile(r"(费率|比例|费比|\brate)\s*(是|为|按|:|is|of)?\s*(按|is)?\s*$")
# A share of one's pay that sets the base, not the rate: 基数是月薪的60%, 工资的60%那档.
_SHARE_OF_PAY = re.compile(r"(工资|月薪|薪水|收入|平均工资|社平)的?\s*$")


def _labelled_rate(ctx: _Ctx, rates: list[Quantity], daily: bool) -> Quantity:
    """The rate the question names as such (费率4% beside 月薪的60%), else the first that is not a share of pay."""
    if not daily:
        named = [r for r in rates if _RATE_NAME_BEFORE.search(ctx.before(r, 8))]
        if named:
            return named[0]
        rest = [r for r in rates if not _SHARE_OF_PAY.search(ctx.before(r, 6))]
        if rest:
            return rest[0]
    return rates[0]


def _read_rate(ctx: _Ctx, single: str | None, low: str | None = None, high: str | None = None) -> None:
    rates = ctx.free("rate")
    ranges = ctx.free("rate_range")
    if ranges and low and high:
        q = ranges[0]
        ctx.take(low, q.value[0], q)
        ctx.take(high, q.value[1], q)
        ctx.evidence[high] = q.text
    elif rates and single:
        chosen = _labelled_rate(ctx, rates, daily=single == "daily_rate")
        ctx.take(single, chosen.value, chosen)
    elif single:
        found = _bare_rate(ctx, daily=single == "daily_rate")
        if found is not None:
            value, q = found
            ctx.take(single, value, q)
            ctx.assumptions.append(f"比例“{q.text}”(未写%)按{_dec(value * 100)}%计算。")


# Per kind ------------------------------------------------------------------------------

# In order of trust: a stated 基数 is the base even when a wage is mentioned too.
_BASE_LABELS = {
    "base": re.compile(r"基数|按"),
    "wage": re.compile(r"工资|月薪|薪资|收入|薪水"),
}


_PERIOD_PAID = re.compile(
    rf"\s*(的话)?\s*(到底|一共|总共|合计|共|大概|大约)?\s*(要|得|需要?)?\s*{_PAY}[^,。;!]{{0,4}}多少|"
    r"\s*(到底|一共|总共|合计|共)\s*(要|得)?\s*多少"
)


def _monthly(ctx: _Ctx) -> None:
    _read_rate(ctx, "rate")
    if "rate" not in ctx.params and ctx.free("rate_range"):
        ctx.assumptions.append("每月缴费需要一个确切费率,您给的是比例范围。")
    pick = _pick(ctx, _amounts(ctx, Decimal(100)), _BASE_LABELS)
    if pick is not None:
        ctx.take("base", pick.value, pick)
    # A total over a period: "一年一共交多少", "3个月交多少", "每年交多少". A period the question pays
    # for (一年到底要交多少) wins over one the story tells (在菜市场卖菜12年了).
    periods = [q for q in ctx.free("duration")
               if _months_of(q) not in (None, Decimal(1)) and not _BREAK_LABEL.search(ctx.before(q, 4))]
    paid_for = [q for q in periods if _PERIOD_PAID.match(ctx.after(q, 10))]
    told = [q for q in periods if re.match(r"\s*了", ctx.after(q, 2))]
    for q in paid_for or [q for q in periods if q not in told] or periods:
        months = _months_of(q)
        assert months is not None
        ctx.take("months", months, q)
        break
    else:
        m = re.search(r"每年|全年|一年下来|整年|(the\s+)?(whole|full|entire)\s*(year|年)", ctx.t)
        if m:
            ctx.take("months", Decimal(12), text=m.group(0))


# Article 003 counts with the local average wage (or the base); one's own pay comes second.
_WAGE_LABELS = {
    "average": re.compile(r"平均工资|平均|社平|基数|按"),
    "wage": re.compile(r"工资|月薪|薪资|收入|薪水"),
}


def _back(ctx: _Ctx) -> None:
    q = _interruption(ctx)
    if q is not None:
        _read_break(ctx, q, "months", strict_more_means_plus_one=False)
    _read_rate(ctx, "rate", "rate_low", "rate_high")
    pick = _pick(ctx, _amounts(ctx, Decimal(100)), _WAGE_LABELS)
    if pick is not None:
        ctx.take("wage", pick.value, pick)


_EMPLOYER_CAUSED = re.compile(
    # (\s*: an English question read into Chinese keeps its spaces, "my 单位 没交 my 医保")
    r"(单位|公司|用人单位|老板|企业|厂里|厂子|工厂|厂家|东家|雇主)\s*(的)?(一直|都|就|也|从来|根本|压根|还)?\s*"
    r"(原因|没|未|漏|欠|忘|断|少|拖|不给|不交|不缴)|因单位|单位造成|"
    r"\b(employer|company|boss)\b[^,。;?!]{0,12}(didn't|did not|never|failed|stopped|forgot)"
)
_PERSONAL_CAUSED = re.compile(r"个人原因|自己原因|自己没|自己忘|我自己")
# "每月300" next to "欠了5个月" is a monthly amount: the arrears are 300 × 5.
_OWED_LABELS = {
    # 每个月欠380 is a monthly amount: the label ends where 欠 does, and the first label wins a tie.
    "monthly": re.compile(r"每个?月[欠缴交]?费?|一个月|月[缴交]|按月|月供|monthly|per\s+month|a\s+month"),
    "owed": re.compile(r"欠费|欠缴|欠款|欠|补缴|应缴|本金|金额|费用|保费"),  # longest first: see _Ctx.label
}
# Months owed (欠了5个月, 5个月没交) — not months late (拖了2个月), which is the late period.
_OWED_MONTHS_BEFORE = re.compile(
    # 补缴3个月 (with a monthly amount) names the months owed, as 欠了3个月 does.
    r"(欠|断|漏|没有?[缴交]|未[缴交]|补[缴交])[缴交费保]?了?\s*(医保|社保)?(费)?\s*$|\b(missed|skipped|owe|owed|unpaid|behind)\s*(for\s+)?$"
)
DAYS_PER_MONTH = 30  # only to turn 三个月零十天 into days for a late fee, and said so


def _late(ctx: _Ctx) -> None:
    """Late fee and arrears total: the arrears, the days late, the daily rate, whose fault."""
    _read_rate(ctx, "daily_rate")
    _read_owed(ctx)
    _read_days(ctx)
    m = _EMPLOYER_CAUSED.search(ctx.t)
    if m:
        ctx.take("employer_caused", True, text=m.group(0))
    else:
        m = _PERSONAL_CAUSED.search(ctx.t)
        if m:
            ctx.take("employer_caused", False, text=m.group(0))


def _read_owed(ctx: _Ctx) -> None:
    """The arrears: stated (欠了2000), or a monthly amount × the months owed (每月300,欠了5个月)."""
    amounts = _amounts(ctx, Decimal(1))
    labels = {q.start: ctx.label(q, _OWED_LABELS, after=5) for q in amounts}
    # "每月医保费380元": the 费 next to the number names a fee, the 每月 before it makes it monthly.
    per_month = {q.start for q in amounts
                 if labels[q.start] == "owed" and _OWED_LABELS["monthly"].match(_clause_before(ctx, q).strip())}
    owed = [q for q in amounts if labels[q.start] == "owed" and q.start not in per_month]
    monthly = [q for q in amounts if labels[q.start] == "monthly" or q.start in per_month]
    # "每月 医保 was 350": a 每月 further back in the same clause, with no number in between.
    monthly += [
        q
        for q in amounts
        if q not in monthly and q not in owed and _OWED_LABELS["monthly"].search(_clause_before(ctx, q))
    ]
    months = [
        q
        for q in ctx.free("duration")
        if _months_of(q) and (_OWED_MONTHS_BEFORE.search(ctx.before(q, 12)) or _BREAK_AFTER.match(ctx.after(q, 4)))
        # "欠费了 一个月三百二": a 一个月 right before a number is the monthly amount's label, not months owed.
        and not re.match(r"[\d一二两三四五六七八九十百千万]", ctx.after(q, 1))
    ]
    if monthly and months and not owed:
        m, n = monthly[0], months[0]
        count = _months_of(n)
        assert count is not None
        total = m.value * count
        ctx.take("owed", total, text=f"{m.text}×{n.text}")
        ctx.used.update((m.start, n.start))
        ctx.assumptions.append(f"欠费金额按每月{_dec(m.value)}元 × {_dec(count)}个月 = {_dec(total)}元计算。")
        _note_part_month(ctx, n)
        return
    pick = _pick(ctx, amounts, _OWED_LABELS)
    if pick is not None:
        ctx.take("owed", pick.value, pick)


def _clause_before(ctx: _Ctx, q: Quantity, limit: int = 16) -> str:
    """The words before ``q`` back to the previous punctuation mark or number (at most ``limit`` characters)."""
    before = ctx.before(q, limit)
    return re.split(r"[,。;?!:\d]", before)[-1]


def _rate_unit(ctx: _Ctx, q: Quantity) -> bool:
    """``q`` (一天 / 1日) is the unit of a daily rate next to it: 一天万分之三, 万分之三/1天."""
    d: Duration = q.value
    if d.days != 1:
        return False
    for r in ctx.quantities:
        if r.kind != "rate":
            continue
        gap = ctx.t[q.end : r.start] if r.start >= q.end else ctx.t[r.end : q.start]
        if re.fullmatch(r"[\s/按是为收加的]{0,2}", gap):
            return True
    return False


def _read_days(ctx: _Ctx) -> None:
    """Days late. 三个月零十天 is counted with 30-day months (said so); a length in months
    alone stays a request for days, since the fee is charged per day. The 一天 of a daily
    rate (一天万分之三) is not a number of days late."""
    durations = [q for q in ctx.free("duration") if not _rate_unit(ctx, q)]
    days = [q for q in durations if q.value.days is not None]
    mixed = [q for q in durations if q.value.plus_days and q.value.unit == "month"]
    if days:
        ctx.take("days", days[0].value.days, days[0])
    elif mixed:
        q = mixed[0]
        total = q.value.amount * DAYS_PER_MONTH + q.value.plus_days
        ctx.take("days", total, q)
        ctx.assumptions.append(
            f"“{q.text}”按每月{DAYS_PER_MONTH}天折算为{_dec(total)}天;如知道确切天数,请按实际天数计算。"
        )
    else:
        other = [q for q in durations if _months_of(q) is not None]
        if other:
            ctx.assumptions.append(f"滞纳金按日计算,“{other[0].text}”需要换算成天数,请提供具体天数。")


_RESIDENT_LABELS = {
    "subsidy": re.compile(r"补助|补贴|财政|政府|国家"),
    "personal": re.compile(r"个人|每人|自己|自付|本人|个人缴费|每年|缴费|标准"),
}
_PERSONS = re.compile(
    r"([\d一二两三四五六七八九十俩仨]+)\s*(?:口人|口|个人(?!缴|账|部|原|承|支|出|负)|人(?![民员均]))"
)
_PAIR = re.compile(r"两口子|俩口子|小两口|老两口|夫妻俩|夫妻两个?|我们俩|咱们?俩|我俩")
# Family members counted by a noun (两个孩子, 2 kids), plus the people listed with them:
# 我和两个孩子 / me + my 2 kids (3), 我和老婆还有俩娃 (4), 我老婆和两个孩子 (3: 我 is "my" there).
_MEMBERS = re.compile(
    r"(?P<n>[\d一二两三四五六七八九十俩仨]+)\s*(个|位|名)?\s*"
    r"(孩子|小孩|娃|儿子|女儿|子女|孙子|孙女|老人|kids?|children|sons?|daughters?|grandkids?|grandchildren)"
)
_RELATIVE = (
    r"老婆|老公|爱人|媳妇|妻子|丈夫|对象|老爸|老妈|父亲|母亲|儿子|女儿|孩子|小孩|爸|妈|"
    r"wife|husband|spouse|partner|mom|mum|dad|mother|father|son|daughter|kid|child"
)
_HOUSEHOLD = re.compile(
    rf"(?P<two>(我的?|my\s+)?(爸妈|父母|parents))|(我的?|my\s+)?({_RELATIVE})(?![a-z])|我|本人|自己|"
    r"\bme\b|\bmyself\b|\bi\b"
)
_LINK = r"\s*(和|跟|加上?|带着?|与|及|以及|还有|连同|、|\+|&|and|plus|with|,)\s*"
_HOUSEHOLD_CHAIN = re.compile(rf"(?:(?:{_HOUSEHOLD.pattern}){_LINK})+(my\s+|我的?|家里的?)?\s*$")
# People listed without a count: 我和老婆 (2), me and my wife and my mom (3), 给我跟爸妈交 (3).
_TOKEN = _HOUSEHOLD.pattern.replace("?P<two>", "")
_HOUSEHOLD_LIST = re.compile(rf"(?:{_TOKEN})(?:{_LINK}(?:{_TOKEN}))+")
_TRIO = re.compile(r"我们仨|咱们?仨")


# A couple and the people listed after it: 俩口子加俩娃 (4), 我们俩和我妈 (3).
_COUPLE_PLUS = re.compile(
    rf"(?:{_PAIR.pattern})(?P<rest>(?:{_LINK}(?:{_MEMBERS.pattern.replace('?P<n>', '')}|{_TOKEN}))+)"
)
_EN_COUNT = {"two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10}
_EN_N = r"(\d+|two|three|four|five|six|seven|eight|nine|ten)"
# English counts a mixed-language question keeps: a family of 5, 4 of us, 3 people.
_EN_PERSONS = re.compile(
    rf"\b(?:family|household)\s+of\s+{_EN_N}\b|\b{_EN_N}\s+of\s+us\b|\b{_EN_N}\s*(?:people|persons|family\s+members)\b"
)


def _couple_plus(t: str) -> tuple[int, str] | None:
    m = _COUPLE_PLUS.search(t)
    if not m:
        return None
    rest, n = m["rest"], 2
    for k in _MEMBERS.finditer(rest):
        raw = k["n"]
        try:
            n += int(raw) if raw.isdigit() else int(cn_to_decimal(raw))
        except ValueError:
            return None
    rest = _MEMBERS.sub(" ", rest)
    n += sum(2 if h["two"] else 1 for h in _HOUSEHOLD.finditer(rest))
    return n, m.group(0)


def _persons(t: str) -> tuple[int, str] | None:
    """How many people: 一家四口, 3口人, 俩人, 我和老婆孩子三个人, 两口子, 俩口子加俩娃, a family of 5."""
    found = _couple_plus(t)
    if found:
        return found
    m = _EN_PERSONS.search(t)
    if m:
        raw = next(g for g in m.groups() if g)
        n = int(raw) if raw.isdigit() else _EN_COUNT[raw]
        if n > 1:
            return n, m.group(0)
    m = _PERSONS.search(t)
    if m:
        raw = m.group(1)
        try:
            n = int(raw) if raw.isdigit() else int(cn_to_decimal(raw))
        except ValueError:
            n = 0
        if n > 1:
            return n, m.group(0)
    for pattern, n in ((_PAIR, 2), (_TRIO, 3)):
        m = pattern.search(t)
        if m:
            return n, m.group(0)
    m = _MEMBERS.search(t)
    if m:
        raw = m["n"]
        try:
            n = int(raw) if raw.isdigit() else int(cn_to_decimal(raw))
        except ValueError:
            return None
        before = t[max(0, m.start() - 20) : m.start()]
        chain = _HOUSEHOLD_CHAIN.search(before)
        if chain:
            listed = chain.group(0)
            n += sum(2 if h["two"] else 1 for h in _HOUSEHOLD.finditer(listed))
            return n, listed.lstrip() + m.group(0)
        return (n, m.group(0)) if n > 0 else None
    m = _HOUSEHOLD_LIST.search(t)
    if m:
        return sum(2 if h["two"] else 1 for h in _HOUSEHOLD.finditer(m.group(0))), m.group(0)
    return None


def _resident_premium(ctx: _Ctx) -> None:
    found = _persons(ctx.t)
    if found:
        ctx.take("persons", found[0], text=found[1])
        # The count's own digits (a family of 5) are no premium.
        at = ctx.t.find(found[1])
        ctx.used.update(q.start for q in ctx.quantities if at <= q.start < at + len(found[1]))
    for q in _amounts(ctx, Decimal(1)):
        name = ctx.label(q, _RESIDENT_LABELS, width=8)
        if name and name not in ctx.params:
            ctx.take(name, q.value, q)
    if "personal" not in ctx.params:
        # Not income or money spent in a story (去年种地收入两万多, 住院花了一万).
        rest = [q for q in _amounts(ctx, Decimal(1)) if not _INCOME_OR_SPENT.search(ctx.before(q, 6))]
        if rest:
            ctx.take("personal", rest[0].value, rest[0])
    m = _WITH_SUBSIDY.search(ctx.t)
    separately = re.search(r"分别|各(是|为|要)?多少|respectively|each\s+part", ctx.t)  # two figures, not a sum
    excluded = _WITHOUT_SUBSIDY.search(ctx.t[max(0, m.start() - 4) : m.end()]) if m else None
    if m and "subsidy" not in ctx.params and not excluded and not separately:
        ctx.take("include_subsidy", True, text=m.group(0))


_YEAR_LABELS = {
    "deemed": re.compile(r"视同"),
    "actual": re.compile(r"实际"),
    "required": re.compile(
        r"满|要求|规定|最低|法定|至少|够|需要?|应|年限为|标准|(?<![还再])[要得][缴交]|"
        # 俺们这要二十年: a bare 要 right before the years (not 还要, a question)
        r"(?<![还再想])要\s*$|"
        r"\b(says?|requires?|required|needs?|needed|minimum|at\s+least|must|have\s+to)\b"
    ),
    # 视同加实际一共算24年 / 我累计16年: the stated total, trusted over a plain 交了 (a story may give
    # 交了十五年 and then 这样累计是23年: the 15 is a part of the 23).
    "total": re.compile(r"累计[缴交]?|一共[缴交算]?|总共[缴交算]?|合计|总计|加起来"),
    # 交了11年 / I've got 9年: paid so far.
    "paid": re.compile(r"[缴交]了|已[缴交经]|已经|[缴交]过|\b(got|paid|had)\b|i've|\bhave\b(?!\s+to)"),
    # 离退休还有4年: the time left before retiring, not a contribution period.
    "until": re.compile(r"离退休|距离?退休|到退休|退休还(有|剩|差)"),
}
# "已经交满15年" / "交满15年了" state what was paid; "要求交满15年" states the rule.
_PAID_FULL_BEFORE = re.compile(r"已经?\s*[缴交]?\s*费?满\s*$")
_RULE_WORDS = re.compile(r"要求|规定|需要?|至少|最低|法定|标准|得")


def _year_label(ctx: _Ctx, q: Quantity) -> str | None:
    """deemed / actual / paid / required / until, and for the rule's own 实际缴费满10年
    ``required_actual``."""
    name = ctx.label(q, _YEAR_LABELS, width=8)
    if name is None and re.match(r"\s*的?(要求|规定|标准)", ctx.after(q, 5)):
        return "required"
    if name is None and re.search(r"\b(requirement|required|requires?|rule|minimum)\b", _clause_before(ctx, q, 30)):
        return "required"  # "the requirement here is 25年": the English label further back in the clause
    m = re.match(r"的?(视同|实际)", ctx.after(q, 3))
    if m and name in (None, "paid", "total", "deemed", "actual"):
        # 交了8年视同 5年实际: the part named right after the number (a 视同 before the 5 is the 8's).
        return "deemed" if m.group(1) == "视同" else "actual"
    if name == "paid":
        # 实际交了十年 / 视同交了6年: the 实际/视同 of the clause says which part was paid.
        clause = _clause_before(ctx, q, 8)
        if "实际" in clause:
            return "actual"
        if "视同" in clause:
            return "deemed"
    if name == "required":
        before = ctx.before(q, 8)
        actual = "实际" in _clause_before(ctx, q, 8)  # 实际缴费满10年: the actual-years part
        if _PAID_FULL_BEFORE.search(before):
            return "actual" if actual else "paid"
        if ctx.after(q, 1) == "了" and re.search(r"满\s*$", before) and not _RULE_WORDS.search(before):
            return "actual" if actual else "paid"
        if actual:
            return "required_actual"
    return name


def _years(ctx: _Ctx) -> None:
    found: dict[str, Decimal] = {}
    unlabelled: list[Quantity] = []
    for q in ctx.free("duration"):
        d: Duration = q.value
        years = d.years
        if years is None:
            continue
        name = _year_label(ctx, q)
        if name is None:
            unlabelled.append(q)
            continue
        if name in found:
            continue
        found[name] = years
        ctx.used.add(q.start)
        ctx.evidence[name] = q.text
        ctx.note_approx(q)
    if "total" in found:
        found["paid"] = found.pop("total")
        ctx.evidence["paid"] = ctx.evidence.pop("total")
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
    if "required_actual" in found:
        ctx.take("required_actual_years", found["required_actual"], text=ctx.evidence.pop("required_actual"))
    ctx.evidence.pop("until", None)
    for key in ("deemed", "actual"):
        ctx.evidence.pop(key, None)


# The rule's base wait: 等待期2个月, 等待期基本是2个月, 按基础3个月, 先等2个月.
_BASE_WAIT_BEFORE = re.compile(r"(等待期?|基础|基本|起步|先等)(期|就|都)?(为|是|有)?\s*$|等\s*$")


def _base_wait_clause(ctx: _Ctx, q: Quantity) -> bool:
    """等待期按我们这的规定是6个月: the clause names the wait and states its length (是/为), and is not
    the per-year part (每多断一年加2个月)."""
    clause = _clause_before(ctx, q, 16)
    return bool(re.search(r"等待期|基础等|起步", clause) and re.search(r"(是|为|有)\s*$", clause)
                and not re.search(r"每|增加|加|延长|多等", clause))


def _waiting(ctx: _Ctx, today: date | None) -> None:
    """Article 002's waiting period; the asker's own rule (基础等待期2个月, 每多断一年加2个月)
    is read as the rule, not as their break."""
    _read_payment_month(ctx, today, needed=bool(_DATE_ASK.search(ctx.t)))
    for q in ctx.free("duration"):
        d: Duration = q.value
        before = ctx.before(q, 6)
        if re.search(r"每多?断保?\s*$|每\s*$", before):
            continue  # the rule's own "每多断保1年"
        if d.unit == "year" and re.search(r"多断保?了?\s*$", before):
            ctx.take("extra_years", d.amount, q)
        elif _break_years(ctx.t, q) and "break_years" not in ctx.params:
            _read_break_years(ctx, q)
        elif d.unit == "month" and (_BASE_WAIT_BEFORE.search(before) or _base_wait_clause(ctx, q)):
            ctx.take("base_months", d.amount, q)
        elif d.unit == "month" and re.search(r"增加|加\s*$|延长|多等", before):
            ctx.take("per_year_months", d.amount, q)
    if "extra_years" in ctx.params and "break_years" in ctx.params:
        del ctx.params["break_years"]
        ctx.evidence.pop("break_years", None)


def _read_break_years(ctx: _Ctx, q: Quantity) -> None:
    """断保2年 → 2; 断了一年多 → 2, since residents pay per year and a started year counts."""
    years = q.value.amount
    if q.approx and years == years.to_integral_value():
        years += 1
        ctx.assumptions.append(f"“{q.text}”按断保{_dec(years)}年计算(居民医保按年缴费,不满一年按一年计)。")
    ctx.take("break_years", years, q)


_SUPPLEMENTARY = re.compile(r"补充缴费期")


def _shift_month(y: int, m: int, k: int) -> tuple[int, int]:
    i = y * 12 + m - 1 + k
    return i // 12, i % 12 + 1


def _read_payment_month(ctx: _Ctx, today: date | None, needed: bool = True) -> None:
    """The month paid in: a date in the question, or 这个月/上个月 given ``today``.

    A month without a year is placed in ``today``'s year (said so); without ``today`` it is
    asked for when ``needed`` rather than guessed.
    """
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
            if needed:
                ctx.extra_missing.append(MissingParam("payment_month", "请提供补缴的年份和月份,如2025-03"))
        else:
            iso = f"{year:04d}-{cd.month:02d}" + (f"-{cd.day:02d}" if cd.day else "")
            ctx.take("payment_month", iso, q)
    elif today is not None:
        m = _NOW.search(ctx.t) or _LAST_MONTH.search(ctx.t)
        if m:
            y, mo = (today.year, today.month) if _NOW.match(m.group(0)) else _shift_month(today.year, today.month, -1)
            ctx.take("payment_month", f"{y:04d}-{mo:02d}", text=m.group(0))


def _benefit(ctx: _Ctx, today: date | None) -> None:
    _read_payment_month(ctx, today)
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

def examples_for(
    kind: str, given: Iterable[str] = (), rules: RuleBook | None = None, regions: tuple[str, ...] = ()
) -> tuple[Example, ...]:
    """The labelled example values of the rules a question about ``regions`` uses, for parameters
    not ``given`` (in the rule book's order)."""
    if kind not in KINDS:
        return ()
    given = set(given)
    names = KINDS[kind].param_names
    found: list[Example] = []
    for rule in select_rules(kind, rules, regions):
        for param, label in rule.examples.items():
            if param in names and param not in given:
                found.append(Example(param, rule.effect[param], label, rule.ref))
    return tuple(found)


class _DefaultExamples(Mapping[str, list[Example]]):
    """kind → the shipped rule book's examples (read when first asked for)."""

    def __getitem__(self, kind: str) -> list[Example]:
        if kind not in KINDS:
            raise KeyError(kind)
        return list(examples_for(kind, (), default_rules()))

    def __iter__(self) -> Iterator[str]:
        return iter(KINDS)

    def __len__(self) -> int:
        return len(KINDS)


_EXAMPLES: Mapping[str, list[Example]] = _DefaultExamples()


# --------------------------------------------------------------------------------------
# Entry point
# --------------------------------------------------------------------------------------


def _read(kind: str, ctx: _Ctx, today: date | None) -> None:
    """Fill ``ctx.params`` with what the question states for a calculation of ``kind``."""
    if kind == "monthly_contribution":
        _monthly(ctx)
    elif kind == "back_payment":
        _back(ctx)
    elif kind in ("late_fee", "arrears_total"):
        _late(ctx)
    elif kind == "resident_premium":
        _resident_premium(ctx)
    elif kind == "years_to_retirement":
        _years(ctx)
    elif kind == "resident_waiting_period":
        _waiting(ctx, today)
    else:
        _benefit(ctx, today)


def read_params(kind: str, text: str, today: date | None = None) -> dict[str, str]:
    """The inputs a follow-up states for a calculation of ``kind`` it does not name itself
    ("要是断了8个月呢?" for a back payment → ``{"months": "8个月"}``): parameter → the words it was read
    from. Empty when the text states no number (a follow-up about something else)."""
    if kind not in KINDS or not isinstance(text, str) or not text.strip():
        return {}
    ctx = _Ctx(text, _fold(text), find_quantities(text))
    _read(kind, ctx, today)
    out = {name: words for name, words in ctx.evidence.items() if name in ctx.params and words}
    if out.get("paid_years") is not None and out.get("paid_years") == out.get("actual_years"):
        del out["paid_years"]  # "实际缴费只有1年" changes the actual years only (paid was derived from it)
    return out


def detect(question: str, today: date | None = None, rules: RuleBook | None = None) -> CalcRequest | None:
    """Is ``question`` asking for a number or date we calculate? Read what it states.

    ``today`` (optional) places 今年/这个月/3月 in a year; without it such dates are
    reported as missing rather than guessed. ``rules`` (default ``corpus/rules.toml``) give the
    examples.
    """
    if not isinstance(question, str) or not question.strip():
        return None
    t = _fold(question)
    if not _is_numeric_question(t):
        return None
    topic = out_of_scope_topic(t)
    if topic is not None:
        return CalcRequest(kind="", out_of_scope=True, scope_topic=topic)
    quantities = find_quantities(question)
    kind = _choose_kind(t, quantities)
    if kind is None:
        return None
    if _FACT_ASK.search(t) and not quantities:
        return None
    ctx = _Ctx(question, t, quantities)
    _read(kind, ctx, today)

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
        examples=examples_for(kind, ctx.params, rules),
        assumptions=tuple(dict.fromkeys(ctx.assumptions)),
        evidence=dict(ctx.evidence),
    )
