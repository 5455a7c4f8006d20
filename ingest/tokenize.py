"""jieba tokens for BM25, shared by indexing and querying so both cut words alike."""

from __future__ import annotations

import logging
import re
import threading
from functools import lru_cache
from pathlib import Path

import jieba

USER_DICT = Path(__file__).with_name("userdict.txt")

# Function words and punctuation carry no retrieval signal in these articles.
STOPWORDS = frozenset(
    (
        "的 了 是 在 和 与 或 及 等 也 就 都 而 但 还 又 被 把 让 给 "
        "对 从 向 于 为 以 之 其 这 那 吗 呢 吧 啊 呀 么 嘛 哦 我 你 "
        "他 她 它 我们 你们 他们 个 该 此 些 如 若 则 即 可以 需要 怎么 怎么办 如何 什么 "
        "哪些 多少 能 会 要 想 请问 一下 有 没有 "
    ).split()
)
_TOKEN_OK = re.compile(r"[\w\u4e00-\u9fff]")

# Words people and articles use for the same thing, folded to one form on both the
# index and the query side so BM25 matches them (003 writes 断交/补交, 000 writes
# 中断/续交, 002 writes 断保/补缴; users add 断了/补上, 新农合 for 城乡居民医保).
SYNONYMS: dict[str, tuple[str, ...]] = {
    "断缴": ("断交", "断保", "断档", "停缴", "欠缴", "中断缴费", "中断缴纳", "没交", "没缴", "漏缴", "漏交"),
    "补缴": ("补交", "补上", "补齐", "补费", "续缴", "续交", "续费"),
    "城乡居民医保": ("新农合", "新型农村合作医疗", "农村合作医疗", "合作医疗", "农合", "城镇居民医保", "居民医疗保险"),
    "职工医保": ("职工医疗保险", "职工基本医疗保险", "城镇职工医保", "单位医保"),
    "医保": ("医疗保险", "医保险", "医疗保障"),
    "待遇等待期": ("待遇享受等待期", "等待期"),
    "灵活就业": ("自由职业", "个体户", "灵活就业人员"),
    "线上": ("网上", "在线上", "网上办理"),
    "清0": ("清零", "归零", "作废"),
    "支付": ("付款", "付钱", "交钱方式"),
}
# Canonical forms map to themselves so "待遇等待期" is not re-folded through "等待期".
_CANON = {v: k for k, vs in SYNONYMS.items() for v in (k, *vs)}
_CANON_RE = re.compile("|".join(sorted(map(re.escape, _CANON), key=len, reverse=True)))


def canonical(text: str) -> str:
    """Fold synonyms to one form (longest match first)."""
    return _CANON_RE.sub(lambda m: _CANON[m.group(0)], text)

_lock = threading.Lock()
_tokenizer: jieba.Tokenizer | None = None


def _get_tokenizer() -> jieba.Tokenizer:
    """A private jieba tokenizer with the 医保 dictionary, built once per process."""
    global _tokenizer
    with _lock:
        if _tokenizer is None:
            jieba.setLogLevel(logging.WARNING)
            tok = jieba.Tokenizer()
            tok.initialize()
            tok.load_userdict(str(USER_DICT))
            _tokenizer = tok
    return _tokenizer


@lru_cache(maxsize=4096)
def _tokens(text: str) -> tuple[str, ...]:
    tok = _get_tokenizer()
    out = []
    for word in tok.lcut_for_search(canonical(text.lower())):
        word = word.strip()
        if word and word not in STOPWORDS and _TOKEN_OK.search(word):
            out.append(word)
    return tuple(out)


# Parts of speech that never say *what* is asked: pronouns, numerals, measure words,
# adverbs, locatives, time words, prepositions, conjunctions, particles, interjections.
_FUNCTION_POS = ("r", "m", "q", "d", "f", "t", "p", "c", "u", "y", "e", "o", "x", "w", "mq", "tg", "ul", "uj")
_pos_lock = threading.Lock()
_pos_tokenizer = None


def content_words(text: str) -> list[str]:
    """Precise-mode words that carry content (nouns, verbs, names), synonyms folded."""
    global _pos_tokenizer
    import jieba.posseg

    with _pos_lock:
        if _pos_tokenizer is None:
            _pos_tokenizer = jieba.posseg.POSTokenizer(_get_tokenizer())
    pairs = _pos_tokenizer.lcut(canonical(text.lower()))
    return [
        p.word for p in pairs if p.word.strip() and _TOKEN_OK.search(p.word) and not p.flag.startswith(_FUNCTION_POS)
    ]


def warm_up() -> None:
    """Load jieba's dictionaries now (about 1 s): otherwise the first question a server answers pays it."""
    tokenize("医保断缴")
    content_words("医保断缴")


def tokenize(text: str) -> list[str]:
    """Search-mode jieba tokens (long words plus their parts), lower-cased, stopwords dropped."""
    return list(_tokens(text))
