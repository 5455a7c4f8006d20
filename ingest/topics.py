"""Topics the corpus does not cover, told apart by their words.

The table lives with the ingest side because the corpus vocabulary (``ingest.lexicon``) needs it too:
a span that names another topic (车险, 公积金) is never "corrected" into a corpus word, whether it is in an
asked question or a stored FAQ question. ``qa.scope`` re-exports it for the QA service.
"""

from __future__ import annotations

import re

# Topics the corpus does not cover. Each is a kind of question, not a question. This is the
# one table: the QA service refuses any question on these topics, and calc_detect flags a
# look-alike calculation (信用卡滞纳金, 公积金补缴多少) with the same label. A label is shown
# to the user ("涉及…") and names the everyday word (电费, 个税, 车险) it stands for.
# Left out on purpose: 生育 (the corpus covers 生育待遇 after a 医保 break, 001) and 分期 (the
# corpus offers 分期付款 for a 医保 back payment, 002); bare 利率 (滞纳金 is asked about with it).
OUT_OF_SCOPE: dict[str, re.Pattern[str]] = {
    "住房公积金": re.compile(r"公积金|housing (provident )?fund|provident fund", re.I),
    "车险等商业保险": re.compile(
        r"车险|交强险|商业险|商业保险|商业医疗|车损|保险公司|寿险|重疾险|意外险|百万医疗|惠民保|惠医保|"
        r"car insurance|auto insurance|life insurance|commercial insurance", re.I
    ),
    "信用卡与贷款": re.compile(r"信用卡|花呗|借呗|白条|网贷|贷款|房贷|车贷|逾期还款|credit card|\bloans?\b|mortgage",
                         re.I),
    "电费、水费、燃气费等生活缴费": re.compile(
        r"电费|水费|燃气|煤气|供气|供暖|停水|停电|话费|物业费|宽带|暖气费|取暖费|停机|手机欠费|房租|租金"
    ),
    "个税等税务": re.compile(r"个税|所得税|缴税|交税|纳税|税款|退税|报税|税率|发票|income tax|tax return", re.I),
    "天气": re.compile(r"天气|气温|下雨|下雪|台风"),
    "医院与就医推荐": re.compile(r"哪家医院|医院哪家|哪个医院|三甲医院|挂号|哪个科|看什么科|怎么治|吃什么药"),
    # Bare 养老 ("社保里养老那块断了") is about the pension too; a question that also says 医保 stays in scope.
    "养老保险与养老金": re.compile(r"养老|退休金|退休工资|pension", re.I),
    "失业与工伤保险": re.compile(r"失业金|失业保险|工伤|unemployment benefit", re.I),
    "交通违章罚款": re.compile(r"违章|罚单|交通罚款"),
    "其他": re.compile(r"股票|理财|彩票|高考|考研|签证|护照|驾照|快递|外卖"),
}

# Saying 医保 explicitly keeps a question in scope even if it also names another topic
# ("公积金和医保断缴有什么区别" is answered for the 医保 part). 社保 and 参保 do not: they cover
# 养老, 失业 and 工伤 as well, so "社保断缴了养老金会少吗" is about 养老金.
MEDICAL = re.compile(r"医保|医疗保险|医疗保障|新农合|合作医疗")
# Commercial products whose names contain 医疗保险 but are not 医保 ("商业医疗保险").
_COMMERCIAL_MEDICAL = re.compile(r"商业(?:医疗)?保险|商业医疗险")


def out_of_scope_topic(text: str) -> str | None:
    """The uncovered topic a question is about, or None. The first matching topic wins."""
    if MEDICAL.search(_COMMERCIAL_MEDICAL.sub("", text)):
        return None
    for topic, pattern in OUT_OF_SCOPE.items():
        if pattern.search(text):
            return topic
    return None


# Sound-alike typos of another domain's words (公鸡金 typed for 公积金, 驾召 for 驾照): the corpus vocabulary
# cannot correct them, since these words are not in it. Only words of three syllables or distinctive
# two-syllable ones, so that a chance match inside an insurance question is unlikely.
_SOUNDS = {
    "住房公积金": ("公积金",),
    "车险等商业保险": ("交强险", "保险公司", "车险"),
    "信用卡与贷款": ("信用卡", "花呗", "借呗"),
    "养老保险与养老金": ("养老金", "退休金"),
    "失业与工伤保险": ("失业金",),
    "其他": ("驾照",),
}


def _syllables(text: str) -> str:
    """``|gong|ji|jin|``: toneless pinyin of each Chinese character; anything else breaks the run."""
    from .lexicon import char_pinyin  # (cached; ingest.lexicon imports this module, hence here)

    return "|" + "|".join(char_pinyin(text)) + "|"


def sounds_like_topic(text: str) -> str | None:
    """The uncovered topic a question names by a homophone typo, or None; 医保 keeps it in scope."""
    if MEDICAL.search(_COMMERCIAL_MEDICAL.sub("", text)):
        return None
    said = _syllables(text)
    for topic, words in _SOUNDS.items():
        if any(_syllables(w) in said for w in words):
            return topic
    return None
