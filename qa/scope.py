"""Is a question inside what the corpus covers? Rules first, evidence second.

The service covers 医保 (basic medical insurance): interruption, back payment,
restoring coverage, waiting periods, contribution standards. Other insurance and
other money matters share words with it (断缴, 补交, 滞纳金), so a shared word
alone never makes a question in scope.
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
        r"电费|水费|燃气费|煤气费|话费|物业费|宽带|暖气费|取暖费|停机|手机欠费|房租|租金"
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

# Words that tie a question to the corpus's subject.
DOMAIN = re.compile(
    r"医保|医疗保险|社保|参保|断缴|断交|断保|中断|停保|补缴|补交|续保|续缴|续交|待遇|等待期|报销|缴费|交费|"
    r"灵活就业|城乡居民|职工|新农合|合作医疗|滞纳金|缴费基数|费率|个人账户|统筹|恢复|"
    # Medical-insurance subjects the articles do not cover are still in the domain (no_answer, never
    # "out of scope"): 异地就医备案, 门诊慢特病, 起付线, 医保电子凭证, 家庭共济, 大病保险.
    r"就医|门诊|住院|医疗|慢特病|起付|电子凭证|共济|大病|生育津贴|医院"
)

# Question words that add nothing to what is asked about; with the domain words
# they form the "generic" part of a question. What remains must be found in the evidence.
GENERIC_TERMS = frozenset(
    "医保 社保 医疗 保险 参保 断缴 补缴 续保 缴费 交费 交 缴 办 办理 怎么办 怎么 怎样 如何 什么 哪些 多久 多长 时间 "
    "可以 能否 是否 需要 应该 一下 请问 问 情况 问题 规定 政策 现在 已经 之后 以后 后 了 吗 呢 个 月 年 天 "
    "城乡居民医保 城乡 居民 职工医保 职工 灵活就业 人员 个人 单位 我 我的 自己 家里 想 要 会 有 没有 还 再 "
    "恢复 享受 待遇 报销 影响 流程 手续 方式 方法 步骤 什么时候 多少 多少钱 钱 居民医保 医保卡 时间 时候 "
    "有没有 要求 不交 算不算 是不是 超过 错过 属于 一样 知道 需要 能领 会受 还会 后要 才能 不能 能用 用 交了 "
    "断 断了 停 停了 重新 继续 开始 结束 最少 最多 至少 情况下 没给 给 交钱".split()
)


def out_of_scope_topic(text: str) -> str | None:
    """The uncovered topic a question is about, or None. The first matching topic wins."""
    if MEDICAL.search(_COMMERCIAL_MEDICAL.sub("", text)):
        return None
    for topic, pattern in OUT_OF_SCOPE.items():
        if pattern.search(text):
            return topic
    return None


def has_domain_words(text: str) -> bool:
    return bool(DOMAIN.search(text))


COVERS = ("医保(基本医疗保险)中断缴费相关的问题:断缴后怎么补缴、如何恢复参保、补缴后多久恢复待遇(待遇等待期)、"
          "缴费标准和补缴金额计算等")
ADVICE = "具体情况建议咨询当地医保经办机构,或拨打12393医疗保障服务热线。"

REFUSAL_MESSAGE = (
    "抱歉,这个问题不在本服务的范围内{reason}。本服务只回答" + COVERS + "。"
    "您可以换个问法,例如:“医保断缴3个月后怎么补缴?”"
)


def refusal_message(topic: str | None = None) -> str:
    """``out_of_scope``: another domain. Never used for an in-domain question (that is ``no_answer``)."""
    return REFUSAL_MESSAGE.format(reason=f"(涉及{topic})" if topic else "")


def no_answer_message() -> str:
    """``no_answer``: in the domain, but the articles hold nothing that answers it — said honestly."""
    return ("抱歉,本服务的资料里没有能回答这个问题的内容,所以不作猜测。本服务的资料涵盖" + COVERS + "。" + ADVICE)


def unreadable_message() -> str:
    """A pinyin question that could not be read back into Chinese with confidence."""
    return ("抱歉,没能看懂这个拼音问题。请用汉字提问,例如:“医保断缴3个月后怎么补缴?”本服务的资料涵盖" + COVERS + "。")


def partial_lead(missing: list[str], other_regions: list[str]) -> str:
    """``partial``: say exactly what the sources lack, then label what follows as not about it."""
    lead = f"资料中没有{'、'.join(missing)}。" if missing else "资料中没有直接回答这个问题的内容。"
    if other_regions:
        lead += f"下面是资料中{'、'.join(other_regions)}的规定,仅供参考,不适用于您问的地区或年份:"
    else:
        lead += "下面是资料中相关的内容,仅供参考,并不是您所问的具体答案:"
    return lead


def partial_tail() -> str:
    return ADVICE
