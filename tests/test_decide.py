"""The answerability decision: its fitted parameters load, and it grades answers as documented."""

import json

import numpy as np
import pytest

from qa.decide import (
    CLASSES,
    DECISION_FILE,
    FEATURES,
    DecisionError,
    DecisionModel,
    Evidence,
    calibration,
    rule_status,
)
from qa.understand import understand


def test_the_shipped_parameters_load_and_say_how_they_were_fitted():
    model = DecisionModel.load()
    assert model.features == FEATURES and set(model.classes) == set(CLASSES)
    assert 0 < model.threshold < 1 and 0 < model.refuse_threshold <= 1
    assert model.info["command"] == "python -m eval fit"
    assert "train" in model.info["fitted_on"] and "dev" in model.info["threshold_on"]
    assert len(model.domain_terms) > 500 and "起付线" in model.domain_terms


@pytest.mark.parametrize(
    "damage",
    [lambda d: d.pop("coef"), lambda d: d.update(coef=[[1.0]]), lambda d: d.update(threshold=1.5),
     lambda d: d.update(features=["no_such_feature", *d["features"][1:]]), lambda d: d.update(scale=[0.0] * 20)],
)
def test_damaged_parameters_are_refused_with_the_fix(tmp_path, damage):
    data = json.loads(DECISION_FILE.read_text(encoding="utf-8"))
    damage(data)
    path = tmp_path / "decision.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(DecisionError, match="python -m eval fit|refit"):
        DecisionModel.load(path)


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(DecisionError, match="python -m eval fit"):
        DecisionModel.load(tmp_path / "nope.json")


def _model(p_answered: float, p_partial: float) -> DecisionModel:
    """A model whose probabilities do not depend on the features (intercepts only)."""
    p = np.array([p_answered, p_partial, 1 - p_answered - p_partial])
    n = len(FEATURES)
    return DecisionModel(FEATURES, CLASSES, np.zeros(n), np.ones(n), np.zeros((3, n)), np.log(p), 0.5,
                         refuse_threshold=0.6)


EVIDENCE = Evidence({f: 0.0 for f in FEATURES})


@pytest.mark.parametrize(
    ("p_answered", "p_partial", "missing", "question", "status"),
    [(0.7, 0.1, (), "医保断了怎么补缴", "answered"),
     (0.3, 0.5, (), "医保断了怎么补缴", "partial"),          # unsure, not clearly unanswerable
     (0.1, 0.1, (), "医保电子凭证怎么激活", "no_answer"),     # clearly unanswerable, in the domain
     (0.1, 0.1, (), "今天天气怎么样", "out_of_scope"),        # no word of the domain
     # no word of the domain, but evidence the model calls related: not "another domain"
     (0.1, 0.6, (), "换了工作中间空了半个月 新公司给交上了 啥时候能用", "partial"),
     (0.1, 0.3, ("北京的规定",), "北京医保断缴了交多少", "no_answer"),  # P(unanswerable) 0.6 > P(partial)
     (0.2, 0.5, ("北京的规定",), "北京医保断缴了交多少", "partial")],
)
def test_graded_statuses(p_answered, p_partial, missing, question, status):
    ev = Evidence({**EVIDENCE.features, "lexical_top": 0.2}, missing)
    assert _model(p_answered, p_partial).decide(understand(question), ev).status == status


@pytest.mark.parametrize(("question", "unsupported", "status"), [
    ("北京2026年居民医保一个人交多少", "region_unsupported", "partial"),   # a figure for an uncovered place
    ("嘉峪关2023年居民医保交多少钱", "year_unsupported", "partial"),       # … or an uncovered year
    ("北京居民医保补缴期到几月几号", "region_unsupported", "partial"),  # a date is a figure too
    ("北京居民医保断缴了怎么补", "region_unsupported", "answered"),        # a procedure: the model decides
    ("居民医保一个人交多少", None, "answered"),                            # no place or year asked
])
def test_a_figure_for_a_place_or_year_no_evidence_covers_is_never_the_answer(question, unsupported, status):
    features = {**EVIDENCE.features, **({unsupported: 1.0} if unsupported else {})}
    assert _model(0.9, 0.05).decide(understand(question), Evidence(features)).status == status


def test_rules_decide_before_the_model():
    assert rule_status(understand("公积金断缴了怎么补")) == "out_of_scope"
    assert rule_status(understand("？？？！！")) == "out_of_scope"
    assert rule_status(understand("医保断了怎么补")) is None


def test_neutral_model_answers_everything():
    m = DecisionModel.neutral()
    assert m.decide(understand("医保断了怎么补"), EVIDENCE).status == "answered"


def test_calibration_table_bins_predictions():
    table = calibration([0.05, 0.15, 0.12, 0.95], [0, 1, 0, 1], bins=10)
    assert [b["n"] for b in table] == [1, 2, 1]
    assert table[1]["observed"] == 0.5 and table[-1]["predicted"] == pytest.approx(0.95)


def test_text_sharing_no_word_with_the_evidence_stays_out_of_scope():
    """A partial-looking score is not enough without the domain's words: the question must also share words
    with the evidence (SQL or weather small talk shares none)."""
    ev = Evidence({**EVIDENCE.features, "lexical_top": 0.0})
    assert _model(0.1, 0.6).decide(understand("'; DROP TABLE documents; --"), ev).status == "out_of_scope"


def test_a_storys_background_places_and_years_are_not_asked():
    story = understand("我老家在河南,原来一直在老家交居民医保,2022年去南方打工断了两年,"
                       "今年跟老公来苏州市定居了,孩子也转到这边上小学。从老家换到苏州这边参保,得先办什么手续?")
    assert set(story.regions) >= {"河南", "苏州市"} and 2022 in story.years and story.focus_years == ()
    assert story.focus_regions == ("苏州市",)  # the asking sentence's 苏州 is the 苏州市 of the story
    # The asking sentence names no place: the story's earlier question does ("…上海…交多少钱?下限又是多少?"),
    # but a background sentence never counts, even with a 几 in it ("前几年…2022年…").
    two = understand("我打算在上海以灵活就业身份交职工医保,家里人总担心我交不起,我想先算算账:上海灵活就业医保最低档"
                     "一个月要交多少钱?缴费基数下限又是多少?")
    assert two.focus_regions == ("上海",)
    background = understand("我是天津人,前几年一直在老家交居民医保,2021年出去打工断了一阵,今年又交上了。"
                            "听说断过以后大病保险报的额度会少,是真的吗?会少多少?")
    assert background.focus_regions == () and background.focus_years == ()
    short = understand("北京2026年居民医保一个人交多少")
    assert short.focus_regions == ("北京",) and short.focus_years == (2026,)
