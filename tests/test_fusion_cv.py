"""`python -m eval fusion-cv`: fold assignment, the choice rule, that no fold sees its own questions,
and one end-to-end run on the hand-made miniature of both data sets."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_external import mini_data  # noqa: F401  (fixture)

from eval import fusion_cv, report
from eval.external import shortfall
from eval.fusion_cv import Table, choose, cross_validate, evaluate, folds

FAQ, TRAIN, DEV = "faq/test", "ncp/train", "ncp/dev"


def per_q(values: dict[str, float], metric: str = "hit") -> dict[str, dict[str, float]]:
    return {q: {metric: v} for q, v in values.items()}


def table(train: dict[str, float], dev: dict[str, float], faq: dict[str, float]) -> Table:
    return {TRAIN: per_q(train), DEV: per_q(dev), FAQ: per_q(faq)}


ALL = {TRAIN: ["t1", "t2"], DEV: ["d1", "d2"], FAQ: ["f1", "f2", "f3", "f4"]}
# BM25 is good on ncp, dense on FAQ: the shape of the real data sets.
REFS = {"BM25 only": table({"t1": 1, "t2": 1}, {"d1": 1, "d2": 0}, {"f1": 0, "f2": 0, "f3": 1, "f4": 0}),
        "dense only": table({"t1": 0, "t2": 1}, {"d1": 0, "d2": 1}, {"f1": 1, "f2": 1, "f3": 0, "f4": 1})}


def test_folds_partition_the_questions_in_a_fixed_interleaved_order() -> None:
    qids = [f"q{i}" for i in range(7)]
    parts = folds(qids, 3)
    assert parts == [["q0", "q3", "q6"], ["q1", "q4"], ["q2", "q5"]]
    assert sorted(q for p in parts for q in p) == sorted(qids)
    with pytest.raises(ValueError):
        folds(qids, 1)


def test_shortfall_is_the_worst_gap_below_the_better_side_per_metric() -> None:
    refs = {"BM25 only": {"a": 0.8, "b": 0.5}, "dense only": {"a": 0.6, "b": 0.9}}
    assert shortfall({"a": 0.8, "b": 0.9}, refs) == 0
    assert shortfall({"a": 0.9, "b": 0.7}, refs) == pytest.approx(0.2)
    assert shortfall({"a": 1.0, "b": 1.0}, refs) == 0  # above the better side is not negative shortfall


def test_evaluate_compares_against_both_sides_on_the_same_questions() -> None:
    point = table({"t1": 1, "t2": 1}, {"d1": 1, "d2": 1}, {"f1": 1, "f2": 1, "f3": 0, "f4": 1})
    ev = evaluate(point, REFS, {DEV: ["d1"], FAQ: ["f3", "f4"]})
    assert ev.scores == {DEV: {"hit": 1.0}, FAQ: {"hit": 0.5}}
    assert ev.references[FAQ] == {"BM25 only": {"hit": 0.5}, "dense only": {"hit": 0.5}}
    assert ev.shortfall == {DEV: 0.0, FAQ: 0.0}
    assert ev.mean == 0.75


def test_choose_prefers_settings_without_shortfall_then_the_best_mean_then_the_earlier() -> None:
    meets = table({"t1": 1, "t2": 1}, {}, {"f1": 1, "f2": 1, "f3": 1, "f4": 1})
    higher_mean_but_short = table({"t1": 1, "t2": 0}, {}, {"f1": 1, "f2": 1, "f3": 1, "f4": 1})
    q = {TRAIN: ALL[TRAIN], FAQ: ALL[FAQ]}
    assert choose([higher_mean_but_short, meets], REFS, q)[0] == 1
    assert choose([meets, meets], REFS, q)[0] == 0  # a tie keeps the earlier (the configured point)
    worse = table({"t1": 0, "t2": 0}, {}, {"f1": 0, "f2": 0, "f3": 0, "f4": 0})
    idx, ev = choose([worse, higher_mean_but_short], REFS, q)  # nobody meets: smallest shortfall
    assert idx == 1 and max(ev.shortfall.values()) == pytest.approx(0.5)


def test_no_fold_is_chosen_on_its_own_questions() -> None:
    # A is perfect on f1/f3 (fold 0) and poor on f2/f4 (fold 1); B the reverse. Fold 0 must be decided on
    # f2/f4 — where B wins — so it takes B, and is then scored on f1/f3, where B is poor.
    a = table({"t1": 1, "t2": 1}, {"d1": 1, "d2": 1}, {"f1": 1, "f2": 0, "f3": 1, "f4": 0})
    b = table({"t1": 1, "t2": 1}, {"d1": 1, "d2": 1}, {"f1": 0, "f2": 1, "f3": 0, "f4": 1})
    result, pooled = cross_validate([a, b], REFS, faq_key=FAQ, faq_qids=ALL[FAQ], select_key=TRAIN,
                                    select_qids=ALL[TRAIN], test_key=DEV, test_qids=ALL[DEV], n_folds=2)
    assert [f.chosen for f in result] == [1, 0]
    assert result[0].held_out.scores[FAQ] == {"hit": 0.0}
    assert result[1].held_out.scores[FAQ] == {"hit": 0.0}
    assert pooled.scores[FAQ] == {"hit": 0.0}  # an honest zero: each question judged by a setting chosen without it
    assert pooled.shortfall[FAQ] == pytest.approx(0.75)


def test_grid_starts_with_the_configured_point_and_has_no_repeats(test_settings) -> None:
    grid = fusion_cv.adaptive_grid(test_settings)
    assert grid[0] == {k: getattr(test_settings, k) for k in fusion_cv.ADAPTIVE_KEYS}
    assert len({tuple(sorted(p.items())) for p in grid}) == len(grid)


@pytest.mark.slow
def test_run_writes_a_report_with_every_fold(mini_data: Path, tmp_path: Path, monkeypatch,  # noqa: F811
                                              test_settings, embedder) -> None:
    monkeypatch.setattr(report, "REPORTS_DIR", tmp_path / "reports")
    monkeypatch.setattr(fusion_cv, "BM25_LOWS", (0.5, 1.0))
    monkeypatch.setattr(fusion_cv, "BM25_HIGHS", (2.0,))
    monkeypatch.setattr(fusion_cv, "COVERAGE_LOWS", (0.4,))
    monkeypatch.setattr(fusion_cv, "COVERAGE_HIGHS", (0.8,))
    settings = test_settings.model_copy(update={"fusion": "adaptive"})
    code = fusion_cv.main(["--data", str(mini_data), "--work", str(tmp_path / "work"), "-q"],
                          settings=settings, embedder=embedder)
    assert code == 0
    (folder,) = (tmp_path / "reports").iterdir()
    data = json.loads((folder / "report.json").read_text(encoding="utf-8"))
    assert len(data["folds"]) == 2 and len(data["grid"]) == 2
    for fold in data["folds"]:
        assert set(fold["held_out"]["scores"]) == {"ncp_policies/dev", "insurance_faq/test"}
        assert set(fold["selection"]["scores"]) == {"ncp_policies/train", "insurance_faq/test"}
    # The miniature has 2 FAQ test questions: one per fold, each scored once in the pooled figures.
    assert set(data["pooled_faq"]["scores"]["insurance_faq/test"]) == {"top1_acc", "top3_acc", "top10_acc"}
    assert "held-out" in (folder / "report.md").read_text(encoding="utf-8")


def test_refuses_non_adaptive_fusion_and_too_few_folds(mini_data: Path, test_settings, capsys) -> None:  # noqa: F811
    rrf = test_settings.model_copy(update={"fusion": "rrf"})
    assert fusion_cv.main(["--data", str(mini_data)], settings=rrf, embedder=object()) == 1
    assert "adaptive" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        fusion_cv.main(["--folds", "1", "--data", str(mini_data)], settings=test_settings, embedder=object())
