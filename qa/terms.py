"""Word weights over the index's chunks, shared by fusion (query coverage) and answer composition."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from ingest.faq_units import counted_rows, row_text
from ingest.tokenize import tokenize


class TermWeights:
    """IDF over the index's chunks (rare words count more), plus each chunk's word set."""

    def __init__(self, chunks: list[dict[str, Any]]):
        self.chunk_terms: list[frozenset[str]] = [
            frozenset(tokenize(row_text(c))) for c in chunks
        ]
        # IDF over the articles' chunks only: a FAQ list added to the corpus does not change how rare a
        # word counts when article answers are ranked (every row still has its word set).
        # (An index of FAQ pairs only, like the public FAQ benchmark's, counts its rows as written.)
        counted = counted_rows(chunks)
        df: dict[str, int] = {}
        n = 0
        for use, terms in zip(counted, self.chunk_terms):
            if not use:
                continue
            n += 1
            for t in terms:
                df[t] = df.get(t, 0) + 1
        self.df = df
        self.n_counted = n  # the rows the document frequencies were counted over
        n = max(1, n)
        self.idf = {t: math.log(1 + (n - d + 0.5) / (d + 0.5)) for t, d in df.items()}
        self.unknown = math.log(1 + (n + 0.5) / 0.5)

    @classmethod
    def extended(cls, base: TermWeights, chunks: list[dict[str, Any]]) -> TermWeights:
        """``base`` plus the word sets of a change's chunks (the base's IDF is kept: a few new chunks
        barely move it, and recomputing it over 100,000 chunks would delay every change)."""
        return base._with_rows(base.chunk_terms + [frozenset(tokenize(row_text(c))) for c in chunks])

    def first(self, n: int) -> TermWeights:
        """The same weights over the first ``n`` rows only (the base of a base + delta index)."""
        return self._with_rows(self.chunk_terms[:n])

    def _with_rows(self, chunk_terms: list[frozenset[str]]) -> TermWeights:
        # One place copies the counted statistics, so a new field cannot be forgotten by one caller.
        new = type(self).__new__(type(self))
        new.__dict__.update(self.__dict__)
        new.chunk_terms = chunk_terms
        return new

    def __call__(self, term: str) -> float:
        return self.idf.get(term, self.unknown)

    def coverage(self, query_terms: Iterable[str], index: int) -> float:
        """Share (by IDF) of the query's words that chunk ``index`` contains."""
        terms = set(query_terms)
        total = sum(self(t) for t in terms)
        if total <= 0:
            return 0.0
        have = self.chunk_terms[index]
        return sum(self(t) for t in terms if t in have) / total
