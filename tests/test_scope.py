import pytest

from qa.scope import has_domain_words, out_of_scope_topic, refusal_message


@pytest.mark.parametrize(
    ("q", "topic"),
    [
        ("住房公积金断缴了怎么补", "住房公积金"),
        ("车险断保一个月还能续吗", "车险等商业保险"),
        ("信用卡逾期的滞纳金怎么算", "信用卡与贷款"),
        ("电费滞纳金一天多少", "水电燃气话费"),
        ("养老保险断交了能补交吗", "养老保险与养老金"),
        ("明天会下雨吗", "天气"),
    ],
)
def test_shared_words_do_not_fool_scope(q, topic):
    assert out_of_scope_topic(q) == topic


@pytest.mark.parametrize("q", ["医保断缴怎么补交", "公积金和医保断缴有什么区别", "社保断了怎么补缴"])
def test_medical_questions_stay_in_scope(q):
    assert out_of_scope_topic(q) is None and has_domain_words(q)


def test_refusal_message_says_what_is_covered():
    msg = refusal_message("住房公积金")
    assert "住房公积金" in msg and "补缴" in msg and "待遇等待期" in msg
