"""Turn a scraped article page into the article alone.

The pages come from Q&A and news sites (找法网, 社保网, health-news portals). Around
the article they carry the same kinds of boilerplate on every page: teaser lists
("相关推荐", "大家都在问"), lawyer activity feeds, disclaimers, link lists of other
articles and promotional sentences. The rules below describe those *kinds*, so they
hold for other pages of the same sites, not only for the files in ``corpus/raw``.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# A line starting with one of these ends the article: everything after it is
# site furniture (teasers, lawyer feeds, "ask a question" buttons).
_FOOTER_START = re.compile(
    r"^\s*(相关推荐|相关阅读|相关文章|推荐阅读|猜你喜欢|大家都在问|热门推荐|律师解答动态|"
    r"我也要提问|提示[:：]\s*本内容不能代替面诊|[^\s]{0,6}声明[:：])"
)

# Whole lines that are boilerplate wherever they appear.
_DROP_LINE = [
    re.compile(r"^\s*温馨提示[:：]"),  # "温馨提示:法律问题具有较强的专业性…", "温馨提示:本数据仅供参考"
    re.compile(r"^\s*(更新时间|发布时间|时间)[:：]\s*\d{4}-\d{1,2}-\d{1,2}"),
    re.compile(r"^\s*\S{1,10}(官方整理|小编整理|编辑整理)\s*$"),
    re.compile(r"^\s*问题相似[?？].*"),  # "问题相似?直接咨询律师 >"
    re.compile(r".*咨询律师\s*>\s*$"),
    re.compile(r"^\s*\d{4}-\d{2}-\d{2}\s+\d{1,2}:\d{2}(:\d{2})?\s*\S{0,10}\s*$"),  # "2025-05-17 13:22:18社保网"
    re.compile(r"^\s*[?？!！.。·•…\-—_*#\s]*$"),  # stray "?" and punctuation-only lines
    re.compile(r"^\s*(投诉|举报|分享|收藏|点赞|返回顶部)\s*$"),
    # Byline lines of official notices ("来源:兰州市医疗保障局", "责任编辑:…"): metadata, not article text.
    re.compile(r"^\s*(来源|作者|责任编辑|编辑|审核|校对|文章来源|信息来源)[:：].{0,40}$"),
]

# A line listing several other articles: two or more "date time category" stamps.
_LINK_STAMP = re.compile(r"\d{4}-\d{2}-\d{2}\s*\d{1,2}:\d{2}")

# Promotional sentences inside the article body ("接下来由找法网小编为大家带来…",
# "以上就是…小编为大家整理的…", "下面随新社通小编一起了解具体内容", "欢迎上…咨询平台").
_PROMO_SENTENCE = re.compile(
    r"[^。！？!?\n]*(小编|在线法律咨询平台|在线律师会为大家|欢迎上\S{0,8}网)[^。！？!?\n]*[。！？!?]?"
)

# "导读:" labels an intro paragraph; the label itself carries nothing.
_LEAD_LABEL = re.compile(r"^\s*(导读|摘要|简介)[:：]\s*$")

# A bare numbering line ("二、") whose heading text sits on the next line.
_BARE_NUMBER = re.compile(r"^\s*([一二三四五六七八九十]+、|[（(][一二三四五六七八九十]+[)）]|\d+[、.．])\s*$")

_DATE_IN_HEADER = re.compile(r"(\d{4})[-/年](\d{1,2})[-/月](\d{1,2})")


@dataclass(frozen=True)
class CleanedPage:
    """The article text plus what the page header said about it."""

    text: str
    date: str | None
    removed_lines: int


def normalise_whitespace(line: str) -> str:
    """NFC, no-break and ideographic spaces → ASCII space, trailing blanks gone."""
    line = unicodedata.normalize("NFC", line)
    line = line.replace("\u00a0", " ").replace("\u3000", " ").replace("\ufeff", "")
    return line.rstrip()


def _header_date(lines: list[str]) -> str | None:
    for line in lines[:6]:
        m = _DATE_IN_HEADER.search(line)
        if m and re.search(r"(更新时间|发布时间|\d{2}:\d{2})", line):
            y, mo, d = m.groups()
            return f"{y}-{int(mo):02d}-{int(d):02d}"
    return None


def _is_link_list(line: str) -> bool:
    return len(_LINK_STAMP.findall(line)) >= 2


def clean_page(raw: str, title: str | None = None) -> CleanedPage:
    """Return the article body (title line excluded) with boilerplate removed.

    Headings and list structure survive: one paragraph or list item per line,
    paragraphs separated by a blank line, bullets kept, nesting flattened.
    """
    lines = [normalise_whitespace(x) for x in raw.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    date = _header_date(lines)
    if title is None:
        title = next((x.strip() for x in lines if x.strip()), "")

    kept: list[str] = []
    removed = 0
    for line in lines:
        stripped = line.strip()
        if _FOOTER_START.match(stripped):
            removed += 1
            break
        if not stripped:
            kept.append("")
            continue
        # The title line, and image captions repeating it, are not body text.
        if title and stripped == title.strip():
            removed += 1
            continue
        if any(p.match(stripped) for p in _DROP_LINE) or _is_link_list(stripped) or _LEAD_LABEL.match(stripped):
            removed += 1
            continue
        kept.append(stripped)

    # Join a bare numbering line with the heading text that follows it.
    merged: list[str] = []
    i = 0
    while i < len(kept):
        line = kept[i]
        if line and _BARE_NUMBER.match(line):
            j = i + 1
            while j < len(kept) and not kept[j]:
                j += 1
            if j < len(kept):
                merged.append(line.strip() + kept[j])
                i = j + 1
                continue
        merged.append(line)
        i += 1

    body: list[str] = []
    for line in merged:
        if line:
            line = _PROMO_SENTENCE.sub("", line).strip()
            if not line:
                removed += 1
                continue
        body.append(line)

    text = re.sub(r"\n{3,}", "\n\n", "\n".join(body)).strip()
    return CleanedPage(text=text, date=date, removed_lines=removed)
