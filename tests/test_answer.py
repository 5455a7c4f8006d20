"""Sentence selection: which questions look for a second article, and how far down."""

import pytest

from qa.answer import is_yes_no_question, may_differ


@pytest.mark.parametrize("q", ["医保断缴后以前的缴费年限会清零吗?", "还能补缴吗", "补缴要不要交滞纳金",
                               "断了年限还算不算", "能不能在网上补缴"])
def test_yes_no_questions(q):
    assert is_yes_no_question(q) and may_differ(q)


@pytest.mark.parametrize("q", ["怎么在网上补缴职工医保?", "补缴需要准备哪些材料", "灵活就业人员怎么补缴医保"])
def test_how_questions_are_not_yes_no(q):
    assert not is_yes_no_question(q) and not may_differ(q)


@pytest.mark.parametrize("q", ["居民医保补缴后多久能生效?", "每月缴费基数4000元要交多少钱"])
def test_when_and_how_much_questions_may_differ(q):
    assert may_differ(q) and not is_yes_no_question(q)
