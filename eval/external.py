"""`python -m eval external` — retrieval on two public Chinese benchmarks, side by side with baselines.

    python -m eval external [--dataset insurance_faq|ncp_policies|all] [--split dev|train] [--limit N] [--tune]

Each data set (``eval/data``, see its README) is converted to a folder of ``.jsonl``
documents and ingested by the normal ``ingest.build.build_index`` into its own index under
``var/external/<dataset>/index`` (re-runs reuse it; the embedding cache ``var/cache`` makes a
rebuild cheap). The same questions then go, in one run, to

* ``hybrid (ours)`` — ``QAService.search`` with the configured (or, with ``--tune``, the tuned) settings;
* ``BM25 only`` / ``dense only`` — the same retriever and index with the other side's weight at 0;
* ``LangChain`` — ``eval.baseline.LangChainBaseline`` (500/50 splitter + FAISS, same m3e-small).

Every system returns up to ``FETCH`` chunks per question; document metrics count distinct
documents in rank order.

* ``insurance_faq`` — one document per corpus Q&A pair (title = question, text = answer,
  ids ``faq-00001``…); a hit at k = one of the first k distinct documents has an answer equal
  to the test answer (``faq_hit``). Only a test split exists, so nothing is tuned on it.
* ``ncp_policies`` — the 599 distinct documents (``docid``; title from ``ncp_title``) are the
  corpus; doc recall@1/@5 and whether the gold answer text lies inside one of the top-1/top-5
  chunks (``span_in_top_k``). ``train`` is for ``--tune`` only, ``dev`` is reported.

``--tune`` grids the fusion settings on ncp ``train`` (never on what is reported), keeps the
settings that are not worse than the better of dense-only and BM25-only on any train metric,
and reports every data set with them next to the default settings.

Writes ``report.md``, ``report.json`` and one ``chart-<dataset>.png`` per data set under
``var/reports/<timestamp>-external/``.
"""

from __future__ import annotations

import argparse
import csv
import io
import itertools
import json
import os
import re
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ingest.build import BuildReport, build_index
from ingest.embed import Embedder
from ingest.settings import PROJECT_ROOT, Settings, get_settings
from ingest.store import IndexData, load_index

from . import report
from .baseline import ABLATIONS, BM25_ONLY, DENSE_ONLY, HYBRID, LangChainBaseline, ablations, variant
from .metrics import normalize_text, percentile, recall_at_k, span_in_top_k, unique_in_order

# The project's own copy of the public data sets (eval/data/README.md); YIBAO_EVAL_DATA_DIR or --data
# chooses another folder.
DATA_DIR = get_settings().eval_data_dir
WORK_DIR = PROJECT_ROOT / "var" / "external"
FAQ, NCP = "insurance_faq", "ncp_policies"
DATASETS = (FAQ, NCP)
LANGCHAIN = "LangChain (500/50 + FAISS)"
HYBRID_DEFAULT = "hybrid (default settings)"
# Chunks asked from every system per question: enough for 10 distinct FAQ documents and no
# larger than the default candidate pool, so asking does not change how our fusion ranks.
FETCH = 30

FAQ_KS = (1, 3, 10)
NCP_KS = (1, 5)
# Published on the insurance_faq test split (wzzzd/FAQ_system README), top-1/3/10 accuracy.
FAQ_PUBLISHED = {"published BM25 (jieba)": (0.77, 0.86, 0.92), "published n-gram": (0.52, 0.69, 0.84)}


# ----------------------------------------------------------------------------- data sets


@dataclass(frozen=True)
class Doc:
    doc_id: str
    title: str
    text: str


@dataclass(frozen=True)
class Question:
    qid: str
    question: str
    gold_docs: frozenset[str]  # ncp: the question's document; faq: every pair with the same answer
    answer: str  # ncp: the gold span; faq: the expected answer


@dataclass
class Dataset:
    name: str
    docs: list[Doc]
    splits: dict[str, list[Question]]
    answer_of: dict[str, str] = field(default_factory=dict)  # faq: doc_id -> corpus answer

    @property
    def metric_names(self) -> list[str]:
        if self.name == FAQ:
            return [f"top{k}_acc" for k in FAQ_KS]
        return [f"doc_recall@{k}" for k in NCP_KS] + [f"span_top{k}" for k in NCP_KS]


def read_tsv(path: Path) -> list[tuple[str, str]]:
    """``question<TAB>answer`` rows after the header; ``QUOTE_NONE`` keeps quotes in the text as they are."""
    with path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE))
    if not rows or rows[0][:2] != ["question", "answer"]:
        raise ValueError(f"{path}: expected a `question<TAB>answer` header")
    bad = [i for i, r in enumerate(rows[1:], 2) if len(r) != 2]
    if bad:
        raise ValueError(f"{path}: line {bad[0]} does not have exactly two tab-separated fields")
    return [(q, a) for q, a in rows[1:]]


def faq_doc_id(i: int) -> str:
    return f"faq-{i + 1:05d}"


def faq_hit(ranked_doc_ids: Sequence[str], answer_of: dict[str, str], answer: str, k: int) -> float:
    """1.0 if one of the first ``k`` distinct documents has exactly the expected answer."""
    return 1.0 if any(answer_of.get(d) == answer for d in unique_in_order(ranked_doc_ids)[:k]) else 0.0


def _slice(docs: list[Doc], questions: dict[str, list[Question]], limit: int | None) -> tuple[list[Doc],
                                                                                          dict[str, list[Question]]]:
    """The first ``limit`` questions per split, their gold documents and ``limit`` other documents."""
    if limit is None:
        return docs, questions
    questions = {s: qs[:limit] for s, qs in questions.items()}
    gold = {d for qs in questions.values() for q in qs for d in q.gold_docs}
    others = [d.doc_id for d in docs if d.doc_id not in gold][:limit]
    keep = gold | set(others)
    return [d for d in docs if d.doc_id in keep], questions


def load_faq(folder: Path, limit: int | None = None) -> Dataset:
    corpus = read_tsv(folder / "corpus.tsv")
    docs = [Doc(faq_doc_id(i), q.strip() or faq_doc_id(i), a) for i, (q, a) in enumerate(corpus)]
    answer_of = {d.doc_id: a for d, (_, a) in zip(docs, corpus)}
    by_answer: dict[str, set[str]] = {}
    for doc_id, a in answer_of.items():
        by_answer.setdefault(a, set()).add(doc_id)
    test = []
    for i, (q, a) in enumerate(read_tsv(folder / "test.tsv")):
        if a not in by_answer:
            raise ValueError(f"{folder / 'test.tsv'}: test question {i + 1} has no corpus pair with its answer")
        test.append(Question(f"faq-test-{i + 1:03d}", q, frozenset(by_answer[a]), a))
    docs, splits = _slice(docs, {"test": test}, limit)
    return Dataset(FAQ, docs, splits, {d.doc_id: answer_of[d.doc_id] for d in docs})


_SPACE_RUN = re.compile(r"\s+")
TITLE_MIN, TITLE_MAX = 12, 60


def ncp_title(context: str) -> str:
    """The page headline: leading whitespace-separated segments until ≥ 12 characters, at most 60.

    The contexts are scraped pages flattened to one line, headline first and separated from
    the body by whitespace. Some headlines hold spaces themselves ("财政部 税务总局 关于…的公告"),
    hence the 12-character minimum; a page without a headline gets its first 60 characters.
    """
    parts = _SPACE_RUN.split(context.strip())
    title = ""
    for part in parts:
        title = f"{title} {part}" if title else part
        if len(title) >= TITLE_MIN:
            break
    return title[:TITLE_MAX]


def load_ncp(folder: Path, limit: int | None = None) -> Dataset:
    docs: dict[str, Doc] = {}
    splits: dict[str, list[Question]] = {}
    for split in ("train", "dev"):
        questions = []
        path = folder / f"{split}.jsonl"
        for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            rec = json.loads(line)
            ctx, ans = rec["context"], rec["answer"]
            start, end = ans["span"]
            if ctx[start : end + 1] != ans["text"]:
                raise ValueError(f"{path}:{lineno}: answer span does not match its text")
            if rec["docid"] in docs and docs[rec["docid"]].text != ctx:
                raise ValueError(f"{path}:{lineno}: docid {rec['docid']} with a different context")
            docs.setdefault(rec["docid"], Doc(rec["docid"], ncp_title(ctx), ctx))
            questions.append(Question(rec["id"], rec["question"], frozenset({rec["docid"]}), ans["text"]))
        splits[split] = questions
    all_docs, splits = _slice(sorted(docs.values(), key=lambda d: d.doc_id), splits, limit)
    return Dataset(NCP, all_docs, splits)


def load_dataset(name: str, data_dir: Path = DATA_DIR, limit: int | None = None) -> Dataset:
    return (load_faq if name == FAQ else load_ncp)(Path(data_dir) / name, limit)


def write_corpus(dataset: Dataset, folder: Path) -> Path:
    """The data set as one ``.jsonl`` corpus file in ``folder`` (the format ``ingest`` reads)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{dataset.name}.jsonl"
    with path.open("w", encoding="utf-8") as f:
        for d in dataset.docs:
            rec = {"doc_id": d.doc_id, "title": d.title, "text": d.text, "metadata": {"dataset": dataset.name}}
            f.write(json.dumps(rec, ensure_ascii=False) + "\n")
    return path


# ------------------------------------------------------------------------------- scoring

Ranked = list[tuple[str, str]]  # (doc_id, chunk text), best first


def score_question(dataset: Dataset, q: Question, ranked: Ranked) -> dict[str, float]:
    doc_ids = [d for d, _ in ranked]
    if dataset.name == FAQ:
        return {f"top{k}_acc": faq_hit(doc_ids, dataset.answer_of, q.answer, k) for k in FAQ_KS}
    texts = [t for _, t in ranked]
    out = {f"doc_recall@{k}": recall_at_k(doc_ids, q.gold_docs, k) for k in NCP_KS}
    out.update({f"span_top{k}": span_in_top_k(texts, q.answer, k) for k in NCP_KS})
    return out


@dataclass
class SystemRun:
    scores: dict[str, float]
    per_question: dict[str, dict[str, float]]
    latencies_ms: list[float]

    @property
    def p50_ms(self) -> float | None:
        return percentile(self.latencies_ms, 50) if self.latencies_ms else None

    @property
    def p95_ms(self) -> float | None:
        return percentile(self.latencies_ms, 95) if self.latencies_ms else None


def run_system(dataset: Dataset, questions: list[Question], search: Callable[[str], Ranked]) -> SystemRun:
    per_q: dict[str, dict[str, float]] = {}
    lat: list[float] = []
    for q in questions:
        t = time.perf_counter()
        ranked = search(q.question)
        lat.append((time.perf_counter() - t) * 1000)
        per_q[q.qid] = score_question(dataset, q, ranked)
    names = dataset.metric_names
    scores = {m: float(np.mean([s[m] for s in per_q.values()])) if per_q else 0.0 for m in names}
    return SystemRun(scores, per_q, lat)


def service_search(svc) -> Callable[[str], Ranked]:
    """Our retriever through ``QAService.search``. A hit with fused score 0 was found only by a
    side whose weight is 0 (it pads BM25-only/dense-only lists in arbitrary order), so it is dropped."""
    return lambda query: [(h.doc_id, h.text) for h in svc.search(query, FETCH) if h.score > 0]


def langchain_search(base: LangChainBaseline) -> Callable[[str], Ranked]:
    return lambda query: [(d, t) for d, t, _ in base.search(query, FETCH)]


class MemoEmbedder:
    """An ``Embedder`` that remembers query vectors, so a settings grid embeds each question once."""

    def __init__(self, embedder: Embedder):
        self._embedder = embedder
        self._memo: dict[str, np.ndarray] = {}

    def __getattr__(self, name: str) -> Any:
        return getattr(self._embedder, name)

    def encode(self, texts: list[str], **kw: Any) -> np.ndarray:
        missing = [t for t in dict.fromkeys(texts) if t not in self._memo]
        if missing:
            self._memo.update(zip(missing, self._embedder.encode(missing, **kw)))
        return np.stack([self._memo[t] for t in texts]) if texts else self._embedder.encode(texts, **kw)


# ------------------------------------------------------------------------------- tuning

FUSION_KEYS = ("fusion", "dense_weight", "bm25_weight", "rrf_k", "candidates")
BM25_RATIOS = (0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 4.0)  # bm25_weight / dense_weight; only the ratio matters
RRF_KS = (5, 10, 20, 30, 60, 100)
CANDIDATES = (30, 60, 100)


def fusion_grid(settings: Settings) -> list[dict[str, Any]]:
    """The current settings first (ties keep them), then RRF and weighted-sum variants."""
    current = {k: getattr(settings, k) for k in FUSION_KEYS}
    grid = [current]
    for ratio, rrf_k, cand in itertools.product(BM25_RATIOS, RRF_KS, CANDIDATES):
        grid.append({"fusion": "rrf", "dense_weight": 1.0, "bm25_weight": ratio, "rrf_k": rrf_k, "candidates": cand})
    for ratio, cand in itertools.product(BM25_RATIOS, CANDIDATES):
        grid.append({"fusion": "weighted", "dense_weight": 1.0, "bm25_weight": ratio, "rrf_k": settings.rrf_k,
                     "candidates": cand})
    return [g for i, g in enumerate(grid) if g not in grid[:i]]


def shortfall(scores: dict[str, float], references: dict[str, dict[str, float]]) -> float:
    """How far ``scores`` falls below the better single side on its worst metric (0 = never below)."""
    return max(0.0, *(max(r[m] for r in references.values()) - v for m, v in scores.items()))


@dataclass
class TuneResult:
    split: str
    n_questions: int
    references: dict[str, dict[str, float]]  # BM25-only and dense-only on the tuning split
    rows: list[dict[str, Any]]  # every grid point with its scores and shortfall
    best: dict[str, Any]
    meets_requirement: bool
    seconds: float


def tune(svc, dataset: Dataset, questions: list[Question], *, progress: bool = True) -> TuneResult:
    """Grid the fusion settings on ``questions`` (the tuning split only).

    Chosen: the best mean of the metrics among the settings that are nowhere worse than the
    better of BM25-only and dense-only; if none is, the smallest shortfall.
    """
    t0 = time.perf_counter()
    memo = variant(svc, embedder=MemoEmbedder(svc.embedder))
    base_settings = svc.settings

    def evaluate(update: dict[str, Any]) -> dict[str, float]:
        v = variant(memo, **update)
        return run_system(dataset, questions, service_search(v)).scores

    refs = {name: evaluate(upd) for name, upd in ABLATIONS.items()}
    rows = []
    grid = fusion_grid(base_settings)
    for i, point in enumerate(grid, 1):
        scores = evaluate(point)
        rows.append({**point, **scores, "mean": float(np.mean(list(scores.values()))),
                     "shortfall": shortfall(scores, refs)})
        if progress and i % 20 == 0:
            print(f"  tuning: {i}/{len(grid)} settings", file=sys.stderr)
    ok = [r for r in rows if r["shortfall"] == 0]
    best = max(ok, key=lambda r: r["mean"]) if ok else min(rows, key=lambda r: (r["shortfall"], -r["mean"]))
    return TuneResult("train", len(questions), refs, rows, best, bool(ok), time.perf_counter() - t0)


# ------------------------------------------------------------------------------- one data set


@dataclass
class DatasetRun:
    dataset: Dataset
    split: str
    n_questions: int
    systems: dict[str, SystemRun]
    ingest: dict[str, dict[str, Any]]  # system family -> timings and counts
    ceiling: dict[str, float]
    index_dir: str
    manifest: dict[str, Any]
    verbatim: dict[str, Any] | None = None  # insurance_faq: the FAQ verbatim-answer threshold


def _timings_file(index_dir: Path) -> Path:
    return index_dir.parent / "cold_ingest.json"


def _record_cold(index_dir: Path, key: str, entry: dict[str, Any], cold: bool) -> dict[str, Any] | None:
    """Keep the last ``--cold`` ingest (every distinct chunk text through the model): that is the cold cost.

    ``embedded`` can be below ``chunks`` even then: identical chunk texts are embedded once.
    """
    path = _timings_file(index_dir)
    known = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    if cold and entry["chunks"] and not entry["skipped"]:
        known[key] = {**entry, "measured": time.strftime("%Y-%m-%d %H:%M")}
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(known, indent=2), encoding="utf-8")
    return known.get(key)


def span_ceiling(chunks_by_doc: dict[str, list[str]], questions: list[Question]) -> float:
    """Share of questions whose answer lies inside a single chunk of its gold document (best span@k possible)."""
    if not questions:
        return 0.0
    hits = 0
    for q in questions:
        needle = normalize_text(q.answer)
        hits += any(needle in normalize_text(t) for d in q.gold_docs for t in chunks_by_doc.get(d, []))
    return hits / len(questions)


def build_dataset_index(dataset: Dataset, index_dir: Path, *, settings: Settings, embedder: Embedder,
                        force: bool = False, cold: bool = False,
                        progress: bool = True) -> tuple[BuildReport, IndexData]:
    """The data set converted to a corpus and ingested into ``index_dir`` (reused when up to date)."""
    with tempfile.TemporaryDirectory(prefix=f"yibao-{dataset.name}-") as tmp:
        write_corpus(dataset, Path(tmp))
        build = build_index(Path(tmp), index_dir, settings=settings, embedder=embedder,
                            force=force or cold, use_cache=not cold, progress=progress)
    data = load_index(index_dir)
    if data.manifest.get("model_signature") != embedder.signature:
        raise RuntimeError(f"{index_dir} was built with {data.manifest.get('model_signature')!r}; use --force")
    return build, data


FAQ_AS_DOCUMENTS = "hybrid, each pair as a document (before FAQ units)"


def faq_file(dataset: Dataset) -> bytes:
    """The FAQ data set as the TSV a hotline would import (question<TAB>answer)."""
    buf = io.StringIO()
    w = csv.writer(buf, delimiter="\t", quoting=csv.QUOTE_MINIMAL, lineterminator="\n")
    w.writerow(["question", "answer"])
    for d in dataset.docs:
        w.writerow([d.title, dataset.answer_of[d.doc_id]])
    return buf.getvalue().encode("utf-8")


def build_faq_index(dataset: Dataset, index_dir: Path, *, settings: Settings, embedder: Embedder,
                    force: bool = False, cold: bool = False, progress: bool = True) -> tuple[BuildReport, IndexData]:
    """insurance_faq through the product's FAQ path: the list is read by ``ingest.faq.read_faq`` (as an
    upload would be) and indexed as FAQ units — one vector and one BM25 row per question, one per answer."""
    from ingest.faq import read_faq
    from ingest.kb import pair_record

    imported = read_faq(f"{dataset.name}.tsv", faq_file(dataset))
    if imported.errors:
        raise ValueError(f"{dataset.name}: {len(imported.errors)} rows rejected by the FAQ import")
    pairs = {p.pair_id: pair_record(p) for p in imported.pairs}
    for pid, pair in pairs.items():
        dataset.answer_of[pid] = pair["answer"]
    with tempfile.TemporaryDirectory(prefix=f"yibao-{dataset.name}-faq-") as tmp:
        build = build_index(Path(tmp), index_dir, settings=settings, embedder=embedder, force=force or cold,
                            use_cache=not cold, progress=progress, faq=pairs)
    return build, load_index(index_dir)


def verbatim_threshold(svc, dataset: Dataset, questions: list[Question], target: float = 0.95
                       ) -> dict[str, Any]:
    """The FAQ verbatim-answer threshold, chosen on the first half of ``questions`` and scored on the second.

    For each question: the pair with the closest question and that cosine similarity (the pair the
    retriever puts first once the similarity reaches the threshold). The threshold is the lowest at which
    that pair is right for at least ``target`` of the first half's questions above it."""
    rows = []
    for q in questions:
        hits = svc.retriever.search(svc.understand(q.question), 5)
        top = max(hits, key=lambda h: h.faq_dense) if hits else None
        ok = top is not None and dataset.answer_of.get(top.chunk["doc_id"]) == q.answer
        rows.append((top.faq_dense if top is not None else 0.0, ok))
    half = len(rows) // 2
    choose, score = rows[:half], rows[half:]
    best = 1.0
    for t in sorted({round(d, 3) for d, _ in choose}):
        above = [ok for d, ok in choose if d >= t]
        if above and sum(above) / len(above) >= target:
            best = t
            break

    def stats(part):
        above = [ok for d, ok in part if d >= best]
        return {"n": len(part), "answered_verbatim": len(above) / len(part) if part else 0.0,
                "precision": sum(above) / len(above) if above else None}

    return {"threshold": best, "target_precision": target, "chosen_on": stats(choose), "scored_on": stats(score)}


def evaluate_dataset(dataset: Dataset, split: str, *, settings: Settings, embedder: Embedder, index_dir: Path,
                     tuned: dict[str, Any] | None = None, force: bool = False, cold: bool = False,
                     progress: bool = True, tune_split: str | None = None) -> tuple[DatasetRun, TuneResult | None]:
    questions = dataset.splits[split]
    from qa.service import QAService

    extra: dict[str, Any] = {}
    if dataset.name == FAQ:
        # The product's FAQ path is what is reported; the old way (each pair as one document) stays as a row.
        build, data = build_faq_index(dataset, index_dir, settings=settings, embedder=embedder, force=force,
                                      cold=cold, progress=progress)
        _, old_data = build_dataset_index(dataset, index_dir.parent.parent / f"{index_dir.parent.name}-documents"
                                          / "index", settings=settings, embedder=embedder, force=force, cold=cold,
                                          progress=progress)
        extra[FAQ_AS_DOCUMENTS] = QAService(old_data, embedder, settings)
    else:
        build, data = build_dataset_index(dataset, index_dir, settings=settings, embedder=embedder, force=force,
                                          cold=cold, progress=progress)

    svc = QAService(data, embedder, settings)
    tuning = None
    if tune_split:
        tuning = tune(svc, dataset, dataset.splits[tune_split], progress=progress)
        tuned = {k: tuning.best[k] for k in FUSION_KEYS}

    services = ablations(svc)
    if tuned and any(tuned[k] != getattr(settings, k) for k in FUSION_KEYS):
        services = {HYBRID: variant(svc, **tuned), HYBRID_DEFAULT: svc,
                    **{n: variant(svc, **{**tuned, **u}) for n, u in ABLATIONS.items()}}

    base = LangChainBaseline(embedder, cache_path=settings.cache_dir / "embeddings.sqlite", read_cache=not cold)
    lc_stats = base.build([(d.doc_id, d.title, d.text) for d in dataset.docs])

    runs: dict[str, SystemRun] = {}
    for name, s in {**services, **extra}.items():
        runs[name] = run_system(dataset, questions, service_search(s))
    runs[LANGCHAIN] = run_system(dataset, questions, langchain_search(base))
    verbatim = verbatim_threshold(svc, dataset, questions) if dataset.name == FAQ else None

    ours = {"seconds": build.seconds, "chunks": build.chunks, "embedded": build.embedded, "skipped": build.skipped,
            "documents": build.documents}
    lc = {"seconds": lc_stats.seconds, "chunks": lc_stats.chunks, "embedded": lc_stats.embedded, "skipped": False,
          "documents": lc_stats.documents}
    ingest = {"ours": {**ours, "cold": _record_cold(index_dir, "ours", ours, cold),
                       "mean_chunk_chars": float(np.mean([len(c["text"]) for c in data.chunks]))},
              "langchain": {**lc, "cold": _record_cold(index_dir, "langchain", lc, cold),
                            "mean_chunk_chars": float(np.mean([len(c.page_content) for c in base.chunks]))}}
    ceiling = {}
    if dataset.name == NCP:
        ours_by_doc: dict[str, list[str]] = {}
        for c in data.chunks:
            ours_by_doc.setdefault(c["doc_id"], []).append(c["text"])
        lc_by_doc: dict[str, list[str]] = {}
        for c in base.chunks:
            lc_by_doc.setdefault(c.metadata["doc_id"], []).append(c.page_content)
        ceiling = {"ours": span_ceiling(ours_by_doc, questions), "langchain": span_ceiling(lc_by_doc, questions)}
    run = DatasetRun(dataset, split, len(questions), runs, ingest, ceiling, str(index_dir), data.manifest, verbatim)
    return run, tuning


# ------------------------------------------------------------------------------- report


def _settings_text(s: dict[str, Any]) -> str:
    text = f"fusion={s['fusion']}, dense_weight={s['dense_weight']}, bm25_weight={s['bm25_weight']}"
    if s["fusion"] == "rrf":
        text += f", rrf_k={s['rrf_k']}"
    return text + f", candidates={s['candidates']}"


def _requirement(run: DatasetRun) -> dict[str, Any]:
    """Whether the reported hybrid is nowhere worse than the better single side on this data set."""
    refs = {n: run.systems[n].scores for n in (BM25_ONLY, DENSE_ONLY)}
    gap = shortfall(run.systems[HYBRID].scores, refs)
    return {"met": gap == 0, "worst_shortfall": gap,
            "better_single_side": {m: max(r[m] for r in refs.values()) for m in run.dataset.metric_names}}


def _dataset_rows(run: DatasetRun) -> list[dict[str, Any]]:
    rows = []
    for name, r in run.systems.items():
        fam = "langchain" if name == LANGCHAIN else "ours"
        rows.append({"system": name, **r.scores, "ingest_s": run.ingest[fam]["seconds"],
                     "p50_ms": r.p50_ms, "p95_ms": r.p95_ms})
    if run.dataset.name == FAQ:
        for name, vals in FAQ_PUBLISHED.items():
            rows.append({"system": name, **{f"top{k}_acc": v for k, v in zip(FAQ_KS, vals)}})
    return rows


def _ingest_lines(run: DatasetRun) -> list[str]:
    lines = []
    for fam, label in (("ours", "ours (build_index)"), ("langchain", "LangChain")):
        i = run.ingest[fam]
        state = "up to date, not rebuilt" if i["skipped"] else f"{i['embedded']} of {i['chunks']} chunks embedded"
        line = (f"- {label}: {i['documents']} documents → {i['chunks']} chunks (mean {i['mean_chunk_chars']:.0f} "
                f"chars); this run {i['seconds']:.1f} s ({state})")
        cold = i.get("cold")
        if cold:
            line += f"; cold ingest (every chunk through the model) {cold['seconds']:.1f} s ({cold['measured']})"
        lines.append(line + "\n")
    return lines


COLD_TEXT = "**cold** (every chunk of every system through the model, no cache reads)"
WARM_TEXT = "warm (an up-to-date index is reused; the embedding cache is read)"


def render(runs: list[DatasetRun], tuning: TuneResult | None, settings: Settings, args: argparse.Namespace,
           reported: dict[str, Any], folder: Path) -> tuple[str, dict[str, Any]]:
    commit = report.git_commit() or "unknown"
    model = runs[0].manifest.get("model") if runs else "?"
    md = ["# External retrieval benchmarks\n\n",
          f"Command: `python -m eval external {' '.join(args.argv)}` · commit {commit} · "
          f"{time.strftime('%Y-%m-%d %H:%M')} · model {model} (same model for every system) · "
          f"{FETCH} chunks asked per question.\n\n",
          f"Ingest mode: {COLD_TEXT if args.cold else WARM_TEXT}. Timings are wall-clock on "
          f"a machine with {os.cpu_count()} CPUs shared with other work: load average {args.load_start:.1f} at "
          f"the start, {os.getloadavg()[0]:.1f} at the end.\n\n",
          f"Hybrid settings reported: {_settings_text(reported)}"
          + (" (tuned on ncp_policies train)." if tuning else " (configured defaults, not tuned).") + "\n\n"]
    if tuning:
        md.append("Tuning used **ncp_policies train only**; reported figures are on splits never used for "
                  "tuning (ncp_policies dev, insurance_faq test).\n\n")
    data: dict[str, Any] = {"command": ["python", "-m", "eval", "external", *args.argv], "commit": commit,
                            "model": model, "fetch_chunks": FETCH, "reported_settings": reported,
                            "tuned_on": "ncp_policies/train" if tuning else None, "datasets": {}}
    for run in runs:
        ds = run.dataset
        metrics = ds.metric_names
        req = _requirement(run)
        split_note = ("test split (the only one; nothing was tuned on it)" if ds.name == FAQ
                      else f"{run.split} split" + (" (tuning used train only)" if tuning and run.split != "train"
                                                   else " — **this is the tuning split**" if tuning else ""))
        md += [f"## {ds.name} — {run.n_questions} questions, {split_note}\n\n",
               f"Index: `{run.index_dir}` (index_hash {run.manifest.get('index_hash', '')[:12]}).\n\n",
               report.table(_dataset_rows(run), ["system", *metrics, "ingest_s", "p50_ms", "p95_ms"]), "\n",
               *_ingest_lines(run),
               "- Query latency is one `search` call per question including the query embedding; BM25-only and "
               "dense-only still run both sides (the weight only zeroes one in the fusion).\n"]
        if ds.name == FAQ:
            md.append("- Published rows: wzzzd/FAQ_system README on this split (BM25 over jieba tokens; "
                      "character n-gram); hit = a top-k pair with the test answer, as here.\n")
            md.append(f"- `hybrid (ours)` reads the list with the FAQ import (`ingest.faq.read_faq`, "
                      f"{run.ingest['ours']['documents']} pairs) and indexes each question as its own row; "
                      f"`{FAQ_AS_DOCUMENTS}` is the earlier way, one \"question + answer\" document per pair.\n")
        if run.verbatim:
            v = run.verbatim
            md.append(f"- FAQ verbatim-answer threshold (`YIBAO_FAQ_MATCH`): {v['threshold']:.3f}, the lowest with "
                      f"top-pair precision ≥ {v['target_precision']} on the first {v['chosen_on']['n']} questions "
                      f"(answered verbatim there: {v['chosen_on']['answered_verbatim']:.2f}); on the other "
                      f"{v['scored_on']['n']}: answered verbatim {v['scored_on']['answered_verbatim']:.2f}, precision "
                      f"{report.fmt(v['scored_on']['precision'])}.\n")
        if run.ceiling:
            md.append(f"- Span ceiling (answer inside one chunk of its document): ours {run.ceiling['ours']:.3f}, "
                      f"LangChain {run.ceiling['langchain']:.3f}.\n")
        verdict = "met" if req["met"] else f"**not met** (worst shortfall {req['worst_shortfall']:.3f})"
        md.append(f"- Hybrid not worse than the better of BM25-only and dense-only on every metric: {verdict}.\n\n")
        chart = f"chart-{ds.name}.png"
        series = {name: {m: r.scores[m] for m in metrics} for name, r in run.systems.items()}
        if ds.name == FAQ:
            series.update({n: dict(zip(metrics, v)) for n, v in FAQ_PUBLISHED.items()})
        report.bar_chart(folder / chart, series, f"{ds.name} ({run.split}, {run.n_questions} questions)")
        md.append(f"![{ds.name}]({chart})\n\n")
        data["datasets"][ds.name] = {
            "split": run.split, "n_questions": run.n_questions, "n_documents": len(ds.docs),
            "index_dir": run.index_dir, "manifest": run.manifest, "ingest": run.ingest, "span_ceiling": run.ceiling,
            "requirement": req, "verbatim": run.verbatim,
            "systems": {n: {"scores": r.scores, "p50_ms": r.p50_ms, "p95_ms": r.p95_ms}
                        for n, r in run.systems.items()},
            "published": ({n: dict(zip(metrics, v)) for n, v in FAQ_PUBLISHED.items()} if ds.name == FAQ else {}),
            "per_question": {n: r.per_question for n, r in run.systems.items()},
        }
    if tuning:
        cols = ["fusion", "dense_weight", "bm25_weight", "rrf_k", "candidates", *runs_metric_names(tuning),
                "mean", "shortfall"]
        top = sorted(tuning.rows, key=lambda r: (r["shortfall"] > 0, -r["mean"]))[:12]
        refs = [{"fusion": n, **s} for n, s in tuning.references.items()]
        md += [f"## Tuning on ncp_policies {tuning.split} ({tuning.n_questions} questions, {len(tuning.rows)} "
               f"settings, {tuning.seconds:.0f} s)\n\n",
               "Single sides on the tuning split:\n\n", report.table(refs, ["fusion", *runs_metric_names(tuning)]),
               "\nBest settings (those nowhere worse than the better single side first):\n\n", report.table(top, cols),
               f"\nChosen: {_settings_text(tuning.best)} — requirement on train "
               f"{'met' if tuning.meets_requirement else '**not met by any setting**'}.\n\n"]
        data["tuning"] = {"split": tuning.split, "n_questions": tuning.n_questions, "references": tuning.references,
                          "best": tuning.best, "meets_requirement": tuning.meets_requirement,
                          "seconds": tuning.seconds, "grid": tuning.rows}
    return "".join(md), data


def runs_metric_names(tuning: TuneResult) -> list[str]:
    return list(next(iter(tuning.references.values())))


# ------------------------------------------------------------------------------- CLI


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m eval external",
                                description="Retrieval on public Chinese benchmarks, ours vs baselines.")
    p.add_argument("--dataset", choices=[*DATASETS, "all"], default="all")
    p.add_argument("--split", choices=["dev", "train"], default="dev",
                   help="ncp_policies split to report (insurance_faq has only its test split)")
    p.add_argument("--limit", type=int, default=None, help="first N questions per split, their documents + N others")
    p.add_argument("--tune", action="store_true", help="grid the fusion settings on ncp_policies train first")
    p.add_argument("--data", type=Path, default=DATA_DIR, help=f"external data folder (default {DATA_DIR})")
    p.add_argument("--work", type=Path, default=WORK_DIR, help="benchmark indexes (default var/external)")
    p.add_argument("--force", action="store_true", help="rebuild the indexes (the embedding cache still applies)")
    p.add_argument("--cold", action="store_true",
                   help="time a cold ingest: rebuild and embed every chunk of every system without reading the cache")
    p.add_argument("-q", "--quiet", action="store_true")
    args = p.parse_args(argv)
    if args.limit is not None and args.limit < 1:
        p.error("--limit must be at least 1")
    args.argv = list(argv)
    args.load_start = os.getloadavg()[0]
    return args


def main(argv: list[str] | None = None, *, settings: Settings | None = None,
         embedder: Embedder | None = None) -> int:
    args = parse_args(list(sys.argv[1:] if argv is None else argv))
    settings = settings or get_settings()
    if not (args.data / FAQ).is_dir() and not (args.data / NCP).is_dir():
        print(f"error: external data not found in {args.data} (see eval/data/README.md)", file=sys.stderr)
        return 1
    embedder = embedder or Embedder(settings)
    embedder.encode(["预热"])  # load the model before anything is timed
    names = list(DATASETS) if args.dataset == "all" else [args.dataset]
    # Tuning runs on ncp train first, whatever is reported, so every data set gets the same settings.
    order = sorted(names, key=lambda n: n != NCP) if args.tune else names
    if args.tune and NCP not in order:
        order.insert(0, NCP)
    runs: list[DatasetRun] = []
    tuning: TuneResult | None = None
    tuned: dict[str, Any] | None = None
    suffix = f"-limit{args.limit}" if args.limit else ""
    for name in order:
        dataset = load_dataset(name, args.data, args.limit)
        split = "test" if name == FAQ else args.split
        index_dir = args.work / f"{name}{suffix}" / "index"
        if not args.quiet:
            print(f"{name}: {len(dataset.docs)} documents, {len(dataset.splits[split])} {split} questions",
                  file=sys.stderr)
        run, t = evaluate_dataset(dataset, split, settings=settings, embedder=embedder, index_dir=index_dir,
                                  tuned=tuned, force=args.force, cold=args.cold, progress=not args.quiet,
                                  tune_split="train" if args.tune and name == NCP else None)
        if t is not None:
            tuning, tuned = t, {k: t.best[k] for k in FUSION_KEYS}
        if name in names:
            runs.append(run)
    runs.sort(key=lambda r: DATASETS.index(r.dataset.name))
    reported = tuned or {k: getattr(settings, k) for k in FUSION_KEYS}
    folder = report.report_dir("external")
    markdown, data = render(runs, tuning, settings, args, reported, folder)
    report.write(folder, markdown, data)
    for run in runs:
        print(f"\n{run.dataset.name} ({run.split}, {run.n_questions} questions)")
        print(report.table(_dataset_rows(run), ["system", *run.dataset.metric_names, "ingest_s", "p50_ms"]))
    if tuning:
        print(f"tuned on ncp_policies train: {_settings_text(tuning.best)}; requirement on train "
              f"{'met' if tuning.meets_requirement else 'NOT met by any setting'}")
    print(f"report: {folder}/report.md")
    return 0
