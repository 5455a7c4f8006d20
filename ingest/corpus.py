"""Read source documents from a folder: .txt/.md (one document each) and .jsonl (one per line)."""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .clean import clean_page

DOC_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,127}$")
TEXT_SUFFIXES = {".txt", ".md"}
METADATA_FILE = "sources.toml"


class CorpusError(ValueError):
    """A source file cannot be used; the message starts with the file (and line) at fault."""


@dataclass(frozen=True)
class Document:
    doc_id: str
    title: str
    text: str  # cleaned article body; chunk offsets index into this
    metadata: dict[str, Any] = field(default_factory=dict)
    source: str = ""


def _decode(path: Path) -> str:
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CorpusError(f"{path}: not valid UTF-8 (byte {exc.start}): {exc.reason}") from exc
    if "\x00" in text:
        raise CorpusError(f"{path}: contains NUL bytes; not a text file")
    return text


def _check_id(doc_id: Any, where: str) -> str:
    if not isinstance(doc_id, str) or not DOC_ID_RE.match(doc_id):
        raise CorpusError(f"{where}: invalid doc_id {doc_id!r} (letters, digits, _ . - only, max 128)")
    return doc_id


def _load_metadata(folder: Path) -> dict[str, dict[str, Any]]:
    path = folder / METADATA_FILE
    if not path.is_file():
        return {}
    try:
        return tomllib.loads(_decode(path))
    except tomllib.TOMLDecodeError as exc:
        raise CorpusError(f"{path}: invalid TOML: {exc}") from exc


def _text_document(path: Path, meta: dict[str, Any]) -> Document:
    raw = _decode(path)
    first = next((ln.strip() for ln in raw.splitlines() if ln.strip()), "")
    if not first:
        raise CorpusError(f"{path}: empty document")
    title = first.lstrip("#").strip() if path.suffix == ".md" else first
    page = clean_page(raw, title=first)
    metadata = {**meta}
    metadata.setdefault("title", title)
    if page.date and "date" not in metadata:
        metadata["date"] = page.date
    if not page.text:
        raise CorpusError(f"{path}: no article text left after cleaning")
    return Document(_check_id(path.stem, str(path)), metadata["title"], page.text, metadata, path.name)


def _jsonl_documents(path: Path, meta: dict[str, dict[str, Any]]) -> list[Document]:
    docs = []
    for lineno, line in enumerate(_decode(path).splitlines(), 1):
        if not line.strip():
            continue
        where = f"{path}:{lineno}"
        try:
            rec = json.loads(line)
        except json.JSONDecodeError as exc:
            raise CorpusError(f"{where}: invalid JSON: {exc.msg}") from exc
        if not isinstance(rec, dict):
            raise CorpusError(f"{where}: expected an object with doc_id, title, text")
        doc_id = _check_id(rec.get("doc_id"), where)
        title, text = rec.get("title"), rec.get("text")
        if not isinstance(title, str) or not isinstance(text, str) or not text.strip():
            raise CorpusError(f"{where}: `title` and non-empty `text` must be strings")
        extra = rec.get("metadata") or {}
        if not isinstance(extra, dict):
            raise CorpusError(f"{where}: `metadata` must be an object")
        page = clean_page(text, title=title)
        body = page.text or text.strip()
        docs.append(Document(doc_id, title.strip() or doc_id, body, {**meta.get(doc_id, {}), **extra}, path.name))
    return docs


def source_folder(corpus_dir: Path) -> Path:
    """`corpus/` keeps its articles in `raw/`; any other folder holds them directly."""
    raw = corpus_dir / "raw"
    return raw if raw.is_dir() else corpus_dir


def load_corpus(corpus_dir: Path, *, allow_empty: bool = False) -> list[Document]:
    """All documents, sorted by doc_id; raises CorpusError naming the first bad file.

    ``allow_empty``: a knowledge base of FAQ pairs only needs no article."""
    corpus_dir = Path(corpus_dir)
    if not corpus_dir.is_dir():
        raise CorpusError(f"{corpus_dir}: corpus folder not found")
    meta = _load_metadata(corpus_dir)
    folder = source_folder(corpus_dir)
    docs: list[Document] = []
    for path in sorted(folder.rglob("*")):
        if not path.is_file() or path.name.startswith("."):
            continue
        if path.suffix in TEXT_SUFFIXES:
            docs.append(_text_document(path, meta.get(path.stem, {})))
        elif path.suffix == ".jsonl":
            docs.extend(_jsonl_documents(path, meta))
    if not docs and not allow_empty:
        raise CorpusError(f"{folder}: no .txt, .md or .jsonl documents found")
    seen: dict[str, str] = {}
    for d in docs:
        if d.doc_id in seen:
            raise CorpusError(f"{d.source}: duplicate doc_id {d.doc_id!r} (also in {seen[d.doc_id]})")
        seen[d.doc_id] = d.source
    return sorted(docs, key=lambda d: d.doc_id)
