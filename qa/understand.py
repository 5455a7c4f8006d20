"""One understanding of a question, computed once at the start and passed along.

``understand(question) -> Understanding`` reads the question the way people type it (instructions to
the bot dropped, emoji, English words, pinyin, traditional script, full-width characters), then
records everything later steps ask about it: what kind of question it is, the region, year and
insurance type it names, the quantities and calculation it states, whether it is in scope. Retrieval,
the calculator, the composer and the answerability decision all read this one object; none of them
parses the question again. A conversation (``qa.conversation``) builds the next turn's
understanding from this one.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import date

from ingest.tokenize import content_words

from . import quantity
from .calc_detect import CalcRequest, detect
from .lexicon import Lexicon
from .normalize import (
    Query,
    clean_question,
    detect_insurance_types,
    detect_regions,
    normalise_text,
    numerals_to_digits,
)
from .reading import drop_symbols, looks_like_pinyin, strip_instructions, translate_english
from .scope import GENERIC_TERMS, MEDICAL, has_domain_words, out_of_scope_topic, sounds_like_topic

# --------------------------------------------------------------------------- question types

# What a question asks for decides which sentence answers it (``answer.compose``) and what the
# evidence must state (``decide``). Checked in this order; the first match wins. The patterns are
# the everyday ways of asking; they were written from the train split of eval/users.jsonl.
QTYPES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("materials", re.compile(r"材料|证件|资料|带什么|带啥|带哪些|拿什么|准备什么|准备哪些|需要提供|要提供|证明")),
    ("channel", re.compile(r"网上|线上|线下|微信|支付宝|app|APP|小程序|公众号|窗口|哪里办|在哪办|去哪|到哪|在哪里|"
                           r"哪个部门|什么地方|渠道|途径|电话|热线|手机上|自己办")),
    ("who_pays", re.compile(r"谁(出|交|缴|付|承担|负责|掏)|单位(出|承担|负责|交)还是|个人(出|承担)还是|谁来")),
    ("how_much", re.compile(r"多少钱|多少元|几块|交多少|缴多少|补多少|费用|金额|标准是|多少费|怎么算|咋算|要花|花多少|"
                            r"缴费标准|交费标准|一年多少|每月多少|每年多少")),
    ("when", re.compile(r"多久|多长时间|多长|什么时候|何时|哪天|哪个月|几月|几个月|几天|等待期|等多|要等|啥时候|"
                        r"才能(用|报|享受)|立即|马上|当月|次月|生效")),
    ("consequence", re.compile(r"影响|后果|会怎样|会怎么样|怎么样|有啥事|有什么事|损失|白交|清零|清0|作废|没了")),
    ("how", re.compile(r"怎么|怎样|如何|咋|流程|步骤|手续|办理|方法|方式|程序")),
    ("yes_no", re.compile(r"(吗|么|嘛|不)[?？!！。]*\s*$|能否|能不能|可否|可不可以|会不会|是否|是不是|有没有|算不算|"
                          r"要不要|用不用|需不需要|行不行|中不中|得不得|可以.{0,12}(吗|么)")),
    ("what", re.compile(r"什么|啥|哪些|区别|不同|意思|是指|定义|条件|规定|政策")),
)

# A yes/no question is also recognised inside the other types ("网上能办吗" is a channel question
# that wants 能/不能 first).
_YES_NO = re.compile(r"(吗|么|嘛)[?？!！。]*\s*$|(能|会|可以|需要|要|用|行|中|得)不\1|能否|可否|是否|有没有|"
                     r"算不算|不[?？]\s*$")
# The asker reports claims that disagree ("有人说90天有人说第三个月", "是真的假的", "getting different answers"):
# the answer should show what each article says, as for a yes/no question.
_DOUBTS = re.compile(r"有人说.{0,40}有人说|有的说.{0,40}有的说|说法不一|说法都不一样|真的假的|是真是假|到底(信|听)哪个|"
                     r"到底(是)?怎么回事|哪个(说法)?(是)?对|different answers|conflicting|which (one )?is (right|true)",
                     re.I)
_YEAR = re.compile(r"(?<!\d)(19[89]\d|20[0-4]\d)(?=\s*年|\s*度|\D|$)")
# 补缴 payment dates ("2025年3月补缴") are inputs, not the year a rule is asked for.
_DATE_YEAR = re.compile(r"(19[89]\d|20[0-4]\d)\s*[年.\-/]\s*\d{1,2}\s*(月|[.\-/]|$)")


@dataclass(frozen=True)
class Understanding(Query):
    """Everything later steps need to know about one question (``text`` is what is answered)."""

    # The question sentence of a long story (``text`` itself for short questions).
    focus: str = ""
    # ``text`` with Chinese numerals as written, for the calculator ("一天万分之三" is a rate, not 1 day).
    calc_text: str = ""
    qtype: str = "what"
    yes_no: bool = False
    # The asker says they heard answers that disagree.
    doubts: bool = False
    years: tuple[int, ...] = ()
    # The places and years the asking sentence names (``focus``): what the question asks about. A story's
    # background ("我老家在河南…", "2022年去南方打工…") is in ``regions``/``years`` but not here.
    focus_regions: tuple[str, ...] = ()
    focus_years: tuple[int, ...] = ()
    calc: CalcRequest | None = None
    scope_topic: str | None = None
    domain: bool = False
    specific: frozenset[str] = frozenset()
    asked_quantity: str | None = None
    asked_phrase: str = ""
    ignored_instructions: bool = False
    pinyin: bool = False
    # A pinyin question that could not be read back into Chinese with confidence.
    unreadable: bool = False
    # Slots a follow-up took from earlier turns (``qa.conversation``); empty for a question asked alone.
    inherited: tuple[str, ...] = ()
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def query(self) -> Query:
        return Query(self.original, self.text, self.regions, self.insurance_types)

    @property
    def computes(self) -> bool:
        """A calculation the question states numbers for (the calculator answers it)."""
        return self.calc is not None and not self.calc.out_of_scope and self.calc.has_numbers


def question_type(text: str) -> str:
    for name, pattern in QTYPES:
        if pattern.search(text):
            return name
    return "what"


def asked_years(text: str) -> tuple[int, ...]:
    dates = {m.start(1) for m in _DATE_YEAR.finditer(text)}
    return tuple(dict.fromkeys(int(m.group(1)) for m in _YEAR.finditer(text) if m.start(1) not in dates))


def region_ok(asked: str, regions: list[str]) -> bool:
    """``asked`` is one of ``regions`` or contains it, or the other way round (苏州 / 苏州市)."""
    return any(asked in r or r in asked for r in regions)


def uncovered_places(places: Iterable[str], region_lists: Iterable[list[str]], text: str) -> list[str]:
    """The ``places`` that no source is about (by its regions) and that ``text`` never names."""
    lists = list(region_lists)
    return [p for p in places if not any(region_ok(p, regs) for regs in lists) and p not in text]


def focus_regions(regions: tuple[str, ...], text: str, focus: str) -> tuple[str, ...]:
    """The places of ``regions`` that the asking sentence names ("我老家在河南…从老家换到苏州这边参保,得先办什么
    手续?" asks about 苏州 only). Places are compared as places: "在苏州市工作…换到苏州这边" names 苏州市 once,
    and the asking sentence's 苏州 is that place."""
    if focus == text:
        return regions
    where = asking_part(text, focus, lambda t: any(r in t for r in regions) or bool(detect_regions(t)))
    named = list(detect_regions(where))
    return tuple(r for r in regions if r in where or region_ok(r, named))


def asking_part(text: str, focus: str, names: Callable[[str], bool]) -> str:
    """Where a story's asked place or year is read: its asking sentence, or — when that one names none
    ("…上海灵活就业医保最低档1个月要交多少钱?缴费基数下限又是多少?") — the nearest earlier question (a sentence
    ending in a question mark) that names one. Background sentences never count, even with a 几 in them
    ("前几年一直连着交…2022年…断了两年": users train u-0071 became partial when they did)."""
    if names(focus):
        return focus
    asking = [m.group(0) for m in _SENTENCE.finditer(text)
              if m.group(0).rstrip().endswith(("?", "？")) and focus not in m.group(0)]
    return next((s for s in reversed(asking) if names(s)), focus)


def specific_terms(text: str) -> frozenset[str]:
    """The words that say what exactly is asked: not generic domain words, digits or single characters."""
    return frozenset(w for w in content_words(text) if len(w) >= 2 and w not in GENERIC_TERMS and not w.isdigit())


# Share of a pinyin question's letters that must be read as whole words for the reading to be
# trusted; below it the service asks for Chinese characters (no_answer) instead of guessing.
PINYIN_MIN_CONFIDENCE = 0.3
# A question longer than this is usually a story around the question; its question sentence is what
# retrieval and sentence choice look at (the whole text still gives numbers, region and type).
FOCUS_MIN_CHARS = 60
_SENTENCE = re.compile(r"[^。！？!?；;\n]+[。！？!?；;]*")
_CLAUSE = re.compile(r"[^。！？!?；;,，\n]+[。！？!?；;,，]*")
# (public: ``qa.conversation`` tells a story's question sentences from its background with it)
ASKS = re.compile(r"[?？]|吗|么|呢|嘛|怎么|怎样|如何|多久|多长|多少|几|什么|能否|能不能|可不可以|会不会|是不是|"
                  r"有没有|要不要|需不需要|哪|谁|想知道|想问|请问|不[?？。]?\s*$")


def focus_of(text: str) -> str:
    """The question sentence of a long text (the last one that asks something), or the text itself."""
    if len(text) <= FOCUS_MIN_CHARS:
        return text
    asking = [m.group(0) for m in _SENTENCE.finditer(text) if ASKS.search(m.group(0))]
    if not asking:
        return text
    focus = asking[-1].strip()
    if len(focus) > FOCUS_MIN_CHARS:  # a long run-on sentence: its last clauses
        clauses = [m.group(0) for m in _CLAUSE.finditer(focus)]
        focus = "".join(clauses[-3:]).strip()
    return focus


def last_asking_clause(text: str) -> str:
    """The clause that carries the question ("…马上到退休年龄了,过了退休年龄还能补缴吗" → its last clause):
    incidental words earlier in the sentence (马上, 几个月) do not decide what is asked."""
    clauses = [m.group(0).strip() for m in _CLAUSE.finditer(text) if m.group(0).strip(" ,，。")]
    asking = [c for c in clauses if ASKS.search(c)]
    if not asking:
        return text
    # The asking clause with the clause before it: "补交医保的钱,能直接微信付吗" needs both.
    i = clauses.index(asking[-1])
    return "".join(clauses[max(0, i - 1) : i + 1])


@dataclass(frozen=True)
class Reading:
    """A question as read: ``text`` for retrieval and answers, ``calc_text`` for the calculator (the
    same text with Chinese numerals kept, since "一天万分之三" is a rate and not one day)."""

    text: str
    calc_text: str
    # The question in the asker's words (instructions dropped, colloquialisms not folded): what decides
    # whether it is about another domain.
    written: str = ""
    ignored_instructions: bool = False
    pinyin: bool = False
    unreadable: bool = False


def read_question(original: str, lexicon: Lexicon | None = None) -> Reading:
    text = normalise_text(drop_symbols(original), numerals=False)
    reading = strip_instructions(text)
    text = reading.text
    pinyin = unreadable = False
    if not looks_like_pinyin(text):
        text = translate_english(text)
    else:
        pinyin = True
        chinese, confidence = lexicon.pinyin_reader().read(text) if lexicon is not None else (text, 0.0)
        if confidence >= PINYIN_MIN_CONFIDENCE:
            text = chinese
        else:
            unreadable = True
    text = normalise_text(text, numerals=False)
    if lexicon is not None and not unreadable:
        text = lexicon.correct(text)
    calc_text = re.sub(r"\s+", " ", text).strip() or original
    written = strip_instructions(normalise_text(drop_symbols(original), numerals=False, colloquial=False)).text
    return Reading(numerals_to_digits(calc_text), calc_text, written, reading.ignored_instructions, pinyin, unreadable)


def understand(question: str, lexicon: Lexicon | None = None, today: date | None = None) -> Understanding:
    """Read ``question`` once; raises ``QuestionError`` for an empty or over-long question.

    ``lexicon`` (the index's vocabulary) corrects homophone typos and reads pinyin; without it the
    question is only normalised.
    """
    original = clean_question(question)
    r = read_question(original, lexicon)
    return understanding_of(original, r.text, calc_text=r.calc_text, today=today, written=r.written,
                            ignored_instructions=r.ignored_instructions, pinyin=r.pinyin, unreadable=r.unreadable)


def understanding_of(original: str, full: str, *, calc_text: str | None = None, today: date | None = None,
                     focus: str | None = None, written: str | None = None, **flags) -> Understanding:
    """The understanding of an already-read text (used again by conversations for a rewritten turn)."""
    from ingest.tokenize import canonical

    text = full
    focus = focus_of(focus or full)
    calc = detect(calc_text or full, today=today or date.today())
    # Another domain is recognised in the folded text and in the asker's own words ("交通罚款晚交了" folds
    # 罚款 into 滞纳金); naming 医保 keeps a question in scope either way.
    scope_topic = (out_of_scope_topic(text)
                   or (out_of_scope_topic(written) if written and not MEDICAL.search(text) else None)
                   or sounds_like_topic(text)
                   or (calc.scope_topic if calc is not None and calc.out_of_scope else None))
    notes = []
    if flags.get("ignored_instructions"):
        notes.append("(问题中要求改变回答方式的指令已忽略,下面只回答其中的医保问题。)")
    if flags.get("pinyin") and not flags.get("unreadable"):
        notes.append(f"(拼音问题按“{full}”理解。)")
    asking = last_asking_clause(focus)
    qtype = question_type(asking)
    regions = detect_regions(full)
    return Understanding(
        original=original,
        text=text,
        focus=focus,
        calc_text=calc_text or full,
        regions=regions,
        insurance_types=detect_insurance_types(canonical(full)),
        qtype=qtype,
        yes_no=bool(_YES_NO.search(asking)),
        doubts=bool(_DOUBTS.search(text)),
        years=asked_years(full),
        focus_regions=focus_regions(regions, text, focus),
        focus_years=asked_years(asking_part(text, focus, lambda t: bool(asked_years(t)))),
        calc=calc,
        scope_topic=scope_topic,
        domain=has_domain_words(full),
        specific=specific_terms(focus),
        asked_quantity=quantity.asked_type(focus),
        asked_phrase=quantity.asked_phrase(focus),
        notes=tuple(notes),
        **flags,
    )


def with_text(u: Understanding, text: str, inherited: tuple[str, ...], calc_text: str | None = None,
              focus: str | None = None) -> Understanding:
    """``u`` re-read from a rewritten ``text`` (a follow-up completed from earlier turns); the calculator
    reads ``calc_text`` and the answer is chosen for ``focus`` when given, else the whole text."""
    fresh = understanding_of(u.original, numerals_to_digits(text), calc_text=calc_text or text,
                             focus=numerals_to_digits(focus) if focus else None,
                             ignored_instructions=u.ignored_instructions, pinyin=u.pinyin, unreadable=u.unreadable)
    return replace(fresh, inherited=inherited, notes=u.notes)
