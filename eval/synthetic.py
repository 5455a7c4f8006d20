"""Synthetic embedding collections for the dense-index scaling benchmark.

Two kinds of random, L2-normalised float32 vectors:

- ``clustered`` (default): ``normalize(topic + 0.75 * noise)`` with one random topic direction per
  ``cluster_size`` vectors, so a vector's cosine to its topic is about 0.8 and to another topic
  about 0. Real chunk embeddings behave like this (chunks of one article or subject sit together);
  queries are new draws from existing topics, as real questions are about something in the corpus.
- ``isotropic``: Gaussian directions with no structure at all. Every point is about equally far from
  every other, the worst case for any approximate index; reported to show that limit.

Generation is chunked and seeded, so a 1M × 512 collection (2 GB) is reproducible and fits in memory.
"""

from __future__ import annotations

import numpy as np

KINDS = ("clustered", "isotropic")
CLUSTER_SIZE = 50
NOISE = 0.75


def _normalise(x: np.ndarray) -> np.ndarray:
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x


def _topics(n: int, dim: int, cluster_size: int, seed: int) -> np.ndarray:
    k = max(1, n // cluster_size)
    return _normalise(np.random.default_rng([seed, 1]).standard_normal((k, dim), dtype=np.float32))


def vectors(n: int, dim: int = 512, kind: str = "clustered", *, seed: int = 0,
            cluster_size: int = CLUSTER_SIZE, block: int = 65_536) -> np.ndarray:
    """``n`` normalised vectors of the given kind (C-contiguous float32)."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}")
    rng = np.random.default_rng([seed, 2])
    out = np.empty((n, dim), dtype=np.float32)
    topics = _topics(n, dim, cluster_size, seed) if kind == "clustered" else None
    for start in range(0, n, block):
        stop = min(n, start + block)
        noise = rng.standard_normal((stop - start, dim), dtype=np.float32)
        if topics is None:
            out[start:stop] = noise
        else:
            ids = np.arange(start, stop) % len(topics)
            out[start:stop] = topics[ids] + (NOISE / np.sqrt(dim, dtype=np.float32)) * noise
        _normalise(out[start:stop])
    return out


def queries(n_collection: int, n_queries: int, dim: int = 512, kind: str = "clustered", *, seed: int = 0,
            cluster_size: int = CLUSTER_SIZE) -> np.ndarray:
    """Fresh query vectors for a collection made by :func:`vectors` with the same arguments."""
    rng = np.random.default_rng([seed, 3])
    noise = rng.standard_normal((n_queries, dim), dtype=np.float32)
    if kind == "isotropic":
        return _normalise(noise)
    topics = _topics(n_collection, dim, cluster_size, seed)
    ids = rng.integers(0, len(topics), n_queries)
    return _normalise(topics[ids] + (NOISE / np.sqrt(dim, dtype=np.float32)) * noise)
