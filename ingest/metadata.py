"""Document metadata: what a page says about itself, found by general rules, and checked input.

- :func:`scan_page` reads a raw page (before boilerplate removal) for the lines that describe it:
  labelled dates ("发布时间: 2025-05-17"), a header stamp ("2025-05-17 13:22:18社保网"), the publisher
  ("来源:XX", "XX官方整理", "XX声明:", the site name stamped on its own teaser list, the agency signing
  a notice), the author and an original-article link.
- :func:`detect_metadata` finds title, date, regions (and regions only cited as examples),
  insurance types, publisher and the dates a rule takes effect or expires.
- :func:`merge_metadata` lets metadata given by a person win over detected metadata, after checking
  its types.

``python -m ingest.metadata --check`` compares detection with the hand-typed ``corpus/sources.toml``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
import sys
import tomllib
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from .clean import _FOOTER_START, normalise_whitespace
from .regions import Region, region_matches, region_mentions, resolve_region

INSURANCE_TYPES = ("职工医保", "城乡居民医保", "灵活就业")
NATIONAL = "全国"

# --- dates ---------------------------------------------------------------------------------------------

_DATE_CN = r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]"
_DATE_NUM = r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})"
_DATE = re.compile(rf"{_DATE_CN}|{_DATE_NUM}")
_DATE_ONLY = re.compile(rf"^\s*(?:{_DATE_CN}|{_DATE_NUM})\s*$")
_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")


def _valid(y: str | int, m: str | int, d: str | int) -> str | None:
    try:
        date = dt.date(int(y), int(m), int(d))
    except ValueError:
        return None
    return date.isoformat() if 1949 <= date.year <= 2100 else None


def _match_date(m: re.Match[str]) -> str | None:
    g = [x for x in m.groups() if x is not None]
    return _valid(*g[:3]) if len(g) >= 3 else None


def normalise_date(value: object) -> str | None:
    """ISO YYYY-MM-DD from the date at the start of ``value`` (2025-05-17, 2025/5/17, 2025.05.17,
    2025年5月17日, 2025-05-17T13:22:00+08:00, 20250517), or None."""
    if not isinstance(value, str):
        return None
    value = value.strip()
    m = _COMPACT.match(value)
    if m:
        return _valid(*m.groups())
    m = _DATE.match(value)
    return _match_date(m) if m else None


# Header labels of a page's own date, strongest first; a label must not be the end of a longer word
# (缴费时间, 补缴日期 are rules, not the page's date).
_DATE_LABEL = re.compile(
    r"(?<![\u4e00-\u9fff])(发布时间|发布日期|发文日期|印发日期|更新时间|更新日期|成文日期|时间|日期)\s*[:：]\s*"
)
_RANGE_AFTER = re.compile(r"\s*(?:至|到|—|－|~|-\s*\d)")
_LABEL_RANK = {"发布时间": 0, "发布日期": 0, "发文日期": 1, "印发日期": 1, "成文日期": 1, "更新时间": 2,
               "更新日期": 2, "时间": 3, "日期": 3}
_HEADER_STAMP = re.compile(rf"^\s*{_DATE_NUM}\s+\d{{1,2}}:\d{{2}}(?::\d{{2}})?\s*([^\d\s:：]{{2,12}})?\s*$")
# A title ending in its date: "(2025/05/17)", "（2025年5月17日）", "2025-05-17".
_TITLE_DATE = re.compile(rf"[(（\[【]?\s*(?:{_DATE_CN}|{_DATE_NUM})\s*[)）\]】]?")
_TITLE_DATE_SHORT = re.compile(r"[(（](\d{2})[/\-.](\d{1,2})[/\-.](\d{1,2})[)）]")

# --- publisher -----------------------------------------------------------------------------------------

_SOURCE_LABEL = re.compile(
    r"(?<![\u4e00-\u9fff])(?:来源|信息来源|文章来源|稿件来源|发布机构|发布单位|发文机关|发文单位)\s*[:：]\s*"
    r"([^\s:：|｜,，。;；]{2,30})"
)
_AUTHOR_LABEL = re.compile(r"(?<![\u4e00-\u9fff])(?:作者|撰稿|文)\s*[:：]\s*([^\s:：|｜,，。;；]{2,20})")
_SOURCE_URL = re.compile(r"(?:原文链接|原文地址|来源链接|原文网址)\s*[:：]?\s*(https?://[^\s<>\"']+)")
_COMPILED_BY = re.compile(r"^\s*(\S{2,10}?)(官方整理|小编整理|编辑整理)\s*$")
_STATEMENT = re.compile(r"^\s*(\S{2,10}?)(?:免责)?声明\s*[:：]")
_TEASER_STAMP = re.compile(rf"^\s*([^\d\s]{{2,12}})\s+{_DATE_NUM}\s*$")
_AGENCY = re.compile(r"(局|委员会|委|人民政府|政府|办公室|办公厅|厅|中心|署|部|院|公司|协会)$")


def _cut_footer(lines: list[str]) -> tuple[list[str], list[str]]:
    for i, line in enumerate(lines):
        if _FOOTER_START.match(line.strip()):
            return lines[:i], lines[i:]
    return lines, []


def scan_page(raw: str) -> dict[str, str]:
    """What the page's own lines say about it: date, publisher, author, source_url (only keys found).

    Dates count only from labelled lines ("发布时间:", "更新时间:", "日期:"), a header stamp in the first
    lines ("2025-05-17 13:22:18社保网") or an agency's signature at the end of a notice ("XX市医疗保障局"
    above a line holding only a date); lines after a teaser list ("相关推荐", "大家都在问") belong to
    other articles and give no date.
    """
    lines = [normalise_whitespace(x) for x in raw.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    article, footer = _cut_footer(lines)
    found: dict[str, str] = {}

    nonempty = [(i, x.strip()) for i, x in enumerate(article) if x.strip()]
    header_end = nonempty[min(7, len(nonempty) - 1)][0] if nonempty else 0
    best: tuple[int, int, str] | None = None
    for i, line in enumerate(article):
        for m in _DATE_LABEL.finditer(line):
            rest = line[m.end():]
            dm = _DATE.match(rest)
            date = _match_date(dm) if dm else None
            if not date or _RANGE_AFTER.match(rest, dm.end()):
                continue  # "时间:2025年1月1日至2月28日" is a period of a rule
            rank = _LABEL_RANK[m.group(1)]
            if rank >= 3 and i > header_end:
                continue  # a bare "时间:"/"日期:" counts only in the page header
            key = (rank, i, date)
            best = min(best, key) if best else key
    if best is None:
        for _, line in nonempty[:8]:
            m = _HEADER_STAMP.match(line)
            if m:
                date = _valid(*m.groups()[:3])
                if date:
                    best = (9, 0, date)
                    break
    signature: tuple[str, str] | None = None
    for k in range(len(nonempty) - 1, max(0, len(nonempty) - 6), -1):
        line = nonempty[k][1]
        m = _DATE_ONLY.match(line)
        prev = nonempty[k - 1][1] if k > 0 else ""
        agency = 2 <= len(prev) <= 40 and _AGENCY.search(prev) and not re.search(r"[。，,；;]", prev)
        if m and _match_date(m) and agency:
            signature = (prev, _match_date(m) or "")
            break
    if best is not None:
        found["date"] = best[2]
    elif signature:
        found["date"] = signature[1]

    publisher = None
    for line in article:
        m = _SOURCE_LABEL.search(line)
        if m:
            publisher = m.group(1)
            break
    if publisher is None:
        for _, line in nonempty:
            m = _COMPILED_BY.match(line)
            if m:
                publisher = m.group(1)
                break
    if publisher is None:
        for _, line in nonempty[:8]:
            m = _HEADER_STAMP.match(line)
            if m and m.group(4):
                publisher = m.group(4)
                break
    if publisher is None and signature:
        publisher = signature[0]
    if publisher is None:
        for line in lines:
            m = _STATEMENT.match(line)
            if m:
                publisher = m.group(1)
                break
    if publisher is None:
        # A site stamps its own teaser list ("健康新闻 2025-03-28" under every teaser).
        stamps = Counter(m.group(1) for x in footer if (m := _TEASER_STAMP.match(x.strip())))
        if stamps:
            name, count = stamps.most_common(1)[0]
            if count >= 2:
                publisher = name
    if publisher:
        found["publisher"] = publisher

    for line in article:
        m = _AUTHOR_LABEL.search(line)
        if m:
            found["author"] = m.group(1)
            break
    m = _SOURCE_URL.search(raw)
    if m:
        found["source_url"] = m.group(1)
    return found


# --- regions -------------------------------------------------------------------------------------------

# A place cited as an example: right after 例如/比如/如/像, before …为例 (以广州为例), or followed by a
# person (深圳张女士); such places, and news datelines, go to mentioned_regions.
_EXAMPLE_BEFORE = re.compile(r"(例如|比如|譬如|诸如|举例|举个例子|如|像)\s*[:：,，]?\s*[(（]?\s*$")
_PERSON_AFTER = re.compile(
    r"^(?:市|的)?(?:市民|居民|网友|参保人|职工|员工)?[\u4e00-\u9fff]?(?:女士|先生|小姐|大爷|阿姨|大妈|某|师傅|同学)"
)
_FOR_EXAMPLE_AFTER = re.compile(r"^[^。\n]{0,6}为例")
# A news dateline names where the report was filed, not what it is about: "新华社北京2月11日电".
_DATELINE_AFTER = re.compile(r"^\s*(?:\d{1,2}月)?\d{1,2}日\s*(?:电|消息|讯)")
_LIST_SEP = re.compile(r"^\s*[、,，/和及与或]\s*$")
_EXAMPLE_LINE = re.compile(r"^\s*(举例|例如|比如|案例)")
_NATIONAL_WORDS = re.compile(r"全国|国家医保局|国家医疗保障局|国务院")


def _example_flags(text: str, mentions: Sequence[Any]) -> list[bool]:
    flags: list[bool] = []
    for i, m in enumerate(mentions):
        line_start = text.rfind("\n", 0, m.start) + 1
        before = text[max(line_start, m.start - 8):m.start]
        after = text[m.end:m.end + 8]
        example = bool(
            _EXAMPLE_BEFORE.search(before) or _PERSON_AFTER.match(after) or _FOR_EXAMPLE_AFTER.match(after)
            or _DATELINE_AFTER.match(after) or _EXAMPLE_LINE.match(text[line_start:m.start])
        )
        # The rest of an enumeration that started as an example: "(如南京、上海)".
        if not example and i and flags[-1] and _LIST_SEP.match(text[mentions[i - 1].end:m.start]):
            example = True
        # An example sentence introduced on the previous line ("…不同,例如:" then the cases).
        if not example:
            prev_end = line_start - 1
            prev_start = text.rfind("\n", 0, max(0, prev_end)) + 1
            previous = text[prev_start:prev_end].strip()
            if previous.endswith(("例如:", "例如：", "比如:", "比如：", "举例:", "举例：")):
                example = True
        flags.append(example)
    return flags


def _group_key(region: Region, regions: list[Region]) -> Any:
    """The most specific place of ``regions`` on the same line of descent as ``region``."""
    best = region.place
    for r in regions:
        if r.place.within(best):
            best = r.place
    return best


def _detect_regions(title: str, text: str, publisher: str | None) -> tuple[list[str], list[str]]:
    title_regions = [m.region for m in region_mentions(title)]
    body_mentions = region_mentions(text)
    flags = _example_flags(text, body_mentions)
    applies: list[Region] = []
    if title_regions:
        applies = list(dict.fromkeys(title_regions))
    elif publisher and _AGENCY.search(publisher) and region_mentions(publisher):
        applies = [region_mentions(publisher)[-1].region]  # 嘉峪关市医疗保障局 issues rules for 嘉峪关
    else:
        subjects = [m.region for m, ex in zip(body_mentions, flags) if not ex]
        if subjects:
            counts: Counter[Any] = Counter()
            first_named: dict[Any, Region] = {}
            for r in subjects:
                key = _group_key(r, subjects)
                counts[key] += 1
                if r.place == key:
                    first_named.setdefault(key, r)
            key, count = counts.most_common(1)[0]
            # One place carries the text: named at least three times, most of all place names, and
            # the title does not say it is about the whole country.
            if count >= 3 and count >= 0.6 * len(subjects) and not _NATIONAL_WORDS.search(title):
                applies = [first_named[key]]
    names = [r.name for r in applies] or [NATIONAL]
    mentioned: list[str] = []
    seen: set[Any] = {r.place for r in applies}
    for m in body_mentions:
        r = m.region
        if r.place in seen or any(r.place.within(a.place) or a.place.within(r.place) for a in applies):
            continue
        seen.add(r.place)
        mentioned.append(r.name)
    return names, mentioned


# --- insurance types -----------------------------------------------------------------------------------

_TYPE_PATTERNS = {
    "职工医保": re.compile(
        r"职工(?:基本)?医(?:保|疗保险)|城镇职工|职工参保|在职职工|用人单位|(?:随|新|所在)单位|单位(?:原因|参保|缴纳|缴费|补缴|为)"
        r"|离职|辞职"
    ),
    "城乡居民医保": re.compile(
        r"城乡居民(?:基本)?医(?:保|疗保险)?|居民医保|居民(?:基本)?医疗保险|城镇居民(?:基本)?医|新农合|(?:新型)?农村合作医疗"
    ),
    "灵活就业": re.compile(r"灵活就业|自由职业|个体工商户|个体户"),
}


def _detect_types(title: str, text: str) -> list[str]:
    """Types the title names, or the body names at least twice; title first, then by first appearance."""
    found: list[tuple[int, int, str]] = []
    for name, pattern in _TYPE_PATTERNS.items():
        in_title = pattern.search(title)
        body = list(pattern.finditer(text))
        if in_title or len(body) >= 2:
            found.append((0 if in_title else 1, in_title.start() if in_title else body[0].start(), name))
    return [name for _, _, name in sorted(found)]


# --- effective dates -----------------------------------------------------------------------------------

_D = rf"(?:{_DATE_CN}|{_DATE_NUM})"
_EFFECTIVE = re.compile(rf"(?:自|从|于)?\s*({_D})\s*(?:起|之日起)\s*(?:正式)?(?:施行|执行|实施|生效)"
                        rf"|(?:施行|执行|实施|生效)(?:日期|时间)\s*[:：为]\s*({_D})")
_EXPIRES = re.compile(rf"有效期(?:至|到|截至|截止到?)\s*({_D})|(?:有效期|执行期限|实施期限|执行期)\s*(?:为|是|:|：)?\s*"
                      rf"(?:{_D})\s*(?:至|到|—|－|-|~)\s*({_D})")
_VALID_YEARS = re.compile(r"有效期\s*(?:为|是)?\s*(\d{1,2}|[一二两三四五六七八九十])\s*年")
_CN_DIGIT = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}


def _first_date(pattern: re.Pattern[str], text: str) -> str | None:
    for m in pattern.finditer(text):
        for group in m.groups():
            if group:
                date = normalise_date(group)
                if date:
                    return date
    return None


def _detect_validity(text: str) -> tuple[str | None, str | None]:
    effective = _first_date(_EFFECTIVE, text)
    expires = None
    for m in _EXPIRES.finditer(text):
        # The last date of the match is the end ("执行期限为2025年1月1日至2026年12月31日").
        dates = [normalise_date(x.group()) for x in _DATE.finditer(m.group())]
        dates = [d for d in dates if d]
        if dates:
            expires = dates[-1]
            break
    if expires is None and effective:
        m = _VALID_YEARS.search(text)
        if m:
            years = int(m.group(1)) if m.group(1).isdigit() else _CN_DIGIT[m.group(1)]
            start = dt.date.fromisoformat(effective)
            try:
                end = start.replace(year=start.year + years)
            except ValueError:  # 29 February
                end = start.replace(year=start.year + years, day=28)
            expires = (end - dt.timedelta(days=1)).isoformat()
    return effective, expires


# --- detection -----------------------------------------------------------------------------------------


def _title_date(title: str) -> str | None:
    for m in _TITLE_DATE.finditer(title):
        date = _match_date(m)
        if date:
            return date
    m = _TITLE_DATE_SHORT.search(title)
    if m:
        return _valid(2000 + int(m.group(1)), m.group(2), m.group(3))
    return None


def detect_metadata(title: str, text: str, page: dict | None = None) -> dict[str, Any]:
    """Metadata found in a cleaned article and what its page said about it.

    Always returns ``title``, ``regions`` (["全国"] when the article is about no particular place),
    ``mentioned_regions`` (places only cited, e.g. "例如广州…", "深圳张女士…") and ``insurance_types``
    (of 职工医保, 城乡居民医保, 灵活就业); ``date``, ``publisher``, ``effective_from`` and ``expires`` only
    when found. ``page`` (e.g. ``ParsedDocument.page``) is trusted before the text.

    - date: the page's own date (``page["date"]``: header, HTML meta), else a date in the title
      ("(2025/05/17)"), else a labelled date in the text ("发布日期:…"); never a date inside a rule
      ("补充缴费期:2025年1月1日至2月28日").
    - regions: the places in the title; else the place of the agency that issued it; else one place
      that carries the text (at least three of its non-example place names and 60 % of them).
    - insurance types: named in the title, or at least twice in the text.
    """
    page = dict(page or {})
    title = (title or page.get("title") or "").strip()
    text = text or ""
    if not title:
        title = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
    hints = scan_page(text)
    result: dict[str, Any] = {"title": title}

    date = normalise_date(page.get("date")) or _title_date(title) or hints.get("date")
    if date:
        result["date"] = date
    publisher = page.get("publisher") or hints.get("publisher")
    if isinstance(publisher, str) and publisher.strip():
        result["publisher"] = publisher.strip()
    regions, mentioned = _detect_regions(title, text, result.get("publisher"))
    result["regions"] = regions
    result["mentioned_regions"] = mentioned
    result["insurance_types"] = _detect_types(title, text)
    effective, expires = _detect_validity(text)
    if effective:
        result["effective_from"] = effective
    if expires:
        result["expires"] = expires
    return result


# --- given metadata ------------------------------------------------------------------------------------

_STR_FIELDS = ("title", "publisher", "author", "description")
_DATE_FIELDS = ("date", "effective_from", "expires")
_LIST_FIELDS = ("regions", "mentioned_regions", "insurance_types")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip()) or (isinstance(value, list) and not value)


def validate_metadata(given: dict[str, Any]) -> dict[str, Any]:
    """Checked copy of metadata typed by a person; raises ValueError naming the first bad field.

    Blank values (None, "", []) mean "not given" and are dropped.
    """
    if not isinstance(given, dict):
        raise ValueError("metadata: must be an object")
    out: dict[str, Any] = {}
    for key, value in given.items():
        if not isinstance(key, str):
            raise ValueError(f"{key!r}: field names must be strings")
        if _blank(value):
            continue
        if key in _STR_FIELDS:
            if not isinstance(value, str) or _CONTROL.search(value) or len(value) > 500:
                raise ValueError(f"{key}: must be a string of at most 500 characters without control characters")
            out[key] = value.strip()
        elif key in _DATE_FIELDS:
            if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value) or not normalise_date(value):
                raise ValueError(f"{key}: must be an ISO date YYYY-MM-DD")
            out[key] = value
        elif key in _LIST_FIELDS:
            if not isinstance(value, list) or not all(isinstance(x, str) and x.strip() for x in value):
                raise ValueError(f"{key}: must be a list of non-empty strings")
            if any(_CONTROL.search(x) or len(x) > 100 for x in value):
                raise ValueError(f"{key}: items must be at most 100 characters without control characters")
            if key == "insurance_types":
                unknown = [x for x in value if x not in INSURANCE_TYPES]
                if unknown:
                    raise ValueError(f"insurance_types: must be among {', '.join(INSURANCE_TYPES)}")
            out[key] = [x.strip() for x in value]
        elif key == "rules":
            # Calculator rules this document states (ingest.rules; checked by the knowledge base).
            if not isinstance(value, list) or not all(isinstance(x, dict) for x in value) or len(value) > 200:
                raise ValueError("rules: must be a list of rule objects (see corpus/rules.toml)")
            out[key] = value
        elif key == "source_url":
            parsed = urlparse(value) if isinstance(value, str) else None
            if (parsed is None or parsed.scheme not in ("http", "https") or not parsed.netloc
                    or re.search(r"\s", value) or _CONTROL.search(value) or len(value) > 2000):
                raise ValueError("source_url: must be an http(s) URL")
            out[key] = value
        else:
            if isinstance(value, bool | int | float | str):
                out[key] = value
            elif isinstance(value, list) and all(isinstance(x, str) for x in value):
                out[key] = list(value)
            else:
                raise ValueError(f"{key}: must be a string, number, boolean or list of strings")
    if out.get("effective_from") and out.get("expires") and out["expires"] < out["effective_from"]:
        raise ValueError("expires: must not be before effective_from")
    return out


def merge_metadata(given: dict[str, Any], detected: dict[str, Any]) -> dict[str, Any]:
    """Detected metadata overridden by given metadata (validated; blank given values do not count).

    When regions are given, detected ``mentioned_regions`` that name the same places are dropped.
    """
    checked = validate_metadata(given)
    merged = {k: v for k, v in detected.items() if v is not None}
    merged.update(checked)
    if "regions" in checked and "mentioned_regions" not in checked:
        merged["mentioned_regions"] = [
            m for m in merged.get("mentioned_regions", []) if not region_matches(m, checked["regions"])
        ]
    return merged


# --- measured against the hand-typed corpus metadata ---------------------------------------------------

CHECK_FIELDS = ("regions", "date", "insurance_types")


def _region_key(names: Sequence[str]) -> frozenset:
    keys = set()
    for name in names:
        region = resolve_region(name) if name != NATIONAL else None
        keys.add(region.path if region else name)
    return frozenset(keys)


def field_matches(name: str, detected: Any, truth: Any) -> bool:
    """Regions compare as places (甘肃嘉峪关 = 嘉峪关市), types as sets, dates exactly."""
    if name in ("regions", "mentioned_regions"):
        return _region_key(detected or []) == _region_key(truth or [])
    if name == "insurance_types":
        return set(detected or []) == set(truth or [])
    return (detected or None) == (truth or None)


def check_corpus(corpus_dir: Path | None = None) -> list[dict[str, Any]]:
    """Detect metadata for every raw corpus file (read as an upload) and compare with sources.toml."""
    from .parse import parse_upload
    from .settings import PROJECT_ROOT

    corpus_dir = Path(corpus_dir or PROJECT_ROOT / "corpus")
    truth_all = tomllib.loads((corpus_dir / "sources.toml").read_text(encoding="utf-8"))
    rows = []
    for path in sorted((corpus_dir / "raw").glob("*.txt")):
        truth = truth_all.get(path.stem)
        if truth is None:
            continue
        data = path.read_bytes()
        parsed = parse_upload(path.name, data, max_bytes=max(len(data), 1))
        detected = detect_metadata(parsed.title, parsed.text, parsed.page)
        for name in (*CHECK_FIELDS, "mentioned_regions", "publisher"):
            rows.append({
                "doc_id": path.stem, "field": name, "detected": detected.get(name), "truth": truth.get(name),
                "match": field_matches(name, detected.get(name), truth.get(name)), "scored": name in CHECK_FIELDS,
            })
    return rows


def _show(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, list):
        return "、".join(value) if value else "[]"
    return str(value)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ingest.metadata", description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare detection with corpus/sources.toml")
    parser.add_argument("--corpus", type=Path, default=None, help="corpus folder (default: corpus/)")
    args = parser.parse_args(argv)
    if not args.check:
        parser.print_help()
        return 2
    rows = check_corpus(args.corpus)
    print(f"{'doc_id':<22} {'field':<18} {'ok':<3} {'detected':<30} truth")
    for r in rows:
        mark = ("yes" if r["match"] else "NO") if r["scored"] else ("(=)" if r["match"] else "(≠)")
        print(f"{r['doc_id']:<22} {r['field']:<18} {mark:<3} {_show(r['detected']):<30} {_show(r['truth'])}")
    print()
    for name in CHECK_FIELDS:
        scored = [r for r in rows if r["field"] == name]
        print(f"{name}: {sum(r['match'] for r in scored)}/{len(scored)}")
    scored = [r for r in rows if r["scored"]]
    print(f"all scored fields: {sum(r['match'] for r in scored)}/{len(scored)} "
          "(mentioned_regions and publisher shown in parentheses, not scored)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
