"""Question normalisation: one canonical spelling before retrieval, rules and the calculator."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from opencc import OpenCC

from ingest.regions import find_regions
from ingest.tokenize import canonical

from .numparse import cn_to_decimal

MAX_QUESTION_CHARS = 500

# Control (Cc), format (Cf: zero-width, bidi embeddings/overrides/isolates, soft hyphen, tags) and lone
# surrogates (Cs, which a JSON "\ud800" escape can carry and UTF-8 cannot encode) become spaces.
_CONTROL_CATEGORIES = frozenset({"Cc", "Cf", "Cs"})
_SPACES = re.compile(r"\s+")

# Colloquial spellings and frequent typos → the words the articles use.
_MONEY_BEFORE = re.compile(r"钱|余额|账户")


def _clause_before(m: re.Match[str]) -> str:
    """The text of ``m``'s clause before it (from the last punctuation or space)."""
    before = m.string[: m.start()]
    return re.split(r"[,，。;；!！?？\s]", before)[-1]


_COLLOQUIAL = [
    # Cantonese (after t2s): 可唔可以 → 可不可以, 仲用唔用得 → 还能不能用, 有冇 → 有没有 …
    (re.compile(r"用唔用得|用得唔得"), "能不能用"),
    (re.compile(r"帐户"), "账户"),
    (re.compile(r"(\w)唔\1"), r"\1不\1"),
    (re.compile(r"得唔得|得不得"), "能不能"),
    (re.compile(r"使唔使|使不使"), "需不需要"),
    (re.compile(r"有冇"), "有没有"),
    (re.compile(r"系唔系|系咪|系不系"), "是不是"),
    (re.compile(r"冇得"), "不能"),
    (re.compile(r"冇"), "没有"),
    (re.compile(r"唔"), "不"),
    (re.compile(r"乜嘢|咩"), "什么"),
    (re.compile(r"点样|点办"), "怎么"),
    (re.compile(r"边度|边到|边个地方"), "哪里"),
    (re.compile(r"而家"), "现在"),
    (re.compile(r"仲(?=[可能用有要会系是未没])"), "还"),
    (re.compile(r"嘅"), "的"),
    (re.compile(r"几耐|几长时间"), "多久"),
    (re.compile(r"先至得"), "才行"),
    (re.compile(r"先至"), "才"),
    (re.compile(r"[嗰𠮶](?=边|度|个|啲|阵|时)"), "那"),
    (re.compile(r"咗"), "了"),
    (re.compile(r"喺"), "在"),
    (re.compile(r"佢"), "他"),
    (re.compile(r"[畀俾](?=[我你他她])"), "给"),
    (re.compile(r"睇"), "看"),
    (re.compile(r"攞"), "拿"),
    (re.compile(r"入面"), "里面"),
    (re.compile(r"[噉咁]样?"), "这样"),
    # Northern, central and south-western Mandarin.
    (re.compile(r"俺们|咱们"), "我们"),
    (re.compile(r"俺|咱(?!们)"), "我"),
    (re.compile(r"自个儿|自个|自己个儿"), "自己"),
    (re.compile(r"啥子"), "什么"),
    (re.compile(r"咋个"), "怎么"),
    (re.compile(r"中不中|行不行"), "能不能"),
    (re.compile(r"晓不晓得"), "知不知道"),
    (re.compile(r"晓得"), "知道"),
    (re.compile(r"弄啥嘞?|干啥"), "做什么"),
    (re.compile(r"嘞(?=[?？!！。,，]|$)"), "了"),
    (re.compile(r"咋(办|整|弄)"), "怎么办"),
    (re.compile(r"咋"), "怎么"),
    (re.compile(r"啥时候|多会儿|几时"), "什么时候"),
    (re.compile(r"啥"), "什么"),
    (re.compile(r"医宝|医葆|衣保|医報"), "医保"),
    (re.compile(r"补叫|补教"), "补交"),
    # 一年叫多少 / 要俾几多 (Cantonese 俾 = give): paying, asked about; 几多 is Cantonese 多少.
    (re.compile(r"(?<![名称])叫(?=多少|几多)|[畀俾](?=几多|多少)"), "交"),
    (re.compile(r"几多"), "多少"),
    # 參佰捌拾 (t2s: 参佰捌拾): the banker's 叁 when a unit follows.
    (re.compile(r"参(?=[佰拾仟百十千])"), "叁"),
    (re.compile(r"断叫"), "断交"),
    # "断一个月就停了" says the benefits stop, not that paying stopped.
    (re.compile(r"(?<![缴交保档])断了|不交了|没续上|(?<![就会])停了"), "断缴了"),
    # (not after money in the same clause: "个人账户里的钱还能用吗" asks about the balance, not benefits)
    (re.compile(r"能不能用|还能用吗"), lambda m: m.group(0) if _MONEY_BEFORE.search(_clause_before(m)) else
     "能否享受待遇"),
    (re.compile(r"(医保)?卡(里|上|中)的?钱"), "个人账户余额"),
    (re.compile(r"公司"), "单位"),
    (re.compile(r"户口本"), "户口簿"),  # the articles write 户口簿
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
        out = str(int(value)) if value == int(value) else str(value)
        # "每人400一年" must not become "4001年": keep a converted numeral apart from digits before it.
        return f" {out}" if m.start() > 0 and text[m.start() - 1].isdigit() else out

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


def normalise_text(text: str, *, numerals: bool = True, colloquial: bool = True) -> str:
    """Half-width, simplified Chinese, colloquialisms folded, numerals as digits. Idempotent.

    ``numerals=False`` keeps Chinese numerals as written: the calculator reads them in context
    ("一天万分之三" is a daily rate, not one day). ``colloquial=False`` keeps the asker's words (the
    folding is for the insurance reading: 罚款 → 滞纳金 would hide a question about 交通罚款).
    """
    text = unicodedata.normalize("NFKC", text)
    text = _PERSONAL.sub(" ", text)
    text = _t2s().convert(text)
    for pattern, repl in _COLLOQUIAL if colloquial else ():
        text = pattern.sub(repl, text)
    return _numerals_to_digits(text) if numerals else text


def numerals_to_digits(text: str) -> str:
    return _numerals_to_digits(text)


def detect_regions(text: str) -> tuple[str, ...]:
    """Places a question names, as written, from jionlp's gazetteer of provinces, cities and counties
    (``ingest.regions``): 嘉峪关, 兰州, 北京朝阳区 …; a named region lets retrieval prefer its articles
    and the decision notice when the sources are about somewhere else."""
    return tuple(dict.fromkeys(r.name for r in find_regions(text)))


def detect_insurance_types(text: str) -> tuple[str, ...]:
    return tuple(name for name, pattern in _TYPE_PATTERNS if pattern.search(text))


def normalise_question(question: str) -> Query:
    original = clean_question(question)
    text = _SPACES.sub(" ", normalise_text(original)).strip()  # NFKC can add spaces: "¸" → " ̧"
    folded = canonical(text)
    return Query(original, text, detect_regions(text), detect_insurance_types(folded))
