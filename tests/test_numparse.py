"""Parsing amounts, rates, durations and dates as users write them."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qa.numparse import (
    CalendarDate,
    Duration,
    cn_to_decimal,
    find_quantities,
    parse_amount,
    parse_date,
    parse_duration,
    parse_number,
    parse_rate,
    parse_rate_range,
    to_halfwidth,
)

D = Decimal

# ----------------------------------------------------------------------------- helpers

_DIGITS = "零一二三四五六七八九"


def to_cn(n: int) -> str:
    """Standard Chinese numeral for 0 < n < 10^8, written independently of the parser."""

    def section(x: int) -> str:
        out, zero = "", False
        for value, unit in ((1000, "千"), (100, "百"), (10, "十"), (1, "")):
            d = x // value % 10
            if d == 0:
                zero = bool(out)
            else:
                if zero:
                    out += "零"
                    zero = False
                out += _DIGITS[d] + unit
        return out

    if n < 10000:
        text = section(n)
    else:
        hi, lo = divmod(n, 10000)
        text = section(hi) + "万"
        if lo:
            text += ("零" if lo < 1000 else "") + section(lo)
    return text[1:] if text.startswith("一十") else text


def to_fullwidth(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


def test_to_cn_helper() -> None:
    assert [to_cn(n) for n in (5, 10, 18, 105, 4340, 10010, 120000, 4340000)] == [
        "五", "十", "十八", "一百零五", "四千三百四十", "一万零一十", "十二万", "四百三十四万",
    ]  # fmt: skip


# ----------------------------------------------------------------------------- the brief's list


@pytest.mark.parametrize(
    ("text", "kind", "value"),
    [
        ("4340元", "money", D(4340)),
        ("4,340元", "money", D(4340)),
        ("4340块", "money", D(4340)),
        ("4340块钱", "money", D(4340)),
        ("0.4万", "money", D(4000)),
        ("1.2万元", "money", D(12000)),
        ("八千块", "money", D(8000)),
        ("四千三百四十元", "money", D(4340)),
        ("４３４０元", "money", D(4340)),
        ("４，３４０元", "money", D(4340)),
        ("173.60元", "money", D("173.60")),
        ("4%", "rate", D("0.04")),
        ("４％", "rate", D("0.04")),
        ("4.5%", "rate", D("0.045")),
        ("百分之四", "rate", D("0.04")),
        ("百分之4.5", "rate", D("0.045")),
        ("百分之四点五", "rate", D("0.045")),
        ("万分之五", "rate", D("0.0005")),
        ("千分之三", "rate", D("0.003")),
        ("4个点", "rate", D("0.04")),
        ("三个月", "duration", Duration(D(3), "month")),
        ("3个月", "duration", Duration(D(3), "month")),
        ("两年", "duration", Duration(D(2), "year")),
        ("半年", "duration", Duration(D("0.5"), "year")),
        ("半个月", "duration", Duration(D("0.5"), "month")),
        ("一年半", "duration", Duration(D("1.5"), "year")),
        ("一个半月", "duration", Duration(D("1.5"), "month")),
        ("18年", "duration", Duration(D(18), "year")),
        ("十八年", "duration", Duration(D(18), "year")),
        ("30天", "duration", Duration(D(30), "day")),
        ("三十天", "duration", Duration(D(30), "day")),
        ("两周", "duration", Duration(D(2), "week")),
        ("2025年3月", "date", CalendarDate(2025, 3)),
        ("2025-03", "date", CalendarDate(2025, 3)),
        ("2025.3", "date", CalendarDate(2025, 3)),
        ("2025/3", "date", CalendarDate(2025, 3)),
        ("2025-03-15", "date", CalendarDate(2025, 3, 15)),
        ("2025年3月15日", "date", CalendarDate(2025, 3, 15)),
        ("2025年3月15号", "date", CalendarDate(2025, 3, 15)),
        ("２０２５年３月", "date", CalendarDate(2025, 3)),
        ("二〇二五年三月", "date", CalendarDate(2025, 3)),
        ("3月份", "date", CalendarDate(None, 3)),
        ("今年3月", "date", CalendarDate(None, 3, None, 0)),
        ("去年十二月", "date", CalendarDate(None, 12, None, -1)),
        ("2025年", "date", CalendarDate(2025, None)),
        ("4340", "number", D(4340)),
        ("４３４０", "number", D(4340)),
        ("一万二", "number", D(12000)),
    ],
)
def test_single_quantity(text: str, kind: str, value: object) -> None:
    found = find_quantities(text)
    assert len(found) == 1, found
    q = found[0]
    assert (q.kind, q.value) == (kind, value)
    assert (q.start, q.end) == (0, len(text))
    assert q.text == text


def test_whole_string_parsers() -> None:
    assert parse_amount("4,340元") == D(4340)
    assert parse_amount(" 约4340元 ") == D(4340)
    assert parse_amount("4340") == D(4340)
    assert parse_amount("1.2万") == D(12000)
    assert parse_amount("4%") is None
    assert parse_amount("abc") is None
    assert parse_amount("4340元和500元") is None
    assert parse_amount("") is None
    assert parse_rate("4%") == D("0.04")
    assert parse_rate("万分之五") == D("0.0005")
    assert parse_rate("4") is None  # 4% or 400%? the caller decides
    assert parse_rate_range("10%-12%") == (D("0.10"), D("0.12"))
    assert parse_rate_range("10-12%") == (D("0.10"), D("0.12"))
    assert parse_rate_range("百分之十到百分之十二") == (D("0.10"), D("0.12"))
    assert parse_duration("一年半") == Duration(D("1.5"), "year")
    assert parse_duration("4340元") is None
    assert parse_date("2025-03") == CalendarDate(2025, 3)
    assert parse_date("2025-13") is None
    assert parse_date("2025-02-30") is None
    assert parse_number("十八") == D(18)
    assert parse_number("0.04") == D("0.04")
    assert parse_number("四千") == D(4000)


def test_duration_units() -> None:
    assert Duration(D("1.5"), "year").months == 18
    assert Duration(D(6), "month").years == D("0.5")
    assert Duration(D(2), "week").days == 14
    assert Duration(D(3), "month").days is None
    assert Duration(D(30), "day").months is None
    assert CalendarDate(2025, 3).iso() == "2025-03"
    assert CalendarDate(2025, 3, 5).iso() == "2025-03-05"
    assert CalendarDate(None, 3).iso() == "--03"


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("十", 10), ("十八", 18), ("二十", 20), ("一百零五", 105), ("四千三百四十", 4340),
        ("四千三百四", 4340), ("三千五", 3500), ("两百五", 250), ("一万二", 12000), ("一万零二", 10002),
        ("十万", 100000), ("一亿二千万", 120000000), ("二〇二五", 2025), ("两", 2), ("壹仟贰佰", 1200),
        ("一千零五", 1005), ("一万零一十", 10010), ("一万亿", 10**12),
    ],
)  # fmt: skip
def test_cn_integers(text: str, value: int) -> None:
    assert cn_to_decimal(text) == value


def test_cn_decimals() -> None:
    assert cn_to_decimal("四点五") == D("4.5")
    assert cn_to_decimal("零点零五") == D("0.05")
    assert cn_to_decimal("十二点五") == D("12.5")


@pytest.mark.parametrize("text", ["千万", "万一", "百", "", "四点", "十十", "一百千", "abc"])
def test_cn_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        cn_to_decimal(text)


# ----------------------------------------------------------------------------- in sentences


def kinds(text: str) -> list[tuple[str, object]]:
    return [(q.kind, q.value) for q in find_quantities(text)]


def test_sentence_with_full_width_and_punctuation() -> None:
    text = "我断缴了３个月，缴费基数４３４０元，费率4%，每月交多少？"
    found = find_quantities(text)
    assert [(q.kind, q.value) for q in found] == [
        ("duration", Duration(D(3), "month")),
        ("money", D(4340)),
        ("rate", D("0.04")),
    ]
    for q in found:
        assert text[q.start : q.end] == q.text  # spans index the original (full-width) string


def test_month_of_year_vs_length() -> None:
    assert kinds("断了3月了") == [("duration", Duration(D(3), "month"))]
    assert kinds("补缴近3月") == [("duration", Duration(D(3), "month"))]
    assert kinds("我3月补缴的") == [("date", CalendarDate(None, 3))]
    assert kinds("3月份交的") == [("date", CalendarDate(None, 3))]
    assert kinds("3月15日交的") == [("date", CalendarDate(None, 3, 15))]
    assert kinds("18月") == [("duration", Duration(D(18), "month"))]


def test_year_vs_length() -> None:
    assert kinds("交了18年") == [("duration", Duration(D(18), "year"))]
    assert kinds("2025年交了两年") == [("date", CalendarDate(2025, None)), ("duration", Duration(D(2), "year"))]
    assert kinds("2024年3个月") == [("date", CalendarDate(2024, None)), ("duration", Duration(D(3), "month"))]


def test_words_are_not_numbers() -> None:
    assert find_quantities("千万别断缴,一次性补缴,一直没交") == []
    assert find_quantities("算一下") == []
    assert find_quantities("断缴了怎么补交") == []


def test_colloquial_no_punctuation() -> None:
    text = "我断了四个月医保现在补要多少钱工资八千"
    assert kinds(text) == [("duration", Duration(D(4), "month")), ("number", D(8000))]
    text = "欠了两千块钱逾期三十天滞纳金多少"
    assert kinds(text) == [("money", D(2000)), ("duration", Duration(D(30), "day"))]


def test_ranges_and_approx() -> None:
    assert kinds("合计10%-12%") == [("rate_range", (D("0.10"), D("0.12")))]
    assert kinds("比例10%到12%") == [("rate_range", (D("0.10"), D("0.12")))]
    (q,) = find_quantities("断了3个多月")
    assert q.approx and q.value == Duration(D(3), "month")
    (q,) = find_quantities("4000多元")
    assert q.approx and q.value == D(4000)


def test_date_not_confused_with_money() -> None:
    assert kinds("2000.5元") == [("money", D("2000.5"))]
    assert kinds("2025.3补缴") == [("date", CalendarDate(2025, 3))]


def test_halfwidth_is_length_preserving() -> None:
    text = "４３４０元，费率４％　２０２５－０３"
    assert len(to_halfwidth(text)) == len(text)
    assert to_halfwidth(text) == "4340元,费率4% 2025-03"


# ----------------------------------------------------------------------------- properties

amounts = st.decimals(min_value=D("0.01"), max_value=D("99999999.99"), places=2)


@settings(max_examples=150, deadline=None)
@given(amounts)
def test_amount_round_trip(x: Decimal) -> None:
    for text in (f"{x}元", f"{x:,}元", f"{x}块", to_fullwidth(f"{x}元"), to_fullwidth(f"{x:,}") + "元"):
        assert parse_amount(text) == x, text
    wan = x / 10000
    assert parse_amount(f"{format(wan, 'f')}万") == x
    assert parse_amount(f"{format(wan, 'f')}万元") == x


@settings(max_examples=150, deadline=None)
@given(st.integers(min_value=1, max_value=99_999_999))
def test_chinese_integer_round_trip(n: int) -> None:
    assert cn_to_decimal(to_cn(n)) == n
    assert parse_amount(f"{to_cn(n)}元") == n
    assert parse_amount(f"{to_cn(n)}块") == n


@settings(max_examples=150, deadline=None)
@given(st.decimals(min_value=D("0.01"), max_value=D("100"), places=2))
def test_percent_round_trip(p: Decimal) -> None:
    assert parse_rate(f"{p}%") == p / 100
    assert parse_rate(to_fullwidth(f"{p}%")) == p / 100
    assert parse_rate(f"百分之{p}") == p / 100


@settings(max_examples=100, deadline=None)
@given(st.integers(min_value=1, max_value=9999))
def test_fraction_words_round_trip(k: int) -> None:
    assert parse_rate(f"万分之{to_cn(k)}") == D(k) / 10000
    assert parse_rate(f"千分之{k}") == D(k) / 1000
    if k <= 100:
        assert parse_rate(f"百分之{to_cn(k)}") == D(k) / 100


@settings(max_examples=100, deadline=None)
@given(st.integers(min_value=1, max_value=600))
def test_duration_round_trip(n: int) -> None:
    assert parse_duration(f"{n}个月") == Duration(D(n), "month")
    assert parse_duration(f"{to_cn(n)}个月") == Duration(D(n), "month")
    assert parse_duration(f"{to_fullwidth(str(n))}天") == Duration(D(n), "day")
    if n <= 60:
        assert parse_duration(f"{n}年") == Duration(D(n), "year")
        assert parse_duration(f"{to_cn(n)}年半") == Duration(D(n) + D("0.5"), "year")


@settings(max_examples=100, deadline=None)
@given(st.integers(min_value=1990, max_value=2099), st.integers(min_value=1, max_value=12))
def test_date_round_trip(y: int, m: int) -> None:
    want = CalendarDate(y, m)
    for text in (f"{y}年{m}月", f"{y}-{m:02d}", f"{y}.{m}", f"{y}/{m}", to_fullwidth(f"{y}-{m:02d}"), f"{y}年{m}月份"):
        assert parse_date(text) == want, text


_FUZZ_ALPHABET = list("0123456789.,%-年月日天个半多元块万千百十一二两三零点分之份号 断缴补交")


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from(_FUZZ_ALPHABET), max_size=30))
def test_scanner_never_crashes_and_spans_are_consistent(text: str) -> None:
    found = find_quantities(text)
    last_end = 0
    for q in found:
        assert 0 <= q.start < q.end <= len(text)
        assert q.start >= last_end  # sorted and non-overlapping
        assert text[q.start : q.end] == q.text
        last_end = q.end


# ----------------------------------------------------------------------------- forms people type


@pytest.mark.parametrize(
    ("text", "kind", "value"),
    [
        ("仨月", "duration", Duration(D(3), "month")),
        ("俩月", "duration", Duration(D(2), "month")),
        ("两月", "duration", Duration(D(2), "month")),  # 二月 is February; 两月 is a length
        ("一年零三个月", "duration", Duration(D(15), "month")),
        ("两年三个月", "duration", Duration(D(27), "month")),
        ("1年零3个月", "duration", Duration(D(15), "month")),
        ("三个月零十天", "duration", Duration(D(3), "month", plus_days=D(10))),
        ("3个月零10天", "duration", Duration(D(3), "month", plus_days=D(10))),
        ("3个月10天", "duration", Duration(D(3), "month", plus_days=D(10))),
        ("90天", "duration", Duration(D(90), "day")),
        ("两千五", "number", D(2500)),
        ("三千二", "number", D(3200)),
        ("三千二百", "number", D(3200)),
        ("一万二", "number", D(12000)),
        ("1万2", "money", D(12000)),
        ("1万2千", "money", D(12000)),
        ("1万5000", "money", D(15000)),
        ("1万200", "money", D(10200)),
        ("3千5", "money", D(3500)),
        ("3千5百", "money", D(3500)),
        ("4.5k", "money", D(4500)),
        ("4k", "money", D(4000)),
        ("4K", "money", D(4000)),
        ("1.2w", "money", D(12000)),
        ("4k块", "money", D(4000)),
        ("1万2元", "money", D(12000)),
        ("５２００", "number", D(5200)),
        ("５２００元", "money", D(5200)),
        ("5200块", "money", D(5200)),
        ("5200元", "money", D(5200)),
        ("5200块钱", "money", D(5200)),
        ("两千五百块", "money", D(2500)),
        ("百分之四", "rate", D("0.04")),
        ("4个点", "rate", D("0.04")),
        ("四个点", "rate", D("0.04")),
        ("0.04", "number", D("0.04")),  # a bare fraction: calc_detect reads it as a rate after 费率
        ("万分之五", "rate", D("0.0005")),
        ("万分之3", "rate", D("0.0003")),
        ("0.05%", "rate", D("0.0005")),
        ("４％", "rate", D("0.04")),
    ],
)
def test_typed_forms(text: str, kind: str, value: object) -> None:
    (q,) = find_quantities(text)
    assert (q.kind, q.value) == (kind, value)
    assert (q.start, q.end) == (0, len(text))


def test_month_and_day_length_has_no_exact_months_or_days() -> None:
    d = Duration(D(3), "month", plus_days=D(10))
    assert (d.months, d.days, d.years) == (None, None, None)
    assert Duration(D(3), "month") == Duration(D(3), "month", plus_days=D(0))
    assert parse_duration("三个月零十天") == d
    assert parse_duration("一年零三个月") == Duration(D(15), "month")


def test_forms_in_a_sentence() -> None:
    assert kinds("断了仨月,工资1万2,补多少") == [("duration", Duration(D(3), "month")), ("money", D(12000))]
    assert kinds("工资4.5k 断了俩月") == [("money", D(4500)), ("duration", Duration(D(2), "month"))]
    assert kinds("欠了两千五 拖了三个月零十天") == [
        ("number", D(2500)),
        ("duration", Duration(D(3), "month", plus_days=D(10))),
    ]
    # a calendar year before a length stays a year: 2024年3个月 is not 24291 months
    assert kinds("2024年3个月") == [("date", CalendarDate(2024, None)), ("duration", Duration(D(3), "month"))]
    assert kinds("3月断的") == [("date", CalendarDate(None, 3))]  # 3月 is still March
    assert kinds("交了10年 3个月没交") == [("duration", Duration(D(10), "year")), ("duration", Duration(D(3), "month"))]
    assert kinds("5k多") == [("money", D(5000))] and find_quantities("5k多")[0].approx
    assert kinds("4kg") == [("number", D(4))]  # not 4000


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("一整年", Duration(D(1), "year")),
        ("两整年", Duration(D(2), "year")),
        ("一整个月", Duration(D(1), "month")),
        ("一整月", Duration(D(1), "month")),  # a whole month, not January
    ],
)
def test_whole_year_and_month(text: str, value: Duration) -> None:
    (q,) = find_quantities(text)
    assert (q.kind, q.value, q.text) == ("duration", value, text)


@pytest.mark.parametrize(
    ("text", "rate", "span"),
    [
        ("万分之三一天", D("0.0003"), "万分之三"),  # 万分之三 a day, not 万分之三十一
        ("万分之31天", D("0.0003"), "万分之3"),  # the same once 一天 is typed as 1天
        ("万分之四一日", D("0.0004"), "万分之四"),
        ("万分之十一天", D("0.0011"), "万分之十一"),  # 十一 is eleven: not a digit run
        ("万分之31", D("0.0031"), "万分之31"),  # no 天 after it: the number as written
    ],
)
def test_rate_followed_by_one_day(text: str, rate: Decimal, span: str) -> None:
    q = find_quantities(text)[0]
    assert (q.kind, q.value, q.text) == ("rate", rate, span)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("paid in Mar 2025", CalendarDate(2025, 3)),
        ("since September 2024.", CalendarDate(2024, 9)),
        ("in 2025 Nov", CalendarDate(2025, 11)),
        ("Sept. 2023", CalendarDate(2023, 9)),
    ],
)
def test_english_month_and_year(text: str, value: CalendarDate) -> None:
    assert kinds(text) == [("date", value)]


def test_english_month_lookalikes_are_not_dates() -> None:
    assert kinds("Marching 2025") == [("number", D(2025))]
    assert kinds("Octopus 2025") == [("number", D(2025))]


# ----------------------------------------------------------------------------- issue 14, part 5 forms


@pytest.mark.parametrize(
    ("text", "rate", "length"),
    [
        ("费率百分之七一年要交多少", D("0.07"), Duration(D(1), "year")),  # 7% for a year, not 71%
        ("百分之五一个月", D("0.05"), Duration(D(1), "month")),
        ("百分之七一年半", D("0.07"), Duration(D("1.5"), "year")),
        ("费率百分之八一个季度", D("0.08"), Duration(D(3), "month")),
    ],
)
def test_rate_followed_by_one_period(text: str, rate: Decimal, length: Duration) -> None:
    found = find_quantities(text)
    assert [(q.kind, q.value) for q in found] == [("rate", rate), ("duration", length)]


def test_rate_tails_that_are_numbers_stay_numbers() -> None:
    assert find_quantities("百分之二十一年")[0].value == D("0.21")  # 二十一 is no digit run
    assert find_quantities("费率71%一年")[0].value == D("0.71")  # typed digits are as written


@pytest.mark.parametrize(
    ("text", "months"), [("交一个季度要多少", 3), ("两个季度", 6), ("3个季度", 9)]
)
def test_quarters_are_three_months(text: str, months: int) -> None:
    (q,) = find_quantities(text)
    assert (q.kind, q.value) == ("duration", Duration(D(months), "month"))


def test_first_quarter_is_not_a_length() -> None:
    assert not [q for q in find_quantities("一季度交的") if q.kind == "duration"]


@pytest.mark.parametrize(
    ("text", "value"),
    [("25年8月交上了", CalendarDate(2025, 8)), ("断保了4年,25年9月重新叫上了", CalendarDate(2025, 9))],
)
def test_two_digit_year_before_a_month(text: str, value: CalendarDate) -> None:
    assert [q.value for q in find_quantities(text) if q.kind == "date"] == [value]


def test_two_digit_years_are_lengths_otherwise() -> None:
    found = find_quantities("交了25年8个月")
    assert [q.kind for q in found] == ["duration"]
    assert [q.kind for q in find_quantities("累计25年 要求30年")] == ["duration", "duration"]


def test_a_length_after_a_rate_is_still_found() -> None:
    # 十 半年 overlaps the rate 百分之十; the search goes on and finds 半年.
    found = find_quantities("费率百分之十 半年要交多少")
    assert [(q.kind, q.value) for q in found] == [("rate", D("0.1")), ("duration", Duration(D("0.5"), "year"))]
    # …but never the tail of a number already read.
    assert [q.value for q in find_quantities("2025年4340元")] == [CalendarDate(2025, None), D(4340)]


def test_rates_written_as_a_sum_are_one_rate() -> None:
    (q,) = find_quantities("费率2%+8%")
    assert (q.kind, q.value) == ("rate", D("0.10"))
