"""Read amounts, rates, durations and dates the way users write them in Chinese.

Pure functions, no I/O. Two layers:

* ``find_quantities(text)`` scans free text (a question) and returns every
  quantity it recognises with its span, so callers can look at the words around it.
* ``parse_amount`` / ``parse_rate`` / ``parse_duration`` / ``parse_date`` /
  ``parse_number`` read a *whole* string (an API parameter such as ``"4,340元"``)
  and return ``None`` when the string is not exactly one such quantity.

Chinese numerals are converted by the small converter below rather than by the
``cn2an`` package: the forms we need (一…九, 十百千万亿, 两, 〇/零, 点, the
colloquial 一万二 / 三千五, 半) fit in ~60 lines, the converter keeps the rules
for those colloquial forms in our hands, and the service needs no extra dependency.

Besides the Chinese forms, a few typed forms are read: 1万2, 4.5k, 一整年 (a whole year),
万分之五一天 (万分之五 a day, not 万分之五十一) and English month names with a year (Jan 2025,
2025 Sept), as mixed-language questions write them.

Everything works on a length-preserving half-width copy of the text (full-width
digits, ``％`` and ``，`` are mapped one character to one character), so spans
index the caller's original string.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

__all__ = [
    "CalendarDate",
    "Duration",
    "Quantity",
    "cn_to_decimal",
    "find_quantities",
    "parse_amount",
    "parse_date",
    "parse_duration",
    "parse_number",
    "parse_rate",
    "to_halfwidth",
]

# --------------------------------------------------------------------------------------
# Half-width mapping (length preserving)
# --------------------------------------------------------------------------------------

_HALFWIDTH = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)}
_HALFWIDTH[0x3000] = 0x20  # ideographic space
_HALFWIDTH[0x3002] = 0x3002  # keep 。 as is (NFKC would keep it too)


def to_halfwidth(text: str) -> str:
    """Full-width ASCII (``４３４０``, ``％``, ``，``) → ASCII, one char for one char."""
    return text.translate(_HALFWIDTH)


# --------------------------------------------------------------------------------------
# Chinese numerals
# --------------------------------------------------------------------------------------

_CN_DIGIT = {
    "零": 0, "〇": 0, "○": 0,
    "一": 1, "壹": 1, "幺": 1,
    "二": 2, "贰": 2, "两": 2, "俩": 2,
    "三": 3, "叁": 3, "仨": 3,
    "四": 4, "肆": 4,
    "五": 5, "伍": 5,
    "六": 6, "陆": 6,
    "七": 7, "柒": 7,
    "八": 8, "捌": 8,
    "九": 9, "玖": 9,
}  # fmt: skip
_CN_UNIT = {"十": 10, "拾": 10, "百": 100, "佰": 100, "千": 1000, "仟": 1000}
_CN_BIG = {"万": 10**4, "萬": 10**4, "亿": 10**8}
_CN_CHARS = "".join(_CN_DIGIT) + "".join(_CN_UNIT) + "".join(_CN_BIG)


def _cn_integer(s: str) -> int:
    if not s:
        raise ValueError("empty numeral")
    if s[0] in "百佰千仟万萬亿":
        # 千万/百万/万一 at the start are words (千万别断缴), not numbers; write 一千万.
        raise ValueError(f"numeral starts with a magnitude: {s!r}")
    if all(ch in _CN_DIGIT for ch in s):
        # A plain digit string: 二〇二五 → 2025; a single digit → itself.
        return int("".join(str(_CN_DIGIT[ch]) for ch in s))
    total = 0  # everything above the current 万/亿 section
    section = 0  # the current section below 万
    digit: int | None = None
    last_unit = 0  # the unit (10…10^8) that last closed a group
    zero_since_unit = False
    prev_big = 10**12
    for ch in s:
        if ch in _CN_DIGIT:
            if digit is not None and digit != 0:
                raise ValueError(f"two digits in a row in {s!r}")
            d = _CN_DIGIT[ch]
            if d == 0:
                zero_since_unit = True
            digit = d
        elif ch in _CN_UNIT:
            unit = _CN_UNIT[ch]
            if section and last_unit and last_unit < 10**4 and unit >= last_unit:
                raise ValueError(f"units out of order in {s!r}")
            section += (digit if digit else 1) * unit
            digit, last_unit, zero_since_unit = None, unit, False
        elif ch in _CN_BIG:
            big = _CN_BIG[ch]
            if big >= prev_big:
                # 亿 after 万 (一万亿) multiplies everything seen so far.
                total = (total + section + (digit or 0)) * big
            else:
                total += (section + (digit or 0)) * big
            if not (total or section or digit):
                raise ValueError(f"bare {ch} in {s!r}")
            prev_big = big
            section, digit, last_unit, zero_since_unit = 0, None, big, False
        else:
            raise ValueError(f"not a Chinese numeral: {ch!r}")
    if digit:
        # Colloquial abbreviation: 三千五 = 3500, 一万二 = 12000, 两百五 = 250;
        # after a 零 (一千零五) or after 十 (十八) the digit is plain units.
        scale = last_unit // 10 if last_unit >= 100 and not zero_since_unit else 1
        section += digit * scale
    return total + section


def cn_to_decimal(s: str) -> Decimal:
    """Convert a Chinese numeral (``十八``, ``四千三百四十``, ``四点五``, ``一万二``) to Decimal.

    Raises ``ValueError`` for anything that is not a well-formed numeral.
    """
    s = s.strip()
    if "点" in s:
        whole, _, frac = s.partition("点")
        if not frac or any(ch not in _CN_DIGIT for ch in frac):
            raise ValueError(f"bad decimal part in {s!r}")
        whole_value = _cn_integer(whole) if whole else 0
        return Decimal(f"{whole_value}.{''.join(str(_CN_DIGIT[ch]) for ch in frac)}")
    return Decimal(_cn_integer(s))


# --------------------------------------------------------------------------------------
# Result types
# --------------------------------------------------------------------------------------

DurationUnit = Literal["day", "week", "month", "year"]


@dataclass(frozen=True)
class Duration:
    """A length of time as written: ``amount`` of ``unit`` (一年半 → 1.5 year).

    ``plus_days`` holds the day part of a month-and-day length (三个月零十天 → 3 month
    + 10 days). Months have no fixed number of days, so such a length has neither exact
    ``months`` nor exact ``days``; callers decide how to count it and say so.
    """

    amount: Decimal
    unit: DurationUnit
    plus_days: Decimal = Decimal(0)

    @property
    def months(self) -> Decimal | None:
        if self.plus_days:
            return None
        if self.unit == "month":
            return self.amount
        if self.unit == "year":
            return self.amount * 12
        return None

    @property
    def years(self) -> Decimal | None:
        if self.plus_days:
            return None
        if self.unit == "year":
            return self.amount
        if self.unit == "month":
            return self.amount / 12
        return None

    @property
    def days(self) -> Decimal | None:
        if self.plus_days:
            return None
        if self.unit == "day":
            return self.amount
        if self.unit == "week":
            return self.amount * 7
        return None


@dataclass(frozen=True)
class CalendarDate:
    """A calendar date as written; parts the text leaves out are ``None``.

    ``year_offset`` is set instead of ``year`` for 今年 (0), 去年 (-1), 明年 (1).
    """

    year: int | None
    month: int | None
    day: int | None = None
    year_offset: int | None = None

    def iso(self) -> str:
        """``YYYY-MM-DD``, ``YYYY-MM`` or ``YYYY`` — whatever is known; ``--MM`` without a year."""
        if self.year is None:
            return f"--{self.month:02d}" if self.month else ""
        if self.month is None:
            return f"{self.year:04d}"
        if self.day is None:
            return f"{self.year:04d}-{self.month:02d}"
        return f"{self.year:04d}-{self.month:02d}-{self.day:02d}"


QuantityKind = Literal["money", "rate", "rate_range", "duration", "date", "number"]


@dataclass(frozen=True)
class Quantity:
    """One quantity found in text. ``value`` depends on ``kind``:

    money → Decimal yuan; rate → Decimal fraction (4% → 0.04); rate_range → (low, high);
    duration → Duration; date → CalendarDate; number → Decimal (no unit written).
    """

    kind: QuantityKind
    value: Any
    start: int
    end: int
    text: str
    approx: bool = False  # "3个多月", "4000多元"


# --------------------------------------------------------------------------------------
# Patterns
# --------------------------------------------------------------------------------------

_ARABIC = r"(?:\d{1,3}(?:,\d{3})+(?!\d)(?:\.\d+)?|\d+(?:\.\d+)?)"
_CN = f"[{_CN_CHARS}]+(?:点[{''.join(_CN_DIGIT)}]+)?"
# Arabic digits around 万/千 as people type them: 1万2 (12000), 1万2千, 1万5000, 3千5 (3500).
_MIXED = r"\d+万\d{1,4}千?(?!\d)|\d+千\d{1,3}百?(?!\d)"
# Arabic scaled by 万/千/百 or by the typed k / w (4.5k = 4500, 1.2w = 12000).
_SCALED = rf"{_ARABIC}\s*(?:[万千百]|[kKwW](?![a-zA-Z]))"
_SCALE = {"万": 10000, "千": 1000, "百": 100, "k": 1000, "K": 1000, "w": 10000, "W": 10000}
# A number: mixed, scaled or plain Arabic, or a Chinese numeral.
_NUM = rf"(?:{_MIXED}|{_SCALED}|{_ARABIC}|{_CN})"
_DIGIT_OR_CN_SMALL = rf"(?:\d{{1,2}}|[{''.join(_CN_DIGIT)}十]{{1,3}})"

_RATE_RANGE_RE = re.compile(
    rf"(?P<a>{_ARABIC})\s*(?P<pa>%)?\s*(?:-|~|—|–|至|到)\s*(?P<b>{_ARABIC})\s*%"
)
_RATE_RE = re.compile(
    rf"(?:(?P<frac>[百千万])分之\s*(?P<fn>{_ARABIC}|{_CN}))"
    rf"|(?:(?P<pn>{_ARABIC})\s*%)"
    rf"|(?:(?P<dn>{_ARABIC}|{_CN})\s*个\s*点(?![\d{''.join(_CN_DIGIT)}]))"
)
# A digit run after 万分之 whose last digit is the 一 of 一天: 万分之五一天 (or 万分之51天 once the
# numerals are typed as digits) is 万分之五 a day. Only plain digit runs: 万分之十一 is eleven.
_PER_DAY_TAIL = re.compile(rf"^(?:\d|[{''.join(_CN_DIGIT)}])+[1一]$")
# …and the same 一 of the period a rate is paid for: 费率百分之七一年 (7% for a year, not 71%),
# 百分之五一个月. Chinese digits only: a typed 71 is seventy-one.
_PER_PERIOD_TAIL = re.compile(rf"^[{''.join(_CN_DIGIT)}]+一$")
_PERIOD_AFTER = re.compile(r"(?P<one>一\s*(?:整\s*)?(?P<u>年|个\s*月|个?\s*季度)(?P<half>半)?)(?!多)")
_REL_YEAR = {"今年": 0, "本年": 0, "去年": -1, "上年": -1, "明年": 1, "前年": -2, "次年": 1}
_FULL_DATE_RE = re.compile(
    # A two-digit year is read only right before 年 and a month (25年8月 = 2025-08; 交了25年 is a length).
    rf"(?P<y>(?:19|20)\d{{2}}|(?<![\d.])[1-4]\d(?=年\d{{1,2}}月(?!\d))|[{''.join(_CN_DIGIT)}]{{4}}|今年|本年|去年|明年|前年)"
    rf"\s*年?\s*"
    rf"(?P<m>{_DIGIT_OR_CN_SMALL})\s*月份?(?:\s*(?P<d>{_DIGIT_OR_CN_SMALL})\s*[日号])?"
)
_ISO_DATE_RE = re.compile(
    r"(?<![\d.])(?P<y>(?:19|20)\d{2})\s*(?P<sep>[-/.])\s*(?P<m>\d{1,2})"
    r"(?:\s*(?P=sep)\s*(?P<d>\d{1,2}))?(?![\d%万千百元块])"
)
# English month names with a year, as mixed-language questions write them: Jan 2025, June 2025, 2025 Jan.
_EN_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_EN_MONTH = r"(?P<mn>jan|feb|mar|apr|may|jun|jul|aug|sept?|oct|nov|dec)(?:[a-z]*)\.?"
_EN_DATE_RE = re.compile(
    rf"(?<![a-z])(?:{_EN_MONTH}\s*,?\s*(?P<y>(?:19|20)\d{{2}})|(?P<y2>(?:19|20)\d{{2}})\s*,?\s*(?P<mn2>"
    rf"jan|feb|mar|apr|may|jun|jul|aug|sept?|oct|nov|dec)[a-z]*\.?)(?![a-z\d])",
    re.IGNORECASE,
)
_YEAR_ONLY_RE = re.compile(r"(?<!\d)(?P<y>(?:19|20)\d{2})\s*年(?!\s*[个多半])")
_DURATION_RE = re.compile(
    # 一整年 / 一整个月 are a whole year / month.
    # Not an ordinal or a "which/every" (第一年, 哪一年, 每3个月) and not the tail of a longer number.
    rf"(?:(?<![哪每第这那\d{_CN_CHARS}])(?P<n>{_NUM})\s*(?P<more>多)?\s*(?:整\s*)?(?:个\s*)?(?P<half>半)?\s*(?:个\s*)?(?P<more2>多)?\s*"
    rf"(?P<u>年|月|天|日|周|星期|礼拜)(?P<half2>半)?(?P<more3>多)?)"
    rf"|(?:半\s*(?:个\s*)?(?P<hu>年|月))"
)
_QUARTERS_RE = re.compile(rf"(?<![哪每第这那\d{_CN_CHARS}])(?P<n>{_NUM})\s*个\s*季度")
# Two units in one length: 一年零三个月 (15 months), 三个月零十天 (3 months + 10 days).
# Written together only: "交了10年 3个月没交" is two statements.
_COMPOUND_RE = re.compile(
    rf"(?<![哪每第这那\d{_CN_CHARS}])(?P<a>{_NUM})\s*(?P<au>年|个\s*月)(?:零|又)?"
    rf"(?P<b>{_NUM})\s*(?P<bu>个\s*月|天|日)"
)
_MONEY_RE = re.compile(
    rf"(?P<n>{_NUM})\s*(?P<more>多)?\s*(?P<u>元|块钱|块|圆|rmb|RMB|人民币)"
    rf"|(?P<n2>{_MIXED}|{_ARABIC}\s*(?:[万千]|[kKwW](?![a-zA-Z])))(?P<more2>多)?"
)
_BARE_RE = re.compile(rf"(?P<a>{_ARABIC})|(?P<c>[{_CN_CHARS}]{{2,}}(?:点[{''.join(_CN_DIGIT)}]+)?)")

# Before an "N月" with no 个: words that make it a length of time (断了3月) …
_MONTH_AS_DURATION_BEFORE = re.compile(r"(断|停|欠|漏|了|满|差|近|续|缴|交|补|隔|等|足|共|计)\s*$")


def _mixed_value(raw: str) -> Decimal | None:
    """``1万2`` → 12000, ``1万2000`` → 12000, ``3千5`` → 3500: a lone digit after the unit
    is the next unit down (the colloquial 一万二), several digits are the plain remainder."""
    m = re.fullmatch(r"(\d+)(万|千)(\d+)(千|百)?", raw)
    if m is None:
        return None
    unit = 10000 if m[2] == "万" else 1000
    rest = int(m[3])
    if m[4] or len(m[3]) == 1:
        rest *= unit // 10
    return Decimal(int(m[1]) * unit + rest)


def _num_value(raw: str) -> Decimal:
    """Value of a _NUM match: ``4,340`` / ``1.2万`` / ``0.4 万`` / ``4.5k`` / ``1万2`` / ``四千三百四十``."""
    raw = raw.replace(" ", "")
    mixed = _mixed_value(raw)
    if mixed is not None:
        return mixed
    scale = Decimal(1)
    if raw and raw[-1] in _SCALE and re.match(r"\d", raw):
        scale = Decimal(_SCALE[raw[-1]])
        raw = raw[:-1]
    if re.fullmatch(_ARABIC, raw):
        return Decimal(raw.replace(",", "")) * scale
    return cn_to_decimal(raw) * scale


def _small_int(raw: str) -> int:
    return int(raw) if raw.isdigit() else int(_cn_integer(raw))


def _valid_date(y: int | None, m: int, d: int | None) -> bool:
    if not 1 <= m <= 12:
        return False
    if d is None:
        return True
    last = calendar.monthrange(y if y is not None else 2000, m)[1]
    return 1 <= d <= last


_EN_MONTH_WORDS = (
    "january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november",
    "december",
)  # fmt: skip


def _english_month_word(span: str, abbr: str) -> bool:
    """The letters of a matched English date are a month's name or its abbreviation (Jan, Sept, June),
    not another word that starts like one (Marching, Mayor)."""
    word = re.match(r"[a-z]+", re.sub(r"^[\d\s,]+", "", span))
    if word is None:
        return False
    full = _EN_MONTH_WORDS[_EN_MONTHS.index(abbr)]
    return full.startswith(word.group(0)) or word.group(0) == "sept"


class _Scanner:
    def __init__(self, text: str) -> None:
        self.original = text
        self.text = to_halfwidth(text)
        self.taken = [False] * len(text)
        self.found: list[Quantity] = []

    def free(self, start: int, end: int) -> bool:
        return not any(self.taken[start:end])

    def add(self, kind: QuantityKind, value: Any, start: int, end: int, approx: bool = False) -> None:
        for i in range(start, end):
            self.taken[i] = True
        self.found.append(Quantity(kind, value, start, end, self.original[start:end], approx))

    def each(self, pattern: re.Pattern[str]):
        pos, retry = 0, False
        while pos <= len(self.text):
            m = pattern.search(self.text, pos)
            if m is None:
                return
            if m.end() == m.start():
                pos = m.end() + 1
                continue
            # After a match that overlapped a quantity already read, the search goes on from its next
            # character ("费率百分之十 半年": 十 半年 is not free, 半年 is); a match found so is not taken
            # right after a numeral already read (it would be that number's tail: 4340 → 340).
            tail = retry and m.start() > 0 and self.taken[m.start() - 1] and (
                self.text[m.start() - 1] in _CN_CHARS or self.text[m.start() - 1].isdigit()
                or self.text[m.start() - 1] in ".,")
            if self.free(m.start(), m.end()) and not tail:
                yield m
                pos, retry = m.end(), False
            else:
                pos, retry = m.start() + 1, True


# Numerals that count things but never name a month: 仨月 / 俩月 / 两月 are lengths (March is 三月).
_COUNT_ONLY = ("仨", "俩", "两")


def _scan_compound(sc: _Scanner) -> None:
    """Lengths written with two units. Years and months add up exactly (一年零三个月 = 15
    months); a day part is kept apart in ``plus_days`` since a month has no fixed length."""
    for m in sc.each(_COMPOUND_RE):
        big, small = m["au"][0], m["bu"][-1]
        if (big, small) not in (("年", "月"), ("个", "天"), ("个", "日")):
            continue
        try:
            a, b = _num_value(m["a"]), _num_value(m["b"])
        except (ValueError, InvalidOperation):
            continue
        if big == "年":
            sc.add("duration", Duration(a * 12 + b, "month"), m.start(), m.end())
        elif b:
            sc.add("duration", Duration(a, "month", plus_days=b), m.start(), m.end())


def _scan(text: str) -> list[Quantity]:
    sc = _Scanner(text)
    t = sc.text

    # 1. Rate ranges "10%-12%", "10-12%".
    for m in sc.each(_RATE_RANGE_RE):
        lo, hi = Decimal(m["a"].replace(",", "")) / 100, Decimal(m["b"].replace(",", "")) / 100
        if lo <= hi:
            sc.add("rate_range", (lo, hi), m.start(), m.end())

    # 2. Rates: 4%, 百分之四点五, 万分之五, 千分之三, 4个点.
    for m in sc.each(_RATE_RE):
        try:
            if m["frac"]:
                base = {"百": 100, "千": 1000, "万": 10000}[m["frac"]]
                raw, end = m["fn"], m.end()
                if _PER_DAY_TAIL.match(raw) and re.match(r"\s*[天日]", t[end:]):
                    raw, end = raw[:-1], end - 1  # 万分之五一天: 万分之五 a day, not 万分之五十一
                elif _PER_PERIOD_TAIL.match(raw) and _PERIOD_AFTER.match(t, end - 1):
                    # 百分之七一年: 7% for one year, not 71%; the 一年 is kept as the length it is.
                    raw, end = raw[:-1], end - 1
                    p = _PERIOD_AFTER.match(t, end)
                    assert p is not None
                    unit = p["u"][-1]
                    one = Decimal("1.5") if p["half"] else Decimal(1)
                    length = Duration(one, "year") if unit == "年" else Duration(
                        one * (3 if unit == "度" else 1), "month")
                    sc.add("duration", length, end, p.end())
                sc.add("rate", _num_value(raw) / base, m.start(), end)
            elif m["pn"]:
                sc.add("rate", Decimal(m["pn"].replace(",", "")) / 100, m.start(), m.end())
            else:
                sc.add("rate", _num_value(m["dn"]) / 100, m.start(), m.end())
        except (ValueError, InvalidOperation):
            continue

    # 3. Dates: 2025年3月(15日), 今年3月, 2025-03(-15), 2025.3, 2025/3, 2025年.
    for m in sc.each(_FULL_DATE_RE):
        y_raw = m["y"]
        if y_raw in _REL_YEAR:
            year, offset = None, _REL_YEAR[y_raw]
        else:
            if not re.search(r"年", t[m.start() : m.end()]):
                continue  # "2025 3月" without 年 is not a date we trust
            year, offset = _small_int(y_raw), None
            if year < 100:
                year += 2000  # 25年8月
        try:
            month = _small_int(m["m"])
            day = _small_int(m["d"]) if m["d"] else None
        except ValueError:
            continue
        if _valid_date(year, month, day):
            sc.add("date", CalendarDate(year, month, day, offset), m.start(), m.end())
    for m in sc.each(_ISO_DATE_RE):
        year, month = int(m["y"]), int(m["m"])
        day = int(m["d"]) if m["d"] else None
        if _valid_date(year, month, day):
            sc.add("date", CalendarDate(year, month, day), m.start(), m.end())
    for m in sc.each(_EN_DATE_RE):
        month_name = (m["mn"] or m["mn2"]).lower()[:3]
        word = t[m.start() : m.end()].lower()
        if month_name not in _EN_MONTHS or not _english_month_word(word, month_name):
            continue
        sc.add("date", CalendarDate(int(m["y"] or m["y2"]), _EN_MONTHS.index(month_name) + 1), m.start(), m.end())
    for m in sc.each(_YEAR_ONLY_RE):
        sc.add("date", CalendarDate(int(m["y"]), None), m.start(), m.end())

    # 4. Durations: 一年零三个月, 三个月零十天; 三个月, 两年, 半年, 一年半, 一个半月, 30天, 两周; "3月" by context.
    _scan_compound(sc)
    # N个季度 is 3N months (一个季度 = 3个月); a bare 一季度 is the first quarter of a year, not a length.
    for m in sc.each(_QUARTERS_RE):
        try:
            sc.add("duration", Duration(_num_value(m["n"]) * 3, "month"), m.start(), m.end())
        except (ValueError, InvalidOperation):
            continue
    for m in sc.each(_DURATION_RE):
        approx = bool(m["more"] or m["more2"] or m["more3"])
        if m["hu"]:
            sc.add("duration", Duration(Decimal("0.5"), "year" if m["hu"] == "年" else "month"), m.start(), m.end())
            continue
        try:
            n = _num_value(m["n"])
        except (ValueError, InvalidOperation):
            continue
        unit_raw = m["u"]
        if m["half"] or m["half2"]:
            n += Decimal("0.5")
        matched = t[m.start() : m.end()]
        colloquial_count = m["n"].strip() in _COUNT_ONLY  # 仨月, 俩月, 两月: never a month of the year
        length_words = "个" in matched or "整" in matched or m["half"] or m["half2"] or colloquial_count
        if unit_raw == "月" and not length_words:
            # "N月" without 个: a calendar month (3月份, 3月15日, 我3月交的) unless the
            # words before it make it a length (断了3月, 补缴近3月).
            after = t[m.end() : m.end() + 4]
            before = t[max(0, m.start() - 3) : m.start()]
            calendar_hint = re.match(r"\s*(份|\d{1,2}\s*[日号]|初|中旬|底|末)", after)
            as_month = (
                n == n.to_integral_value()
                and 1 <= n <= 12
                and (calendar_hint or not _MONTH_AS_DURATION_BEFORE.search(before))
            )
            if as_month:
                end = m.end()
                dm = re.match(rf"\s*份?\s*(?:({_DIGIT_OR_CN_SMALL})\s*[日号])?", t[end:])
                day = None
                if dm and dm.group(1):
                    try:
                        day = _small_int(dm.group(1))
                    except ValueError:
                        day = None
                if day is not None and not _valid_date(None, int(n), day):
                    day = None
                span_end = end + (dm.end() if dm and (dm.group(1) is None or day is not None) else 0)
                if sc.free(m.start(), span_end):
                    sc.add("date", CalendarDate(None, int(n), day), m.start(), span_end)
                continue
        if unit_raw == "日" and re.search(r"月\s*$", t[max(0, m.start() - 2) : m.start()]):
            continue
        if unit_raw == "年" and re.fullmatch(r"(19|20)\d{2}", m["n"].strip()):
            continue  # a calendar year, handled above
        unit: DurationUnit = {
            "年": "year", "月": "month", "天": "day", "日": "day", "周": "week", "星期": "week", "礼拜": "week",
        }[unit_raw]  # fmt: skip
        sc.add("duration", Duration(n, unit), m.start(), m.end(), approx)

    # 5. Money: 4340元, 4,340元, 4340块, 八千块, 0.4万, 1.2万元.
    for m in sc.each(_MONEY_RE):
        raw = m["n"] or m["n2"]
        try:
            value = _num_value(raw)
        except (ValueError, InvalidOperation):
            continue
        sc.add("money", value, m.start(), m.end(), bool(m["more"] or m["more2"]))

    # 6. Bare numbers: 4340, 八千, 十八 (one Chinese character alone is too often a word).
    for m in sc.each(_BARE_RE):
        end = m.end()
        try:
            if m["a"]:
                value = Decimal(m["a"].replace(",", ""))
            else:
                raw, value = _longest_numeral(m["c"])
                end = m.start() + len(raw)
        except (ValueError, InvalidOperation):
            continue
        if m["c"] and not re.search(r"[十拾百佰千仟万萬亿点]", t[m.start() : end]):
            continue  # 一一, 二三: digit runs without a unit are words, not numbers
        sc.add("number", value, m.start(), end)  # a start of a free match is free

    # Join two rates written as a range: 百分之十到百分之十二, 10%到12%; and two parts written as a sum
    # (费率2%+8%, 单位8%加个人2% is left to the caller: words between): one rate, their total.
    found = sorted(sc.found, key=lambda q: q.start)
    merged: list[Quantity] = []
    for q in found:
        if (
            merged
            and q.kind == "rate"
            and merged[-1].kind == "rate"
            and re.fullmatch(r"\s*(?:\+|加)\s*", t[merged[-1].end : q.start])
        ):
            first = merged.pop()
            merged.append(Quantity("rate", first.value + q.value, first.start, q.end, text[first.start : q.end]))
        elif (
            merged
            and q.kind == "rate"
            and merged[-1].kind == "rate"
            and re.fullmatch(r"\s*(?:-|~|—|–|至|到)\s*", t[merged[-1].end : q.start])
            and merged[-1].value <= q.value
        ):
            lo = merged.pop()
            merged.append(Quantity("rate_range", (lo.value, q.value), lo.start, q.end, text[lo.start : q.end]))
        else:
            merged.append(q)
    return merged


def _longest_numeral(run: str) -> tuple[str, Decimal]:
    """The longest start of a run of numeral characters that is a numeral: 四百二一家三口 reads 四百二
    (420) then 一家, where the whole run 四百二一 is no number."""
    for stop in range(len(run), 1, -1):
        try:
            return run[:stop], cn_to_decimal(run[:stop])
        except (ValueError, InvalidOperation):
            continue
    raise ValueError(f"no numeral at the start of {run!r}")


def find_quantities(text: str) -> list[Quantity]:
    """Every quantity in ``text``, in order of position."""
    return _scan(text)


# --------------------------------------------------------------------------------------
# Whole-string parsers
# --------------------------------------------------------------------------------------

_TRIM = " \t\r\n约大概左右共计"


def _single(text: str, kinds: tuple[QuantityKind, ...]) -> Quantity | None:
    if not isinstance(text, str):
        return None
    stripped = to_halfwidth(text).strip(_TRIM)
    if not stripped:
        return None
    found = _scan(stripped)
    if len(found) != 1:
        return None
    q = found[0]
    if q.start != 0 or q.end != len(stripped) or q.kind not in kinds:
        return None
    return q


def parse_number(text: str) -> Decimal | None:
    """A number with no unit: ``"4340"``, ``"4,340"``, ``"十八"``, ``"0.04"``."""
    q = _single(text, ("number",))
    return q.value if q else None


def parse_amount(text: str) -> Decimal | None:
    """An amount of money in yuan: ``4340元``, ``4,340元``, ``4340块``, ``0.4万``, ``1.2万元``, ``八千``."""
    q = _single(text, ("money", "number"))
    return q.value if q else None


def parse_rate(text: str) -> Decimal | None:
    """A rate as a fraction: ``4%`` → 0.04, ``百分之四点五`` → 0.045, ``万分之五`` → 0.0005.

    A bare number is *not* a rate here (is "4" 4% or 400%?); callers decide.
    """
    q = _single(text, ("rate",))
    return q.value if q else None


def parse_rate_range(text: str) -> tuple[Decimal, Decimal] | None:
    """``10%-12%`` / ``10-12%`` / ``百分之十到百分之十二`` → (0.10, 0.12)."""
    q = _single(text, ("rate_range",))
    return q.value if q else None


def parse_duration(text: str) -> Duration | None:
    """``三个月``, ``两年``, ``半年``, ``一年半``, ``18年``, ``十八年``, ``30天``, ``两周``."""
    q = _single(text, ("duration",))
    return q.value if q else None


def parse_date(text: str) -> CalendarDate | None:
    """``2025年3月``, ``2025-03``, ``2025.3``, ``2025/3/15``, ``2025年3月15日``, ``3月``."""
    q = _single(text, ("date",))
    return q.value if q else None
