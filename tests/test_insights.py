"""The knowledge-gap report (qa/insights.py) and `python -m eval insights`, on a real SQLite store and the
real embedding model."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from eval import insights as insights_cli
from eval import report
from qa.conversations import ConversationStore
from qa.insights import CLUSTER_DISTANCE, cluster, gap_report

# Three ways of asking about one topic the corpus does not cover, two about another, one alone.
FILING = ["异地就医备案怎么办", "去外地看病要先备案吗", "在外省住院医保怎么备案"]
LOST_CARD = ["医保卡丢了怎么补办", "社保卡掉了去哪补一张"]
ALONE = "门诊慢特病怎么申请"


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def _turn(store: ConversationStore, cid: str, question: str, status: str) -> str:
    return store.add_turn(cid, question=question, understood_as=question, status=status, cited_docs=[],
                          timings={"total": 1.0}, state={})


@pytest.fixture()
def filled(tmp_path: Path):
    clock = Clock()
    store = ConversationStore(tmp_path / "conversations.sqlite", clock=clock)
    cid = store.new_conversation()
    for q in FILING:
        _turn(store, cid, q, "no_answer")
        clock.now += timedelta(days=1)
    for q in LOST_CARD:
        _turn(store, cid, q, "partial")
    _turn(store, cid, ALONE, "no_answer")
    answered = _turn(store, cid, "2025年居民医保个人缴费标准是多少", "answered")
    store.add_feedback(answered, "down", "没说清楚 电话13912345678")
    _turn(store, cid, "医保断缴后多久能恢复", "answered")  # answered and not rated: not a gap
    _turn(store, cid, "=HYPERLINK(\"http://x\")医保", "no_answer")
    yield store
    store.close()


def test_gaps_cluster_by_topic_most_frequent_first(filled: ConversationStore, embedder) -> None:
    report = gap_report(filled, embedder.encode)
    assert len(report.items) == 8  # 3 + 2 + 1 unanswered, 1 rated down, 1 formula-like; not the answered one
    top = report.clusters[0]
    assert top.count == 3 and set(top.examples) == set(FILING) and top.statuses == {"no_answer": 3}
    assert top.first_seen < top.last_seen  # asked on different days
    second = report.clusters[1]
    assert second.count == 2 and set(second.examples) == set(LOST_CARD)
    assert [c.count for c in report.clusters] == sorted((c.count for c in report.clusters), reverse=True)
    down = [c for c in report.clusters if c.rated_down]
    assert len(down) == 1 and down[0].examples == ("2025年居民医保个人缴费标准是多少",)
    assert sum(n for _, n in report.volume_by_day) == 9  # every question asked, answered or not
    assert report.to_dict()["gaps"] == 8
    assert len(report.clusters) == 5  # filing, lost card, and three questions alone


def test_csv_is_one_row_per_gap_and_never_a_formula(filled: ConversationStore, embedder) -> None:
    rows = list(csv.reader(io.StringIO(gap_report(filled, embedder.encode).to_csv())))
    assert rows[0][:3] == ["cluster", "cluster_label", "created"] and len(rows) == 9
    cells = [c for r in rows[1:] for c in r]
    assert not any(c[:1] in ("=", "+", "-", "@") for c in cells)
    assert any(c.startswith("'=HYPERLINK") for c in cells)
    assert not any("13912345678" in c for c in cells)  # the comment was stored masked


def test_since_limits_the_report(filled: ConversationStore, embedder) -> None:
    later = gap_report(filled, embedder.encode, since=datetime(2026, 3, 3, tzinfo=UTC))
    assert FILING[0] not in [e for c in later.clusters for e in c.examples]
    assert FILING[2] in [e for c in later.clusters for e in c.examples]


def test_cluster_distance_separates_topics(embedder) -> None:
    vecs = embedder.encode(FILING + LOST_CARD)
    labels = cluster(np.asarray(vecs), CLUSTER_DISTANCE)
    assert len(set(labels[:3])) == 1 and len(set(labels[3:])) == 1 and labels[0] != labels[3]
    assert list(cluster(np.zeros((0, 4)))) == [] and list(cluster(np.ones((1, 4)))) == [0]


def test_cli_writes_report_and_csv(filled: ConversationStore, tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.setattr(report, "REPORTS_DIR", tmp_path / "reports")
    rc = insights_cli.main(["--db", str(filled.path), "--days", "0"])
    out = capsys.readouterr().out
    assert rc == 0 and "8 gaps in 5 clusters" in out
    folder = Path(out.strip().splitlines()[-1].split("report: ")[1].split("/report.md")[0])
    data = json.loads((folder / "report.json").read_text(encoding="utf-8"))
    assert data["clusters"][0]["count"] == 3
    assert (folder / "gaps.csv").read_text(encoding="utf-8-sig").startswith("cluster,cluster_label")


def test_cli_errors_are_one_line(tmp_path: Path, capsys) -> None:
    assert insights_cli.main(["--db", str(tmp_path / "missing.sqlite")]) == 1
    assert "no conversation store" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        insights_cli.main(["--days", "-1"])
