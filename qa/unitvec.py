"""Sentence vectors for the composer's ranker, computed once per sentence and kept in an LRU cache.

The ranker's strongest signal is how close a candidate sentence is in meaning to the question
(``unit_dense``); retrieval only gives that for whole chunks. Sentence vectors come from the same
model as the index; a small index has all of them computed when the service loads, a large one
computes each sentence the first time it is a candidate.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from cachetools import LRUCache

from ingest.faq_units import is_faq

from .sentences import Unit, split_units

# Indexes up to this many chunks get every sentence embedded at load (the five articles: 214
# sentences in about 0.8 s); larger ones fill the cache as questions come.
WARM_MAX_CHUNKS = 5000
CACHE_SENTENCES = 200_000


def unit_text(chunk: dict[str, Any], unit: Unit) -> str:
    """What the model sees of a sentence: its heading gives it context."""
    return f"{unit.context}:{unit.text}" if unit.context else unit.text


class UnitVectors:
    def __init__(self, encode: Callable[[list[str]], np.ndarray], chunks: Sequence[dict[str, Any]] = (),
                 warm: bool = True):
        self.encode = encode
        self.cache: LRUCache = LRUCache(maxsize=CACHE_SENTENCES)
        self.lock = threading.Lock()
        if warm and 0 < len(chunks) <= WARM_MAX_CHUNKS:
            items = []
            for c in chunks:
                if is_faq(c):  # never composed from (a pair is answered whole); embedding it would also
                    continue   # change the articles' sentence vectors (int8 quantises per batch)
                leaf = c["heading_path"][-1] if c.get("heading_path") else ""
                items.extend((c, u) for u in split_units(c["text"], c["start"], leaf))
            self.vectors(items)

    @staticmethod
    def key(chunk: dict[str, Any], unit: Unit) -> tuple[str, int, str]:
        # The text is part of the key: a replaced document keeps its chunk ids but not its sentences.
        return (chunk["chunk_id"], unit.start, unit.text)

    def vectors(self, items: Sequence[tuple[dict[str, Any], Unit]]) -> np.ndarray:
        keys = [self.key(c, u) for c, u in items]
        with self.lock:
            found = {k: self.cache.get(k) for k in keys}
        missing = [(k, unit_text(c, u)) for k, (c, u) in zip(keys, items) if found[k] is None]
        if missing:
            todo = list(dict(missing).items())
            vecs = self.encode([t for _, t in todo])
            with self.lock:
                for (k, _), v in zip(todo, vecs):
                    self.cache[k] = v
                    found[k] = v
        if not keys:
            return np.zeros((0, 0), dtype=np.float32)
        return np.stack([found[k] for k in keys])
