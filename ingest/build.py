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
from .corpus import Document, load_corpus
from .embed import Embedder
from .segment import CATALOG
from .settings import Settings, get_settings
from .tokenize import tokenize

log = logging.getLogger("yibao.ingest")


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


def embedding_text(chunk: Chunk) -> str:
    """What the model sees: title and heading path give a chunk its context."""
    head = chunk.title + (HEADING_SEP + chunk.heading if chunk.heading else "")
    return f"{head}\n{chunk.text}"


def bm25_text(chunk: Chunk) -> str:
    return f"{chunk.title} {chunk.heading} {chunk.text}"


def chunk_records(chunks: list[Chunk]) -> list[dict[str, Any]]:
    """Chunks as the index stores them (chunks.jsonl)."""
    return [{**asdict(c), "heading_path": list(c.heading_path), "heading": c.heading} for c in chunks]


def _hash(obj: Any) -> str:
    return hashlib.sha256(json.dumps(obj, ensure_ascii=False, sort_keys=True).encode()).hexdigest()


def corpus_hash(docs: list[Document]) -> str:
    return _hash([[d.doc_id, d.title, d.text, d.metadata] for d in docs])


# The code that shapes chunks and tokens is part of the index's identity: changing a
# cleaning rule or a synonym must trigger a rebuild even if the corpus is unchanged.
_PIPELINE_FILES = ("clean.py", "chunk.py", "tokenize.py", "userdict.txt", "corpus.py")


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


def build_index(
    corpus_dir: Path | None = None,
    index_dir: Path | None = None,
    *,
    settings: Settings | None = None,
    embedder: Embedder | None = None,
    force: bool = False,
    progress: bool = True,
    use_cache: bool = True,
) -> BuildReport:
    """Build (or confirm up to date) the index for a corpus folder.

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
    docs, catalog = merge_with_corpus(load_corpus(corpus_dir), read_catalog(current),
                                      LocalKnowledgeStore(settings.model_copy(update={"index_dir": index_dir})))
    chunks: list[Chunk] = []
    for doc in tqdm(docs, desc="chunking", unit="doc", disable=not progress or len(docs) < 50):
        chunks.extend(
            chunk_document(
                doc.doc_id,
                doc.title,
                doc.text,
                min_chars=settings.chunk_min_chars,
                target_chars=settings.chunk_target_chars,
                max_chars=settings.chunk_max_chars,
            )
        )

    embedder = embedder or Embedder(settings)
    c_hash, s_hash = corpus_hash(docs), settings_hash(settings, embedder.signature)
    index_hash = _hash([c_hash, s_hash])
    old = store.read_manifest(index_dir)
    if not force and old and old.get("index_hash") == index_hash:
        try:
            store.load_index(index_dir)
        except store.IndexLoadError as exc:
            log.warning("existing index is damaged (%s); rebuilding", exc)
        else:
            return BuildReport(str(index_dir), str(index_dir.resolve()), len(docs), len(chunks), 0, True,
                               time.perf_counter() - t0, index_hash)

    cache = EmbeddingCache(settings.cache_dir / "embeddings.sqlite") if use_cache else None
    try:
        vectors, embedded = embed_with_cache(embedder, [embedding_text(c) for c in chunks], cache, progress=progress)
    finally:
        if cache:
            cache.close()

    staging = store.new_staging(index_dir)
    store.write_jsonl(
        staging / store.DOCUMENTS,
        [{"doc_id": d.doc_id, "title": d.title, "text": d.text, "metadata": d.metadata, "source": d.source}
         for d in docs],
    )
    store.write_jsonl(staging / store.CHUNKS, chunk_records(chunks))
    per_doc: dict[str, int] = {}
    for c in chunks:
        per_doc[c.doc_id] = per_doc.get(c.doc_id, 0) + 1
    for doc_id, entry in catalog["documents"].items():
        entry["chunks"] = per_doc.get(doc_id, 0)
    catalog["version"] = int(catalog.get("version", 0)) + 1
    (staging / CATALOG).write_text(json.dumps(catalog, ensure_ascii=False, indent=1), encoding="utf-8")
    np.save(staging / store.EMBEDDINGS, vectors)
    dense, dense_kind = store.build_dense_index(vectors, settings.ann_threshold)
    faiss.write_index(dense, str(staging / store.DENSE))

    retriever = bm25s.BM25()
    bm25_tokens = [tokenize(bm25_text(c)) for c in chunks]
    retriever.index(bm25_tokens, show_progress=False)
    retriever.save(str(staging / store.BM25_DIR), show_progress=False)

    manifest = {
        "format": store.FORMAT_VERSION,
        "model": embedder.name,
        "model_signature": embedder.signature,
        "dim": embedder.dim,
        "documents": len(docs),
        "chunks": len(chunks),
        "dense_index": dense_kind,
        "corpus_hash": c_hash,
        "settings_hash": s_hash,
        "index_hash": index_hash,
        "kb_version": str(catalog["version"]),
        # BM25 statistics a later change's delta is scored with (ingest.segment).
        "bm25_avg_len": sum(map(len, bm25_tokens)) / max(1, len(bm25_tokens)),
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    store.publish(index_dir, staging, manifest)
    return BuildReport(str(index_dir), str(staging), len(docs), len(chunks), embedded, False,
                       time.perf_counter() - t0, index_hash)
