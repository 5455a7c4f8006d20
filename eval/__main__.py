"""`python -m eval [--questions FILE] [--index DIR]` — the own question set;
`python -m eval external` — the public benchmarks; `python -m eval fusion-cv` — a held-out check of the
fusion settings; `python -m eval bench` — performance."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ingest.settings import get_settings


def own_main(argv: list[str]) -> int:
    from qa.service import IndexNotReady, QAService

    from . import own, report

    parser = argparse.ArgumentParser(prog="python -m eval", description="Evaluate yibao-qa on a question set.")
    parser.add_argument("--questions", type=Path, default=own.DEFAULT_QUESTIONS)
    parser.add_argument("--index", type=Path, default=None, help="index folder (default: YIBAO_INDEX_DIR)")
    parser.add_argument("--ablation", action="store_true", help="also run dense-only and BM25-only retrieval")
    parser.add_argument("-q", "--quiet", action="store_true")
    args = parser.parse_args(argv)
    settings = get_settings()
    try:
        questions = own.load(args.questions)
        svc = QAService.load(settings, args.index)
    except (ValueError, IndexNotReady) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1

    runs = {"hybrid (ours)": own.run_own(svc, questions, progress=not args.quiet)}
    if args.ablation:
        for name, update in (("dense only", {"bm25_weight": 0.0}), ("BM25 only", {"dense_weight": 0.0})):
            variant = QAService(svc.data, svc.embedder, settings.model_copy(update=update))
            runs[name] = own.run_own(variant, questions, progress=False)
    folder = report.report_dir("own")
    main = runs["hybrid (ours)"]
    metrics = list(main.report.scores())
    rows = [{"system": name, **r.report.scores()} for name, r in runs.items()]
    cats = [{"category": c, "n": main.report.category_counts[c], **s} for c, s in main.report.category_scores().items()]
    md = [f"# Own question set — {len(questions)} questions\n",
          f"Questions: `{args.questions}`; index: `{svc.data.path}`; model: {svc.data.manifest.get('model')}.\n",
          "## Overall\n", report.table(rows, ["system", *metrics]),
          "\n## Per category (hybrid)\n", report.table(cats, ["category", "n", *metrics]),
          f"\n## Failures ({len(main.failures)})\n"]
    for f in main.failures:
        md.append(f"- **{f['id']}** {f['question']} — {'; '.join(f['reasons'])}\n  - answer: {f['answer'][:200]}\n")
    chart_metrics = ["doc_hit_at_1", "doc_hit_at_5", "doc_mrr", "keyword_coverage", "numeric_accuracy",
                     "refusal_rate", "false_refusal_rate", "multi_source_rate"]
    series = {n: {m: r.report.scores()[m] for m in chart_metrics} for n, r in runs.items()}
    report.bar_chart(folder / "chart.png", series, "yibao-qa on eval/questions.jsonl")
    md.append("\n![chart](chart.png)\n")
    report.write(folder, "".join(md), {
        "questions": str(args.questions), "runs": {n: r.report.to_dict() for n, r in runs.items()},
        "failures": main.failures,
    })
    print(report.table(rows, ["system", *metrics]))
    print(f"{len(main.failures)} questions with at least one failure; report: {folder}/report.md")
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "external":
        from .external import main as external_main

        return external_main(argv[1:])
    if argv and argv[0] == "bench":
        from .bench import main as bench_main

        return bench_main(argv[1:])
    if argv and argv[0] == "fusion-cv":
        from .fusion_cv import main as fusion_cv_main

        return fusion_cv_main(argv[1:])
    return own_main(argv)


if __name__ == "__main__":
    sys.exit(main())
