"""The fitting command's pure parts: thresholds chosen on dev, labels, key facts."""

import numpy as np
import pytest

from eval.fit import C_GRID, MAX_REFUSED, balanced_accuracy, choose_refusal, fit, holds_key_fact, label_of
from eval.users import UserQuestion
from qa.decide import FEATURES


def _q(kind, keywords=()):
    return UserQuestion("u-1", "q", "casual", kind, "train", ("d",) if keywords else (), keywords, None, None, 1, (),
                        "written", "")


def test_labels():
    assert label_of(_q("numeric")) == "answered" and label_of(_q("conflict")) == "answered"
    assert label_of(_q("partial")) == "partial"
    assert label_of(_q("no_answer")) == label_of(_q("out_of_scope")) == "unanswerable"


def test_refusal_threshold_refuses_at_most_the_allowed_share_of_answerable_questions():
    rng = np.random.default_rng(0)
    p_unans = np.concatenate([rng.uniform(0, 0.6, 100), rng.uniform(0.4, 1.0, 50)])
    labels = ["answered"] * 100 + ["unanswerable"] * 50
    t = choose_refusal(p_unans, labels)
    assert (p_unans[:100] >= t).mean() <= MAX_REFUSED
    # the lowest such threshold: one step lower would refuse too many answerable questions
    lower = sorted(v for v in p_unans if v < t)
    if lower:
        assert (p_unans[:100] >= lower[-1]).mean() > MAX_REFUSED


def test_regularisation_is_chosen_on_train_folds_and_the_threshold_on_dev():
    # Noisy synthetic features: the dev rows are few and all on one side, so dev alone would favour the weakest
    # regularisation; the choice must follow train's cross-validated log loss, whatever dev says.
    rng = np.random.default_rng(1)
    labels = ["answered"] * 60 + ["partial"] * 20 + ["unanswerable"] * 40
    x = rng.normal(size=(len(labels), len(FEATURES)))
    x[:, 0] += np.array([1.5 if lab == "answered" else 0.0 for lab in labels])
    dev_x, dev_y = x[:12] + 2.0, ["answered"] * 6 + ["unanswerable"] * 6
    model, info = fit(x, labels, dev_x, dev_y)
    losses = info["train_cv_log_loss"]
    assert set(losses) == set(C_GRID) and info["C"] == min(C_GRID, key=lambda c: (losses[c], c))
    p_dev = np.array([model.probabilities(dict(zip(FEATURES, row)))["answered"] for row in dev_x])
    assert balanced_accuracy(p_dev, dev_y, model.threshold) == pytest.approx(info["dev_balanced_accuracy"], abs=1e-4)


def test_balanced_accuracy():
    p = np.array([0.9, 0.8, 0.2, 0.1])
    assert balanced_accuracy(p, ["answered", "answered", "unanswerable", "partial"], 0.5) == 1.0
    assert balanced_accuracy(p, ["answered", "answered", "unanswerable", "partial"], 0.95) == 0.5


@pytest.mark.parametrize(("text", "expected"), [("补缴后次月恢复医保待遇", True), ("需等待３个月", True),
                                                 ("与此无关", False)])
def test_key_fact_match_is_normalised(text, expected):
    assert holds_key_fact(text, _q("answerable", (("次月",), ("3个月",)))) is expected
