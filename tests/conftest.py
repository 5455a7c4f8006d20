"""Shared fixtures: one real index of the real corpus, built once per test session."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.settings import PROJECT_ROOT, Settings

CORPUS = PROJECT_ROOT / "corpus"
RAW = CORPUS / "raw"


@pytest.fixture(scope="session")
def test_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    base = tmp_path_factory.mktemp("yibao")
    return Settings(index_dir=base / "index", cache_dir=base / "cache", corpus_dir=CORPUS, kb_dir=base / "kb",
                    conversations_db=base / "conversations.sqlite")


@pytest.fixture(scope="session")
def embedder(test_settings: Settings):
    from ingest.embed import Embedder

    return Embedder(test_settings)


@pytest.fixture(scope="session")
def built_index(test_settings: Settings, embedder) -> Path:
    """The real corpus, indexed with the real model into a temporary folder."""
    from ingest.build import build_index

    build_index(CORPUS, test_settings.index_dir, settings=test_settings, embedder=embedder, progress=False)
    return test_settings.index_dir


@pytest.fixture(scope="session")
def qa_service(built_index: Path, test_settings: Settings, embedder):
    """The real QA service over the real index, sharing the session's model."""
    from qa.service import QAService

    return QAService.load(test_settings, built_index, embedder=embedder)
