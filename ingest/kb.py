"""The living knowledge base: add, replace and remove documents while the service runs.

Two parts, kept apart on purpose:

* ``KnowledgeStore`` — where the knowledge base *lives*: the uploaded originals (content-addressed
  blobs), the catalog (every document with its origin and metadata, given and detected), one lock that
  serialises changes across processes, and the published version. ``LocalKnowledgeStore`` keeps all of
  it under ``var/``: blobs in ``var/kb/blobs``, the catalog inside each index version folder (so the
  catalog and the index it describes are published by the same atomic symlink swap). A shared database
  can replace it for several API machines: each machine would then build its index segments from the
  shared catalog and blobs.
* ``KnowledgeBase`` — the operations (``add``, ``replace``, ``remove``, ``documents``) on top of a store:
  read the file (``ingest.parse``), find its metadata (``ingest.metadata``; given metadata wins), chunk
  and embed only the new document (the embedding cache makes a repeated text free), write a delta
  version (``ingest.segment``) and publish it.

A change is atomic: everything is written into a new version folder, then the ``var/index`` symlink is
swapped with one rename. A kill at any point leaves the previous version serving; the next start finds
a consistent index (half-written folders are pruned). Changes are serialised with an exclusive file
lock, and each one starts from the version current *after* it obtained the lock, so none is lost.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from . import store
from .build import embed_with_cache, index_rows
from .cache import EmbeddingCache
from .corpus import DOC_ID_RE, Document
from .embed import Embedder
from .faq import FAQLimits, FAQPair, question_key, read_faq
from .faq_units import pair_questions
from .lexicon import Lexicon, lexicon_of, read_vocabulary
from .metadata import detect_metadata, merge_metadata, validate_metadata
from .parse import ParsedDocument, UploadError, parse_upload
from .rules import RuleBook, verify
from .segment import CATALOG, read_delta, write_delta
from .settings import Settings
from .tokenize import tokenize

UPLOAD_PREFIX = "up-"


class KnowledgeError(Exception):
    """A change cannot be made; ``status`` is the HTTP status it maps to (404, 409, 422 …)."""

    def __init__(self, status: int, code: str, message_zh: str, message_en: str):
        super().__init__(message_en)
        self.status, self.code, self.message_zh, self.message_en = status, code, message_zh, message_en


@dataclass(frozen=True)
class ChangeResult:
    doc_id: str
    title: str
    chunks: int
    metadata: dict[str, Any]
    version: str
    created: bool  # False when identical content was already there (nothing re-embedded)
    embedded: int = 0


# --------------------------------------------------------------------------- the store


class KnowledgeStore:
    """Where the knowledge base lives (see the module docstring). The local implementation follows."""

    def current_path(self) -> Path | None:  # pragma: no cover - interface
        raise NotImplementedError

    def put_blob(self, data: bytes) -> str:  # pragma: no cover - interface
        raise NotImplementedError

    def get_blob(self, key: str) -> bytes:  # pragma: no cover - interface
        raise NotImplementedError

    def locked(self) -> contextlib.AbstractContextManager[None]:  # pragma: no cover - interface
        raise NotImplementedError


class LocalKnowledgeStore(KnowledgeStore):
    def __init__(self, settings: Settings):
        self.index_dir = Path(settings.index_dir)
        self.root = Path(settings.kb_dir)
        self.blobs = self.root / "blobs"

    def current_path(self) -> Path | None:
        return self.index_dir.resolve() if self.index_dir.exists() else None

    def put_blob(self, data: bytes) -> str:
        key = hashlib.sha256(data).hexdigest()
        path = self.blobs / key
        if not path.is_file():
            self.blobs.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".tmp-{os.getpid()}")
            tmp.write_bytes(data)
            with open(tmp, "rb") as f:
                os.fsync(f.fileno())
            os.replace(tmp, path)
        return key

    def get_blob(self, key: str) -> bytes:
        path = self.blobs / key
        if not path.is_file():
            raise KnowledgeError(500, "blob_missing", f"上传的原始文件丢失:{key[:12]}",
                                 f"the uploaded original {key[:12]} is missing from {self.blobs}")
        return path.read_bytes()

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """One change at a time, across threads and processes (workers, the CLI)."""
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / ".lock", "a+") as fh:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


# --------------------------------------------------------------------------- catalog helpers


def empty_catalog() -> dict[str, Any]:
    return {"version": 0, "documents": {}, "suppressed": [], "faq": {}}


def read_catalog(version_dir: Path | None) -> dict[str, Any]:
    """The catalog published with ``version_dir`` (an empty one for an index built before catalogs)."""
    if version_dir is None or not (version_dir / CATALOG).is_file():
        return empty_catalog()
    return json.loads((version_dir / CATALOG).read_text(encoding="utf-8"))


def upload_id(sha256: str) -> str:
    return f"{UPLOAD_PREFIX}{sha256[:16]}"


def is_expired(metadata: dict[str, Any], today: date | None = None) -> bool:
    expires = metadata.get("expires")
    if not isinstance(expires, str):
        return False
    try:
        return date.fromisoformat(expires[:10]) < (today or date.today())
    except ValueError:
        return False


def corpus_entry(doc: Document) -> dict[str, Any]:
    return {"doc_id": doc.doc_id, "origin": "corpus", "title": doc.title, "filename": doc.source,
            "format": Path(doc.source).suffix.lstrip(".") or "txt", "metadata": doc.metadata, "given": {},
            "sha256": hashlib.sha256(doc.text.encode()).hexdigest()}


def uploaded_document(entry: dict[str, Any], parsed: ParsedDocument) -> Document:
    return Document(entry["doc_id"], entry["metadata"].get("title") or parsed.title, parsed.text,
                    dict(entry["metadata"]), entry.get("filename", ""))


def merge_with_corpus(corpus_docs: list[Document], catalog: dict[str, Any], kb: KnowledgeStore
                      ) -> tuple[list[Document], dict[str, Any]]:
    """The documents of a full rebuild: the corpus folder's, minus those deleted through the admin API,
    with uploads (read again from their originals) replacing or joining them; and the catalog for it."""
    suppressed = set(catalog.get("suppressed", []))
    uploads = {d: e for d, e in catalog.get("documents", {}).items() if e.get("origin") == "upload"}
    docs: dict[str, Document] = {d.doc_id: d for d in corpus_docs if d.doc_id not in suppressed}
    entries: dict[str, dict[str, Any]] = {d: corpus_entry(doc) for d, doc in docs.items()}
    for doc_id, entry in uploads.items():
        parsed = parse_upload(entry["filename"], kb.get_blob(entry["blob"]), max_bytes=1 << 40)
        docs[doc_id] = uploaded_document(entry, parsed)
        entries[doc_id] = entry
    new_catalog = {"version": int(catalog.get("version", 0)), "documents": entries, "suppressed": sorted(suppressed),
                   "faq": dict(catalog.get("faq", {}))}
    return sorted(docs.values(), key=lambda d: d.doc_id), new_catalog


# --------------------------------------------------------------------------- the operations


class KnowledgeBase:
    """Changes to the published knowledge base (see the module docstring)."""

    def __init__(self, settings: Settings, embedder: Embedder, kb_store: KnowledgeStore | None = None):
        self.settings = settings
        self.embedder = embedder
        self.store = kb_store or LocalKnowledgeStore(settings)
        self._lexicons: dict[Path, Lexicon] = {}  # base folder → its vocabulary (a base never changes)

    def base_lexicon(self, base_dir: Path) -> Lexicon:
        """The vocabulary of a base index, which the questions of pairs added over it are read against: the
        one the QA side reads asked questions with (``qa.live`` keeps the base's lexicon for every delta)."""
        base_dir = Path(base_dir).resolve()
        lexicon = self._lexicons.get(base_dir)
        if lexicon is None:
            # A base built before the vocabulary file was written: counted from its rows, once.
            lexicon = read_vocabulary(base_dir) or lexicon_of(store._read_jsonl(base_dir / store.CHUNKS))
            self._lexicons = {base_dir: lexicon}
        return lexicon

    # -- reading --------------------------------------------------------------------------------
    def documents(self, today: date | None = None) -> dict[str, Any]:
        path = self.store.current_path()
        catalog = read_catalog(path)
        manifest = store.read_manifest(path) if path else None
        docs = []
        for doc_id, e in sorted(catalog["documents"].items()):
            docs.append({"doc_id": doc_id, "title": e["title"], "origin": e["origin"], "filename": e.get("filename"),
                         "metadata": e["metadata"], "chunks": e.get("chunks"), "added": e.get("added"),
                         "updated": e.get("updated"),
                         "status": "expired" if is_expired(e["metadata"], today) else "active"})
        return {"version": (manifest or {}).get("kb_version", str(catalog.get("version", 0))), "documents": docs,
                "suppressed": catalog.get("suppressed", [])}

    # -- changes --------------------------------------------------------------------------------
    def add(self, filename: str, data: bytes, metadata: dict[str, Any] | None = None) -> ChangeResult:
        given = _validated(metadata)
        parsed = parse_upload(filename, data, max_bytes=self.settings.max_upload_bytes)
        doc_id = upload_id(parsed.sha256)
        with self.store.locked():
            path = self.store.current_path()
            catalog = read_catalog(path)
            if doc_id in catalog["documents"]:
                e = catalog["documents"][doc_id]
                version = (store.read_manifest(path) or {}).get("kb_version", "")
                return ChangeResult(doc_id, e["title"], int(e.get("chunks") or 0), e["metadata"], version, False)
            return self._publish_upload(path, catalog, doc_id, filename, data, parsed, given, replacing=False)

    def replace(self, doc_id: str, filename: str, data: bytes, metadata: dict[str, Any] | None = None
                ) -> ChangeResult:
        given = _validated(metadata)
        parsed = parse_upload(filename, data, max_bytes=self.settings.max_upload_bytes)
        with self.store.locked():
            path = self.store.current_path()
            catalog = read_catalog(path)
            if doc_id not in catalog["documents"]:
                raise _not_found(doc_id)
            old = catalog["documents"][doc_id]
            # Metadata typed by hand earlier is kept unless this request gives new values.
            given = {**old.get("given", {}), **given}
            return self._publish_upload(path, catalog, doc_id, filename, data, parsed, given, replacing=True)

    def remove(self, doc_id: str) -> ChangeResult:
        with self.store.locked():
            path = self.store.current_path()
            catalog = read_catalog(path)
            entry = catalog["documents"].get(doc_id)
            if entry is None:
                raise _not_found(doc_id)
            catalog = {**catalog, "documents": {d: e for d, e in catalog["documents"].items() if d != doc_id}}
            if entry["origin"] == "corpus":  # stays deleted when the corpus folder is read again
                catalog["suppressed"] = sorted({*catalog.get("suppressed", []), doc_id})
            version, _, _ = self._publish(path, catalog, remove={doc_id}, add=[])
            return ChangeResult(doc_id, entry["title"], 0, entry["metadata"], version, True)

    # -- internals --------------------------------------------------------------------------------
    def _publish_upload(self, path: Path | None, catalog: dict[str, Any], doc_id: str, filename: str, data: bytes,
                        parsed: ParsedDocument, given: dict[str, Any], *, replacing: bool) -> ChangeResult:
        _check_rules(doc_id, given.get("rules"), parsed.text)
        detected = detect_metadata(parsed.title, parsed.text, parsed.page)
        metadata = merge_metadata(given, detected)
        metadata.setdefault("title", parsed.title)
        blob = self.store.put_blob(data)
        now = time.strftime("%Y-%m-%dT%H:%M:%S%z")
        old = catalog["documents"].get(doc_id, {})
        entry = {"doc_id": doc_id, "origin": "upload", "title": metadata["title"], "filename": filename,
                 "format": parsed.format, "metadata": metadata, "given": given, "detected": detected,
                 "sha256": parsed.sha256, "blob": blob, "added": old.get("added", now), "updated": now}
        doc = Document(doc_id, metadata["title"], parsed.text, metadata, filename)
        catalog = {**catalog, "documents": {**catalog["documents"], doc_id: entry}}
        version, n_chunks, embedded = self._publish(path, catalog, remove={doc_id} if replacing else set(), add=[doc])
        return ChangeResult(doc_id, metadata["title"], n_chunks, metadata, version, True, embedded)

    def _publish(self, path: Path | None, catalog: dict[str, Any], *, remove: set[str], add: list[Document],
                 add_faq: dict[str, dict[str, Any]] | None = None) -> tuple[str, int, int]:
        """Write and publish a delta version: the previous delta minus ``remove``, plus the rows of ``add``
        (documents) and ``add_faq`` (pairs). Returns (version, rows added, rows embedded by the model)."""
        if path is None:
            raise KnowledgeError(503, "index_missing", "索引不存在,请先运行 python -m ingest",
                                 "no index yet; build it with `python -m ingest` first")
        add_faq = add_faq or {}
        manifest = store.read_manifest(path) or {}
        base_dir = store.base_of(path, manifest) or path
        base_manifest = store.read_manifest(base_dir) or {}
        if base_manifest.get("model_signature") != self.embedder.signature:
            raise KnowledgeError(409, "model_mismatch", "索引与当前模型不一致,请先运行 python -m ingest --force",
                                 "the index was built with another model; rebuild it with `python -m ingest --force`")
        for doc in add:
            _check_doc_id(doc.doc_id)
        previous = read_delta(path) if store.base_of(path, manifest) is not None else None
        touched = remove | {d.doc_id for d in add} | set(add_faq)
        keep = [i for i, c in enumerate(previous.chunks) if c["doc_id"] not in touched] if previous else []
        documents = [doc for d, doc in (previous.documents.items() if previous else []) if d not in touched]
        records = [previous.chunks[i] for i in keep] if previous else []
        tokens = [previous.tokens[i] for i in keep] if previous else []
        vectors = [previous.vectors[keep]] if previous is not None and keep else []
        removed = set(previous.removed if previous else ()) | (touched & _base_doc_ids(base_dir))
        new = index_rows(add, add_faq, self.settings,
                         lexicon=self.base_lexicon(base_dir) if add_faq else None)
        embedded = 0
        if new.records:
            cache = EmbeddingCache(Path(self.settings.cache_dir) / "embeddings.sqlite")
            try:
                new_vecs, embedded = embed_with_cache(self.embedder, new.embed_texts, cache, progress=False)
            finally:
                cache.close()
            vectors.append(new_vecs)
            records.extend(new.records)
            tokens.extend(tokenize(t) for t in new.bm25_texts)
        documents.extend(new.documents)
        dim = int(base_manifest.get("dim", self.embedder.dim))
        all_vectors = np.vstack(vectors) if vectors else np.zeros((0, dim), dtype=np.float32)
        kb_version = int(catalog.get("version", 0)) + 1
        catalog = {**catalog, "version": kb_version}
        for doc in add:
            catalog["documents"][doc.doc_id]["chunks"] = sum(1 for r in new.records if r["doc_id"] == doc.doc_id)
        staging = store.new_staging(self.settings.index_dir)
        write_delta(staging, documents, records, all_vectors, tokens, removed)
        (staging / CATALOG).write_text(json.dumps(catalog, ensure_ascii=False, indent=1), encoding="utf-8")
        delta_manifest = {
            "format": store.FORMAT_VERSION, "kind": "delta", "base": os.path.relpath(base_dir, staging),
            "model": base_manifest.get("model"), "model_signature": base_manifest.get("model_signature"),
            "dim": dim, "documents": len(catalog["documents"]), "faq_pairs": len(catalog.get("faq", {})),
            "delta_chunks": len(records), "removed": len(removed), "kb_version": str(kb_version),
            "index_hash": f"{base_manifest.get('index_hash', '')}+{kb_version}",
            "bm25_avg_len": base_manifest.get("bm25_avg_len"), "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        }
        store.publish(self.settings.index_dir, staging, delta_manifest)
        return str(kb_version), len(new.records), embedded

    # -- FAQ pairs ----------------------------------------------------------------------------
    def faq_pairs(self) -> dict[str, dict[str, Any]]:
        return dict(read_catalog(self.store.current_path()).get("faq", {}))

    def import_faq(self, filename: str, data: bytes, *, skip_bad: bool = False) -> FAQChange:
        """Add or update the pairs of a FAQ file. A file with bad rows changes nothing unless ``skip_bad``.

        A pair whose question another pair already asks with a different answer is a bad row too."""
        imported = read_faq(filename, data)
        return self.add_pairs(imported.pairs, [_row_problem(e) for e in imported.errors], skip_bad=skip_bad)

    def add_pairs(self, pairs: list[FAQPair], problems: list[dict[str, Any]] | None = None, *,
                  skip_bad: bool = False) -> FAQChange:
        problems = list(problems or [])
        with self.store.locked():
            path = self.store.current_path()
            catalog = read_catalog(path)
            current = dict(catalog.get("faq", {}))
            owner = {question_key(q): pid for pid, p in current.items() for q in pair_questions(p)}
            changed: dict[str, dict[str, Any]] = {}
            unchanged = 0
            for pair in pairs:
                record = pair_record(pair)
                clash = next((owner[question_key(q)] for q in pair.all_questions
                              if owner.get(question_key(q), pair.pair_id) != pair.pair_id), None)
                if clash is not None:
                    problems.append({"line": None, "field": "question", "code": "asked_by_another_pair",
                                     "message_zh": f"问题“{pair.question[:30]}”与已有问答 {clash} 的问法相同",
                                     "message_en": f"a question of {pair.pair_id} is already asked by pair {clash}"})
                    continue
                old = current.get(pair.pair_id)
                if old is not None and _same_pair(old, record):
                    unchanged += 1
                    continue
                record["added"] = (old or {}).get("added", _now())
                record["updated"] = _now()
                changed[pair.pair_id] = record
            if problems and not skip_bad:
                return FAQChange(0, 0, unchanged, problems, (store.read_manifest(path) or {}).get("kb_version", ""),
                                 applied=False)
            if not changed:
                return FAQChange(0, 0, unchanged, problems, (store.read_manifest(path) or {}).get("kb_version", ""))
            added = sum(1 for pid in changed if pid not in current)
            catalog = {**catalog, "faq": {**current, **changed}}
            version, _, _ = self._publish(path, catalog, remove=set(), add=[], add_faq=changed)
            return FAQChange(added, len(changed) - added, unchanged, problems, version)

    def add_similar(self, pair_id: str, question: str) -> dict[str, Any]:
        """One more way of asking an existing pair, live at once."""
        question = " ".join(str(question).split())
        if not question or len(question) > FAQLimits().max_question_chars:
            raise KnowledgeError(422, "bad_question", "相似问法不能为空或过长",
                                 "the similar question is empty or too long")
        return self._change_pair(pair_id, lambda p: {**p, "similar_questions": [*p.get("similar_questions", []),
                                                                                question]})

    def replace_pair(self, pair_id: str, question: str, answer: str, similar_questions: list[str] | None = None,
                     region: str | None = None, insurance_type: str | None = None,
                     source: str | None = None) -> dict[str, Any]:
        if not str(question).strip() or not str(answer).strip():
            raise KnowledgeError(422, "bad_pair", "问题和答案都不能为空", "question and answer must not be empty")
        limits = FAQLimits()
        if len(question) > limits.max_question_chars or len(answer) > limits.max_answer_chars:
            raise KnowledgeError(422, "bad_pair", "问题或答案过长", "question or answer too long")
        new = {"question": question.strip(), "answer": answer.strip(),
               "similar_questions": [q.strip() for q in (similar_questions or []) if q.strip()],
               "region": region, "insurance_type": insurance_type, "source": source}
        return self._change_pair(pair_id, lambda p: {**p, **new})

    def remove_pair(self, pair_id: str) -> str:
        with self.store.locked():
            path = self.store.current_path()
            catalog = read_catalog(path)
            if pair_id not in catalog.get("faq", {}):
                raise _not_found(pair_id)
            catalog = {**catalog, "faq": {p: v for p, v in catalog["faq"].items() if p != pair_id}}
            version, _, _ = self._publish(path, catalog, remove={pair_id}, add=[])
            return version

    def _change_pair(self, pair_id: str, update) -> dict[str, Any]:
        with self.store.locked():
            path = self.store.current_path()
            catalog = read_catalog(path)
            faq = dict(catalog.get("faq", {}))
            if pair_id not in faq:
                raise _not_found(pair_id)
            pair = update(dict(faq[pair_id]))
            pair["similar_questions"] = list(dict.fromkeys(
                q for q in pair.get("similar_questions", []) if question_key(q) != question_key(pair["question"])))
            others = {question_key(q) for pid, p in faq.items() if pid != pair_id for q in pair_questions(p)}
            if any(question_key(q) in others for q in pair_questions(pair)):
                raise KnowledgeError(409, "asked_by_another_pair", "这个问法已属于另一条问答",
                                     "that question already belongs to another pair")
            pair["updated"] = _now()
            faq[pair_id] = pair
            version, _, _ = self._publish(path, {**catalog, "faq": faq}, remove={pair_id}, add=[],
                                          add_faq={pair_id: pair})
            return {"pair_id": pair_id, **pair, "version": version}


@dataclass(frozen=True)
class FAQChange:
    added: int
    updated: int
    unchanged: int
    problems: list[dict[str, Any]]
    version: str
    applied: bool = True


def pair_record(pair: FAQPair) -> dict[str, Any]:
    return {"question": pair.question, "answer": pair.answer, "similar_questions": list(pair.similar_questions),
            "region": pair.region, "insurance_type": pair.insurance_type, "source": pair.source}


def _same_pair(old: dict[str, Any], new: dict[str, Any]) -> bool:
    return all(old.get(k) == new.get(k) for k in ("question", "answer", "similar_questions", "region",
                                                  "insurance_type", "source"))


def _row_problem(e: Any) -> dict[str, Any]:
    return {"line": e.line, "field": e.field, "code": getattr(e, "code", ""), "message_zh": e.message_zh,
            "message_en": e.message_en}


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")


def _base_doc_ids(base_dir: Path) -> set[str]:
    ids = set()
    with open(base_dir / store.DOCUMENTS, encoding="utf-8") as f:
        for line in f:
            # Only the id is needed; the text can be long.
            at = line.find('"doc_id": "')
            if at >= 0:
                ids.add(line[at + 11 : line.index('"', at + 11)])
    return ids


def _check_rules(doc_id: str, records: Any, text: str) -> None:
    """Rules given with a document must be valid rules whose quotes occur in its cleaned text."""
    if not records:
        return
    try:
        book = RuleBook.from_records([{**r, "doc_id": doc_id} for r in records])
    except (ValueError, TypeError) as exc:
        raise KnowledgeError(422, "bad_rules", f"计算规则无效:{exc}", f"invalid rules: {exc}") from exc
    _, problems = verify(book, {doc_id: text})
    if problems:
        raise KnowledgeError(422, "rule_quote_missing", f"计算规则的引文不在文档正文中:{problems[0]}",
                             f"a rule's quote is not in the document's text: {problems[0]}")


def _validated(metadata: dict[str, Any] | None) -> dict[str, Any]:
    try:
        return validate_metadata(metadata or {})
    except ValueError as exc:
        raise KnowledgeError(422, "bad_metadata", f"元数据无效:{exc}", f"invalid metadata: {exc}") from exc


def _check_doc_id(doc_id: str) -> None:
    if not DOC_ID_RE.match(doc_id):
        raise KnowledgeError(422, "bad_doc_id", f"文档编号无效:{doc_id[:40]}", f"invalid doc_id {doc_id[:40]!r}")


def _not_found(doc_id: str) -> KnowledgeError:
    return KnowledgeError(404, "unknown_document", "没有这个文档", f"no document with id {doc_id[:64]!r}")


__all__ = ["ChangeResult", "KnowledgeBase", "KnowledgeError", "KnowledgeStore", "LocalKnowledgeStore", "UploadError",
           "is_expired", "merge_with_corpus", "read_catalog"]
