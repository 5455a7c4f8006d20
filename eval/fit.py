"""`python -m eval fit` — fit the sentence ranker and the answerability model on train, choose on dev.

1. The sentence ranker (``qa.rank``): a logistic regression over each candidate sentence's features,
   label = the sentence holds one of the question's key facts (``keywords``), fitted on the train
   split's answerable questions; C is chosen on dev by how often the top sentence holds a key fact.
2. The answerability model (``qa.decide``), fitted on the features the composition with that ranker
   produces. The model is a multinomial logistic regression over the evidence features of each
question that reaches it (questions decided by a rule — out-of-scope topics, calculations with the
asker's numbers — do not). Labels come from ``eval/users.jsonl``: answerable kinds → ``answered``,
``partial`` → ``partial``, ``no_answer``/``out_of_scope`` → ``unanswerable``.

* The regularisation strength C is chosen on dev by log-loss among a small grid.
* The threshold on P(answered) is chosen on dev: the one with the best balanced accuracy (mean of
  the answered rate of answerable questions and the not-answered rate of the others).
* Below it, a question is refused only when P(unanswerable) reaches a second threshold, the lowest
  that refuses at most 5 % of the answerable dev questions (``choose_refusal``); in between, partial.
* The test split is never read here.

Writes ``qa/ranker.json`` and ``qa/decision.json`` with the parameters, the threshold and how they
were chosen; refit after changing retrieval, composition or the features.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from ingest.settings import get_settings
from qa.answer import candidates
from qa.decide import CLASSES, DECISION_FILE, FEATURES, DecisionModel, calibration
from qa.rank import RANKER_FILE, UNIT_FEATURES, UnitRanker

from .metrics import normalize_text
from .own import DEFAULT_QUESTIONS as OWN_QUESTIONS
from .questions import load_questions
from .users import USERS_FILE, UserQuestion, from_own, load_users

FAQ_NAME = "insurance_faq/corpus.tsv"
C_GRID = (0.03, 0.1, 0.3, 1.0, 3.0, 10.0)
# The regularisation is chosen by cross-validated log loss on train (5 folds × CV_SEEDS shufflings), not on
# dev: dev's ~60 questions that reach the model picked C=3–10, which a cross-validation over train+dev
# scores worse (log loss 0.65–0.69, AUC 0.895–0.899) than the C=0.1 that train's own folds pick
# (0.540, AUC 0.919). Dev still sets the thresholds.
CV_FOLDS = 5
CV_SEEDS = (0, 1, 2)


RANKER_C_GRID = (0.01, 0.03, 0.1, 0.3, 1.0, 3.0)
TOP_K = 5


def holds_key_fact(text: str, q: UserQuestion) -> bool:
    t = normalize_text(text)
    return any(normalize_text(alt) in t for group in q.keywords for alt in group)


def sentence_rows(service, questions: list[UserQuestion]) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per question with key facts: (features of each candidate sentence, whether it holds a key fact)."""
    out = []
    for q in questions:
        if q.kind not in ("answerable", "conflict") or not q.keywords:
            continue
        u = service.understand(q.question)
        scored = service.retriever.search(u, TOP_K)
        cands, _ = candidates(u, scored, service.weights, TOP_K, similarity=service.similarity)
        if not cands:
            continue
        x = np.array([[c.features[f] for f in UNIT_FEATURES] for c in cands], dtype=float)
        y = np.array([holds_key_fact(f"{c.unit.context}{c.unit.text}", q) for c in cands], dtype=int)
        out.append((x, y))
    return out


def top_hit_rate(ranker: UnitRanker, rows: list[tuple[np.ndarray, np.ndarray]]) -> float:
    """Share of questions whose best-scored sentence holds a key fact (those with any such sentence)."""
    hits = n = 0
    for x, y in rows:
        if not y.any():
            continue
        scores = [ranker.score(dict(zip(UNIT_FEATURES, row))) for row in x]
        hits += int(y[int(np.argmax(scores))])
        n += 1
    return hits / n if n else 0.0


def fit_ranker(train: list[tuple[np.ndarray, np.ndarray]], dev: list[tuple[np.ndarray, np.ndarray]]
               ) -> tuple[UnitRanker, dict]:
    from sklearn.linear_model import LogisticRegression

    x = np.vstack([r[0] for r in train])
    y = np.concatenate([r[1] for r in train])
    mean = x.mean(axis=0)
    scale = np.where(x.std(axis=0) > 1e-12, x.std(axis=0), 1.0)
    best: tuple[float, float, UnitRanker] | None = None
    rates = {}
    for c in RANKER_C_GRID:
        clf = LogisticRegression(C=c, max_iter=5000).fit((x - mean) / scale, y)
        ranker = UnitRanker(UNIT_FEATURES, mean, scale, clf.coef_[0].copy(), float(clf.intercept_[0]))
        rate = top_hit_rate(ranker, dev)
        rates[c] = round(rate, 4)
        if best is None or rate > best[0]:
            best = (rate, c, ranker)
    assert best is not None
    _, c, ranker = best
    info = {"C": c, "dev_top_sentence_holds_key_fact": rates,
            "fixed_formula_dev": round(top_hit_rate(UnitRanker.neutral(), dev), 4),
            "train_sentences": int(len(y)), "train_positive": int(y.sum())}
    return UnitRanker(ranker.features, ranker.mean, ranker.scale, ranker.coef, ranker.intercept, info), info


# Insurance words: content words far more frequent in the public insurance Q&A corpus than in general
# Chinese (jieba's dictionary), seen in at least DOMAIN_MIN_COUNT pairs. The score is the log ratio of
# the two relative frequencies; 6 keeps 异地就医 (8.6), 起付线 (8.1), 补办 (10.3), 门诊 (8.4) and drops
# everyday words (手机 4.1, 听说 3.6, 取消 4.6). Rows copied into eval/users.jsonl are left out.
DOMAIN_MIN_SCORE = 6.0
DOMAIN_MIN_COUNT = 4


def domain_terms(questions: list[UserQuestion]) -> frozenset[str]:
    import math
    from collections import Counter

    from ingest.tokenize import _get_tokenizer, content_words

    from .external import FAQ, read_tsv

    path = get_settings().eval_data_dir / FAQ / "corpus.tsv"
    used = {q.question for q in questions if q.source.startswith("insurance_faq")}
    rows = [(qq, a) for qq, a in read_tsv(path) if qq not in used]
    counts: Counter[str] = Counter()
    for qq, a in rows:
        counts.update({w for w in content_words(f"{qq} {a[:300]}") if len(w) >= 2})
    freq = _get_tokenizer().FREQ
    total = sum(freq.values())
    return frozenset(w for w, n in counts.items() if n >= DOMAIN_MIN_COUNT and
                     math.log((n + 1) / len(rows)) - math.log((freq.get(w, 0) + 1) / total) >= DOMAIN_MIN_SCORE)


def label_of(q: UserQuestion) -> str:
    if q.answerable:
        return "answered"
    return "partial" if q.kind == "partial" else "unanswerable"


def collect(service, questions: list[UserQuestion]) -> tuple[np.ndarray, list[str], list[UserQuestion]]:
    """Features of the questions that reach the model, their labels and the questions themselves."""
    rows, labels, kept = [], [], []
    for q in questions:
        g = service.gather(service.understand(q.question))
        if g.path != "model" or g.evidence is None:
            continue
        rows.append([g.evidence.features[f] for f in FEATURES])
        labels.append(label_of(q))
        kept.append(q)
    return np.asarray(rows, dtype=float), labels, kept


# Refusing a question the articles answer is the failure real users met most (41 % of answerable
# questions refused before this model), so a question below the answer threshold is refused only when
# P(unanswerable) is high: the refusal threshold is the lowest that refuses at most MAX_REFUSED of the
# answerable dev questions. Between the two, the answer is partial (related passages, labelled).
MAX_REFUSED = 0.05


def choose_refusal(p_unanswerable: np.ndarray, labels: list[str]) -> float:
    pos = np.array([lab == "answered" for lab in labels])
    candidates = sorted({1.0, *np.round(p_unanswerable, 4).tolist()})
    allowed = [t for t in candidates if (p_unanswerable[pos] >= t).mean() <= MAX_REFUSED]
    return min(allowed)


def balanced_accuracy(p_answered: np.ndarray, labels: list[str], t: float) -> float:
    pos = np.array([lab == "answered" for lab in labels])
    said = p_answered >= t
    tpr = float(said[pos].mean()) if pos.any() else 1.0
    tnr = float((~said[~pos]).mean()) if (~pos).any() else 1.0
    return (tpr + tnr) / 2


def fit(train_x: np.ndarray, train_y: list[str], dev_x: np.ndarray, dev_y: list[str]) -> tuple[DecisionModel, dict]:
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import log_loss
    from sklearn.model_selection import StratifiedKFold, cross_val_predict
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    scaler = StandardScaler().fit(train_x)
    scale = np.where(scaler.scale_ > 1e-12, scaler.scale_, 1.0)
    xs, xd = (train_x - scaler.mean_) / scale, (dev_x - scaler.mean_) / scale
    cv_losses = {}
    for c in C_GRID:
        folds = [cross_val_predict(make_pipeline(StandardScaler(), LogisticRegression(
                    C=c, max_iter=5000, class_weight="balanced")), train_x, train_y, method="predict_proba",
                    cv=StratifiedKFold(CV_FOLDS, shuffle=True, random_state=seed)) for seed in CV_SEEDS]
        cv_losses[c] = round(float(np.mean([log_loss(train_y, p, labels=sorted(set(train_y))) for p in folds])), 4)
    c = min(C_GRID, key=lambda k: (cv_losses[k], k))
    clf = LogisticRegression(C=c, max_iter=5000, class_weight="balanced").fit(xs, train_y)
    dev_losses = round(float(log_loss(dev_y, clf.predict_proba(xd), labels=list(clf.classes_))), 4)
    order = [list(clf.classes_).index(k) for k in CLASSES]
    coef, intercept = clf.coef_[order], clf.intercept_[order]
    p_dev = clf.predict_proba(xd)[:, list(clf.classes_).index("answered")]
    candidates = sorted({0.5, *np.round(p_dev, 4).tolist()})
    threshold = max(candidates, key=lambda t: (balanced_accuracy(p_dev, dev_y, t), -abs(t - 0.5)))
    refuse = choose_refusal(clf.predict_proba(xd)[:, list(clf.classes_).index("unanswerable")], dev_y)
    model = DecisionModel(FEATURES, CLASSES, scaler.mean_.copy(), scale.copy(), coef, intercept, float(threshold),
                          refuse_threshold=float(refuse))
    y_dev = [int(lab == "answered") for lab in dev_y]
    info = {"C": c, "train_cv_log_loss": cv_losses, "dev_log_loss": dev_losses,
            "dev_balanced_accuracy": round(balanced_accuracy(p_dev, dev_y, threshold), 4),
            "dev_calibration": calibration(p_dev.tolist(), y_dev)}
    return model, info


def git_commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                              cwd=Path(__file__).parent, timeout=10).stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def main(argv: list[str] | None = None) -> int:
    from qa.service import IndexNotReady, QAService

    parser = argparse.ArgumentParser(prog="python -m eval fit", description=__doc__.split("\n")[0])
    parser.add_argument("--questions", type=Path, default=USERS_FILE)
    parser.add_argument("--index", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=DECISION_FILE, help="the answerability model's file")
    parser.add_argument("--ranker-out", type=Path, default=RANKER_FILE, help="the sentence ranker's file")
    args = parser.parse_args(argv)
    settings = get_settings()
    try:
        service = QAService.load(settings, args.index, decision=DecisionModel.neutral(),
                                 ranker=UnitRanker.neutral())
    except IndexNotReady as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    own = [from_own(q) for q in load_questions(OWN_QUESTIONS)]
    train_q = load_users(args.questions, ["train"]) + own
    dev_q = load_users(args.questions, ["dev"])
    t0 = time.perf_counter()
    ranker, rinfo = fit_ranker(sentence_rows(service, train_q), sentence_rows(service, dev_q))
    rinfo.update({"fitted_on": f"{args.questions.name} train + eval/questions.jsonl",
                  "chosen_on": f"{args.questions.name} dev",
                  "command": "python -m eval fit", "commit": git_commit(), "date": time.strftime("%Y-%m-%d")})
    ranker = UnitRanker(ranker.features, ranker.mean, ranker.scale, ranker.coef, ranker.intercept, rinfo)
    args.ranker_out.write_text(json.dumps(ranker.to_json(), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"sentence ranker: C={rinfo['C']}, dev top sentence holds a key fact "
          f"{rinfo['dev_top_sentence_holds_key_fact'][rinfo['C']]} (fixed formula {rinfo['fixed_formula_dev']})")
    for name, w in zip(ranker.features, ranker.coef):
        print(f"  {name:22s} {w:+.3f}")
    service.ranker = ranker
    terms = domain_terms(load_users(args.questions))
    service.decision = DecisionModel(*[getattr(service.decision, f) for f in (
        "features", "classes", "mean", "scale", "coef", "intercept", "threshold", "info")], domain_terms=terms)
    print(f"insurance words: {len(terms)} from {FAQ_NAME}")
    train_x, train_y, _ = collect(service, train_q)
    dev_x, dev_y, _ = collect(service, dev_q)
    model, info = fit(train_x, train_y, dev_x, dev_y)
    info.update({
        "fitted_on": f"{args.questions.name} train + eval/questions.jsonl ({len(train_y)} of {len(train_q)} "
                     "questions reach the model)",
        "threshold_on": f"{args.questions.name} dev ({len(dev_y)} of {len(dev_q)})",
        "command": "python -m eval fit",
        "commit": git_commit(),
        "date": time.strftime("%Y-%m-%d"),
        "train_labels": {k: train_y.count(k) for k in CLASSES},
        "dev_labels": {k: dev_y.count(k) for k in CLASSES},
        "seconds": round(time.perf_counter() - t0, 1),
    })
    model = DecisionModel(model.features, model.classes, model.mean, model.scale, model.coef, model.intercept,
                          model.threshold, info, terms, model.refuse_threshold)
    model.check()
    args.out.write_text(json.dumps(model.to_json(), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"threshold {model.threshold:.4f} (P(answered)), refuse at P(unanswerable) ≥ {model.refuse_threshold:.4f} "
          f"(both chosen on dev), C={info['C']}, "
          f"dev balanced accuracy {info['dev_balanced_accuracy']}")
    for name, w in zip(FEATURES, model.coef[0]):
        print(f"  {name:22s} {w:+.3f}")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
