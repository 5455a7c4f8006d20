"""`python -m eval` — the held-out users set (test split reported apart) and the older own set;
`python -m eval fit` — fit the sentence ranker and the answerability model on train/dev;
`python -m eval external` — the public benchmarks; `python -m eval fusion-cv` — a held-out check of the
fusion settings; `python -m eval bench` — performance; `python -m eval insights` — the knowledge-gap report."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ingest.settings import get_settings


def own_main(argv: list[str]) -> int:
    from qa.service import IndexNotReady, QAService

    from . import dialogues, faq_mix, own, report, users

    parser = argparse.ArgumentParser(
        prog="python -m eval",
        description="Evaluate yibao-qa: the held-out users set (test split reported apart) and the older own set.")
    parser.add_argument("--questions", type=Path, default=own.DEFAULT_QUESTIONS, help="the older own set")
    parser.add_argument("--users", type=Path, default=users.USERS_FILE, help="the held-out users set")
    parser.add_argument("--index", type=Path, default=None, help="index folder (default: YIBAO_INDEX_DIR)")
    parser.add_argument("--ablation", action="store_true", help="also run dense-only and BM25-only retrieval")
    parser.add_argument("--no-baseline", action="store_true", help="skip the LangChain recipe on the test split")
    parser.add_argument("--dialogues", type=Path, default=None,
                        help="the multi-turn set (default eval/dialogues.jsonl)")
    parser.add_argument("--no-dialogues", action="store_true", help="skip the multi-turn set")
    parser.add_argument("--faq", type=Path, default=None,
                        help="FAQ list mixed into the corpus for the FAQ comparison (default corpus/faq.example.csv)")
    parser.add_argument("--no-faq-mix", action="store_true", help="skip the FAQ-mixed comparison")
    parser.add_argument("--no-test", action="store_true",
                        help="train and dev only: neither ask nor print the held-out test split (for tuning)")
    parser.add_argument("-q", "--quiet", action="store_true")
    args = parser.parse_args(argv)
    settings = get_settings()
    try:
        questions = own.load(args.questions)
        splits = ["train", "dev"] if args.no_test else list(users.SPLITS)
        user_questions = users.load_users(args.users, splits)
        chats = [] if args.no_dialogues else dialogues.load_dialogues(args.dialogues or dialogues.DIALOGUES_FILE,
                                                                     splits)
        if not args.no_faq_mix and not (args.faq or faq_mix.DEFAULT_FAQ).is_file():
            raise ValueError(f"no FAQ list at {args.faq or faq_mix.DEFAULT_FAQ} (--faq PATH or --no-faq-mix)")
        svc = QAService.load(settings, args.index)
    except (ValueError, IndexNotReady) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1

    folder = report.report_dir("eval")
    md: list[str] = [f"# yibao-qa evaluation — commit {report.git_commit() or 'unknown'}\n",
                     f"Index: `{svc.data.path}`; model: {svc.data.manifest.get('model')}; answerability model: "
                     f"{svc.decision.info.get('fitted_on', 'neutral')}, threshold {svc.decision.threshold:.3f}.\n\n"]
    data: dict = {}

    # -- the held-out users set ------------------------------------------------------------
    records = users.run_service(svc, user_questions, progress=not args.quiet)
    by_split = users.by(records, lambda q: q.split)
    metrics = list(users.METRIC_ORDER)
    rows = [{"split": s, "n": len(by_split.get(s, [])), **users.summarise(by_split.get(s, [])).scores}
            for s in splits]
    test = by_split.get("test", [])
    md += [f"## Held-out users set (`{args.users.name}`, {len(user_questions)} questions)\n\n",
           "Thresholds, weights and word lists were chosen on train and dev; **test is only scored**.\n\n",
           report.table(rows, ["split", "n", *metrics])]
    systems: list[dict] = []
    conf: dict = {}
    calib: list = []
    fails: list = []
    if test:
        systems = [{"system": "yibao-qa (test)", **users.summarise(test).scores}]
        if not args.no_baseline and test:
            from ingest.corpus import load_corpus

            from .baseline import LangChainBaseline

            base = LangChainBaseline(svc.embedder)
            base.build([(d.doc_id, d.title, d.text) for d in load_corpus(settings.corpus_dir)])
            lc = users.langchain_records([r.question for r in test], base)
            systems.append({"system": "LangChain recipe 500/50 + FAISS (test)", **users.langchain_scores(lc)})
        md += ["\n### Test split against the plain LangChain recipe\n\n", report.table(systems, ["system", *metrics]),
               "\nThe LangChain recipe returns passages only: it never refuses and computes nothing; "
               "key facts are not scored for it.\n"]
        styles = users.by(test, lambda q: q.style)
        md += ["\n### Test split by style\n\n", report.table(
            [{"style": s, "n": len(rs), **users.summarise(rs).scores} for s, rs in styles.items()],
            ["style", "n", *metrics])]
        kinds = users.by(test, lambda q: q.kind)
        md += ["\n### Test split by kind\n\n", report.table(
            [{"kind": k, "n": len(rs), **users.summarise(rs).scores} for k, rs in kinds.items()],
            ["kind", "n", *metrics])]
        conf = users.confusion(test)
        statuses = ["answered", "partial", "no_answer", "out_of_scope"]
        md += ["\n### Test split: expected status (rows) × given status (columns)\n\n",
               report.table([{"expected": e, **{s: conf.get(e, {}).get(s, 0) for s in statuses}} for e in statuses],
                            ["expected", *statuses])]
        calib = users.reliability_chart(folder / "reliability.png", test, "P(answered) on the test split")
        md += ["\n### Calibration of the answerability model (test split)\n\n",
               report.table(calib, ["bin", "n", "predicted", "observed"]), "\n![reliability](reliability.png)\n"]
        fails = users.failures(test)
        md.append(f"\n### Test failures ({len(fails)})\n")
        for f in fails:
            md.append(f"- **{f['id']}** [{f['style']}/{f['kind']} → {f['status']}] {f['question'][:120]} — "
                      f"{', '.join(f['failed'])}\n")
    data["users"] = {"splits": {r["split"]: r for r in rows}, "systems": systems, "confusion": conf,
                     "calibration": calib, "test_failures": fails}

    # -- the multi-turn set ----------------------------------------------------------------------
    dlg_rows: list[dict] = []
    if chats:
        turn_records = dialogues.run_dialogues(svc, chats, progress=not args.quiet)
        for split in splits:
            part = [d for d in chats if d.split == split]
            recs = [r for r in turn_records if r.dialogue.split == split]
            dlg_rows.append({"split": split, **dialogues.summarise(recs),
                             "rewrite_ceiling": dialogues.rewrite_ceiling(svc, part, progress=False)})
        dlg_metrics = ["dialogues", "followup_turns", "followup_right", "rewrite_ceiling", "fresh_turns",
                       "fresh_not_inherited", "oos_followup_turns", "oos_followup_refused", "first_turn_right"]
        dlg_fails = dialogues.failures([r for r in turn_records if r.dialogue.split == "test"])
        chat_file = (args.dialogues or dialogues.DIALOGUES_FILE).name
        md += [f"\n## Conversations (`{chat_file}`, {len(chats)} dialogues)\n\n",
               "Each dialogue through `QAService.ask_turn` (the follow-up rules, without storage). Rules and "
               "thresholds were chosen on train and dev; **test is only scored**. `rewrite_ceiling`: the follow-up "
               "turns right when their labelled meaning is asked alone (a perfect rewrite with the same answer "
               "layer).\n\n", report.table(dlg_rows, ["split", *dlg_metrics]),
               f"\n### Conversation test failures ({len(dlg_fails)})\n"]
        for f in dlg_fails:
            md.append(f"- **{f['id']}** turn {f['turn']} [{f['pattern']} → {f['status']}] {f['question'][:80]} → "
                      f"understood as “{f['understood_as'][:100]}” (inherited: {', '.join(f['inherited']) or '–'})\n")
        data["dialogues"] = {"splits": {r["split"]: r for r in dlg_rows}, "test_failures": dlg_fails}

    # -- a FAQ list mixed into the corpus ---------------------------------------------------------
    mix = None
    if not args.no_faq_mix and test:
        mix = faq_mix.compare(svc, [r.question for r in test], args.faq or faq_mix.DEFAULT_FAQ, plain=test,
                              progress=not args.quiet)
        md += [f"\n## A FAQ list mixed into the corpus (`{Path(mix.faq_file).name}`, {mix.pairs} pairs; "
               "test split)\n\n",
               "The test split asked of the corpus alone and of the corpus plus the FAQ list. Questions answered "
               "verbatim from a pair and from the articles are reported apart; `same_questions_articles_only` is "
               "the fair comparison for `with_faq_from_articles`.\n\n",
               report.table(mix.rows, ["run", "n", *metrics, "faq_source_right", "faq_key_facts"])]
        for f in mix.faq_answered:
            md.append(f"- {f['id']} [{f['kind']}] {f['question'][:80]} → pair {f['pair']} "
                      f"(from {f['source'] or '–'})\n")
        data["faq_mix"] = {"faq_file": mix.faq_file, "pairs": mix.pairs, "rows": mix.rows,
                           "faq_answered": mix.faq_answered}

    # -- the older own set ---------------------------------------------------------------------
    runs = {"hybrid (ours)": own.run_own(svc, questions, progress=not args.quiet)}
    if args.ablation:
        for name, update in (("dense only", {"bm25_weight": 0.0}), ("BM25 only", {"dense_weight": 0.0})):
            variant = QAService(svc.data, svc.embedder, settings.model_copy(update=update), svc.decision, svc.ranker)
            runs[name] = own.run_own(variant, questions, progress=False)
    main_run = runs["hybrid (ours)"]
    own_metrics = list(main_run.report.scores())
    own_rows = [{"system": name, **r.report.scores()} for name, r in runs.items()]
    cats = [{"category": c, "n": main_run.report.category_counts[c], **s}
            for c, s in main_run.report.category_scores().items()]
    md += [f"\n## Older own set (`{args.questions.name}`, {len(questions)} questions; not held out)\n\n",
           "Written close to the articles' wording; earlier thresholds were chosen on it and it is part of the "
           "training data of the sentence ranker and the answerability model, so these are not held-out "
           "figures. `refusal_rate`/`false_refusal_rate` count questions not answered (partial, no_answer, "
           "out_of_scope).\n\n",
           report.table(own_rows, ["system", *own_metrics]), "\n### Per category (hybrid)\n\n",
           report.table(cats, ["category", "n", *own_metrics]), f"\n### Own-set failures ({len(main_run.failures)})\n"]
    for f in main_run.failures:
        md.append(f"- **{f['id']}** {f['question']} — {'; '.join(f['reasons'])}\n")
    chart_metrics = ["doc_hit_at_1", "keyword_coverage", "numeric_accuracy", "refusal_rate", "false_refusal_rate",
                     "multi_source_rate"]
    report.bar_chart(folder / "chart.png", {n: {m: r.report.scores()[m] for m in chart_metrics}
                                            for n, r in runs.items()}, "yibao-qa on eval/questions.jsonl")
    md.append("\n![chart](chart.png)\n")
    data["own"] = {"questions": str(args.questions), "runs": {n: r.report.to_dict() for n, r in runs.items()},
                   "failures": main_run.failures}
    report.write(folder, "".join(md), data)
    print("held-out users set:")
    print(report.table(rows, ["split", "n", *metrics]))
    if systems:
        print(report.table(systems, ["system", *metrics]))
    if dlg_rows:
        print("conversations:")
        print(report.table(dlg_rows, ["split", *dlg_metrics]))
    if mix is not None:
        print("FAQ list mixed into the corpus (test split):")
        print(report.table(mix.rows, ["run", "n", *metrics, "faq_source_right", "faq_key_facts"]))
    print("older own set:")
    print(report.table(own_rows, ["system", *own_metrics]))
    print(f"report: {folder}/report.md")
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "external":
        from .external import main as external_main

        return external_main(argv[1:])
    if argv and argv[0] == "bench":
        from .bench import main as bench_main

        return bench_main(argv[1:])
    if argv and argv[0] in ("fit", "fit-decision"):
        from .fit import main as fit_main

        return fit_main(argv[1:])
    if argv and argv[0] == "insights":
        from .insights import main as insights_main

        return insights_main(argv[1:])
    if argv and argv[0] == "fusion-cv":
        from .fusion_cv import main as fusion_cv_main

        return fusion_cv_main(argv[1:])
    return own_main(argv)


if __name__ == "__main__":
    sys.exit(main())
