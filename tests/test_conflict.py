from qa.conflict import Version, break_condition, compatible, disagree, is_when_question, version_of
from qa.quantity import answers_quantity, asked_phrase, asked_type, values


def test_when_questions():
    assert is_when_question("补缴后多久能报销")
    assert is_when_question("断缴4个月补缴后什么时候恢复待遇")
    assert not is_when_question("补缴需要什么材料")


def test_versions_read_from_real_sentences():
    # 001, 003 and 004 state different waits after a long break.
    v001 = version_of("如果中断时间超过3个月,补缴后需要等待3个月才能重新享受基本医疗保险待遇。")
    v003 = version_of("如果医保断交超过一定时间(如三个月),重新参保后将面临医疗待遇等待期,通常为六个月。")
    v004 = version_of("补缴完成后,一般从缴费月起的第三个自然月开始恢复医保待遇。")
    assert v001 == Version("3个月", ">3")
    assert v003 is not None and "六个月" in v003.value and v003.condition == ">3"
    assert v004 == Version("第三个自然月", "")
    assert disagree([("001", v001), ("003", v003), ("004", v004)])
    assert not disagree([("001", v001), ("001", v003)])  # one document is not a conflict
    assert version_of("补缴时需准备身份证、社保卡。") is None


def test_break_condition_filters_versions():
    short = version_of("中断缴费3个月(含)以内的,补缴后不设待遇享受等待期,缴费当月即可享受待遇。")
    assert short is not None and short.condition == "≤3"
    assert break_condition("断缴5个月补缴后多久恢复") == ">3"
    assert break_condition("断缴2个月补缴后多久恢复") == "≤3"
    assert not compatible(short, ">3") and compatible(short, "≤3") and compatible(short, "")


def test_asked_quantity_types_and_phrases():
    assert asked_type("一年交多少钱") == "money"
    assert asked_type("报销比例是多少") == "percent"
    assert asked_type("退休时累计缴费要满多少年") == "years"
    assert asked_type("补缴后多久生效") == "duration"
    assert asked_type("怎么补缴") is None
    assert asked_phrase("医保报销比例是多少") == "报销比例"
    assert asked_phrase("医保连续几个月没缴费会停保") == ""
    assert values("years", "累计满25年(其中实际缴费年限需满5年以上)") == ["25年", "5年"]


def test_evidence_must_state_the_asked_quantity():
    # A sentence mentioning 报销比例 without a figure does not answer "报销比例是多少".
    assert not answers_quantity("医保报销比例是多少", ["职工医保报销比例及限额均可居民医疗保险高一点。"])
    assert not answers_quantity("大病保险最高能报销多少钱", ["连续参保满4年的参保人员,可适当提高大病保险最高支付限额"])
    assert answers_quantity("嘉峪关居民医保一年交多少钱", ["个人缴费标准 2025年度:每人每年400元。"])
    assert answers_quantity("补缴需要什么材料", [])
