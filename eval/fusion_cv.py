"""`python -m eval fusion-cv` — a held-out estimate for the adaptive fusion's four parameters.

The shipped parameters (``adaptive_bm25_low/high``, ``adaptive_coverage_low/high``) were picked
from a grid while looking at every split, because insurance_faq has only its test split. This
repeats that choice under K-fold cross-validation so that what is reported was never looked at:

* every grid point (and BM25-only / dense-only) is run once over ncp_policies train + dev and the
  insurance_faq test questions; each question's metrics are kept;
* the FAQ questions are cut into K folds (question i goes to fold i mod K). For fold k a setting
  is chosen on ncp **train** plus the FAQ questions **outside** fold k, by the same rule as
  ``external --tune`` (best mean among the settings nowhere worse than the better single side
  on either data set; else the smallest shortfall);
* the chosen setting is then scored on ncp **dev** and FAQ fold k, against BM25-only and
  dense-only on exactly those questions.

The FAQ questions' held-out results are pooled over the folds (each question scored by a setting
chosen without it). Selection and scoring are pure functions of the per-question table, so the
expensive part — searching — happens once per grid point.
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ingest.settings import Settings, get_settings

from . import report
from .baseline import ABLATIONS, variant
from .external import (
    DATA_DIR,
    FAQ,
    NCP,
    WORK_DIR,
    MemoEmbedder,
    build_dataset_index,
    build_faq_index,
    load_dataset,
    run_system,
    service_search,
    shortfall,
)

ADAPTIVE_KEYS = ("adaptive_bm25_low", "adaptive_bm25_high", "adaptive_coverage_low", "adaptive_coverage_high")
# The grid the shipped point was taken from, widened by one step on each side.
# 0 and 0.1 since FAQ pairs are indexed by their questions (dense search is strong there).
BM25_LOWS = (0.0, 0.1, 0.25, 0.5, 0.75, 1.0)
BM25_HIGHS = (1.5, 2.0, 3.0)
COVERAGE_LOWS = (0.3, 0.4, 0.5)
COVERAGE_HIGHS = (0.7, 0.8, 0.9)

PerQuestion = dict[str, dict[str, float]]  # qid -> metric -> value
Table = dict[str, PerQuestion]  # "<dataset>/<split>" -> per-question metrics


def adaptive_grid(settings: Settings) -> list[dict[str, float]]:
    """The configured point first (ties keep it), then the product grid."""
    current = {k: getattr(settings, k) for k in ADAPTIVE_KEYS}
    grid = [current]
    for lo, hi, clo, chi in itertools.product(BM25_LOWS, BM25_HIGHS, COVERAGE_LOWS, COVERAGE_HIGHS):
        point = {"adaptive_bm25_low": lo, "adaptive_bm25_high": hi,
                 "adaptive_coverage_low": clo, "adaptive_coverage_high": chi}
        if point != current:
            grid.append(point)
    return grid


def folds(qids: Sequence[str], k: int) -> list[list[str]]:
    """Question i of ``qids`` goes to fold i mod k: deterministic, and every fold spans the file."""
    if k < 2:
        raise ValueError("cross-validation needs at least 2 folds")
    return [list(qids[i::k]) for i in range(k)]


def mean_scores(per_q: PerQuestion, qids: Sequence[str]) -> dict[str, float]:
    """Per-metric means over ``qids`` (every question of ``per_q`` must hold the same metrics)."""
    if not qids:
        raise ValueError("no questions to score")
    metrics = list(per_q[qids[0]])
    return {m: float(np.mean([per_q[q][m] for q in qids])) for m in metrics}


@dataclass(frozen=True)
class Evaluation:
    """One setting scored on a set of questions per data set, with the single sides on the same ones."""

    scores: dict[str, dict[str, float]]  # dataset -> metric -> mean
    references: dict[str, dict[str, dict[str, float]]]  # dataset -> side -> metric -> mean
    shortfall: dict[str, float]  # dataset -> shortfall against the better side
    mean: float  # mean over every metric of every data set: the tie-break among settings that meet the bar


def evaluate(point: Table, refs: dict[str, Table], questions: dict[str, Sequence[str]]) -> Evaluation:
    """``questions`` maps a table key (e.g. ``ncp_policies/train``) to the qids scored there."""
    scores = {key: mean_scores(point[key], qids) for key, qids in questions.items()}
    references = {key: {side: mean_scores(t[key], qids) for side, t in refs.items()}
                  for key, qids in questions.items()}
    gaps = {key: shortfall(scores[key], references[key]) for key in questions}
    mean = float(np.mean([v for s in scores.values() for v in s.values()]))
    return Evaluation(scores, references, gaps, mean)


def choose(points: Sequence[Table], refs: dict[str, Table],
           questions: dict[str, Sequence[str]]) -> tuple[int, Evaluation]:
    """Index of the chosen point on ``questions``: the best mean among those with no shortfall anywhere,
    else the smallest worst shortfall (then the best mean). Earlier points win ties."""
    evals = [evaluate(p, refs, questions) for p in points]

    def key(i: int) -> tuple[float, float, int]:
        worst = max(evals[i].shortfall.values())
        return (worst, -evals[i].mean, i)

    best = min(range(len(points)), key=key)
    return best, evals[best]


@dataclass(frozen=True)
class Fold:
    k: int
    chosen: int  # index into the grid
    selection: Evaluation  # on ncp train + FAQ outside the fold
    held_out: Evaluation  # on ncp dev + FAQ inside the fold


def cross_validate(points: Sequence[Table], refs: dict[str, Table], *, faq_key: str, faq_qids: Sequence[str],
                   select_key: str, select_qids: Sequence[str], test_key: str, test_qids: Sequence[str],
                   n_folds: int) -> tuple[list[Fold], Evaluation]:
    """Per-fold choice and held-out scores, plus the FAQ results pooled over the folds."""
    out = []
    pooled: PerQuestion = {}
    for k, fold in enumerate(folds(faq_qids, n_folds)):
        inside = set(fold)
        rest = [q for q in faq_qids if q not in inside]
        chosen, sel = choose(points, refs, {select_key: select_qids, faq_key: rest})
        held = evaluate(points[chosen], refs, {test_key: test_qids, faq_key: fold})
        out.append(Fold(k, chosen, sel, held))
        pooled.update({q: points[chosen][faq_key][q] for q in fold})
    pooled_eval = evaluate({faq_key: pooled}, refs, {faq_key: list(faq_qids)})
    return out, pooled_eval


# ------------------------------------------------------------------------------- running


Collected = tuple[list[dict[str, float]], list[Table], dict[str, Table], dict[str, list[str]]]


def collect(settings: Settings, embedder, *, data_dir: Path, work: Path, progress: bool = True,
            limit: int | None = None) -> Collected:
    """Search every question once per grid point; returns (grid, tables, single-side tables, qids per key)."""
    from qa.service import QAService

    grid = adaptive_grid(settings)
    services = {}
    questions: dict[str, list] = {}
    for name in (NCP, FAQ):
        dataset = load_dataset(name, data_dir, limit)
        index_dir = work / (name + (f"-limit{limit}" if limit else "")) / "index"
        # insurance_faq is indexed the way the product indexes FAQ lists (one row per question).
        build = build_faq_index if name == FAQ else build_dataset_index
        _, data = build(dataset, index_dir, settings=settings, embedder=embedder, progress=progress)
        svc = QAService(data, embedder, settings)
        services[name] = (dataset, variant(svc, embedder=MemoEmbedder(embedder)))
        for split, qs in dataset.splits.items():
            questions[f"{name}/{split}"] = qs

    def table(update: dict[str, Any]) -> Table:
        out: Table = {}
        for key, qs in questions.items():
            dataset, svc = services[key.split("/")[0]]
            out[key] = run_system(dataset, qs, service_search(variant(svc, **update))).per_question
        return out

    t0 = time.perf_counter()
    refs = {side: table(update) for side, update in ABLATIONS.items()}
    tables = []
    for i, point in enumerate(grid, 1):
        tables.append(table(point))
        if progress and (i % 10 == 0 or i == len(grid)):
            rate = (time.perf_counter() - t0) / (i + len(refs))
            print(f"  fusion-cv: {i}/{len(grid)} settings, ~{rate * (len(grid) - i):.0f} s left", file=sys.stderr)
    qids = {key: [q.qid for q in qs] for key, qs in questions.items()}
    return grid, tables, refs, qids


def _point_text(p: dict[str, float]) -> str:
    return (f"BM25 weight {p['adaptive_bm25_low']}→{p['adaptive_bm25_high']} over coverage "
            f"{p['adaptive_coverage_low']}→{p['adaptive_coverage_high']}")


def render(grid, tables, refs, qids, n_folds: int, argv: list[str], seconds: float) -> tuple[str, dict[str, Any]]:
    faq_key, train_key, dev_key = f"{FAQ}/test", f"{NCP}/train", f"{NCP}/dev"
    results, pooled = cross_validate(tables, refs, faq_key=faq_key, faq_qids=qids[faq_key], select_key=train_key,
                                     select_qids=qids[train_key], test_key=dev_key, test_qids=qids[dev_key],
                                     n_folds=n_folds)
    every_split = {k: qids[k] for k in (train_key, dev_key, faq_key)}
    on_every_split = [evaluate(t, refs, every_split) for t in tables]
    shipped_all = on_every_split[0]
    meeting_all = sum(max(e.shortfall.values()) == 0 for e in on_every_split)
    commit = report.git_commit() or "unknown"
    md = ["# Adaptive fusion: cross-validated choice of its parameters\n\n",
          f"Command: `python -m eval fusion-cv {' '.join(argv)}` · commit {commit} · "
          f"{time.strftime('%Y-%m-%d %H:%M')} · {len(grid)} settings · {seconds:.0f} s · "
          f"load average {os.getloadavg()[0]:.1f} at the end.\n\n",
          f"Each fold chooses on {train_key} ({len(qids[train_key])} questions) plus the {FAQ} questions outside "
          f"the fold, then is scored on {dev_key} ({len(qids[dev_key])}) and the fold's own {FAQ} questions. "
          "Shortfall = how far the chosen setting falls below the better of BM25-only and dense-only on its "
          "worst metric (0 = the requirement holds).\n\n"]
    rows = []
    for f in results:
        row = {"fold": f.k, "chosen": _point_text(grid[f.chosen]), "shipped": f.chosen == 0,
               "selection shortfall": max(f.selection.shortfall.values())}
        for key in (dev_key, faq_key):
            row[f"held-out {key} shortfall"] = f.held_out.shortfall[key]
        rows.append(row)
    md += [report.table(rows, list(rows[0])), "\n"]
    faq_folds = folds(qids[faq_key], n_folds)
    for f in results:
        md.append(f"\nFold {f.k} held-out scores:\n\n")
        for key, n in ((dev_key, len(qids[dev_key])), (faq_key, len(faq_folds[f.k]))):
            trows = [{"questions": f"{key} ({n})", "system": "hybrid (chosen)", **f.held_out.scores[key]},
                     *({"questions": "", "system": side, **s} for side, s in f.held_out.references[key].items())]
            md += [report.table(trows, ["questions", "system", *f.held_out.scores[key]]), "\n"]
    md += [f"\nPooled {FAQ} held-out ({len(qids[faq_key])} questions, each scored by a setting chosen without it):\n\n",
           report.table([{"system": "hybrid (chosen per fold)", **pooled.scores[faq_key]},
                         *({"system": s, **v} for s, v in pooled.references[faq_key].items())],
                        ["system", *pooled.scores[faq_key]]),
           f"\nPooled shortfall: {pooled.shortfall[faq_key]:.3f}.\n\n",
           f"For comparison, not held out: the shipped setting ({_point_text(grid[0])}) has shortfall "
           + ", ".join(f"{k} {v:.3f}" for k, v in shipped_all.shortfall.items())
           + f"; {meeting_all} of {len(grid)} settings have none on all three.\n"]
    data = {"command": ["python", "-m", "eval", "fusion-cv", *argv], "commit": commit, "grid": grid,
            "folds": [{"fold": f.k, "chosen": grid[f.chosen], "selection": f.selection.__dict__,
                       "held_out": f.held_out.__dict__} for f in results],
            "pooled_faq": pooled.__dict__, "shipped_all_splits": shipped_all.__dict__,
            "settings_meeting_all_splits": meeting_all}
    return "".join(md), data


def main(argv: list[str] | None = None, *, settings: Settings | None = None, embedder=None) -> int:
    from ingest.embed import Embedder

    argv = list(sys.argv[1:] if argv is None else argv)
    p = argparse.ArgumentParser(prog="python -m eval fusion-cv", description=__doc__.split("\n\n")[0])
    p.add_argument("--folds", type=int, default=2, help="folds over the insurance_faq test questions (default 2)")
    p.add_argument("--limit", type=int, default=None, help="first N questions per split (a quick check)")
    p.add_argument("--data", type=Path, default=DATA_DIR)
    p.add_argument("--work", type=Path, default=WORK_DIR, help="benchmark indexes, shared with `eval external`")
    p.add_argument("-q", "--quiet", action="store_true")
    args = p.parse_args(argv)
    if args.folds < 2:
        p.error("--folds must be at least 2")
    if not ((args.data / FAQ).is_dir() and (args.data / NCP).is_dir()):
        print(f"error: both {FAQ} and {NCP} are needed in {args.data} (see eval/data/README.md)",
              file=sys.stderr)
        return 1
    settings = settings or get_settings()
    if settings.fusion != "adaptive":
        print(f"error: YIBAO_FUSION is {settings.fusion!r}; this checks the adaptive fusion", file=sys.stderr)
        return 1
    embedder = embedder or Embedder(settings)
    t0 = time.perf_counter()
    grid, tables, refs, qids = collect(settings, embedder, data_dir=args.data, work=args.work,
                                       progress=not args.quiet, limit=args.limit)
    n_faq = len(qids[f"{FAQ}/test"])
    if n_faq < args.folds:
        print(f"error: {n_faq} {FAQ} questions cannot make {args.folds} folds", file=sys.stderr)
        return 1
    markdown, data = render(grid, tables, refs, qids, args.folds, argv, time.perf_counter() - t0)
    folder = report.report_dir("fusion-cv")
    report.write(folder, markdown, data)
    print(markdown)
    print(f"report: {folder}/report.md")
    return 0
