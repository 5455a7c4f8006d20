"""Cut a chunk into answer units (sentences, or a run of short list items) with document offsets."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ingest.chunk import heading_kind

_SENT_END = re.compile(r"[^。！？!?；;]+[。！？!?；;]*")
_BULLET = re.compile(r"^(?:[•·●◆■▪\-*–—]\s*|\d{1,2}\s*[、.．]\s*|[（(][一二三四五六七八九十]+[)）]\s*)")
SHORT_ITEM = 40  # list items shorter than this are read together ("身份证、社保卡、银行卡")


@dataclass(frozen=True)
class Unit:
    """One answerable piece of text; ``start``/``end`` index the cleaned document."""

    text: str  # display text (bullet marker removed; short items joined with 、)
    start: int
    end: int
    context: str  # nearest heading inside the chunk, for conditions like "断缴3个月以内"
    position: int  # order inside the chunk


def split_units(chunk_text: str, chunk_start: int, context: str = "") -> list[Unit]:
    """Units in reading order; ``context`` is the heading the chunk starts under."""
    units: list[Unit] = []
    context = _BULLET.sub("", context)
    pos = 0
    items: list[tuple[str, int, int]] = []

    def flush_items() -> None:
        nonlocal items
        if items:
            text = "、".join(t.rstrip("。;；") for t, _, _ in items) + "。"
            units.append(Unit(text, items[0][1], items[-1][2], context, len(units)))
            items = []

    for line in chunk_text.split("\n"):
        line_start = pos
        pos += len(line) + 1
        stripped = line.strip()
        if not stripped:
            continue
        lead = line_start + (len(line) - len(line.lstrip()))
        if heading_kind(stripped) is not None:
            flush_items()
            context = _BULLET.sub("", stripped).rstrip(":：")
            continue
        marker = _BULLET.match(stripped)
        body = stripped[marker.end() :] if marker else stripped
        offset = lead + (marker.end() if marker else 0)
        if marker and len(body) < SHORT_ITEM and not re.search(r"[。；;]", body[:-1]):
            items.append((body, chunk_start + offset, chunk_start + offset + len(body)))
            continue
        flush_items()
        for m in _SENT_END.finditer(body):
            sent = m.group(0).strip()
            if len(sent) < 4:
                continue
            s = offset + m.start() + (len(m.group(0)) - len(m.group(0).lstrip()))
            units.append(Unit(sent, chunk_start + s, chunk_start + s + len(sent), context, len(units)))
    flush_items()
    return units
