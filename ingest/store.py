"""The index folder: how it is written (atomically) and read back (verified).

``index_dir`` is a symlink to a versioned folder beside it. A build writes a new
version completely, then swaps the symlink with one ``rename``; a reader that
resolved the link keeps its version. A killed build leaves only an unused folder.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import bm25s
import faiss
import numpy as np

from .segment import CATALOG, BM25Stats, DeltaSegment, read_delta

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
DOCUMENTS = "documents.jsonl"
CHUNKS = "chunks.jsonl"
EMBEDDINGS = "embeddings.npy"
DENSE = "dense.faiss"
BM25_DIR = "bm25"
KEEP_VERSIONS = 2


class IndexLoadError(RuntimeError):
    """The index cannot be used; ``path`` names the file at fault."""

    def __init__(self, path: Path | str, reason: str):
        self.path = str(path)
        super().__init__(f"{path}: {reason}")


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _fsync_tree(folder: Path) -> None:
    for p in folder.rglob("*"):
        if p.is_file():
            with open(p, "rb") as f:
                os.fsync(f.fileno())


def versions_dir(index_dir: Path) -> Path:
    return index_dir.parent / f".{index_dir.name}.versions"


def write_jsonl(path: Path, records: list[dict[str, Any]]) -> None:
    with open(path, "w", encoding="utf-8") as f:
        for rec in records:
            f.write(json.dumps(rec, ensure_ascii=False) + "\n")


# ANN parameters, measured with `python -m eval bench --only scale` (see README "Performance").
# HNSW: M links per node and efConstruction set graph quality at build time; efSearch (saved in the
# index file) trades query time for recall.
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 80
HNSW_EF_SEARCH = 128
# Above IVF_THRESHOLD vectors an inverted file replaces HNSW: an HNSW graph of 1M × 512-d takes about an
# hour of CPU on two cores to build, IVF a few minutes. nlist ≈ 4·√n (a power of two: 4096 lists for 1M),
# spherical k-means on IVF_TRAIN_PER_LIST × nlist sampled vectors; nprobe lists (saved in the index
# file) are scanned per query.
IVF_THRESHOLD = 500_000
IVF_NPROBE = 128
IVF_TRAIN_PER_LIST = 20


def ivf_nlist(n: int) -> int:
    return int(2 ** round(np.log2(4 * max(n, 1) ** 0.5)))


def build_dense_index(vectors: np.ndarray, ann_threshold: int, *, m: int = HNSW_M,
                      ef_construction: int = HNSW_EF_CONSTRUCTION, ef_search: int = HNSW_EF_SEARCH,
                      ivf_threshold: int = IVF_THRESHOLD, nprobe: int = IVF_NPROBE) -> tuple[faiss.Index, str]:
    """The dense index for ``vectors`` (L2-normalised, so inner product is cosine), and its kind.

    ``"flat"`` (exact) up to ``ann_threshold`` vectors, ``"hnsw"`` above it, ``"ivf"`` (inverted file,
    exact distances within the probed lists) above ``max(ann_threshold, ivf_threshold)``. The kind is
    recorded in the manifest.
    """
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    n, dim = vectors.shape
    if n > max(ann_threshold, ivf_threshold):
        nlist = ivf_nlist(n)
        index = faiss.IndexIVFFlat(faiss.IndexFlatIP(dim), dim, nlist, faiss.METRIC_INNER_PRODUCT)
        index.cp.niter = 10
        index.cp.spherical = True  # unit centroids: inner-product assignment is not biased by centroid norms
        index.cp.max_points_per_centroid = IVF_TRAIN_PER_LIST
        sample = np.random.default_rng(0).choice(n, size=min(n, IVF_TRAIN_PER_LIST * nlist), replace=False)
        index.train(vectors[np.sort(sample)])
        index.nprobe = nprobe
        kind = "ivf"
    elif n > ann_threshold:
        index = faiss.IndexHNSWFlat(dim, m, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = ef_construction
        index.hnsw.efSearch = ef_search
        kind = "hnsw"
    else:
        index = faiss.IndexFlatIP(dim)
        kind = "flat"
    if n:
        index.add(vectors)
    return index, kind


def set_ef_search(index: faiss.Index, ef_search: int) -> None:
    """Change an HNSW index's efSearch in place (no-op for other kinds)."""
    hnsw = getattr(faiss.downcast_index(index), "hnsw", None)
    if hnsw is not None:
        hnsw.efSearch = ef_search


def set_nprobe(index: faiss.Index, nprobe: int) -> None:
    """Change an IVF index's nprobe in place (no-op for other kinds)."""
    ivf = faiss.try_extract_index_ivf(index)
    if ivf is not None:
        ivf.nprobe = nprobe


def recall_at_k(index: faiss.Index, exact: faiss.Index | np.ndarray, queries: np.ndarray, k: int = 10) -> float:
    """Mean fraction of the exact top-``k`` (by inner product) that ``index`` also returns.

    ``exact`` is an exact index over the same vectors, or the exact neighbour ids ``(nq, k)``.
    """
    queries = np.ascontiguousarray(queries, dtype=np.float32)
    truth = exact if isinstance(exact, np.ndarray) else exact.search(queries, k)[1]
    _, found = index.search(queries, k)
    hits = [len(set(t[t >= 0]) & set(f[f >= 0])) / max(1, int((t >= 0).sum())) for t, f in zip(truth, found)]
    return float(np.mean(hits)) if hits else 1.0


def publish(index_dir: Path, staging: Path, manifest: dict[str, Any]) -> Path:
    """Finish ``staging`` (manifest last, fsync) and make ``index_dir`` point at it atomically."""
    manifest = dict(manifest)
    manifest["files"] = {
        str(p.relative_to(staging)): _sha256(p) for p in sorted(staging.rglob("*")) if p.is_file()
    }
    (staging / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
    _fsync_tree(staging)

    index_dir = Path(index_dir)
    if index_dir.exists() and not index_dir.is_symlink():
        # A plain folder (older layout or hand-made): keep it as a version.
        legacy = versions_dir(index_dir) / f"legacy-{int(time.time())}"
        legacy.parent.mkdir(parents=True, exist_ok=True)
        index_dir.rename(legacy)
    link_tmp = index_dir.parent / f".{index_dir.name}.link-{os.getpid()}"
    if link_tmp.is_symlink() or link_tmp.exists():
        link_tmp.unlink()
    os.symlink(os.path.relpath(staging, index_dir.parent), link_tmp)
    os.replace(link_tmp, index_dir)
    _prune(index_dir, keep=staging)
    return staging


def base_of(version: Path, manifest: dict[str, Any] | None = None) -> Path | None:
    """The base folder a delta version builds on (None for a full version)."""
    manifest = manifest if manifest is not None else read_manifest(version)
    base = (manifest or {}).get("base")
    return (version / base).resolve() if base else None


def _prune(index_dir: Path, keep: Path) -> None:
    vdir = versions_dir(index_dir)
    finished = sorted(
        (p for p in vdir.iterdir() if p.is_dir() and (p / MANIFEST).is_file()), key=lambda p: p.stat().st_mtime
    )
    kept = [p for p in finished[-KEEP_VERSIONS:]] + [keep]
    # A kept delta version needs its base, however old.
    needed = {p.resolve() for p in kept} | {b for p in kept if (b := base_of(p)) is not None}
    for old in finished[:-KEEP_VERSIONS]:
        if old.resolve() not in needed:
            shutil.rmtree(old, ignore_errors=True)
    # Half-written folders of killed builds (no manifest) older than an hour.
    for p in vdir.iterdir():
        if p.is_dir() and not (p / MANIFEST).exists() and time.time() - p.stat().st_mtime > 3600:
            shutil.rmtree(p, ignore_errors=True)


def new_staging(index_dir: Path) -> Path:
    vdir = versions_dir(Path(index_dir))
    vdir.mkdir(parents=True, exist_ok=True)
    path = vdir / f"{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}-{time.monotonic_ns() % 10**6:06d}"
    path.mkdir()
    return path


def read_manifest(index_dir: Path) -> dict[str, Any] | None:
    path = Path(index_dir) / MANIFEST
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


@dataclass
class IndexData:
    """Everything the QA service needs, loaded once per version.

    A delta version (a knowledge-base change, ``ingest.segment``) is its base's data plus ``delta``:
    ``chunks`` then lists the base's chunks followed by the delta's, ``documents`` the live documents,
    and ``dead`` the base chunk numbers whose documents were removed or replaced.
    """

    path: Path
    manifest: dict[str, Any]
    documents: dict[str, dict[str, Any]]
    chunks: list[dict[str, Any]]
    dense: faiss.Index
    bm25: bm25s.BM25
    delta: DeltaSegment | None = None
    dead: frozenset[int] = frozenset()
    base: IndexData | None = None
    catalog: dict[str, Any] | None = None

    @property
    def n_base(self) -> int:
        return self.dense.ntotal

    @property
    def version(self) -> str:
        return self.manifest.get("kb_version") or self.manifest.get("index_hash", "")[:12]

    def bm25_stats(self) -> BM25Stats:
        return BM25Stats.of(self.bm25, float(self.manifest.get("bm25_avg_len", 0.0)))


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    out = []
    try:
        with open(path, encoding="utf-8") as f:
            for lineno, line in enumerate(f, 1):
                try:
                    out.append(json.loads(line))
                except json.JSONDecodeError as exc:
                    raise IndexLoadError(path, f"line {lineno} is not valid JSON ({exc.msg}); rebuild the index") \
                        from exc
    except UnicodeDecodeError as exc:
        raise IndexLoadError(path, f"not valid UTF-8 ({exc.reason}); rebuild the index") from exc
    return out


def load_index(index_dir: Path, *, verify: bool = True, reuse: IndexData | None = None) -> IndexData:
    """Load and check an index folder; raises IndexLoadError naming the broken file.

    A delta version loads its base too, unless ``reuse`` (the data a worker already holds) has the same
    base: then only the small delta is read.
    """
    index_dir = Path(index_dir)
    if not index_dir.exists():
        raise IndexLoadError(index_dir, "index not found; build it with `python -m ingest` (or `make index`)")
    root = index_dir.resolve()
    manifest = _checked_manifest(root, verify)
    base_dir = base_of(root, manifest)
    if base_dir is None:
        return _load_full(root, manifest)
    held = reuse.base if reuse is not None and reuse.base is not None else reuse
    if held is not None and held.path == base_dir and held.delta is None:
        base = held
    else:
        if not base_dir.is_dir():
            raise IndexLoadError(base_dir, "the base of this index version is missing; rebuild with `python -m ingest`")
        base = _load_full(base_dir, _checked_manifest(base_dir, verify))
    try:
        delta = read_delta(root)
    except (OSError, ValueError, KeyError) as exc:
        raise IndexLoadError(root, f"delta unreadable ({exc}); rebuild the index with `python -m ingest`") from exc
    return combine(root, manifest, base, delta)


def combine(path: Path, manifest: dict[str, Any], base: IndexData, delta: DeltaSegment) -> IndexData:
    """The live view of a base plus a delta."""
    dead = frozenset(i for i, c in enumerate(base.chunks) if c["doc_id"] in delta.removed)
    documents = {d: doc for d, doc in base.documents.items() if d not in delta.removed}
    documents.update(delta.documents)
    return IndexData(path, manifest, documents, base.chunks + delta.chunks, base.dense, base.bm25, delta, dead, base,
                     _read_catalog(path))


def _read_catalog(root: Path) -> dict[str, Any] | None:
    path = root / CATALOG
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _checked_manifest(root: Path, verify: bool) -> dict[str, Any]:
    mpath = root / MANIFEST
    if not mpath.is_file():
        raise IndexLoadError(mpath, "manifest missing; the index is incomplete, rebuild it with `python -m ingest`")
    try:
        manifest = json.loads(mpath.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise IndexLoadError(mpath, f"manifest unreadable ({exc}); rebuild the index") from exc
    if not isinstance(manifest, dict):
        raise IndexLoadError(mpath, "manifest is not a JSON object; rebuild the index")
    if manifest.get("format") != FORMAT_VERSION:
        raise IndexLoadError(mpath, f"index format {manifest.get('format')} is not {FORMAT_VERSION}; rebuild it")
    # publish() always lists every file with its checksum (since format 1); a manifest without that list
    # would load unverified files, so it is refused rather than trusted.
    files = manifest.get("files")
    if not isinstance(files, dict) or not files:
        raise IndexLoadError(mpath, "manifest has no \"files\" checksum list; the index is incomplete or "
                                    "hand-edited, rebuild it with `python -m ingest`")
    for rel, digest in files.items():
        f = root / rel
        if not f.resolve().is_relative_to(root):
            raise IndexLoadError(mpath, f"lists {rel!r}, which is outside the index folder; rebuild the index")
        if not f.is_file():
            raise IndexLoadError(f, "file missing; rebuild the index")
        if verify and _sha256(f) != digest:
            raise IndexLoadError(f, "checksum mismatch (truncated or corrupted); rebuild the index")
    return manifest


def _load_full(root: Path, manifest: dict[str, Any]) -> IndexData:
    docs = {d["doc_id"]: d for d in _read_jsonl(root / DOCUMENTS)}
    chunks = _read_jsonl(root / CHUNKS)
    try:
        dense = faiss.read_index(str(root / DENSE))
    except RuntimeError as exc:
        raise IndexLoadError(root / DENSE, f"FAISS cannot read it ({exc}); rebuild the index") from exc
    try:
        bm25 = bm25s.BM25.load(str(root / BM25_DIR), show_progress=False)
    except Exception as exc:  # noqa: BLE001 - bm25s raises assorted errors on bad files
        raise IndexLoadError(root / BM25_DIR, f"BM25 data unreadable ({exc}); rebuild the index") from exc
    if dense.ntotal != len(chunks):
        raise IndexLoadError(root / DENSE, f"{dense.ntotal} vectors for {len(chunks)} chunks; rebuild the index")
    return IndexData(root, manifest, docs, chunks, dense, bm25, catalog=_read_catalog(root))
