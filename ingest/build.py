"""corpus folder → index folder: clean, chunk, embed (cached), FAISS + BM25, publish atomically."""

from __future__ import annotations

import hashlib
import json
import logging
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import bm25s
import faiss
import numpy as np
from tqdm import tqdm

from . import store
from .cache import EmbeddingCache, text_key
from .chunk import HEADING_SEP, Chunk, chunk_document
from .corpus import CorpusError, Document, load_corpus
from .embed import Embedder
from .faq_units import is_faq, pair_document, pair_rows
from .lexicon import Lexicon, lexicon_of, write_vocabulary
from .rules import load_rules, verify
from .segment import CATALOG
from .settings import Settings, get_settings
from .tokenize import tokenize

log = logging.getLogger("yibao.ingest")
RULES_FILE_NAME = "rules.toml"


@dataclass(frozen=True)
class BuildReport:
    index_dir: str
    version_dir: str
    documents: int
    chunks: int
    embedded: int  # chunks actually run through the model (the rest came from the cache)
    skipped: bool  # True when the index was already up to date
    seconds: float
    index_hash: str
    # Calculator rules (corpus/rules.toml) left out: their article is missing or lacks their quote.
    rule_problems: tuple[str, ...] = ()


def embedding_text(chunk: Chunk) -> str:
    """What the model sees: title and heading path give a chunk its context."""
    head = chunk.title + (HEADING_SEP + chunk.heading if chunk.heading else "")
    return f"{head}\n{chunk.text}"


def bm25_text(chunk: Chunk) -> str:
    return f"{chunk.title} {chunk.heading} {chunk.text}"


def chunk_records(chunks: list[Chunk]) -> list[dict[str, Any]]:
    """Chunks as the index stores them (chunks.jsonl)."""
    return [{**asdict(c), "heading_path": list(c.heading_path), "heading": c.heading} for c in chunks]


@dataclass
class Rows:
    """What the index holds for some documents and FAQ pairs: one record per row, with what the model
    embeds and what BM25 indexes for it, and the document records (articles and pairs)."""

    records: list[dict[str, Any]]
    embed_texts: list[str]
    bm25_texts: list[str]
    documents: list[dict[str, Any]]
    # The vocabulary the pairs' questions were read against (that of these rows unless one was given).
    lexicon: Lexicon | None = None


def index_rows(docs: list[Document], faq: dict[str, dict[str, Any]], settings: Settings,
               progress: bool = False, lexicon: Lexicon | None = None) -> Rows:
    """The rows of ``docs`` and ``faq``. Each pair's questions are read against ``lexicon`` — a change's
    base index's vocabulary — or, for a whole index, against the vocabulary of these rows: the articles'
    chunks, or the pairs as written when there are no articles (the rows the QA side counts)."""
    chunks: list[Chunk] = []
    for doc in tqdm(docs, desc="chunking", unit="doc", disable=not progress or len(docs) < 50):
        chunks.extend(chunk_document(doc.doc_id, doc.title, doc.text, min_chars=settings.chunk_min_chars,
                                     target_chars=settings.chunk_target_chars, max_chars=settings.chunk_max_chars))
    rows = Rows(chunk_records(chunks), [embedding_text(c) for c in chunks], [bm25_text(c) for c in chunks],
                [{"doc_id": d.doc_id, "title": d.title, "text": d.text, "metadata": d.metadata, "source": d.source}
                 for d in docs])
    if lexicon is None:
        written = rows.records or [rec for pair_id, pair in sorted(faq.items())
                                   for rec, _, _ in pair_rows(pair_id, pair)]
        lexicon = lexicon_of(written)
    rows.lexicon = lexicon
    for pair_id, pair in sorted(faq.items()):
        for rec, emb, bm in pair_rows(pair_id, pair, read=lexicon.correct):
            rows.records.append(rec)
            rows.embed_texts.append(emb)
            rows.bm25_texts.append(bm)
        rows.documents.append(pair_document(pair_id, pair))
    return rows


def _hash(obj: Any) -> str:
    return hashlib.sha256(json.dumps(obj, ensure_ascii=False, sort_keys=True).encode()).hexdigest()


def corpus_hash(docs: list[Document]) -> str:
    return _hash([[d.doc_id, d.title, d.text, d.metadata] for d in docs])


# The code that shapes chunks and tokens is part of the index's identity: changing a
# cleaning rule or a synonym must trigger a rebuild even if the corpus is unchanged.
_PIPELINE_FILES = ("clean.py", "chunk.py", "tokenize.py", "userdict.txt", "corpus.py", "faq_units.py", "lexicon.py",
                   "topics.py")


def pipeline_hash() -> str:
    here = Path(__file__).parent
    return hashlib.sha256(b"".join((here / f).read_bytes() for f in _PIPELINE_FILES)).hexdigest()


def settings_hash(settings: Settings, model_signature: str) -> str:
    keys = ("chunk_min_chars", "chunk_target_chars", "chunk_max_chars", "ann_threshold")
    return _hash({"model": model_signature, "format": store.FORMAT_VERSION, "pipeline": pipeline_hash(),
                  **{k: getattr(settings, k) for k in keys}})


def embed_with_cache(
    embedder: Embedder, texts: list[str], cache: EmbeddingCache | None, *, progress: bool
) -> tuple[np.ndarray, int]:
    """Vectors for ``texts``; only cache misses go through the model. Returns (vectors, misses)."""
    keys = [text_key(embedder.signature, t) for t in texts]
    found = cache.get_many(keys, embedder.dim) if cache else {}
    missing = sorted({k: t for k, t in zip(keys, texts) if k not in found}.items(), key=lambda kv: len(kv[1]))
    batch = max(1, embedder.settings.embed_batch_size)
    new: dict[str, np.ndarray] = {}
    # Length-sorted batches keep padding (and time) down; progress counts chunks.
    with tqdm(total=len(missing), desc="embedding", unit="chunk", disable=not progress or not missing) as bar:
        for i in range(0, len(missing), batch):
            part = missing[i : i + batch]
            vecs = embedder.encode([t for _, t in part])
            new.update({k: v for (k, _), v in zip(part, vecs)})
            bar.update(len(part))
    if cache and new:
        cache.put_many(new)
    found.update(new)
    out = np.stack([found[k] for k in keys]) if keys else np.zeros((0, embedder.dim), dtype=np.float32)
    return np.ascontiguousarray(out, dtype=np.float32), len(missing)


def check_corpus_rules(corpus_dir: Path, docs: list[Document]) -> list[str]:
    """Each calculator rule of ``<corpus>/rules.toml`` must quote its article's cleaned text verbatim;
    the rules that do not are reported (and not used). A malformed rules file is a CorpusError."""
    path = Path(corpus_dir) / RULES_FILE_NAME
    if not path.is_file():
        return []
    try:
        book = load_rules(path)
    except ValueError as exc:
        raise CorpusError(str(exc)) from exc
    _, problems = verify(book, {d.doc_id: d.text for d in docs})
    for line in problems:
        log.warning("%s: %s", path, line)
    return problems


def build_index(
    corpus_dir: Path | None = None,
    index_dir: Path | None = None,
    *,
    settings: Settings | None = None,
    embedder: Embedder | None = None,
    force: bool = False,
    progress: bool = True,
    use_cache: bool = True,
    faq: dict[str, dict[str, Any]] | None = None,
) -> BuildReport:
    """Build (or confirm up to date) the index for a corpus folder.

    The knowledge base's uploads and FAQ pairs (from the current catalog) are indexed too; ``faq``
    replaces the FAQ pairs (the public FAQ benchmark builds an index of pairs only).

    Raises ``CorpusError`` for an unreadable source file and ``ModelError`` for a
    missing model; in both cases the existing index is left untouched.
    """
    t0 = time.perf_counter()
    settings = settings or get_settings()
    corpus_dir = Path(corpus_dir or settings.corpus_dir)
    index_dir = Path(index_dir or settings.index_dir)

    from .kb import LocalKnowledgeStore, merge_with_corpus, read_catalog

    current = index_dir.resolve() if index_dir.exists() else None
    # Documents uploaded through the admin API (and corpus documents it deleted) survive a rebuild.
    corpus_docs = load_corpus(corpus_dir, allow_empty=bool(faq))
    docs, catalog = merge_with_corpus(corpus_docs, read_catalog(current),
                                      LocalKnowledgeStore(settings.model_copy(update={"index_dir": index_dir})))
    if faq is not None:
        catalog["faq"] = dict(faq)
    rule_problems = check_corpus_rules(corpus_dir, docs)
    rows = index_rows(docs, catalog.get("faq", {}), settings, progress)

    embedder = embedder or Embedder(settings)
    c_hash = _hash([corpus_hash(docs), catalog.get("faq", {})])
    s_hash = settings_hash(settings, embedder.signature)
    index_hash = _hash([c_hash, s_hash])
    old = store.read_manifest(index_dir)
    if not force and old and old.get("index_hash") == index_hash:
        try:
            store.load_index(index_dir)
        except store.IndexLoadError as exc:
            log.warning("existing index is damaged (%s); rebuilding", exc)
        else:
            return BuildReport(str(index_dir), str(index_dir.resolve()), len(rows.documents), len(rows.records), 0,
                               True, time.perf_counter() - t0, index_hash, tuple(rule_problems))

    cache = EmbeddingCache(settings.cache_dir / "embeddings.sqlite") if use_cache else None
    try:
        vectors, embedded = embed_with_cache(embedder, rows.embed_texts, cache, progress=progress)
    finally:
        if cache:
            cache.close()

    staging = store.new_staging(index_dir)
    store.write_jsonl(staging / store.DOCUMENTS, rows.documents)
    store.write_jsonl(staging / store.CHUNKS, rows.records)
    per_doc: dict[str, int] = {}
    for c in rows.records:
        per_doc[c["doc_id"]] = per_doc.get(c["doc_id"], 0) + 1
    for doc_id, entry in catalog["documents"].items():
        entry["chunks"] = per_doc.get(doc_id, 0)
    catalog["version"] = int(catalog.get("version", 0)) + 1
    (staging / CATALOG).write_text(json.dumps(catalog, ensure_ascii=False, indent=1), encoding="utf-8")
    np.save(staging / store.EMBEDDINGS, vectors)
    if rows.lexicon is not None:
        write_vocabulary(staging, rows.lexicon)
    dense, dense_kind = store.build_dense_index(vectors, settings.ann_threshold)
    faiss.write_index(dense, str(staging / store.DENSE))

    # bm25s indexes the article rows (they come first); FAQ rows are scored at query time with the
    # articles' word statistics (qa.retrieve), so adding a FAQ list never changes how articles rank.
    # An index of FAQ pairs only (the public FAQ benchmark) indexes them all.
    n_articles = sum(1 for r in rows.records if not is_faq(r)) or len(rows.records)
    retriever = bm25s.BM25()
    bm25_tokens = [tokenize(t) for t in rows.bm25_texts[:n_articles]]
    retriever.index(bm25_tokens, show_progress=False)
    retriever.save(str(staging / store.BM25_DIR), show_progress=False)

    manifest = {
        "format": store.FORMAT_VERSION,
        "model": embedder.name,
        "model_signature": embedder.signature,
        "dim": embedder.dim,
        "documents": len(rows.documents),
        "chunks": len(rows.records),
        "dense_index": dense_kind,
        "corpus_hash": c_hash,
        "settings_hash": s_hash,
        "index_hash": index_hash,
        "kb_version": str(catalog["version"]),
        # BM25 statistics a later change's delta is scored with (ingest.segment).
        "bm25_avg_len": sum(map(len, bm25_tokens)) / max(1, len(bm25_tokens)),
        "bm25_rows": n_articles,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    store.publish(index_dir, staging, manifest)
    return BuildReport(str(index_dir), str(staging), len(rows.documents), len(rows.records), embedded, False,
                       time.perf_counter() - t0, index_hash, tuple(rule_problems))
