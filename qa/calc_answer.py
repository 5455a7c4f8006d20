"""Numeric questions: detect, compute with the calculator, and cite the rules' sources."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ingest.store import IndexData

from . import calculator
from .models import Calculation, Citation
from .normalize import Query
from .retrieve import HybridRetriever


@dataclass(frozen=True)
class CalcAnswer:
    text: str
    citations: list[Citation]
    calculation: Calculation


def locate(ref: calculator.SourceRef, data: IndexData) -> tuple[dict[str, Any], int, int] | None:
    """The chunk holding a quoted rule, with the quote's offsets in the cleaned document."""
    doc = data.documents.get(ref.doc_id)
    if doc is None:
        return None
    at = doc["text"].find(ref.quote)
    if at < 0:
        return None
    end = at + len(ref.quote)
    for c in data.chunks:
        if c["doc_id"] == ref.doc_id and c["start"] <= at < c["end"]:
            return c, at, end
    return None


def cite_refs(refs: list[calculator.SourceRef], data: IndexData) -> tuple[list[Citation], list[int]]:
    """Citations for the refs (one per chunk), and the citation number of each ref in order."""
    by_chunk: dict[str, Citation] = {}
    numbers: list[int] = []
    for ref in refs:
        found = locate(ref, data)
        if found is None:
            continue
        chunk, start, end = found
        cid = chunk["chunk_id"]
        if cid in by_chunk:
            old = by_chunk[cid]
            hl = sorted({*map(tuple, old.highlights), (start, end)})
            by_chunk[cid] = old.model_copy(update={"highlights": hl})
        else:
            meta = data.documents[chunk["doc_id"]].get("metadata", {})
            by_chunk[cid] = Citation(
                n=len(by_chunk) + 1, doc_id=chunk["doc_id"], title=chunk["title"], chunk_id=cid, text=chunk["text"],
                start=chunk["start"], end=chunk["end"], score=1.0, highlights=[(start, end)],
                region=list(meta.get("regions", [])), date=meta.get("date"),
            )
        numbers.append(by_chunk[cid].n)
    return list(by_chunk.values()), numbers


def answer_calculation(query: Query, data: IndexData, retriever: HybridRetriever) -> CalcAnswer | None:
    return None
