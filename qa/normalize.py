"""Question normalisation: one canonical spelling before retrieval, rules and the calculator."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from opencc import OpenCC

from ingest.tokenize import canonical

from .numparse import cn_to_decimal

MAX_QUESTION_CHARS = 500

# Control (Cc), format (Cf: zero-width, bidi embeddings/overrides/isolates, soft hyphen, tags) and lone
# surrogates (Cs, which a JSON "\ud800" escape can carry and UTF-8 cannot encode) become spaces.
_CONTROL_CATEGORIES = frozenset({"Cc", "Cf", "Cs"})
_SPACES = re.compile(r"\s+")

# Colloquial spellings and frequent typos → the words the articles use.
_COLLOQUIAL = [
    (re.compile(r"咋(办|整|弄)"), "怎么办"),
    (re.compile(r"咋"), "怎么"),
    (re.compile(r"啥时候|多会儿|几时"), "什么时候"),
    (re.compile(r"啥"), "什么"),
    (re.compile(r"医宝|医葆|衣保|医報"), "医保"),
    (re.compile(r"补叫|补教"), "补交"),
    (re.compile(r"断叫"), "断交"),
    (re.compile(r"(?<![缴交保档])断了|不交了|没续上|停了"), "断缴了"),
    (re.compile(r"能不能用|还能用吗"), "能否享受待遇"),
    (re.compile(r"(医保)?卡(里|上|中)的?钱"), "个人账户余额"),
    (re.compile(r"公司"), "单位"),
    (re.compile(r"看病|看医生|就诊"), "医疗费用"),
    (re.compile(r"生孩子|生小孩|怀孕生娃"), "生育"),
    (re.compile(r"没(有)?工作了?|失业了|下岗了?"), "暂时未能就业"),
    (re.compile(r"罚(多少|款)"), "滞纳金多少"),
]

# Chinese numerals before a unit ("三个月", "两年", "十八年", "五千元") → Arabic digits.
_CN_NUMBER_UNIT = re.compile(r"([零〇一二两三四五六七八九十百千万]+)(?=(个多?月|个|年|天|日|周|月份|元|块|岁|倍|次))")


@dataclass(frozen=True)
class Query:
    original: str
    text: str  # normalised: half-width, simplified, colloquialisms and numerals folded
    regions: tuple[str, ...]
    insurance_types: tuple[str, ...]


class QuestionError(ValueError):
    """The question cannot be processed (empty or too long); message in Chinese and English."""


@lru_cache(maxsize=1)
def _t2s() -> OpenCC:
    return OpenCC("t2s")


# Provinces, their capitals and large cities, plus every place the corpus names.
# A named region lets us prefer matching articles and flag answers from elsewhere.
REGIONS = (
    "北京 天津 上海 重庆 河北 山西 辽宁 吉林 黑龙江 江苏 浙江 安徽 福建 江西 山东 河南 湖北 湖南 广东 海南 四川 贵州 "
    "云南 陕西 甘肃 青海 台湾 内蒙古 广西 西藏 宁夏 新疆 香港 澳门 "
    "石家庄 太原 沈阳 大连 长春 哈尔滨 南京 苏州 无锡 常州 南通 淮安 连云港 杭州 宁波 温州 合肥 福州 厦门 南昌 济南 "
    "青岛 郑州 武汉 长沙 株洲 广州 深圳 东莞 佛山 珠海 惠州 海口 三亚 成都 贵阳 昆明 西安 商洛 安康 汉中 榆林 兰州 "
    "嘉峪关 西宁 呼和浩特 南宁 拉萨 银川 乌鲁木齐 石嘴山 五指山 大兴安岭 赤峰"
).split()
_REGION_RE = re.compile("|".join(sorted(map(re.escape, REGIONS), key=len, reverse=True)))

_TYPE_PATTERNS = [
    ("职工医保", re.compile(r"职工|单位|上班|在职|离职|辞职|公司")),
    ("城乡居民医保", re.compile(r"城乡居民医保|居民|城乡|新农合|农村|学生|老人|小孩")),
    ("灵活就业", re.compile(r"灵活就业|自由职业|个体|自己交|个人交")),
]


def _numerals_to_digits(text: str) -> str:
    def repl(m: re.Match[str]) -> str:
        raw = m.group(1)
        if raw in ("一", "〇", "零") and m.group(2) in ("次",):
            return raw
        try:
            value = cn_to_decimal(raw)
        except (ValueError, ArithmeticError):
            return raw
        return str(int(value)) if value == int(value) else str(value)

    return _CN_NUMBER_UNIT.sub(repl, text)


def clean_question(question: str) -> str:
    """Trim, drop control characters, collapse whitespace; raises QuestionError if empty or too long."""
    if not isinstance(question, str):
        raise QuestionError("问题必须是文本 / question must be a string")
    text = "".join(" " if unicodedata.category(ch) in _CONTROL_CATEGORIES else ch for ch in question)
    text = _SPACES.sub(" ", text).strip()
    if not text:
        raise QuestionError("问题不能为空 / question must not be empty")
    if len(text) > MAX_QUESTION_CHARS:
        raise QuestionError(
            f"问题过长(最多{MAX_QUESTION_CHARS}字) / question too long (max {MAX_QUESTION_CHARS} characters)"
        )
    return text


# Personal numbers people paste (身份证号, 手机号, card numbers) say nothing about the
# question and would only match unrelated figures; they are dropped with their labels.
_PERSONAL = re.compile(
    r"(身份证号?码?|手机号?码?|电话|社保卡号?|银行卡号?|卡号)?\s*[:：是为]?\s*"
    r"(?<!\d)(\d{17}[\dXx]|1[3-9]\d{9}|\d{12,19})(?!\d)"
)


def normalise_text(text: str) -> str:
    """Half-width, simplified Chinese, colloquialisms folded, numerals as digits. Idempotent."""
    text = unicodedata.normalize("NFKC", text)
    text = _PERSONAL.sub(" ", text)
    text = _t2s().convert(text)
    for pattern, repl in _COLLOQUIAL:
        text = pattern.sub(repl, text)
    return _numerals_to_digits(text)


def detect_regions(text: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(_REGION_RE.findall(text)))


def detect_insurance_types(text: str) -> tuple[str, ...]:
    return tuple(name for name, pattern in _TYPE_PATTERNS if pattern.search(text))


def normalise_question(question: str) -> Query:
    original = clean_question(question)
    text = _SPACES.sub(" ", normalise_text(original)).strip()  # NFKC can add spaces: "¸" → " ̧"
    folded = canonical(text)
    return Query(original, text, detect_regions(text), detect_insurance_types(folded))
