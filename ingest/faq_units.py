"""FAQ pairs as index rows beside article chunks.

A pair (a question, its approved answer, the other ways people ask it) becomes one row per question
— each its own dense vector and BM25 row, embedded *alone*, because an answer's long text dilutes its
question's vector (insurance_faq test top-1: 0.81 with "question + answer" documents, 0.97 with the
questions alone) — plus one row for the answer, so a question that only matches the answer's words
still finds the pair. The retriever keeps a pair's best row (``qa.retrieve``); the document record of a
pair holds the answer as its text, so citations index into the answer like into an article.

Stored questions are written by the same people as asked ones, with the same typos ("自己交医疗报险怎么
交"), and an asked question is read through the corpus vocabulary before it is searched (``ingest.lexicon``,
报险 → 保险). A stored question is read the same way when it is indexed: when its reading differs from it,
the reading is one more way of asking, with its own vector and BM25 row (``reading`` in the record; the
record's ``matched`` stays the question as written). The pair's score is still the best of its rows.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

FAQ_KIND = "faq"
QUESTION_ROW, ANSWER_ROW = "faq_q", "faq_a"


def pair_questions(pair: dict[str, Any]) -> list[str]:
    return [pair["question"], *pair.get("similar_questions", [])]


def pair_document(pair_id: str, pair: dict[str, Any]) -> dict[str, Any]:
    """The document record of a pair: its answer is the text that citations point into."""
    meta = {"kind": FAQ_KIND, "questions": pair_questions(pair), "title": pair["question"]}
    if pair.get("region"):
        meta["regions"] = [pair["region"]]
    if pair.get("insurance_type"):
        meta["insurance_types"] = [pair["insurance_type"]]
    if pair.get("source"):
        meta["source"] = pair["source"]
    return {"doc_id": pair_id, "title": pair["question"], "text": pair["answer"], "metadata": meta,
            "source": "faq"}


def pair_rows(pair_id: str, pair: dict[str, Any], read: Callable[[str], str] | None = None
              ) -> list[tuple[dict[str, Any], str, str]]:
    """(chunk record, text to embed, text for BM25) for each of a pair's rows. ``read`` reads a stored
    question as an asked one is read (``ingest.lexicon.Lexicon.correct``); a reading that differs from every
    way of asking the pair becomes a row of its own."""
    answer = pair["answer"]
    questions = pair_questions(pair)
    known = set(questions)
    rows = []
    for i, q in enumerate(questions):
        rec = {"doc_id": pair_id, "chunk_id": f"{pair_id}#q{i}", "title": pair["question"], "heading_path": [],
               "heading": "", "text": answer, "start": 0, "end": len(answer), "kind": QUESTION_ROW, "matched": q}
        rows.append((rec, q, bm25_row_text(rec)))
        reading = read(q) if read is not None else q
        if reading not in known:
            known.add(reading)
            rows.append(({**rec, "chunk_id": f"{pair_id}#q{i}r", "reading": reading}, reading,
                         bm25_row_text({**rec, "reading": reading})))
    rec = {"doc_id": pair_id, "chunk_id": f"{pair_id}#a", "title": pair["question"], "heading_path": [],
           "heading": "", "text": answer, "start": 0, "end": len(answer), "kind": ANSWER_ROW,
           "matched": pair["question"]}
    rows.append((rec, f"{pair['question']}\n{answer}", bm25_row_text(rec)))
    return rows


def bm25_row_text(rec: dict[str, Any]) -> str:
    """The text BM25 indexes for a pair's row: a question row its question (or the reading it stands
    for), the answer row the main question and the answer (the index keeps the records, so the words can be
    recomputed at load)."""
    if rec.get("kind") == QUESTION_ROW:
        return rec.get("reading") or rec.get("matched", "")
    return f"{rec.get('title', '')} {rec['text']}"


def is_faq(chunk: dict[str, Any]) -> bool:
    return chunk.get("kind") in (QUESTION_ROW, ANSWER_ROW)


def is_reading(chunk: dict[str, Any]) -> bool:
    """A row added for the reading of a stored question (not a question anyone wrote)."""
    return chunk.get("kind") == QUESTION_ROW and bool(chunk.get("reading"))


def counted_rows(chunks: list[dict[str, Any]]) -> list[bool]:
    """The rows a vocabulary is counted over (word rarity in ``qa.terms``, the corpus words of
    ``ingest.lexicon``): the articles' chunks, so a FAQ list added to the corpus changes neither; in an
    index of FAQ pairs only, every pair's rows as written (not the readings added for them)."""
    counted = [not is_faq(c) for c in chunks]
    if not any(counted):
        counted = [not is_reading(c) for c in chunks]
    return counted


def row_text(chunk: dict[str, Any]) -> str:
    """The words a row stands for: a question row its question (or reading), any other row its heading and
    text."""
    if chunk.get("kind") == QUESTION_ROW:
        return chunk.get("reading") or chunk.get("matched", "")
    return f"{chunk.get('heading', '')} {chunk['text']}"
