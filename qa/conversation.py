"""Follow-up questions in a conversation, resolved by rules from what earlier turns established.

In a chat people ask a follow-up in a few words: "那职工医保呢?", "天津呢?", "要是断了8个月呢?",
"要带什么材料?", "网上能办吗". Each turn leaves a ``TurnState`` (the full question it answered, its
subject, insurance type, region, question type, and for a calculation its kind, text and the words each
input was read from). A new turn is read alone first; then:

* a complete new question (its own subject and its own insurance type or region, or a long story) with
  no follow-up cue ("那…", "要是…") and no word pointing back ("也", "那边", "这中间") starts fresh and
  inherits nothing;
* a turn about another domain is refused as it would be alone (it inherits nothing either);
* a turn that only names a new insurance type or region ("那职工医保呢?", "在嘉峪关呢", "and for 居民医保?")
  is the previous question with that one slot replaced;
* a turn that gives a new number for the previous calculation ("要是断了8个月呢?", "what if 3 months?") is
  the previous calculation with that input replaced (the calculator's own reader finds which input it is);
* any other follow-up ("要带什么材料?", "补完多久能用") is asked after the previous question
  ("<previous question>。<this turn>"), so the situation it describes (who, where, which insurance, how
  long) comes along; a turn without a topic of its own only gets the insurance type and region. A story
  is carried as its question sentence only (with the type and region its background named), and a
  drill-down that this finds no answer for is asked again with only the previous slots and topic words
  (``Resolution.fallback``, tried by ``QAService.ask_turn``).

The result is the full question the service answers, shown to the user as ``understood_as``. No LLM.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

from .understand import ASKS as _FOCUS_ASKS
from .understand import Understanding

# A turn that opens like this continues the conversation ("那…呢", "要是…呢", "what about …").
_CUE = re.compile(r"^\s*(那(?!个)么?|那要是|要是|如果|假如|假设|换成|改成|而且|那如果|那假如|那像|"
                  r"and\b|what about|what if|how about|hmm|ok so|so\b)", re.I)
# …and one that opens like this changes the subject ("对了", "另外", "还有个事", "btw"): with a subject of its
# own it is a new question even without an insurance type or region.
_NEW_TOPIC = re.compile(r"^\s*(对了|另外|还有个?事|还有就是|还有一?个问题|再问一?个|再问下|换个问题|顺便问一?下|"
                        r"另一个问题|那个[\s,，]|btw\b|by the way|new question|different q(uestion)?\b|also\b)", re.I)
# A turn that names the domain itself ("医保电子凭证怎么激活", "补缴断了5个月的医保…") rather than only an
# insurance type asks its own question unless a cue or a word pointing back says otherwise.
_DOMAIN = re.compile(r"(医保|社保|医疗保险)(?!局|所|中心|站|窗口|大厅|部门|经办|[Aa]pp|服务平台)")
_TAIL = re.compile(r"(呢|嘞|呀|咧|嘛|了)\s*[?？!！。]*\s*$")
# Words that point back at what was said ("也", "那边", "这中间", "the same", "too"): the turn leans on
# earlier turns even when it names a subject of its own.
_ANAPHORA = re.compile(r"也|那边|这边|那里|那儿|当地|这中间|中间|这段时间|这样|这么|同样|(?<!不)一样|的话|"
                       r"\b(too|same|also|there)\b", re.I)
# A turn this long with its own subject is a complete question even without an insurance type or a
# region. Chosen on the train/dev dialogues: follow-ups there that name neither run to 16 characters,
# the fresh question that names neither has 22.
COMPLETE = 20
# A previous question longer than this is a story around its question (understand.FOCUS_MIN_CHARS).
STORY_CHARS = 60
# A sentence that asks something (understand.focus_of's test, plus 啥/咋 for a text not yet normalised):
# what is left of a story once its background sentences are dropped.
_ASKS = re.compile(f"{_FOCUS_ASKS.pattern}|啥|咋")
# At most this much of the previous question is carried into a follow-up, so a long chat does not grow
# its questions without end (the longest single questions in the users set are about 120 characters).
CONTEXT_CHARS = 120
# The topic a turn carries forward: what it is about, without how it asks (insurance types and regions
# are carried as slots of their own).
_TOPIC = re.compile(
    r"断缴|断保|中断|停保|漏缴|漏交|欠缴|补缴|续缴|恢复参保|重新参保|恢复|等待期|报销|缴费年限|滞纳金|个人账户|"
    r"退休|转移|缴费基数|费率|集中缴费期|补充缴费期|门诊|住院"
)
# A turn has a topic of its own when it names one, or says one in everyday words (补上了, 能报吗).
_OWN_TOPIC = re.compile(
    _TOPIC.pattern + r"|待遇|参保|补交|补上|补完|补齐|补了|能补|补吗|补不|断了|断交|停了|交上|续上|能报|能用|看病|年限|"
    r"视同缴费|\bpaid\b|retir"
)
# …and a subject of its own when it also asks something only this domain asks (交多少, 要带啥材料).
_OWN_SUBJECT = re.compile(_OWN_TOPIC.pattern + r"|缴费|材料|证明|证件|手续|[交缴]多少|多少钱|户口本|身份证")
_TYPES = {
    "职工医保": re.compile(r"职工医保|职工医疗保险|职工"),
    "城乡居民医保": re.compile(r"城乡居民医保|居民医保|城乡居民|居民|新农合|农合"),
    "灵活就业": re.compile(r"灵活就业"),
}
_ANY_TYPE = re.compile("|".join(p.pattern for p in _TYPES.values()))
# What is left of a slot-only turn once its slot words are gone: place prepositions, "也一样吗",
# English glue ("and for …?", "specifically in …?", "in the same situation?").
_FILLER = re.compile(r"^(在|去|到|回)|那边|这边|的话|也是?这样|也一样|一样|同样|是不是|也|[a-z]+", re.I)
_EN_UNITS = ((re.compile(r"(\d+(?:\.\d+)?)\s*months?\b", re.I), r"\1个月"),
             (re.compile(r"(\d+(?:\.\d+)?)\s*days?\b", re.I), r"\1天"),
             (re.compile(r"(\d+(?:\.\d+)?)\s*years?\b", re.I), r"\1年"))
# Inputs a numeric follow-up may change; the insurance type read from "新单位" is not a new number.
_NOT_NUMERIC = frozenset({"insurance_type"})


@dataclass(frozen=True)
class TurnState:
    """What one answered turn established (stored as JSON with the turn)."""

    text: str
    subject: str = ""
    insurance_type: str | None = None
    region: str | None = None
    qtype: str = ""
    calc_kind: str | None = None
    calc_text: str | None = None
    calc_evidence: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> TurnState | None:
        if not isinstance(data, dict) or not isinstance(data.get("text"), str):
            return None
        known = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        strings = ("subject", "qtype")
        optional = ("insurance_type", "region", "calc_kind", "calc_text")
        if any(not isinstance(known.get(k, ""), str) for k in strings) or \
                any(known.get(k) is not None and not isinstance(known[k], str) for k in optional):
            return None  # written by another version, or damaged: no state rather than a crash
        evidence = known.get("calc_evidence", {})
        if not isinstance(evidence, dict) or not all(isinstance(k, str) and isinstance(v, str)
                                                     for k, v in evidence.items()):
            return None
        return cls(**known)


@dataclass(frozen=True)
class Resolution:
    text: str  # the full question to answer
    inherited: tuple[str, ...]  # which slots came from earlier turns ("subject", "insurance_type", …)
    kind: str  # "fresh", "slot", "numeric", "followup"
    # What the calculator reads when not the whole text: for a drill-down that asks no number, only the
    # turn itself, so "要带什么材料" after a waiting-period calculation does not repeat the calculation.
    calc_text: str | None = None
    # What the answer's sentences are chosen for, when not the whole text: a drill-down's own question
    # (with the inherited type and region), so the previous question's words do not pick the sentences.
    focus: str | None = None
    # A drill-down asked with only the previous question's slots and topic words, for when the question
    # with the previous one carried whole finds no answer (see ``QAService.ask_turn``).
    fallback: str | None = None


# Everyday words for the two topics a drill-down's fallback question needs (断了 → 断缴, 补交 → 补缴), so
# "居民医保断了5个月 补交以后要等多久" gives "断缴补缴…", not only "报销".
_EVERYDAY_TOPIC = ((re.compile(r"断了|断交|断保|停了|停保|没交上?|没缴"), "断缴"),
                   (re.compile(r"补交|补上|补齐|补完|补了|补叫"), "补缴"))


# Question types of a drill-down that asks about another side of the same matter (what to bring, where
# or online, who pays, how): the only follow-ups given the fallback question.
_DRILL_QTYPES = frozenset({"materials", "channel", "who_pays", "how"})


def _fold_topic(text: str) -> str:
    for pattern, word in _EVERYDAY_TOPIC:
        text = pattern.sub(word, text)
    return text


def subject_of(text: str) -> str:
    """The topic words of a question in their order ("医保断了咋补?" → "断缴补缴")."""
    return "".join(dict.fromkeys(m.group(0) for m in _TOPIC.finditer(text)))


def insurance_type_of(text: str) -> str | None:
    for name, pattern in _TYPES.items():
        if pattern.search(text):
            return name
    return None


def state_of(u: Understanding) -> TurnState:
    """The state a turn leaves once answered (``u`` is the resolved understanding)."""
    calc = u.calc if u.calc is not None and not u.calc.out_of_scope and u.calc.kind else None
    regions = u.regions
    return TurnState(
        text=u.text, subject=subject_of(u.text), insurance_type=insurance_type_of(u.text),
        region=regions[0] if regions else None, qtype=u.qtype,
        calc_kind=calc.kind if calc is not None else None, calc_text=u.calc_text if calc is not None else None,
        calc_evidence=dict(calc.evidence) if calc is not None else {},
    )


def _slot_words(u: Understanding) -> list[str]:
    return list(u.regions) + [m.group(0) for m in _ANY_TYPE.finditer(u.text)]


def _opens_with_slot(text: str, words: list[str]) -> bool:
    """"居民医保呢 …", "广州呢…", "天津的话…": a new slot offered in place of the previous one."""
    if not words:
        return False
    alts = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
    return bool(re.match(rf"\s*(在|去|到)?({alts})的?(呢|嘞|了|咧|的话)", text))


def is_complete(u: Understanding) -> bool:
    """A question that stands alone: a subject of its own and its own insurance type or region, or
    enough words to tell the whole situation — or a calculation with every input it needs
    ("断缴5个月工资8000补缴大概要多少钱")."""
    if u.calc is not None and u.calc.kind and u.calc.complete and u.calc.has_numbers:
        return True
    text = u.text.strip()
    placed = bool(u.regions) or bool(_ANY_TYPE.search(text))
    # Paying itself (交/缴) is a subject once the question says whose insurance: "居民医保是一年交一次吗" —
    # a place alone does not say it ("嘉峪关是啥时候交" after a question about 居民医保).
    return bool(_OWN_SUBJECT.search(text) or _ANY_TYPE.search(text) and re.search("[交缴]", text)) and (
        placed or len(text) >= COMPLETE)


def is_followup(u: Understanding, previous: TurnState | None) -> bool:
    if previous is None or u.scope_topic:
        return False
    text = u.text.strip()
    if _NEW_TOPIC.search(text) and _OWN_SUBJECT.search(text) and not _CUE.search(_NEW_TOPIC.sub("", text)):
        return False
    if _CUE.search(text) or _ANAPHORA.search(text) or _opens_with_slot(text, _slot_words(u)):
        return True
    if _DOMAIN.search(_ANY_TYPE.sub("", text)):
        return False
    return not is_complete(u)


def _replace_type(text: str, new_type: str) -> str:
    if _ANY_TYPE.search(text):
        return _ANY_TYPE.sub(new_type, text, count=1)
    if "医保" in text:  # "医保断缴了怎么补缴" → "职工医保断缴了怎么补缴", not "职工医保医保…"
        return text.replace("医保", new_type, 1)
    return f"{new_type}{text}"


def _replace_region(text: str, old: str | None, new: str) -> str:
    # Every mention: a story names its place more than once ("我在天津送快递…我这种天津灵活就业…"), and
    # one left behind makes the question about two regions (seen on a train region switch).
    if old and old in text:
        return text.replace(old, new)
    return f"{new}{text}"


def _bare(text: str, words: list[str]) -> str:
    """The follow-up without its cue, its slot words, fillers and closing particles."""
    out = _CUE.sub("", text)
    for w in sorted(words, key=len, reverse=True):
        out = out.replace(w, "")
    out = re.sub(r"[\s,，。?？!！]+|的话", "", out).replace("的", "")
    for _ in range(3):  # fillers and particles nest: "在嘉峪关呢", "那边也一样吗"
        out = re.sub(r"(吗|么|嘛)$", "", _TAIL.sub("", _FILLER.sub("", out)))
    return out


def _context(text: str, previous: TurnState | None = None) -> str:
    """The previous question as carried into a follow-up: a chat's first question (which tells the
    situation) and its latest turn, at most CONTEXT_CHARS characters, cut at the start of a turn.

    A story (longer than STORY_CHARS, with sentences that ask nothing) is carried as its last asking
    sentence only (its question, as in understand.focus_of), with the insurance type
    and region its background named put in front: the background (我在天津送快递, 一直在农村交, 刚生完二宝)
    pulled retrieval to passages about those words, and a drill-down asks about the question, not the
    story. Chosen on the train/dev dialogues: 5 drill-downs and region switches after a story went from
    wrong to right and none the other way (train 0.739 → 0.783, dev 0.611 → 0.667); carrying only the
    slots and topic words after every story, or after every question, lost more than it won. A chat of
    short turns (each asking something) is unchanged."""
    parts = [p for p in text.rstrip("?？。!！ ").split("。") if p.strip()]
    if len(text) > STORY_CHARS:
        asking = [p for p in parts if _ASKS.search(p)]
        if asking and len(asking) < len(parts):  # background sentences that ask nothing: a story
            slots = (previous.region, previous.insurance_type) if previous is not None else ()
            parts = ["".join(x for x in slots if x and x not in asking[-1]) + asking[-1]]
    if len(parts) > 2:
        parts = [parts[0], parts[-1]]
    out = "。".join(parts)
    while len(out) > CONTEXT_CHARS and len(parts) > 1:
        parts = parts[:1] if len(parts[0]) <= CONTEXT_CHARS else parts[1:]
        out = "。".join(parts)
    return out[:CONTEXT_CHARS]


def _english_units(text: str) -> str:
    """"3 months" → "3个月" so the calculator's reader finds the number in an English follow-up."""
    for pattern, repl in _EN_UNITS:
        text = pattern.sub(repl, text)
    return text


def resolve(u: Understanding, previous: TurnState | None, today: date | None = None) -> Resolution:
    """The full question a turn asks, given the previous turn's state (see the module docstring)."""
    if not is_followup(u, previous):
        return Resolution(u.text, (), "fresh")
    assert previous is not None
    text = u.text
    new_type = insurance_type_of(text)
    new_region = u.regions[0] if u.regions else None
    slot_words = _slot_words(u)

    # 1. Only a new insurance type and/or region: the previous question with that slot replaced. Naming the
    #    previous question's own topic again adds nothing ("那嘉峪关那边的等待期呢" after a waiting question).
    topic_words = _TOPIC.findall(previous.subject) if previous.subject else []
    if (new_type or new_region) and not _bare(text, slot_words + topic_words):
        out = previous.text
        inherited = ["subject", "qtype"]
        if new_type:
            out = _replace_type(out, new_type)
        elif previous.insurance_type:
            inherited.append("insurance_type")
        if new_region:
            out = _replace_region(out, previous.region, new_region)
        elif previous.region:
            inherited.append("region")
        return Resolution(out, tuple(inherited), "slot")

    # 2. A new number for the previous calculation: that input replaced in the previous calculation.
    #    A complete question of its own ("另外我老婆…2025年她一年要交多少?") is not a changed input.
    # A turn that asks a calculation of another kind ("2025 how much per person?" after a monthly
    # contribution) is not one.
    other_kind = u.calc is not None and u.calc.kind and u.calc.kind != previous.calc_kind
    if previous.calc_kind and previous.calc_text and not other_kind and not (is_complete(u) and not _CUE.search(text)):
        from .calc_detect import read_params

        changed = read_params(previous.calc_kind, _english_units(u.calc_text or text), today=today)
        changed = {k: v for k, v in changed.items() if k not in _NOT_NUMERIC}
        if changed:
            out = previous.calc_text
            for name, words in changed.items():
                old = previous.calc_evidence.get(name)
                out = out.replace(old, words, 1) if old and old in out else f"{out.rstrip('?？。')},{words}"
            # "那职工医保呢 断了两个月": the new number, and the new type (or region) with it.
            if new_type:
                out = _replace_type(out, new_type)
            if new_region:
                out = _replace_region(out, previous.region, new_region)
            kept = [p for p in previous.calc_evidence if p not in changed]
            return Resolution(out, ("calculation", *(f"calc:{p}" for p in kept)), "numeric")

    # 3. Another question about the same subject: the previous slots unless this turn names its own.
    inherited = []
    prefix = ""
    if not new_type and previous.insurance_type:
        prefix += previous.insurance_type
        inherited.append("insurance_type")
    if not new_region and previous.region and previous.region not in text:
        prefix = previous.region + prefix
        inherited.append("region")
    # The previous question is carried whole for retrieval, even when the turn says a topic of its own in
    # everyday words ("补完多久能用" after "单位漏交了两个月怎么补"): it holds the situation (单位漏交, 两个月)
    # that topic words alone lose; the sentences are then chosen for the turn's own question. Measured on
    # the train+dev dialogues (105 follow-up turns): 0.61 right carrying the topic words only to turns
    # without a topic, 0.62 carrying them always, 0.64 carrying the previous question always, 0.66 with
    # sentences chosen for the turn plus the topic words, 0.67 for the turn alone, 0.70 also carrying a
    # previous question that has no topic words (this); carrying a story's asking sentence instead of its
    # start: 0.68.
    # (A previous question without topic words — "天津医保断了 线下去哪儿补" — is carried too.)
    # A turn that is a whole question with a new type or region ("那居民医保有年限要求不") and points back at
    # nothing (那边, 的话, 也) is its own question: the previous one, retyped, would only mislead retrieval
    # ("城乡居民医保要交够多少年退休…" after the type switch).
    own_question = is_complete(u) and bool(new_type or new_region) and not _ANAPHORA.search(text)
    carry = (not previous.subject or not all(w in text for w in _TOPIC.findall(previous.subject))) and not own_question
    if carry:
        inherited.append("subject")
    body = _CUE.sub("", text).strip()
    if carry:
        ctx = _context(previous.text, previous)
        if new_type:
            ctx = _replace_type(ctx, new_type)
        if new_region:
            ctx = _replace_region(ctx, previous.region, new_region)
        out = f"{ctx}。{body}"
    else:
        out = f"{prefix}{body}"
    # The calculator reads the whole text only when the turn itself asks for a number ("那一共多少"
    # takes its inputs from the question before); otherwise only the turn, so it computes nothing.
    own = None if u.calc is not None and not u.calc.out_of_scope else f"{prefix}{body}"
    focus = f"{prefix}{body}" if carry else None
    fallback = None
    if carry and u.qtype in _DRILL_QTYPES and u.qtype != previous.qtype:
        topic = "".join(w for w in dict.fromkeys(_TOPIC.findall(_fold_topic(previous.text))) if w not in body)
        fallback = f"{prefix}{topic}{body}" if topic else None
    return Resolution(out, tuple(inherited), "followup", calc_text=own, focus=focus, fallback=fallback)


__all__ = ["Resolution", "TurnState", "is_complete", "is_followup", "resolve", "state_of", "subject_of"]
