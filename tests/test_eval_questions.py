"""The real eval/questions.jsonl against the real (cleaned) corpus.

Keywords are checked against the *cleaned* article text, so a question whose support
lies only in the teaser/boilerplate the service strips fails here.
"""

from __future__ import annotations

import re
from collections import Counter

import pytest

from eval.metrics import normalize_text
from eval.questions import load_questions
from ingest.corpus import load_corpus
from ingest.settings import PROJECT_ROOT

QUESTIONS = PROJECT_ROOT / "eval" / "questions.jsonl"


@pytest.fixture(scope="module")
def docs() -> dict[str, str]:
    return {d.doc_id: normalize_text(d.text) for d in load_corpus(PROJECT_ROOT / "corpus")}


@pytest.fixture(scope="module")
def questions(docs):
    return load_questions(QUESTIONS, known_doc_ids=set(docs))


def test_size_and_category_mix(questions):
    counts = Counter(q.category for q in questions)
    assert len(questions) >= 110
    minimum = {
        "fact": 25,
        "procedure": 18,
        "colloquial": 18,
        "numeric": 12,
        "numeric-missing": 2,
        "conflict": 8,
        "out_of_scope": 25,
    }
    for category, n in minimum.items():
        assert counts[category] >= n, (category, counts[category])


def test_questions_are_unique(questions):
    texts = [q.question for q in questions]
    assert len(set(texts)) == len(texts)


def test_every_keyword_occurs_in_an_expected_article(questions, docs):
    for q in questions:
        for group in q.keywords:
            for alt in group:
                assert any(normalize_text(alt) in docs[d] for d in q.expected_docs), (q.id, alt)


def test_every_expected_doc_supports_some_keyword(questions, docs):
    for q in questions:
        for d in q.expected_docs:
            alts = [normalize_text(a) for g in q.keywords for a in g]
            assert any(a in docs[d] for a in alts), (q.id, d)


def test_colloquial_questions_have_no_punctuation(questions):
    for q in questions:
        if q.category == "colloquial":
            assert not re.search(r"[,.?!，。？！、;；:：]", q.question), q.id


def test_conflict_questions_expect_several_sources(questions):
    for q in questions:
        if q.category == "conflict":
            assert q.min_distinct_docs >= 2 and len(q.expected_docs) >= q.min_distinct_docs, q.id
