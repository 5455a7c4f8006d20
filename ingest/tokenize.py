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
    for word in tok.lcut_for_search(text.lower()):
        word = word.strip()
        if word and word not in STOPWORDS and _TOKEN_OK.search(word):
            out.append(word)
    return tuple(out)


def tokenize(text: str) -> list[str]:
    """Search-mode jieba tokens (long words plus their parts), lower-cased, stopwords dropped."""
    return list(_tokens(text))
