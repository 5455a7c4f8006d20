"""Baselines the benchmarks compare yibao-qa with.

``LangChainBaseline`` is the plain recipe a user would otherwise write: LangChain's
``RecursiveCharacterTextSplitter(chunk_size=500, chunk_overlap=50)`` and
``FAISS.from_documents`` over the *same* m3e-small model as the product, then
``similarity_search_with_score``. The model is the project's ``ingest.embed.Embedder``
wrapped as a LangChain ``Embeddings`` (local files only, no hub download), so any
difference in the results comes from chunking and retrieval, not from the model.

Each document becomes one LangChain ``Document`` whose text is ``title + "\\n" + text``
(what a user gets by loading a file whose first line is its title) with the doc id in
its metadata. No cleaning, no headings, no BM25.

The BM25-only and dense-only baselines are *not* separate implementations: they are
the project's own retriever with one side switched off (``ABLATIONS``), on the same
index, via :func:`variant`.

    >>> base = LangChainBaseline(Embedder(get_settings()))
    >>> stats = base.build([("faq-00001", "医保断缴怎么办", "……")])
    >>> base.search("医保断了怎么补", k=5)   # [(doc_id, chunk_text, L2 distance), …]
"""

from __future__ import annotations

import copy
import dataclasses
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_text_splitters import RecursiveCharacterTextSplitter

from ingest.build import embed_with_cache
from ingest.cache import EmbeddingCache, text_key
from ingest.embed import Embedder

if TYPE_CHECKING:
    from qa.service import QAService

CHUNK_SIZE = 500
CHUNK_OVERLAP = 50

# name -> settings update applied to the project's retriever (same index, same code path).
HYBRID = "hybrid (ours)"
BM25_ONLY = "BM25 only"
DENSE_ONLY = "dense only"
ABLATIONS: dict[str, dict[str, float]] = {BM25_ONLY: {"dense_weight": 0.0}, DENSE_ONLY: {"bm25_weight": 0.0}}


def _faiss_class():
    # langchain-community warns on import that it is being sunset; the FAISS wrapper still works.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from langchain_community.vectorstores import FAISS
    return FAISS


class EmbedderEmbeddings(Embeddings):
    """The project's ``Embedder`` as LangChain ``Embeddings`` (normalised m3e vectors).

    With a ``cache_path`` the document vectors go through the project's embedding cache
    (same keys as the product, so the vectors are bit-identical to a fresh encode); that
    only makes benchmark re-runs fast and is off by default, as in the plain recipe. With
    ``read_cache=False`` every text goes through the model (a cold, timed build) and the
    vectors are still written to the cache for later runs.
    """

    def __init__(self, embedder: Embedder, cache_path: Path | None = None, *, read_cache: bool = True):
        self.embedder = embedder
        self.cache_path = cache_path
        self.read_cache = read_cache
        self.embedded = 0  # texts that actually went through the model in embed_documents

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        cache = EmbeddingCache(self.cache_path) if self.cache_path else None
        try:
            if cache and not self.read_cache:
                vectors = self.embedder.encode(list(texts))
                misses = len(texts)
                cache.put_many({text_key(self.embedder.signature, t): v for t, v in zip(texts, vectors)})
            else:
                vectors, misses = embed_with_cache(self.embedder, list(texts), cache, progress=False)
        finally:
            if cache:
                cache.close()
        self.embedded += misses
        return vectors.tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.embedder.encode([text])[0].tolist()


@dataclass(frozen=True)
class BaselineStats:
    documents: int
    chunks: int
    seconds: float  # split + embed + FAISS build
    embedded: int  # chunks that went through the model (the rest came from the cache)


class LangChainBaseline:
    """Split, embed, index with LangChain; ``search`` returns ``(doc_id, chunk_text, score)``.

    ``score`` is what ``similarity_search_with_score`` returns for LangChain's default
    FAISS store: the L2 distance between normalised vectors, so **lower is closer** and
    the ranking is the cosine ranking.
    """

    def __init__(self, embedder: Embedder, *, cache_path: Path | None = None, read_cache: bool = True,
                 chunk_size: int = CHUNK_SIZE, chunk_overlap: int = CHUNK_OVERLAP):
        self.embeddings = EmbedderEmbeddings(embedder, cache_path, read_cache=read_cache)
        self.splitter = RecursiveCharacterTextSplitter(chunk_size=chunk_size, chunk_overlap=chunk_overlap)
        self.store = None
        self.chunks: list[Document] = []  # what was indexed, in order; metadata carries doc_id and title
        self.stats: BaselineStats | None = None

    def build(self, docs: Sequence[tuple[str, str, str]]) -> BaselineStats:
        """Index ``(doc_id, title, text)`` triples; returns counts and wall-clock seconds."""
        if not docs:
            raise ValueError("LangChainBaseline.build needs at least one document")
        faiss_store = _faiss_class()
        t0 = time.perf_counter()
        before = self.embeddings.embedded
        lc_docs = [Document(page_content=f"{title}\n{text}", metadata={"doc_id": doc_id, "title": title})
                   for doc_id, title, text in docs]
        self.chunks = self.splitter.split_documents(lc_docs)
        self.store = faiss_store.from_documents(self.chunks, self.embeddings)
        self.stats = BaselineStats(len(docs), len(self.chunks), time.perf_counter() - t0,
                                   self.embeddings.embedded - before)
        return self.stats

    def search(self, query: str, k: int) -> list[tuple[str, str, float]]:
        if self.store is None:
            raise RuntimeError("call build() before search()")
        return [(d.metadata["doc_id"], d.page_content, float(score))
                for d, score in self.store.similarity_search_with_score(query, k=k)]


def variant(svc: QAService, *, embedder: Embedder | None = None, **update: object) -> QAService:
    """The same loaded index and model with some retrieval settings changed (e.g. ``dense_weight=0``).

    A shallow copy with its own settings and ``HybridRetriever``: building a whole ``QAService``
    would re-tokenise every chunk for the answer composer's term weights, which search never uses.
    ``embedder`` swaps the query encoder (same model; e.g. one that memoises query vectors).
    """
    from qa.retrieve import HybridRetriever

    v = copy.copy(svc)
    v.settings = svc.settings.model_copy(update=update)
    if embedder is not None:
        v.embedder = embedder
    v.live = dataclasses.replace(svc.live, retriever=HybridRetriever(svc.data, v.embedder, v.settings,
                                                                       terms=svc.retriever.terms))
    return v


def ablations(svc: QAService) -> dict[str, QAService]:
    """``{"hybrid (ours)": svc, "BM25 only": …, "dense only": …}`` over one index."""
    return {HYBRID: svc, **{name: variant(svc, **update) for name, update in ABLATIONS.items()}}
