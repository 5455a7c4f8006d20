"""The corpus's own vocabulary, used to read questions typed with a pinyin input method.

The homophone correction (医报 → 医保, 包销 → 报销) is ``ingest.lexicon``'s, shared with the indexing of
stored FAQ questions; a question written in pinyin alone is spelled back into the corpus's words
(``reading.PinyinReader``).
"""

from __future__ import annotations

from ingest.lexicon import COMMON_WORD_FREQ, MAX_TARGET_FREQ, TARGET_SHARE  # noqa: F401 (re-exported)
from ingest.lexicon import Lexicon as _Correction

from .reading import PinyinReader


class Lexicon(_Correction):
    """Homophone correction and pinyin reading against one index's vocabulary."""

    _pinyin: PinyinReader | None = None

    def pinyin_reader(self) -> PinyinReader:
        with self._lock:
            if self._pinyin is None:
                self._pinyin = PinyinReader(self.chunk_counts)
            return self._pinyin
