"""`python -m eval bench` — performance of yibao-qa next to the plain LangChain recipe, in one run.

    python -m eval bench                          # everything (first run: ~1 h on 2 cores; ANN indexes are then cached)
    python -m eval bench --only ingest,search     # some parts: quality, ingest, search, http, conversation,
                                                  # update, scale
    python -m eval bench --quick                  # small smoke version (used by the tests)

Parts (each one a section of ``var/reports/<timestamp>-bench/report.md`` + ``report.json`` + ``chart.png``):

- ``quality``: the embedding backends / sequence caps against the float torch model on the own question
  set and on ncp_policies dev (doc recall@k, hybrid and dense-only). Vectors go through the persistent
  embedding cache, so a re-run only embeds what it has not seen.
- ``ingest``: ncp_policies ingested cold (empty temporary embedding cache) by the project and by the
  baseline (``eval.baseline.LangChainBaseline``: 500/50 splitter + FAISS, float torch m3e-small, the
  plain recipe); then the project's re-ingest of the unchanged corpus and of a slightly changed one.
- ``search``: single-client latency over ``eval/questions.jsonl``: ``QAService.search`` and ``ask`` with
  the query cache off, the LRU-cached repeat, and the baseline's ``similarity_search``, interleaved per
  question so that machine load hits every system alike.
- ``http``: ``python -m api`` started on a free 127.0.0.1 port with its default worker count (what
  the README recommends: one per core, at most 2) and with 1 worker; 1/4/8 concurrent clients POST
  ``/api/ask`` for a bounded time and count; throughput, p50/p95, errors, CPU milliseconds per request
  of the server and of the client, and the server's peak RSS (all its processes). Each client is a
  thread with one persistent (keep-alive) ``http.client`` connection, cycling through the evaluation
  questions from its own offset; the server's query cache is off unless ``--query-cache``, so every
  request embeds its question. The client shares the machine's cores with the server.
- ``conversation``: ``/api/ask`` p50 of follow-up turns sent with a ``conversation_id`` against the same
  questions asked alone, on a server with a conversation store (``eval.bench_update``).
- ``update``: a ≥100k-chunk index (saved in ``var/cache/bench/update-*``), ``python -m api`` on it with an
  admin token; time from adding / replacing / deleting a five-page PDF to the first answer that shows the
  change, and ``/api/ask`` p95 idle against while documents change in a loop (``eval.bench_update``).
- ``scale``: synthetic 512-d normalised collections (``eval.synthetic``) of 10k/100k/1M vectors in the
  index ``ingest.store.build_dense_index`` picks (exact up to ``ann_threshold``, HNSW above, IVF above
  500k), single-query latency and recall@10 against exact search, with an efSearch / nprobe sweep. Built
  ANN indexes are kept in ``var/cache/bench/`` so re-runs are bounded.

Timings are wall-clock on a shared machine; each part also records CPU seconds and the load average.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np

from ingest.settings import PROJECT_ROOT, Settings, get_settings

from . import report

PARTS = ("quality", "ingest", "search", "http", "conversation", "update", "scale")
DEFAULT_PARTS = PARTS
BENCH_CACHE = PROJECT_ROOT / "var" / "cache" / "bench"
BASELINE_BACKEND = {"embed_backend": "torch", "max_seq_length": 512}  # the plain recipe: float model, no cap
QUALITY_VARIANTS = (("torch", 512), ("onnx-int8", 512), ("onnx-int8", 384), ("onnx-int8", 256))
TARGETS = {
    "ingest_cold_ratio": ("cold ingestion chunks/s ÷ baseline", ">=", 2.0),
    "reingest_speedup": ("unchanged re-ingest speed-up over cold", ">=", 20.0),
    "ask_vs_baseline_search": ("ask p50 ÷ baseline similarity_search p50", "<=", 2.0),
    "http_scaling": ("8 clients: throughput ÷ 1 client (no errors)", ">=", 1.5),
    "scale_1m_p50_ms": ("1M synthetic (clustered): search p50 (ms)", "<", 20.0),
    "scale_1m_recall": ("1M synthetic: recall@10 vs exact", ">=", 0.95),
    "quality_recall": ("project form's ncp doc recall@5 − float model's (worse of dense, hybrid; train+dev)",
                       ">=", -0.01),
    "update_visible_s": ("≥100k chunks: slowest add/replace/delete → first answer showing it (s)", "<", 5.0),
    "update_p95_ratio": ("≥100k chunks: /api/ask p95 while documents change ÷ idle p95", "<=", 3.0),
    "conversation_p50_ratio": ("/api/ask p50: follow-up with conversation_id ÷ same question alone", "<=", 1.2),
}


# ------------------------------------------------------------------------------------------------ helpers


def pct(values: list[float], p: float) -> float | None:
    return float(np.percentile(values, p)) if values else None


def lat_summary(ms: list[float]) -> dict[str, Any]:
    return {"n": len(ms), "p50_ms": pct(ms, 50), "p95_ms": pct(ms, 95), "mean_ms": float(np.mean(ms)) if ms else None}


@contextlib.contextmanager
def stopwatch(out: dict[str, float]):
    w, c = time.perf_counter(), time.process_time()
    try:
        yield out
    finally:
        out["seconds"] = time.perf_counter() - w
        out["cpu_seconds"] = time.process_time() - c


def loadavg() -> list[float]:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return []


def default_workers() -> int:
    """The worker count ``python -m api`` serves with when not told (YIBAO_WORKERS, else per core, at most 2)."""
    from api.__main__ import default_workers as per_core

    return get_settings().workers or per_core()


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Ctx:
    args: argparse.Namespace
    settings: Settings  # the project's settings (backend, sequence cap, …)
    base_settings: Settings  # the baseline's: float torch model, 512 tokens
    tmp: Path
    cache: dict[str, Any] = field(default_factory=dict)

    def embedder(self, settings: Settings):
        from ingest.embed import Embedder

        key = f"embedder:{settings.embed_backend}:{settings.max_seq_length}:{settings.cache_dir}"
        if key not in self.cache:
            e = Embedder(settings)
            e.encode(["预热 warm-up"])  # load (and export) before anything is timed
            self.cache[key] = e
        return self.cache[key]

    @property
    def ours(self):
        return self.embedder(self.settings)

    @property
    def base(self):
        return self.embedder(self.base_settings)


def ncp_dataset(ctx: Ctx):
    if "ncp" not in ctx.cache:
        from .external import DATA_DIR, NCP, load_dataset

        ctx.cache["ncp"] = load_dataset(NCP, DATA_DIR, limit=1 if ctx.args.quick else None)
    return ctx.cache["ncp"]


def ncp_corpus_dir(ctx: Ctx) -> Path:
    folder = ctx.tmp / "ncp-corpus"
    if not folder.exists():
        from .external import write_corpus

        write_corpus(ncp_dataset(ctx), folder)
    return folder


def own_questions(ctx: Ctx):
    from . import own

    qs = own.load()
    return qs[: ctx.args.questions] if ctx.args.questions else qs


def _triples(docs) -> list[tuple[str, str, str]]:
    return [(d.doc_id, d.title, d.text) for d in docs]


def own_docs(settings: Settings):
    from ingest.corpus import load_corpus

    return load_corpus(Path(settings.corpus_dir))


def service(index_dir: Path, embedder, settings: Settings):
    from ingest.store import load_index
    from qa.service import QAService

    return QAService(load_index(index_dir), embedder, settings)


def build(corpus: Path, index_dir: Path, settings: Settings, embedder, **kw):
    from ingest.build import build_index

    return build_index(corpus, index_dir, settings=settings, embedder=embedder, progress=False, **kw)


def indexed(ctx: Ctx, name: str) -> Path:
    """An index of ``own`` or ``ncp`` with the project's settings (persistent embedding cache)."""
    key = f"index:{name}"
    if key not in ctx.cache:
        corpus = Path(ctx.settings.corpus_dir) if name == "own" else ncp_corpus_dir(ctx)
        index_dir = ctx.tmp / f"{name}-index"
        build(corpus, index_dir, ctx.settings, ctx.ours)
        ctx.cache[key] = index_dir
    return ctx.cache[key]


def baseline_store(ctx: Ctx, name: str):
    """The LangChain baseline over ``own`` or ``ncp`` (reads the persistent cache: not timed here)."""
    from .baseline import LangChainBaseline

    key = f"baseline:{name}"
    if key not in ctx.cache:
        docs = own_docs(ctx.settings) if name == "own" else ncp_dataset(ctx).docs
        lc = LangChainBaseline(ctx.base, cache_path=Path(ctx.settings.cache_dir) / "embeddings.sqlite")
        lc.build(_triples(docs))
        ctx.cache[key] = lc
    return ctx.cache[key]


# ------------------------------------------------------------------------------------------------ quality


def part_quality(ctx: Ctx) -> dict[str, Any]:
    """Backends × sequence caps vs the float torch model: ncp dev doc recall and the own question set."""
    from qa.service import QAService

    from . import own
    from .external import run_system, service_search
    from .metrics import hit_at_k, unique_in_order

    variants = list(QUALITY_VARIANTS[:2] if ctx.args.quick else QUALITY_VARIANTS)
    mine = (ctx.settings.embed_backend, ctx.settings.max_seq_length)
    if mine not in variants:
        variants.append(mine)
    dataset = ncp_dataset(ctx)
    ncp_questions = dataset.splits["dev"]
    all_questions = [] if ctx.args.quick else dataset.splits.get("train", []) + ncp_questions
    questions = own_questions(ctx)
    rows, ref_vecs = [], None
    for backend, seq in variants:
        s = ctx.settings.model_copy(update={"embed_backend": backend, "max_seq_length": seq})
        emb = ctx.embedder(s)
        name = f"{backend} seq{seq}"
        row: dict[str, Any] = {"variant": name, "backend": backend, "max_seq_length": seq}
        for corpus_name, corpus in (("ncp", ncp_corpus_dir(ctx)), ("own", Path(s.corpus_dir))):
            index_dir = ctx.tmp / "quality" / f"{backend}-{seq}-{corpus_name}"
            t = {}
            with stopwatch(t):
                rep = build(corpus, index_dir, s, emb)
            row[f"{corpus_name}_build_s"], row[f"{corpus_name}_embedded"] = t["seconds"], rep.embedded
            svc = service(index_dir, emb, s)
            dense_only = QAService(svc.data, emb, s.model_copy(update={"bm25_weight": 0.0}))
            if corpus_name == "ncp":
                vecs = np.load(index_dir / "embeddings.npy")
                if ref_vecs is None:
                    ref_vecs = vecs
                if vecs.shape == ref_vecs.shape:
                    cos = (vecs * ref_vecs).sum(axis=1)
                    row["cos_vs_float_min"], row["cos_vs_float_mean"] = float(cos.min()), float(cos.mean())
                for label, system in (("hybrid", svc), ("dense", dense_only)):
                    run = run_system(dataset, ncp_questions, service_search(system))
                    for k in (1, 5):
                        row[f"ncp_{label}_recall@{k}"] = run.scores.get(f"doc_recall@{k}")
                    if all_questions:  # train + dev: 11× the questions, for differences dev is too small to show
                        run = run_system(dataset, all_questions, service_search(system))
                        row[f"ncpall_{label}_recall@5"] = run.scores.get("doc_recall@5")
            else:
                for label, system in (("hybrid", svc), ("dense", dense_only)):
                    scored = [q for q in questions if q.expected_docs]
                    hits = {1: [], 5: []}
                    for q in scored:
                        docs = unique_in_order([h.doc_id for h in system.search(q.question, 10)])
                        for k in hits:
                            hits[k].append(hit_at_k(docs, q.expected_docs, k))
                    for k, v in hits.items():
                        row[f"own_{label}_doc_hit@{k}"] = float(np.mean(v)) if v else None
                if not ctx.args.quick:
                    scores = own.run_own(svc, questions, progress=False).report.scores()
                    row["own_ask_doc_hit_at_1"] = scores.get("doc_hit_at_1")
                    row["own_ask_keyword_coverage"] = scores.get("keyword_coverage")
        rows.append(row)
    ref = rows[0]
    for r in rows:
        r["delta_ncp_dense_recall@5"] = _diff(r.get("ncp_dense_recall@5"), ref.get("ncp_dense_recall@5"))
        r["delta_ncp_hybrid_recall@5"] = _diff(r.get("ncp_hybrid_recall@5"), ref.get("ncp_hybrid_recall@5"))
        r["delta_ncpall_dense_recall@5"] = _diff(r.get("ncpall_dense_recall@5"), ref.get("ncpall_dense_recall@5"))
        r["delta_ncpall_hybrid_recall@5"] = _diff(r.get("ncpall_hybrid_recall@5"),
                                                  ref.get("ncpall_hybrid_recall@5"))
    project = next(r for r in rows if (r["backend"], r["max_seq_length"]) == mine)
    return {"ncp_questions": len(ncp_questions), "ncp_all_questions": len(all_questions),
            "own_questions": len(questions), "rows": rows,
            "reference": ref["variant"], "project_variant": project["variant"],
            "target_value": min(project["delta_ncpall_dense_recall@5"], project["delta_ncpall_hybrid_recall@5"])
            if all_questions else min(project["delta_ncp_dense_recall@5"], project["delta_ncp_hybrid_recall@5"])}


def _diff(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else a - b


# ------------------------------------------------------------------------------------------------ ingest


def _changed_corpus(src: Path, dst: Path, own_settings: Settings) -> dict[str, Any]:
    """A copy of a .jsonl corpus with one document edited at its end and one new document."""
    dst.mkdir(parents=True, exist_ok=True)
    (path,) = list(src.glob("*.jsonl"))
    lines = path.read_text(encoding="utf-8").splitlines()
    first = json.loads(lines[0])
    first["text"] += "\n本通知自发布之日起施行，有效期至疫情解除。"
    new = own_docs(own_settings)[0]
    extra = {"doc_id": "bench-new-doc", "title": new.title, "text": new.text, "metadata": {}}
    lines = [json.dumps(first, ensure_ascii=False), *lines[1:], json.dumps(extra, ensure_ascii=False)]
    (dst / path.name).write_text("\n".join(lines) + "\n", encoding="utf-8")
    return {"edited_doc": first["doc_id"], "added_doc": extra["doc_id"]}


def _embedding_texts(index_dir: Path) -> list[str]:
    from ingest.build import embedding_text

    chunks = [json.loads(x) for x in (index_dir / "chunks.jsonl").read_text(encoding="utf-8").splitlines()]
    return [embedding_text(SimpleNamespace(**c)) for c in chunks]


def part_ingest(ctx: Ctx) -> dict[str, Any]:
    from .baseline import LangChainBaseline

    corpus = ncp_corpus_dir(ctx)
    ours, base = ctx.ours, ctx.base  # loaded (and ONNX exported) before any timing
    cold_settings = ctx.settings.model_copy(update={"cache_dir": ctx.tmp / "cold-cache"})
    index_dir = ctx.tmp / "ingest-index"
    out: dict[str, Any] = {"documents": len(ncp_dataset(ctx).docs), "loadavg_before": loadavg()}

    def run(label: str, fn):
        t: dict[str, float] = {}
        with stopwatch(t):
            result = fn()
        out[label] = {**t, **(result if isinstance(result, dict) else {})}
        return result

    # Baseline first and the project second would favour neither: both start with a loaded model.
    lc = LangChainBaseline(base)  # no cache at all: the plain recipe
    stats = run("baseline_cold", lambda: asdict(lc.build(_triples(ncp_dataset(ctx).docs))))
    del stats
    out["baseline_cold"]["mean_chunk_chars"] = float(np.mean([len(c.page_content) for c in lc.chunks]))
    ctx.cache["baseline:ncp"] = lc

    run("ours_cold", lambda: asdict(build(corpus, index_dir, cold_settings, ours, force=True)))
    chunks = json.loads((index_dir / "manifest.json").read_text())["chunks"]
    data_chunks = [json.loads(x) for x in (index_dir / "chunks.jsonl").read_text(encoding="utf-8").splitlines()]
    out["ours_cold"]["mean_chunk_chars"] = float(np.mean([len(c["text"]) for c in data_chunks]))
    run("ours_reingest_unchanged", lambda: asdict(build(corpus, index_dir, cold_settings, ours, force=True)))
    run("ours_unchanged_detected", lambda: asdict(build(corpus, index_dir, cold_settings, ours)))
    before = set(_embedding_texts(index_dir))
    changed = ctx.tmp / "ncp-corpus-changed"
    edit = _changed_corpus(corpus, changed, ctx.settings)
    run("ours_changed", lambda: asdict(build(changed, index_dir, cold_settings, ours)))
    new_texts = set(_embedding_texts(index_dir)) - before
    out["ours_changed"].update(edit)
    out["ours_changed"]["new_chunk_texts"] = len(new_texts)
    out["ours_changed"]["only_new_embedded"] = out["ours_changed"]["embedded"] == len(new_texts)

    for label in ("baseline_cold", "ours_cold", "ours_reingest_unchanged", "ours_unchanged_detected", "ours_changed"):
        r = out[label]
        r["chunks_per_s"] = r["chunks"] / r["seconds"] if r["seconds"] else None
        r["chunks_per_cpu_s"] = r["chunks"] / r["cpu_seconds"] if r["cpu_seconds"] else None
    out["ours_cold"]["chunks"] = chunks
    out["ratio_cold_chunks_per_s"] = out["ours_cold"]["chunks_per_s"] / out["baseline_cold"]["chunks_per_s"]
    out["ratio_cold_chunks_per_cpu_s"] = (out["ours_cold"]["chunks_per_cpu_s"]
                                          / out["baseline_cold"]["chunks_per_cpu_s"])
    out["ratio_cold_total_time"] = out["baseline_cold"]["seconds"] / out["ours_cold"]["seconds"]
    out["reingest_speedup"] = out["ours_cold"]["seconds"] / out["ours_reingest_unchanged"]["seconds"]
    out["loadavg_after"] = loadavg()
    return out


# ------------------------------------------------------------------------------------------------ search


def part_search(ctx: Ctx) -> dict[str, Any]:
    import faiss

    faiss.omp_set_num_threads(1)  # one query at a time: threads only add overhead
    questions = [q.question for q in own_questions(ctx)]
    nocache = ctx.settings.model_copy(update={"query_cache_size": 0})
    own_svc = service(indexed(ctx, "own"), ctx.ours, nocache)
    cached = service(indexed(ctx, "own"), ctx.ours, ctx.settings)
    lc_own = baseline_store(ctx, "own")
    calls = {
        "ours_ask_own": lambda q: own_svc.ask(q),
        "ours_search_own": lambda q: own_svc.search(q, 10),
        "baseline_search_own": lambda q: lc_own.search(q, 10),
        "ours_query_embedding": lambda q: ctx.ours.encode([q]),
        "baseline_query_embedding": lambda q: ctx.base.encode([q]),
    }
    if not ctx.args.quick:  # the same on the 599 ncp_policies documents
        ncp_svc, lc_ncp = service(indexed(ctx, "ncp"), ctx.ours, nocache), baseline_store(ctx, "ncp")
        calls["ours_search_ncp"] = lambda q: ncp_svc.search(q, 10)
        calls["baseline_search_ncp"] = lambda q: lc_ncp.search(q, 10)
    for fn in calls.values():  # warm-up: one-off costs (jieba dictionary, first ORT run, …)
        fn("医保断缴后怎么补缴")
    times: dict[str, list[float]] = {k: [] for k in calls}
    names = list(calls)
    out: dict[str, Any] = {"questions": len(questions), "loadavg_before": loadavg()}
    for i, q in enumerate(questions):  # interleaved, rotating order: load hits every system alike
        for name in names[i % len(names):] + names[: i % len(names)]:
            t = time.perf_counter()
            calls[name](q)
            times[name].append((time.perf_counter() - t) * 1000)
    for q in questions:  # fill the LRU query cache, then time the repeats
        cached.search(q, 10)
    times["ours_search_own_lru_repeat"] = []
    for q in questions:
        t = time.perf_counter()
        cached.search(q, 10)
        times["ours_search_own_lru_repeat"].append((time.perf_counter() - t) * 1000)
    out.update({k: lat_summary(v) for k, v in times.items()})
    out["ratio_ask_vs_baseline_search"] = out["ours_ask_own"]["p50_ms"] / out["baseline_search_own"]["p50_ms"]
    if "ours_search_ncp" in out:
        out["ratio_search_vs_baseline_search_ncp"] = (out["ours_search_ncp"]["p50_ms"]
                                                      / out["baseline_search_ncp"]["p50_ms"])
    out["loadavg_after"] = loadavg()
    return out


# ------------------------------------------------------------------------------------------------ http


class RssSampler(threading.Thread):
    """Peak resident memory of a process and all its descendants, sampled every ``interval`` s."""

    def __init__(self, pid: int, interval: float = 0.2):
        super().__init__(daemon=True)
        self.pid, self.interval = pid, interval
        self.peak = 0
        self.last = 0
        self._halt = threading.Event()

    def sample(self) -> int:
        import psutil

        try:
            root = psutil.Process(self.pid)
            procs = [root, *root.children(recursive=True)]
        except psutil.Error:
            return 0
        total = 0
        for p in procs:
            with contextlib.suppress(psutil.Error):
                total += p.memory_info().rss
        return total

    def run(self) -> None:
        while not self._halt.is_set():
            self.last = self.sample()
            self.peak = max(self.peak, self.last)
            self._halt.wait(self.interval)

    def stop(self) -> None:
        self._halt.set()
        self.join(timeout=5)


class Server:
    """``python -m api`` on a free loopback port, in its own process group (stopped by its own id)."""

    def __init__(self, ctx: Ctx, index_dir: Path, workers: int, env: dict[str, str] | None = None,
                 name: str = "server"):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        # A conversation store of its own (every /api/ask is then a stored conversation turn), never var/'s.
        self.conversations_db = ctx.tmp / f"{name}-{workers}-{self.port}-conversations.sqlite"
        env = {**os.environ, "YIBAO_INDEX_DIR": str(index_dir), "YIBAO_EMBED_BACKEND": ctx.settings.embed_backend,
               "YIBAO_MAX_SEQ_LENGTH": str(ctx.settings.max_seq_length), "YIBAO_CACHE_DIR": str(ctx.settings.cache_dir),
               "YIBAO_STORE_QUESTIONS": "false", "YIBAO_HOST": "127.0.0.1",
               "YIBAO_CONVERSATIONS_DB": str(self.conversations_db),
               "YIBAO_QUERY_CACHE_SIZE": str(ctx.settings.query_cache_size if ctx.args.query_cache else 0),
               **(env or {})}
        self.log = ctx.tmp / f"{name}-{workers}.log"
        self._log_file = open(self.log, "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "api", "--host", "127.0.0.1", "--port", str(self.port), "--workers", str(workers),
             "--no-build", "--log-level", "warning"],
            cwd=PROJECT_ROOT, env=env, stdout=self._log_file, stderr=subprocess.STDOUT, start_new_session=True)
        self.sampler = RssSampler(self.proc.pid)
        self.sampler.start()

    def wait_ready(self, timeout: float = 180.0) -> None:
        import httpx

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}: {self.log.read_text()[-2000:]}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.url}/api/health", timeout=2).status_code == 200:
                    return
            time.sleep(0.3)
        raise RuntimeError(f"server not ready after {timeout:.0f} s: {self.log.read_text()[-2000:]}")

    def stop(self) -> None:
        self.sampler.stop()
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=5)
        self._log_file.close()


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process and its live descendants."""
    import psutil

    total = 0.0
    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.Error:
        return 0.0
    for p in procs:
        with contextlib.suppress(psutil.Error):
            t = p.cpu_times()
            total += t.user + t.system
    return total


def connection_split(port: int) -> list[int] | None:
    """Established connections to ``port`` per server process, largest first (None if not readable).

    With several workers sharing one listening socket, the worker that wakes first accepts every
    pending connection, so keep-alive clients that connect together can all land on one worker."""
    import psutil

    try:
        conns = psutil.net_connections(kind="tcp")
    except (psutil.Error, OSError):
        return None
    per: dict[int, int] = {}
    for c in conns:
        if c.status == psutil.CONN_ESTABLISHED and c.laddr and c.laddr.port == port and c.pid:
            per[c.pid] = per.get(c.pid, 0) + 1
    return sorted(per.values(), reverse=True) or None


def load_level(url: str, questions: list[str], clients: int, seconds: float, max_requests: int,
               server_pid: int | None = None) -> dict[str, Any]:
    """``clients`` threads POST /api/ask until ``seconds`` pass or ``max_requests`` are sent in total.

    Each thread keeps one ``http.client`` connection open (reopened after an error): the standard
    library client costs about a quarter of httpx's CPU per request, CPU the server needs on a small
    machine. ``client_cpu_ms`` is this process's CPU per answered request (all its threads)."""
    import http.client
    from urllib.parse import urlsplit

    where = urlsplit(url)
    host, port = where.hostname or "127.0.0.1", where.port or 80
    headers = {"Content-Type": "application/json"}
    lock = threading.Lock()
    sent = [0]
    lat: list[float] = []
    errors: list[str] = []
    deadline = time.monotonic() + seconds

    def client(i: int) -> None:
        n = i * max(1, len(questions) // clients)
        conn = http.client.HTTPConnection(host, port, timeout=60)
        try:
            while time.monotonic() < deadline:
                with lock:
                    if sent[0] >= max_requests:
                        return
                    sent[0] += 1
                body = json.dumps({"question": questions[n % len(questions)]}, ensure_ascii=False).encode()
                n += 1
                t = time.perf_counter()
                try:
                    conn.request("POST", "/api/ask", body=body, headers=headers)
                    r = conn.getresponse()
                    data = r.read()
                    ok, why = r.status == 200 and bool(data), f"HTTP {r.status}"
                except (OSError, http.client.HTTPException) as exc:
                    ok, why = False, type(exc).__name__
                    conn.close()
                    conn = http.client.HTTPConnection(host, port, timeout=60)
                ms = (time.perf_counter() - t) * 1000
                with lock:
                    (lat.append(ms) if ok else errors.append(why))
        finally:
            conn.close()

    server_cpu0 = _cpu_seconds(server_pid) if server_pid else None
    cpu0 = time.process_time()
    start = time.perf_counter()
    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(clients)]
    for th in threads:
        th.start()
    split = None
    if server_pid and clients > 1:
        time.sleep(seconds / 2)
        split = connection_split(port)
    for th in threads:
        th.join(timeout=seconds + 120)
    elapsed = time.perf_counter() - start
    client_cpu = time.process_time() - cpu0
    server_cpu = (_cpu_seconds(server_pid) - server_cpu0) if server_pid else None
    ok = len(lat)
    return {"clients": clients, "requests": ok + len(errors), "ok": ok, "errors": len(errors),
            "error_kinds": sorted(set(errors)), "seconds": elapsed, "rps": ok / elapsed if elapsed else 0.0,
            "client_cpu_ms": client_cpu * 1000 / ok if ok else None, "connections_per_process": split,
            "server_cpu_ms": server_cpu * 1000 / ok if ok and server_cpu is not None else None,
            **lat_summary(lat)}


def part_http(ctx: Ctx) -> dict[str, Any]:
    questions = [q.question for q in own_questions(ctx)]
    index_dir = indexed(ctx, "own")
    out: dict[str, Any] = {"query_cache": bool(ctx.args.query_cache), "seconds_per_level": ctx.args.http_seconds,
                           "max_requests_per_level": ctx.args.http_requests, "questions": len(questions),
                           "default_workers": default_workers(), "runs": []}
    for workers in ctx.args.workers:
        server = Server(ctx, index_dir, workers)
        run: dict[str, Any] = {"workers": workers, "default": workers == out["default_workers"], "levels": []}
        try:
            t0 = time.perf_counter()
            server.wait_ready()
            # every worker answers a few times before timing (models loaded, first-call costs paid)
            load_level(server.url, questions, max(2, workers * 2), 60, workers * 6)
            run["startup_s"] = time.perf_counter() - t0
            run["idle_rss_mb"] = server.sampler.sample() / 2**20
            for clients in ctx.args.clients:
                level = load_level(server.url, questions, clients, ctx.args.http_seconds, ctx.args.http_requests,
                                   server_pid=server.proc.pid)
                level["loadavg"] = loadavg()
                run["levels"].append(level)
        except RuntimeError as exc:
            run["error"] = str(exc)
        finally:
            server.stop()
        run["peak_rss_mb"] = server.sampler.peak / 2**20
        by = {lv["clients"]: lv for lv in run["levels"]}
        if 1 in by and by[1]["rps"]:
            top = max(by)
            run["scaling"] = by[top]["rps"] / by[1]["rps"]
            run["scaling_clients"] = top
        out["runs"].append(run)
    return out


# ------------------------------------------------------------------------------------------------ update, conversation


def part_update(ctx: Ctx) -> dict[str, Any]:
    from .bench_update import part_update as run

    return run(ctx)


def part_conversation(ctx: Ctx) -> dict[str, Any]:
    from .bench_update import part_conversation as run

    return run(ctx)


# ------------------------------------------------------------------------------------------------ scale


def _ann_cached(vectors: np.ndarray, kind: str, n: int, settings: Settings, quick: bool):
    """``build_dense_index`` for the synthetic collection, re-using an index saved by a previous run."""
    import faiss

    from ingest import store

    if n <= settings.ann_threshold:
        t: dict[str, float] = {}
        with stopwatch(t):
            index, chosen = store.build_dense_index(vectors, settings.ann_threshold)
        return index, chosen, t["seconds"], False
    name = (f"{kind}-{n}-d{vectors.shape[1]}-hnsw{store.HNSW_M}.{store.HNSW_EF_CONSTRUCTION}"
            f"-ivf{store.IVF_THRESHOLD}.{store.IVF_TRAIN_PER_LIST}")
    path, meta = BENCH_CACHE / f"{name}.faiss", BENCH_CACHE / f"{name}.json"
    if not quick and path.is_file() and meta.is_file():
        index = faiss.read_index(str(path))
        info = json.loads(meta.read_text())
        store.set_ef_search(index, store.HNSW_EF_SEARCH)
        store.set_nprobe(index, store.IVF_NPROBE)
        return index, info["kind"], info["build_seconds"], True
    t = {}
    with stopwatch(t):
        index, chosen = store.build_dense_index(vectors, settings.ann_threshold)
    if not quick:
        BENCH_CACHE.mkdir(parents=True, exist_ok=True)
        faiss.write_index(index, str(path))
        meta.write_text(json.dumps({"kind": chosen, "build_seconds": t["seconds"], "cpu_seconds": t["cpu_seconds"]}))
    return index, chosen, t["seconds"], False


def _single_query_latency(index, queries: np.ndarray, k: int = 10) -> tuple[list[float], np.ndarray]:
    ms, ids = [], []
    for q in queries:
        t = time.perf_counter()
        _, found = index.search(q[None, :], k)
        ms.append((time.perf_counter() - t) * 1000)
        ids.append(found[0])
    return ms, np.array(ids)


def _recall(found: np.ndarray, truth: np.ndarray) -> float:
    return float(np.mean([len(set(f) & set(t)) / len(t) for f, t in zip(found, truth)]))


def part_scale(ctx: Ctx) -> dict[str, Any]:
    import faiss

    from ingest import store

    from . import synthetic

    args, settings = ctx.args, ctx.settings
    if args.quick:
        settings = settings.model_copy(update={"ann_threshold": min(settings.ann_threshold, 3000)})
    rows = []
    for kind in args.scale_kinds:
        for n in args.scale_sizes:
            if kind == "isotropic" and n > args.isotropic_max:
                continue
            row: dict[str, Any] = {"kind": kind, "n": n, "dim": args.dim}
            vectors = synthetic.vectors(n, args.dim, kind)
            queries = synthetic.queries(n, args.scale_queries, args.dim, kind)
            faiss.omp_set_num_threads(max(1, os.cpu_count() or 1))
            truth = faiss.knn(queries, vectors, 10, metric=faiss.METRIC_INNER_PRODUCT)[1]
            index, chosen, build_s, reused = _ann_cached(vectors, kind, n, settings, args.quick)
            faiss.omp_set_num_threads(1)
            row.update({"index": chosen, "build_s": build_s, "build_reused": reused})
            # exact search at this size, for the growth curve (a sample of queries: it is slow at 1M)
            exact_ms = []
            for q in queries[: min(len(queries), 30)]:
                t = time.perf_counter()
                faiss.knn(q[None, :], vectors, 10, metric=faiss.METRIC_INNER_PRODUCT)
                exact_ms.append((time.perf_counter() - t) * 1000)
            row["exact_p50_ms"] = pct(exact_ms, 50)
            if chosen in ("hnsw", "ivf"):
                if chosen == "hnsw":
                    links = faiss.downcast_index(index).hnsw.neighbors.size() * 4
                    param, values, setter, chosen_value = ("ef_search", args.ef_sweep, store.set_ef_search,
                                                           store.HNSW_EF_SEARCH)
                else:
                    links = n * 8  # ids in the inverted lists
                    param, values, setter, chosen_value = ("nprobe", args.nprobe_sweep, store.set_nprobe,
                                                           store.IVF_NPROBE)
                row["memory_mb"] = (n * args.dim * 4 + links) / 2**20
                sweep = []
                for value in sorted({*values, chosen_value}):
                    setter(index, value)
                    ms, found = _single_query_latency(index, queries)
                    sweep.append({param: value, "recall@10": _recall(found, truth), **lat_summary(ms)})
                setter(index, chosen_value)
                row["sweep"] = sweep
                chosen_row = next(s for s in sweep if s[param] == chosen_value)
                row.update({param: chosen_value, "p50_ms": chosen_row["p50_ms"], "p95_ms": chosen_row["p95_ms"],
                            "recall@10": chosen_row["recall@10"]})
            else:
                row["memory_mb"] = n * args.dim * 4 / 2**20
                ms, found = _single_query_latency(index, queries)
                row.update({"p50_ms": pct(ms, 50), "p95_ms": pct(ms, 95), "recall@10": _recall(found, truth)})
            rows.append(row)
            del vectors, index
    faiss.omp_set_num_threads(max(1, os.cpu_count() or 1))
    return {"hnsw": {"M": store.HNSW_M, "ef_construction": store.HNSW_EF_CONSTRUCTION,
                     "ef_search": store.HNSW_EF_SEARCH},
            "ivf": {"threshold": store.IVF_THRESHOLD, "nprobe": store.IVF_NPROBE,
                    "train_per_list": store.IVF_TRAIN_PER_LIST}, "ann_threshold": settings.ann_threshold,
            "queries": args.scale_queries, "rows": rows}


# ------------------------------------------------------------------------------------------------ report


def targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    values: dict[str, Any] = {}
    if "ingest" in results:
        values["ingest_cold_ratio"] = results["ingest"]["ratio_cold_chunks_per_s"]
        values["reingest_speedup"] = results["ingest"]["reingest_speedup"]
    if "search" in results:
        values["ask_vs_baseline_search"] = results["search"]["ratio_ask_vs_baseline_search"]
    if "http" in results:
        for run in results["http"]["runs"]:
            lv = {x["clients"]: x for x in run["levels"]}
            if 8 in lv and 1 in lv and lv[1]["rps"]:
                ok = lv[8]["errors"] == 0
                values[f"http_scaling (workers={run['workers']})"] = (lv[8]["rps"] / lv[1]["rps"]) if ok else 0.0
    if "scale" in results:
        for row in results["scale"]["rows"]:
            if row["n"] == 1_000_000 and row["kind"] == "clustered":
                values["scale_1m_p50_ms"], values["scale_1m_recall"] = row["p50_ms"], row["recall@10"]
    if "quality" in results:
        values["quality_recall"] = results["quality"]["target_value"]
    if "update" in results:
        u = results["update"]
        values["update_visible_s"] = u.get("visible_max_s") if u.get("all_confirmed") else None
        values["update_p95_ratio"] = u.get("p95_ratio") if not u.get("ask_errors") else None
    if "conversation" in results:
        c = results["conversation"]
        values["conversation_p50_ratio"] = c.get("ratio_followup_vs_same_alone") if not c.get("errors") else None
    out = []
    for key, value in values.items():
        label, op, bound = TARGETS[key.split(" ")[0]]
        met = None if value is None else {">=": value >= bound, "<=": value <= bound, "<": value < bound}[op]
        out.append({"target": key, "what": label, "bound": f"{op} {bound}", "value": value, "met": met})
    return out


def chart(path: Path, results: dict[str, Any]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 2, figsize=(12, 8), dpi=110)
    ax = axes[0][0]
    if "ingest" in results:
        ing = results["ingest"]
        labels = ["baseline cold", "ours cold", "ours re-ingest\n(unchanged)"]
        vals = [ing["baseline_cold"]["chunks_per_s"], ing["ours_cold"]["chunks_per_s"],
                ing["ours_reingest_unchanged"]["chunks_per_s"]]
        bars = ax.bar(labels, vals, color=["#999999", "#1f77b4", "#2ca02c"])
        ax.bar_label(bars, labels=[f"{v:.1f}" for v in vals], fontsize=8)
        ax.set_yscale("log")
        ax.set_ylabel("chunks / s (log)")
    ax.set_title("Ingestion of ncp_policies", fontsize=10)
    ax = axes[0][1]
    if "search" in results:
        s = results["search"]
        keys = ["baseline_search_own", "ours_search_own", "ours_ask_own", "ours_search_own_lru_repeat",
                "baseline_query_embedding", "ours_query_embedding"]
        xs = np.arange(len(keys))
        ax.bar(xs - 0.2, [s[k]["p50_ms"] for k in keys], 0.4, label="p50")
        ax.bar(xs + 0.2, [s[k]["p95_ms"] for k in keys], 0.4, label="p95")
        ax.set_xticks(xs, [k.replace("_own", "").replace("_", " ") for k in keys], rotation=20, ha="right",
                      fontsize=7)
        ax.set_ylabel("ms")
        ax.legend(fontsize=8)
    ax.set_title("Single-client latency (own questions)", fontsize=10)
    ax = axes[1][0]
    if "http" in results:
        for run in results["http"]["runs"]:
            lv = run["levels"]
            ax.plot([x["clients"] for x in lv], [x["rps"] for x in lv], marker="o",
                    label=f"{run['workers']} worker(s)")
        ax.set_xlabel("concurrent clients")
        ax.set_ylabel("requests / s (/api/ask)")
        ax.legend(fontsize=8)
    ax.set_title("HTTP throughput on 127.0.0.1", fontsize=10)
    ax = axes[1][1]
    if "scale" in results:
        for kind in dict.fromkeys(r["kind"] for r in results["scale"]["rows"]):
            rows = [r for r in results["scale"]["rows"] if r["kind"] == kind]
            ax.plot([r["n"] for r in rows], [r["p50_ms"] for r in rows], marker="o", label=f"{kind}: index p50")
            ax.plot([r["n"] for r in rows], [r["exact_p50_ms"] for r in rows], marker="x", linestyle="--",
                    label=f"{kind}: exact p50")
            for r in rows:
                ax.annotate(f"R={r['recall@10']:.2f}", (r["n"], r["p50_ms"]), fontsize=7)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("vectors")
        ax.set_ylabel("ms per query")
        ax.legend(fontsize=7)
    ax.set_title("Dense search scaling (R = recall@10 vs exact)", fontsize=10)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def _f(v: Any, digits: int = 1) -> str:
    if v is None:
        return "–"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        return f"{v:.{digits}f}"
    return str(v)


def markdown(results: dict[str, Any]) -> str:
    m = results["meta"]
    md = [f"# yibao-qa benchmark{' (quick)' if m['quick'] else ''}\n\n",
          f"{m['started']} · commit {m['commit']} · {m['cpus']} CPUs · load average {m['loadavg_before']} → "
          f"{m['loadavg_after']} · {m['seconds']:.0f} s\n\n",
          f"Project: backend **{m['project']['embed_backend']}**, max_seq_length **{m['project']['max_seq_length']}**,"
          f" batch {m['project']['embed_batch_size']}, ann_threshold {m['project']['ann_threshold']}. "
          f"Baseline: LangChain 500/50 splitter + FAISS over the same m3e-small, float torch, 512 tokens.\n\n"
          f"Command: `{m['command']}`\n\n"]
    t = results.get("targets", [])
    if t:
        md += ["## Targets\n\n", report.table([{**r, "value": _f(r["value"], 3), "met": _f(r["met"])} for r in t],
                                             ["target", "what", "bound", "value", "met"]), "\n"]
    if "quality" in results:
        q = results["quality"]
        cols = ["variant", "cos_vs_float_min", "cos_vs_float_mean", "ncp_dense_recall@1", "ncp_dense_recall@5",
                "ncp_hybrid_recall@1", "ncp_hybrid_recall@5", "ncpall_dense_recall@5", "ncpall_hybrid_recall@5",
                "own_dense_doc_hit@1", "own_dense_doc_hit@5",
                "own_hybrid_doc_hit@1", "own_hybrid_doc_hit@5", "own_ask_doc_hit_at_1", "own_ask_keyword_coverage",
                "ncp_build_s"]
        md += [f"## Quality of the embedding forms\n\nncp_policies dev ({q['ncp_questions']} questions, doc recall@k; "
               f"`ncpall`: train + dev, {q.get('ncp_all_questions', 0)} questions) "
               f"and the own set ({q['own_questions']} questions, doc hit@k of `search`; `ask` metrics from "
               f"`python -m eval`). Reference: {q['reference']}. `ncp_build_s` includes embedding only for "
               "vectors not yet in the persistent cache.\n\n",
               report.table([{c: (_f(r.get(c), 3) if c != "variant" else r[c]) for c in cols} for r in q["rows"]],
                            cols), "\n"]
    if "ingest" in results:
        g = results["ingest"]
        rows = []
        for label in ("baseline_cold", "ours_cold", "ours_reingest_unchanged", "ours_unchanged_detected",
                      "ours_changed"):
            r = g[label]
            rows.append({"run": label, "chunks": r.get("chunks"), "embedded": r.get("embedded"),
                         "seconds": _f(r["seconds"], 2), "cpu_s": _f(r["cpu_seconds"], 1),
                         "chunks/s": _f(r["chunks_per_s"], 1), "chunks/cpu-s": _f(r["chunks_per_cpu_s"], 2),
                         "mean chunk chars": _f(r.get("mean_chunk_chars"), 0)})
        ch = g["ours_changed"]
        md += [f"## Ingestion — ncp_policies ({g['documents']} documents)\n\n",
               report.table(rows, list(rows[0])),
               f"\nCold: ours ÷ baseline = **{g['ratio_cold_chunks_per_s']:.2f}×** chunks/s "
               f"({g['ratio_cold_chunks_per_cpu_s']:.2f}× per CPU-second; whole ingestion "
               f"{g['ratio_cold_total_time']:.2f}× faster). Unchanged re-ingest (forced rebuild, vectors from "
               f"the cache): **{g['reingest_speedup']:.1f}×** faster than cold. Changed corpus (one document "
               f"edited, one added): {ch['embedded']} chunks embedded, {ch['new_chunk_texts']} chunk texts new → "
               f"only new chunks embedded: {_f(ch['only_new_embedded'])}.\n\n"]
    if "search" in results:
        s = results["search"]
        keys = [k for k, v in s.items() if isinstance(v, dict) and "p50_ms" in v]
        rows = [{"call": k, "n": s[k]["n"], "p50 ms": _f(s[k]["p50_ms"], 2), "p95 ms": _f(s[k]["p95_ms"], 2)}
                for k in keys]
        md += [f"## Single-client latency — {s['questions']} questions of eval/questions.jsonl\n\n"
               "Query cache off except `lru_repeat`; calls interleaved per question. `own` = the product "
               "corpus, `ncp` = ncp_policies.\n\n", report.table(rows, list(rows[0])),
               f"\nask p50 ÷ baseline similarity_search p50 (own corpus): **{s['ratio_ask_vs_baseline_search']:.2f}**"
               f"; search ÷ baseline search on ncp: {_f(s.get('ratio_search_vs_baseline_search_ncp'), 2)}.\n\n"]
    if "http" in results:
        h = results["http"]
        md += [f"## HTTP — POST /api/ask on 127.0.0.1 ({h['seconds_per_level']} s or "
               f"{h['max_requests_per_level']} requests per level, query cache "
               f"{'on' if h['query_cache'] else 'off'})\n\n"
               f"Each client: one keep-alive connection, cycling through {h.get('questions', '?')} evaluation "
               "questions from its own offset. CPU ms are per answered request: the server's processes and "
               "the client process (same machine). Connections per worker: sampled halfway through the level. "
               "`python -m api` serves with "
               f"**{h.get('default_workers', '?')} worker(s)** by default on this machine.\n\n"]
        for run in h["runs"]:
            if run.get("error"):
                md.append(f"- {run['workers']} worker(s): **error** {run['error'][:300]}\n")
            rows = [{"clients": x["clients"], "requests": x["requests"], "errors": x["errors"],
                     "req/s": _f(x["rps"], 2), "p50 ms": _f(x["p50_ms"], 1), "p95 ms": _f(x["p95_ms"], 1),
                     "server CPU ms": _f(x.get("server_cpu_ms"), 2), "client CPU ms": _f(x.get("client_cpu_ms"), 2),
                     "load avg": _f((x.get("loadavg") or [None])[0], 2),
                     "connections per worker": "/".join(map(str, x.get("connections_per_process") or [])) or "–"}
                    for x in run["levels"]]
            default = " (the `python -m api` default)" if run.get("default") else ""
            md += [f"### {run['workers']} worker(s){default} — start-up {_f(run.get('startup_s'), 1)} s, idle RSS "
                   f"{_f(run.get('idle_rss_mb'), 0)} MB, peak RSS {_f(run['peak_rss_mb'], 0)} MB "
                   f"(server + workers)\n\n", report.table(rows, list(rows[0])) if rows else "", "\n",
                   f"Throughput {run.get('scaling_clients', '–')} clients ÷ 1 client: "
                   f"**{_f(run.get('scaling'), 2)}×**.\n\n"]
    if "conversation" in results:
        from .bench_update import markdown_conversation

        md.append(markdown_conversation(results["conversation"]))
    if "update" in results:
        from .bench_update import markdown_update

        md.append(markdown_update(results["update"]))
    if "scale" in results:
        sc = results["scale"]
        md += [f"## Dense index scaling — synthetic normalised vectors ({sc['queries']} queries, k = 10)\n\n"
               f"Index chosen by `build_dense_index`: exact up to ann_threshold = {sc['ann_threshold']}, HNSW "
               f"(M = {sc['hnsw']['M']}, efConstruction = {sc['hnsw']['ef_construction']}, efSearch = "
               f"{sc['hnsw']['ef_search']}) above, IVF (nlist ≈ 4·√n, nprobe = {sc['ivf']['nprobe']}) above "
               f"{sc['ivf']['threshold']:,}. Single-threaded queries. `clustered`: topics of 50 vectors "
               "(cosine ≈ 0.8 to the topic); `isotropic`: no structure (worst case).\n\n"]
        rows = [{"kind": r["kind"], "n": r["n"], "index": r["index"], "build s": _f(r["build_s"], 1)
                 + (" (saved)" if r["build_reused"] else ""), "memory MB": _f(r["memory_mb"], 0),
                 "exact p50 ms": _f(r["exact_p50_ms"], 2), "p50 ms": _f(r["p50_ms"], 3),
                 "p95 ms": _f(r["p95_ms"], 3), "recall@10": _f(r["recall@10"], 3)} for r in sc["rows"]]
        md += [report.table(rows, list(rows[0])), "\n"]
        for r in sc["rows"]:
            if r.get("sweep"):
                param = "ef_search" if r["index"] == "hnsw" else "nprobe"
                md.append(f"{param} sweep, {r['kind']} {r['n']:,} ({r['index']}): " + "; ".join(
                    f"{s[param]}: R {s['recall@10']:.3f}, p50 {s['p50_ms']:.2f} ms, p95 {s['p95_ms']:.2f} ms"
                    for s in r["sweep"]) + "\n\n")
    md.append("![chart](chart.png)\n")
    return "".join(md)


# ------------------------------------------------------------------------------------------------ main


def parse_args(argv: list[str]) -> argparse.Namespace:
    def ints(text: str) -> list[int]:
        return [int(float(x)) for x in text.split(",") if x.strip()]

    p = argparse.ArgumentParser(prog="python -m eval bench", description=__doc__.split("\n\n")[0])
    p.add_argument("--only", default=",".join(DEFAULT_PARTS), help=f"comma-separated parts of {','.join(PARTS)}")
    p.add_argument("--quick", action="store_true", help="small smoke version (seconds, not minutes)")
    p.add_argument("--out", type=Path, default=None, help="report folder (default var/reports/<timestamp>-bench)")
    p.add_argument("--backend", choices=["torch", "onnx", "onnx-int8"], default=None,
                   help="project embedding backend (default: YIBAO_EMBED_BACKEND)")
    p.add_argument("--seq", type=int, default=None, help="project max_seq_length (default: YIBAO_MAX_SEQ_LENGTH)")
    p.add_argument("--questions", type=int, default=None, help="use the first N evaluation questions")
    p.add_argument("--workers", type=ints, default=None,
                   help=f"server worker counts (default: python -m api's default, {default_workers()}, then 1)")
    p.add_argument("--clients", type=ints, default=[1, 4, 8], help="concurrent clients (default 1,4,8)")
    p.add_argument("--http-seconds", type=float, default=15.0, help="duration of one load level (default 15)")
    p.add_argument("--http-requests", type=int, default=3000, help="request cap per load level (default 3000)")
    p.add_argument("--query-cache", action="store_true", help="keep the server's query cache on (default off)")
    p.add_argument("--scale-sizes", type=ints, default=[10_000, 100_000, 1_000_000])
    p.add_argument("--scale-kinds", default="clustered,isotropic", type=lambda s: s.split(","))
    p.add_argument("--isotropic-max", type=int, default=100_000, help="largest isotropic collection (default 100k)")
    p.add_argument("--scale-queries", type=int, default=200)
    p.add_argument("--ef-sweep", type=ints, default=[16, 32, 64, 128, 256])
    p.add_argument("--nprobe-sweep", type=ints, default=[16, 32, 64, 128, 256])
    p.add_argument("--dim", type=int, default=512)
    p.add_argument("--update-chunks", type=int, default=100_000,
                   help="chunks of the update part's index (default 100k)")
    p.add_argument("--update-rounds", type=int, default=3, help="add/replace/delete rounds (default 3)")
    p.add_argument("--update-seconds", type=float, default=30.0,
                   help="length of each latency phase of the update part: idle, changing, idle (default 30)")
    p.add_argument("--update-requests", type=int, default=2000, help="request cap per latency phase")
    p.add_argument("--conversation-dialogues", type=int, default=20,
                   help="dialogues of eval/dialogues.jsonl besides the README's one (default 20)")
    p.add_argument("--conversation-rounds", type=int, default=3, help="times each dialogue is run (default 3)")
    args = p.parse_args(argv)
    if args.workers is None:
        args.workers = list(dict.fromkeys([default_workers(), 1]))
    args.parts = [x.strip() for x in args.only.split(",") if x.strip()]
    bad = [x for x in args.parts if x not in PARTS]
    if bad:
        p.error(f"unknown part(s) {bad}; choose from {','.join(PARTS)}")
    if args.quick:
        args.questions = args.questions or 5
        args.workers, args.clients = [1], [1, 2]
        args.http_seconds, args.http_requests = min(args.http_seconds, 2.0), min(args.http_requests, 40)
        args.scale_sizes, args.isotropic_max, args.scale_queries = [1000, 4000], 1000, 20
        args.ef_sweep, args.nprobe_sweep = [16, 64], [4, 16]
        args.update_chunks, args.update_rounds = min(args.update_chunks, 45), 1
        args.update_seconds, args.update_requests = min(args.update_seconds, 1.0), min(args.update_requests, 10)
        args.conversation_dialogues, args.conversation_rounds = 0, 1
    return args


def main(argv: list[str] | None = None, *, settings: Settings | None = None) -> int:
    args = parse_args(list(sys.argv[1:] if argv is None else argv))
    settings = settings or get_settings()
    update = {k: v for k, v in (("embed_backend", args.backend), ("max_seq_length", args.seq)) if v is not None}
    settings = settings.model_copy(update=update)
    base_settings = settings.model_copy(update=BASELINE_BACKEND)
    folder = args.out or report.report_dir("bench")
    folder.mkdir(parents=True, exist_ok=True)
    started, t0 = time.strftime("%Y-%m-%d %H:%M:%S"), time.perf_counter()
    meta = {"started": started, "commit": report.git_commit(), "cpus": os.cpu_count(), "quick": args.quick,
            "python": platform.python_version(), "loadavg_before": loadavg(), "parts": args.parts,
            "command": "python -m eval bench " + " ".join(sys.argv[1:] if argv is None else argv),
            "project": {k: getattr(settings, k) for k in ("embed_backend", "max_seq_length", "embed_batch_size",
                                                           "ann_threshold", "query_cache_size")}}
    results: dict[str, Any] = {"meta": meta}
    runners = {"quality": part_quality, "ingest": part_ingest, "search": part_search, "http": part_http,
               "conversation": part_conversation, "update": part_update, "scale": part_scale}
    tmp = Path(tempfile.mkdtemp(prefix="yibao-bench-"))
    ctx = Ctx(args, settings, base_settings, tmp)
    status = 0
    try:
        for part in PARTS:
            if part not in args.parts:
                continue
            print(f"bench: {part} …", file=sys.stderr, flush=True)
            t = time.perf_counter()
            try:
                results[part] = runners[part](ctx)
            except Exception as exc:  # noqa: BLE001 - one failed part is reported, the others still run
                import traceback

                traceback.print_exc()
                results[part + "_error"] = f"{type(exc).__name__}: {exc}"
                status = 1
            print(f"bench: {part} done in {time.perf_counter() - t:.0f} s", file=sys.stderr, flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    meta["seconds"], meta["loadavg_after"] = time.perf_counter() - t0, loadavg()
    results["targets"] = targets(results)
    chart(folder / "chart.png", results)
    md = markdown(results)
    for key in [k for k in results if k.endswith("_error")]:
        md += f"\n**{key}**: {results[key]}\n"
    report.write(folder, md, results)
    for row in results["targets"]:
        print(f"{row['target']}: {_f(row['value'], 3)} ({row['bound']}) {'met' if row['met'] else 'NOT met'}")
    print(f"report: {folder}/report.md")
    return status
