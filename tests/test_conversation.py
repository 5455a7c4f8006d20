"""Follow-up turns (qa/conversation.py) answered by QAService.ask_turn on the real corpus and model.

Each turn is read alone, then resolved against the previous turn's ``TurnState``: a slot switch
("职工医保呢"), a new number for the previous calculation ("费率6%呢"), a drill-down ("要带什么材料"), or a
fresh question that inherits nothing. The questions are written here (not taken from the held-out
evaluation sets in eval/).
"""

from __future__ import annotations

import json
import re

import pytest

from qa.conversation import CONTEXT_CHARS, STORY_CHARS, Resolution, TurnState, resolve
from qa.models import Answer

pytestmark = pytest.mark.slow

WAIT_RESIDENT = "居民医保断了5个月 补交以后要等多久才能报销"
HOW_TO_PAY_BACK = "医保断缴了怎么补缴"  # names neither an insurance type nor a region
MONTHLY = "我是灵活就业 缴费基数按4000算 费率5% 一个月要交多少钱"
EMPLOYEE_RESTORE = "职工医保停了3个月 要怎么恢复"


@pytest.fixture(scope="module")
def service(qa_service):
    return qa_service


def turn(service, question: str, previous: TurnState | None) -> tuple[Resolution, Answer, TurnState]:
    """One turn: how the conversation rules resolved it, the service's answer, and the state it leaves."""
    resolution = resolve(service.understand(question), previous)
    answer, state = service.ask_turn(question, previous)
    if answer.status == "out_of_scope":
        assert state == previous  # another domain does not change what the conversation is about
    else:
        assert state.text == answer.understood_as  # the next turn builds on what this one answered
    assert answer.inherited == list(resolution.inherited)
    return resolution, answer, state


def first(service, question: str) -> tuple[Answer, TurnState]:
    resolution, answer, state = turn(service, question, None)
    assert resolution.kind == "fresh" and answer.inherited == []
    assert answer.understood_as == service.understand(question).text
    return answer, state


# --- slot switches -------------------------------------------------------------------------------------

@pytest.mark.parametrize("followup", ["职工医保呢", "那职工医保呢？", "what about 职工医保?"])
def test_insurance_type_switch_keeps_the_situation(service, followup: str) -> None:
    a1, s1 = first(service, WAIT_RESIDENT)
    assert a1.status == "answered"
    assert s1.insurance_type == "城乡居民医保" and s1.calc_kind == "benefit_dates"
    assert a1.calculation is not None and a1.calculation.inputs["insurance_type"] == "resident"

    res, a2, s2 = turn(service, followup, s1)
    assert res.kind == "slot"
    assert "subject" in a2.inherited and "qtype" in a2.inherited
    assert "职工医保" in a2.understood_as and "居民" not in a2.understood_as
    assert re.search(r"断.{0,3}5个月", a2.understood_as), a2.understood_as  # the previous situation came along
    assert a2.understood_as == s1.text.replace("居民医保", "职工医保")
    assert a2.status == "answered"
    # The calculation is redone for the new insurance type with the same interruption.
    assert a2.calculation is not None and a2.calculation.kind == "benefit_dates"
    assert a2.calculation.inputs["insurance_type"] == "employee"
    assert a2.calculation.inputs["interruption_months"] == 5
    assert a2.answer.startswith("职工医保") and a2.answer != a1.answer
    assert s2.insurance_type == "职工医保" and s2.qtype == s1.qtype


@pytest.mark.parametrize("followup", ["那在嘉峪关呢", "嘉峪关那边呢", "and for 嘉峪关?"])
def test_region_only_followup_is_the_previous_question_in_that_region(service, followup: str) -> None:
    _, s1 = first(service, HOW_TO_PAY_BACK)
    assert s1.region is None and s1.insurance_type is None

    res, a2, s2 = turn(service, followup, s1)
    assert res.kind == "slot"
    assert a2.understood_as == "嘉峪关" + s1.text
    assert "subject" in a2.inherited and "region" not in a2.inherited  # the region is this turn's own
    assert s2.region == "嘉峪关" and s2.subject == s1.subject
    assert a2.status in ("answered", "partial")
    assert "嘉峪关" in a2.answer
    assert any("嘉峪关" in region for c in a2.citations for region in c.region), a2.citations


def test_a_second_region_replaces_the_first(service) -> None:
    _, s1 = first(service, HOW_TO_PAY_BACK)
    _, _, s2 = turn(service, "嘉峪关那边呢", s1)
    res, a3, s3 = turn(service, "换成天津呢", s2)
    assert res.kind == "slot"
    assert a3.understood_as == "天津" + s1.text  # replaced, not "天津嘉峪关…"
    assert "嘉峪关" not in a3.understood_as
    assert s3.region == "天津"
    assert "天津" in a3.answer


# --- numeric follow-ups --------------------------------------------------------------------------------

@pytest.mark.parametrize("followup", ["费率6%呢", "那要是6%呢", "hmm what if 6%?"])
def test_new_rate_recomputes_the_previous_calculation(service, followup: str) -> None:
    a1, s1 = first(service, MONTHLY)
    assert a1.calculation is not None and a1.calculation.kind == "monthly_contribution"
    assert a1.calculation.inputs == {"base": 4000.0, "rate": 0.05}
    assert a1.calculation.result == 200.0
    assert s1.calc_evidence == {"base": "4000", "rate": "5%"}

    res, a2, s2 = turn(service, followup, s1)
    assert res.kind == "numeric"
    assert a2.inherited == ["calculation", "calc:base"]  # the base came from the first turn, the rate is new
    assert "6%" in a2.understood_as and "5%" not in a2.understood_as and "4000" in a2.understood_as
    calc = a2.calculation
    assert calc is not None and calc.kind == "monthly_contribution"
    assert calc.inputs == {"base": 4000.0, "rate": 0.06}
    assert calc.result == pytest.approx(240.0)
    assert "240.00元" in a2.answer and "200.00元" not in a2.answer
    assert s2.calc_evidence == {"base": "4000", "rate": "6%"}


def test_numeric_followups_chain(service) -> None:
    """Each new number replaces its own input; the other keeps the value from the turn before."""
    _, s1 = first(service, MONTHLY)
    _, _, s2 = turn(service, "那要是6%呢", s1)
    res, a3, _ = turn(service, "要是基数5000呢", s2)
    assert res.kind == "numeric"
    assert a3.inherited == ["calculation", "calc:rate"]
    assert a3.calculation is not None
    assert a3.calculation.inputs == {"base": 5000.0, "rate": 0.06}
    assert a3.calculation.result == pytest.approx(300.0)


@pytest.mark.parametrize("followup, months", [("what if 8 months?", 8), ("要是断了10个月呢", 10)])
def test_new_interruption_length(service, followup: str, months: int) -> None:
    a1, s1 = first(service, "职工医保断了4个月 补缴后多久能报销")
    assert a1.calculation is not None and a1.calculation.inputs["interruption_months"] == 4

    res, a2, _ = turn(service, followup, s1)
    assert res.kind == "numeric"
    assert f"断了{months}个月" in a2.understood_as and "4个月" not in a2.understood_as
    assert a2.calculation is not None and a2.calculation.kind == "benefit_dates"
    assert a2.calculation.inputs["interruption_months"] == months
    assert a2.calculation.inputs["insurance_type"] == "employee"  # kept from the first turn
    assert f"中断{months}个月" in a2.answer


# --- drill-down follow-ups -----------------------------------------------------------------------------

def test_drill_down_is_asked_after_the_previous_question(service) -> None:
    _, s1 = first(service, EMPLOYEE_RESTORE)
    assert s1.insurance_type == "职工医保"

    res, a2, s2 = turn(service, "需要准备哪些材料", s1)
    assert res.kind == "followup"
    assert "subject" in a2.inherited and "insurance_type" in a2.inherited
    # The previous situation (which insurance, how long) comes along, followed by this turn.
    assert a2.understood_as == f"{s1.text}。需要准备哪些材料"
    assert "职工医保" in a2.understood_as and "3个月" in a2.understood_as
    assert s2.qtype == "materials"
    assert a2.status == "answered"
    assert "材料" in a2.answer and "身份证" in a2.answer


def test_drill_down_after_a_calculation_does_not_repeat_the_calculation(service) -> None:
    a1, s1 = first(service, WAIT_RESIDENT)
    assert a1.calculation is not None
    res, a2, s2 = turn(service, "要带什么材料", s1)
    assert res.kind == "followup"
    assert a2.calculation is None and a2.answer != a1.answer
    assert s2.qtype == "materials" and s2.calc_kind is None


def test_drill_down_after_a_calculation_finds_the_materials(service) -> None:
    # The waiting-period question is carried for retrieval, but the sentences and the answer's form follow
    # the turn's own question: materials first, not the waiting periods listed as versions. The fallback
    # (the previous slots and topic words only) stays ready for when the carried answer names none.
    _, s1 = first(service, WAIT_RESIDENT)
    res, a2, s2 = turn(service, "要带什么材料", s1)
    assert res.fallback == "城乡居民医保断缴补缴报销要带什么材料"
    assert a2.status == "answered" and a2.calculation is None and s2.qtype == "materials"
    assert "材料" in a2.answer[:40] and "身份证" in a2.answer
    assert not a2.answer.startswith("各地规定不同")


def test_the_fallback_keeps_an_uncovered_region_partial(service) -> None:
    # The fallback is kept only when it is answered: a region the articles do not cover stays partial.
    _, s1 = first(service, WAIT_RESIDENT)
    res, a2, _ = turn(service, "成都的话网上能办吗", s1)
    assert res.kind == "followup" and res.fallback is not None and "成都" in res.fallback
    assert a2.status == "partial" and "成都" in a2.understood_as


def test_no_fallback_for_a_follow_up_asking_the_same_kind_of_thing(service) -> None:
    # "上海那边等多久" after a waiting question asks the same thing elsewhere: the previous question is
    # its situation, never replaced by topic words.
    _, s1 = first(service, "职工医保断缴了4个月 补交后多久才能报销")
    res, _, _ = turn(service, "上海那边等多久", s1)
    assert res.fallback is None


STORY = ("我在天津做外卖骑手，一直按灵活就业自己交医保。去年在外地待了大半年，医保断了五个多月没交。"
         "现在回天津了，我这种天津灵活就业断了五个月的，还能补吗？")


def test_a_story_is_carried_as_its_question_sentence(service) -> None:
    _, s1 = first(service, STORY)
    assert s1.region == "天津" and s1.insurance_type == "灵活就业"
    res, a2, _ = turn(service, "网上能办吗", s1)
    assert res.kind == "followup"
    # The background (外卖骑手, 在外地待了大半年) is left behind; the question sentence and its slots come along.
    assert "外卖骑手" not in a2.understood_as and "外地" not in a2.understood_as
    assert a2.understood_as.endswith("还能补吗。网上能办吗")
    assert "天津" in a2.understood_as and "灵活就业" in a2.understood_as and "5个月" in a2.understood_as
    assert a2.status == "answered"
    assert a2.citations[0].doc_id == "003_4866c6536e7694db"  # the 天津 article


def test_a_region_switch_after_a_story_replaces_every_mention(service) -> None:
    _, s1 = first(service, STORY)
    res, a2, s2 = turn(service, "那在嘉峪关呢 我老家那边能补不", s1)
    assert res.kind == "followup" and "天津" not in a2.understood_as
    assert a2.understood_as.count("嘉峪关") >= 2 and s2.region == "嘉峪关"
    assert a2.citations and a2.citations[0].doc_id == "002_fd26648b1f8121fa"


def test_a_chat_of_short_turns_keeps_its_first_question() -> None:
    # Only a story (long, with sentences that ask nothing) is cut to its question sentence; a chat whose
    # turns each ask something keeps its first question, which tells the situation.
    chat = ("单位给我停保了4个月 现在补缴 多久能恢复报销。办的时候得带啥证件和材料呀。"
            "手机上微信里面能不能直接办理 还是一定要去窗口")
    assert len(chat) > STORY_CHARS
    state = TurnState(text=chat, subject="补缴报销")
    res = resolve(_understanding("补完以后多久能到账"), state)
    assert res.text.startswith("单位给我停保了4个月 现在补缴 多久能恢复报销。手机上")


def _understanding(text: str):
    from qa.understand import understand

    return understand(text)


def test_long_chat_does_not_grow_the_question_without_bound(service) -> None:
    turns = ["办的时候得带啥证件和材料呀", "手机上微信里面能不能直接办理", "补完以后大概多长时间可以用卡看病",
             "补交的时候会不会另外收滞纳金", "之前个人账户里面的余额还会保留吗", "可不可以直接去社保局的窗口现场办",
             "户口不在本地的外地人能不能办", "一定得本人亲自过去吗 家里人能代办吗", "让家里人代办的话需要准备什么手续",
             "补缴的钱交了以后多久能到账"]
    _, state = first(service, "单位给我停保了4个月 现在补缴 多久能恢复报销")
    lengths = []
    for text in turns:
        res, answer, state = turn(service, text, state)
        assert res.kind == "followup", text
        assert answer.status in ("answered", "partial", "no_answer"), text
        body = service.understand(text).text
        assert len(answer.understood_as) <= CONTEXT_CHARS + 1 + len(body) + 5, answer.understood_as
        lengths.append(len(answer.understood_as))
        # The situation the chat started with comes along to the end: the first question is kept whole.
        assert "停保了4个月" in answer.understood_as, answer.understood_as
    # Without the cap the 10th turn would carry all ten turns, well over CONTEXT_CHARS characters; with it
    # the question stops growing.
    assert lengths[-1] <= max(lengths[:3]) + 15


# --- fresh and out-of-scope turns ----------------------------------------------------------------------

@pytest.mark.parametrize("question, expected", [
    ("我妈在嘉峪关是城乡居民医保，2025年她一年自己要交多少钱？", "400元"),
    ("失业了以后医保断缴超过半年 再去交还需要等待期吗 要等几个月", "中断7个月"),
])
def test_complete_new_question_starts_fresh(service, question: str, expected: str) -> None:
    _, s1 = first(service, WAIT_RESIDENT)
    _, _, s2 = turn(service, "职工医保呢", s1)

    res, a3, _ = turn(service, question, s2)
    assert res.kind == "fresh"
    assert a3.inherited == []
    assert a3.understood_as == service.understand(question).text  # nothing of the earlier turns added
    assert "5个月" not in a3.understood_as and "职工" not in a3.understood_as
    assert a3.status == "answered"
    assert expected in a3.answer


@pytest.mark.parametrize("question, topic", [
    ("那住房公积金停缴了又该怎么补", "住房公积金"),
    ("那我的养老保险也断了半年呢", "养老保险"),
    ("车险断了几个月呢", "车险"),
])
def test_out_of_scope_followup_is_refused_and_inherits_nothing(service, question: str, topic: str) -> None:
    _, s1 = first(service, EMPLOYEE_RESTORE)
    res, answer, state = turn(service, question, s1)
    assert res.kind == "fresh"
    assert answer.status == "out_of_scope" and answer.refused
    assert answer.inherited == []
    assert "职工医保" not in answer.understood_as and "3个月" not in answer.understood_as
    assert topic in answer.answer and answer.citations == []
    assert state == s1  # the conversation is still about the 医保 question before it
    res, back, _ = turn(service, "那居民医保呢", state)
    assert res.kind == "slot" and back.status != "out_of_scope"
    assert "居民医保" in back.understood_as and "3个月" in back.understood_as


# --- TurnState as JSON ---------------------------------------------------------------------------------

@pytest.mark.parametrize("question", [MONTHLY, "嘉峪关居民医保断缴了怎么补缴"])
def test_turn_state_json_round_trip(service, question: str) -> None:
    _, state = first(service, question)
    data = json.loads(json.dumps(state.to_json(), ensure_ascii=False))
    restored = TurnState.from_json(data)
    assert restored == state
    # A restored state resolves a follow-up exactly as the original does.
    for followup in ("那要是6%呢", "职工医保呢"):
        assert resolve(service.understand(followup), restored) == resolve(service.understand(followup), state)


def test_turn_state_json_has_the_calculation_inputs(service) -> None:
    _, state = first(service, MONTHLY)
    data = state.to_json()
    assert data["calc_kind"] == "monthly_contribution"
    assert data["calc_evidence"] == {"base": "4000", "rate": "5%"}
    assert data["insurance_type"] == "灵活就业"


@pytest.mark.parametrize("junk", [None, {}, {"text": 3}, {"text": None}, {"subject": "报销"}, [], "医保断缴",
                                  [("text", "医保断缴")]])
def test_turn_state_from_junk_is_none(junk) -> None:
    assert TurnState.from_json(junk) is None


def test_turn_state_ignores_unknown_keys() -> None:
    state = TurnState.from_json({"text": "职工医保断了3个月怎么补", "region": "天津", "added_later": [1, 2]})
    assert state == TurnState(text="职工医保断了3个月怎么补", region="天津")


def test_de_hua_offers_a_region_and_a_type_replaces_the_word_yibao(service) -> None:
    _, s1 = first(service, "住院报销的时候医保断了3个月还能报吗")
    res, a2, _ = turn(service, "天津的话呢", s1)
    assert res.kind == "slot" and a2.understood_as == "天津" + s1.text
    _, s1 = first(service, "医保断缴了怎么补缴")
    res, a2, _ = turn(service, "职工医保呢", s1)
    assert res.kind == "slot" and a2.understood_as == s1.text.replace("医保", "职工医保", 1)
    assert "医保医保" not in a2.understood_as


@pytest.mark.parametrize("damaged", [
    {"text": "医保断缴了怎么补缴", "calc_kind": "monthly_contribution", "calc_text": "x", "calc_evidence": None},
    {"text": "医保断缴了怎么补缴", "subject": "断缴补缴", "region": 5},
    {"text": "医保断缴了怎么补缴", "calc_evidence": {"rate": 6}},
])
def test_a_damaged_stored_state_is_no_state_not_a_crash(service, damaged: dict) -> None:
    assert TurnState.from_json(damaged) is None
    answer, _ = service.ask_turn("费率6%呢", TurnState.from_json(damaged))
    assert answer.inherited == []


@pytest.mark.parametrize("question", ["对了 我想问下灵活就业的医保断了半年还能补吗",
                                      "还有个事 职工医保退休要交满多少年",
                                      "btw 居民医保错过了集中缴费期还能补交吗"])
def test_a_turn_that_changes_the_subject_starts_fresh(service, question: str) -> None:
    _, s1 = first(service, "天津职工医保断了3个月怎么补")
    res, answer, _ = turn(service, question, s1)
    assert res.kind == "fresh" and answer.inherited == []
    assert "天津" not in answer.understood_as


@pytest.mark.parametrize("question", ["社保里养老那块断了咋办", "what about my pension?", "那要是养老的话呢"])
def test_a_follow_up_about_the_pension_is_refused(service, question: str) -> None:
    _, s1 = first(service, "天津职工医保断了3个月怎么补")
    _, answer, state = turn(service, question, s1)
    assert answer.status == "out_of_scope" and state == s1


def test_a_previous_question_without_topic_words_is_still_carried(service) -> None:
    _, s1 = first(service, "天津医保断了 线下去哪儿补")
    res, answer, _ = turn(service, "嘉峪关呢 去哪儿办", s1)
    assert res.kind == "followup" and answer.status != "out_of_scope"
    assert answer.understood_as.startswith("嘉峪关医保断了 线下去哪儿补。")


@pytest.mark.parametrize("question", ["医保电子凭证怎么激活?", "补缴断了5个月的医保 工资6000 要多少钱"])
def test_a_turn_naming_the_insurance_itself_is_its_own_question(service, question: str) -> None:
    # After a question without topic words (which a follow-up would carry whole), a turn that names 医保
    # itself, with no cue and nothing pointing back, asks its own question.
    _, s1 = first(service, "去外地看病怎么备案?")
    res, answer, _ = turn(service, question, s1)
    assert res.kind == "fresh" and answer.inherited == []
    assert "备案" not in answer.understood_as


def test_the_office_is_not_the_insurance(service) -> None:
    _, s1 = first(service, "灵活就业医保补交后多久能用")
    res, answer, _ = turn(service, "不想跑社保局 手机上咋补", s1)
    assert res.kind == "followup" and "灵活就业" in answer.understood_as


def test_a_region_switch_that_repeats_the_topic_word_is_a_slot_switch(service) -> None:
    # "那嘉峪关那边的等待期呢" names the previous topic again; asked alone it found nothing.
    _, s1 = first(service, "天津医保断交后重新参保 等待期一般多久")
    res, a2, _ = turn(service, "那嘉峪关那边的等待期呢", s1)
    assert res.kind == "slot" and res.text == "嘉峪关医保断交后重新参保 等待期一般多久"
    assert a2.status == "answered" and any("嘉峪关" in "".join(c.region) for c in a2.citations)


# --- turns that carry their own question --------------------------------------------------------------

def test_a_new_number_with_a_new_type_changes_both(service) -> None:
    # "那职工医保呢 断了两个月" after the resident waiting question: the number and the type both change.
    _, s1 = first(service, WAIT_RESIDENT)
    res, a2, _ = turn(service, "那职工医保呢 断了两个月", s1)
    assert res.kind == "numeric" and "职工医保" in res.text and "居民" not in res.text
    assert a2.calculation is not None and a2.calculation.inputs["insurance_type"] == "employee"


def test_a_turn_asking_another_calculation_is_not_a_changed_number(service) -> None:
    # After a monthly contribution, "居民医保2025年一个人交多少" asks the resident premium: 2025 is no new base.
    _, s1 = first(service, MONTHLY)
    res, a2, _ = turn(service, "那居民医保2025年一个人交多少", s1)
    assert res.kind != "numeric"
    assert a2.calculation is None or a2.calculation.kind != "monthly_contribution"


@pytest.mark.parametrize("fresh", ["居民医保跟职工医保交钱的方式有啥不一样",   # 不一样 compares, points back at nothing
                                   "断缴4个月工资6000补缴大概要多少钱"])       # a calculation with all its inputs
def test_a_whole_question_after_another_inherits_nothing(service, fresh: str) -> None:
    _, s1 = first(service, "居民医保断了还能用家里人职工医保个人账户的钱看病吗")
    res, a2, _ = turn(service, fresh, s1)
    assert res.kind == "fresh" and a2.inherited == []


def test_a_whole_question_with_a_new_type_is_not_glued_to_the_previous_one(service) -> None:
    # The previous question retyped ("城乡居民医保要交够多少年退休…") would mislead retrieval.
    _, s1 = first(service, "职工医保要交够多少年退休以后才不用再交")
    res, a2, _ = turn(service, "那居民医保有年限要求不", s1)
    assert res.kind == "followup" and "退休" not in res.text and res.text.startswith("居民医保")
    assert a2.status == "answered" and "没有限定" in a2.answer
    # …while one that points back (那边, 的话) still carries the situation.
    res, _, _ = turn(service, "天津的话居民医保错过了还能补不", s1)
    assert "多少年" in res.text


def test_a_place_and_paying_alone_do_not_make_a_whole_question(service) -> None:
    # "嘉峪关是啥时候交" names a place but not whose insurance: it inherits the type, and is then answered.
    _, s1 = first(service, "居民医保今年一个人交多少钱政府补多少")
    res, a2, _ = turn(service, "嘉峪关是啥时候交", s1)
    assert res.kind != "fresh" and "insurance_type" in res.inherited and "居民医保" in res.text
    assert a2.status == "answered" and "嘉峪关" in a2.understood_as
