"""Is a question inside what the corpus covers? Rules first, evidence second.

The service covers 医保 (basic medical insurance): interruption, back payment,
restoring coverage, waiting periods, contribution standards. Other insurance and
other money matters share words with it (断缴, 补交, 滞纳金), so a shared word
alone never makes a question in scope.
"""

from __future__ import annotations

import re

# The uncovered topics are one table, in ingest.topics: the corpus vocabulary (ingest.lexicon) needs it too.
from ingest.topics import MEDICAL, OUT_OF_SCOPE, out_of_scope_topic, sounds_like_topic  # noqa: F401 (re-exported)

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


def another_place_advice(what: str) -> str:
    """After a figure of one region given for a question naming no place: it may not be the asker's."""
    return f"各地{what}不同,您所在地的{what}请以当地医保部门为准,或告诉我您所在的城市。"
