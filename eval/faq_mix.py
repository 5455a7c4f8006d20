"""A FAQ list mixed into the corpus: does it take anything away from the article questions?

The users set's test split is asked twice: of the corpus alone, and of the corpus plus a FAQ list
(``corpus/faq.example.csv`` by default, imported as an upload would be). Questions answered verbatim
from a FAQ pair and questions answered from the articles are reported apart:

* ``articles_only`` — every question, corpus alone (the users set's figures);
* ``with_faq`` — every question, corpus + FAQ list;
* ``with_faq_from_articles`` / ``same_questions_articles_only`` — the questions the mixed index still
  answered from the articles, and the same questions without the FAQ list (the fair comparison);
* ``from_faq_pairs`` — the questions answered from a pair: ``faq_source_right`` is the share whose pair
  was written from one of the question's expected articles, ``faq_key_facts`` the key facts its stored
  answer holds.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .metrics import keyword_coverage
from .users import UserQuestion, UserRecord, run_service, summarise

DEFAULT_FAQ = Path(__file__).resolve().parent.parent / "corpus" / "faq.example.csv"


@dataclass(frozen=True)
class FAQMixReport:
    faq_file: str
    pairs: int
    rows: list[dict[str, Any]]  # one per comparison (see the module docstring)
    faq_answered: list[dict[str, Any]]  # the questions answered from a pair


def mixed_service(service: Any, faq_path: Path, index_dir: Path) -> tuple[Any, int]:
    """``service``'s corpus plus the FAQ list at ``faq_path``, indexed by the product's own build into
    ``index_dir``; the same model, answerability model and ranker."""
    from ingest.build import build_index
    from ingest.faq import read_faq
    from ingest.kb import pair_record
    from ingest.store import load_index
    from qa.service import QAService

    imported = read_faq(faq_path.name, faq_path.read_bytes())
    if imported.errors:
        raise ValueError(f"{faq_path}: {len(imported.errors)} rows rejected: {imported.errors[0]}")
    pairs = {p.pair_id: pair_record(p) for p in imported.pairs}
    settings = service.settings
    build_index(settings.corpus_dir, index_dir, settings=settings, embedder=service.embedder, force=True,
                progress=False, faq=pairs)
    data = load_index(index_dir)
    return QAService(data, service.embedder, settings, service.decision, service.ranker), len(pairs)


def _faq_scores(records: list[UserRecord]) -> dict[str, float | None]:
    with_docs = [r for r in records if r.question.expected_docs]
    with_facts = [r for r in records if r.question.keywords]
    return {
        "faq_source_right": (sum(r.faq_source in r.question.expected_docs for r in with_docs) / len(with_docs)
                             if with_docs else None),
        "faq_key_facts": (sum(keyword_coverage(r.answer, r.question.keywords) for r in with_facts) / len(with_facts)
                          if with_facts else None),
    }


def compare(service: Any, questions: list[UserQuestion], faq_path: Path = DEFAULT_FAQ, *,
            plain: list[UserRecord] | None = None, progress: bool = True) -> FAQMixReport:
    """Ask ``questions`` of the corpus alone (or take ``plain``, already run) and of corpus + FAQ list."""
    plain = plain if plain is not None else run_service(service, questions, progress=progress)
    with tempfile.TemporaryDirectory(prefix="yibao-faq-mix-") as tmp:
        mixed_svc, n_pairs = mixed_service(service, faq_path, Path(tmp) / "index")
        mixed = run_service(mixed_svc, questions, progress=progress)
    from_faq = [r for r in mixed if r.faq_pair]
    from_articles = [r for r in mixed if not r.faq_pair]
    article_ids = {r.question.id for r in from_articles}
    same_plain = [r for r in plain if r.question.id in article_ids]
    rows = [
        {"run": "articles_only", "n": len(plain), **summarise(plain).scores},
        {"run": "with_faq", "n": len(mixed), **summarise(mixed).scores},
        {"run": "with_faq_from_articles", "n": len(from_articles), **summarise(from_articles).scores},
        {"run": "same_questions_articles_only", "n": len(same_plain), **summarise(same_plain).scores},
        {"run": "from_faq_pairs", "n": len(from_faq), **summarise(from_faq).scores, **_faq_scores(from_faq)},
    ]
    answered = [{"id": r.question.id, "question": r.question.question, "kind": r.question.kind,
                 "pair": r.faq_pair, "source": r.faq_source, "expected_docs": list(r.question.expected_docs)}
                for r in from_faq]
    return FAQMixReport(str(faq_path), n_pairs, rows, answered)
