import pytest

from qa.calc_detect import detect
from qa.scope import has_domain_words, out_of_scope_topic, refusal_message, sounds_like_topic
from tests.conftest import RAW


@pytest.mark.parametrize(
    ("q", "topic"),
    [
        ("住房公积金断缴了怎么补", "住房公积金"),
        ("车险断保一个月还能续吗", "车险等商业保险"),
        ("信用卡逾期的滞纳金怎么算", "信用卡与贷款"),
        ("电费滞纳金一天多少", "电费、水费、燃气费等生活缴费"),
        ("暖气费欠了怎么补交", "电费、水费、燃气费等生活缴费"),
        ("燃气欠费停了 补交了多久能恢复", "电费、水费、燃气费等生活缴费"),  # 燃气 without 费
        ("养老保险断交了能补交吗", "养老保险与养老金"),
        ("明天会下雨吗", "天气"),
        ("个人所得税怎么申报", "个税等税务"),
        ("工伤认定需要什么材料", "失业与工伤保险"),
        ("违章罚单怎么交", "交通违章罚款"),
        # 商业医疗保险 names 医疗保险 but is not 医保
        ("商业医疗保险哪家好", "车险等商业保险"),
        # 社保 covers 养老 and 公积金 sits beside it: naming 社保 does not make these about 医保
        ("社保断缴了养老金会少吗", "养老保险与养老金"),
        ("公积金和社保有什么区别", "住房公积金"),
        # bare 养老 and English names of the same topics
        ("社保里养老那块断了咋办", "养老保险与养老金"),
        ("what about my pension?", "养老保险与养老金"),
        ("and the housing provident fund?", "住房公积金"),
        ("is car insurance the same", "车险等商业保险"),
    ],
)
def test_shared_words_do_not_fool_scope(q, topic):
    assert out_of_scope_topic(q) == topic


@pytest.mark.parametrize(
    "q",
    [
        "医保断缴怎么补交",
        "公积金和医保断缴有什么区别",
        "社保断了怎么补缴",
        "商业医疗保险和医保有什么区别",
        # the corpus covers these: 生育待遇 after a 医保 break (001), 分期付款 of a back payment (002)
        "怀孕前补缴了职工医保欠费,还能享受生育津贴吗?",
        "断缴后还能享受生育津贴吗",
        "补缴一次交不起可以分期吗",
        # naming 医保 keeps a question that also mentions 养老 in scope
        "医保和养老保险一起断了 医保先补哪个",
    ],
)
def test_medical_questions_stay_in_scope(q):
    assert out_of_scope_topic(q) is None and has_domain_words(q)


@pytest.mark.parametrize(("phrase", "doc"), [("生育津贴", "001_"), ("分期付款", "002_")])
def test_words_left_out_of_the_table_are_in_the_corpus(phrase, doc):
    """生育 and 分期 are not refusal words because the corpus answers questions with them."""
    text = next(RAW.glob(f"{doc}*.txt")).read_text(encoding="utf-8")
    assert phrase in text
    assert out_of_scope_topic(phrase) is None


@pytest.mark.parametrize(
    ("q", "topic"),
    [
        ("信用卡滞纳金多少钱", "信用卡与贷款"),
        ("公积金断了3个月 补缴要多少钱", "住房公积金"),
        ("车险断保一年补交多少钱", "车险等商业保险"),
        ("电费欠了200块滞纳金怎么算", "电费、水费、燃气费等生活缴费"),
        ("社保断了3个月养老保险补缴多少钱", "养老保险与养老金"),
    ],
)
def test_calculation_lookalikes_get_the_same_topic_as_the_service(q, topic):
    """One table: calc_detect's refusal names the topic the service's scope check names."""
    req = detect(q)
    assert req is not None and req.out_of_scope and req.kind == ""
    assert req.scope_topic == out_of_scope_topic(q) == topic
    assert f"(涉及{topic})" in refusal_message(req.scope_topic)


def test_refusal_message_says_what_is_covered():
    msg = refusal_message("住房公积金")
    assert "住房公积金" in msg and "补缴" in msg and "待遇等待期" in msg


@pytest.mark.parametrize("question, topic", [("公基金断了半年还能补吗", "住房公积金"), ("架照到期了怎么换", "其他"),
                                             ("信用咔逾期了滞纳金怎么算", "信用卡与贷款")])
def test_another_domain_typed_by_sound_is_still_another_domain(question, topic):
    assert sounds_like_topic(question) == topic


@pytest.mark.parametrize("question", ["医保断缴了怎么补缴", "灵活就业断了三个月 补交多少钱", "居民医保一年交多少",
                                      "退休前要交够几年", "公积金和医保断缴有什么区别"])
def test_insurance_questions_do_not_sound_like_another_domain(question):
    assert sounds_like_topic(question) is None
