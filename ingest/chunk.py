"""Split a cleaned article into readable, citable chunks that know where they sit.

The articles have no markup, so structure is read from the lines themselves:
numbered headings (一、 / (一) / 1、 / 1.), and short title lines without sentence
punctuation. Sections are packed into chunks of roughly ``target`` characters;
long sections are cut at sentence ends by LangChain's recursive splitter, and
every chunk keeps ``start``/``end`` offsets so ``text[start:end] == chunk.text``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from langchain_text_splitters import RecursiveCharacterTextSplitter

HEADING_SEP = " › "

_CN_NUM = "一二三四五六七八九十"
_RE_CN = re.compile(rf"^[{_CN_NUM}]+、")
_RE_PAREN = re.compile(rf"^[（(][{_CN_NUM}]+[)）]")
_RE_NUM = re.compile(r"^\d{1,2}\s*[、.．](?!\d)")
_RE_BULLET = re.compile(r"^[•·●◆■▪\-*–—]")
# Sentence-internal punctuation: a line containing it reads as prose, not a title.
_RE_PROSE = re.compile(r"[。，,；;！!]|[:：].")
_RE_QUESTION = re.compile(r"(如何|怎么|怎样|什么|哪些|是否|吗|多少|[?？])")

# Sentence ends for splitting long sections (kept at the end of each piece).
_SENTENCE_SEPARATORS = ["\n\n", "\n", "。", "！", "？", "；", "!", "?", ";", "，", ",", ""]


@dataclass(frozen=True)
class Chunk:
    doc_id: str
    chunk_id: str
    title: str
    heading_path: tuple[str, ...]
    text: str
    start: int
    end: int

    @property
    def heading(self) -> str:
        return HEADING_SEP.join(self.heading_path)


@dataclass
class _Line:
    text: str
    start: int
    end: int
    kind: str | None = None  # heading kind, None for body lines


@dataclass
class _Section:
    path: tuple[str, ...]
    start: int
    end: int
    headings: list[str] = field(default_factory=list)


def heading_kind(line: str, max_title_chars: int = 30) -> str | None:
    """Classify one stripped line: 'cn', 'paren', 'num', 'plain', 'top' or None (body)."""
    if not line or _RE_BULLET.match(line) or line.endswith(("。", "；", ";")):
        return None
    for kind, pattern, limit in (("cn", _RE_CN, max_title_chars), ("paren", _RE_PAREN, 20), ("num", _RE_NUM, 20)):
        if pattern.match(line):
            rest = pattern.sub("", line).strip()
            if len(line) <= limit and not _RE_PROSE.search(rest.rstrip(":：")):
                return kind
            return None
    if len(line) > 24 or _RE_PROSE.search(line.rstrip(":：?？")):
        return None
    if line.endswith((":", "：")):
        return None  # a lead-in ("…的缴费标准如下:") or list label ("流程:"), not a title
    if _RE_QUESTION.search(line) or len(line) >= 14:
        return "top"
    return "plain"


def _lines(text: str) -> list[_Line]:
    out, pos = [], 0
    for raw in text.split("\n"):
        stripped = raw.strip()
        if stripped:
            lead = len(raw) - len(raw.lstrip())
            out.append(_Line(stripped, pos + lead, pos + lead + len(stripped)))
        pos += len(raw) + 1
    for line in out:
        line.kind = heading_kind(line.text)
    # A heading must head something: the last line, or one followed only by
    # headings of a higher rank, is body text.
    if out and out[-1].kind:
        out[-1].kind = None
    return out


def _sections(text: str) -> list[_Section]:
    """Walk the lines keeping a stack of open headings; see module docstring."""
    lines = _lines(text)
    stack: list[tuple[str, str]] = []  # (kind, heading text)
    sections: list[_Section] = []
    current: _Section | None = None
    prev_was_heading = False

    for i, line in enumerate(lines):
        kind = line.kind
        if kind is None:
            if current is None:
                current = _Section(tuple(t for _, t in stack), line.start, line.end)
                sections.append(current)
            current.end = line.end
            prev_was_heading = False
            continue

        nxt = lines[i + 1] if i + 1 < len(lines) else None
        is_parent = kind == "plain" and nxt is not None and nxt.kind == "plain"
        if kind == "top":
            stack = [("top", line.text)]
        elif kind == "plain":
            plain_idx = [k for k, (kd, _) in enumerate(stack) if kd == "plain"]
            if prev_was_heading:
                stack.append(("plain", line.text))
            elif is_parent and plain_idx:
                stack = stack[: plain_idx[0]] + [("plain", line.text)]
            elif stack and stack[-1][0] == "plain":
                stack[-1] = ("plain", line.text)
            else:
                stack.append(("plain", line.text))
        else:
            same = [k for k, (kd, _) in enumerate(stack) if kd == kind]
            if same:
                stack = stack[: same[0]]
            stack.append((kind, line.text))

        path = tuple(t for _, t in stack)
        if prev_was_heading and current is not None:
            current.path, current.end = path, line.end
            current.headings.append(line.text)
        else:
            current = _Section(path, line.start, line.end, [line.text])
            sections.append(current)
        prev_was_heading = True
    return sections


def _common_prefix(a: tuple[str, ...], b: tuple[str, ...]) -> tuple[str, ...]:
    n = 0
    while n < min(len(a), len(b)) and a[n] == b[n]:
        n += 1
    return a[:n]


def chunk_document(
    doc_id: str,
    title: str,
    text: str,
    *,
    min_chars: int = 150,
    target_chars: int = 300,
    max_chars: int = 400,
) -> list[Chunk]:
    """Chunks in document order; offsets index into ``text``."""
    splitter = RecursiveCharacterTextSplitter(
        chunk_size=target_chars,
        chunk_overlap=0,
        separators=_SENTENCE_SEPARATORS,
        keep_separator="end",
        strip_whitespace=True,
    )
    # 1. Long sections are cut at sentence ends; short ones stay whole.
    units: list[tuple[tuple[str, ...], int, int]] = []
    for sec in _sections(text):
        body = text[sec.start : sec.end]
        if len(body) <= max_chars:
            units.append((sec.path, sec.start, sec.end))
            continue
        cursor = 0
        for piece in splitter.split_text(body):
            at = body.index(piece, cursor)
            units.append((sec.path, sec.start + at, sec.start + at + len(piece)))
            cursor = at + len(piece)

    # 2. Neighbouring small units under the same top heading are packed together.
    packed: list[tuple[tuple[str, ...], int, int]] = []
    for path, start, end in units:
        if packed:
            p_path, p_start, p_end = packed[-1]
            same_top = p_path[:1] == path[:1] or not p_path
            if same_top and (p_end - p_start < min_chars or end - start < min_chars) and end - p_start <= max_chars:
                merged_path = _common_prefix(p_path, path) or p_path if p_path else path
                packed[-1] = (merged_path, p_start, end)
                continue
        packed.append((path, start, end))

    return [
        Chunk(doc_id, f"{doc_id}-c{n:03d}", title, path, text[start:end], start, end)
        for n, (path, start, end) in enumerate(packed)
    ]
