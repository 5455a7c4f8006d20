"""The ``update`` and ``conversation`` parts of ``python -m eval bench``.

``update`` — knowledge-base changes on a large index, over HTTP:

1. An index of at least ``--update-chunks`` (default 100,000) chunks: the five product articles and the 599
   ncp_policies documents, plus near-duplicate copies of the ncp documents "reissued" by other cities
   (``eval.bench_docs.perturbed``: the city in the title and a first line, digits shifted) until the chunk
   count is reached. It is built by the normal ``ingest.build.build_index`` (chunking, BM25, HNSW) and saved
   in ``var/cache/bench/update-<key>/`` for re-runs. Embedding 100k chunks with the model would take hours
   on a small machine (the part measures the model's rate on a sample and reports the estimate), so only the
   distinct originals go through the model (and the persistent embedding cache); each copy's chunk gets its
   original's vector plus a little seeded noise (cosine ≈ 0.97 to it). The served index really holds every
   chunk, its text, its BM25 tokens and a vector in the HNSW graph; only the copies' vectors are derived.
2. ``python -m api`` (its default worker count) on that index, with an admin token and its own temporary
   knowledge-base folder, embedding cache (new uploads are really embedded) and conversation store.
3. Visibility: for each of ``--update-rounds`` made-up cities, a real five-page PDF notice
   (``eval.bench_docs.notice_pdf``) is added (``POST /api/documents``), replaced with a new version
   (``PUT``) and deleted (``DELETE``). From the start of each request, ``/api/ask`` is asked about the
   notice's unique rule (each time on a new connection, so either worker may answer) until an answer
   shows the change: it cites the new document / cites the new version's rule and nothing of the old /
   no longer cites the document. Reported per change: the admin request's time and the time to that answer.
4. Latency under change: one client asks the evaluation questions for ``--update-seconds`` while the index
   is idle, then while another thread adds, replaces and deletes notices in a loop, then idle again;
   p50/p95 of each phase and p95 while changing ÷ p95 idle.

``conversation`` — the cost of a conversation turn: ``python -m api`` on the product index with a
conversation store; one client runs dialogues (the README's 职工医保断缴3个月怎么补 → 那居民医保呢 → 要带什么材料,
and the first ``--conversation-dialogues`` of ``eval/dialogues.jsonl``) as conversations (follow-ups sent with
the returned ``conversation_id``) and asks the same questions without a ``conversation_id``: the first
questions, and each follow-up in the form the server understood it (its ``understood_as``), so that both
sides answer the same question and differ only in the conversation. p50 of each and the ratio.
"""

from __future__ import annotations

import hashlib
import json
import math
import secrets
import shutil
import sys
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

from . import bench_docs

SYNTH_VERSION = 1  # bump when the synthetic corpus or the vector derivation changes
NOISE_COSINE = 0.97  # a copy's vector to its original's
SAMPLE_EMBED = 64  # copy chunks embedded for real to measure the model's rate


def _say(text: str) -> None:
    print(f"bench update: {text}", file=sys.stderr, flush=True)


# ------------------------------------------------------------------------------------ the synthetic index


class _TableEmbedder:
    """The project's embedder for ``build_index``, answering from a table of precomputed vectors."""

    def __init__(self, real, table: dict[str, np.ndarray]):
        self.real, self.table = real, table
        self.settings, self.name, self.signature, self.dim = real.settings, real.name, real.signature, real.dim
        self.model_calls = 0

    def encode(self, texts: list[str], **_: Any) -> np.ndarray:
        missing = [t for t in texts if t not in self.table]
        if missing:
            self.model_calls += len(missing)
            self.table.update(zip(missing, self.real.encode(missing)))
        return np.stack([self.table[t] for t in texts]).astype(np.float32)


def _source_docs(ctx) -> tuple[list, list]:
    """(documents kept once, documents that get copies): product articles and ncp documents, or in quick mode
    the product articles only (copied)."""
    from ingest.corpus import Document

    from .bench import ncp_corpus_dir, own_docs

    own = own_docs(ctx.settings)
    if ctx.args.quick:
        return own, own
    from ingest.corpus import load_corpus

    ncp = [Document(d.doc_id, d.title, d.text, {"dataset": "ncp_policies"}) for d in load_corpus(ncp_corpus_dir(ctx))]
    return own + ncp, ncp


def _records(docs) -> list[dict[str, Any]]:
    return [{"doc_id": d.doc_id, "title": d.title, "text": d.text, "metadata": d.metadata} for d in docs]


def _write_jsonl(path: Path, records: list[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as f:
        for rec in records:
            f.write(json.dumps(rec, ensure_ascii=False) + "\n")


def _key(ctx, min_chunks: int, kept, copied) -> str:
    from ingest.build import corpus_hash, settings_hash

    emb = ctx.ours
    parts = [SYNTH_VERSION, NOISE_COSINE, min_chunks, settings_hash(ctx.settings, emb.signature),
             corpus_hash(kept), corpus_hash(copied)]
    return hashlib.sha256(json.dumps(parts, ensure_ascii=False).encode()).hexdigest()[:16]


def synthetic_index(ctx, min_chunks: int) -> tuple[Path, dict[str, Any]]:
    """A built index (version folder) of at least ``min_chunks`` chunks, and how it was made (see the module
    docstring). Saved under ``var/cache/bench/update-<key>/`` (quick mode: the run's temporary folder)."""
    from ingest import store
    from ingest.build import build_index, embed_with_cache, index_rows
    from ingest.cache import EmbeddingCache
    from ingest.corpus import load_corpus

    from .bench import BENCH_CACHE, stopwatch
    from .load import REGIONS

    settings, real = ctx.settings, ctx.ours
    kept, copied = _source_docs(ctx)
    key = _key(ctx, min_chunks, kept, copied)
    root = (ctx.tmp / "update-index") if ctx.args.quick else BENCH_CACHE / f"update-{key}"
    index_dir = root / "index"
    info_path = root / "info.json"
    if (index_dir / store.MANIFEST).is_file() and info_path.is_file():
        info = json.loads(info_path.read_text(encoding="utf-8"))
        info["reused"] = True
        return index_dir.resolve(), info
    if not ctx.args.quick and BENCH_CACHE.is_dir():  # an index of older settings: not needed any more
        for old in BENCH_CACHE.glob("update-*"):
            if old.is_dir() and old != root:
                shutil.rmtree(old, ignore_errors=True)
    shutil.rmtree(root, ignore_errors=True)
    corpus = root / "corpus"
    t_all: dict[str, float] = {}
    with stopwatch(t_all):
        # -- the documents: originals once, then copies by other cities until the chunks suffice
        n_original = len(index_rows(kept, {}, settings).records)
        per_copy = len(index_rows(copied, {}, settings).records)
        copies = max(0, math.ceil((min_chunks * 1.02 - n_original) / per_copy))
        origin: dict[str, str] = {}  # copy doc_id → original doc_id
        records = _records(kept)
        for k in range(1, copies + 1):
            city = REGIONS[(k - 1) % len(REGIONS)]
            for d in copied:
                title, text = bench_docs.perturbed(d.title, d.text, k, city)
                doc_id = f"{d.doc_id}.c{k:02d}"
                origin[doc_id] = d.doc_id
                records.append({"doc_id": doc_id, "title": title, "text": text,
                                "metadata": {**d.metadata, "synthetic_copy_of": d.doc_id}})
        _write_jsonl(corpus / "synthetic.jsonl", records)
        docs = load_corpus(corpus)
        rows = index_rows(docs, {}, settings)
        if len(rows.records) < min_chunks:
            raise RuntimeError(f"synthetic corpus has {len(rows.records)} chunks, fewer than {min_chunks}")
        _say(f"{len(docs):,} documents, {len(rows.records):,} chunks ({copies} copies); deriving vectors …")
        # -- vectors: originals through the model (and the persistent cache), copies derived from them
        by_doc: dict[str, list[int]] = {}
        for i, r in enumerate(rows.records):
            by_doc.setdefault(r["doc_id"], []).append(i)
        originals = [i for i, r in enumerate(rows.records) if r["doc_id"] not in origin]
        cache = EmbeddingCache(Path(settings.cache_dir) / "embeddings.sqlite")
        t_embed: dict[str, float] = {}
        try:
            with stopwatch(t_embed):
                vecs, embedded = embed_with_cache(real, [rows.embed_texts[i] for i in originals], cache,
                                                  progress=False)
        finally:
            cache.close()
        vector_of = dict(zip(originals, vecs))
        # a sample of copy chunks through the model: its rate on this text, and how near the derived vectors are
        copy_rows = [i for i, r in enumerate(rows.records) if r["doc_id"] in origin]
        rng = np.random.default_rng(SYNTH_VERSION)
        sample = sorted(rng.choice(copy_rows, size=min(len(copy_rows), 8 if ctx.args.quick else SAMPLE_EMBED),
                                   replace=False).tolist())
        t_sample: dict[str, float] = {}
        with stopwatch(t_sample):
            sample_vecs = real.encode([rows.embed_texts[i] for i in sample])
        sigma = math.sqrt((1 / NOISE_COSINE**2 - 1) / real.dim)
        table: dict[str, np.ndarray] = {rows.embed_texts[i]: vector_of[i] for i in originals}
        for doc_id, idx in by_doc.items():
            src = origin.get(doc_id)
            if src is None:
                continue
            orig = by_doc[src]
            for j, i in enumerate(idx):
                o = orig[min(len(orig) - 1, round(j * (len(orig) - 1) / max(1, len(idx) - 1)))]
                v = vector_of[o] + rng.normal(0.0, sigma, real.dim).astype(np.float32)
                table[rows.embed_texts[i]] = v / np.linalg.norm(v)
        derived = np.stack([table[rows.embed_texts[i]] for i in sample])
        cos_true = (derived * sample_vecs).sum(axis=1)
        del vector_of, rows
        # -- the normal build, with the vectors from the table
        _say("building the index (chunks, BM25, HNSW) …")
        emb = _TableEmbedder(real, table)
        t_build: dict[str, float] = {}
        with stopwatch(t_build):
            rep = build_index(corpus, index_dir, settings=settings, embedder=emb, use_cache=False, progress=False)
    manifest = store.read_manifest(index_dir) or {}
    rate = len(sample) / t_sample["seconds"] if t_sample["seconds"] else None
    info = {
        "documents": rep.documents, "chunks": rep.chunks, "dense_index": manifest.get("dense_index"),
        "copies": copies, "copied": "the product articles" if ctx.args.quick else "the ncp_policies documents",
        "original_documents": len(kept), "original_chunks": n_original,
        "embedded_by_model": embedded + emb.model_calls, "original_chunks_cached": len(originals) - embedded,
        "embed_originals_s": t_embed["seconds"], "build_s": t_build["seconds"], "total_s": t_all["seconds"],
        "model_chunks_per_s": rate, "estimated_full_embed_s": rep.chunks / rate if rate else None,
        "sample_embedded": len(sample), "derived_vs_true_cosine_mean": float(cos_true.mean()),
        "derived_vs_true_cosine_min": float(cos_true.min()), "noise_cosine": NOISE_COSINE, "key": key,
        "folder": str(root), "built": time.strftime("%Y-%m-%d %H:%M:%S"),
    }
    info_path.write_text(json.dumps(info, ensure_ascii=False, indent=1), encoding="utf-8")
    shutil.rmtree(corpus, ignore_errors=True)  # the index holds the documents; the corpus copy is not needed
    info["reused"] = False
    return index_dir.resolve(), info


# ------------------------------------------------------------------------------------ HTTP helpers


class Asker:
    """POST /api/ask with the standard library client: on one keep-alive connection (``keep=True``), or on a
    new connection each time (``keep=False``: with several workers, any of them may answer, as for separate
    users). A new connection on loopback costs well under a millisecond."""

    def __init__(self, url: str, keep: bool = True, timeout: float = 120.0):
        from urllib.parse import urlsplit

        where = urlsplit(url)
        self.host, self.port, self.keep, self.timeout = where.hostname or "127.0.0.1", where.port or 80, keep, timeout
        self.conn = None

    def __call__(self, question: str, conversation_id: str | None = None) -> tuple[float, int | None, dict[str, Any]]:
        """(ms, status, JSON body) of one ask; status None when the connection failed."""
        import http.client

        payload: dict[str, Any] = {"question": question}
        if conversation_id:
            payload["conversation_id"] = conversation_id
        body = json.dumps(payload, ensure_ascii=False).encode()
        t = time.perf_counter()
        try:
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            self.conn.request("POST", "/api/ask", body=body, headers={"Content-Type": "application/json"})
            r = self.conn.getresponse()
            data = r.read()
            ms = (time.perf_counter() - t) * 1000
            status = r.status
        except (OSError, http.client.HTTPException) as exc:
            self.close()
            return (time.perf_counter() - t) * 1000, None, {"error": f"{type(exc).__name__}: {exc}"}
        if not self.keep:
            self.close()
        try:
            return ms, status, json.loads(data)
        except ValueError:
            return ms, status, {}

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def _cited(body: dict[str, Any]) -> list[dict[str, Any]]:
    return list(body.get("citations") or [])


class Notices:
    """The PDFs of the run: each (city, variant, issue) rendered once."""

    def __init__(self, filler_texts: list[str]):
        self.texts = filler_texts
        self._pdf: dict[tuple[str, int, int], bytes] = {}

    def pdf(self, n: bench_docs.Notice, start: int) -> bytes:
        key = (n.city, n.variant, n.issue)
        if key not in self._pdf:
            self._pdf[key] = bench_docs.notice_pdf(n, bench_docs.filler_paragraphs(self.texts, start))
        return self._pdf[key]


def _admin(client, token: str, method: str, path: str, pdf: bytes | None = None, filename: str = "",
           metadata: dict[str, Any] | None = None):
    headers = {"Authorization": f"Bearer {token}"}
    if pdf is None:
        return client.request(method, path, headers=headers)
    files = {"file": (filename, pdf, "application/pdf")}
    data = {"metadata": json.dumps(metadata or {}, ensure_ascii=False)}
    return client.request(method, path, headers=headers, files=files, data=data)


def timed_change(url: str, token: str, kind: str, n: bench_docs.Notice, pdf: bytes | None, doc_id: str | None,
                 old: bench_docs.Notice | None = None, timeout: float = 120.0) -> dict[str, Any]:
    """One change (add / replace / delete) and the time until an answer shows it (see the module docstring)."""
    import httpx

    method, path, expect = {"add": ("POST", "/api/documents", 201), "replace": ("PUT", f"/api/documents/{doc_id}", 200),
                            "delete": ("DELETE", f"/api/documents/{doc_id}", 200)}[kind]
    out: dict[str, Any] = {"kind": kind, "city": n.city, "variant": n.variant, "question": n.question}
    with httpx.Client(base_url=url, timeout=timeout) as client:
        t0 = time.perf_counter()
        r = _admin(client, token, method, path, pdf, f"{n.city}-通知-v{n.variant}.pdf",
                   {"publisher": f"{n.city}医疗保障局"})
        out["request_s"] = time.perf_counter() - t0
        out["status"] = r.status_code
        body = r.json() if r.headers.get("content-type", "").startswith("application/json") else {}
        if r.status_code != expect:
            out["error"] = f"{method} {path}: expected {expect}, got {r.status_code}: {str(body)[:300]}"
            return out
        doc_id = body.get("doc_id", doc_id)
        out.update({"doc_id": doc_id, "chunks": body.get("chunks"), "embedded": body.get("embedded"),
                    "version": body.get("version")})

    def shows(answer: dict[str, Any]) -> bool:
        cites = [c for c in _cited(answer) if c.get("doc_id") == doc_id]
        if kind == "delete":
            return not cites
        if kind == "replace":
            text = answer.get("answer", "") + "".join(c.get("text", "") for c in _cited(answer))
            return any(n.marker in c.get("text", "") for c in cites) and (old is None or old.marker not in text)
        return bool(cites)

    polls, ask_ms = 0, []
    ask = Asker(url, keep=False)  # a new connection each time: any worker may answer
    while time.perf_counter() - t0 < timeout:
        ms, status, answer = ask(n.question)
        polls += 1
        ask_ms.append(ms)
        if status == 200 and shows(answer):
            out["visible_s"] = time.perf_counter() - t0
            out["answer_status"] = answer.get("status")
            break
        if status != 200:
            out["error"] = f"/api/ask: HTTP {status}: {str(answer)[:200]}"
            break
    out.update({"polls": polls, "confirmed": "visible_s" in out, "last_ask_ms": ask_ms[-1] if ask_ms else None})
    return out


class Churn(threading.Thread):
    """Adds, replaces and deletes notices in a loop until stopped; every document is new content."""

    def __init__(self, url: str, token: str, notices: Notices, first_issue: int = 100):
        super().__init__(daemon=True, name="kb-churn")
        self.url, self.token, self.notices, self.issue = url, token, notices, first_issue
        self.halt = threading.Event()
        self.started_change = threading.Event()
        self.changes: list[dict[str, Any]] = []

    def _one(self, client, method: str, path: str, expect: int, pdf: bytes | None, name: str) -> str | None:
        t = time.perf_counter()
        try:
            r = _admin(client, self.token, method, path, pdf, name)
            status, doc_id = r.status_code, (r.json().get("doc_id") if r.status_code == expect else None)
        except Exception as exc:  # noqa: BLE001 - recorded as an error of the run
            status, doc_id = None, None
            self.changes.append({"kind": method, "status": None, "ms": None, "error": f"{type(exc).__name__}: {exc}",
                                 "at": time.perf_counter()})
            return None
        self.changes.append({"kind": method, "status": status, "ms": (time.perf_counter() - t) * 1000,
                             "error": None if status == expect else f"{method} {path}: {status}",
                             "at": time.perf_counter()})
        return doc_id

    def run(self) -> None:
        import httpx

        cities = bench_docs.CITIES
        with httpx.Client(base_url=self.url, timeout=300) as client:
            while not self.halt.is_set():
                self.issue += 1
                city = cities[self.issue % len(cities)]
                v1, v2 = bench_docs.notice(city, 1, self.issue), bench_docs.notice(city, 2, self.issue)
                self.started_change.set()
                doc_id = self._one(client, "POST", "/api/documents", 201, self.notices.pdf(v1, self.issue * 3),
                                   f"{city}-{self.issue}.pdf")
                if doc_id is None or self.halt.is_set():
                    if doc_id:
                        self._one(client, "DELETE", f"/api/documents/{doc_id}", 200, None, "")
                    continue
                self._one(client, "PUT", f"/api/documents/{doc_id}", 200, self.notices.pdf(v2, self.issue * 3),
                          f"{city}-{self.issue}-v2.pdf")
                self._one(client, "DELETE", f"/api/documents/{doc_id}", 200, None, "")

    def stop(self) -> None:
        self.halt.set()
        self.join(timeout=600)


def warm_workers(url: str, questions: list[str], workers: int, attempts: int = 60) -> dict[str, Any]:
    """Ask every question once on every worker (so that no measured phase pays first-time costs, such as the
    sentence vectors of a large index, which are computed the first time a sentence is a candidate). A worker is
    reached through a connection it accepted, recognised by the pid ``/api/health`` reports; the connections
    take turns, so that none idles past the server's keep-alive timeout."""
    import http.client
    from urllib.parse import urlsplit

    where = urlsplit(url)
    host, port = where.hostname or "127.0.0.1", where.port or 80
    conns: dict[int, http.client.HTTPConnection] = {}
    asked = 0

    def connect() -> None:
        for _ in range(attempts):
            if len(conns) >= workers:
                return
            conn = http.client.HTTPConnection(host, port, timeout=120)
            conn.request("GET", "/api/health")
            pid = json.loads(conn.getresponse().read()).get("worker")
            if pid in conns or pid is None:
                conn.close()
            else:
                conns[pid] = conn

    t0 = time.perf_counter()
    try:
        connect()
        reached = len(conns)
        for q in questions:
            for pid, conn in list(conns.items()):
                try:
                    conn.request("POST", "/api/ask", body=json.dumps({"question": q}, ensure_ascii=False).encode(),
                                 headers={"Content-Type": "application/json"})
                    conn.getresponse().read()
                    asked += 1
                except (OSError, http.client.HTTPException):
                    conn.close()
                    del conns[pid]
                    connect()
    finally:
        for conn in conns.values():
            conn.close()
    return {"workers_reached": reached, "asks": asked, "seconds": time.perf_counter() - t0}


def latencies(ms: list[float]) -> dict[str, Any]:
    from .bench import lat_summary, pct

    return {**lat_summary(ms), "p99_ms": pct(ms, 99), "max_ms": max(ms) if ms else None}


def ask_phase(url: str, questions: list[str], seconds: float, max_requests: int, offset: int = 0
              ) -> dict[str, Any]:
    """One client asking ``questions`` in turn for ``seconds``, each on a new connection (any worker answers)."""
    ms, errors = [], []
    ask = Asker(url, keep=False)
    t0 = time.perf_counter()
    i = offset
    while time.perf_counter() - t0 < seconds and len(ms) + len(errors) < max_requests:
        took, status, body = ask(questions[i % len(questions)])
        i += 1
        (ms.append(took) if status == 200 and "answer" in body else errors.append(f"HTTP {status}"))
    return {**latencies(ms), "errors": len(errors), "error_kinds": sorted(set(errors)),
            "seconds": time.perf_counter() - t0, "started": t0, "ms": ms}


# ------------------------------------------------------------------------------------ the parts


def _server_env(ctx, run_dir: Path, token: str) -> dict[str, str]:
    cache = run_dir / "cache"
    cache.mkdir(parents=True, exist_ok=True)
    onnx = Path(ctx.settings.cache_dir) / "onnx"
    if onnx.is_dir():  # the exported model, not the embeddings: uploads are embedded for real
        (cache / "onnx").symlink_to(onnx.resolve(), target_is_directory=True)
    return {"YIBAO_KB_DIR": str(run_dir / "kb"), "YIBAO_CACHE_DIR": str(cache), "YIBAO_ADMIN_TOKEN": token}


def part_update(ctx) -> dict[str, Any]:
    import httpx

    from .bench import Server, lat_summary, loadavg, own_questions
    from .external import DATA_DIR, NCP, load_dataset

    args = ctx.args
    out: dict[str, Any] = {"loadavg_before": loadavg(), "min_chunks": args.update_chunks,
                           "seconds_per_phase": args.update_seconds, "rounds": args.update_rounds}
    _say(f"index of ≥ {args.update_chunks:,} chunks …")
    version_dir, out["index"] = synthetic_index(ctx, args.update_chunks)
    _say(f"index: {out['index']['chunks']:,} chunks, {out['index']['documents']:,} documents "
         f"({'reused' if out['index']['reused'] else 'built'})")
    run_dir = ctx.tmp / "update-run"
    run_dir.mkdir(parents=True, exist_ok=True)
    index_dir = run_dir / "index"
    index_dir.symlink_to(version_dir, target_is_directory=True)  # changes publish beside it, the base stays
    token = secrets.token_urlsafe(24)
    workers = args.workers[0]
    out["workers"] = workers
    notices = Notices([d.text for d in load_dataset(NCP, DATA_DIR).docs])
    questions = [q.question for q in own_questions(ctx)]
    server = Server(ctx, index_dir, workers, env=_server_env(ctx, run_dir, token), name="update")
    try:
        t0 = time.perf_counter()
        server.wait_ready(timeout=3600)
        ask = Asker(server.url, keep=False)
        for q in questions[: 4 * workers]:  # every worker: first-call costs paid
            ask(q)
        health = httpx.get(f"{server.url}/api/health", timeout=60).json()
        out["startup_s"] = time.perf_counter() - t0
        out["served_chunks"], out["served_documents"] = health.get("chunks"), health.get("documents")
        out["idle_rss_mb"] = server.sampler.sample() / 2**20
        _say(f"server ready in {out['startup_s']:.0f} s ({workers} worker(s), {out['served_chunks']:,} chunks)")

        # (a) add → replace → delete, each until an answer shows it
        events = []
        for r in range(args.update_rounds):
            city = bench_docs.CITIES[r % len(bench_docs.CITIES)]
            v1, v2 = bench_docs.notice(city, 1, r + 1), bench_docs.notice(city, 2, r + 1)
            add = timed_change(server.url, token, "add", v1, notices.pdf(v1, r * 7), None)
            events.append({"round": r + 1, **add})
            if add.get("error") or not add.get("doc_id"):
                break
            rep = timed_change(server.url, token, "replace", v2, notices.pdf(v2, r * 7), add["doc_id"], old=v1)
            events.append({"round": r + 1, **rep})
            dele = timed_change(server.url, token, "delete", v2, None, add["doc_id"])
            events.append({"round": r + 1, **dele})
            for e in events[-3:]:
                _say(f"round {r + 1} {e['kind']:7s} {city}: request {e.get('request_s', 0):.2f} s, visible after "
                     f"{e.get('visible_s', float('nan')):.2f} s ({e.get('polls')} asks)"
                     + (f" ERROR {e['error']}" if e.get("error") else ""))
        out["events"] = events
        visible = [e["visible_s"] for e in events if e.get("confirmed")]
        out["visible_max_s"] = max(visible) if visible else None
        out["visible_mean_s"] = float(np.mean(visible)) if visible else None
        out["all_confirmed"] = bool(events) and all(e.get("confirmed") for e in events)

        # (b) latency idle vs while changes are applied
        out["warm_up"] = warm_workers(server.url, questions, workers)
        seconds, cap = args.update_seconds, args.update_requests
        phases: dict[str, Any] = {"idle_before": ask_phase(server.url, questions, seconds, cap)}
        _say(f"idle p95 {phases['idle_before']['p95_ms']:.0f} ms; now with changes …")
        churn = Churn(server.url, token, notices)
        churn.start()
        churn.started_change.wait(60)
        phases["changing"] = ask_phase(server.url, questions, seconds, cap, offset=1)
        window = (phases["changing"]["started"], phases["changing"]["started"] + phases["changing"]["seconds"])
        churn.stop()
        phases["idle_after"] = ask_phase(server.url, questions, seconds, cap, offset=2)
        changes = churn.changes
        during = [c for c in changes if window[0] <= c["at"] <= window[1]]
        out["churn"] = {
            "changes": len(changes), "errors": sum(1 for c in changes if c["error"]),
            "first_errors": [c["error"] for c in changes if c["error"]][:5],
            "changes_during_window": len(during),
            "by_kind": {k: {"n": len(v), **lat_summary([c["ms"] for c in v if c["ms"] is not None])}
                        for k in ("POST", "PUT", "DELETE") for v in [[c for c in changes if c["kind"] == k]]},
        }
        idle_ms = phases["idle_before"]["ms"] + phases["idle_after"]["ms"]
        phases["idle (both)"] = {**latencies(idle_ms), "errors": phases["idle_before"]["errors"]
                                 + phases["idle_after"]["errors"], "seconds": phases["idle_before"]["seconds"]
                                 + phases["idle_after"]["seconds"]}
        for p in phases.values():
            p.pop("started", None)
            p.pop("ms", None)
        out["phases"] = phases
        out["idle_p95_ms"] = phases["idle (both)"]["p95_ms"]  # idle before and after, pooled
        out["changing_p95_ms"] = phases["changing"]["p95_ms"]
        out["p95_ratio"] = (out["changing_p95_ms"] / out["idle_p95_ms"]
                            if out["idle_p95_ms"] and out["changing_p95_ms"] else None)
        out["ask_errors"] = sum(p["errors"] for k, p in phases.items() if k != "idle (both)")
        _say(f"p95 idle {out['idle_p95_ms']:.0f} ms, while changing {out['changing_p95_ms']:.0f} ms → "
             f"{out['p95_ratio']:.2f}× ({out['churn']['changes_during_window']} changes in the window)")
    finally:
        server.stop()
    out["peak_rss_mb"] = server.sampler.peak / 2**20
    out["loadavg_after"] = loadavg()
    return out


# --- conversation ---------------------------------------------------------------------------------------

README_DIALOGUE = ("职工医保断缴3个月怎么补", ("那居民医保呢", "要带什么材料"))


def dialogues(limit: int) -> list[tuple[str, tuple[str, ...]]]:
    from .dialogues import DIALOGUES_FILE, load_dialogues

    out = [README_DIALOGUE]
    for d in load_dialogues(DIALOGUES_FILE)[: max(0, limit)]:
        out.append((d.turns[0].question, tuple(t.question for t in d.turns[1:])))
    return out


def part_conversation(ctx) -> dict[str, Any]:

    from .bench import Server, indexed, lat_summary, loadavg

    args = ctx.args
    chats = dialogues(args.conversation_dialogues)
    server = Server(ctx, indexed(ctx, "own"), args.workers[0], name="conversation")
    out: dict[str, Any] = {"loadavg_before": loadavg(), "dialogues": len(chats), "rounds": args.conversation_rounds,
                           "workers": args.workers[0]}
    times: dict[str, list[float]] = {"first_alone": [], "followup_alone": [], "first_in_conversation": [],
                                     "followup": []}
    errors: list[str] = []
    inherited = followups = 0
    try:
        server.wait_ready()
        asker = Asker(server.url, keep=True)
        try:

            def ask(question: str, conversation_id: str | None = None) -> tuple[float, dict[str, Any]]:
                ms, status, body = asker(question, conversation_id)
                if status != 200 or "answer" not in body:
                    errors.append(f"HTTP {status}: {str(body)[:120]}")
                elif conversation_id and body.get("conversation_id") != conversation_id:
                    errors.append("follow-up answered outside its conversation")
                elif not body.get("answer_id"):
                    errors.append("no answer_id: the conversation store did not keep the turn")
                return ms, body

            # warm-up, and the form the server gives each follow-up (asked alone below)
            understood: dict[tuple[int, int], str] = {}
            for d, (first, rest) in enumerate(chats):
                _, body = ask(first)
                cid = body.get("conversation_id")
                for t, q in enumerate(rest):
                    _, body = ask(q, cid)
                    understood[(d, t)] = body.get("understood_as") or q
            for r in range(args.conversation_rounds):
                for d, (first, rest) in enumerate(chats):
                    same_alone = [understood[(d, t)] for t in range(len(rest))]
                    sides = [("alone", first, same_alone), ("conversation", first, list(rest))]
                    for side, q1, later in (sides if (r + d) % 2 == 0 else sides[::-1]):
                        ms, body = ask(q1)
                        times["first_alone" if side == "alone" else "first_in_conversation"].append(ms)
                        cid = body.get("conversation_id") if side == "conversation" else None
                        for q in later:
                            ms, body = ask(q, cid)
                            if side == "alone":
                                times["followup_alone"].append(ms)
                            else:
                                times["followup"].append(ms)
                                followups += 1
                                inherited += bool(body.get("inherited"))
        finally:
            asker.close()
    finally:
        server.stop()
    out.update({k: lat_summary(v) for k, v in times.items()})
    alone_all = times["first_alone"] + times["followup_alone"]
    out["alone"] = lat_summary(alone_all)
    out["errors"], out["first_errors"] = len(errors), errors[:5]
    out["followups"], out["followups_inherited"] = followups, inherited
    f50, s50, a50 = out["followup"]["p50_ms"], out["followup_alone"]["p50_ms"], out["alone"]["p50_ms"]
    out["ratio_followup_vs_same_alone"] = f50 / s50 if f50 and s50 else None
    out["ratio_followup_vs_alone"] = f50 / a50 if f50 and a50 else None
    out["loadavg_after"] = loadavg()
    out["conversations_db"] = str(server.conversations_db)
    _say(f"conversation: follow-up p50 {f50:.0f} ms, same question alone {s50:.0f} ms "
         f"({out['ratio_followup_vs_same_alone']:.2f}×); all alone {a50:.0f} ms")
    return out


# ------------------------------------------------------------------------------------ report


def markdown_update(u: dict[str, Any]) -> str:
    from . import report
    from .bench import _f

    ix = u["index"]
    md = [f"## Knowledge-base changes on a {u.get('served_chunks') or ix['chunks']:,}-chunk index "
          f"({u.get('workers')} worker(s))\n\n",
          f"Index: {ix['documents']:,} documents, {ix['chunks']:,} chunks, dense index {ix.get('dense_index')}: "
          f"{ix['original_documents']} real articles ({ix['original_chunks']:,} chunks with the model's vectors: "
          f"{ix.get('embedded_by_model', 0):,} embedded by this build, {ix.get('original_chunks_cached', 0):,} from "
          f"the embedding cache) and {ix['copies']} near-duplicate "
          f"copies of {ix.get('copied', 'the ncp_policies documents')} reissued by other cities, whose vectors "
          f"are their originals' plus noise "
          f"(cosine {ix['noise_cosine']}; a sample of {ix['sample_embedded']} copy chunks embedded for real: "
          f"cosine to the derived vector {ix['derived_vs_true_cosine_mean']:.3f} mean, "
          f"{ix['derived_vs_true_cosine_min']:.3f} min). The model embedded {_f(ix.get('model_chunks_per_s'), 1)} "
          f"chunks/s when the index was built ({ix.get('built')}), so embedding all {ix['chunks']:,} would take "
          f"≈ {_f((ix.get('estimated_full_embed_s') or 0) / 60, 0)} min. Build {_f(ix['build_s'], 0)} s"
          f"{' (saved index reused)' if ix.get('reused') else ''}; `{ix['folder']}`.\n\n",
          f"Server start-up {_f(u.get('startup_s'), 0)} s, idle RSS {_f(u.get('idle_rss_mb'), 0)} MB, peak "
          f"{_f(u.get('peak_rss_mb'), 0)} MB (all processes). Load average {u['loadavg_before']} → "
          f"{u.get('loadavg_after')}.\n\n",
          "### Time until an answer shows a change\n\n"
          "A real five-page PDF notice of a made-up city is added, replaced by a new version and deleted; from the "
          "start of each admin request `/api/ask` is asked about the notice's unique rule (new connection each "
          "time) until the answer cites the new document / cites the new version's rule and nothing of the old "
          "one / no longer cites it. `request s`: the admin request alone (it answers once the change is "
          "published).\n\n"]
    rows = [{"round": e["round"], "change": e["kind"], "city": e["city"], "status": e.get("status"),
             "chunks": e.get("chunks"), "embedded": e.get("embedded"), "request s": _f(e.get("request_s"), 2),
             "visible after s": _f(e.get("visible_s"), 2), "asks": e.get("polls"),
             "shown": _f(e.get("confirmed"))} for e in u.get("events", [])]
    if rows:
        md += [report.table(rows, list(rows[0])), "\n"]
    md.append(f"Slowest: **{_f(u.get('visible_max_s'), 2)} s** (goal < 5 s); mean {_f(u.get('visible_mean_s'), 2)} s."
              "\n\n")
    if "phases" in u:
        ph = u["phases"]
        rows = [{"phase": k, "asks": p["n"], "errors": p["errors"], "p50 ms": _f(p["p50_ms"], 0),
                 "p95 ms": _f(p["p95_ms"], 0), "p99 ms": _f(p.get("p99_ms"), 0), "max ms": _f(p.get("max_ms"), 0),
                 "mean ms": _f(p["mean_ms"], 0)} for k, p in ph.items()]
        ch = u["churn"]
        kinds = "; ".join(f"{k} {v['n']} (p50 {_f(v.get('p50_ms'), 0)} ms, p95 {_f(v.get('p95_ms'), 0)} ms)"
                          for k, v in ch["by_kind"].items())
        md += [f"### /api/ask latency, idle and while documents change ({u['seconds_per_phase']:g} s per phase, "
               "one client, the evaluation questions in turn, each on a new connection so that any worker may "
               "answer)\n\n",
               "Before the phases every question was asked once on every worker "
               f"({u.get('warm_up', {}).get('workers_reached', '?')} reached), so no phase pays first-time costs.\n\n",
               report.table(rows, list(rows[0])),
               f"\nWhile changing, another thread added, replaced and deleted notices without pause: {ch['changes']} "
               f"changes ({ch['changes_during_window']} inside the measured window), {ch['errors']} errors; "
               f"{kinds}.\n\np95 while changing ÷ idle p95 (both idle phases pooled): **{_f(u.get('p95_ratio'), 2)}×** "
               "(goal ≤ 3×).\n\n"]
    return "".join(md)


def markdown_conversation(c: dict[str, Any]) -> str:
    from . import report
    from .bench import _f

    keys = ["first_alone", "followup_alone", "alone", "first_in_conversation", "followup"]
    what = {"first_alone": "first questions, no conversation_id",
            "followup_alone": "each follow-up as the server understood it, no conversation_id",
            "alone": "all questions without conversation_id",
            "first_in_conversation": "first turn (starts a conversation)",
            "followup": "follow-up turn with conversation_id"}
    rows = [{"requests": k, "what": what[k], "n": c[k]["n"], "p50 ms": _f(c[k]["p50_ms"], 1),
             "p95 ms": _f(c[k]["p95_ms"], 1)} for k in keys]
    return "".join([
        f"## Conversations — /api/ask with and without conversation_id ({c['dialogues']} dialogues × "
        f"{c['rounds']} rounds, one client, {c['workers']} worker(s), query cache off)\n\n",
        "The server has a conversation store (a temporary SQLite file), so every ask is stored as a turn; "
        "a follow-up also reads the conversation's last state and is completed from it. The two sides of a "
        "dialogue alternate order per dialogue and round.\n\n",
        report.table(rows, list(rows[0])),
        f"\nFollow-up p50 ÷ the same question alone p50: **{_f(c.get('ratio_followup_vs_same_alone'), 2)}×** "
        f"(goal ≤ 1.2×); ÷ all questions alone: {_f(c.get('ratio_followup_vs_alone'), 2)}×. Follow-ups that "
        f"inherited something from earlier turns: {c['followups_inherited']}/{c['followups']}; errors: "
        f"{c['errors']}. Load average {c['loadavg_before']} → {c['loadavg_after']}.\n\n"])


__all__ = ["part_conversation", "part_update", "synthetic_index"]
